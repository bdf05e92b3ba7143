// Where a provider's admitted tasks run. The native engine (provider/task_executor.h) and the
// simulated runtime (simulated_runtime.h) both report through these hooks and summaries.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/result.h"
#include "infernet/v1/task.pb.h"

namespace infernet::runtime {

struct ExecutionHooks {
  // Streamed while generating; Token.text holds only complete UTF-8 characters.
  std::function<void(const v1::TaskEvent::Token&)> on_token;
  // Each input's output as soon as it is finished, in input order.
  std::function<void(const v1::TaskOutput&)> on_output;
  // Polled between tokens and between inputs; true stops the task with kCancelled.
  std::function<bool()> is_cancelled;
};

struct ExecutionSummary {
  std::vector<v1::TaskOutput> outputs;  // one per input, in input order
  uint64_t prompt_tokens = 0;
  uint64_t generated_tokens = 0;
};

}  // namespace infernet::runtime
