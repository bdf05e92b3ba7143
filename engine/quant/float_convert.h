// Conversions between float and the 16-bit float formats (IEEE half, bfloat16).
#pragma once

#include <cstdint>

namespace infernet::quant {

float Fp16ToFloat(uint16_t h);
uint16_t FloatToFp16(float f);  // round to nearest even; overflow to inf; NaN preserved
float Bf16ToFloat(uint16_t b);
uint16_t FloatToBf16(float f);  // round to nearest even; NaN preserved (quiet)

}  // namespace infernet::quant
