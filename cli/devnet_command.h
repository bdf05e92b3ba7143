// `infernet devnet [--providers N]` and `infernet devnet demo`.
#pragma once

#include <CLI/CLI.hpp>

namespace infernet::cli {

void RegisterDevnetCommand(CLI::App& app, int& exit_code);

}  // namespace infernet::cli
