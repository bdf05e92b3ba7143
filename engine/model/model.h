// A loaded model: configuration, tokenizer, and weights mapped from a GGUF file and prepared by a
// back end (the CPU back end uses the mapping in place; others may upload).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/hash.h"
#include "core/result.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {

class Backend;
struct ModelWeights;
namespace gguf {
class GgufFile;
}

struct ModelLoadOptions {
  // Compute the BLAKE2b-256 of the file (the model's network address). Reads the whole file once.
  bool compute_content_hash = false;
};

class Model {
 public:
  // Errors name the file and the problem (missing tensor, wrong shape, unsupported type, ...).
  static Result<std::unique_ptr<Model>> Load(const std::filesystem::path& path, Backend& backend,
                                             const ModelLoadOptions& options = {});
  ~Model();

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const gguf::GgufFile& file() const { return *file_; }
  Backend& backend() const { return *backend_; }
  const ModelWeights& weights() const { return *weights_; }
  // Zero digest unless computed at load time.
  const Digest32& content_hash() const { return content_hash_; }
  // Bytes of weight data (the mapped tensors).
  uint64_t weight_bytes() const;

 private:
  Model();
  ModelConfig config_;
  std::unique_ptr<gguf::GgufFile> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ModelWeights> weights_;
  Backend* backend_ = nullptr;
  Digest32 content_hash_{};
};

}  // namespace infernet
