#include "engine/model/model_weights.h"

#include <string>

#include "engine/gguf/gguf_file.h"

namespace infernet {
namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

class WeightBinder {
 public:
  WeightBinder(const gguf::GgufFile& file, Backend& backend, ModelWeights& weights)
      : file_(file), backend_(backend), weights_(weights) {}

  // Binds `name`, which must have exactly `shape` (GGUF order). `vector_type`: the tensor is a
  // norm weight or bias and must be stored as F32/F16. Null (no error) when optional and absent.
  Result<std::unique_ptr<DeviceWeight>> Bind(const std::string& name,
                                             const std::vector<int64_t>& shape, bool optional,
                                             bool vector_type) {
    const gguf::TensorInfo* info = file_.FindTensor(name);
    if (info == nullptr) {
      if (optional) return std::unique_ptr<DeviceWeight>();
      return Status::NotFound("missing tensor " + name);
    }
    if (info->shape != shape) {
      return Status::InvalidArgument("tensor " + name + " has shape " + ShapeString(info->shape) +
                                     ", expected " + ShapeString(shape));
    }
    if (vector_type && info->type != TensorType::kF32 && info->type != TensorType::kF16) {
      return Status::Unsupported("tensor " + name + " has type " +
                                 std::string(TypeName(info->type)) + ", expected F32 or F16");
    }
    weights_.bytes += info->size_bytes;
    auto prepared = backend_.PrepareWeight(*info, file_.TensorData(*info));
    if (!prepared.ok()) return prepared.status().WithContext("tensor " + name);
    return std::move(prepared).value();
  }

 private:
  const gguf::GgufFile& file_;
  Backend& backend_;
  ModelWeights& weights_;
};

}  // namespace

Result<std::unique_ptr<ModelWeights>> BindModelWeights(const gguf::GgufFile& file,
                                                       const ModelConfig& c, Backend& backend) {
  auto weights = std::make_unique<ModelWeights>();
  WeightBinder b(file, backend, *weights);
  const int64_t q_dim = c.n_head * c.head_dim;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;

  INFERNET_ASSIGN_OR_RETURN(weights->token_embd,
                            b.Bind("token_embd.weight", {c.n_embd, c.n_vocab}, false, false));
  INFERNET_ASSIGN_OR_RETURN(weights->output_norm,
                            b.Bind("output_norm.weight", {c.n_embd}, false, true));
  INFERNET_ASSIGN_OR_RETURN(weights->output,
                            b.Bind("output.weight", {c.n_embd, c.n_vocab}, true, false));
  if ((weights->output == nullptr) != c.tied_embeddings) {
    return Status::Internal("config.tied_embeddings disagrees with the presence of output.weight");
  }

  weights->layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = weights->layers[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    INFERNET_ASSIGN_OR_RETURN(l.attn_norm, b.Bind(p + "attn_norm.weight", {c.n_embd}, false, true));
    INFERNET_ASSIGN_OR_RETURN(l.wq, b.Bind(p + "attn_q.weight", {c.n_embd, q_dim}, false, false));
    INFERNET_ASSIGN_OR_RETURN(l.wk, b.Bind(p + "attn_k.weight", {c.n_embd, kv_dim}, false, false));
    INFERNET_ASSIGN_OR_RETURN(l.wv, b.Bind(p + "attn_v.weight", {c.n_embd, kv_dim}, false, false));
    INFERNET_ASSIGN_OR_RETURN(l.wo,
                              b.Bind(p + "attn_output.weight", {q_dim, c.n_embd}, false, false));
    INFERNET_ASSIGN_OR_RETURN(l.bq, b.Bind(p + "attn_q.bias", {q_dim}, true, true));
    INFERNET_ASSIGN_OR_RETURN(l.bk, b.Bind(p + "attn_k.bias", {kv_dim}, true, true));
    INFERNET_ASSIGN_OR_RETURN(l.bv, b.Bind(p + "attn_v.bias", {kv_dim}, true, true));
    INFERNET_ASSIGN_OR_RETURN(l.ffn_norm, b.Bind(p + "ffn_norm.weight", {c.n_embd}, false, true));
    INFERNET_ASSIGN_OR_RETURN(l.ffn_gate,
                              b.Bind(p + "ffn_gate.weight", {c.n_embd, c.n_ff}, false, false));
    INFERNET_ASSIGN_OR_RETURN(l.ffn_up,
                              b.Bind(p + "ffn_up.weight", {c.n_embd, c.n_ff}, false, false));
    INFERNET_ASSIGN_OR_RETURN(l.ffn_down,
                              b.Bind(p + "ffn_down.weight", {c.n_ff, c.n_embd}, false, false));
  }
  return weights;
}

}  // namespace infernet
