// The CPU back end: weights used in place from the mapped file, F32 activations and KV cache,
// quant/ kernels for matrix products, and a fixed thread pool per ComputeStream.
#pragma once

#include <memory>

#include "engine/backend.h"

namespace infernet {

// `n_threads` <= 0: one thread per hardware thread. Streams created with n_threads <= 0 use it.
std::unique_ptr<Backend> CreateCpuBackend(int n_threads);

}  // namespace infernet
