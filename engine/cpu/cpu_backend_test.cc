// The CPU back end's ops against straightforward double-precision loops.
#include "engine/cpu/cpu_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/cpu/cpu_types.h"
#include "engine/gguf/gguf_file.h"
#include "engine/quant/float_convert.h"
#include "engine/quant/quant.h"

namespace infernet {
namespace {

std::vector<float> RandomFloats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

class CpuBackendTest : public ::testing::Test {
 protected:
  // A weight of `rows` rows of `row_length` floats, stored as `type`. Keeps the bytes alive.
  std::unique_ptr<DeviceWeight> MakeWeight(TensorType type, int64_t row_length, int64_t rows,
                                           const std::vector<float>& values) {
    gguf::TensorInfo info;
    info.name = "w";
    info.shape =
        rows == 1 ? std::vector<int64_t>{row_length} : std::vector<int64_t>{row_length, rows};
    info.type = type;
    const size_t row_bytes = RowBytes(type, row_length);
    info.size_bytes = row_bytes * static_cast<size_t>(rows);
    auto& bytes = storage_.emplace_back(info.size_bytes);
    for (int64_t r = 0; r < rows; ++r) {
      quant::QuantizeRow(type, values.data() + r * row_length, bytes.data() + r * row_bytes,
                         row_length);
    }
    auto w = backend_->PrepareWeight(info, bytes);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return std::move(w).value();
  }

  std::unique_ptr<DeviceTensor> Upload(ComputeStream& s, const std::vector<float>& v, int64_t rows,
                                       int64_t cols) {
    auto t = s.NewTensor(rows, cols);
    s.CopyFromHost(v.data(), rows, *t);
    return t;
  }

  static std::vector<float> Download(ComputeStream& s, const DeviceTensor& t, int64_t rows) {
    std::vector<float> v(static_cast<size_t>(rows * t.cols()));
    s.CopyToHost(t, rows, v.data());
    return v;
  }

  // RoPE over whole heads and attention with scale 0.17, for n_head query heads in n_head_kv
  // groups.
  struct AttentionShape {
    RopeParams q_rope, k_rope;
    AttentionParams attention;
  };
  static AttentionShape Shape(int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                              RopeOrdering ordering) {
    const RopeParams q_rope{n_head, head_dim, head_dim, 10000.0f, 1.0f, ordering};
    RopeParams k_rope = q_rope;
    k_rope.n_head = n_head_kv;
    return {q_rope, k_rope, {n_head, n_head_kv, head_dim, 0.17f}};
  }

  // SelfAttention's working tensors for n rows.
  struct AttentionTensors {
    std::unique_ptr<DeviceTensor> xn, q, k, v, attn;
    SelfAttentionScratch scratch() const {
      return {xn.get(), q.get(), k.get(), v.get(), attn.get()};
    }
  };
  static AttentionTensors NewAttentionTensors(ComputeStream& s, int64_t n, int64_t n_embd,
                                              int64_t q_dim, int64_t kv_dim) {
    return {s.NewTensor(n, n_embd), s.NewTensor(n, q_dim), s.NewTensor(n, kv_dim),
            s.NewTensor(n, kv_dim), s.NewTensor(n, q_dim)};
  }

  // The first `positions` K and V rows of every KV head of (layer, seq) are the same bits.
  static void ExpectSameCacheRows(const KvCache& a, const KvCache& b, int64_t layer, int64_t seq,
                                  int64_t positions) {
    const auto& c0 = static_cast<const cpu::CpuKvCache&>(a);
    const auto& c1 = static_cast<const cpu::CpuKvCache&>(b);
    const size_t bytes = static_cast<size_t>(positions * c0.head_dim()) * c0.element_bytes();
    for (int64_t g = 0; g < c0.n_head_kv(); ++g) {
      EXPECT_EQ(std::memcmp(c0.k(layer, seq, g, 0), c1.k(layer, seq, g, 0), bytes), 0)
          << "layer " << layer << " seq " << seq << " head " << g;
      EXPECT_EQ(std::memcmp(c0.v(layer, seq, g, 0), c1.v(layer, seq, g, 0), bytes), 0)
          << "layer " << layer << " seq " << seq << " head " << g;
    }
  }

  std::unique_ptr<Backend> backend_ = CreateCpuBackend(3);
  std::unique_ptr<ComputeStream> stream_ = backend_->CreateStream(0);
  std::vector<std::vector<uint8_t>> storage_;
};

TEST_F(CpuBackendTest, RmsNormScalesEachRowByItsRootMeanSquareAndTheWeight) {
  const int64_t n = 3, cols = 40;
  const float eps = 1e-5f;
  auto x = RandomFloats(n * cols, 1);
  auto wv = RandomFloats(cols, 2);
  auto w = MakeWeight(TensorType::kF32, cols, 1, wv);
  auto in = Upload(*stream_, x, n, cols);
  auto out = stream_->NewTensor(n, cols);
  stream_->RmsNorm(*in, *w, eps, n, *out);
  auto got = Download(*stream_, *out, n);
  for (int64_t i = 0; i < n; ++i) {
    double ss = 0;
    for (int64_t c = 0; c < cols; ++c)
      ss += double(x[size_t(i * cols + c)]) * x[size_t(i * cols + c)];
    const double scale = 1.0 / std::sqrt(ss / cols + eps);
    for (int64_t c = 0; c < cols; ++c) {
      EXPECT_NEAR(got[size_t(i * cols + c)], x[size_t(i * cols + c)] * scale * wv[size_t(c)], 1e-5);
    }
  }
}

TEST_F(CpuBackendTest, RmsNormAcceptsF16WeightsAndAliasedOutput) {
  const int64_t cols = 16;
  auto x = RandomFloats(cols, 3);
  std::vector<float> ones(cols, 1.0f);
  auto w = MakeWeight(TensorType::kF16, cols, 1, ones);
  auto t = Upload(*stream_, x, 1, cols);
  stream_->RmsNorm(*t, *w, 0.0f, 1, *t);
  auto got = Download(*stream_, *t, 1);
  double ss = 0;
  for (float v : got) ss += double(v) * v;
  EXPECT_NEAR(ss / cols, 1.0, 1e-5);
}

// Rotation angle of pair i at position p: p * scale * base^(-2i/n_rot).
void RopeReference(std::vector<double>& row, const RopeParams& p, int32_t pos) {
  const int64_t half = p.n_rot / 2;
  for (int64_t h = 0; h < p.n_head; ++h) {
    double* head = row.data() + h * p.head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const double theta =
          pos * double(p.freq_scale) * std::pow(double(p.freq_base), -2.0 * i / p.n_rot);
      const int64_t a = p.ordering == RopeOrdering::kNormal ? 2 * i : i;
      const int64_t b = p.ordering == RopeOrdering::kNormal ? 2 * i + 1 : i + half;
      const double x0 = head[a], x1 = head[b];
      head[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
      head[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

class CpuRopeTest : public CpuBackendTest, public ::testing::WithParamInterface<RopeOrdering> {};

TEST_P(CpuRopeTest, RotatesPairsByPositionAndLeavesUnrotatedDimensions) {
  RopeParams p;
  p.n_head = 3;
  p.head_dim = 16;
  p.n_rot = 12;  // the last 4 dimensions of each head stay as they are
  p.freq_base = 10000.0f;
  p.freq_scale = 0.5f;
  p.ordering = GetParam();
  const std::vector<int32_t> pos = {0, 1, 7, 300};
  const int64_t cols = p.n_head * p.head_dim;
  auto x = RandomFloats(int64_t(pos.size()) * cols, 4);
  auto t = Upload(*stream_, x, int64_t(pos.size()), cols);
  stream_->Rope(*t, p, pos);
  auto got = Download(*stream_, *t, int64_t(pos.size()));
  for (size_t r = 0; r < pos.size(); ++r) {
    std::vector<double> row(x.begin() + long(r * cols), x.begin() + long((r + 1) * cols));
    RopeReference(row, p, pos[r]);
    for (int64_t c = 0; c < cols; ++c) {
      EXPECT_NEAR(got[r * cols + size_t(c)], row[size_t(c)], 2e-6) << "row " << r << " col " << c;
    }
    for (int64_t h = 0; h < p.n_head; ++h) {
      for (int64_t d = p.n_rot; d < p.head_dim; ++d) {
        const size_t at = r * cols + size_t(h * p.head_dim + d);
        EXPECT_EQ(got[at], x[at]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Orderings, CpuRopeTest,
                         ::testing::Values(RopeOrdering::kNormal, RopeOrdering::kNeox));

TEST_F(CpuBackendTest, RopeOrderingsPairDifferentElements) {
  RopeParams p{1, 4, 4, 10000.0f, 1.0f, RopeOrdering::kNormal};
  std::vector<float> x = {1, 0, 0, 0};
  auto normal = Upload(*stream_, x, 1, 4);
  auto neox = Upload(*stream_, x, 1, 4);
  const std::vector<int32_t> pos = {1};
  stream_->Rope(*normal, p, pos);
  p.ordering = RopeOrdering::kNeox;
  stream_->Rope(*neox, p, pos);
  auto a = Download(*stream_, *normal, 1);
  auto b = Download(*stream_, *neox, 1);
  // Element 0 rotates with element 1 (normal) or with element 2 (neox), by 1 radian.
  EXPECT_NEAR(a[1], std::sin(1.0), 1e-6);
  EXPECT_EQ(a[2], 0.0f);
  EXPECT_NEAR(b[2], std::sin(1.0), 1e-6);
  EXPECT_EQ(b[1], 0.0f);
}

TEST_F(CpuBackendTest, AttentionWithGroupedKvHeadsMatchesReference) {
  // Both cache types: the reference reads keys and values as an F16 cache rounds them.
  for (TensorType type : {TensorType::kF32, TensorType::kF16}) {
    const AttentionParams p{4, 2, 8, 1.0f / std::sqrt(8.0f)};
    const int64_t kv_dim = p.n_head_kv * p.head_dim, q_dim = p.n_head * p.head_dim;
    const int64_t n_ctx = 6, layer = 1;
    auto cache = stream_->NewKvCache(2, 2, n_ctx, p.n_head_kv, p.head_dim, type);
    // Fill both sequences fully, in two StoreKv calls of different shapes.
    const std::vector<int32_t> all_seq = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    const std::vector<int32_t> all_pos = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4};
    const int64_t m = int64_t(all_pos.size());
    auto kv_k = RandomFloats(m * kv_dim, 5, 2.0f);
    auto kv_v = RandomFloats(m * kv_dim, 6);
    auto k = Upload(*stream_, kv_k, m, kv_dim);
    auto v = Upload(*stream_, kv_v, m, kv_dim);
    stream_->StoreKv(*cache, layer, *k, *v, TokenSlots{all_seq, all_pos});
    if (type == TensorType::kF16) {
      for (auto* kv : {&kv_k, &kv_v}) {
        for (float& f : *kv) f = quant::Fp16ToFloat(quant::FloatToFp16(f));
      }
    }

    // Queries: sequence 1 at position 4, sequence 0 at 0 and 5.
    const std::vector<int32_t> seq = {1, 0, 0};
    const std::vector<int32_t> pos = {4, 0, 5};
    const int64_t n = 3;
    auto qv = RandomFloats(n * q_dim, 7, 2.0f);
    auto q = Upload(*stream_, qv, n, q_dim);
    auto out = stream_->NewTensor(n, q_dim);
    stream_->Attention(*q, *cache, layer, TokenSlots{seq, pos}, p, *out);
    auto got = Download(*stream_, *out, n);

    auto row_of = [&](int32_t s, int32_t position) {
      for (int64_t r = 0; r < m; ++r) {
        if (all_seq[size_t(r)] == s && all_pos[size_t(r)] == position) return r;
      }
      return int64_t{-1};
    };
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t h = 0; h < p.n_head; ++h) {
        const int64_t g = h / (p.n_head / p.n_head_kv);
        std::vector<double> w;
        double max_w = -1e300;
        for (int32_t j = 0; j <= pos[size_t(i)]; ++j) {
          const int64_t r = row_of(seq[size_t(i)], j);
          double dot = 0;
          for (int64_t d = 0; d < p.head_dim; ++d) {
            dot += double(qv[size_t(i * q_dim + h * p.head_dim + d)]) *
                   kv_k[size_t(r * kv_dim + g * p.head_dim + d)];
          }
          w.push_back(dot * p.scale);
          max_w = std::max(max_w, w.back());
        }
        double sum = 0;
        for (double& x : w) sum += (x = std::exp(x - max_w));
        for (int64_t d = 0; d < p.head_dim; ++d) {
          double acc = 0;
          for (int32_t j = 0; j <= pos[size_t(i)]; ++j) {
            const int64_t r = row_of(seq[size_t(i)], j);
            acc += w[size_t(j)] / sum * kv_v[size_t(r * kv_dim + g * p.head_dim + d)];
          }
          EXPECT_NEAR(got[size_t(i * q_dim + h * p.head_dim + d)], acc, 1e-5)
              << TypeName(type) << " token " << i << " head " << h << " dim " << d;
        }
      }
    }
  }
}

TEST_F(CpuBackendTest, SwiGluAndAddAreElementWise) {
  const int64_t n = 2, cols = 24;
  auto g = RandomFloats(n * cols, 8, 4.0f);
  auto u = RandomFloats(n * cols, 9);
  auto gate = Upload(*stream_, g, n, cols);
  auto up = Upload(*stream_, u, n, cols);
  stream_->SwiGlu(*gate, *up, n, *gate);
  auto got = Download(*stream_, *gate, n);
  for (size_t i = 0; i < got.size(); ++i) {
    const double silu = g[i] / (1.0 + std::exp(-double(g[i])));
    EXPECT_NEAR(got[i], silu * u[i], 1e-6);
  }
  stream_->Add(*gate, *up, n);
  auto sum = Download(*stream_, *gate, n);
  for (size_t i = 0; i < sum.size(); ++i) EXPECT_EQ(sum[i], got[i] + u[i]);
}

TEST_F(CpuBackendTest, MatMulF32WithBiasMatchesReference) {
  const int64_t k = 24, m = 10, n = 5;
  auto wv = RandomFloats(k * m, 10);
  auto bv = RandomFloats(m, 11);
  auto xv = RandomFloats(n * k, 12);
  auto w = MakeWeight(TensorType::kF32, k, m, wv);
  auto b = MakeWeight(TensorType::kF32, m, 1, bv);
  auto x = Upload(*stream_, xv, n, k);
  auto out = stream_->NewTensor(n, m);
  stream_->MatMul(*w, b.get(), *x, n, *out);
  auto got = Download(*stream_, *out, n);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < m; ++r) {
      double acc = bv[size_t(r)];
      for (int64_t c = 0; c < k; ++c) acc += double(wv[size_t(r * k + c)]) * xv[size_t(t * k + c)];
      EXPECT_NEAR(got[size_t(t * m + r)], acc, 1e-5);
    }
  }
}

TEST_F(CpuBackendTest, MatMulQ8_0MatchesDequantizedReferenceAndVecDotExactly) {
  const int64_t k = 64, m = 9, n = 6;
  auto wv = RandomFloats(k * m, 13);
  auto xv = RandomFloats(n * k, 14);
  auto w = MakeWeight(TensorType::kQ8_0, k, m, wv);
  auto x = Upload(*stream_, xv, n, k);
  auto out = stream_->NewTensor(n, m);
  stream_->MatMul(*w, nullptr, *x, n, *out);
  auto got = Download(*stream_, *out, n);

  const std::vector<uint8_t>& wbytes = storage_.back();
  const size_t row_bytes = RowBytes(TensorType::kQ8_0, k);
  std::vector<uint8_t> act(quant::ActivationRowBytes(TensorType::kQ8_0, k));
  std::vector<float> wrow(static_cast<size_t>(k));
  for (int64_t t = 0; t < n; ++t) {
    quant::QuantizeActivationRow(TensorType::kQ8_0, xv.data() + t * k, act.data(), k);
    for (int64_t r = 0; r < m; ++r) {
      const float expect =
          quant::VecDot(TensorType::kQ8_0, k, wbytes.data() + size_t(r) * row_bytes, act.data());
      EXPECT_EQ(got[size_t(t * m + r)], expect);
      quant::DequantizeRow(TensorType::kQ8_0, wbytes.data() + size_t(r) * row_bytes, wrow.data(),
                           k);
      double ref = 0;
      for (int64_t c = 0; c < k; ++c) ref += double(wrow[size_t(c)]) * xv[size_t(t * k + c)];
      EXPECT_NEAR(got[size_t(t * m + r)], ref, 0.05);  // activation quantization error only
    }
  }
}

TEST_F(CpuBackendTest, MatMulRowsDoNotDependOnBatchSizeOrThreadCount) {
  const int64_t k = 256, m = 37, n = 11;
  auto wv = RandomFloats(k * m, 15);
  auto xv = RandomFloats(n * k, 16);
  for (TensorType type : {TensorType::kF32, TensorType::kQ4_0, TensorType::kQ4_K}) {
    auto w = MakeWeight(type, k, m, wv);
    auto x = Upload(*stream_, xv, n, k);
    auto out = stream_->NewTensor(n, m);
    stream_->MatMul(*w, nullptr, *x, n, *out);
    auto batched = Download(*stream_, *out, n);
    auto single_stream = backend_->CreateStream(1);
    for (int64_t t = 0; t < n; ++t) {
      std::vector<float> row(xv.begin() + long(t * k), xv.begin() + long((t + 1) * k));
      auto xt = Upload(*single_stream, row, 1, k);
      auto ot = single_stream->NewTensor(1, m);
      single_stream->MatMul(*w, nullptr, *xt, 1, *ot);
      auto alone = Download(*single_stream, *ot, 1);
      EXPECT_EQ(std::memcmp(alone.data(), batched.data() + t * m, size_t(m) * sizeof(float)), 0)
          << TypeName(type) << " token " << t;
    }
  }
}

// Weights of three activation types (F32 for F16, Q8_0, Q8_K for Q4_K and Q6_K), one with a
// bias, over 1 and 3 threads: every element of MatMul must be the VecDot of its weight row and
// its prepared activation row (plus the bias), bit for bit.
TEST_F(CpuBackendTest, MatMulComputesEveryElementAsItsVecDot) {
  const int64_t k = 512;
  const std::vector<std::pair<TensorType, int64_t>> shapes = {{TensorType::kQ4_K, 77},
                                                              {TensorType::kF16, 30},
                                                              {TensorType::kQ8_0, 5},
                                                              {TensorType::kQ6_K, 130}};
  std::vector<std::unique_ptr<DeviceWeight>> weights;
  std::vector<const uint8_t*> bytes;  // the buffers stay put when storage_ grows
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto [type, m] = shapes[i];
    weights.push_back(MakeWeight(type, k, m, RandomFloats(k * m, 30 + uint32_t(i))));
    bytes.push_back(storage_.back().data());
  }
  const auto bias_values = RandomFloats(5, 40);
  auto bias = MakeWeight(TensorType::kF32, 5, 1, bias_values);
  for (int threads : {1, 3}) {
    auto stream = backend_->CreateStream(threads);
    for (int64_t n : {1, 13}) {
      const auto xv = RandomFloats(n * k, 41);
      auto x = Upload(*stream, xv, n, k);
      for (size_t i = 0; i < shapes.size(); ++i) {
        const auto [type, m] = shapes[i];
        auto out = stream->NewTensor(n, m);
        stream->MatMul(*weights[i], i == 2 ? bias.get() : nullptr, *x, n, *out);
        const auto got = Download(*stream, *out, n);
        const size_t row_bytes = RowBytes(type, k);
        std::vector<uint8_t> act(quant::ActivationRowBytes(type, k));
        for (int64_t t = 0; t < n; ++t) {
          quant::QuantizeActivationRow(type, xv.data() + t * k, act.data(), k);
          for (int64_t r = 0; r < m; ++r) {
            float expect = quant::VecDot(type, k, bytes[i] + size_t(r) * row_bytes, act.data());
            if (i == 2) expect = expect + bias_values[size_t(r)];
            ASSERT_EQ(std::memcmp(&got[size_t(t * m + r)], &expect, sizeof(float)), 0)
                << TypeName(type) << " n " << n << " threads " << threads << " row " << r;
          }
        }
      }
    }
  }
}

// MatMuls runs several products in one hand-off; each must equal MatMul alone, bit for bit, with
// mixed activation formats, a bias, token counts across the 64-token chunk, more products than
// one pass takes (5), and 1 or 3 threads.
TEST_F(CpuBackendTest, MatMulsEqualsMatMulForEachProduct) {
  const int64_t k = 256;
  const std::vector<std::pair<TensorType, int64_t>> shapes = {{TensorType::kQ4_K, 50},
                                                              {TensorType::kQ8_0, 7},
                                                              {TensorType::kF16, 30},
                                                              {TensorType::kQ6_K, 25},
                                                              {TensorType::kQ4_K, 3}};
  std::vector<std::unique_ptr<DeviceWeight>> weights;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto [type, m] = shapes[i];
    weights.push_back(MakeWeight(type, k, m, RandomFloats(k * m, 50 + uint32_t(i))));
  }
  auto bias = MakeWeight(TensorType::kF32, 7, 1, RandomFloats(7, 60));
  for (int threads : {1, 3}) {
    auto stream = backend_->CreateStream(threads);
    for (int64_t n : {1, 13, 70}) {
      auto x = Upload(*stream, RandomFloats(n * k, 61), n, k);
      std::vector<std::unique_ptr<DeviceTensor>> together, alone;
      std::vector<MatMulProduct> products;
      for (size_t i = 0; i < shapes.size(); ++i) {
        together.push_back(stream->NewTensor(n, shapes[i].second));
        alone.push_back(stream->NewTensor(n, shapes[i].second));
        products.push_back({weights[i].get(), i == 1 ? bias.get() : nullptr, together[i].get()});
      }
      stream->MatMuls(products, *x, n);
      for (size_t i = 0; i < shapes.size(); ++i) {
        stream->MatMul(*weights[i], products[i].bias, *x, n, *alone[i]);
        const auto a = Download(*stream, *alone[i], n);
        const auto b = Download(*stream, *together[i], n);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
            << TypeName(shapes[i].first) << " product " << i << " n " << n << " threads "
            << threads;
      }
    }
  }
}

// The CPU back end runs FeedForward for up to 4 rows in one hand-off (cpu_feed_forward.h): it
// must equal the op-by-op composition of ComputeStream's default bit for bit, for float and
// quantized weights (also a down type unlike gate/up, as Q4_K_M files have), several batch sizes
// and thread counts, with widths that leave partial row blocks and uneven quantization splits.
TEST_F(CpuBackendTest, FeedForwardEqualsTheOpByOpCompositionBitForBit) {
  struct Types {
    TensorType gate_up, down;
  };
  const int64_t n_embd = 512, n_ff = 1280;  // 1280 = 53 blocks of 24 rows + 8
  for (Types types :
       {Types{TensorType::kF32, TensorType::kF32}, Types{TensorType::kF16, TensorType::kF16},
        Types{TensorType::kQ8_0, TensorType::kQ8_0}, Types{TensorType::kQ4_K, TensorType::kQ6_K},
        Types{TensorType::kQ4_0, TensorType::kBF16}}) {
    auto norm = MakeWeight(TensorType::kF32, n_embd, 1, RandomFloats(n_embd, 21));
    auto gate = MakeWeight(types.gate_up, n_embd, n_ff, RandomFloats(n_embd * n_ff, 22, 0.1f));
    auto up = MakeWeight(types.gate_up, n_embd, n_ff, RandomFloats(n_embd * n_ff, 23, 0.1f));
    auto down = MakeWeight(types.down, n_ff, n_embd, RandomFloats(n_ff * n_embd, 24, 0.05f));
    const FeedForwardWeights w{norm.get(), gate.get(), up.get(), down.get()};
    for (int threads : {1, 2, 3}) {
      auto stream = backend_->CreateStream(threads);
      for (int64_t n : {1, 2, 4, 5}) {
        const auto x0 = RandomFloats(n * n_embd, static_cast<uint32_t>(30 + n), 2.0f);
        auto fused = Upload(*stream, x0, n, n_embd);
        auto composed = Upload(*stream, x0, n, n_embd);
        auto xn = stream->NewTensor(n, n_embd);
        auto g = stream->NewTensor(n, n_ff);
        auto u = stream->NewTensor(n, n_ff);
        const FeedForwardScratch scratch{xn.get(), g.get(), u.get()};
        stream->FeedForward(*fused, w, 1e-5f, n, scratch);
        stream->ComputeStream::FeedForward(*composed, w, 1e-5f, n, scratch);
        const auto a = Download(*stream, *fused, n);
        const auto b = Download(*stream, *composed, n);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
            << TypeName(types.gate_up) << "/" << TypeName(types.down) << " threads " << threads
            << " n " << n;
        EXPECT_NE(std::memcmp(a.data(), x0.data(), a.size() * sizeof(float)), 0);
      }
    }
  }
}

// The CPU back end also runs SelfAttention for up to 4 rows in one hand-off
// (cpu_self_attention.h): bit for bit the op-by-op composition, including the KV cache it
// leaves, with and without biases, both RoPE orderings and cache types, rows of one sequence
// (which must see each other's keys) or of several, on 1-3 threads.
TEST_F(CpuBackendTest, SelfAttentionEqualsTheOpByOpCompositionBitForBit) {
  const int64_t n_embd = 256, n_head = 8, n_head_kv = 2, head_dim = 32, n_ctx = 80;
  const int64_t q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim;
  struct Variant {
    TensorType weights, v_weights, cache;
    bool biases;
    RopeOrdering ordering;
  };
  for (Variant variant :
       {Variant{TensorType::kF32, TensorType::kF32, TensorType::kF32, true, RopeOrdering::kNormal},
        Variant{TensorType::kQ4_K, TensorType::kQ6_K, TensorType::kF16, false,
                RopeOrdering::kNormal},
        Variant{TensorType::kQ8_0, TensorType::kQ8_0, TensorType::kF16, true,
                RopeOrdering::kNeox}}) {
    auto weight = [&](TensorType type, int64_t k, int64_t m, uint32_t seed) {
      return MakeWeight(type, k, m, RandomFloats(k * m, seed, 0.15f));
    };
    auto norm = MakeWeight(TensorType::kF32, n_embd, 1, RandomFloats(n_embd, 40));
    auto wq = weight(variant.weights, n_embd, q_dim, 41);
    auto wk = weight(variant.weights, n_embd, kv_dim, 42);
    auto wv = weight(variant.v_weights, n_embd, kv_dim, 43);
    auto wo = weight(variant.weights, q_dim, n_embd, 44);
    auto bq = MakeWeight(TensorType::kF32, q_dim, 1, RandomFloats(q_dim, 45));
    auto bk = MakeWeight(TensorType::kF32, kv_dim, 1, RandomFloats(kv_dim, 46));
    auto bv = MakeWeight(TensorType::kF32, kv_dim, 1, RandomFloats(kv_dim, 47));
    const SelfAttentionWeights w{norm.get(),
                                 wq.get(),
                                 variant.biases ? bq.get() : nullptr,
                                 wk.get(),
                                 variant.biases ? bk.get() : nullptr,
                                 wv.get(),
                                 variant.biases ? bv.get() : nullptr,
                                 wo.get()};
    const auto [q_rope, k_rope, attention] = Shape(n_head, n_head_kv, head_dim, variant.ordering);
    for (int threads : {1, 2, 3}) {
      auto stream = backend_->CreateStream(threads);
      // Two caches filled alike: a 70-token prefix of sequence 0 and 5 of sequence 1, op by op.
      std::unique_ptr<KvCache> caches[2];
      for (auto& cache : caches) {
        cache = stream->NewKvCache(2, 2, n_ctx, n_head_kv, head_dim, variant.cache);
        std::vector<int32_t> seq, pos;
        for (int32_t p = 0; p < 70; ++p) seq.push_back(0), pos.push_back(p);
        for (int32_t p = 0; p < 5; ++p) seq.push_back(1), pos.push_back(p);
        const auto m = static_cast<int64_t>(pos.size());
        auto k = Upload(*stream, RandomFloats(m * kv_dim, 48), m, kv_dim);
        auto v = Upload(*stream, RandomFloats(m * kv_dim, 49), m, kv_dim);
        stream->StoreKv(*cache, 1, *k, *v, TokenSlots{seq, pos});
      }
      // Batches in turn: one row; two rows of one sequence; rows of both; five rows (op by op).
      const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> batches = {
          {{0}, {70}},
          {{0, 0}, {71, 72}},
          {{1, 0, 1}, {5, 73, 6}},
          {{0, 0, 0, 0, 0}, {74, 75, 76, 77, 78}}};
      uint32_t seed = 60;
      for (const auto& [seq, pos] : batches) {
        const auto n = static_cast<int64_t>(pos.size());
        const auto x0 = RandomFloats(n * n_embd, seed++, 2.0f);
        auto fused = Upload(*stream, x0, n, n_embd);
        auto composed = Upload(*stream, x0, n, n_embd);
        const AttentionTensors tensors = NewAttentionTensors(*stream, n, n_embd, q_dim, kv_dim);
        const SelfAttentionScratch scratch = tensors.scratch();
        const TokenSlots slots{seq, pos};
        stream->SelfAttention(*fused, w, 1e-5f, q_rope, k_rope, attention, *caches[0], 1, slots,
                              scratch);
        stream->ComputeStream::SelfAttention(*composed, w, 1e-5f, q_rope, k_rope, attention,
                                             *caches[1], 1, slots, scratch);
        const auto a = Download(*stream, *fused, n);
        const auto b = Download(*stream, *composed, n);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
            << TypeName(variant.weights) << " threads " << threads << " n " << n;
        EXPECT_NE(std::memcmp(a.data(), x0.data(), a.size() * sizeof(float)), 0);
      }
      ExpectSameCacheRows(*caches[0], *caches[1], 1, 0, 79);  // positions the batches reached
      ExpectSameCacheRows(*caches[0], *caches[1], 1, 1, 7);
    }
  }
}

// DecoderLayers runs all layers in one hand-off on the CPU back end (halves and layers joined by
// barriers, each layer's plan prepared while the one before runs): bit for bit SelfAttention
// then FeedForward op by op for each layer, cache included, for decode-sized batches on 1-3
// threads and for a batch too large to fuse. The layers differ in their weights, and in their
// types where the model mixes them (a Q6_K layer among Q4_K ones, as Q4_K_M files have).
TEST_F(CpuBackendTest, DecoderLayersEqualTheHalvesOpByOpBitForBit) {
  const int64_t n_embd = 256, n_head = 8, n_head_kv = 2, head_dim = 32, n_ctx = 40, n_ff = 544;
  const int64_t q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim;
  for (TensorType type : {TensorType::kQ4_K, TensorType::kQ8_0}) {
    std::vector<std::unique_ptr<DeviceWeight>> storage;
    auto weight = [&](TensorType t, int64_t k, int64_t m, uint32_t seed) {
      storage.push_back(MakeWeight(t, k, m, RandomFloats(k * m, seed, 0.15f)));
      return storage.back().get();
    };
    std::vector<DecoderLayerWeights> layers;
    for (uint32_t l = 0; l < 3; ++l) {
      const uint32_t s = 100 * (l + 1);
      const TensorType mixed = type == TensorType::kQ4_K && l == 1 ? TensorType::kQ6_K : type;
      storage.push_back(MakeWeight(TensorType::kF32, n_embd, 1, RandomFloats(n_embd, s)));
      const DeviceWeight* attn_norm = storage.back().get();
      storage.push_back(MakeWeight(TensorType::kF32, n_embd, 1, RandomFloats(n_embd, s + 1)));
      const DeviceWeight* ffn_norm = storage.back().get();
      layers.push_back(
          {{attn_norm, weight(type, n_embd, q_dim, s + 2), nullptr,
            weight(type, n_embd, kv_dim, s + 3), nullptr, weight(mixed, n_embd, kv_dim, s + 4),
            nullptr, weight(type, q_dim, n_embd, s + 5)},
           {ffn_norm, weight(type, n_embd, n_ff, s + 6), weight(type, n_embd, n_ff, s + 7),
            weight(TensorType::kQ8_0, n_ff, n_embd, s + 8)}});
    }
    const auto [q_rope, k_rope, attention] =
        Shape(n_head, n_head_kv, head_dim, RopeOrdering::kNormal);
    for (int threads : {1, 2, 3}) {
      auto stream = backend_->CreateStream(threads);
      std::unique_ptr<KvCache> caches[2];
      for (auto& cache : caches) {
        cache = stream->NewKvCache(3, 1, n_ctx, n_head_kv, head_dim, TensorType::kF16);
      }
      int32_t next_pos = 0;
      uint32_t seed = 90;
      for (int64_t n : {3, 1, 2, 5, 1}) {
        std::vector<int32_t> seq(static_cast<size_t>(n), 0), pos;
        for (int64_t i = 0; i < n; ++i) pos.push_back(next_pos++);
        const auto x0 = RandomFloats(n * n_embd, seed++, 2.0f);
        auto fused = Upload(*stream, x0, n, n_embd);
        auto composed = Upload(*stream, x0, n, n_embd);
        const AttentionTensors tensors = NewAttentionTensors(*stream, n, n_embd, q_dim, kv_dim);
        auto g = stream->NewTensor(n, n_ff);
        auto u = stream->NewTensor(n, n_ff);
        const SelfAttentionScratch attention_scratch = tensors.scratch();
        const FeedForwardScratch feed_forward_scratch{tensors.xn.get(), g.get(), u.get()};
        const TokenSlots slots{seq, pos};
        stream->DecoderLayers(*fused, layers, 1e-5f, q_rope, k_rope, attention, *caches[0], slots,
                              attention_scratch, feed_forward_scratch);
        for (size_t l = 0; l < layers.size(); ++l) {
          stream->ComputeStream::SelfAttention(*composed, layers[l].attention, 1e-5f, q_rope,
                                               k_rope, attention, *caches[1],
                                               static_cast<int64_t>(l), slots, attention_scratch);
          stream->ComputeStream::FeedForward(*composed, layers[l].feed_forward, 1e-5f, n,
                                             feed_forward_scratch);
        }
        const auto a = Download(*stream, *fused, n);
        const auto b = Download(*stream, *composed, n);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
            << TypeName(type) << " threads " << threads << " n " << n;
        EXPECT_NE(std::memcmp(a.data(), x0.data(), a.size() * sizeof(float)), 0);
      }
      for (int64_t l = 0; l < 3; ++l) ExpectSameCacheRows(*caches[0], *caches[1], l, 0, next_pos);
    }
  }
}

// The CPU back end's MatMulToHost multiplies straight into host memory: the same bits as the
// default's MatMul into the scratch and copy, and the scratch left untouched.
TEST_F(CpuBackendTest, MatMulToHostEqualsMatMulThenCopyAndLeavesTheScratchAlone) {
  const int64_t k = 256, m = 300, n = 3;
  auto w = MakeWeight(TensorType::kQ4_K, k, m, RandomFloats(k * m, 70));
  auto x = Upload(*stream_, RandomFloats(n * k, 71), n, k);
  const std::vector<float> marker(static_cast<size_t>(n * m), -7.0f);
  auto scratch = Upload(*stream_, marker, n, m);
  std::vector<float> direct(static_cast<size_t>(n * m)), via_default(direct.size());
  stream_->MatMulToHost(*w, *x, n, *scratch, direct.data());
  EXPECT_EQ(Download(*stream_, *scratch, n), marker);
  stream_->ComputeStream::MatMulToHost(*w, *x, n, *scratch, via_default.data());
  EXPECT_EQ(std::memcmp(direct.data(), via_default.data(), direct.size() * sizeof(float)), 0);
}

TEST_F(CpuBackendTest, GetRowsDequantizesTheSelectedRows) {
  const int64_t k = 32, rows = 5;
  auto wv = RandomFloats(k * rows, 17);
  auto table = MakeWeight(TensorType::kQ8_0, k, rows, wv);
  const std::vector<int32_t> ids = {4, 0, 4};
  auto out = stream_->NewTensor(3, k);
  stream_->GetRows(*table, ids, *out);
  auto got = Download(*stream_, *out, 3);
  std::vector<float> expect(static_cast<size_t>(k));
  for (size_t i = 0; i < ids.size(); ++i) {
    quant::DequantizeRow(TensorType::kQ8_0,
                         storage_.back().data() + size_t(ids[i]) * RowBytes(TensorType::kQ8_0, k),
                         expect.data(), k);
    EXPECT_EQ(std::memcmp(got.data() + i * k, expect.data(), size_t(k) * sizeof(float)), 0);
  }
  // GatherRows picks rows of an activation tensor.
  auto picked = stream_->NewTensor(2, k);
  const std::vector<int32_t> which = {2, 0};
  stream_->GatherRows(*out, which, *picked);
  auto p = Download(*stream_, *picked, 2);
  EXPECT_EQ(std::memcmp(p.data(), got.data() + 2 * k, size_t(k) * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(p.data() + k, got.data(), size_t(k) * sizeof(float)), 0);
}

TEST_F(CpuBackendTest, PrepareWeightRejectsDataShorterThanTheShape) {
  gguf::TensorInfo info;
  info.name = "blk.0.ffn_down.weight";
  info.shape = {32, 2};
  info.type = TensorType::kQ8_0;
  info.size_bytes = RowBytes(info.type, 32) * 2;
  std::vector<uint8_t> bytes(info.size_bytes);
  EXPECT_TRUE(backend_->PrepareWeight(info, bytes).ok());
  auto truncated = backend_->PrepareWeight(info, std::span<const uint8_t>(bytes.data(), 10));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("blk.0.ffn_down.weight"), std::string::npos);
}

}  // namespace
}  // namespace infernet
