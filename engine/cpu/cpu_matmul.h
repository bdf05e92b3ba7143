// Matrix product of a stored weight and a batch of activation rows on the CPU.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/cpu/cpu_types.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

// out[t * w.rows() + r] = VecDot(w row r, activation row t) (+ bias[r]) for t < n.
// Each activation row is prepared once (QuantizeActivationRow) into `scratch`; weight rows are
// split across threads and multiplied in VecDotTile tiles, so every element is the same VecDot
// whatever n, the tiling or the thread count. `bias`: null or w.rows() floats.
void MatMul(ThreadPool& pool, std::vector<uint8_t>& scratch, const CpuWeight& w, const float* bias,
            const float* x, int64_t n, float* out);

// One product of MatMuls: out = w x (+ bias), laid out as for MatMul.
struct MatMulTarget {
  const CpuWeight* w;
  const float* bias;  // null or w->rows() floats
  float* out;
};

// The products of several weights with the same n activation rows `x` (all of row length
// x's width), bit-identical to MatMul for each in turn, in one hand-off to the threads: the row
// blocks of all the weights form one range split across them, and each activation format is
// prepared once.
void MatMuls(ThreadPool& pool, std::vector<uint8_t>& scratch, std::span<const MatMulTarget> targets,
             const float* x, int64_t n);

}  // namespace infernet::cpu
