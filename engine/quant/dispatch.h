// Internal seams between the kernel families (scalar, AVX2, AVX-512) and their run-time dispatch.
// Not part of the public contract (quant.h); tests use ForceKernelLevelForTesting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor_type.h"

namespace infernet::quant::internal {

// Kernel families, ordered: each level's CPU requirements include the previous level's.
enum class KernelLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* KernelLevelName(KernelLevel level);

// The best level this CPU supports, and the level VecDot/VecDotTile use now.
KernelLevel CpuKernelLevel();
KernelLevel ActiveKernelLevel();

// Caps the level VecDot/VecDotTile use at `max_level` (the CPU's best applies if lower); passing
// KernelLevel::kAvx512 restores the default. Tests only; not thread-safe with concurrent kernel
// calls.
void ForceKernelLevelForTesting(KernelLevel max_level);
// ForceKernelLevelForTesting(kScalar) when `force`, the default otherwise.
void ForceScalarKernelsForTesting(bool force);

// True when the CPU supports AVX2, FMA and F16C.
bool CpuHasAvx2();
// True when the CPU (and OS) supports AVX-512 F/BW/VL/DQ and VNNI, in addition to CpuHasAvx2().
bool CpuHasAvx512();

// AVX2 kernels; REQUIRE CpuHasAvx2(). VecDotAvx2 is VecDotTileAvx2 with a 1x1 tile.
float VecDotAvx2(TensorType weight_type, int64_t n, const void* w, const void* a);
void VecDotTileAvx2(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                    const void* a, size_t a_stride, int cols, float* out, size_t out_stride);

// AVX-512 kernels; REQUIRE CpuHasAvx512(). VecDotAvx512 is VecDotTileAvx512 with a 1x1 tile.
float VecDotAvx512(TensorType weight_type, int64_t n, const void* w, const void* a);
void VecDotTileAvx512(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                      const void* a, size_t a_stride, int cols, float* out, size_t out_stride);

// Unpacks the 6-bit scales and mins of a Q4_K super-block (8 each).
void UnpackQ4KScales(const uint8_t* packed, uint8_t* scales, uint8_t* mins);

}  // namespace infernet::quant::internal
