// How commands report failure to the user: one line on stderr naming the problem, non-zero exit.
#pragma once

#include "core/status.h"

namespace infernet::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (bad file, bad input, I/O)
inline constexpr int kExitUsage = 2;    // bad flags or arguments (CLI11 uses this too)

// Prints "infernet: error: <message>" to stderr and returns the exit code for `status`.
int ReportFailure(const Status& status);

}  // namespace infernet::cli
