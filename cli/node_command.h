// `infernet node`: runs the daemon until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace infernet::cli {

void RegisterNodeCommand(CLI::App& app, int& exit_code);

}  // namespace infernet::cli
