// The cosines and sines RoPE rotates by, for one batch of positions. Every layer rotates Q and K
// at the same positions, so the angles are computed once per batch instead of twice per layer
// (in decode that was ~0.6 us of each 1-1.5 us Rope call on Zen 4).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

class RopeTable {
 public:
  // Makes the table hold, for each row r and i < n_rot / 2, cos and sin (rounded to float) of
  // pos[r] * freq_scale * freq_base^(-2i / n_rot), computed by RopePow and RopeSinCos in double.
  // Recomputes only what differs from the previous call. REQUIRES: n_rot >= 2, even.
  void Prepare(ThreadPool& pool, float freq_base, float freq_scale, int64_t n_rot,
               std::span<const int32_t> pos);

  // n_rot / 2 values each, for row `row` of the last Prepare.
  const float* cos(int64_t row) const { return values_.data() + row * 2 * half_; }
  const float* sin(int64_t row) const { return cos(row) + half_; }

 private:
  std::vector<double> inv_freq_;  // freq_base^(-2i / n_rot)
  float freq_base_ = 0;           // what inv_freq_ was computed for (0: nothing yet)
  int64_t half_ = 0;
  float freq_scale_ = 0;  // what values_ was computed for, with positions_
  std::vector<int32_t> positions_;
  std::vector<float> values_;  // per row: half_ cosines, then half_ sines
};

// Rotates heads [head_begin, head_end) of one row of n_head * head_dim values (RopeParams) by the
// angles of a table row (`cos`, `sin`: RopeTable::cos/sin of the row's position): in each pair
// (a, b), a' = a cos - b sin, b' = a sin + b cos. NORMAL pairs adjacent elements, NEOX pairs i
// with i + n_rot / 2; dimensions from n_rot on stay as they are.
void RotateHeads(float* row, int64_t head_dim, int64_t n_rot, bool neox, const float* cos,
                 const float* sin, int64_t head_begin, int64_t head_end);

}  // namespace infernet::cpu
