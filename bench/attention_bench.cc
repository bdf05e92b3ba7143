// infernet_attention_bench: throughput of the CPU back end's decode attention
// (cpu::CausalAttention, the code the engine runs) on one token per call, over a KV cache of many
// layers so that each call reads its layer's keys and values from memory, as decode does.
//
// Usage: infernet_attention_bench [--threads=2] [--len=512] [--layers=48] [--heads=12]
//                                 [--kv-heads=4] [--head-dim=64] [--kv-type=f16|f32]
//                                 [--min-seconds=1]
// Each call attends one query row over `len` positions of the next layer in turn; GB/s counts the
// keys and values read (2 x kv_heads x len x head_dim x 2 or 4 bytes). Prints one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/cpu_attention.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/thread_pool.h"

namespace {

struct Flags {
  int64_t threads = 2, len = 512, layers = 48, heads = 12, kv_heads = 4, head_dim = 64;
  double min_seconds = 1.0;
  infernet::TensorType kv_type = infernet::TensorType::kF16;
};

void Usage() {
  std::fprintf(stderr,
               "Usage: infernet_attention_bench [--threads=2] [--len=512] [--layers=48] "
               "[--heads=12]\n"
               "                                [--kv-heads=4] [--head-dim=64] "
               "[--kv-type=f16|f32] [--min-seconds=1]\n");
}

bool ParseFlags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      Usage();
      std::exit(0);
    }
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string_view::npos) {
      std::fprintf(stderr, "infernet_attention_bench: expected --name=value, got '%s'\n", argv[i]);
      return false;
    }
    const std::string name(arg.substr(2, eq - 2)), value(arg.substr(eq + 1));
    if (name == "kv-type") {
      if (value != "f16" && value != "f32") {
        std::fprintf(stderr, "infernet_attention_bench: --kv-type wants f16 or f32, got '%s'\n",
                     value.c_str());
        return false;
      }
      f.kv_type = value == "f16" ? infernet::TensorType::kF16 : infernet::TensorType::kF32;
      continue;
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v > 0)) {
      std::fprintf(stderr, "infernet_attention_bench: --%s wants a positive number, got '%s'\n",
                   name.c_str(), value.c_str());
      return false;
    }
    if (name == "min-seconds") {
      f.min_seconds = v;
      continue;
    }
    const std::pair<const char*, int64_t*> counts[] = {
        {"threads", &f.threads}, {"len", &f.len},           {"layers", &f.layers},
        {"heads", &f.heads},     {"kv-heads", &f.kv_heads}, {"head-dim", &f.head_dim}};
    auto* count = std::find_if(std::begin(counts), std::end(counts),
                               [&](const auto& c) { return name == c.first; });
    if (count != std::end(counts)) {
      *count->second = static_cast<int64_t>(v);
    } else {
      std::fprintf(stderr, "infernet_attention_bench: unknown flag --%s\n", name.c_str());
      return false;
    }
  }
  if (f.heads % f.kv_heads != 0) {
    std::fprintf(stderr, "infernet_attention_bench: --heads must be a multiple of --kv-heads\n");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace infernet;
  Flags f;
  if (!ParseFlags(argc, argv, f)) {
    Usage();
    return 2;
  }
  cpu::ThreadPool pool(static_cast<int>(f.threads));
  cpu::CpuKvCache cache(f.layers, 1, f.len, f.kv_heads, f.head_dim, f.kv_type);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(f.len * f.head_dim)), v(k.size());
  for (int64_t l = 0; l < f.layers; ++l) {
    for (int64_t h = 0; h < f.kv_heads; ++h) {
      for (size_t i = 0; i < k.size(); ++i) k[i] = dist(rng), v[i] = dist(rng);
      cache.StoreK(l, 0, h, 0, f.len, k.data());
      cache.StoreV(l, 0, h, 0, f.len, v.data());
    }
  }
  cpu::CpuTensor q(1, f.heads * f.head_dim), out(1, f.heads * f.head_dim);
  for (int64_t i = 0; i < q.cols(); ++i) q.data()[i] = dist(rng);
  const std::vector<int32_t> seq = {0}, pos = {static_cast<int32_t>(f.len - 1)};
  const TokenSlots slots{seq, pos};
  const AttentionParams params{f.heads, f.kv_heads, f.head_dim, 0.125f};
  std::vector<std::vector<float>> scores;

  using Clock = std::chrono::steady_clock;
  std::vector<double> per_call;
  const auto start = Clock::now();
  int64_t calls = 0;
  while (std::chrono::duration<double>(Clock::now() - start).count() < f.min_seconds ||
         calls < 2 * f.layers) {
    const auto t0 = Clock::now();
    cpu::CausalAttention(pool, scores, q, cache, calls % f.layers, slots, params, out);
    per_call.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    ++calls;
  }
  std::sort(per_call.begin(), per_call.end());
  const double bytes = 2.0 * static_cast<double>(f.kv_heads * f.len * f.head_dim) *
                       static_cast<double>(cache.element_bytes());
  const double median = per_call[per_call.size() / 2];
  double total = 0;
  for (double t : per_call) total += t;
  std::printf(
      "{\"kv_type\":\"%s\",\"threads\":%lld,\"len\":%lld,\"layers\":%lld,\"heads\":%lld,\"kv_"
      "heads\":%lld,"
      "\"head_dim\":%lld,\"calls\":%lld,\"median_us\":%.2f,\"mean_us\":%.2f,"
      "\"median_gb_s\":%.2f,\"mean_gb_s\":%.2f,\"checksum\":%.6g}\n",
      std::string(TypeName(f.kv_type)).c_str(), static_cast<long long>(f.threads),
      static_cast<long long>(f.len), static_cast<long long>(f.layers),
      static_cast<long long>(f.heads), static_cast<long long>(f.kv_heads),
      static_cast<long long>(f.head_dim), static_cast<long long>(calls), median * 1e6,
      total / static_cast<double>(calls) * 1e6, bytes / median / 1e9,
      bytes * static_cast<double>(calls) / total / 1e9, static_cast<double>(out.data()[0]));
  return 0;
}
