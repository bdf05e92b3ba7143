// Job files: what a user hands `infernet client run` — a JSON object naming the model, the kind of
// task, a JSONL file of inputs and the parameters:
//
//   {
//     "model": "<64 hex digits: BLAKE2b-256 of the GGUF file>",
//     "kind": "generate" | "embed" | "score",
//     "inputs": "inputs.jsonl",          // relative paths are relative to the job file
//     "max_tokens": 128,                 // generate: tokens per input (default 128)
//     "temperature": 0.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "repetition_penalty": 1.0,
//     "seed": 0, "chat": false,          // generate only
//     "pooling": "mean" | "last",        // embed only (default mean)
//     "max_price_per_mtok": 1000,        // integer micro-units per million tokens (required)
//     "deadline_seconds": 600,           // from submission (default 600)
//     "min_gpu_vram_gb": 24,             // optional: only providers with a GPU this large (GiB)
//     "provider": {"id": "<64 hex>", "address": "host:port"}   // optional: a direct job
//     "aggregator": {"id": "<64 hex>", "address": "host:port"} // optional: through an aggregator
//   }
//
// Each line of the inputs file is a JSON object: {"prompt": ...} (generate), {"text": ...}
// (embed; "prompt" is accepted too) or {"prompt": ..., "continuation": ...} (score). Blank lines
// are skipped. Unknown keys are errors (they are usually typos). Every error names the field, or
// the file and line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/task.pb.h"

namespace infernet::client {

inline constexpr size_t kMaxJobFileBytes = 1 << 20;
inline constexpr size_t kMaxInputsFileBytes = 256 << 20;
inline constexpr size_t kMaxJobInputs = 1 << 20;

struct ProviderEndpoint {
  NodeId id;
  std::string address;  // host:port
};

struct JobInput {
  std::string text;          // prompt (generate, score) or text (embed)
  std::string continuation;  // score only
};

struct JobSpec {
  Digest32 model{};
  v1::TaskKind kind = v1::TASK_KIND_UNSPECIFIED;
  std::vector<JobInput> inputs;
  v1::GenerationParams generation;  // generate only
  v1::Pooling pooling = v1::MEAN;   // embed only
  uint64_t max_price_per_mtok_micros = 0;
  int64_t deadline_seconds = 600;
  uint64_t min_gpu_vram_bytes = 0;  // 0: any provider, CPU-only ones included
  std::optional<ProviderEndpoint> provider;
  std::optional<ProviderEndpoint> aggregator;
};

// Reads and validates a job file and its inputs file. INVALID_ARGUMENT naming the field (or
// "inputs.jsonl line N"), NOT_FOUND / IO for missing or unreadable files.
Result<JobSpec> ParseJobFile(const std::filesystem::path& path);
// The same from the job's JSON text; relative input paths resolve against `base_dir`.
Result<JobSpec> ParseJob(std::string_view json, const std::filesystem::path& base_dir);
// The inputs of a job of `kind` from JSONL text; `name` is used in error messages.
Result<std::vector<JobInput>> ParseJobInputs(std::string_view jsonl, v1::TaskKind kind,
                                             const std::string& name);

}  // namespace infernet::client
