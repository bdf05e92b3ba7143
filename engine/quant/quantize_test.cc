// Quantize -> dequantize error bounds per type on random data. Bounds (per block, with the
// block's stored scale(s) read back from the output):
//   F32: exact.  F16: |err| <= |x| * 2^-11 (normal range).  BF16: |err| <= |x| * 2^-8.
//   Q8_0: |err| <= d/2 (+ float slack), d = the block's scale.
//   Rounding to the nearest level with clamping: |err| <= step/2 + (distance of x outside the
//   representable range [lo, hi]), where per sub-block:
//   Q4_0: step = |d|, range d*[-8, 7] (the extreme maps to -8, its opposite may clip at 7).
//   Q4_K: step = d*sc, range [-dmin*m, 15*d*sc - dmin*m]; RMS error < 8% of the data's RMS.
//   Q6_K: step = |d*sc|, range d*sc*[-32, 31]; the scale search may clip a little for lower
//         total error; RMS error < 2% of the data's RMS.
//   Q8_K (activations): |err| <= d/2 and bsums equal the sums of the quants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/quant/blocks.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/float_convert.h"
#include "engine/quant/quant.h"

namespace infernet::quant {
namespace {

std::vector<float> RandomRow(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  // Spread magnitudes across blocks so per-block scales differ.
  for (int64_t i = 0; i < n; ++i) x[i] *= 1.0f + static_cast<float>((i / 32) % 5);
  return x;
}

std::vector<float> RoundTrip(TensorType type, const std::vector<float>& x,
                             std::vector<uint8_t>* q) {
  const int64_t n = static_cast<int64_t>(x.size());
  q->assign(RowBytes(type, n), 0);
  QuantizeRow(type, x.data(), q->data(), n);
  std::vector<float> y(x.size());
  DequantizeRow(type, q->data(), y.data(), n);
  return y;
}

// Error bound of nearest rounding onto levels `lo + k*step` clamped to [lo, hi].
float RoundingBound(float x, float step, float lo, float hi) {
  const float outside = std::max({0.0f, lo - x, x - hi});
  return (step * 0.5f + outside) * (1 + 1e-3f) + 1e-6f;
}

double RelativeRms(const std::vector<float>& x, const std::vector<float>& y) {
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) num += (x[i] - y[i]) * (x[i] - y[i]), den += x[i] * x[i];
  return std::sqrt(num / den);
}

TEST(Quantize, FloatTypesWithinTheirPrecision) {
  const auto x = RandomRow(1000, 1);
  std::vector<uint8_t> q;
  EXPECT_EQ(RoundTrip(TensorType::kF32, x, &q), x);
  const auto h = RoundTrip(TensorType::kF16, x, &q);
  const auto b = RoundTrip(TensorType::kBF16, x, &q);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(h[i] - x[i]), std::fabs(x[i]) * std::ldexp(1.0f, -11)) << i;
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * std::ldexp(1.0f, -8)) << i;
  }
}

TEST(Quantize, Q8_0ErrorAtMostHalfAStep) {
  const auto x = RandomRow(4096, 2);
  std::vector<uint8_t> q;
  const auto y = RoundTrip(TensorType::kQ8_0, x, &q);
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(q.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = Fp16ToFloat(blocks[i / kQK8_0].d);
    // The fp16-rounded scale may sit 2^-11 relative off the one used to quantize.
    EXPECT_LE(std::fabs(y[i] - x[i]), d * 0.5f + std::fabs(x[i]) * 1e-3f) << i;
  }
}

TEST(Quantize, Q4_0ErrorAtMostHalfAStep) {
  const auto x = RandomRow(4096, 3);
  std::vector<uint8_t> q;
  const auto y = RoundTrip(TensorType::kQ4_0, x, &q);
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(q.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = Fp16ToFloat(blocks[i / kQK4_0].d);
    const float lo = std::min(-8 * d, 7 * d), hi = std::max(-8 * d, 7 * d);
    EXPECT_LE(std::fabs(y[i] - x[i]), RoundingBound(x[i], std::fabs(d), lo, hi)) << i;
  }
  EXPECT_LT(RelativeRms(x, y), 0.12);
}

TEST(Quantize, Q4_KLowError) {
  const auto x = RandomRow(4096, 4);
  std::vector<uint8_t> q;
  const auto y = RoundTrip(TensorType::kQ4_K, x, &q);
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(q.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const BlockQ4_K& b = blocks[i / kQK_K];
    uint8_t sc[8], m[8];
    internal::UnpackQ4KScales(b.scales, sc, m);
    const int j = static_cast<int>(i % kQK_K) / 32;
    const float step = Fp16ToFloat(b.d) * sc[j], offset = Fp16ToFloat(b.dmin) * m[j];
    EXPECT_LE(std::fabs(y[i] - x[i]), RoundingBound(x[i], step, -offset, 15 * step - offset)) << i;
  }
  EXPECT_LT(RelativeRms(x, y), 0.08);
}

TEST(Quantize, Q6_KLowError) {
  const auto x = RandomRow(4096, 5);
  std::vector<uint8_t> q;
  const auto y = RoundTrip(TensorType::kQ6_K, x, &q);
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(q.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const BlockQ6_K& b = blocks[i / kQK_K];
    const float s = Fp16ToFloat(b.d) * b.scales[(i % kQK_K) / 16];
    const float lo = std::min(-32 * s, 31 * s), hi = std::max(-32 * s, 31 * s);
    EXPECT_LE(std::fabs(y[i] - x[i]), RoundingBound(x[i], std::fabs(s), lo, hi)) << i;
  }
  EXPECT_LT(RelativeRms(x, y), 0.02);
}

TEST(Quantize, Q8_KActivationsCarryExactGroupSums) {
  const auto x = RandomRow(1024, 6);
  std::vector<uint8_t> q(ActivationRowBytes(TensorType::kQ4_K, 1024));
  QuantizeActivationRow(TensorType::kQ4_K, x.data(), q.data(), 1024);
  const auto* blocks = reinterpret_cast<const BlockQ8_K*>(q.data());
  for (int b = 0; b < 4; ++b) {
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blocks[b].qs[16 * g + i];
      EXPECT_EQ(blocks[b].bsums[g], sum);
    }
    for (int i = 0; i < kQK_K; ++i) {
      EXPECT_LE(std::fabs(blocks[b].d * blocks[b].qs[i] - x[b * kQK_K + i]),
                blocks[b].d * 0.5f * (1 + 1e-5f));
    }
  }
}

TEST(Quantize, ZeroRowsStayZero) {
  const std::vector<float> x(512, 0.0f);
  for (TensorType t : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K, TensorType::kQ6_K,
                       TensorType::kQ8_K}) {
    std::vector<uint8_t> q;
    EXPECT_EQ(RoundTrip(t, x, &q), x) << TypeName(t);
  }
}

TEST(Quantize, ActivationTypes) {
  EXPECT_EQ(ActivationType(TensorType::kF32), TensorType::kF32);
  EXPECT_EQ(ActivationType(TensorType::kF16), TensorType::kF32);
  // BF16 activations at the AVX512_BF16 kernel level (vec_dot_test.cc), F32 below it.
  EXPECT_EQ(ActivationType(TensorType::kBF16),
            internal::ActiveKernelLevel() == internal::KernelLevel::kAvx512Bf16 ? TensorType::kBF16
                                                                                : TensorType::kF32);
  EXPECT_EQ(ActivationType(TensorType::kQ4_0), TensorType::kQ8_0);
  EXPECT_EQ(ActivationType(TensorType::kQ8_0), TensorType::kQ8_0);
  EXPECT_EQ(ActivationType(TensorType::kQ4_K), TensorType::kQ8_K);
  EXPECT_EQ(ActivationType(TensorType::kQ6_K), TensorType::kQ8_K);
}

}  // namespace
}  // namespace infernet::quant

namespace infernet::quant {
namespace {

// Rows that exercise the rounding: random data, exact ties (k + 0.5 after scaling), zeros, a
// single huge value, denormals.
std::vector<std::vector<float>> ActivationRows(int64_t n) {
  std::vector<std::vector<float>> rows;
  for (uint32_t seed = 1; seed <= 20; ++seed) rows.push_back(RandomRow(n, seed, 0.1f * seed));
  std::vector<float> ties(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ties[i] = static_cast<float>(i % 255) - 127.0f + 0.5f * (i % 2);
  rows.push_back(ties);
  rows.push_back(std::vector<float>(static_cast<size_t>(n), 0.0f));
  std::vector<float> spike(static_cast<size_t>(n), 1e-3f);
  spike[static_cast<size_t>(n / 3)] = -3e4f;
  rows.push_back(spike);
  rows.push_back(std::vector<float>(static_cast<size_t>(n), 1e-40f));
  return rows;
}

TEST(Quantize, ActivationRowsAreTheSameBytesAtEveryKernelLevel) {
  if (!internal::CpuHasAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const int64_t n = 4 * kQK_K;
  for (TensorType weight : {TensorType::kQ8_0, TensorType::kQ4_K, TensorType::kQ6_K}) {
    const TensorType act = ActivationType(weight);
    for (const std::vector<float>& x : ActivationRows(n)) {
      std::vector<uint8_t> scalar(RowBytes(act, n)), fast(RowBytes(act, n), 0xAA);
      QuantizeRow(act, x.data(), scalar.data(), n);
      internal::ForceKernelLevelForTesting(internal::KernelLevel::kAvx512);
      QuantizeActivationRow(weight, x.data(), fast.data(), n);
      ASSERT_EQ(scalar, fast) << "activation type " << static_cast<int>(act);
    }
  }
  internal::ForceKernelLevelForTesting(internal::kBestKernelLevel);
}

}  // namespace
}  // namespace infernet::quant
