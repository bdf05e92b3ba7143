// e^x and the kernels built on it (softmax, SiLU), defined by the engine instead of libm.
//
// libm's expf is not part of any contract: its last bit may differ between library versions, so
// two providers could disagree on the same model and seed. ExpF32 is a fixed sequence of float
// operations (range reduction by ln 2, a degree-7 Taylor polynomial in Horner form, scaling by
// two powers of two; multiply and add never fused), and its AVX2 path performs the same
// operations per lane, so every machine gives the same bits. It is also 8 lanes wide where the
// scalar expf call was one.
#pragma once

#include <cstdint>

namespace infernet::cpu {

// e^x within 1 ulp of the correctly rounded value for normal results; +inf above ln(FLT_MAX), 0
// below ln(FLT_MIN) (subnormal results are flushed), NaN for NaN.
float ExpF32(float x);

// x[i] = x[i] * scale for i < n; returns their maximum, taken as 8 lane maxima (lane = i % 8,
// max(a, b) = a > b ? a : b) reduced ((l0,l4),(l2,l6)),((l1,l5),(l3,l7)). REQUIRES: n >= 1.
float ScaleAndMax(float* x, int64_t n, float scale);

// x[i] = ExpF32(x[i] - shift) for i < n; returns their sum as 8 lane sums reduced like DotF32.
float ExpShiftedAndSum(float* x, int64_t n, float shift);

// out[i] = g[i] / (1 + ExpF32(-g[i])) * u[i] (SiLU of the gate times the up projection). `out`
// may alias `g` or `u`.
void SwiGluF32(const float* g, const float* u, float* out, int64_t n);

// Portable twins, exposed for tests.
float ScaleAndMaxScalar(float* x, int64_t n, float scale);
float ExpShiftedAndSumScalar(float* x, int64_t n, float shift);
void SwiGluF32Scalar(const float* g, const float* u, float* out, int64_t n);

}  // namespace infernet::cpu
