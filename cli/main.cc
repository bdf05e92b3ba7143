// The `infernet` command.
#include <CLI/CLI.hpp>

#include "cli/cli_status.h"
#include "cli/devnet_command.h"
#include "cli/embed_command.h"
#include "cli/generate_command.h"
#include "cli/keys_command.h"
#include "cli/model_commands.h"
#include "cli/network_commands.h"
#include "cli/node_command.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"infernet: a peer-to-peer network for GPU inference"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.set_version_flag("--version", "infernet 0.1.0");

  int exit_code = infernet::cli::kExitOk;
  app.parse_complete_callback([&] {
    infernet::Status s = infernet::InitLogging(log_level);
    if (!s.ok()) throw CLI::ValidationError("--log-level", s.message());
  });
  infernet::cli::RegisterModelCommands(app, exit_code);
  infernet::cli::RegisterGenerateCommand(app, exit_code);
  infernet::cli::RegisterEmbedCommand(app, exit_code);
  infernet::cli::RegisterKeysCommand(app, exit_code);
  infernet::cli::RegisterNodeCommand(app, exit_code);
  infernet::cli::RegisterProvidersCommand(app, exit_code);
  infernet::cli::RegisterSubmitCommand(app, exit_code);
  infernet::cli::RegisterModelPullCommand(*app.get_subcommand("model"), exit_code);
  infernet::cli::RegisterDevnetCommand(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
