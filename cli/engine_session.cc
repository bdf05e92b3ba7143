#include "cli/engine_session.h"

#include <filesystem>

#include "engine/cpu/cpu_backend.h"

namespace infernet::cli {

void AddEngineFlags(CLI::App& command, EngineFlags& flags) {
  command.add_option("-m,--model", flags.model_path, "GGUF model file")->required();
  command.add_option("-t,--threads", flags.threads, "CPU threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  command.add_option("-c,--ctx", flags.ctx, "context length in tokens")
      ->check(CLI::Range(1, 1 << 20));
  command.add_option("-b,--batch", flags.batch, "tokens per forward pass during prefill")
      ->check(CLI::Range(1, 8192));
  command
      .add_option("--kv-type", flags.kv_type,
                  "KV cache storage: f16 (half the memory) or f32 (exact keys and values)")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
}

Result<EngineSession> OpenEngineSession(const EngineFlags& flags, int n_seq) {
  if (!std::filesystem::exists(flags.model_path)) {
    return Status::NotFound("model file not found: " + flags.model_path);
  }
  EngineSession session;
  session.backend = CreateCpuBackend(flags.threads);
  auto model = Model::Load(flags.model_path, *session.backend);
  if (!model.ok()) return model.status();  // Model::Load names the file
  session.model = std::move(model).value();
  ContextParams params;
  params.n_ctx = flags.ctx;
  params.n_seq = n_seq;
  params.n_threads = flags.threads;
  params.max_batch = flags.batch;
  params.kv_type = flags.kv_type == "f32" ? TensorType::kF32 : TensorType::kF16;
  INFERNET_ASSIGN_OR_RETURN(session.context, Context::Create(*session.model, params));
  return session;
}

}  // namespace infernet::cli
