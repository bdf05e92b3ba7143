#include "engine/model/model.h"

#include <string>
#include <string_view>

#include "engine/backend.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/model_weights.h"

namespace infernet {

Model::Model() = default;
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::Load(const std::filesystem::path& path, Backend& backend,
                                           const ModelLoadOptions& options) {
  std::unique_ptr<Model> model(new Model());
  model->backend_ = &backend;
  INFERNET_ASSIGN_OR_RETURN(model->file_, gguf::GgufFile::Open(path));
  auto bind = [&]() -> Status {
    Model& m = *model;
    INFERNET_ASSIGN_OR_RETURN(m.config_, ReadModelConfig(*m.file_));
    INFERNET_ASSIGN_OR_RETURN(m.tokenizer_, Tokenizer::FromGguf(*m.file_));
    // The tokenizer keeps its own scores and token types (the token texts it shares with the
    // file): the file's decoded copies are 256 KiB for a 32,000-token vocabulary, 0.4 % of the
    // 100m Q4_K test model's weights and KV cache, whose RSS allowance is 10 % (bench/).
    for (std::string_view key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
      m.file_->ReleaseArrayElements(key);
    }
    if (static_cast<int64_t>(m.tokenizer_->vocab_size()) != m.config_.n_vocab) {
      return Status::InvalidArgument("tokenizer has " + std::to_string(m.tokenizer_->vocab_size()) +
                                     " tokens but the model's vocabulary has " +
                                     std::to_string(m.config_.n_vocab));
    }
    INFERNET_ASSIGN_OR_RETURN(m.weights_, BindModelWeights(*m.file_, m.config_, backend));
    return Status::Ok();
  };
  // Open() names the file in its errors; the rest gain the path here.
  Status status = bind();
  if (!status.ok()) return status.WithContext(path.string());
  if (options.compute_content_hash) {
    INFERNET_ASSIGN_OR_RETURN(model->content_hash_, Blake2b256File(path));
  }
  return model;
}

uint64_t Model::weight_bytes() const { return weights_->bytes; }

}  // namespace infernet
