// `infernet keys`: create and inspect the node's identity key file.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>

#include "core/result.h"

namespace infernet::cli {

// $INFERNET_HOME/node.key, INFERNET_HOME defaulting to $HOME/.infernet.
Result<std::filesystem::path> DefaultKeyFile();

void RegisterKeysCommand(CLI::App& app, int& exit_code);

}  // namespace infernet::cli
