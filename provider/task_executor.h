// Runs one verified TaskRequest on a loaded model: GENERATE (sampling as requested, tokens
// streamed as they come), EMBED (L2-normalised, mean or last pooling) or SCORE. The outputs are a
// function of the model, the inputs and the parameters only (the engine is deterministic), so two
// honest providers produce outputs with the same canonical hashes.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/result.h"
#include "engine/model/model.h"
#include "engine/sampling/sampler.h"
#include "infernet/v1/task.pb.h"
#include "runtime/task_runtime.h"

namespace infernet::provider {

struct ExecutionLimits {
  int32_t n_ctx = 2048;     // positions per context (clamped to the model's)
  int32_t threads = 0;      // 0 = all cores
  int32_t max_batch = 512;  // prefill tokens per forward pass
};

using runtime::ExecutionHooks;
using runtime::ExecutionSummary;

// The engine's sampling parameters for a request's GenerationParams. Proto3 cannot tell "unset"
// from 0, so top_p = 0 and repetition_penalty = 0 mean "off" (1). INVALID_ARGUMENT when out of
// range.
Result<SamplingParams> ToSamplingParams(const v1::GenerationParams& generation);

// The prompt tokens of a GENERATE input: the chat template applied when `chat` (the format comes
// from the model's tokenizer.chat_template), BOS added as the model asks; control-token text in a
// plain prompt stays plain text.
Result<std::vector<TokenId>> TokenizePrompt(const Model& model, const std::string& text, bool chat);

// Runs `request` (already authenticated and admitted) on `model` in a fresh Context. Errors:
// kCancelled when `hooks.is_cancelled` fired; INVALID_ARGUMENT / OUT_OF_RANGE for inputs the
// engine refuses (too long for the context, empty); others are provider failures.
Result<ExecutionSummary> ExecuteTask(const Model& model, const v1::TaskRequest& request,
                                     const ExecutionLimits& limits, const ExecutionHooks& hooks);

}  // namespace infernet::provider
