// Engine speed and memory against the machine's own limits, measured in the same run:
// prefill tokens/s (a 512-token prompt in one batch) against the OpenBLAS SGEMM rate, decode
// tokens/s (128 greedy tokens) against the memory-bandwidth ceiling, and peak RSS against
// weights + KV cache + 10 %.
//
// The machine limits run in a forked child first, so their 1 GiB buffers and SGEMM matrices do
// not count in this process's peak RSS. OpenBLAS picks its kernels when it loads, so set
// OPENBLAS_CORETYPE in the environment (see docs/benchmarks.md) before starting this program.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/machine_limits.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/context.h"
#include "engine/model/model.h"

namespace infernet::bench {
namespace {

struct Flags {
  std::string model;
  int threads = 2;
  int prompt_tokens = 512;
  int decode_tokens = 128;
  int repetitions = 3;
  int bandwidth_mib = 1024;
};

struct Limits {
  double read_gb_per_s = 0;
  double sgemm_gflop_per_s = 0;
};

// Runs the limit measurements in a child process and returns its results through a pipe.
Result<Limits> MeasureLimitsInChild(const Flags& flags) {
  int fds[2];
  if (pipe(fds) != 0) return Status::Io("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return Status::Io("fork failed");
  if (pid == 0) {
    close(fds[0]);
    BandwidthOptions bw;
    bw.threads = flags.threads;
    bw.buffer_bytes = static_cast<size_t>(flags.bandwidth_mib) << 20;
    SgemmOptions gemm;
    gemm.threads = flags.threads;
    auto read = MeasureReadBandwidth(bw);
    auto sgemm = MeasureSgemmGflops(gemm);
    Limits out;
    if (read.ok()) out.read_gb_per_s = read->best;
    if (sgemm.ok()) out.sgemm_gflop_per_s = sgemm->best;
    ssize_t written = write(fds[1], &out, sizeof(out));
    _exit(written == sizeof(out) && read.ok() && sgemm.ok() ? 0 : 1);
  }
  close(fds[1]);
  Limits limits;
  ssize_t got = read(fds[0], &limits, sizeof(limits));
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (got != sizeof(limits) || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Status::Internal("machine-limit measurement failed");
  }
  return limits;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Weight bytes one decode step reads: every tensor except the token embeddings, of which one
// row is read, unless the output projection reuses them (tied), which reads them whole.
uint64_t WeightBytesPerToken(const gguf::GgufFile& file, bool tied) {
  uint64_t bytes = 0;
  for (const auto& t : file.tensors()) {
    if (t.name == "token_embd.weight" && !tied) {
      bytes += t.size_bytes / static_cast<uint64_t>(t.rows());
    } else {
      bytes += t.size_bytes;
    }
  }
  return bytes;
}

// Multiply-add FLOPs of a prefill over `tokens` tokens with logits for the last one only.
double PrefillFlops(const gguf::GgufFile& file, const ModelConfig& c, int tokens) {
  double matmul_params = 0, output_params = 0;
  for (const auto& t : file.tensors()) {
    if (t.shape.size() != 2) continue;
    if (t.name == "output.weight" || (c.tied_embeddings && t.name == "token_embd.weight")) {
      output_params = static_cast<double>(t.num_elements());
    } else if (t.name != "token_embd.weight") {
      matmul_params += static_cast<double>(t.num_elements());
    }
  }
  double attended = 0;  // sum over tokens of the positions each attends to
  for (int t = 0; t < tokens; ++t) attended += t + 1;
  double attention = 2.0 * 2.0 * c.n_layer * c.n_head * c.head_dim * attended;
  return 2.0 * matmul_params * tokens + 2.0 * output_params + attention;
}

int Run(const Flags& flags) {
  // Limits are measured before and after the engine runs; the best of each is the reference.
  // This machine's 2-thread bandwidth is bimodal (vCPU placement), and a ceiling taken in the
  // low mode would flatter the engine.
  auto limits_before = MeasureLimitsInChild(flags);
  if (!limits_before.ok()) {
    std::fprintf(stderr, "error: %s\n", limits_before.status().ToString().c_str());
    return 1;
  }
  auto backend = CreateCpuBackend(flags.threads);
  auto model = Model::Load(flags.model, *backend);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.status().ToString().c_str());
    return 1;
  }
  const ModelConfig& config = (*model)->config();
  ContextParams params;
  params.n_ctx = flags.prompt_tokens + flags.decode_tokens;
  params.n_threads = flags.threads;
  params.max_batch = flags.prompt_tokens;
  auto ctx = Context::Create(**model, params);
  if (!ctx.ok()) {
    std::fprintf(stderr, "error: %s\n", ctx.status().ToString().c_str());
    return 1;
  }

  // A fixed pseudo-random prompt (LCG over the vocabulary): same tokens in every run.
  std::vector<BatchEntry> prompt;
  uint64_t state = 12345;
  for (int i = 0; i < flags.prompt_tokens; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    auto token = static_cast<TokenId>((state >> 33) % static_cast<uint64_t>(config.n_vocab));
    prompt.push_back({token, 0, i, i + 1 == flags.prompt_tokens});
  }
  std::vector<float> logits;
  double best_prefill = 1e30;
  for (int rep = 0; rep < flags.repetitions; ++rep) {
    (*ctx)->ClearSequence(0);
    logits.clear();
    auto start = std::chrono::steady_clock::now();
    Status s = (*ctx)->Decode(prompt, &logits);
    double seconds = Seconds(start);
    if (!s.ok()) {
      std::fprintf(stderr, "error: prefill: %s\n", s.ToString().c_str());
      return 1;
    }
    best_prefill = std::min(best_prefill, seconds);
  }

  // Greedy decode continuing the (last) prefilled prompt.
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < flags.decode_tokens; ++i) {
    auto next = static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    BatchEntry entry{next, 0, flags.prompt_tokens + i, true};
    logits.clear();
    Status s = (*ctx)->Decode(std::span(&entry, 1), &logits);
    if (!s.ok()) {
      std::fprintf(stderr, "error: decode: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  double decode_seconds = Seconds(start);

  auto limits_after = MeasureLimitsInChild(flags);
  if (!limits_after.ok()) {
    std::fprintf(stderr, "error: %s\n", limits_after.status().ToString().c_str());
    return 1;
  }
  Limits best;
  best.read_gb_per_s = std::max(limits_before->read_gb_per_s, limits_after->read_gb_per_s);
  best.sgemm_gflop_per_s =
      std::max(limits_before->sgemm_gflop_per_s, limits_after->sgemm_gflop_per_s);
  const Limits* limits = &best;

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_rss = static_cast<double>(usage.ru_maxrss) * 1024.0;
  const auto& file = (*model)->file();
  const double weight_bytes = static_cast<double>((*model)->weight_bytes());
  const double kv_bytes = static_cast<double>((*ctx)->kv_cache_bytes());
  const double rss_limit = (weight_bytes + kv_bytes) * 1.10;

  // Decode reads its weights plus, on average, the K and V of ~prompt + decode/2 positions.
  const double kv_per_position = 2.0 * config.n_layer * config.n_head_kv * config.head_dim * 4.0;
  const double avg_positions = flags.prompt_tokens + (flags.decode_tokens + 1) / 2.0;
  const double bytes_per_token =
      static_cast<double>(WeightBytesPerToken(file, config.tied_embeddings)) +
      kv_per_position * avg_positions;
  const double decode_tps = flags.decode_tokens / decode_seconds;
  const double ceiling_tps = limits->read_gb_per_s * 1e9 / bytes_per_token;
  const double prefill_tps = flags.prompt_tokens / best_prefill;
  const double prefill_gflops = PrefillFlops(file, config, flags.prompt_tokens) / best_prefill / 1e9;

  double params_total = 0;
  for (const auto& t : file.tensors()) params_total += static_cast<double>(t.num_elements());
  std::string types;
  for (const auto& t : file.tensors()) {
    if (t.name == "blk.0.ffn_down.weight") types = std::string(TypeName(t.type));
  }
  std::printf(
      "{\"model\":\"%s\",\"type\":\"%s\",\"params\":%.0f,\"weight_bytes\":%.0f,\"threads\":%d,"
      "\"prompt_tokens\":%d,\"decode_tokens\":%d,\"prefill_tok_s\":%.2f,\"prefill_gflop_s\":%.2f,"
      "\"sgemm_gflop_s\":%.2f,\"prefill_fraction_of_sgemm\":%.4f,\"decode_tok_s\":%.3f,"
      "\"read_gb_s\":%.2f,\"bytes_per_token\":%.0f,\"decode_ceiling_tok_s\":%.3f,"
      "\"decode_fraction_of_ceiling\":%.4f,\"peak_rss_bytes\":%.0f,\"kv_cache_bytes\":%.0f,"
      "\"rss_limit_bytes\":%.0f,\"rss_within_limit\":%s}\n",
      flags.model.c_str(), types.c_str(), params_total, weight_bytes, flags.threads,
      flags.prompt_tokens, flags.decode_tokens, prefill_tps, prefill_gflops,
      limits->sgemm_gflop_per_s, prefill_gflops / limits->sgemm_gflop_per_s, decode_tps,
      limits->read_gb_per_s, bytes_per_token, ceiling_tps, decode_tps / ceiling_tps, peak_rss,
      kv_bytes, rss_limit, peak_rss <= rss_limit ? "true" : "false");
  std::fprintf(stderr,
               "%s [%s, %.0fM params]: prefill %.1f tok/s = %.1f GFLOP/s (%.0f%% of SGEMM %.1f); "
               "decode %.2f tok/s (%.0f%% of ceiling %.2f at %.1f GB/s); RSS %.0f MiB (limit %.0f)\n",
               flags.model.c_str(), types.c_str(), params_total / 1e6, prefill_tps,
               prefill_gflops, 100 * prefill_gflops / limits->sgemm_gflop_per_s,
               limits->sgemm_gflop_per_s, decode_tps, 100 * decode_tps / ceiling_tps, ceiling_tps,
               limits->read_gb_per_s, peak_rss / (1 << 20), rss_limit / (1 << 20));
  return 0;
}

}  // namespace
}  // namespace infernet::bench

int main(int argc, char** argv) {
  infernet::bench::Flags flags;
  CLI::App app{"Engine prefill/decode speed and memory against the machine's limits"};
  app.add_option("--model", flags.model, "GGUF model")->required();
  app.add_option("--threads", flags.threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--prompt-tokens", flags.prompt_tokens, "prefill length")
      ->check(CLI::Range(1, 8192))->capture_default_str();
  app.add_option("--decode-tokens", flags.decode_tokens, "tokens to decode")
      ->check(CLI::Range(1, 8192))->capture_default_str();
  app.add_option("--repetitions", flags.repetitions, "prefill repetitions (best is kept)")
      ->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--bandwidth-mib", flags.bandwidth_mib, "bandwidth buffer size")
      ->check(CLI::Range(64, 1 << 16))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return infernet::bench::Run(flags);
}
