// Throughput of the engine's own e^x kernels (engine/cpu/float_exp.h) at decode's sizes: the
// softmax of one head's attention scores over 576 positions and SwiGLU over a 2048-wide
// feed-forward row, each beside its portable twin (the same bits, one lane at a time) as the
// baseline measured in the same run.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/cpu/float_exp.h"

namespace infernet::cpu {
namespace {

std::vector<float> Normal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Each iteration restores the scores (ExpShiftedAndSum overwrites them); the copy is timed too,
// in both variants.
template <float (*kExpSum)(float*, int64_t, float)>
void BM_ExpShiftedAndSum(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::vector<float> scores = Normal(n, 1);
  std::vector<float> work(scores.size());
  for (auto _ : state) {
    work = scores;
    benchmark::DoNotOptimize(kExpSum(work.data(), n, 4.0f));
  }
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

template <void (*kSwiGlu)(const float*, const float*, float*, int64_t)>
void BM_SwiGlu(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::vector<float> gate = Normal(n, 2), up = Normal(n, 3);
  std::vector<float> out(gate.size());
  for (auto _ : state) {
    kSwiGlu(gate.data(), up.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ExpShiftedAndSum<ExpShiftedAndSum>)->Arg(576);
BENCHMARK(BM_ExpShiftedAndSum<ExpShiftedAndSumScalar>)->Arg(576);
BENCHMARK(BM_SwiGlu<SwiGluF32>)->Arg(2048);
BENCHMARK(BM_SwiGlu<SwiGluF32Scalar>)->Arg(2048);

}  // namespace
}  // namespace infernet::cpu
