// The machine's own limits, measured in the same run as an engine benchmark, so that engine
// figures can be read as a fraction of what the hardware can do: decode is bound by memory read
// bandwidth, prefill by arithmetic throughput.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/result.h"

namespace infernet::bench {

struct BandwidthOptions {
  // Much larger than the last-level cache, so every repetition streams from DRAM.
  std::size_t buffer_bytes = std::size_t{1} << 30;
  int threads = 2;
  int repetitions = 10;
};

// A rate over repeated runs. `best` estimates the limit; on a shared machine a `median` far below
// it says that neighbours were competing for the cores or the memory during the measurement.
struct Throughput {
  double best = 0;
  double median = 0;
};

// Read bandwidth in GB/s (1e9 bytes/s) over options.repetitions: `threads` threads each sum
// their contiguous slice of one buffer with 256-bit loads (the access pattern of a matrix-vector
// product over weights). Scalar loads when the CPU lacks AVX2.
// Errors: InvalidArgument for threads < 1, repetitions < 1 or a buffer smaller than 1 MiB;
// ResourceExhausted when the buffer cannot be allocated.
Result<Throughput> MeasureReadBandwidth(const BandwidthOptions& options);

// MeasureReadBandwidth's reads over a buffer allocated and filled once, for measurements repeated
// through a run (the prefill/decode benchmark reads one between parts of its decode, since this
// machine's bandwidth can change within seconds).
class ReadProbe {
 public:
  // Errors: as MeasureReadBandwidth.
  static Result<ReadProbe> Create(const BandwidthOptions& options);
  ReadProbe(ReadProbe&&) noexcept;
  ReadProbe& operator=(ReadProbe&&) noexcept;
  ~ReadProbe();

  // Read bandwidth over options.repetitions passes, in GB/s.
  Throughput Measure();

 private:
  struct State;
  explicit ReadProbe(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Copy bandwidth in GB/s over options.repetitions: `threads` threads memcpy their slice of a
// buffer_bytes source into a second buffer_bytes destination. Counts bytes read plus bytes
// written (2 x buffer_bytes per repetition), as STREAM's "Copy" does.
// Errors: as MeasureReadBandwidth.
Result<Throughput> MeasureCopyBandwidth(const BandwidthOptions& options);

struct SgemmOptions {
  int n = 4096;  // square matrices: C[n x n] = A[n x n] * B[n x n]
  int threads = 2;
  int repetitions = 5;
};

// Arithmetic peak proxy: OpenBLAS single-precision GEMM throughput in GFLOP/s (2 n^3 flops per
// call) over options.repetitions, after one untimed warm-up call.
// Errors: InvalidArgument for n < 1, threads < 1 or repetitions < 1.
Result<Throughput> MeasureSgemmGflops(const SgemmOptions& options);

// The kernel set OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX", "Cooperlake").
// OPENBLAS_CORETYPE in the environment overrides OpenBLAS's own choice; an environment that pins
// "Haswell" on an AVX-512 CPU runs AVX2 kernels at about half the peak.
std::string SgemmKernelName();

// True when the CPU has AVX-512 (F, BW, DQ, VL) but OpenBLAS chose kernels that do not use it.
bool SgemmKernelUnderusesCpu();

}  // namespace infernet::bench
