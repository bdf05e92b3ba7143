#include "engine/cpu/rope_table.h"

#include <algorithm>

#include "engine/cpu/rope_math.h"

namespace infernet::cpu {

void RopeTable::Prepare(ThreadPool& pool, float freq_base, float freq_scale, int64_t n_rot,
                        std::span<const int32_t> pos) {
  const int64_t half = n_rot / 2;
  if (freq_base != freq_base_ || half != half_) {
    inv_freq_.resize(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i) {
      inv_freq_[static_cast<size_t>(i)] =
          RopePow(static_cast<double>(freq_base),
                  -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    }
    freq_base_ = freq_base;
    half_ = half;
    positions_.clear();
    values_.clear();
  }
  // positions_ and values_ change together (both cleared above when the width changes).
  if (freq_scale == freq_scale_ &&
      std::equal(pos.begin(), pos.end(), positions_.begin(), positions_.end())) {
    return;
  }
  freq_scale_ = freq_scale;
  positions_.assign(pos.begin(), pos.end());
  values_.resize(pos.size() * 2 * static_cast<size_t>(half));
  pool.ParallelFor(static_cast<int64_t>(pos.size()), 4, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) {
      const double position =
          static_cast<double>(pos[static_cast<size_t>(r)]) * static_cast<double>(freq_scale);
      float* c = values_.data() + r * 2 * half;
      for (int64_t i = 0; i < half; ++i) {
        const SinCos angle = RopeSinCos(position * inv_freq_[static_cast<size_t>(i)]);
        c[i] = static_cast<float>(angle.cos);
        c[half + i] = static_cast<float>(angle.sin);
      }
    }
  });
}

void RotateHeads(float* row, int64_t head_dim, int64_t n_rot, bool neox, const float* cos,
                 const float* sin, int64_t head_begin, int64_t head_end) {
  const int64_t half = n_rot / 2;
  const int64_t a_step = neox ? 1 : 2;
  const int64_t b_offset = neox ? half : 1;
  for (int64_t h = head_begin; h < head_end; ++h) {
    float* head = row + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      float* a = head + i * a_step;
      float* b = a + b_offset;
      const float x0 = *a;
      const float x1 = *b;
      *a = x0 * cos[i] - x1 * sin[i];
      *b = x0 * sin[i] + x1 * cos[i];
    }
  }
}

}  // namespace infernet::cpu
