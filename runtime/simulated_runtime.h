// A runtime that costs a configurable time per token without computing, so that the coordination
// layer (aggregators, many providers) can be driven at scales the engine cannot reach on one
// machine. Its outputs are made up — deterministic functions of the model hash, the parameters
// and the input, so two honest simulated providers agree — and it reports the backend
// "simulated" so that nobody mistakes them for engine results. It never stands in for the engine
// in tests of outputs.
#pragma once

#include <cstdint>

#include "core/result.h"
#include "runtime/task_runtime.h"

namespace infernet::runtime {

struct SimulatedRuntimeConfig {
  uint32_t us_per_token = 1000;  // per generated token; a prompt token costs a tenth
  bool fail_tasks = false;       // every task fails (kInternal) half-way: fault tests
};

// Prompt tokens of an input, estimated without a tokenizer (~4 bytes per token, at least 1).
uint32_t SimulatedPromptTokens(const v1::TaskInput& input);

// The made-up output of one input of `request`.
v1::TaskOutput SimulatedOutput(const v1::TaskRequest& request, const v1::TaskInput& input);

// Runs `request`: for each input, its prompt time, then (GENERATE) max_tokens tokens streamed one
// per us_per_token, paced against a deadline from the start so that overheads do not accumulate.
// kCancelled when hooks.is_cancelled fires (polled at least every token and every 10 ms).
Result<ExecutionSummary> RunSimulated(const v1::TaskRequest& request,
                                      const SimulatedRuntimeConfig& config,
                                      const ExecutionHooks& hooks);

}  // namespace infernet::runtime
