#include "engine/testing/reference_forward.h"

#include <cmath>
#include <optional>
#include <string>

#include "engine/gguf/gguf_file.h"
#include "engine/quant/float_convert.h"
#include "engine/quant/quant.h"

namespace infernet {
namespace {

using Vector = std::vector<double>;

// rows x cols, row-major; row r holds the weights of output r (GGUF's row_length == cols).
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> data;
  TensorType type = TensorType::kF32;  // as stored in the file

  Vector Apply(const Vector& input, const ReferenceOptions& options) const {
    const Vector x = options.emulate_activation_quantization ? RoundActivations(input) : input;
    Vector y(static_cast<size_t>(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const double* w = &data[static_cast<size_t>(r * cols)];
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c) sum += w[c] * x[c];
      y[r] = sum;
    }
    return y;
  }
  // x as the engine's kernels see it: quantized to the activation type and back.
  Vector RoundActivations(const Vector& x) const {
    const TensorType activation = quant::ActivationType(type);
    if (activation == TensorType::kF32) return x;
    std::vector<float> f(x.begin(), x.end());
    std::vector<uint8_t> packed(RowBytes(activation, cols));
    quant::QuantizeActivationRow(type, f.data(), packed.data(), cols);
    quant::DequantizeRow(activation, packed.data(), f.data(), cols);
    return Vector(f.begin(), f.end());
  }
  Vector Row(int64_t r) const {
    return Vector(data.begin() + r * cols, data.begin() + (r + 1) * cols);
  }
};

Result<Matrix> ReadTensor(const gguf::GgufFile& file, const std::string& name, int64_t cols,
                          int64_t rows) {
  const gguf::TensorInfo* info = file.FindTensor(name);
  if (info == nullptr) return Status::NotFound("reference model: missing tensor " + name);
  if (info->row_length() != cols || info->rows() != rows) {
    return Status::InvalidArgument("reference model: tensor " + name + " has " +
                                   std::to_string(info->rows()) + " rows of " +
                                   std::to_string(info->row_length()) + ", expected " +
                                   std::to_string(rows) + " rows of " + std::to_string(cols));
  }
  std::span<const uint8_t> bytes = file.TensorData(*info);
  const size_t row_bytes = RowBytes(info->type, cols);
  Matrix m{rows, cols, std::vector<double>(static_cast<size_t>(rows * cols)), info->type};
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    quant::DequantizeRow(info->type, bytes.data() + r * row_bytes, row.data(), cols);
    for (int64_t c = 0; c < cols; ++c) m.data[r * cols + c] = row[c];
  }
  return m;
}

Result<std::optional<Vector>> ReadOptionalVector(const gguf::GgufFile& file,
                                                 const std::string& name, int64_t n) {
  if (file.FindTensor(name) == nullptr) return std::optional<Vector>();
  INFERNET_ASSIGN_OR_RETURN(Matrix m, ReadTensor(file, name, n, 1));
  return std::optional<Vector>(std::move(m.data));
}

Vector RmsNorm(const Vector& x, const Vector& weight, double eps) {
  double sum_sq = 0;
  for (double v : x) sum_sq += v * v;
  const double scale = 1.0 / std::sqrt(sum_sq / static_cast<double>(x.size()) + eps);
  Vector y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * weight[i];
  return y;
}

void AddBias(Vector& x, const std::optional<Vector>& bias) {
  if (!bias) return;
  for (size_t i = 0; i < x.size(); ++i) x[i] += (*bias)[i];
}

// Rotates the first n_rot dimensions of each head of `x` by angles pos * scale * base^(-2i/n_rot).
void ApplyRope(Vector& x, const ModelConfig& c, int64_t n_heads, int64_t pos) {
  const int64_t half = c.n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    double* head = &x[static_cast<size_t>(h * c.head_dim)];
    for (int64_t i = 0; i < half; ++i) {
      const double freq = std::pow(static_cast<double>(c.rope_freq_base),
                                   -2.0 * static_cast<double>(i) / static_cast<double>(c.n_rot));
      const double angle = static_cast<double>(pos) * c.rope_freq_scale * freq;
      // Normal ordering pairs adjacent dimensions; NeoX pairs dimension i with i + n_rot/2.
      const int64_t a = c.rope_ordering == RopeOrdering::kNormal ? 2 * i : i;
      const int64_t b = c.rope_ordering == RopeOrdering::kNormal ? 2 * i + 1 : i + half;
      const double x0 = head[a];
      const double x1 = head[b];
      head[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
      head[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
    }
  }
}

double Silu(double x) { return x / (1.0 + std::exp(-x)); }

}  // namespace

struct ReferenceModel::Weights {
  struct Layer {
    Vector attn_norm, ffn_norm;
    Matrix wq, wk, wv, wo, w_gate, w_up, w_down;
    std::optional<Vector> bq, bk, bv;
  };
  Matrix token_embd;
  std::vector<Layer> layers;
  Vector output_norm;
  std::optional<Matrix> output;  // absent: tied to token_embd
};

ReferenceModel::ReferenceModel(ModelConfig config, std::unique_ptr<Weights> weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}
ReferenceModel::~ReferenceModel() = default;

Result<std::unique_ptr<ReferenceModel>> ReferenceModel::Load(const gguf::GgufFile& file) {
  INFERNET_ASSIGN_OR_RETURN(ModelConfig c, ReadModelConfig(file));
  auto w = std::make_unique<Weights>();
  const int64_t q_dim = c.n_head * c.head_dim;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  INFERNET_ASSIGN_OR_RETURN(w->token_embd,
                            ReadTensor(file, "token_embd.weight", c.n_embd, c.n_vocab));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    Weights::Layer layer;
    INFERNET_ASSIGN_OR_RETURN(Matrix attn_norm,
                              ReadTensor(file, p + "attn_norm.weight", c.n_embd, 1));
    layer.attn_norm = std::move(attn_norm.data);
    INFERNET_ASSIGN_OR_RETURN(Matrix ffn_norm,
                              ReadTensor(file, p + "ffn_norm.weight", c.n_embd, 1));
    layer.ffn_norm = std::move(ffn_norm.data);
    INFERNET_ASSIGN_OR_RETURN(layer.wq, ReadTensor(file, p + "attn_q.weight", c.n_embd, q_dim));
    INFERNET_ASSIGN_OR_RETURN(layer.wk, ReadTensor(file, p + "attn_k.weight", c.n_embd, kv_dim));
    INFERNET_ASSIGN_OR_RETURN(layer.wv, ReadTensor(file, p + "attn_v.weight", c.n_embd, kv_dim));
    INFERNET_ASSIGN_OR_RETURN(layer.wo,
                              ReadTensor(file, p + "attn_output.weight", q_dim, c.n_embd));
    INFERNET_ASSIGN_OR_RETURN(layer.bq, ReadOptionalVector(file, p + "attn_q.bias", q_dim));
    INFERNET_ASSIGN_OR_RETURN(layer.bk, ReadOptionalVector(file, p + "attn_k.bias", kv_dim));
    INFERNET_ASSIGN_OR_RETURN(layer.bv, ReadOptionalVector(file, p + "attn_v.bias", kv_dim));
    INFERNET_ASSIGN_OR_RETURN(layer.w_gate,
                              ReadTensor(file, p + "ffn_gate.weight", c.n_embd, c.n_ff));
    INFERNET_ASSIGN_OR_RETURN(layer.w_up, ReadTensor(file, p + "ffn_up.weight", c.n_embd, c.n_ff));
    INFERNET_ASSIGN_OR_RETURN(layer.w_down,
                              ReadTensor(file, p + "ffn_down.weight", c.n_ff, c.n_embd));
    w->layers.push_back(std::move(layer));
  }
  INFERNET_ASSIGN_OR_RETURN(Matrix output_norm,
                            ReadTensor(file, "output_norm.weight", c.n_embd, 1));
  w->output_norm = std::move(output_norm.data);
  if (!c.tied_embeddings) {
    INFERNET_ASSIGN_OR_RETURN(Matrix output,
                              ReadTensor(file, "output.weight", c.n_embd, c.n_vocab));
    w->output = std::move(output);
  }
  return std::unique_ptr<ReferenceModel>(new ReferenceModel(std::move(c), std::move(w)));
}

ReferenceOutput ReferenceModel::Forward(std::span<const TokenId> tokens,
                                        const ReferenceOptions& options) const {
  const ModelConfig& c = config_;
  const Weights& w = *weights_;
  const double eps = c.rms_eps;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t group = c.n_head / c.n_head_kv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));

  std::vector<Vector> x(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) x[t] = w.token_embd.Row(tokens[t]);

  for (const Weights::Layer& layer : w.layers) {
    // Keys and values of every position first; position t attends to 0..t.
    std::vector<Vector> q(n), k(n), v(n);
    for (int64_t t = 0; t < n; ++t) {
      const Vector h = RmsNorm(x[t], layer.attn_norm, eps);
      q[t] = layer.wq.Apply(h, options);
      k[t] = layer.wk.Apply(h, options);
      v[t] = layer.wv.Apply(h, options);
      AddBias(q[t], layer.bq);
      AddBias(k[t], layer.bk);
      AddBias(v[t], layer.bv);
      ApplyRope(q[t], c, c.n_head, t);
      ApplyRope(k[t], c, c.n_head_kv, t);
      if (options.emulate_fp16_kv_cache) {
        for (auto* kv : {&k[t], &v[t]}) {
          for (double& e : *kv) e = quant::Fp16ToFloat(quant::FloatToFp16(static_cast<float>(e)));
        }
      }
    }
    for (int64_t t = 0; t < n; ++t) {
      Vector attn(static_cast<size_t>(c.n_head * c.head_dim), 0.0);
      for (int64_t h = 0; h < c.n_head; ++h) {
        const int64_t q_off = h * c.head_dim;
        const int64_t kv_off = (h / group) * c.head_dim;
        Vector scores(static_cast<size_t>(t + 1));
        double max_score = -INFINITY;
        for (int64_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.head_dim; ++d) dot += q[t][q_off + d] * k[j][kv_off + d];
          scores[j] = dot * scale;
          max_score = std::max(max_score, scores[j]);
        }
        double denom = 0;
        for (double& s : scores) {
          s = std::exp(s - max_score);
          denom += s;
        }
        for (int64_t j = 0; j <= t; ++j) {
          for (int64_t d = 0; d < c.head_dim; ++d) {
            attn[q_off + d] += scores[j] / denom * v[j][kv_off + d];
          }
        }
      }
      const Vector projected = layer.wo.Apply(attn, options);
      for (int64_t i = 0; i < c.n_embd; ++i) x[t][i] += projected[i];
    }
    for (int64_t t = 0; t < n; ++t) {
      const Vector h = RmsNorm(x[t], layer.ffn_norm, eps);
      Vector gate = layer.w_gate.Apply(h, options);
      const Vector up = layer.w_up.Apply(h, options);
      for (size_t i = 0; i < gate.size(); ++i) gate[i] = Silu(gate[i]) * up[i];
      const Vector down = layer.w_down.Apply(gate, options);
      for (int64_t i = 0; i < c.n_embd; ++i) x[t][i] += down[i];
    }
  }

  ReferenceOutput out;
  const Matrix& output = w.output ? *w.output : w.token_embd;
  for (int64_t t = 0; t < n; ++t) {
    Vector hidden = RmsNorm(x[t], w.output_norm, eps);
    out.logits.push_back(output.Apply(hidden, options));
    out.hidden.push_back(std::move(hidden));
  }
  return out;
}

}  // namespace infernet
