#include "engine/model/test_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "engine/gguf/gguf_writer.h"
#include "engine/quant/quant.h"

namespace infernet {
namespace {

// SplitMix64's output function: a bijective 64-bit mixer.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t HashName(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Standard normal samples: Box-Muller on a SplitMix64 stream. Every row gets its own stream keyed
// by (seed, tensor name, row), so rows can be generated in any order or on any thread.
class NormalStream {
 public:
  explicit NormalStream(uint64_t key) : state_(key) {}
  double Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // u1 in (0, 1] so the log is finite; u2 in [0, 1).
    const double u1 = static_cast<double>((NextBits() >> 11) + 1) * 0x1.0p-53;
    const double u2 = static_cast<double>(NextBits() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  uint64_t NextBits() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }
  uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Values of element i of a row: mean + stddev * N(0, 1).
struct Distribution {
  double mean = 0;
  double stddev = 1;
};

class TestModelBuilder {
 public:
  explicit TestModelBuilder(const TestModelSpec& spec) : spec_(spec) {
    n_threads_ = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
  }

  // Adds a tensor of `rows` rows of `row_length` elements, stored as `type`.
  Status AddRandom(const std::string& name, int64_t row_length, int64_t rows, TensorType type,
                   Distribution dist) {
    const size_t row_bytes = RowBytes(type, row_length);
    std::vector<uint8_t> data(row_bytes * static_cast<size_t>(rows));
    const uint64_t tensor_key = Mix64(Mix64(spec_.seed) ^ HashName(name));
    auto fill_rows = [&](int64_t begin, int64_t end) {
      std::vector<float> row(static_cast<size_t>(row_length));
      for (int64_t r = begin; r < end; ++r) {
        NormalStream normal(Mix64(tensor_key + static_cast<uint64_t>(r)));
        for (float& v : row) v = static_cast<float>(dist.mean + dist.stddev * normal.Next());
        quant::QuantizeRow(type, row.data(), data.data() + static_cast<size_t>(r) * row_bytes,
                           row_length);
      }
    };
    // Threads only pay off for large tensors; the result does not depend on the split.
    const int64_t work = rows * row_length;
    const int threads =
        work < (int64_t{1} << 20) ? 1 : static_cast<int>(std::min<int64_t>(n_threads_, rows));
    if (threads == 1) {
      fill_rows(0, rows);
    } else {
      std::vector<std::thread> workers;
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back(fill_rows, rows * t / threads, rows * (t + 1) / threads);
      }
      for (auto& w : workers) w.join();
    }
    std::vector<int64_t> shape = {row_length};
    if (rows > 1) shape.push_back(rows);
    return writer_.AddTensor(name, std::move(shape), type, std::move(data));
  }

  // A weight matrix mapping `in` features to `out`, scaled so outputs keep unit variance.
  Status AddMatrix(const std::string& name, int64_t in, int64_t out) {
    return AddRandom(name, in, out, TestModelMatrixType(spec_.weight_type, in),
                     {0.0, 1.0 / std::sqrt(static_cast<double>(in))});
  }
  Status AddNorm(const std::string& name, int64_t n) {
    return AddRandom(name, n, 1, TensorType::kF32, {1.0, 0.1});
  }
  Status AddBias(const std::string& name, int64_t n) {
    return AddRandom(name, n, 1, TensorType::kF32, {0.0, 0.1});
  }

  gguf::GgufWriter& writer() { return writer_; }

 private:
  const TestModelSpec& spec_;
  int n_threads_ = 1;
  gguf::GgufWriter writer_;
};

std::string ArchName(Architecture arch) { return arch == Architecture::kQwen2 ? "qwen2" : "llama"; }

void WriteMetadata(const TestModelSpec& spec, gguf::GgufWriter& w) {
  using gguf::Value;
  const std::string arch = ArchName(spec.arch);
  const std::string p = arch + ".";
  const auto u32 = [](int64_t v) { return Value::Uint32(static_cast<uint32_t>(v)); };
  w.SetValue("general.architecture", Value::String(arch));
  w.SetValue("general.name",
             Value::String("infernet-test-" + arch + "-" + std::string(TypeName(spec.weight_type)) +
                           "-seed" + std::to_string(spec.seed)));
  w.SetValue(p + "context_length", u32(spec.n_ctx));
  w.SetValue(p + "embedding_length", u32(spec.n_embd));
  w.SetValue(p + "block_count", u32(spec.n_layer));
  w.SetValue(p + "feed_forward_length", u32(spec.n_ff));
  w.SetValue(p + "attention.head_count", u32(spec.n_head));
  w.SetValue(p + "attention.head_count_kv", u32(spec.n_head_kv));
  w.SetValue(p + "attention.layer_norm_rms_epsilon", Value::Float32(spec.rms_eps));
  w.SetValue(p + "rope.freq_base", Value::Float32(spec.rope_freq_base));
  w.SetValue(p + "rope.dimension_count", u32(spec.n_embd / spec.n_head));
  if (spec.rope_scaling_factor != 1.0f) {
    w.SetValue(p + "rope.scaling.type", Value::String("linear"));
    w.SetValue(p + "rope.scaling.factor", Value::Float32(spec.rope_scaling_factor));
  }
  WriteTestVocabulary(w, spec.tokenizer, static_cast<int>(spec.n_vocab),
                      spec.chat == ChatFormat::kLlama3);
}

Status CheckPositive(int64_t value, const char* field, int64_t limit = int64_t{1} << 31) {
  if (value <= 0 || value >= limit) {
    return Status::InvalidArgument(std::string(field) + " = " + std::to_string(value) +
                                   " must be in [1, " + std::to_string(limit - 1) + "]");
  }
  return Status::Ok();
}

}  // namespace

ChatFormat DefaultChatFormat(Architecture arch, TokenizerKind tokenizer) {
  if (arch == Architecture::kQwen2) return ChatFormat::kChatMl;
  return tokenizer == TokenizerKind::kByteLevelBpe ? ChatFormat::kLlama3 : ChatFormat::kLlama2;
}

TensorType TestModelMatrixType(TensorType weight_type, int64_t row_length) {
  for (TensorType t : {weight_type, TensorType::kQ8_0}) {
    if (row_length % Traits(t).block_elems == 0) return t;
  }
  return TensorType::kF16;
}

Status ValidateTestModelSpec(const TestModelSpec& s) {
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_vocab, "n_vocab"));
  if (s.n_vocab < 512) {
    return Status::InvalidArgument("n_vocab = " + std::to_string(s.n_vocab) +
                                   " must be at least 512 (256 byte tokens plus merges)");
  }
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_embd, "n_embd"));
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_layer, "n_layer", 4096));
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_head, "n_head"));
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_head_kv, "n_head_kv"));
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_ff, "n_ff"));
  INFERNET_RETURN_IF_ERROR(CheckPositive(s.n_ctx, "n_ctx"));
  if (s.n_embd % s.n_head != 0) {
    return Status::InvalidArgument("n_embd (" + std::to_string(s.n_embd) +
                                   ") is not a multiple of n_head (" + std::to_string(s.n_head) +
                                   ")");
  }
  if ((s.n_embd / s.n_head) % 2 != 0) {
    return Status::InvalidArgument("head size n_embd / n_head = " +
                                   std::to_string(s.n_embd / s.n_head) + " must be even for RoPE");
  }
  if (s.n_head % s.n_head_kv != 0) {
    return Status::InvalidArgument("n_head (" + std::to_string(s.n_head) +
                                   ") is not a multiple of n_head_kv (" +
                                   std::to_string(s.n_head_kv) + ")");
  }
  switch (s.weight_type) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
    case TensorType::kQ8_0:
    case TensorType::kQ4_0:
    case TensorType::kQ4_K:
    case TensorType::kQ6_K:
      break;
    default:
      return Status::InvalidArgument("weight_type " + std::string(TypeName(s.weight_type)) +
                                     " cannot be used for stored weights");
  }
  if (!std::isfinite(s.rope_freq_base) || s.rope_freq_base <= 0) {
    return Status::InvalidArgument("rope_freq_base must be a positive finite number");
  }
  if (!std::isfinite(s.rope_scaling_factor) || s.rope_scaling_factor <= 0) {
    return Status::InvalidArgument("rope_scaling_factor must be a positive finite number");
  }
  if (!std::isfinite(s.rms_eps) || s.rms_eps <= 0) {
    return Status::InvalidArgument("rms_eps must be a positive finite number");
  }
  const bool bpe = s.tokenizer == TokenizerKind::kByteLevelBpe;
  if (bpe == (s.chat == ChatFormat::kLlama2)) {
    return Status::InvalidArgument("chat format " + std::string(ChatFormatName(s.chat)) +
                                   " does not match the " + (bpe ? "BPE" : "SentencePiece") +
                                   " test vocabulary (ChatML and Llama3 need BPE, Llama2 "
                                   "SentencePiece)");
  }
  return Status::Ok();
}

Status WriteTestModel(const TestModelSpec& spec, const std::filesystem::path& path,
                      const TestModelProgress& on_layer_written) {
  INFERNET_RETURN_IF_ERROR(ValidateTestModelSpec(spec));
  TestModelBuilder b(spec);
  WriteMetadata(spec, b.writer());

  const int64_t head_dim = spec.n_embd / spec.n_head;
  const int64_t kv_dim = spec.n_head_kv * head_dim;
  // Embedding rows are read one token at a time, so they are scaled like the matrices: the
  // first RMSNorm makes their magnitude irrelevant, and it keeps tied output logits near unit
  // variance.
  INFERNET_RETURN_IF_ERROR(b.AddMatrix("token_embd.weight", spec.n_embd, spec.n_vocab));
  for (int64_t l = 0; l < spec.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    INFERNET_RETURN_IF_ERROR(b.AddNorm(p + "attn_norm.weight", spec.n_embd));
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "attn_q.weight", spec.n_embd, spec.n_embd));
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "attn_k.weight", spec.n_embd, kv_dim));
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "attn_v.weight", spec.n_embd, kv_dim));
    if (spec.arch == Architecture::kQwen2) {
      INFERNET_RETURN_IF_ERROR(b.AddBias(p + "attn_q.bias", spec.n_embd));
      INFERNET_RETURN_IF_ERROR(b.AddBias(p + "attn_k.bias", kv_dim));
      INFERNET_RETURN_IF_ERROR(b.AddBias(p + "attn_v.bias", kv_dim));
    }
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "attn_output.weight", spec.n_embd, spec.n_embd));
    INFERNET_RETURN_IF_ERROR(b.AddNorm(p + "ffn_norm.weight", spec.n_embd));
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "ffn_gate.weight", spec.n_embd, spec.n_ff));
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "ffn_up.weight", spec.n_embd, spec.n_ff));
    INFERNET_RETURN_IF_ERROR(b.AddMatrix(p + "ffn_down.weight", spec.n_ff, spec.n_embd));
    if (on_layer_written) on_layer_written(l + 1, spec.n_layer);
  }
  INFERNET_RETURN_IF_ERROR(b.AddNorm("output_norm.weight", spec.n_embd));
  if (!spec.tied_embeddings) {
    INFERNET_RETURN_IF_ERROR(b.AddMatrix("output.weight", spec.n_embd, spec.n_vocab));
  }
  return b.writer().WriteFile(path);
}

}  // namespace infernet
