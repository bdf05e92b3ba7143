// Quantization, dequantization and dot-product kernels for every supported tensor type.
//
// Matrix products multiply a weight row (stored type) by an activation row that was prepared
// once per token in the weight type's activation format (F32 for float weights, Q8_0 for Q4_0 and
// Q8_0, Q8_K for Q4_K and Q6_K; BF16 for BF16 weights where the CPU has AVX512_BF16), so weights
// are never dequantized whole.
//
// Determinism contract: for a given weight type, VecDot and VecDotTile compute every output with
// the same sequence of floating-point operations, whatever the tile shape or position, so results
// do not depend on batch composition or on how work is split across threads. Every fast (AVX2,
// AVX-512) kernel has a scalar twin (*Scalar) used as its reference in tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor_type.h"

namespace infernet::quant {

// REQUIRES for all: n % Traits(type).block_elems == 0 (and of the activation type).

// Quantizes `n` floats into the stored format of `type` (any stored type, including F32/F16/BF16).
void QuantizeRow(TensorType type, const float* src, void* dst, int64_t n);
void DequantizeRow(TensorType type, const void* src, float* dst, int64_t n);

// The activation format VecDot expects for weights of `weight_type`. It can depend on the kernel
// level in use (BF16 weights), so prepare activations with the level that multiplies them.
TensorType ActivationType(TensorType weight_type);
inline size_t ActivationRowBytes(TensorType weight_type, int64_t n) {
  return RowBytes(ActivationType(weight_type), n);
}
// Prepares one activation row (quantizes to Q8_0/Q8_K, or copies F32).
void QuantizeActivationRow(TensorType weight_type, const float* x, void* dst, int64_t n);

// sum_i w[i] * a[i] for one weight row `w` of `weight_type` and one prepared activation row `a`.
float VecDot(TensorType weight_type, int64_t n, const void* w, const void* a);
// Portable scalar twin of VecDot (reference for tests; not bit-identical to the SIMD paths); reads
// `a` in ActivationType(weight_type) like VecDot.
float VecDotScalar(TensorType weight_type, int64_t n, const void* w, const void* a);

// out[c * out_stride + r] = VecDot(w + r * w_stride, a + c * a_stride) for r < rows, c < cols,
// bit-identical to calling VecDot for each pair; faster because loads are shared across the tile.
void VecDotTile(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                const void* a, size_t a_stride, int cols, float* out, size_t out_stride);

// True when SIMD kernels (AVX2/FMA/F16C, or AVX-512 which extends them) are in use (detected at
// run time).
bool UsingAvx2();

}  // namespace infernet::quant
