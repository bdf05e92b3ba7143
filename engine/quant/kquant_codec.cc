#include "engine/quant/kquant_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/quant/dispatch.h"
#include "engine/quant/float_convert.h"

namespace infernet::quant::internal {
namespace {

int RoundClamp(float v, int lo, int hi) {
  return std::clamp(static_cast<int>(std::nearbyint(v)), lo, hi);
}

// Fits x ~= scale * q - offset with q in [0, 15] and offset >= 0 for one 32-element sub-block.
// Starts from the min/max fit, then alternates re-quantization with a least-squares refit of
// (scale, offset) over a few candidate scales, keeping the lowest squared error.
void FitAffine4(const float* x, int len, float* best_scale, float* best_offset) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < len; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  lo = std::min(lo, 0.0f);  // the offset is stored unsigned: x = s*q - m with m >= 0
  if (hi <= lo) {
    *best_scale = 0;
    *best_offset = -lo;
    return;
  }
  float best_err = INFINITY;
  for (int step = -4; step <= 4; ++step) {
    float scale = (hi - lo) / (15.0f + 0.25f * step);
    float offset = -lo;
    for (int iter = 0; iter < 3; ++iter) {
      // Least squares for x = scale*q - offset given q.
      double sq = 0, sx = 0, sqq = 0, sqx = 0;
      for (int i = 0; i < len; ++i) {
        const int q = RoundClamp((x[i] + offset) / scale, 0, 15);
        sq += q, sx += x[i], sqq += double(q) * q, sqx += double(q) * x[i];
      }
      const double det = len * sqq - sq * sq;
      if (det <= 0) break;
      const double s = (len * sqx - sq * sx) / det;
      const double m = (s * sq - sx) / len;
      if (s <= 0) break;
      scale = static_cast<float>(s);
      offset = static_cast<float>(std::max(m, 0.0));
    }
    float err = 0;
    for (int i = 0; i < len; ++i) {
      const int q = RoundClamp((x[i] + offset) / scale, 0, 15);
      const float e = scale * q - offset - x[i];
      err += e * e;
    }
    if (err < best_err) best_err = err, *best_scale = scale, *best_offset = offset;
  }
}

void PackQ4KScales(const uint8_t* sc, const uint8_t* m, uint8_t* packed) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

}  // namespace

void UnpackQ4KScales(const uint8_t* packed, uint8_t* scales, uint8_t* mins) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = packed[j] & 63;
    mins[j] = packed[j + 4] & 63;
    scales[j + 4] = static_cast<uint8_t>((packed[j + 8] & 15) | ((packed[j] >> 6) << 4));
    mins[j + 4] = static_cast<uint8_t>((packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4));
  }
}

void QuantizeQ4K(const float* src, BlockQ4_K* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    float scales[8], offsets[8];
    float max_scale = 0, max_offset = 0;
    for (int j = 0; j < 8; ++j) {
      FitAffine4(x + 32 * j, 32, &scales[j], &offsets[j]);
      max_scale = std::max(max_scale, scales[j]);
      max_offset = std::max(max_offset, offsets[j]);
    }
    BlockQ4_K& out = dst[b];
    out.d = FloatToFp16(max_scale / 63);
    out.dmin = FloatToFp16(max_offset / 63);
    const float d = Fp16ToFloat(out.d), dmin = Fp16ToFloat(out.dmin);
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = static_cast<uint8_t>(d > 0 ? RoundClamp(scales[j] / d, 0, 63) : 0);
      m[j] = static_cast<uint8_t>(dmin > 0 ? RoundClamp(offsets[j] / dmin, 0, 63) : 0);
    }
    PackQ4KScales(sc, m, out.scales);
    // Re-quantize against the scales actually stored.
    uint8_t q[kQK_K];
    for (int j = 0; j < 8; ++j) {
      const float s = d * sc[j], off = dmin * m[j];
      for (int i = 0; i < 32; ++i) {
        q[32 * j + i] =
            static_cast<uint8_t>(s > 0 ? RoundClamp((x[32 * j + i] + off) / s, 0, 15) : 0);
      }
    }
    // Each 64-element chunk: low nibbles hold its first 32 elements, high nibbles the next 32.
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        out.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void DequantizeQ4K(const BlockQ4_K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ4_K& blk = src[b];
    const float d = Fp16ToFloat(blk.d), dmin = Fp16ToFloat(blk.dmin);
    uint8_t sc[8], m[8];
    UnpackQ4KScales(blk.scales, sc, m);
    float* y = dst + b * kQK_K;
    for (int c = 0; c < 4; ++c) {
      const float s0 = d * sc[2 * c], m0 = dmin * m[2 * c];
      const float s1 = d * sc[2 * c + 1], m1 = dmin * m[2 * c + 1];
      for (int l = 0; l < 32; ++l) {
        y[64 * c + l] = s0 * (blk.qs[32 * c + l] & 15) - m0;
        y[64 * c + 32 + l] = s1 * (blk.qs[32 * c + l] >> 4) - m1;
      }
    }
  }
}

void QuantizeQ6K(const float* src, BlockQ6_K* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    // Per 16-element sub-block: a signed scale mapping the largest-magnitude element to -32
    // (the asymmetric end of [-32, 31]), refined over a few candidates by squared error.
    float scales[16];
    float max_abs_scale = 0, max_scale = 0;
    for (int j = 0; j < 16; ++j) {
      const float* xs = x + 16 * j;
      float extreme = 0;
      for (int i = 0; i < 16; ++i) {
        if (std::fabs(xs[i]) > std::fabs(extreme)) extreme = xs[i];
      }
      float best = 0, best_err = INFINITY;
      for (int step = -6; step <= 6 && extreme != 0; ++step) {
        const float s = extreme / (-32.0f + 0.25f * step);
        float err = 0;
        for (int i = 0; i < 16; ++i) {
          const float e = s * RoundClamp(xs[i] / s, -32, 31) - xs[i];
          err += e * e;
        }
        if (err < best_err) best_err = err, best = s;
      }
      scales[j] = best;
      if (std::fabs(best) > max_abs_scale) max_abs_scale = std::fabs(best), max_scale = best;
    }
    BlockQ6_K& out = dst[b];
    std::memset(&out, 0, sizeof(out));
    // Map the largest-magnitude scale to -128 so the int8 range is used fully.
    out.d = FloatToFp16(max_scale / -128.0f);
    const float d = Fp16ToFloat(out.d);
    for (int j = 0; j < 16; ++j) {
      out.scales[j] = static_cast<int8_t>(d != 0 ? RoundClamp(scales[j] / d, -128, 127) : 0);
    }
    for (int i = 0; i < kQK_K; ++i) {
      const float s = d * out.scales[i / 16];
      const int q = (s != 0 ? RoundClamp(x[i] / s, -32, 31) : 0) + 32;
      const int half = i / 128, group = (i % 128) / 32, l = i % 32;
      uint8_t& low_byte = out.ql[half * 64 + (group & 1) * 32 + l];
      low_byte = static_cast<uint8_t>(low_byte | ((q & 15) << (group < 2 ? 0 : 4)));
      out.qh[half * 32 + l] =
          static_cast<uint8_t>(out.qh[half * 32 + l] | ((q >> 4) << (2 * group)));
    }
  }
}

void DequantizeQ6K(const BlockQ6_K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& blk = src[b];
    const float d = Fp16ToFloat(blk.d);
    for (int i = 0; i < kQK_K; ++i) {
      dst[b * kQK_K + i] = d * blk.scales[i / 16] * (Q6KQuant(blk, i) - 32);
    }
  }
}

}  // namespace infernet::quant::internal
