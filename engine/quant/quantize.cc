// Reference (scalar) quantizers for stored weights and activations.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/quant/blocks.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/float_convert.h"
#include "engine/quant/kquant_codec.h"
#include "engine/quant/quant.h"

namespace infernet::quant {
namespace {

int RoundClamp(float v, int lo, int hi) {
  return std::clamp(static_cast<int>(std::nearbyint(v)), lo, hi);
}

float MaxAbs(const float* x, int len) {
  float m = 0;
  for (int i = 0; i < len; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

void QuantizeQ4_0(const float* src, BlockQ4_0* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float* x = src + b * kQK4_0;
    // The largest-magnitude element maps to -8, the end of [-8, 7] with no positive twin.
    float extreme = 0;
    for (int i = 0; i < kQK4_0; ++i) {
      if (std::fabs(x[i]) > std::fabs(extreme)) extreme = x[i];
    }
    dst[b].d = FloatToFp16(extreme / -8.0f);
    const float d = Fp16ToFloat(dst[b].d);
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    for (int i = 0; i < kQK4_0 / 2; ++i) {
      const int lo = RoundClamp(x[i] * inv, -8, 7) + 8;
      const int hi = RoundClamp(x[i + kQK4_0 / 2] * inv, -8, 7) + 8;
      dst[b].qs[i] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void DequantizeQ4_0(const BlockQ4_0* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float d = Fp16ToFloat(src[b].d);
    for (int i = 0; i < kQK4_0 / 2; ++i) {
      dst[b * kQK4_0 + i] = d * ((src[b].qs[i] & 15) - 8);
      dst[b * kQK4_0 + i + kQK4_0 / 2] = d * ((src[b].qs[i] >> 4) - 8);
    }
  }
}

// Symmetric int8 in [-127, 127] (never -128, which the AVX2 sign trick cannot negate).
void QuantizeQ8_0(const float* src, BlockQ8_0* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* x = src + b * kQK8_0;
    const float d = MaxAbs(x, kQK8_0) / 127.0f;
    dst[b].d = FloatToFp16(d);
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    for (int i = 0; i < kQK8_0; ++i)
      dst[b].qs[i] = static_cast<int8_t>(RoundClamp(x[i] * inv, -127, 127));
  }
}

void DequantizeQ8_0(const BlockQ8_0* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = Fp16ToFloat(src[b].d);
    for (int i = 0; i < kQK8_0; ++i) dst[b * kQK8_0 + i] = d * src[b].qs[i];
  }
}

void QuantizeQ8_K(const float* src, BlockQ8_K* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    const float d = MaxAbs(x, kQK_K) / 127.0f;
    dst[b].d = d;
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        dst[b].qs[i] = static_cast<int8_t>(RoundClamp(x[i] * inv, -127, 127));
        sum += dst[b].qs[i];
      }
      dst[b].bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

void DequantizeQ8_K(const BlockQ8_K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    for (int i = 0; i < kQK_K; ++i) dst[b * kQK_K + i] = src[b].d * src[b].qs[i];
  }
}

}  // namespace

void QuantizeRow(TensorType type, const float* src, void* dst, int64_t n) {
  switch (type) {
    case TensorType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case TensorType::kF16:
      FloatToFp16Row(src, static_cast<uint16_t*>(dst), n);
      return;
    case TensorType::kBF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = FloatToBf16(src[i]);
      return;
    case TensorType::kQ4_0:
      QuantizeQ4_0(src, static_cast<BlockQ4_0*>(dst), n);
      return;
    case TensorType::kQ8_0:
      QuantizeQ8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return;
    case TensorType::kQ4_K:
      internal::QuantizeQ4K(src, static_cast<BlockQ4_K*>(dst), n);
      return;
    case TensorType::kQ6_K:
      internal::QuantizeQ6K(src, static_cast<BlockQ6_K*>(dst), n);
      return;
    case TensorType::kQ8_K:
      QuantizeQ8_K(src, static_cast<BlockQ8_K*>(dst), n);
      return;
  }
}

void DequantizeRow(TensorType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case TensorType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case TensorType::kF16:
      Fp16ToFloatRow(static_cast<const uint16_t*>(src), dst, n);
      return;
    case TensorType::kBF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(static_cast<const uint16_t*>(src)[i]);
      return;
    case TensorType::kQ4_0:
      DequantizeQ4_0(static_cast<const BlockQ4_0*>(src), dst, n);
      return;
    case TensorType::kQ8_0:
      DequantizeQ8_0(static_cast<const BlockQ8_0*>(src), dst, n);
      return;
    case TensorType::kQ4_K:
      internal::DequantizeQ4K(static_cast<const BlockQ4_K*>(src), dst, n);
      return;
    case TensorType::kQ6_K:
      internal::DequantizeQ6K(static_cast<const BlockQ6_K*>(src), dst, n);
      return;
    case TensorType::kQ8_K:
      DequantizeQ8_K(static_cast<const BlockQ8_K*>(src), dst, n);
      return;
  }
}

TensorType ActivationType(TensorType weight_type) {
  switch (weight_type) {
    case TensorType::kQ4_0:
    case TensorType::kQ8_0:
      return TensorType::kQ8_0;
    case TensorType::kQ4_K:
    case TensorType::kQ6_K:
      return TensorType::kQ8_K;
    case TensorType::kBF16: {  // vdpbf16ps multiplies pairs of bfloat16
      const bool bf16 = internal::ActiveKernelLevel() >= internal::KernelLevel::kAvx512Bf16;
      return bf16 ? TensorType::kBF16 : TensorType::kF32;
    }
    default:
      return TensorType::kF32;
  }
}

void QuantizeActivationRow(TensorType weight_type, const float* x, void* dst, int64_t n) {
  const TensorType type = ActivationType(weight_type);
  // Same bytes as QuantizeRow (tested), only faster: prefill quantizes every activation row.
  if (internal::ActiveKernelLevel() >= internal::KernelLevel::kAvx512) {
    if (type == TensorType::kBF16) {
      return internal::ConvertToBf16Avx512(x, static_cast<uint16_t*>(dst), n);
    }
    if (type == TensorType::kQ8_K)
      return internal::QuantizeQ8_KAvx512(x, static_cast<BlockQ8_K*>(dst), n);
    if (type == TensorType::kQ8_0)
      return internal::QuantizeQ8_0Avx512(x, static_cast<BlockQ8_0*>(dst), n);
  }
  QuantizeRow(type, x, dst, n);
}

}  // namespace infernet::quant
