// Scalar codecs of the K-quant weight formats (Q4_K, Q6_K); used by QuantizeRow/DequantizeRow.
#pragma once

#include <cstdint>

#include "engine/quant/blocks.h"

namespace infernet::quant::internal {

// REQUIRE: n % kQK_K == 0.
void QuantizeQ4K(const float* src, BlockQ4_K* dst, int64_t n);
void DequantizeQ4K(const BlockQ4_K* src, float* dst, int64_t n);
void QuantizeQ6K(const float* src, BlockQ6_K* dst, int64_t n);
void DequantizeQ6K(const BlockQ6_K* src, float* dst, int64_t n);

// The 6-bit unsigned quant of Q6_K element `i` (0..255) of a block, before the -32 offset.
inline int Q6KQuant(const BlockQ6_K& b, int i) {
  const int half = i / 128, group = (i % 128) / 32, l = i % 32;
  const uint8_t low_byte = b.ql[half * 64 + (group & 1) * 32 + l];
  const int low = (group < 2) ? (low_byte & 0xf) : (low_byte >> 4);
  const int high = (b.qh[half * 32 + l] >> (2 * group)) & 3;
  return low | (high << 4);
}

}  // namespace infernet::quant::internal
