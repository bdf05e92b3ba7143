// Internal seams between the kernel families (scalar, AVX2) and their run-time dispatch.
// Not part of the public contract (quant.h); tests use ForceScalarKernelsForTesting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor_type.h"

namespace infernet::quant::internal {

// Makes VecDot/VecDotTile use the scalar kernels even on AVX2 machines (tests only; not
// thread-safe with concurrent kernel calls).
void ForceScalarKernelsForTesting(bool force);

// True when the CPU supports AVX2, FMA and F16C.
bool CpuHasAvx2();

// AVX2 kernels; REQUIRE CpuHasAvx2(). VecDotAvx2 is VecDotTileAvx2 with a 1x1 tile.
float VecDotAvx2(TensorType weight_type, int64_t n, const void* w, const void* a);
void VecDotTileAvx2(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                    const void* a, size_t a_stride, int cols, float* out, size_t out_stride);

// Unpacks the 6-bit scales and mins of a Q4_K super-block (8 each).
void UnpackQ4KScales(const uint8_t* packed, uint8_t* scales, uint8_t* mins);

}  // namespace infernet::quant::internal
