// Portable scalar dot products: integer sums per block, then float scaling per block.
#include "engine/quant/blocks.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/float_convert.h"
#include "engine/quant/kquant_codec.h"
#include "engine/quant/quant.h"

namespace infernet::quant {
namespace {

template <float (*kToFloat)(uint16_t)>
float DotHalf(int64_t n, const uint16_t* w, const float* a) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += kToFloat(w[i]) * a[i];
  return sum;
}

// Twin of the AVX512_BF16 kernel (BF16 activations): the products are exact in float (8-bit
// significands), so it differs from vdpbf16ps only in summation order and in that the hardware
// treats bfloat16 subnormals (|x| < 2^-126) as zero and flushes subnormal sums to zero.
float DotBf16Bf16(int64_t n, const uint16_t* w, const uint16_t* a) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Bf16ToFloat(w[i]) * Bf16ToFloat(a[i]);
  return sum;
}

float DotF32(int64_t n, const float* w, const float* a) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += w[i] * a[i];
  return sum;
}

float DotQ4_0(int64_t n, const BlockQ4_0* w, const BlockQ8_0* a) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    int sumi = 0;
    for (int i = 0; i < kQK4_0 / 2; ++i) {
      sumi += ((w[b].qs[i] & 15) - 8) * a[b].qs[i];
      sumi += ((w[b].qs[i] >> 4) - 8) * a[b].qs[i + kQK4_0 / 2];
    }
    sum += Fp16ToFloat(w[b].d) * Fp16ToFloat(a[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

float DotQ8_0(int64_t n, const BlockQ8_0* w, const BlockQ8_0* a) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int sumi = 0;
    for (int i = 0; i < kQK8_0; ++i) sumi += w[b].qs[i] * a[b].qs[i];
    sum += Fp16ToFloat(w[b].d) * Fp16ToFloat(a[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

// sum = d*da * sum_j sc_j * (q . a)_j  -  dmin*da * sum_j m_j * (sum of a over sub-block j).
float DotQ4K(int64_t n, const BlockQ4_K* w, const BlockQ8_K* a) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t sc[8], m[8];
    internal::UnpackQ4KScales(w[b].scales, sc, m);
    int sumi = 0, summ = 0;
    for (int c = 0; c < 4; ++c) {
      int lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (w[b].qs[32 * c + l] & 15) * a[b].qs[64 * c + l];
        hi += (w[b].qs[32 * c + l] >> 4) * a[b].qs[64 * c + 32 + l];
      }
      sumi += sc[2 * c] * lo + sc[2 * c + 1] * hi;
    }
    for (int j = 0; j < 8; ++j) summ += m[j] * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
    const float da = a[b].d;
    sum += Fp16ToFloat(w[b].d) * da * static_cast<float>(sumi);
    sum -= Fp16ToFloat(w[b].dmin) * da * static_cast<float>(summ);
  }
  return sum;
}

// Quants are stored +32; the offset is removed through the activation's group sums.
float DotQ6K(int64_t n, const BlockQ6_K* w, const BlockQ8_K* a) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      int dot = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) dot += internal::Q6KQuant(w[b], i) * a[b].qs[i];
      sumi += w[b].scales[j] * (dot - 32 * a[b].bsums[j]);
    }
    sum += Fp16ToFloat(w[b].d) * a[b].d * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace

float VecDotScalar(TensorType weight_type, int64_t n, const void* w, const void* a) {
  switch (weight_type) {
    case TensorType::kF32:
      return DotF32(n, static_cast<const float*>(w), static_cast<const float*>(a));
    case TensorType::kF16:
      return DotHalf<Fp16ToFloat>(n, static_cast<const uint16_t*>(w), static_cast<const float*>(a));
    case TensorType::kBF16:
      if (ActivationType(TensorType::kBF16) == TensorType::kBF16) {
        return DotBf16Bf16(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a));
      }
      return DotHalf<Bf16ToFloat>(n, static_cast<const uint16_t*>(w), static_cast<const float*>(a));
    case TensorType::kQ4_0:
      return DotQ4_0(n, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(a));
    case TensorType::kQ8_0:
      return DotQ8_0(n, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(a));
    case TensorType::kQ4_K:
      return DotQ4K(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
    case TensorType::kQ6_K:
      return DotQ6K(n, static_cast<const BlockQ6_K*>(w), static_cast<const BlockQ8_K*>(a));
    case TensorType::kQ8_K:
      break;  // activation-only format, never a weight
  }
  return 0;
}

}  // namespace infernet::quant
