// What the engine commands share: the model/thread/context flags and loading them into a ready
// back end, model and context.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "core/result.h"
#include "engine/backend.h"
#include "engine/model/context.h"
#include "engine/model/model.h"

namespace infernet::cli {

struct EngineFlags {
  std::string model_path;
  int threads = 0;  // 0 = all cores
  int ctx = 2048;
  int batch = 512;
  std::string kv_type = "f16";  // KV cache storage: f16 or f32
};

// Adds --model (required), --threads, --ctx, --batch, --kv-type to `command`.
void AddEngineFlags(CLI::App& command, EngineFlags& flags);

struct EngineSession {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Model> model;
  std::unique_ptr<Context> context;
};

Result<EngineSession> OpenEngineSession(const EngineFlags& flags, int n_seq = 1);

}  // namespace infernet::cli
