// The tensors of a llama/qwen2 transformer, bound by their llama.cpp GGUF names and prepared by a
// back end.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.h"
#include "engine/backend.h"
#include "engine/model/model_config.h"

namespace infernet {
namespace gguf {
class GgufFile;
}

struct LayerWeights {
  std::unique_ptr<DeviceWeight> attn_norm;   // blk.{i}.attn_norm.weight [n_embd]
  std::unique_ptr<DeviceWeight> wq;          // attn_q.weight [n_embd, n_head * head_dim]
  std::unique_ptr<DeviceWeight> wk;          // attn_k.weight [n_embd, n_head_kv * head_dim]
  std::unique_ptr<DeviceWeight> wv;          // attn_v.weight [n_embd, n_head_kv * head_dim]
  std::unique_ptr<DeviceWeight> wo;          // attn_output.weight [n_head * head_dim, n_embd]
  std::unique_ptr<DeviceWeight> bq, bk, bv;  // attn_{q,k,v}.bias (qwen2); null when absent
  std::unique_ptr<DeviceWeight> ffn_norm;    // ffn_norm.weight [n_embd]
  std::unique_ptr<DeviceWeight> ffn_gate;    // ffn_gate.weight [n_embd, n_ff]
  std::unique_ptr<DeviceWeight> ffn_up;      // ffn_up.weight [n_embd, n_ff]
  std::unique_ptr<DeviceWeight> ffn_down;    // ffn_down.weight [n_ff, n_embd]
};

struct ModelWeights {
  std::unique_ptr<DeviceWeight> token_embd;   // token_embd.weight [n_embd, n_vocab]
  std::unique_ptr<DeviceWeight> output_norm;  // output_norm.weight [n_embd]
  std::unique_ptr<DeviceWeight> output;       // output.weight [n_embd, n_vocab]; null when tied
  std::vector<LayerWeights> layers;
  uint64_t bytes = 0;  // stored bytes of all bound tensors

  // The lm_head: output.weight, or token_embd.weight when tied.
  const DeviceWeight& lm_head() const { return output ? *output : *token_embd; }
};

// Binds and prepares every tensor the config calls for. Errors (NOT_FOUND, INVALID_ARGUMENT,
// UNSUPPORTED) name the tensor and, for shape mismatches, the expected and actual shapes.
// Norm weights and biases must be F32 or F16.
Result<std::unique_ptr<ModelWeights>> BindModelWeights(const gguf::GgufFile& file,
                                                       const ModelConfig& config, Backend& backend);

}  // namespace infernet
