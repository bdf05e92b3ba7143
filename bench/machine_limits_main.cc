// infernet_machine_limits: prints the machine's read/copy bandwidth and SGEMM throughput as JSON
// lines, one per measurement ("gb_per_s"/"gflop_per_s" is the best repetition, "median_..." the
// median), so benchmark reports can quote them next to engine figures.
//
// Usage: infernet_machine_limits [--threads=N] [--buffer_mib=N] [--repetitions=N]
//                                [--sgemm_n=N] [--sgemm_repetitions=N] [--skip_sgemm]
//                                [--skip_bandwidth] [--skip_copy] [--probe_loop]
// --probe_loop: allocates the read buffer once, then for each line read on stdin prints one
// "read_probe" line (read bandwidth over --repetitions passes) until stdin closes.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench/machine_limits.h"

namespace {

using infernet::Result;
using infernet::Status;
using infernet::bench::BandwidthOptions;
using infernet::bench::SgemmOptions;
using infernet::bench::Throughput;

struct Flags {
  BandwidthOptions bandwidth;
  SgemmOptions sgemm;
  bool skip_sgemm = false;
  bool skip_bandwidth = false;
  bool skip_copy = false;  // read bandwidth only
  bool probe_loop = false;
};

Result<int> ParsePositive(std::string_view name, std::string_view text) {
  const std::string value(text);
  char* end = nullptr;
  const long parsed = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < 1 || parsed > (1L << 30)) {
    return Status::InvalidArgument(std::string(name) + " wants a positive integer, got '" + value +
                                   "'");
  }
  return static_cast<int>(parsed);
}

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--skip_sgemm") {
      flags.skip_sgemm = true;
      continue;
    }
    if (arg == "--skip_bandwidth") {
      flags.skip_bandwidth = true;
      continue;
    }
    if (arg == "--skip_copy") {
      flags.skip_copy = true;
      continue;
    }
    if (arg == "--probe_loop") {
      flags.probe_loop = true;
      continue;
    }
    const std::size_t eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string_view::npos) {
      return Status::InvalidArgument("expected --flag=value, got '" + std::string(arg) + "'");
    }
    const std::string_view name = arg.substr(2, eq - 2);
    INFERNET_ASSIGN_OR_RETURN(const int value, ParsePositive(name, arg.substr(eq + 1)));
    if (name == "threads") {
      flags.bandwidth.threads = value;
      flags.sgemm.threads = value;
    } else if (name == "buffer_mib") {
      flags.bandwidth.buffer_bytes = static_cast<std::size_t>(value) << 20;
    } else if (name == "repetitions") {
      flags.bandwidth.repetitions = value;
    } else if (name == "sgemm_n") {
      flags.sgemm.n = value;
    } else if (name == "sgemm_repetitions") {
      flags.sgemm.repetitions = value;
    } else {
      return Status::InvalidArgument("unknown flag --" + std::string(name));
    }
  }
  return flags;
}

void PrintBandwidth(const char* name, const BandwidthOptions& options, Throughput rate) {
  std::printf(
      "{\"name\":\"%s\",\"threads\":%d,\"buffer_bytes\":%zu,\"repetitions\":%d,"
      "\"gb_per_s\":%.2f,\"median_gb_per_s\":%.2f}\n",
      name, options.threads, options.buffer_bytes, options.repetitions, rate.best, rate.median);
  std::fflush(stdout);
}

// Serves read-bandwidth probes: one "read_probe" line per line read on stdin.
Status ProbeLoop(const BandwidthOptions& bw) {
  INFERNET_ASSIGN_OR_RETURN(infernet::bench::ReadProbe probe,
                            infernet::bench::ReadProbe::Create(bw));
  std::printf("{\"name\":\"ready\"}\n");
  std::fflush(stdout);
  for (int c = std::getchar(); c != EOF; c = std::getchar()) {
    if (c != '\n') continue;
    PrintBandwidth("read_probe", bw, probe.Measure());
  }
  return Status::Ok();
}

Status Run(const Flags& flags) {
  const BandwidthOptions& bw = flags.bandwidth;
  if (flags.probe_loop) return ProbeLoop(bw);
  if (!flags.skip_bandwidth) {
    INFERNET_ASSIGN_OR_RETURN(const Throughput read, MeasureReadBandwidth(bw));
    PrintBandwidth("read_bandwidth", bw, read);
  }
  if (!flags.skip_bandwidth && !flags.skip_copy) {
    INFERNET_ASSIGN_OR_RETURN(const Throughput copy, MeasureCopyBandwidth(bw));
    PrintBandwidth("copy_bandwidth", bw, copy);
  }
  if (flags.skip_sgemm) return Status::Ok();
  const SgemmOptions& gemm = flags.sgemm;
  if (infernet::bench::SgemmKernelUnderusesCpu()) {
    std::fprintf(stderr,
                 "infernet_machine_limits: OpenBLAS chose %s kernels but the CPU has AVX-512; "
                 "rerun with OPENBLAS_CORETYPE=SkylakeX for the arithmetic peak\n",
                 infernet::bench::SgemmKernelName().c_str());
  }
  INFERNET_ASSIGN_OR_RETURN(const Throughput gflops, MeasureSgemmGflops(gemm));
  std::printf(
      "{\"name\":\"sgemm\",\"library\":\"openblas\",\"kernel\":\"%s\",\"threads\":%d,"
      "\"n\":%d,\"repetitions\":%d,\"gflop_per_s\":%.2f,\"median_gflop_per_s\":%.2f}\n",
      infernet::bench::SgemmKernelName().c_str(), gemm.threads, gemm.n, gemm.repetitions,
      gflops.best, gflops.median);
  return Status::Ok();
}

}  // namespace

constexpr const char* kUsage =
    "Usage: infernet_machine_limits [--threads=N] [--buffer_mib=N] [--repetitions=N]\n"
    "                               [--sgemm_n=N] [--sgemm_repetitions=N] [--skip_sgemm]\n"
    "                               [--skip_bandwidth] [--skip_copy] [--probe_loop]\n"
    "Prints the machine's read/copy bandwidth and OpenBLAS SGEMM rate as JSON lines.\n"
    "--probe_loop: one read-bandwidth line per line read on stdin, the buffer allocated once.\n";

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Result<Flags> flags = ParseFlags(argc, argv);
  Status status = flags.ok() ? Run(*flags) : flags.status();
  if (!status.ok()) {
    std::fprintf(stderr, "infernet_machine_limits: %s\n%s", status.ToString().c_str(), kUsage);
    return 1;
  }
  return 0;
}
