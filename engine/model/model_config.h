// Hyper-parameters of a transformer, read from GGUF metadata ({arch}.* keys).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace infernet {
namespace gguf {
class GgufFile;
}

enum class Architecture { kLlama, kQwen2 };
// kNormal rotates adjacent pairs (x0,x1),(x2,x3)... (llama); kNeox rotates (x_i, x_{i+d/2}) (qwen2).
enum class RopeOrdering { kNormal, kNeox };

struct ModelConfig {
  Architecture arch = Architecture::kLlama;
  std::string arch_name;  // "llama", "qwen2"
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  int64_t head_dim = 0;      // n_embd / n_head unless {arch}.attention.key_length says otherwise
  int64_t n_rot = 0;         // rotated dimensions per head ({arch}.rope.dimension_count)
  int64_t n_ctx_train = 0;   // {arch}.context_length
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / {arch}.rope.scaling.factor for linear scaling
  RopeOrdering rope_ordering = RopeOrdering::kNormal;
  bool tied_embeddings = false;  // no output.weight: logits use token_embd.weight
};

// Validates that sizes are positive and consistent (heads divide the width, GQA groups divide
// heads, ...). Errors name the offending key.
Result<ModelConfig> ReadModelConfig(const gguf::GgufFile& file);

}  // namespace infernet
