// The client-side network commands: `infernet providers`, `infernet submit` and
// `infernet model pull`.
#pragma once

#include <CLI/CLI.hpp>

namespace infernet::cli {

void RegisterProvidersCommand(CLI::App& app, int& exit_code);
void RegisterSubmitCommand(CLI::App& app, int& exit_code);
// Adds `pull` under the existing `model` command.
void RegisterModelPullCommand(CLI::App& model_command, int& exit_code);

}  // namespace infernet::cli
