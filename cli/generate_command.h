// `infernet generate`: stream text from a model.
#pragma once

#include <CLI/CLI.hpp>

namespace infernet::cli {

void RegisterGenerateCommand(CLI::App& app, int& exit_code);

}  // namespace infernet::cli
