// Run-time choice between the AVX2 and scalar kernel families.
#include "engine/quant/dispatch.h"

#include <atomic>

#include "engine/quant/quant.h"

namespace infernet::quant {
namespace internal {
namespace {

std::atomic<bool> force_scalar{false};

bool UseAvx2() { return CpuHasAvx2() && !force_scalar.load(std::memory_order_relaxed); }

}  // namespace

void ForceScalarKernelsForTesting(bool force) { force_scalar.store(force); }

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          __builtin_cpu_supports("f16c");
  return has;
}

}  // namespace internal

bool UsingAvx2() { return internal::UseAvx2(); }

float VecDot(TensorType weight_type, int64_t n, const void* w, const void* a) {
  if (internal::UseAvx2()) return internal::VecDotAvx2(weight_type, n, w, a);
  return VecDotScalar(weight_type, n, w, a);
}

void VecDotTile(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                const void* a, size_t a_stride, int cols, float* out, size_t out_stride) {
  if (internal::UseAvx2()) {
    internal::VecDotTileAvx2(weight_type, n, w, w_stride, rows, a, a_stride, cols, out, out_stride);
    return;
  }
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int c = 0; c < cols; ++c) {
    for (int r = 0; r < rows; ++r) {
      out[c * out_stride + r] = VecDotScalar(weight_type, n, wb + r * w_stride, ab + c * a_stride);
    }
  }
}

}  // namespace infernet::quant
