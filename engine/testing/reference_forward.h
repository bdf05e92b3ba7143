// A deliberately plain float64 forward pass for llama/qwen2 models, used by tests as the ground
// truth for the engine's optimised back ends.
//
// It shares nothing with engine/cpu: weights are read straight from the GGUF file and dequantized
// with quant::DequantizeRow (so a quantized model is evaluated on exactly the weights the engine
// uses, but with full-precision activations), and every step is the textbook formula written out
// in loops: RMSNorm, RoPE (normal or NeoX pairing, frequency base and linear scale), grouped-query
// causal attention, SwiGLU feed-forward, tied or separate output matrix, qwen2's q/k/v biases.
// Slow (O(n^2) attention, no batching): meant for models of a few million parameters.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/result.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {
namespace gguf {
class GgufFile;
}

struct ReferenceOutput {
  // One row per input token: n_vocab logits, and the n_embd final normed hidden state.
  std::vector<std::vector<double>> logits;
  std::vector<std::vector<double>> hidden;
};

struct ReferenceOptions {
  // Rounds each matrix product's input through the activation format the engine's kernels use
  // for that weight type (quant::ActivationType: Q8_0 or Q8_K for quantized weights), so that the
  // only remaining difference to the engine is float32 arithmetic. Off: exact activations.
  bool emulate_activation_quantization = false;
  // Rounds each key (after RoPE) and value to the nearest F16, as an F16 KV cache stores them.
  bool emulate_fp16_kv_cache = false;
};

class ReferenceModel {
 public:
  // Dequantizes every weight to double (8 bytes per parameter). Errors name a missing tensor or a
  // tensor whose shape does not match the configuration.
  static Result<std::unique_ptr<ReferenceModel>> Load(const gguf::GgufFile& file);
  ~ReferenceModel();

  const ModelConfig& config() const { return config_; }
  // Runs `tokens` as one sequence from position 0. REQUIRES: ids in [0, n_vocab).
  ReferenceOutput Forward(std::span<const TokenId> tokens,
                          const ReferenceOptions& options = {}) const;

 private:
  struct Weights;
  ReferenceModel(ModelConfig config, std::unique_ptr<Weights> weights);
  ModelConfig config_;
  std::unique_ptr<Weights> weights_;
};

}  // namespace infernet
