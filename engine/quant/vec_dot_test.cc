// VecDot/VecDotTile against their references: the scalar twin (tight tolerance), a float64 dot
// of the dequantized operands, and VecDot itself (bit-identical tiles). Every kernel level the
// CPU supports (scalar, AVX2, AVX-512, AVX-512 with BF16) runs the whole suite.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/quant/dispatch.h"
#include "engine/quant/quant.h"

namespace infernet::quant {
namespace {

constexpr TensorType kWeightTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
                                       TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                                       TensorType::kQ6_K};

// A matrix of `rows` quantized weight rows and `cols` prepared activation rows of length n,
// each row placed `pad` bytes apart from the next to exercise strides.
struct Operands {
  Operands(TensorType type, int64_t n, int rows, int cols, uint32_t seed, size_t pad = 0)
      : type(type), n(n) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n));
    w_stride = RowBytes(type, n) + pad;
    a_stride = ActivationRowBytes(type, n) + pad;
    w.assign(w_stride * rows, 0);
    a.assign(a_stride * cols, 0);
    for (int r = 0; r < rows; ++r) {
      for (float& v : x) v = dist(rng) * (1 + r % 3);
      QuantizeRow(type, x.data(), w.data() + r * w_stride, n);
    }
    for (int c = 0; c < cols; ++c) {
      for (float& v : x) v = dist(rng) * (1 + c % 4);
      QuantizeActivationRow(type, x.data(), a.data() + c * a_stride, n);
    }
  }
  const void* W(int r) const { return w.data() + r * w_stride; }
  const void* A(int c) const { return a.data() + c * a_stride; }

  // Sum of |w_i * a_i| over dequantized operands, and the float64 dot of them.
  void Reference(int r, int c, double* dot, double* magnitude) const {
    std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
    DequantizeRow(type, W(r), wf.data(), n);
    DequantizeRow(ActivationType(type), A(c), af.data(), n);
    *dot = 0, *magnitude = 0;
    for (int64_t i = 0; i < n; ++i) {
      *dot += double(wf[i]) * af[i];
      *magnitude += std::fabs(double(wf[i]) * af[i]);
    }
  }

  TensorType type;
  int64_t n;
  size_t w_stride, a_stride;
  std::vector<uint8_t> w, a;
};

std::vector<int64_t> Lengths(TensorType type) {
  if (Traits(type).block_elems == 1) return {1, 7, 8, 15, 16, 17, 40, 256, 1000, 4096};
  const int64_t b = std::max<int64_t>(Traits(type).block_elems, 256);
  return {b, 2 * b, 3 * b, 4096, 5 * b};
}

std::vector<internal::KernelLevel> SupportedLevels() {
  std::vector<internal::KernelLevel> levels;
  for (auto level : {internal::KernelLevel::kScalar, internal::KernelLevel::kAvx2,
                     internal::KernelLevel::kAvx512, internal::KernelLevel::kAvx512Bf16}) {
    if (level <= internal::CpuKernelLevel()) levels.push_back(level);
  }
  return levels;
}

// Runs each test with the kernels of one level, then restores the default dispatch.
class AtKernelLevel : public ::testing::TestWithParam<internal::KernelLevel> {
 protected:
  void SetUp() override {
    internal::ForceKernelLevelForTesting(GetParam());
    ASSERT_EQ(internal::ActiveKernelLevel(), GetParam());
  }
  void TearDown() override { internal::ForceKernelLevelForTesting(internal::kBestKernelLevel); }
};
class VecDotAtLevel : public AtKernelLevel {};
class VecDotTileAtLevel : public AtKernelLevel {};

TEST_P(VecDotAtLevel, MatchesScalarTwinAndFloat64Reference) {
  for (TensorType type : kWeightTypes) {
    for (int64_t n : Lengths(type)) {
      const Operands ops(type, n, 3, 2, static_cast<uint32_t>(n));
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 2; ++c) {
          double ref, mag;
          ops.Reference(r, c, &ref, &mag);
          const float fast = VecDot(type, n, ops.W(r), ops.A(c));
          const float scalar = VecDotScalar(type, n, ops.W(r), ops.A(c));
          // Only summation order differs: a few float ulps of the sum of magnitudes.
          const double tol = 1e-5 * mag + 1e-30;
          EXPECT_NEAR(fast, scalar, tol) << TypeName(type) << " n=" << n;
          EXPECT_NEAR(fast, ref, tol) << TypeName(type) << " n=" << n;
          EXPECT_NEAR(scalar, ref, tol) << TypeName(type) << " n=" << n;
        }
      }
    }
  }
}

// Quantized products approximate the exact float product (activation quantization included).
TEST_P(VecDotAtLevel, ApproximatesUnquantizedProduct) {
  const int64_t n = 1024;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(n), a(n);
  for (float& v : w) v = dist(rng);
  for (float& v : a) v = dist(rng);
  double exact = 0, mag = 0;
  for (int64_t i = 0; i < n; ++i) exact += double(w[i]) * a[i], mag += std::fabs(w[i] * a[i]);
  for (TensorType type : kWeightTypes) {
    std::vector<uint8_t> wq(RowBytes(type, n)), aq(ActivationRowBytes(type, n));
    QuantizeRow(type, w.data(), wq.data(), n);
    QuantizeActivationRow(type, a.data(), aq.data(), n);
    EXPECT_NEAR(VecDot(type, n, wq.data(), aq.data()), exact, 0.05 * mag) << TypeName(type);
  }
}

void ExpectTileMatchesVecDot(TensorType type, int64_t n, int rows, int cols, size_t pad) {
  const Operands ops(type, n, rows, cols, static_cast<uint32_t>(rows * 31 + cols), pad);
  const size_t out_stride = static_cast<size_t>(rows) + 3;
  std::vector<float> tile(out_stride * cols, -1.0f);
  VecDotTile(type, n, ops.w.data(), ops.w_stride, rows, ops.a.data(), ops.a_stride, cols,
             tile.data(), out_stride);
  for (int c = 0; c < cols; ++c) {
    for (int r = 0; r < rows; ++r) {
      const float single = VecDot(type, n, ops.W(r), ops.A(c));
      ASSERT_EQ(std::memcmp(&single, &tile[c * out_stride + r], sizeof(float)), 0)
          << TypeName(type) << " n=" << n << " tile " << rows << "x" << cols << " at " << r << ","
          << c;
    }
    for (size_t r = static_cast<size_t>(rows); r < out_stride; ++r) {
      EXPECT_EQ(tile[c * out_stride + r], -1.0f) << "wrote outside the tile";
    }
  }
}

TEST_P(VecDotTileAtLevel, BitIdenticalToVecDotForEveryShape) {
  for (TensorType type : kWeightTypes) {
    const int64_t n = Traits(type).block_elems == 1 ? 77 : 2 * 256;
    for (int rows : {1, 2, 3, 4, 5, 7, 9}) {
      for (int cols : {1, 2, 3, 4, 5, 6, 7, 8}) ExpectTileMatchesVecDot(type, n, rows, cols, 0);
    }
    ExpectTileMatchesVecDot(type, n, 24, 12, 0);  // the blocks cpu::MatMul hands out
    // Single columns of many rows (Q4_K's AVX-512 kernel runs up to 24 rows per call).
    for (int rows : {13, 24, 30}) ExpectTileMatchesVecDot(type, n, rows, 1, 0);
    ExpectTileMatchesVecDot(type, n, 26, 1, 64);
    ExpectTileMatchesVecDot(type, n, 6, 5, 64);  // rows not packed back to back
    ExpectTileMatchesVecDot(type, Traits(type).block_elems == 1 ? 4096 : 4096, 5, 3, 0);
  }
}

// Block counts that are not a multiple of the kernels' unroll (pairs and single tail blocks of
// Q4_0/Q8_0): still bit-identical tiles and close to the scalar twin.
TEST_P(VecDotTileAtLevel, OddBlockCountsMatchVecDotAndScalarTwin) {
  for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0}) {
    for (int64_t blocks : {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13}) {
      const int64_t n = blocks * Traits(type).block_elems;
      ExpectTileMatchesVecDot(type, n, 5, 3, 0);
      const Operands ops(type, n, 2, 2, static_cast<uint32_t>(blocks));
      for (int r = 0; r < 2; ++r) {
        for (int c = 0; c < 2; ++c) {
          double ref, mag;
          ops.Reference(r, c, &ref, &mag);
          EXPECT_NEAR(VecDot(type, n, ops.W(r), ops.A(c)),
                      VecDotScalar(type, n, ops.W(r), ops.A(c)), 1e-5 * mag + 1e-30)
              << TypeName(type) << " n=" << n;
        }
      }
    }
  }
}

class ScalarKernels : public ::testing::Test {
 protected:
  void SetUp() override { internal::ForceScalarKernelsForTesting(true); }
  void TearDown() override { internal::ForceScalarKernelsForTesting(false); }
};

TEST_F(ScalarKernels, ForcedScalarDispatchUsesTheScalarTwin) {
  EXPECT_FALSE(UsingAvx2());
  for (TensorType type : kWeightTypes) {
    const Operands ops(type, 512, 3, 2, 11);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 2; ++c) {
        const float a = VecDot(type, 512, ops.W(r), ops.A(c));
        const float b = VecDotScalar(type, 512, ops.W(r), ops.A(c));
        EXPECT_EQ(std::memcmp(&a, &b, sizeof(float)), 0) << TypeName(type);
      }
    }
    ExpectTileMatchesVecDot(type, 512, 5, 3, 8);
  }
}

// Element counts that leave 1..31 elements after the float kernels' widest step.
TEST_P(VecDotAtLevel, FloatTailsMatchScalarTwinAndTiles) {
  for (TensorType type : {TensorType::kF32, TensorType::kF16, TensorType::kBF16}) {
    for (int64_t n : {1, 5, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 95, 127}) {
      ExpectTileMatchesVecDot(type, n, 5, 3, 4);
      const Operands ops(type, n, 1, 1, static_cast<uint32_t>(n));
      double ref, mag;
      ops.Reference(0, 0, &ref, &mag);
      EXPECT_NEAR(VecDot(type, n, ops.W(0), ops.A(0)), VecDotScalar(type, n, ops.W(0), ops.A(0)),
                  1e-5 * mag + 1e-30)
          << TypeName(type) << " n=" << n;
    }
  }
}

// Extreme quants: all-maximum magnitudes of both signs stay exact in the integer dot products
// (no int16 overflow in the scale step, no sign-handling error).
TEST_P(VecDotAtLevel, ExtremeQuantsMatchScalarTwin) {
  const int64_t n = 1024;
  for (TensorType type :
       {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K, TensorType::kQ6_K}) {
    for (float sign : {1.0f, -1.0f}) {
      std::vector<float> w(n), a(n);
      for (int64_t i = 0; i < n; ++i) {
        w[i] = (i % 7 == 0 ? -1.0f : 1.0f) * (i % 2 == 0 ? 1.0f : 0.999f);
        a[i] = sign * (i % 2 == 0 ? 1.0f : 0.998f);
      }
      std::vector<uint8_t> wq(RowBytes(type, n)), aq(ActivationRowBytes(type, n));
      QuantizeRow(type, w.data(), wq.data(), n);
      QuantizeActivationRow(type, a.data(), aq.data(), n);
      const float fast = VecDot(type, n, wq.data(), aq.data());
      const float scalar = VecDotScalar(type, n, wq.data(), aq.data());
      EXPECT_NEAR(fast, scalar, 1e-5 * n) << TypeName(type) << " sign " << sign;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, VecDotAtLevel, ::testing::ValuesIn(SupportedLevels()),
                         [](const auto& info) { return internal::KernelLevelName(info.param); });
INSTANTIATE_TEST_SUITE_P(Levels, VecDotTileAtLevel, ::testing::ValuesIn(SupportedLevels()),
                         [](const auto& info) { return internal::KernelLevelName(info.param); });

TEST(KernelDispatch, ReportsAvx2WhenTheCpuHasIt) { EXPECT_EQ(UsingAvx2(), internal::CpuHasAvx2()); }

TEST(KernelDispatch, UsesTheBestLevelTheCpuSupportsByDefault) {
  EXPECT_EQ(internal::ActiveKernelLevel(), internal::CpuKernelLevel());
  if (internal::CpuHasAvx512()) {
    EXPECT_TRUE(internal::CpuHasAvx2());
    EXPECT_GE(internal::CpuKernelLevel(), internal::KernelLevel::kAvx512);
  }
  EXPECT_EQ(internal::CpuKernelLevel() == internal::KernelLevel::kAvx512Bf16,
            internal::CpuHasAvx512Bf16());
  if (internal::CpuHasAvx512Bf16()) {
    EXPECT_TRUE(internal::CpuHasAvx512());
  }
}

// BF16 weights take BF16 activations exactly when the AVX512_BF16 kernels are in use, and F32
// (multiplied exactly as widened floats) below that level.
TEST(KernelDispatch, Bf16WeightsTakeBf16ActivationsOnlyAtTheBf16Level) {
  for (auto level : SupportedLevels()) {
    internal::ForceKernelLevelForTesting(level);
    EXPECT_EQ(ActivationType(TensorType::kBF16),
              level == internal::KernelLevel::kAvx512Bf16 ? TensorType::kBF16 : TensorType::kF32)
        << internal::KernelLevelName(level);
  }
  internal::ForceKernelLevelForTesting(internal::kBestKernelLevel);
}

// The AVX-512 conversion of activation rows to BF16 gives the bytes of the scalar QuantizeRow:
// ties to even, values that round up into the next binade or to infinity, infinities, NaNs
// (kept NaN), subnormals and zeros of both signs, over lengths with every tail size.
TEST(KernelDispatch, Bf16ActivationRowsAreTheScalarBytes) {
  if (!internal::CpuHasAvx512Bf16()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  const float special[] = {0.0f,
                           -0.0f,
                           1.0f + 0x1p-8f,  // tie, rounds down to even
                           1.0f + 0x3p-8f,  // tie, rounds up to even
                           -(1.0f + 0x3p-8f),
                           0x1.ffffp0f,  // rounds up into the next binade
                           3.4e38f,      // rounds to infinity
                           INFINITY,
                           -INFINITY,
                           NAN,
                           -NAN,
                           std::bit_cast<float>(0x7f800001u),  // signalling NaN, low payload
                           1e-40f,
                           -1e-45f,
                           1.1754942e-38f};
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (int64_t n : {1, 7, 15, 16, 17, 31, 33, 100, 4096}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      x[i] = i % 3 == 0 ? special[(i / 3) % std::size(special)] : dist(rng);
    }
    std::vector<uint8_t> scalar(RowBytes(TensorType::kBF16, n));
    std::vector<uint8_t> fast(RowBytes(TensorType::kBF16, n) + 2, 0xAA);
    QuantizeRow(TensorType::kBF16, x.data(), scalar.data(), n);
    internal::ForceKernelLevelForTesting(internal::KernelLevel::kAvx512Bf16);
    QuantizeActivationRow(TensorType::kBF16, x.data(), fast.data(), n);
    EXPECT_EQ(std::memcmp(scalar.data(), fast.data(), scalar.size()), 0) << "n=" << n;
    EXPECT_EQ(fast[scalar.size()], 0xAA) << "wrote past the row, n=" << n;
  }
  internal::ForceKernelLevelForTesting(internal::kBestKernelLevel);
}

}  // namespace
}  // namespace infernet::quant
