// Internal seams between the kernel families (scalar, AVX2, AVX-512) and their run-time dispatch.
// Not part of the public contract (quant.h); tests use ForceKernelLevelForTesting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/quant/blocks.h"
#include "engine/tensor_type.h"

namespace infernet::quant::internal {

// Kernel families, ordered: each level's CPU requirements include the previous level's.
// kAvx512Bf16 is kAvx512 plus AVX512_BF16, which changes one format: BF16 weights take BF16
// activations (ActivationType) and multiply them with vdpbf16ps.
enum class KernelLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Bf16 = 3 };
inline constexpr KernelLevel kBestKernelLevel = KernelLevel::kAvx512Bf16;

const char* KernelLevelName(KernelLevel level);

// The best level this CPU supports, and the level VecDot/VecDotTile use now.
KernelLevel CpuKernelLevel();
KernelLevel ActiveKernelLevel();

// Caps the level VecDot/VecDotTile use at `max_level` (the CPU's best applies if lower); passing
// kBestKernelLevel restores the default. Tests only; not thread-safe with concurrent kernel
// calls.
void ForceKernelLevelForTesting(KernelLevel max_level);
// ForceKernelLevelForTesting(kScalar) when `force`, the default otherwise.
void ForceScalarKernelsForTesting(bool force);

// True when the CPU supports AVX2, FMA and F16C.
bool CpuHasAvx2();
// True when the CPU (and OS) supports AVX-512 F/BW/VL/DQ and VNNI, in addition to CpuHasAvx2().
bool CpuHasAvx512();
// True when the CPU also supports AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16), besides CpuHasAvx512().
bool CpuHasAvx512Bf16();

// AVX2 kernels; REQUIRE CpuHasAvx2(). VecDotAvx2 is VecDotTileAvx2 with a 1x1 tile.
float VecDotAvx2(TensorType weight_type, int64_t n, const void* w, const void* a);
void VecDotTileAvx2(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                    const void* a, size_t a_stride, int cols, float* out, size_t out_stride);

// The F32, F16 and BF16 weight cases of VecDotTileAvx2 (vec_dot_avx2_float.cc).
void FloatVecDotTileAvx2(TensorType weight_type, int64_t n, const uint8_t* w, size_t w_stride,
                         int rows, const uint8_t* a, size_t a_stride, int cols, float* out,
                         size_t out_stride);

// AVX-512 kernels; REQUIRE CpuHasAvx512(). VecDotAvx512 is VecDotTileAvx512 with a 1x1 tile.
float VecDotAvx512(TensorType weight_type, int64_t n, const void* w, const void* a);
void VecDotTileAvx512(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                      const void* a, size_t a_stride, int cols, float* out, size_t out_stride);

// BF16 weights x BF16 activations with vdpbf16ps; REQUIRE CpuHasAvx512Bf16() and
// weight_type == kBF16. VecDotAvx512Bf16 is VecDotTileAvx512Bf16 with a 1x1 tile.
float VecDotAvx512Bf16(int64_t n, const void* w, const void* a);
void VecDotTileAvx512Bf16(int64_t n, const void* w, size_t w_stride, int rows, const void* a,
                          size_t a_stride, int cols, float* out, size_t out_stride);
// n floats to bfloat16, bit-identical to FloatToBf16 per element; REQUIRES CpuHasAvx512().
void ConvertToBf16Avx512(const float* src, uint16_t* dst, int64_t n);

// AVX-512 activation quantizers, bit-identical to the scalar QuantizeRow for Q8_0 and Q8_K;
// REQUIRE CpuHasAvx512(). n is a multiple of the block size.
void QuantizeQ8_0Avx512(const float* src, BlockQ8_0* dst, int64_t n);
void QuantizeQ8_KAvx512(const float* src, BlockQ8_K* dst, int64_t n);

// Unpacks the 6-bit scales and mins of a Q4_K super-block (8 each).
void UnpackQ4KScales(const uint8_t* packed, uint8_t* scales, uint8_t* mins);

}  // namespace infernet::quant::internal
