// Engine speed and memory against the machine's own limits, measured in the same run:
// prefill tokens/s (a 512-token prompt in one batch) against the OpenBLAS SGEMM rate, decode
// tokens/s (128 greedy tokens) against the memory-bandwidth ceiling, and peak RSS against
// weights + KV cache + 10 %.
//
// The machine limits run in child processes (infernet_machine_limits, found beside this program),
// so their 1 GiB buffers, SGEMM matrices and OpenBLAS itself (its code and thread buffers) never
// count in the engine process's peak RSS, and so each child can pick its own OpenBLAS kernels:
// OpenBLAS reads OPENBLAS_CORETYPE only when it loads. The SGEMM reference is the AVX-512
// ("SkylakeX") kernels on a CPU that has AVX-512, because Debian's OpenBLAS 0.3.21 falls back to
// AVX2 kernels on Zen 5 (half the peak); the rate of the kernels OpenBLAS picks by itself is
// reported beside it. See docs/benchmarks.md.
//
// The decode ceiling: the decode runs in segments of at least --segment-seconds (1 s), with a
// read-bandwidth reading (the outer readings' 1 GiB buffer and best of 10 passes, from a child
// kept for the run) before the first and after each; each segment is held to the higher of its
// two readings (bench/paired_ceiling.h). This machine's bandwidth can change by half within
// seconds, which made readings taken only before and after the whole run (still reported, as
// "outer") pair a decode with the other regime. A reading disturbs the decode after it (0.2-0.3 s
// of both cores reading memory; 16-token segments of the 100m model, 26 ms each, decoded ~10 %
// slower than the same 128 tokens in one segment), so segments are long enough for that to stay
// small: the 100m models' 128 tokens are one segment, read between two adjacent readings.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/paired_ceiling.h"
#include "bench/plain_flags.h"
#include "bench/read_probe_client.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/context.h"
#include "engine/model/model.h"
#include "engine/sampling/sampler.h"

extern char** environ;

namespace infernet::bench {
namespace {

struct Flags {
  std::string model;
  int threads = 2;
  int prompt_tokens = 512;
  int decode_tokens = 128;
  int repetitions = 3;
  int decode_repetitions = 3;  // the best is kept, as for prefill
  int bandwidth_mib = 1024;
  double segment_seconds = 1.0;  // least decode time between two paired bandwidth readings
  int probe_mib = 1024;
  int probe_repetitions = 10;
  bool skip_limits = false;
  std::string limits_program;  // empty: infernet_machine_limits beside this program
  std::string kv_type = "f16";
};

struct ChildLimits {
  double read_gb_per_s = 0;  // 0 when not measured
  double sgemm_gflop_per_s = 0;
  std::string kernel;
};

bool CpuHasAvx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

std::string LimitsProgram(const Flags& flags) {
  if (!flags.limits_program.empty()) return flags.limits_program;
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return (error ? std::filesystem::path("infernet_machine_limits")
                : self.parent_path() / "infernet_machine_limits")
      .string();
}

// Reads the figures a child needs from infernet_machine_limits' JSON lines.
Result<ChildLimits> ParseLimits(const std::string& output, bool bandwidth) {
  ChildLimits limits;
  size_t at = 0;
  while (at < output.size()) {
    size_t end = output.find('\n', at);
    if (end == std::string::npos) end = output.size();
    const auto line = nlohmann::json::parse(output.substr(at, end - at), nullptr, false);
    at = end + 1;
    if (!line.is_object()) continue;
    const std::string name = line.value("name", "");
    if (name == "read_bandwidth") limits.read_gb_per_s = line.value("gb_per_s", 0.0);
    if (name == "sgemm") {
      limits.sgemm_gflop_per_s = line.value("gflop_per_s", 0.0);
      limits.kernel = line.value("kernel", "");
    }
  }
  if (limits.sgemm_gflop_per_s <= 0 || (bandwidth && limits.read_gb_per_s <= 0)) {
    return Status::Internal("machine-limit measurement printed no " +
                            std::string(bandwidth ? "bandwidth and SGEMM" : "SGEMM") +
                            " figures: '" + output + "'");
  }
  return limits;
}

// Runs infernet_machine_limits with OPENBLAS_CORETYPE set to `coretype` (removed when empty) and
// reads its read bandwidth (unless !bandwidth) and SGEMM rate.
Result<ChildLimits> MeasureLimitsInChild(const Flags& flags, const std::string& coretype,
                                         bool bandwidth) {
  // Everything the child needs is built before fork(): the engine's worker threads may be
  // running, so the child calls only async-signal-safe functions before execve().
  const std::string program = LimitsProgram(flags);
  std::vector<std::string> args = {program, "--threads=" + std::to_string(flags.threads),
                                   "--buffer_mib=" + std::to_string(flags.bandwidth_mib),
                                   "--skip_copy"};  // the ceiling uses the read bandwidth only
  if (!bandwidth) args.push_back("--skip_bandwidth");
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "OPENBLAS_CORETYPE=", 18) != 0) env.emplace_back(*e);
  }
  if (!coretype.empty()) env.push_back("OPENBLAS_CORETYPE=" + coretype);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) return Status::Io("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return Status::Io("fork failed");
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  char buffer[256];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof(buffer))) > 0) output.append(buffer, got);
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Status::Internal(program + " failed (exit status " +
                            std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) +
                            (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127
                                 ? ", not found: build it or pass --limits-program"
                                 : "") +
                            ")");
  }
  return ParseLimits(output, bandwidth);
}

// The references for one engine run. Bandwidth: best of a measurement before and one after the
// engine (this machine's 2-thread bandwidth is bimodal with vCPU placement, and a ceiling taken
// in the low mode would flatter the engine). SGEMM: the best rate seen, normally the AVX-512
// kernels'; `sgemm_default_gflop_per_s` is what OpenBLAS's own kernel choice reaches (no
// OPENBLAS_CORETYPE in the environment).
struct Limits {
  double read_gb_per_s[2] = {0, 0};
  double sgemm_gflop_per_s = 0;
  std::string sgemm_kernel;
  double sgemm_default_gflop_per_s = 0;
  std::string sgemm_default_kernel;
  double read_best() const { return std::max(read_gb_per_s[0], read_gb_per_s[1]); }
};

// OPENBLAS_CORETYPE for the reference SGEMM: the AVX-512 kernels where the CPU has AVX-512 (an
// inherited OPENBLAS_CORETYPE is ignored: environments may pin older kernels), else OpenBLAS's
// own choice.
std::string ReferenceCoretype() { return CpuHasAvx512() ? "SkylakeX" : ""; }

// Measures bandwidth and the reference SGEMM into slot `slot`; with `with_default`, also the
// SGEMM rate of OpenBLAS's own kernel choice.
Status MeasureLimits(const Flags& flags, int slot, bool with_default, Limits* limits) {
  INFERNET_ASSIGN_OR_RETURN(ChildLimits reference,
                            MeasureLimitsInChild(flags, ReferenceCoretype(), true));
  limits->read_gb_per_s[slot] = reference.read_gb_per_s;
  if (reference.sgemm_gflop_per_s > limits->sgemm_gflop_per_s) {
    limits->sgemm_gflop_per_s = reference.sgemm_gflop_per_s;
    limits->sgemm_kernel = reference.kernel;
  }
  if (with_default) {
    INFERNET_ASSIGN_OR_RETURN(ChildLimits fallback, MeasureLimitsInChild(flags, "", false));
    limits->sgemm_default_gflop_per_s = fallback.sgemm_gflop_per_s;
    limits->sgemm_default_kernel = fallback.kernel;
  }
  return Status::Ok();
}

double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
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

// `values` as a JSON array of numbers with two decimals.
std::string JsonArray(const std::vector<double>& values) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char text[32];
    std::snprintf(text, sizeof(text), "%s%.2f", i ? "," : "", values[i]);
    json += text;
  }
  return json + "]";
}

// Prints `value` as a JSON number, or null when the limits were not measured.
std::string JsonNumber(bool measured, double value, const char* format) {
  if (!measured) return "null";
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

// One greedy decode of flags.decode_tokens tokens after the prompt, from its first token, in
// segments with a bandwidth reading before the first and after each (none without a probe).
struct DecodeRun {
  std::vector<DecodeSegment> segments;
  std::vector<double> readings;
  std::vector<TokenId> tokens;  // the tokens generated, the same in every repetition
  double seconds = 0;
  PairedCeiling paired;  // set by the caller where readings were taken
};

Result<DecodeRun> RunDecode(Context& ctx, const Flags& flags, TokenId first_token,
                            ReadProbeClient* probe) {
  DecodeRun run;
  // Touched before the timing, as the prefill's logits were when decode followed it directly.
  std::vector<float> logits(static_cast<size_t>(ctx.model().config().n_vocab));
  const auto take_reading = [&]() -> Status {
    if (probe == nullptr) return Status::Ok();
    INFERNET_ASSIGN_OR_RETURN(double gb_s, probe->Read());
    run.readings.push_back(gb_s);
    return Status::Ok();
  };
  INFERNET_RETURN_IF_ERROR(take_reading());
  // Without readings the decode is one segment.
  const double segment_seconds = probe ? flags.segment_seconds : 1e300;
  for (int first = 0; first < flags.decode_tokens;) {
    auto start = std::chrono::steady_clock::now();
    int count = 0;
    for (int i = first; i < flags.decode_tokens; ++i) {
      // The engine's greedy rule (GreedyToken). std::max_element, used here before, compares
      // through a pointer to the best so far, a dependent load per element: 97 us over 32000
      // logits on Zen 4, 5 % of a 100m-Q4_K token, against 11 us.
      const TokenId next = i == 0 ? first_token : GreedyToken(logits);
      run.tokens.push_back(next);
      BatchEntry entry{next, 0, flags.prompt_tokens + i, true};
      logits.clear();
      Status s = ctx.Decode(std::span(&entry, 1), &logits);
      if (!s.ok()) return Status(s.code(), "decode: " + s.message());
      ++count;
      if (Seconds(start) >= segment_seconds) break;
    }
    const double seconds = Seconds(start);
    run.seconds += seconds;
    // Token i attends to prompt_tokens + i + 1 positions.
    run.segments.push_back({count, seconds, flags.prompt_tokens + first + (count + 1) / 2.0});
    first += count;
    INFERNET_RETURN_IF_ERROR(take_reading());
  }
  return run;
}

int Run(const Flags& flags) {
  const double load_start = LoadAverage();
  // Started first: it forks, and no engine thread runs yet.
  std::unique_ptr<ReadProbeClient> probe;
  if (!flags.skip_limits) {
    auto started = ReadProbeClient::Start(LimitsProgram(flags), flags.threads, flags.probe_mib,
                                          flags.probe_repetitions);
    if (!started.ok()) {
      std::fprintf(stderr, "error: %s\n", started.status().ToString().c_str());
      return 1;
    }
    probe = std::move(*started);
  }
  Limits limits;
  if (!flags.skip_limits) {
    Status s = MeasureLimits(flags, 0, /*with_default=*/true, &limits);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
      return 1;
    }
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
  params.kv_type = flags.kv_type == "f32" ? TensorType::kF32 : TensorType::kF16;
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

  // Every decode repetition starts from the prompt's greedy next token.
  const TokenId first_token = GreedyToken(logits);
  logits = {};
  const auto& file = (*model)->file();
  // Decode reads its weights plus, on average, the K and V of ~prompt + decode/2 positions.
  const double kv_per_position = 2.0 * config.n_layer * config.n_head_kv * config.head_dim *
                                 static_cast<double>(RowBytes(params.kv_type, 1));
  const auto weights_per_token =
      static_cast<double>(WeightBytesPerToken(file, config.tied_embeddings));
  std::vector<DecodeRun> runs;
  for (int rep = 0; rep < flags.decode_repetitions; ++rep) {
    (*ctx)->TruncateSequence(0, flags.prompt_tokens);
    auto run = RunDecode(**ctx, flags, first_token, probe.get());
    if (!run.ok()) {
      std::fprintf(stderr, "error: %s\n", run.status().ToString().c_str());
      return 1;
    }
    if (probe) {
      auto paired = PairCeiling(run->segments, run->readings, weights_per_token, kv_per_position);
      if (!paired.ok()) {
        std::fprintf(stderr, "error: %s\n", paired.status().ToString().c_str());
        return 1;
      }
      run->paired = *paired;
    }
    if (!runs.empty() && run->tokens != runs.front().tokens) {
      std::fprintf(stderr, "error: decode repetition %d generated other tokens than the first\n",
                   rep + 1);
      return 1;
    }
    runs.push_back(std::move(*run));
  }
  // The best repetition, as for prefill: against its own readings where they were taken, else
  // the fastest. A repetition that a host interruption slowed says nothing about the engine.
  size_t best = 0;
  for (size_t r = 1; r < runs.size(); ++r) {
    const bool better = probe ? runs[r].paired.fraction > runs[best].paired.fraction
                              : runs[r].seconds < runs[best].seconds;
    if (better) best = r;
  }
  const DecodeRun& decode = runs[best];
  const std::vector<DecodeSegment>& segments = decode.segments;
  const std::vector<double>& readings = decode.readings;
  const double decode_seconds = decode.seconds;

  if (!flags.skip_limits) {
    Status s = MeasureLimits(flags, 1, /*with_default=*/false, &limits);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double load_end = LoadAverage();

  // The limit children are separate processes, so this is the engine process alone.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_rss = static_cast<double>(usage.ru_maxrss) * 1024.0;
  const double weight_bytes = static_cast<double>((*model)->weight_bytes());
  const double kv_bytes = static_cast<double>((*ctx)->kv_cache_bytes());
  const double rss_limit = (weight_bytes + kv_bytes) * 1.10;

  const double avg_positions = flags.prompt_tokens + (flags.decode_tokens + 1) / 2.0;
  const double bytes_per_token = weights_per_token + kv_per_position * avg_positions;
  const double decode_tps = flags.decode_tokens / decode_seconds;
  const double prefill_tps = flags.prompt_tokens / best_prefill;
  const double prefill_gflops =
      PrefillFlops(file, config, flags.prompt_tokens) / best_prefill / 1e9;

  const bool m = !flags.skip_limits;
  const PairedCeiling& paired = decode.paired;
  std::vector<double> repetition_tok_s, repetition_fractions;
  for (const DecodeRun& run : runs) {
    repetition_tok_s.push_back(flags.decode_tokens / run.seconds);
    repetition_fractions.push_back(100 * run.paired.fraction);
  }
  std::vector<double> segment_tokens, segment_tok_s;
  for (const DecodeSegment& segment : segments) {
    segment_tokens.push_back(segment.tokens);
    segment_tok_s.push_back(segment.tokens / segment.seconds);
  }
  const double read_gb = limits.read_best();
  const double sgemm = std::max(limits.sgemm_gflop_per_s, limits.sgemm_default_gflop_per_s);
  // The target is read against the paired readings (PairCeiling); the run's outer 1 GiB readings
  // give the earlier, coarser figure, kept for comparison.
  const double outer_ceiling_tps = m ? read_gb * 1e9 / bytes_per_token : 0;
  const double outer_fraction = m ? decode_tps / outer_ceiling_tps : 0;
  const double ceiling_tps = paired.ceiling_tok_s;
  const double prefill_fraction = m ? prefill_gflops / sgemm : 0;
  const double decode_fraction = paired.fraction;
  const std::string sgemm_kernel = limits.sgemm_gflop_per_s >= limits.sgemm_default_gflop_per_s
                                       ? limits.sgemm_kernel
                                       : limits.sgemm_default_kernel;

  double params_total = 0;
  for (const auto& t : file.tensors()) params_total += static_cast<double>(t.num_elements());
  std::string types;
  for (const auto& t : file.tensors()) {
    if (t.name == "blk.0.ffn_down.weight") types = std::string(TypeName(t.type));
  }
  std::printf(
      "{\"model\":\"%s\",\"type\":\"%s\",\"params\":%.0f,\"weight_bytes\":%.0f,\"threads\":%d,"
      "\"kv_type\":\"%s\",\"prompt_tokens\":%d,\"decode_tokens\":%d,\"prefill_tok_s\":%.2f,"
      "\"prefill_gflop_s\":%.2f,"
      "\"sgemm_gflop_s\":%s,\"sgemm_kernel\":\"%s\",\"sgemm_default_gflop_s\":%s,"
      "\"sgemm_default_kernel\":\"%s\",\"prefill_fraction_of_sgemm\":%s,"
      "\"prefill_meets_target\":%s,\"decode_tok_s\":%.3f,\"read_gb_s\":%s,"
      "\"read_gb_s_before\":%s,\"read_gb_s_after\":%s,\"bytes_per_token\":%.0f,"
      "\"decode_ceiling_tok_s\":%s,\"decode_fraction_of_ceiling\":%s,\"decode_meets_target\":%s,"
      "\"segment_seconds\":%.2f,\"segment_tokens\":%s,\"segment_read_gb_s\":%s,"
      "\"segment_tok_s\":%s,\"decode_repetitions\":%d,\"best_repetition\":%zu,"
      "\"repetition_tok_s\":%s,\"repetition_percent_of_ceiling\":%s,"
      "\"outer_ceiling_tok_s\":%s,"
      "\"outer_fraction_of_ceiling\":%s,"
      "\"peak_rss_bytes\":%.0f,\"kv_cache_bytes\":%.0f,\"rss_limit_bytes\":%.0f,"
      "\"rss_within_limit\":%s,\"load_avg_start\":%.2f,\"load_avg_end\":%.2f}\n",
      flags.model.c_str(), types.c_str(), params_total, weight_bytes, flags.threads,
      std::string(TypeName(params.kv_type)).c_str(), flags.prompt_tokens, flags.decode_tokens,
      prefill_tps, prefill_gflops, JsonNumber(m, sgemm, "%.2f").c_str(), sgemm_kernel.c_str(),
      JsonNumber(m, limits.sgemm_default_gflop_per_s, "%.2f").c_str(),
      limits.sgemm_default_kernel.c_str(), JsonNumber(m, prefill_fraction, "%.4f").c_str(),
      m ? (prefill_fraction >= 0.60 ? "true" : "false") : "null", decode_tps,
      JsonNumber(m, read_gb, "%.2f").c_str(),
      JsonNumber(m, limits.read_gb_per_s[0], "%.2f").c_str(),
      JsonNumber(m, limits.read_gb_per_s[1], "%.2f").c_str(), bytes_per_token,
      JsonNumber(m, ceiling_tps, "%.3f").c_str(), JsonNumber(m, decode_fraction, "%.4f").c_str(),
      m ? (decode_fraction >= 0.80 ? "true" : "false") : "null", flags.segment_seconds,
      JsonArray(segment_tokens).c_str(), m ? JsonArray(readings).c_str() : "null",
      JsonArray(segment_tok_s).c_str(), flags.decode_repetitions, best + 1,
      JsonArray(repetition_tok_s).c_str(), m ? JsonArray(repetition_fractions).c_str() : "null",
      JsonNumber(m, outer_ceiling_tps, "%.3f").c_str(),
      JsonNumber(m, outer_fraction, "%.4f").c_str(), peak_rss, kv_bytes, rss_limit,
      peak_rss <= rss_limit ? "true" : "false", load_start, load_end);
  std::fprintf(stderr, "%s [%s, %.0fM params, %.0f MiB weights, %s KV cache, load %.2f-%.2f]\n",
               flags.model.c_str(), types.c_str(), params_total / 1e6, weight_bytes / (1 << 20),
               std::string(TypeName(params.kv_type)).c_str(), load_start, load_end);
  std::fprintf(stderr, "  prefill %8.1f tok/s  %6.1f GFLOP/s", prefill_tps, prefill_gflops);
  if (m) {
    std::fprintf(stderr, "  = %3.0f%% of SGEMM %.1f (%s; default %s %.1f)  target 60%%: %s",
                 100 * prefill_fraction, sgemm, sgemm_kernel.c_str(),
                 limits.sgemm_default_kernel.c_str(), limits.sgemm_default_gflop_per_s,
                 prefill_fraction >= 0.60 ? "pass" : "FAIL");
  }
  std::fprintf(stderr, "\n  decode  %8.2f tok/s", decode_tps);
  if (m) {
    const auto [low, high] = std::minmax_element(readings.begin(), readings.end());
    std::fprintf(stderr,
                 "  = %3.0f%% of ceiling %.2f (readings %.1f-%.1f GB/s around %zu segment%s;"
                 " %.1f MB/token)  target 80%%: %s\n"
                 "          repetition %zu of %zu; all:",
                 100 * decode_fraction, ceiling_tps, *low, *high, segments.size(),
                 segments.size() == 1 ? "" : "s", bytes_per_token / 1e6,
                 decode_fraction >= 0.80 ? "pass" : "FAIL", best + 1, runs.size());
    for (size_t r = 0; r < runs.size(); ++r) {
      std::fprintf(stderr, "%s %.2f tok/s = %.0f%%", r ? "," : "", repetition_tok_s[r],
                   repetition_fractions[r]);
    }
    std::fprintf(stderr, "\n          outer readings %.1f, %.1f GB/s: %.0f%% of %.2f",
                 limits.read_gb_per_s[0], limits.read_gb_per_s[1], 100 * outer_fraction,
                 outer_ceiling_tps);
  }
  std::fprintf(stderr, "\n  peak RSS %.1f MiB, limit %.1f MiB (weights + KV %.1f MiB + 10%%): %s\n",
               peak_rss / (1 << 20), rss_limit / (1 << 20), (weight_bytes + kv_bytes) / (1 << 20),
               peak_rss <= rss_limit ? "pass" : "FAIL");
  return 0;
}

}  // namespace
}  // namespace infernet::bench

int main(int argc, char** argv) {
  infernet::bench::Flags flags;
  // PlainFlags rather than CLI11: this process's peak RSS is the figure measured (plain_flags.h).
  infernet::bench::PlainFlags parser(
      "Engine prefill/decode speed and memory against the machine's limits");
  parser.Add("model", &flags.model, "GGUF model", {}, /*required=*/true);
  parser.Add("threads", &flags.threads, "threads", 1, 256);
  parser.Add("prompt-tokens", &flags.prompt_tokens, "prefill length", 1, 8192);
  parser.Add("decode-tokens", &flags.decode_tokens, "tokens to decode", 1, 8192);
  parser.Add("repetitions", &flags.repetitions, "prefill repetitions (best is kept)", 1, 100);
  parser.Add("decode-repetitions", &flags.decode_repetitions,
             "decode repetitions from the same prompt, each between its own bandwidth readings "
             "(best is kept)",
             1, 100);
  parser.Add("bandwidth-mib", &flags.bandwidth_mib, "bandwidth buffer size", 64, 1 << 16);
  parser.Add("segment-seconds", &flags.segment_seconds,
             "least decode time between two paired bandwidth readings (a segment ends after "
             "the token that reaches it)",
             0.0, 60.0);
  parser.Add("probe-mib", &flags.probe_mib, "paired-reading buffer size", 64, 1 << 16);
  parser.Add("probe-repetitions", &flags.probe_repetitions,
             "passes per paired reading (best is kept)", 1, 100);
  parser.Add("kv-type", &flags.kv_type, "KV cache type", {"f16", "f32"});
  parser.AddSwitch("skip-limits", &flags.skip_limits,
                   "engine figures only: no bandwidth or SGEMM reference (ratios are null)");
  parser.Add("limits-program", &flags.limits_program,
             "the machine-limits program (default: infernet_machine_limits beside this one)");
  bool help = false;
  if (const infernet::Status status = parser.Parse(argc, argv, &help); !status.ok()) {
    std::fprintf(stderr, "error: %s\nRun with --help for the flags.\n", status.message().c_str());
    return 2;
  }
  if (help) {
    std::fputs(parser.Usage(argv[0]).c_str(), stdout);
    return 0;
  }
  return infernet::bench::Run(flags);
}
