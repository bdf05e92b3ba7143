#include "engine/cpu/float_exp.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace infernet::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Distance in representable floats between two finite, non-negative floats.
int64_t UlpDistance(float a, float b) {
  return std::abs(int64_t{std::bit_cast<int32_t>(a)} - int64_t{std::bit_cast<int32_t>(b)});
}

bool SameBits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }

std::vector<float> RandomVector(int64_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(FloatExpTest, IsWithinOneUlpOfTheCorrectlyRoundedValueOverTheWholeNormalRange) {
  int64_t worst = 0;
  float worst_x = 0;
  int64_t checked = 0;
  // Every 97th float from ln(FLT_MIN) to ln(FLT_MAX): about 11 million arguments.
  const int32_t lo_bits = std::bit_cast<int32_t>(-87.33654f);
  for (int32_t b = lo_bits; b > 0; b -= 97) {  // negative floats, towards -0
    const float x = std::bit_cast<float>(b);
    const int64_t d = UlpDistance(ExpF32(x), static_cast<float>(std::exp(double{x})));
    if (d > worst) worst = d, worst_x = x;
    ++checked;
  }
  const int32_t hi_bits = std::bit_cast<int32_t>(88.7228f);
  for (int32_t b = 0; b <= hi_bits; b += 97) {
    const float x = std::bit_cast<float>(b);
    const int64_t d = UlpDistance(ExpF32(x), static_cast<float>(std::exp(double{x})));
    if (d > worst) worst = d, worst_x = x;
    ++checked;
  }
  EXPECT_GT(checked, 10'000'000);
  EXPECT_LE(worst, 1) << "at x = " << worst_x;
}

TEST(FloatExpTest, HandlesZeroInfinitiesNanAndTheRangeEnds) {
  EXPECT_EQ(ExpF32(0.0f), 1.0f);
  EXPECT_EQ(ExpF32(-0.0f), 1.0f);
  EXPECT_EQ(ExpF32(kInf), kInf);
  EXPECT_EQ(ExpF32(-kInf), 0.0f);
  EXPECT_EQ(ExpF32(100.0f), kInf);
  EXPECT_EQ(ExpF32(-100.0f), 0.0f);  // subnormal results are flushed
  EXPECT_TRUE(std::isnan(ExpF32(std::numeric_limits<float>::quiet_NaN())));
  const float max_arg = 88.72283172607422f;  // the largest float whose e^x is finite
  EXPECT_TRUE(std::isfinite(ExpF32(max_arg)));
  EXPECT_LE(UlpDistance(ExpF32(max_arg), static_cast<float>(std::exp(double{max_arg}))), 2);
  EXPECT_EQ(ExpF32(std::nextafter(max_arg, kInf)), kInf);
  const float min_arg = -87.33654022216797f;
  EXPECT_GE(ExpF32(min_arg), std::numeric_limits<float>::min() * 0.99f);
}

// Inputs of every length class (whole vectors, tails) with specials mixed in.
std::vector<std::vector<float>> KernelInputs() {
  std::vector<std::vector<float>> inputs;
  for (int64_t n : {1, 5, 8, 9, 16, 63, 64, 131}) {
    inputs.push_back(RandomVector(n, static_cast<uint32_t>(n), -30.0f, 30.0f));
  }
  auto special = RandomVector(37, 99, -5.0f, 5.0f);
  special[3] = kInf;
  special[9] = -kInf;
  special[17] = std::numeric_limits<float>::quiet_NaN();
  special[20] = -0.0f;
  special[30] = 95.0f;
  special[33] = -120.0f;
  inputs.push_back(special);
  return inputs;
}

TEST(FloatExpTest, VectorKernelsEqualTheirScalarTwinsBitForBit) {
  for (const auto& input : KernelInputs()) {
    const auto n = static_cast<int64_t>(input.size());
    auto a = input, b = input;
    const float max_a = ScaleAndMax(a.data(), n, 0.125f);
    const float max_b = ScaleAndMaxScalar(b.data(), n, 0.125f);
    EXPECT_TRUE(SameBits(max_a, max_b)) << n;
    const float shift = std::isfinite(max_a) ? max_a : 1.0f;
    const float sum_a = ExpShiftedAndSum(a.data(), n, shift);
    const float sum_b = ExpShiftedAndSumScalar(b.data(), n, shift);
    EXPECT_TRUE(SameBits(sum_a, sum_b)) << n;
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << n;
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_TRUE(SameBits(b[size_t(i)], ExpF32(input[size_t(i)] * 0.125f - shift))) << i;
    }

    auto up = RandomVector(n, 7, -2.0f, 2.0f);
    std::vector<float> out_a(input.size()), out_b(input.size());
    SwiGluF32(input.data(), up.data(), out_a.data(), n);
    SwiGluF32Scalar(input.data(), up.data(), out_b.data(), n);
    EXPECT_EQ(std::memcmp(out_a.data(), out_b.data(), out_a.size() * sizeof(float)), 0) << n;
  }
}

TEST(FloatExpTest, SoftmaxPiecesMatchDoublePrecision) {
  auto x = RandomVector(131, 3, -8.0f, 8.0f);
  std::vector<double> expect(x.begin(), x.end());
  double max_expect = -1e300;
  for (double& e : expect) max_expect = std::max(max_expect, e *= 0.5);
  const float max_got = ScaleAndMax(x.data(), 131, 0.5f);
  EXPECT_EQ(double{max_got}, max_expect);  // scaling by 0.5 is exact, so is the maximum
  // The kernel subtracts in float; from there on the reference is exact.
  double sum_expect = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sum_expect += (expect[i] = std::exp(double{x[i] - max_got}));
  const float sum_got = ExpShiftedAndSum(x.data(), 131, max_got);
  EXPECT_NEAR(sum_got, sum_expect, 1e-6 * sum_expect);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(UlpDistance(x[i], static_cast<float>(expect[i])), 2) << i;
  }
}

TEST(FloatExpTest, SwiGluMatchesDoublePrecisionAndMayWriteOverItsGate) {
  auto g = RandomVector(77, 11, -12.0f, 12.0f);
  auto u = RandomVector(77, 12, -3.0f, 3.0f);
  std::vector<double> expect(g.size());
  for (size_t i = 0; i < g.size(); ++i) expect[i] = g[i] / (1.0 + std::exp(-double{g[i]})) * u[i];
  SwiGluF32(g.data(), u.data(), g.data(), 77);
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_NEAR(g[i], expect[i], 1e-6 * std::abs(expect[i]) + 1e-12) << i;
  }
}

}  // namespace
}  // namespace infernet::cpu
