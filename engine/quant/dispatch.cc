// Run-time choice between the AVX-512, AVX2 and scalar kernel families.
#include "engine/quant/dispatch.h"

#include <algorithm>
#include <atomic>

#include "engine/quant/quant.h"

namespace infernet::quant {
namespace internal {
namespace {

std::atomic<KernelLevel> level_cap{kBestKernelLevel};

}  // namespace

const char* KernelLevelName(KernelLevel level) {
  switch (level) {
    case KernelLevel::kScalar:
      return "scalar";
    case KernelLevel::kAvx2:
      return "avx2";
    case KernelLevel::kAvx512:
      return "avx512";
    case KernelLevel::kAvx512Bf16:
      return "avx512bf16";
  }
  return "unknown";
}

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          __builtin_cpu_supports("f16c");
  return has;
}

// __builtin_cpu_supports reports AVX-512 features only when the OS saves the zmm state.
bool CpuHasAvx512() {
  static const bool has =
      CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vnni");
  return has;
}

bool CpuHasAvx512Bf16() {
  static const bool has = CpuHasAvx512() && __builtin_cpu_supports("avx512bf16");
  return has;
}

KernelLevel CpuKernelLevel() {
  if (CpuHasAvx512Bf16()) return KernelLevel::kAvx512Bf16;
  if (CpuHasAvx512()) return KernelLevel::kAvx512;
  if (CpuHasAvx2()) return KernelLevel::kAvx2;
  return KernelLevel::kScalar;
}

KernelLevel ActiveKernelLevel() {
  return std::min(CpuKernelLevel(), level_cap.load(std::memory_order_relaxed));
}

void ForceKernelLevelForTesting(KernelLevel max_level) { level_cap.store(max_level); }

void ForceScalarKernelsForTesting(bool force) {
  ForceKernelLevelForTesting(force ? KernelLevel::kScalar : kBestKernelLevel);
}

}  // namespace internal

bool UsingAvx2() { return internal::ActiveKernelLevel() >= internal::KernelLevel::kAvx2; }

float VecDot(TensorType weight_type, int64_t n, const void* w, const void* a) {
  switch (internal::ActiveKernelLevel()) {
    case internal::KernelLevel::kAvx512Bf16:
      if (weight_type == TensorType::kBF16) return internal::VecDotAvx512Bf16(n, w, a);
      return internal::VecDotAvx512(weight_type, n, w, a);
    case internal::KernelLevel::kAvx512:
      return internal::VecDotAvx512(weight_type, n, w, a);
    case internal::KernelLevel::kAvx2:
      return internal::VecDotAvx2(weight_type, n, w, a);
    case internal::KernelLevel::kScalar:
      break;
  }
  return VecDotScalar(weight_type, n, w, a);
}

void VecDotTile(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                const void* a, size_t a_stride, int cols, float* out, size_t out_stride) {
  switch (internal::ActiveKernelLevel()) {
    case internal::KernelLevel::kAvx512Bf16:
      if (weight_type == TensorType::kBF16) {
        internal::VecDotTileAvx512Bf16(n, w, w_stride, rows, a, a_stride, cols, out, out_stride);
        return;
      }
      [[fallthrough]];
    case internal::KernelLevel::kAvx512:
      internal::VecDotTileAvx512(weight_type, n, w, w_stride, rows, a, a_stride, cols, out,
                                 out_stride);
      return;
    case internal::KernelLevel::kAvx2:
      internal::VecDotTileAvx2(weight_type, n, w, w_stride, rows, a, a_stride, cols, out,
                               out_stride);
      return;
    case internal::KernelLevel::kScalar:
      break;
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
