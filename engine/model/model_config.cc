#include "engine/model/model_config.h"

#include <cmath>
#include <string>

#include "engine/gguf/gguf_file.h"

namespace infernet {
namespace {

// A positive integer key; NOT_FOUND (naming the key) when absent and `fallback` is negative.
Result<int64_t> ReadCount(const gguf::GgufFile& file, const std::string& key, int64_t fallback) {
  if (file.Find(key) == nullptr) {
    if (fallback >= 0) return fallback;
    return Status::NotFound("missing required metadata key " + key);
  }
  INFERNET_ASSIGN_OR_RETURN(uint64_t v, file.GetUint(key));
  if (v == 0 || v > (uint64_t{1} << 40)) {
    return Status::InvalidArgument("metadata key " + key + " = " + std::to_string(v) +
                                   " is out of range");
  }
  return static_cast<int64_t>(v);
}

Result<double> ReadPositiveFloat(const gguf::GgufFile& file, const std::string& key,
                                 double fallback) {
  if (file.Find(key) == nullptr) {
    if (fallback > 0) return fallback;
    return Status::NotFound("missing required metadata key " + key);
  }
  INFERNET_ASSIGN_OR_RETURN(double v, file.GetFloat(key));
  if (!std::isfinite(v) || v <= 0) {
    return Status::InvalidArgument("metadata key " + key + " = " + std::to_string(v) +
                                   " must be a positive finite number");
  }
  return v;
}

Result<int64_t> ReadVocabSize(const gguf::GgufFile& file, const std::string& arch) {
  if (const gguf::Value* tokens = file.Find("tokenizer.ggml.tokens")) {
    if (tokens->type() != gguf::ValueType::kArray) {
      return Status::InvalidArgument("metadata key tokenizer.ggml.tokens is not an array");
    }
    if (tokens->array_size() == 0) {
      return Status::InvalidArgument("metadata key tokenizer.ggml.tokens is empty");
    }
    return static_cast<int64_t>(tokens->array_size());
  }
  return ReadCount(file, arch + ".vocab_size", -1);
}

}  // namespace

Result<ModelConfig> ReadModelConfig(const gguf::GgufFile& file) {
  ModelConfig c;
  INFERNET_ASSIGN_OR_RETURN(std::string_view arch, file.GetString("general.architecture"));
  c.arch_name = std::string(arch);
  if (arch == "llama") {
    c.arch = Architecture::kLlama;
    c.rope_ordering = RopeOrdering::kNormal;
  } else if (arch == "qwen2") {
    c.arch = Architecture::kQwen2;
    c.rope_ordering = RopeOrdering::kNeox;
  } else {
    return Status::Unsupported("general.architecture '" + c.arch_name +
                               "' is not supported (llama, qwen2)");
  }
  const std::string p = c.arch_name + ".";

  INFERNET_ASSIGN_OR_RETURN(c.n_ctx_train, ReadCount(file, p + "context_length", -1));
  INFERNET_ASSIGN_OR_RETURN(c.n_embd, ReadCount(file, p + "embedding_length", -1));
  INFERNET_ASSIGN_OR_RETURN(c.n_layer, ReadCount(file, p + "block_count", -1));
  INFERNET_ASSIGN_OR_RETURN(c.n_ff, ReadCount(file, p + "feed_forward_length", -1));
  INFERNET_ASSIGN_OR_RETURN(c.n_head, ReadCount(file, p + "attention.head_count", -1));
  INFERNET_ASSIGN_OR_RETURN(c.n_head_kv, ReadCount(file, p + "attention.head_count_kv", c.n_head));
  INFERNET_ASSIGN_OR_RETURN(c.n_vocab, ReadVocabSize(file, c.arch_name));

  if (c.n_embd % c.n_head != 0 && file.Find(p + "attention.key_length") == nullptr) {
    return Status::InvalidArgument(p + "embedding_length (" + std::to_string(c.n_embd) +
                                   ") is not a multiple of " + p + "attention.head_count (" +
                                   std::to_string(c.n_head) + ")");
  }
  INFERNET_ASSIGN_OR_RETURN(c.head_dim,
                            ReadCount(file, p + "attention.key_length", c.n_embd / c.n_head));
  if (file.Find(p + "attention.value_length") != nullptr) {
    INFERNET_ASSIGN_OR_RETURN(int64_t value_length,
                              ReadCount(file, p + "attention.value_length", -1));
    if (value_length != c.head_dim) {
      return Status::Unsupported(p + "attention.value_length (" + std::to_string(value_length) +
                                 ") differs from the key length (" + std::to_string(c.head_dim) +
                                 ")");
    }
  }
  if (c.n_head % c.n_head_kv != 0) {
    return Status::InvalidArgument(p + "attention.head_count (" + std::to_string(c.n_head) +
                                   ") is not a multiple of " + p + "attention.head_count_kv (" +
                                   std::to_string(c.n_head_kv) + ")");
  }
  INFERNET_ASSIGN_OR_RETURN(c.n_rot, ReadCount(file, p + "rope.dimension_count", c.head_dim));
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0) {
    return Status::InvalidArgument(p + "rope.dimension_count (" + std::to_string(c.n_rot) +
                                   ") must be even and at most the head size (" +
                                   std::to_string(c.head_dim) + ")");
  }

  INFERNET_ASSIGN_OR_RETURN(double eps,
                            ReadPositiveFloat(file, p + "attention.layer_norm_rms_epsilon", -1));
  c.rms_eps = static_cast<float>(eps);
  INFERNET_ASSIGN_OR_RETURN(double base, ReadPositiveFloat(file, p + "rope.freq_base", 10000.0));
  c.rope_freq_base = static_cast<float>(base);

  std::string scaling = "none";
  if (file.Find(p + "rope.scaling.type") != nullptr) {
    INFERNET_ASSIGN_OR_RETURN(std::string_view type, file.GetString(p + "rope.scaling.type"));
    scaling = std::string(type);
  }
  if (scaling == "linear") {
    INFERNET_ASSIGN_OR_RETURN(double factor,
                              ReadPositiveFloat(file, p + "rope.scaling.factor", -1));
    c.rope_freq_scale = static_cast<float>(1.0 / factor);
  } else if (scaling != "none") {
    return Status::Unsupported(p + "rope.scaling.type '" + scaling +
                               "' is not supported (none, linear)");
  }

  c.tied_embeddings = file.FindTensor("output.weight") == nullptr;
  return c;
}

}  // namespace infernet
