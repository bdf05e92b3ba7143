#include "bench/machine_limits.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace infernet::bench {
namespace {

// Slices are multiples of this, so the vector loop needs no tail and every slice stays aligned.
constexpr std::size_t kSliceGranule = 4096;
constexpr std::size_t kMinBufferBytes = std::size_t{1} << 20;

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<std::byte[], FreeDeleter>;

Result<Buffer> AllocateBuffer(std::size_t bytes) {
  auto* p = static_cast<std::byte*>(std::aligned_alloc(kSliceGranule, bytes));
  if (p == nullptr) {
    return Status::ResourceExhausted("cannot allocate " + std::to_string(bytes) + " bytes");
  }
  return Buffer(p);
}

Status CheckOptions(const BandwidthOptions& options) {
  if (options.threads < 1) return Status::InvalidArgument("threads must be >= 1");
  if (options.repetitions < 1) return Status::InvalidArgument("repetitions must be >= 1");
  if (options.buffer_bytes < kMinBufferBytes) {
    return Status::InvalidArgument("buffer must be at least 1 MiB");
  }
  return Status::Ok();
}

// Bytes each thread handles: an equal share rounded down to kSliceGranule.
std::size_t SliceBytes(std::size_t total, int threads) {
  return total / static_cast<std::size_t>(threads) / kSliceGranule * kSliceGranule;
}

// Runs body(thread_index) on `threads` fresh threads and returns the wall time in seconds from
// the first start to the last finish. Thread start-up (tens of microseconds) is negligible next
// to streaming hundreds of MiB.
double TimeParallel(int threads, const std::function<void(int)>& body) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) workers.emplace_back(body, t);
  for (auto& w : workers) w.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count();
}

// Touch every page from the thread that will later read it (first touch decides placement).
void FillParallel(std::byte* data, std::size_t slice, int threads, int value) {
  TimeParallel(threads, [&](int t) {
    std::memset(data + static_cast<std::size_t>(t) * slice, value, slice);
  });
}

// REQUIRES: bytes % (4 * 64) == 0, data 32-byte aligned.
// Reads the range as 4 equal parts in lockstep, 64 bytes of each per step: decode's matrix-vector
// kernels read 4 weight rows at once, and on some machines (Zen 3 under KVM, 2026-12-01) several
// concurrent streams per core draw ~25 % more bandwidth than one, so a one-stream loop would
// understate the ceiling decode is judged against.
__attribute__((target("avx2"))) std::uint64_t SumAvx2(const std::byte* data, std::size_t bytes) {
  constexpr std::size_t kStreams = 4;
  const std::size_t part = bytes / kStreams;
  // Integer adds have 1-cycle latency, so four accumulators keep the loop load-bound.
  __m256i acc[kStreams] = {};
  for (std::size_t i = 0; i < part; i += 64) {
    for (std::size_t s = 0; s < kStreams; ++s) {
      const auto* p = reinterpret_cast<const __m256i*>(data + s * part + i);
      acc[s] = _mm256_add_epi64(acc[s],
                                _mm256_add_epi64(_mm256_load_si256(p), _mm256_load_si256(p + 1)));
    }
  }
  const __m256i sum =
      _mm256_add_epi64(_mm256_add_epi64(acc[0], acc[1]), _mm256_add_epi64(acc[2], acc[3]));
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

// REQUIRES: bytes % 8 == 0, data 8-byte aligned.
std::uint64_t SumScalar(const std::byte* data, std::size_t bytes) {
  const auto* words = reinterpret_cast<const std::uint64_t*>(data);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes / 8; ++i) sum += words[i];
  return sum;
}

// `work` units per repetition (bytes or flops) over each repetition's seconds, scaled by 1e-9.
Throughput RatesInBillions(double work, std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  const std::size_t n = seconds.size();
  const double median_seconds =
      n % 2 == 1 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
  return Throughput{.best = work / seconds.front() / 1e9, .median = work / median_seconds / 1e9};
}

// Results land here so the compiler cannot drop the reads.
volatile std::uint64_t g_sink = 0;

}  // namespace

struct ReadProbe::State {
  BandwidthOptions options;
  std::size_t slice = 0;
  Buffer buffer;
  bool avx2 = false;
};

Result<ReadProbe> ReadProbe::Create(const BandwidthOptions& options) {
  INFERNET_RETURN_IF_ERROR(CheckOptions(options));
  auto state = std::make_unique<State>();
  state->options = options;
  state->slice = SliceBytes(options.buffer_bytes, options.threads);
  if (state->slice == 0) return Status::InvalidArgument("buffer too small for the thread count");
  INFERNET_ASSIGN_OR_RETURN(
      state->buffer, AllocateBuffer(state->slice * static_cast<std::size_t>(options.threads)));
  FillParallel(state->buffer.get(), state->slice, options.threads, 1);
  state->avx2 = __builtin_cpu_supports("avx2");
  return ReadProbe(std::move(state));
}

ReadProbe::ReadProbe(std::unique_ptr<State> state) : state_(std::move(state)) {}
ReadProbe::ReadProbe(ReadProbe&&) noexcept = default;
ReadProbe& ReadProbe::operator=(ReadProbe&&) noexcept = default;
ReadProbe::~ReadProbe() = default;

Throughput ReadProbe::Measure() {
  const State& s = *state_;
  const int threads = s.options.threads;
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(threads));
  std::vector<double> seconds;
  for (int rep = 0; rep < s.options.repetitions; ++rep) {
    seconds.push_back(TimeParallel(threads, [&](int t) {
      const std::byte* begin = s.buffer.get() + static_cast<std::size_t>(t) * s.slice;
      sums[static_cast<std::size_t>(t)] =
          s.avx2 ? SumAvx2(begin, s.slice) : SumScalar(begin, s.slice);
    }));
    for (std::uint64_t sum : sums) g_sink = g_sink + sum;
  }
  return RatesInBillions(static_cast<double>(s.slice) * threads, std::move(seconds));
}

Result<Throughput> MeasureReadBandwidth(const BandwidthOptions& options) {
  INFERNET_ASSIGN_OR_RETURN(ReadProbe probe, ReadProbe::Create(options));
  return probe.Measure();
}

Result<Throughput> MeasureCopyBandwidth(const BandwidthOptions& options) {
  INFERNET_RETURN_IF_ERROR(CheckOptions(options));
  const int threads = options.threads;
  const std::size_t slice = SliceBytes(options.buffer_bytes, threads);
  if (slice == 0) return Status::InvalidArgument("buffer too small for the thread count");
  const std::size_t total = slice * static_cast<std::size_t>(threads);
  INFERNET_ASSIGN_OR_RETURN(Buffer source, AllocateBuffer(total));
  INFERNET_ASSIGN_OR_RETURN(Buffer destination, AllocateBuffer(total));
  FillParallel(source.get(), slice, threads, 1);
  FillParallel(destination.get(), slice, threads, 0);

  std::vector<double> seconds;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    seconds.push_back(TimeParallel(threads, [&](int t) {
      const std::size_t offset = static_cast<std::size_t>(t) * slice;
      std::memcpy(destination.get() + offset, source.get() + offset, slice);
    }));
    g_sink = g_sink + static_cast<std::uint64_t>(destination[total - 1]);
  }
  return RatesInBillions(2.0 * static_cast<double>(total), std::move(seconds));
}

Result<Throughput> MeasureSgemmGflops(const SgemmOptions& options) {
  if (options.n < 1) return Status::InvalidArgument("n must be >= 1");
  if (options.threads < 1) return Status::InvalidArgument("threads must be >= 1");
  if (options.repetitions < 1) return Status::InvalidArgument("repetitions must be >= 1");
  const int n = options.n;
  const std::size_t elements = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  // Values in [-1, 1): no denormals or overflow to slow the arithmetic down.
  std::vector<float> a(elements);
  std::vector<float> b(elements);
  std::vector<float> c(elements);
  for (std::size_t i = 0; i < elements; ++i) {
    a[i] = static_cast<float>(i % 251) / 125.5f - 1.0f;
    b[i] = static_cast<float>(i % 241) / 120.5f - 1.0f;
  }
  openblas_set_num_threads(options.threads);

  const auto run = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  run();  // warm-up: OpenBLAS starts its thread pool and faults in its buffers
  std::vector<double> seconds;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    seconds.push_back(elapsed.count());
  }
  return RatesInBillions(2.0 * static_cast<double>(n) * n * n, std::move(seconds));
}

std::string SgemmKernelName() { return openblas_get_corename(); }

bool SgemmKernelUnderusesCpu() {
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const std::string kernel = SgemmKernelName();
  const bool avx512_kernel = kernel == "SkylakeX" || kernel == "Cooperlake" ||
                             kernel == "Sapphire Rapids" || kernel == "Zen4";
  return avx512 && !avx512_kernel;
}

}  // namespace infernet::bench
