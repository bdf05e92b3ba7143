// Conversions between float and the 16-bit float formats (IEEE half, bfloat16).
#pragma once

#include <cstdint>

namespace infernet::quant {

float Fp16ToFloat(uint16_t h);  // exact; NaN made quiet
uint16_t FloatToFp16(float f);  // round to nearest even; overflow to inf; NaN preserved
float Bf16ToFloat(uint16_t b);
uint16_t FloatToBf16(float f);  // round to nearest even; NaN preserved (quiet)

// Fp16ToFloat / FloatToFp16 over n elements, with the same results (F16C where the CPU has it:
// its conversions round to nearest even and quiet NaNs as the scalar functions do).
void Fp16ToFloatRow(const uint16_t* src, float* dst, int64_t n);
void FloatToFp16Row(const float* src, uint16_t* dst, int64_t n);

}  // namespace infernet::quant
