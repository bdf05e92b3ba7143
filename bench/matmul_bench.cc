// infernet_matmul_bench: throughput of the engine's CPU matrix product (cpu::MatMul, the code the
// CPU back end runs) on the shapes ggml's `test-backend-ops perf -o MUL_MAT` uses, so the two can
// be compared figure for figure (bench/compare_ggml.sh).
//
// For each weight type, a weight of m rows x k columns (GGUF layout: rows of length k) is filled
// with random floats quantized to that type; n activation rows of random f32 are multiplied by it.
// Each timed call includes the activation quantization, as ggml's timing does. Calls repeat for at
// least --min-seconds; GFLOPS = 2*m*n*k / seconds per call, for the best and the median call,
// and for the mean call (total time / calls), which is what test-backend-ops reports.
//
// Usage: infernet_matmul_bench [--threads=2] [--min-seconds=1] [--n=1,512] [--m=4096] [--k=14336]
//                              [--types=f16,bf16,q8_0,q4_0,q4_k,q6_k]
// (flags also take their value as the next argument: --threads 2)
// Prints a table on stderr and one JSON line per case on stdout.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/thread_pool.h"
#include "engine/quant/quant.h"
#include "engine/tensor_type.h"

namespace {

using infernet::Result;
using infernet::Status;
using infernet::TensorType;

struct Flags {
  int threads = 2;
  double min_seconds = 1.0;
  std::vector<TensorType> types = {TensorType::kF16,  TensorType::kBF16, TensorType::kQ8_0,
                                   TensorType::kQ4_0, TensorType::kQ4_K, TensorType::kQ6_K};
  std::vector<int64_t> ns = {1, 512};
  int64_t m = 4096;
  int64_t k = 14336;
};

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

Result<int64_t> ParsePositive(std::string_view name, std::string_view text) {
  const std::string value(text);
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < 1 || parsed > (1LL << 30)) {
    return Status::InvalidArgument("--" + std::string(name) + " wants a positive integer, got '" +
                                   value + "'");
  }
  return static_cast<int64_t>(parsed);
}

Status ApplyFlag(Flags& flags, std::string_view name, std::string_view value) {
  if (name == "threads") {
    INFERNET_ASSIGN_OR_RETURN(const int64_t threads, ParsePositive(name, value));
    flags.threads = static_cast<int>(threads);
  } else if (name == "min-seconds") {
    const std::string text(value);
    char* end = nullptr;
    flags.min_seconds = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(flags.min_seconds > 0)) {
      return Status::InvalidArgument("--min-seconds wants a positive number, got '" + text + "'");
    }
  } else if (name == "types") {
    flags.types.clear();
    for (std::string_view part : SplitCommas(value)) {
      const auto type = infernet::TensorTypeFromName(part);
      if (!type || *type == TensorType::kQ8_K) {
        return Status::InvalidArgument("--types: unknown weight type '" + std::string(part) + "'");
      }
      flags.types.push_back(*type);
    }
  } else if (name == "n") {
    flags.ns.clear();
    for (std::string_view part : SplitCommas(value)) {
      INFERNET_ASSIGN_OR_RETURN(const int64_t n, ParsePositive(name, part));
      flags.ns.push_back(n);
    }
  } else if (name == "m") {
    INFERNET_ASSIGN_OR_RETURN(flags.m, ParsePositive(name, value));
  } else if (name == "k") {
    INFERNET_ASSIGN_OR_RETURN(flags.k, ParsePositive(name, value));
  } else {
    return Status::InvalidArgument("unknown flag --" + std::string(name));
  }
  return Status::Ok();
}

// Accepts --flag=value and --flag value.
Result<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") {
      return Status::InvalidArgument("expected --flag=value, got '" + std::string(arg) + "'");
    }
    const size_t eq = arg.find('=');
    std::string_view name, value;
    if (eq != std::string_view::npos) {
      name = arg.substr(2, eq - 2);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      name = arg.substr(2);
      value = argv[++i];
    } else {
      return Status::InvalidArgument("flag " + std::string(arg) + " wants a value");
    }
    INFERNET_RETURN_IF_ERROR(ApplyFlag(flags, name, value));
  }
  return flags;
}

// Random N(0,1) rows quantized to `type`, built in parallel (K-quant quantization is slow).
std::vector<uint8_t> RandomWeight(infernet::cpu::ThreadPool& pool, TensorType type, int64_t m,
                                  int64_t k) {
  const size_t row_bytes = infernet::RowBytes(type, k);
  std::vector<uint8_t> data(row_bytes * static_cast<size_t>(m));
  pool.ParallelFor(m, 1, [&](int64_t begin, int64_t end, int) {
    std::mt19937 rng(static_cast<uint32_t>(1234 + begin));
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(k));
    for (int64_t r = begin; r < end; ++r) {
      for (float& v : row) v = dist(rng);
      infernet::quant::QuantizeRow(type, row.data(), data.data() + r * row_bytes, k);
    }
  });
  return data;
}

struct Timing {
  double best_s;
  double median_s;
  double mean_s;  // total / calls: what test-backend-ops reports
  int calls;
};

Timing TimeMatMul(infernet::cpu::ThreadPool& pool, const infernet::cpu::CpuWeight& w,
                  const std::vector<float>& x, int64_t n, double min_seconds) {
  std::vector<uint8_t> scratch;
  std::vector<float> out(static_cast<size_t>(n * w.rows()));
  using Clock = std::chrono::steady_clock;
  // One untimed call sizes the scratch buffer and warms caches and threads.
  infernet::cpu::MatMul(pool, scratch, w, nullptr, x.data(), n, out.data());
  std::vector<double> seconds;
  const Clock::time_point start = Clock::now();
  while (seconds.size() < 3 ||
         std::chrono::duration<double>(Clock::now() - start).count() < min_seconds) {
    const Clock::time_point t0 = Clock::now();
    infernet::cpu::MatMul(pool, scratch, w, nullptr, x.data(), n, out.data());
    seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  double total = 0;
  for (double s : seconds) total += s;
  std::sort(seconds.begin(), seconds.end());
  const int calls = static_cast<int>(seconds.size());
  return Timing{seconds.front(), seconds[seconds.size() / 2], total / calls, calls};
}

Status Run(const Flags& flags) {
  for (TensorType type : flags.types) {
    if (flags.k % infernet::Traits(type).block_elems != 0 ||
        flags.k % infernet::Traits(infernet::quant::ActivationType(type)).block_elems != 0) {
      return Status::InvalidArgument("--k must be a multiple of the block size of every type");
    }
  }
  infernet::cpu::ThreadPool pool(flags.threads);
  std::fprintf(stderr, "infernet_matmul_bench: m=%lld k=%lld threads=%d avx2=%d\n",
               static_cast<long long>(flags.m), static_cast<long long>(flags.k), flags.threads,
               infernet::quant::UsingAvx2() ? 1 : 0);
  std::fprintf(stderr, "%-6s %5s %10s %12s %12s %12s %12s %7s\n", "type", "n", "weight_MB",
               "best_us", "GFLOPS_best", "GFLOPS_med", "GFLOPS_mean", "calls");
  for (TensorType type : flags.types) {
    const std::vector<uint8_t> data = RandomWeight(pool, type, flags.m, flags.k);
    const infernet::cpu::CpuWeight w(type, flags.k, flags.m, data.data(),
                                     infernet::RowBytes(type, flags.k));
    for (int64_t n : flags.ns) {
      std::vector<float> x(static_cast<size_t>(n * flags.k));
      std::mt19937 rng(99);
      std::normal_distribution<float> dist(0.0f, 1.0f);
      for (float& v : x) v = dist(rng);
      const Timing t = TimeMatMul(pool, w, x, n, flags.min_seconds);
      const double flop = 2.0 * static_cast<double>(flags.m) * static_cast<double>(n) *
                          static_cast<double>(flags.k);
      const double best = flop / t.best_s / 1e9;
      const double median = flop / t.median_s / 1e9;
      const double mean = flop / t.mean_s / 1e9;
      const std::string name(infernet::TypeName(type));
      std::fprintf(stderr, "%-6s %5lld %10.1f %12.1f %12.2f %12.2f %12.2f %7d\n", name.c_str(),
                   static_cast<long long>(n), static_cast<double>(data.size()) / 1e6,
                   t.best_s * 1e6, best, median, mean, t.calls);
      std::printf(
          "{\"name\":\"matmul\",\"type\":\"%s\",\"m\":%lld,\"n\":%lld,\"k\":%lld,\"threads\":%d,"
          "\"weight_bytes\":%zu,\"calls\":%d,\"best_us\":%.1f,\"median_us\":%.1f,"
          "\"gflops\":%.2f,\"median_gflops\":%.2f,\"mean_gflops\":%.2f}\n",
          name.c_str(), static_cast<long long>(flags.m), static_cast<long long>(n),
          static_cast<long long>(flags.k), flags.threads, data.size(), t.calls, t.best_s * 1e6,
          t.median_s * 1e6, best, median, mean);
      std::fflush(stdout);
    }
  }
  return Status::Ok();
}

}  // namespace

constexpr char kUsage[] =
    "Usage: infernet_matmul_bench [--threads=2] [--min-seconds=1] [--n=1,512] [--m=4096]\n"
    "                             [--k=14336] [--types=f16,bf16,q8_0,q4_0,q4_k,q6_k]\n"
    "Times the engine's CPU matrix product (m x k weights of each type times n f32 activation\n"
    "rows) and prints a table on stderr and one JSON line per case on stdout.\n";

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  const Result<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "infernet_matmul_bench: %s\n%s", flags.status().ToString().c_str(),
                 kUsage);
    return 2;
  }
  const Status status = Run(*flags);
  if (!status.ok()) {
    std::fprintf(stderr, "infernet_matmul_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
