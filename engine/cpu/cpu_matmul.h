// Matrix product of a stored weight and a batch of activation rows on the CPU.
#pragma once

#include <cstdint>
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

}  // namespace infernet::cpu
