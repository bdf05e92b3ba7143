// `infernet embed`: embeddings of texts, one JSON line per input.
#pragma once

#include <CLI/CLI.hpp>

namespace infernet::cli {

void RegisterEmbedCommand(CLI::App& app, int& exit_code);

}  // namespace infernet::cli
