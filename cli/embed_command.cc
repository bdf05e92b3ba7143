#include "cli/embed_command.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_status.h"
#include "cli/engine_session.h"
#include "engine/model/inference.h"

namespace infernet::cli {
namespace {

struct EmbedFlags {
  EngineFlags engine;
  std::vector<std::string> texts;
  std::string input_file;
  std::string pooling = "mean";
  bool no_normalize = false;
};

Result<std::vector<std::string>> CollectInputs(const EmbedFlags& flags) {
  std::vector<std::string> inputs = flags.texts;
  if (!flags.input_file.empty()) {
    std::ifstream in(flags.input_file);
    if (!in) return Status::Io("cannot open input file " + flags.input_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) inputs.push_back(line);
    }
  }
  if (inputs.empty()) return Status::InvalidArgument("nothing to embed: pass --text or --input");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty())
      return Status::InvalidArgument("input " + std::to_string(i) + " is empty");
  }
  return inputs;
}

int RunEmbed(const EmbedFlags& flags) {
  Pooling pooling;
  if (flags.pooling == "mean") {
    pooling = Pooling::kMean;
  } else if (flags.pooling == "last") {
    pooling = Pooling::kLast;
  } else {
    return ReportFailure(
        Status::InvalidArgument("unknown pooling '" + flags.pooling + "' (expected mean or last)"));
  }
  auto inputs = CollectInputs(flags);
  if (!inputs.ok()) return ReportFailure(inputs.status());
  auto session = OpenEngineSession(flags.engine);
  if (!session.ok()) return ReportFailure(session.status());

  std::vector<std::vector<TokenId>> tokenized;
  for (const auto& text : *inputs) {
    tokenized.push_back(session->model->tokenizer().Encode(text, /*add_special=*/true,
                                                           /*parse_special=*/false));
  }
  auto embeddings = Embed(*session->context, tokenized, pooling, !flags.no_normalize);
  if (!embeddings.ok()) return ReportFailure(embeddings.status());
  for (size_t i = 0; i < embeddings->size(); ++i) {
    nlohmann::json line = {
        {"index", i}, {"tokens", tokenized[i].size()}, {"embedding", (*embeddings)[i]}};
    std::printf("%s\n", line.dump().c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterEmbedCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<EmbedFlags>();
  CLI::App* cmd = app.add_subcommand("embed", "Compute text embeddings (one JSON line per input)");
  AddEngineFlags(*cmd, flags->engine);
  cmd->add_option("--text", flags->texts, "text to embed (repeatable)");
  cmd->add_option("-i,--input", flags->input_file, "file with one text per line");
  cmd->add_option("--pooling", flags->pooling, "mean or last")->capture_default_str();
  cmd->add_flag("--no-normalize", flags->no_normalize, "skip L2 normalisation");
  cmd->callback([flags, &exit_code] { exit_code = RunEmbed(*flags); });
}

}  // namespace infernet::cli
