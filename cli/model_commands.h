// `infernet model ...`: make-test (write a random-weight GGUF model) and info (describe a file).
#pragma once

#include <CLI/CLI.hpp>

namespace infernet::cli {

// Registers `model` with its subcommands on `app`; each sets `exit_code` when it runs.
void RegisterModelCommands(CLI::App& app, int& exit_code);

}  // namespace infernet::cli
