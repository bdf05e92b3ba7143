// Dot-product kernel throughput per weight type: matrix-vector (decode: one VecDot per weight
// row) and matrix-matrix (prefill: VecDotTile over 64 tokens), on a 4096 x 4096 weight matrix.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/quant/quant.h"

namespace infernet::quant {
namespace {

constexpr int64_t kDim = 4096;
constexpr int kTokens = 64;
constexpr int kRowBlock =
    16;  // weight rows per VecDotTile call: stays cache-resident across tokens

struct Problem {
  Problem(TensorType type, int tokens) : type(type) {
    std::mt19937 rng(42);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(kDim);
    w_stride = RowBytes(type, kDim);
    a_stride = ActivationRowBytes(type, kDim);
    weights.resize(w_stride * kDim);
    acts.resize(a_stride * tokens);
    for (int64_t r = 0; r < kDim; ++r) {
      for (float& v : x) v = dist(rng);
      QuantizeRow(type, x.data(), weights.data() + r * w_stride, kDim);
    }
    for (int c = 0; c < tokens; ++c) {
      for (float& v : x) v = dist(rng);
      QuantizeActivationRow(type, x.data(), acts.data() + c * a_stride, kDim);
    }
  }
  TensorType type;
  size_t w_stride, a_stride;
  std::vector<uint8_t> weights, acts;
};

void SetCounters(benchmark::State& state, const Problem& p, int tokens) {
  const double iters = static_cast<double>(state.iterations());
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(p.weights.size()) * iters,
                                                 benchmark::Counter::kIsRate);
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * kDim * kDim * tokens * iters, benchmark::Counter::kIsRate);
}

void BM_MatVec(benchmark::State& state, TensorType type) {
  const Problem p(type, 1);
  std::vector<float> out(kDim);
  for (auto _ : state) {
    for (int64_t r = 0; r < kDim; ++r) {
      out[r] = VecDot(type, kDim, p.weights.data() + r * p.w_stride, p.acts.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, p, 1);
}

void BM_Gemm(benchmark::State& state, TensorType type) {
  const Problem p(type, kTokens);
  std::vector<float> out(static_cast<size_t>(kDim) * kTokens);
  for (auto _ : state) {
    for (int64_t r0 = 0; r0 < kDim; r0 += kRowBlock) {
      VecDotTile(type, kDim, p.weights.data() + r0 * p.w_stride, p.w_stride, kRowBlock,
                 p.acts.data(), p.a_stride, kTokens, out.data() + r0, kDim);
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, p, kTokens);
}

#define INFERNET_QUANT_BENCH(type)                                                        \
  BENCHMARK_CAPTURE(BM_MatVec, type, TensorType::k##type)->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_Gemm, type, TensorType::k##type)->Unit(benchmark::kMillisecond)

INFERNET_QUANT_BENCH(F32);
INFERNET_QUANT_BENCH(F16);
INFERNET_QUANT_BENCH(BF16);
INFERNET_QUANT_BENCH(Q4_0);
INFERNET_QUANT_BENCH(Q8_0);
INFERNET_QUANT_BENCH(Q4_K);
INFERNET_QUANT_BENCH(Q6_K);

}  // namespace
}  // namespace infernet::quant
