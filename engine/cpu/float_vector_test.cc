#include "engine/cpu/float_vector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/quant/float_convert.h"

namespace infernet::cpu {
namespace {

std::vector<float> RandomVector(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(FloatVectorTest, DotMatchesDoubleAndItsScalarTwinBitForBit) {
  for (int64_t n : {1, 7, 8, 9, 64, 128, 131}) {
    auto a = RandomVector(n, 1);
    auto b = RandomVector(n, 2);
    double expect = 0;
    for (int64_t i = 0; i < n; ++i) expect += double(a[size_t(i)]) * b[size_t(i)];
    const float got = DotF32(a.data(), b.data(), n);
    EXPECT_NEAR(got, expect, 1e-5 * n) << n;
    const float scalar = DotF32Scalar(a.data(), b.data(), n);
    EXPECT_EQ(std::memcmp(&got, &scalar, sizeof(float)), 0) << n;
  }
}

TEST(FloatVectorTest, AxpyMatchesDoubleAndItsScalarTwinBitForBit) {
  for (int64_t n : {1, 8, 13, 128}) {
    auto x = RandomVector(n, 3);
    auto y = RandomVector(n, 4);
    auto y_scalar = y;
    std::vector<double> expect(y.begin(), y.end());
    for (int64_t i = 0; i < n; ++i) expect[size_t(i)] += 0.75 * x[size_t(i)];
    AxpyF32(0.75f, x.data(), y.data(), n);
    AxpyF32Scalar(0.75f, x.data(), y_scalar.data(), n);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[size_t(i)], expect[size_t(i)], 1e-6);
    EXPECT_EQ(std::memcmp(y.data(), y_scalar.data(), y.size() * sizeof(float)), 0);
  }
}

TEST(FloatVectorTest, RowVariantsEqualOneRowAtATimeBitForBit) {
  for (int64_t n : {5, 8, 64, 131}) {
    for (int64_t rows : {1, 3, 4, 9, 70}) {
      const int64_t stride = n + 3;
      auto a = RandomVector(n, 5);
      auto b = RandomVector(rows * stride, 6);
      std::vector<float> together(static_cast<size_t>(rows));
      DotF32Rows(a.data(), b.data(), stride, rows, n, together.data());
      for (int64_t r = 0; r < rows; ++r) {
        const float alone = DotF32(a.data(), b.data() + r * stride, n);
        EXPECT_EQ(std::memcmp(&together[size_t(r)], &alone, sizeof(float)), 0) << n << " " << r;
      }

      auto alpha = RandomVector(rows, 7);
      auto y_rows = RandomVector(n, 8);
      auto y_each = y_rows;
      AxpyF32Rows(alpha.data(), b.data(), stride, rows, y_rows.data(), n);
      for (int64_t r = 0; r < rows; ++r) {
        AxpyF32Scalar(alpha[size_t(r)], b.data() + r * stride, y_each.data(), n);
      }
      EXPECT_EQ(std::memcmp(y_rows.data(), y_each.data(), y_rows.size() * sizeof(float)), 0)
          << n << " " << rows;
    }
  }
}

// The group kernels take 1-4 heads at a time (more in several passes), 8- or 4-row tiles and a
// scalar path for n % 8 != 0; every (head, row) must still be the one-at-a-time result.
TEST(FloatVectorTest, HeadGroupVariantsEqualOneHeadAtATimeBitForBit) {
  for (int64_t n : {8, 12, 64, 128}) {
    for (int64_t heads : {1, 2, 3, 4, 5, 7, 8}) {
      for (int64_t rows : {1, 5, 8, 13, 64}) {
        const int64_t stride = n + 8;
        const int64_t out_stride = rows + 3;
        auto q = RandomVector(heads * n, 9);
        auto k = RandomVector(rows * stride, 10);
        std::vector<float> together(static_cast<size_t>(heads * out_stride), -1.0f);
        DotF32RowsHeads(q.data(), heads, k.data(), stride, rows, n, together.data(), out_stride);
        for (int64_t h = 0; h < heads; ++h) {
          for (int64_t r = 0; r < rows; ++r) {
            const float alone = DotF32(q.data() + h * n, k.data() + r * stride, n);
            const float got = together[size_t(h * out_stride + r)];
            EXPECT_EQ(std::memcmp(&got, &alone, sizeof(float)), 0)
                << "n " << n << " heads " << heads << " rows " << rows << " at " << h << "," << r;
          }
        }

        auto alpha = RandomVector(heads * out_stride, 11);
        auto y_together = RandomVector(heads * n, 12);
        auto y_each = y_together;
        AxpyF32RowsHeads(alpha.data(), out_stride, heads, k.data(), stride, rows, y_together.data(),
                         n);
        for (int64_t h = 0; h < heads; ++h) {
          for (int64_t r = 0; r < rows; ++r) {
            AxpyF32Scalar(alpha[size_t(h * out_stride + r)], k.data() + r * stride,
                          y_each.data() + h * n, n);
          }
        }
        EXPECT_EQ(std::memcmp(y_together.data(), y_each.data(), y_each.size() * sizeof(float)), 0)
            << "n " << n << " heads " << heads << " rows " << rows;
      }
    }
  }
}

// The F16-row variants (attention over an F16 KV cache) equal the F32 ones on the rows converted
// to floats, through the F16 kernels and through the passes that convert into the buffer first
// (one head, n % 8 != 0), with strided rows.
TEST(FloatVectorTest, F16RowVariantsEqualTheF32OnesOnConvertedRowsBitForBit) {
  for (int64_t n : {8, 12, 64}) {
    for (int64_t heads : {1, 3, 4, 5}) {
      for (int64_t rows : {1, 13, 64}) {
        const int64_t stride = n + 8;
        const int64_t out_stride = rows + 3;
        auto q = RandomVector(heads * n, 13);
        auto source = RandomVector(rows * stride, 14);
        std::vector<uint16_t> k16(source.size());
        quant::FloatToFp16Row(source.data(), k16.data(), static_cast<int64_t>(source.size()));
        std::vector<float> k32(source.size());
        quant::Fp16ToFloatRow(k16.data(), k32.data(), static_cast<int64_t>(k16.size()));
        std::vector<float> buffer(static_cast<size_t>(rows * n));

        std::vector<float> from16(static_cast<size_t>(heads * out_stride), -1.0f), from32 = from16;
        DotF16RowsHeads(q.data(), heads, k16.data(), stride, rows, n, from16.data(), out_stride,
                        buffer.data());
        DotF32RowsHeads(q.data(), heads, k32.data(), stride, rows, n, from32.data(), out_stride);
        EXPECT_EQ(std::memcmp(from16.data(), from32.data(), from16.size() * sizeof(float)), 0)
            << "dot: n " << n << " heads " << heads << " rows " << rows;

        auto alpha = RandomVector(heads * out_stride, 15);
        auto y16 = RandomVector(heads * n, 16);
        auto y32 = y16;
        AxpyF16RowsHeads(alpha.data(), out_stride, heads, k16.data(), stride, rows, y16.data(), n,
                         buffer.data());
        AxpyF32RowsHeads(alpha.data(), out_stride, heads, k32.data(), stride, rows, y32.data(), n);
        EXPECT_EQ(std::memcmp(y16.data(), y32.data(), y16.size() * sizeof(float)), 0)
            << "axpy: n " << n << " heads " << heads << " rows " << rows;
      }
    }
  }
}

}  // namespace
}  // namespace infernet::cpu
