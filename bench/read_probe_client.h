// A child `infernet_machine_limits --probe_loop` that takes a read-bandwidth reading whenever
// asked: its buffer is allocated once, so a reading costs only its passes (0.2-0.3 s for 1 GiB x 10
// at 35-53 GB/s), and it lives in its own process, so its buffer is not counted in the
// benchmark's peak RSS.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/result.h"

namespace infernet::bench {

class ReadProbeClient {
 public:
  // Starts `program` with --threads, --buffer_mib, --repetitions and --probe_loop and waits until
  // its buffer is ready. Call before starting threads: it forks.
  static Result<std::unique_ptr<ReadProbeClient>> Start(const std::string& program, int threads,
                                                        int buffer_mib, int repetitions);
  ~ReadProbeClient();  // closes the child's input (it exits) and reaps it
  ReadProbeClient(const ReadProbeClient&) = delete;
  ReadProbeClient& operator=(const ReadProbeClient&) = delete;

  // One reading: the best of the child's passes, in GB/s.
  Result<double> Read();

 private:
  ReadProbeClient(pid_t pid, int to_child, int from_child)
      : pid_(pid), to_child_(to_child), from_child_(from_child) {}
  Result<std::string> ReadLine();

  pid_t pid_;
  int to_child_;
  int from_child_;
  std::string pending_;  // bytes read past the last line
};

}  // namespace infernet::bench
