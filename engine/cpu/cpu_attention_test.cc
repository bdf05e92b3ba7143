// CausalAttention against its definition, head by head, bit for bit.
#include "engine/cpu/cpu_attention.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/cpu/float_exp.h"
#include "engine/cpu/float_vector.h"
#include "engine/quant/float_convert.h"

namespace infernet::cpu {
namespace {

void FillRandom(float* p, int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.5f, 1.5f);
  for (int64_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// One query head over positions 0..len-1, computed as cpu_attention.h defines it.
std::vector<float> HeadByDefinition(const float* q, const float* k, const float* v, int64_t len,
                                    int64_t head_dim, float scale) {
  std::vector<float> s(static_cast<size_t>(len));
  for (int64_t j = 0; j < len; ++j) s[size_t(j)] = DotF32(q, k + j * head_dim, head_dim);
  const float max_score = ScaleAndMax(s.data(), len, scale);
  const float inv = 1.0f / ExpShiftedAndSum(s.data(), len, max_score);
  std::vector<float> out(static_cast<size_t>(head_dim), 0.0f);
  for (int64_t j = 0; j < len; ++j) AxpyF32(s[size_t(j)], v + j * head_dim, out.data(), head_dim);
  for (float& o : out) o *= inv;
  return out;
}

// The values a cache of `type` holds for `x`: F16 rounds to nearest even.
std::vector<float> AsStored(std::vector<float> x, TensorType type) {
  if (type == TensorType::kF16) {
    for (float& f : x) f = quant::Fp16ToFloat(quant::FloatToFp16(f));
  }
  return x;
}

// Contexts longer than the kernel's blocks of positions, groups of 1, 3 and 4 heads, and head
// sizes with and without a tail of 8 lanes, over 1 and 3 threads, with F32 and F16 caches.
TEST(CpuAttentionTest, EqualsTheHeadByHeadDefinitionBitForBit) {
  struct Shape {
    int64_t n_head, n_head_kv, head_dim;
  };
  for (TensorType type : {TensorType::kF32, TensorType::kF16}) {
    for (Shape shape : {Shape{3, 3, 64}, Shape{12, 4, 64}, Shape{8, 2, 20}}) {
      for (int threads : {1, 3}) {
        const AttentionParams p{shape.n_head, shape.n_head_kv, shape.head_dim, 0.125f};
        const int64_t n_ctx = 203, layer = 1, q_dim = p.n_head * p.head_dim;
        CpuKvCache cache(2, 2, n_ctx, p.n_head_kv, p.head_dim, type);
        std::mt19937 rng(static_cast<uint32_t>(shape.n_head * 100 + threads));
        // Keys and values as the cache holds them, [seq][kv head].
        std::vector<float> stored_k[2][4], stored_v[2][4];
        for (int64_t seq = 0; seq < 2; ++seq) {
          for (int64_t g = 0; g < p.n_head_kv; ++g) {
            std::vector<float> k(static_cast<size_t>(n_ctx * p.head_dim)), v(k.size());
            FillRandom(k.data(), n_ctx * p.head_dim, rng);
            FillRandom(v.data(), n_ctx * p.head_dim, rng);
            cache.StoreK(layer, seq, g, 0, n_ctx, k.data());
            cache.StoreV(layer, seq, g, 0, n_ctx, v.data());
            stored_k[seq][g] = AsStored(k, type);
            stored_v[seq][g] = AsStored(v, type);
          }
        }
        // Rows at positions inside, at and across block edges, in both sequences.
        const std::vector<int32_t> seq = {0, 1, 0, 1, 0};
        const std::vector<int32_t> pos = {0, 63, 64, 130, 202};
        const auto n = static_cast<int64_t>(pos.size());
        CpuTensor q(n, q_dim), out(n, q_dim);
        FillRandom(q.data(), n * q_dim, rng);
        ThreadPool pool(threads);
        std::vector<std::vector<float>> scores;
        CausalAttention(pool, scores, q, cache, layer, TokenSlots{seq, pos}, p, out);

        const int64_t group = p.n_head / p.n_head_kv;
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t h = 0; h < p.n_head; ++h) {
            const size_t s_i = static_cast<size_t>(seq[size_t(i)]);
            const auto g = static_cast<size_t>(h / group);
            const auto expect =
                HeadByDefinition(q.row(i) + h * p.head_dim, stored_k[s_i][g].data(),
                                 stored_v[s_i][g].data(), pos[size_t(i)] + 1, p.head_dim, p.scale);
            EXPECT_EQ(std::memcmp(out.row(i) + h * p.head_dim, expect.data(),
                                  expect.size() * sizeof(float)),
                      0)
                << TypeName(type) << " row " << i << " head " << h << " threads " << threads;
          }
        }
      }
    }
  }
}

TEST(CpuAttentionTest, F16CacheHoldsHalfTheBytes) {
  const CpuKvCache f32(2, 1, 16, 2, 64, TensorType::kF32);
  const CpuKvCache f16(2, 1, 16, 2, 64, TensorType::kF16);
  EXPECT_EQ(f32.size_bytes(), 2u * 2 * 16 * 2 * 64 * sizeof(float));
  EXPECT_EQ(f16.size_bytes() * 2, f32.size_bytes());
}

}  // namespace
}  // namespace infernet::cpu
