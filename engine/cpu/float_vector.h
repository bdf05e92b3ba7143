// Float vector kernels for attention and normalisation, with run-time AVX2 dispatch.
//
// The AVX2 (with FMA) and portable paths perform the same operations in the same order (8
// independent partial sums, each product added by one fused multiply-add, std::fma in the
// portable code; then a fixed reduction tree), so they give bit-identical results and the choice
// cannot change an output. Fused: attention's head-group kernels are bound by arithmetic once the
// cache is F16, and one FMA instead of a multiply and an add measured 18 % less time a call on
// Zen 4 (infernet_attention_bench --len=576, docs/benchmarks.md).
#pragma once

#include <cstdint>

namespace infernet::cpu {

// Whether the AVX2 paths of this file and float_exp.h run (AVX2 and FMA; checked once, at
// start-up).
#if defined(__x86_64__)
inline const bool kHasAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
inline constexpr bool kHasAvx2 = false;
#endif

// ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)): the fixed reduction of 8 lane sums.
float SumLanes8(const float* lanes);

// sum_i a[i] * b[i], as 8 lane sums (lane = i % 8; lane = fma(a[i], b[i], lane)) reduced by
// SumLanes8.
float DotF32(const float* a, const float* b, int64_t n);
// y[i] = fma(alpha, x[i], y[i]).
void AxpyF32(float alpha, const float* x, float* y, int64_t n);

// out[i] = (x[i] * scale) * weight[i] with scale = float(1 / sqrt(double(DotF32(x, x, n)) / n +
// eps)): RMSNorm of one row. `out` may alias `x`.
void RmsNormF32(const float* x, const float* weight, int64_t n, float eps, float* out);

// out[r] = DotF32(a, b + r * stride, n) for r < rows, bit for bit; several rows share each load
// of `a` and their sums run side by side.
void DotF32Rows(const float* a, const float* b, int64_t stride, int64_t rows, int64_t n,
                float* out);
// AxpyF32(alpha[r], x + r * stride, y, n) for r = 0, 1, ... rows-1 in turn, bit for bit; `y`
// stays in registers across rows.
void AxpyF32Rows(const float* alpha, const float* x, int64_t stride, int64_t rows, float* y,
                 int64_t n);

// The `heads` query heads of a KV group against the same rows: out[h * out_stride + r] =
// DotF32(a + h * n, b + r * stride, n), bit for bit, each row loaded once for all heads.
void DotF32RowsHeads(const float* a, int64_t heads, const float* b, int64_t stride, int64_t rows,
                     int64_t n, float* out, int64_t out_stride);
// AxpyF32Rows(alpha + h * alpha_stride, x, stride, rows, y + h * n, n) for each h < heads, bit for
// bit, each row of x loaded once for all heads.
void AxpyF32RowsHeads(const float* alpha, int64_t alpha_stride, int64_t heads, const float* x,
                      int64_t stride, int64_t rows, float* y, int64_t n);

// DotF32RowsHeads and AxpyF32RowsHeads over rows stored as F16 (IEEE half bits), bit for bit
// equal to converting the rows to floats (exact) and calling those. Passes without an F16 kernel
// (one head, no AVX-512, n % 8 != 0) convert the rows into `buffer` (rows * n floats) first.
void DotF16RowsHeads(const float* a, int64_t heads, const uint16_t* b, int64_t stride, int64_t rows,
                     int64_t n, float* out, int64_t out_stride, float* buffer);
void AxpyF16RowsHeads(const float* alpha, int64_t alpha_stride, int64_t heads, const uint16_t* x,
                      int64_t stride, int64_t rows, float* y, int64_t n, float* buffer);

// Portable twins, exposed for tests.
float DotF32Scalar(const float* a, const float* b, int64_t n);
void AxpyF32Scalar(float alpha, const float* x, float* y, int64_t n);

}  // namespace infernet::cpu
