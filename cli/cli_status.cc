#include "cli/cli_status.h"

#include <cstdio>

namespace infernet::cli {

int ReportFailure(const Status& status) {
  std::fprintf(stderr, "infernet: error: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

}  // namespace infernet::cli
