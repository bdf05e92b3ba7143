#include "cli/model_commands.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_status.h"
#include "core/hash.h"
#include "core/hex.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/model_config.h"
#include "engine/model/test_model.h"
#include "engine/tensor_type.h"

namespace infernet::cli {
namespace {

struct MakeTestFlags {
  std::string out;
  std::string preset = "tiny";
  std::string arch = "llama";
  std::string type = "Q8_0";
  std::string tokenizer;  // default: by architecture
  int64_t vocab = 0, embd = 0, layers = 0, heads = 0, kv_heads = 0, ff = 0, ctx = 0;
  uint64_t seed = 1;
  bool tied = false;
};

// Sizes of the presets; flags given explicitly override them.
struct Preset {
  int64_t vocab, embd, layers, heads, kv_heads, ff, ctx;
  bool tied;
};
const std::map<std::string, Preset>& Presets() {
  static const std::map<std::string, Preset> presets = {
      {"tiny", {1024, 128, 2, 4, 2, 384, 512, false}},
      {"100m", {32000, 768, 12, 12, 4, 2048, 2048, true}},
      {"1b", {32000, 2048, 16, 32, 8, 8192, 2048, true}},
  };
  return presets;
}

Result<TestModelSpec> SpecFromFlags(const MakeTestFlags& f) {
  auto preset_it = Presets().find(f.preset);
  if (preset_it == Presets().end()) {
    return Status::InvalidArgument("unknown preset '" + f.preset + "' (expected tiny, 100m or 1b)");
  }
  const Preset& p = preset_it->second;
  TestModelSpec spec;
  if (f.arch == "llama") {
    spec.arch = Architecture::kLlama;
  } else if (f.arch == "qwen2") {
    spec.arch = Architecture::kQwen2;
  } else {
    return Status::InvalidArgument("unknown architecture '" + f.arch +
                                   "' (expected llama or qwen2)");
  }
  auto type = TensorTypeFromName(f.type);
  if (!type) {
    return Status::InvalidArgument("unknown tensor type '" + f.type +
                                   "' (expected F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K)");
  }
  spec.weight_type = *type;
  std::string tok = f.tokenizer.empty() ? (f.arch == "llama" ? "spm" : "bpe") : f.tokenizer;
  if (tok == "spm") {
    spec.tokenizer = TokenizerKind::kSentencePiece;
  } else if (tok == "bpe") {
    spec.tokenizer = TokenizerKind::kByteLevelBpe;
  } else {
    return Status::InvalidArgument("unknown tokenizer '" + tok + "' (expected spm or bpe)");
  }
  spec.chat = spec.arch == Architecture::kQwen2                ? ChatFormat::kChatMl
              : spec.tokenizer == TokenizerKind::kByteLevelBpe ? ChatFormat::kLlama3
                                                               : ChatFormat::kLlama2;
  auto pick = [](int64_t flag, int64_t preset) { return flag > 0 ? flag : preset; };
  spec.n_vocab = pick(f.vocab, p.vocab);
  spec.n_embd = pick(f.embd, p.embd);
  spec.n_layer = pick(f.layers, p.layers);
  spec.n_head = pick(f.heads, p.heads);
  spec.n_head_kv = pick(f.kv_heads, p.kv_heads);
  spec.n_ff = pick(f.ff, p.ff);
  spec.n_ctx = pick(f.ctx, p.ctx);
  spec.tied_embeddings = f.tied || p.tied;
  spec.seed = f.seed;
  INFERNET_RETURN_IF_ERROR(ValidateTestModelSpec(spec));
  return spec;
}

int RunMakeTest(const MakeTestFlags& flags) {
  auto spec = SpecFromFlags(flags);
  if (!spec.ok()) return ReportFailure(spec.status());
  std::fprintf(stderr, "writing %s model (%s, vocab %lld, width %lld, %lld layers) to %s ...\n",
               flags.arch.c_str(), std::string(TypeName(spec->weight_type)).c_str(),
               static_cast<long long>(spec->n_vocab), static_cast<long long>(spec->n_embd),
               static_cast<long long>(spec->n_layer), flags.out.c_str());
  auto start = std::chrono::steady_clock::now();
  auto progress = [](int64_t done, int64_t total) {
    std::fprintf(stderr, "\r  layers %lld/%lld", static_cast<long long>(done),
                 static_cast<long long>(total));
    if (done == total) std::fputc('\n', stderr);
  };
  Status written = WriteTestModel(*spec, flags.out, progress);
  if (!written.ok()) return ReportFailure(written.WithContext(flags.out));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "done in %.1f s\n", seconds);
  return kExitOk;
}

std::string ValueToText(const gguf::Value& value) {
  using gguf::ValueType;
  switch (value.type()) {
    case ValueType::kString:
      return std::string(*value.AsString());
    case ValueType::kBool:
      return *value.AsBool() ? "true" : "false";
    case ValueType::kFloat32:
    case ValueType::kFloat64:
      return std::to_string(*value.AsFloat());
    case ValueType::kArray:
      return "[" + std::string(gguf::ValueTypeName(value.array_type())) + " x " +
             std::to_string(value.array_size()) + "]";
    default: {
      auto as_int = value.AsInt();
      return as_int.ok() ? std::to_string(*as_int) : std::to_string(*value.AsUint());
    }
  }
}

int RunInfo(const std::string& path, bool as_json, bool with_hash) {
  auto file = gguf::GgufFile::Open(path);
  if (!file.ok()) return ReportFailure(file.status());  // the reader names the file
  const gguf::GgufFile& f = **file;
  auto config = ReadModelConfig(f);

  int64_t params = 0;
  uint64_t weight_bytes = 0;
  std::map<std::string, int> type_counts;
  for (const auto& t : f.tensors()) {
    params += t.num_elements();
    weight_bytes += t.size_bytes;
    type_counts[std::string(TypeName(t.type))]++;
  }
  nlohmann::json out;
  out["file"] = path;
  out["gguf_version"] = f.version();
  out["file_bytes"] = f.file_size();
  out["tensors"] = f.tensors().size();
  out["parameters"] = params;
  out["weight_bytes"] = weight_bytes;
  out["tensor_types"] = type_counts;
  if (config.ok()) {
    out["architecture"] = config->arch_name;
    out["vocab"] = config->n_vocab;
    out["embedding"] = config->n_embd;
    out["layers"] = config->n_layer;
    out["heads"] = config->n_head;
    out["kv_heads"] = config->n_head_kv;
    out["feed_forward"] = config->n_ff;
    out["context_length"] = config->n_ctx_train;
    out["rope_freq_base"] = config->rope_freq_base;
    out["tied_embeddings"] = config->tied_embeddings;
  } else {
    out["config_error"] = config.status().message();
  }
  if (with_hash) {
    auto digest = Blake2b256File(path);
    if (!digest.ok()) return ReportFailure(digest.status());
    out["blake2b_256"] = HexEncode(*digest);
  }
  if (as_json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& [key, value] : out.items()) {
      std::printf("%-16s %s\n", key.c_str(),
                  value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
    }
    std::printf("metadata:\n");
    for (const auto& [key, value] : f.metadata()) {
      std::printf("  %-44s %s\n", key.c_str(), ValueToText(value).c_str());
    }
  }
  return config.ok() ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterModelCommands(CLI::App& app, int& exit_code) {
  CLI::App* model = app.add_subcommand("model", "Create and inspect GGUF model files");
  model->require_subcommand(1);

  auto flags = std::make_shared<MakeTestFlags>();
  CLI::App* make = model->add_subcommand(
      "make-test", "Write a small random-weight GGUF model (for tests and the demo)");
  make->add_option("-o,--out", flags->out, "output file")->required();
  make->add_option("--preset", flags->preset, "size preset: tiny, 100m, 1b")->capture_default_str();
  make->add_option("--arch", flags->arch, "architecture: llama or qwen2")->capture_default_str();
  make->add_option("--type", flags->type, "weight type: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q6_K")
      ->capture_default_str();
  make->add_option("--tokenizer", flags->tokenizer,
                   "spm or bpe (default: spm for llama, bpe for qwen2)");
  make->add_option("--vocab", flags->vocab, "vocabulary size (overrides the preset)");
  make->add_option("--embd", flags->embd, "embedding width");
  make->add_option("--layers", flags->layers, "transformer blocks");
  make->add_option("--heads", flags->heads, "attention heads");
  make->add_option("--kv-heads", flags->kv_heads, "key/value heads (grouped-query attention)");
  make->add_option("--ff", flags->ff, "feed-forward width");
  make->add_option("--ctx", flags->ctx, "training context length");
  make->add_option("--seed", flags->seed, "random seed for the weights")->capture_default_str();
  make->add_flag("--tied", flags->tied, "share the output matrix with the token embeddings");
  make->callback([flags, &exit_code] { exit_code = RunMakeTest(*flags); });

  auto info_path = std::make_shared<std::string>();
  auto info_json = std::make_shared<bool>(false);
  auto info_hash = std::make_shared<bool>(false);
  CLI::App* info = model->add_subcommand("info", "Describe a GGUF model file");
  info->add_option("file", *info_path, "GGUF file")->required();
  info->add_flag("--json", *info_json, "print JSON");
  info->add_flag("--hash", *info_hash, "compute the file's BLAKE2b-256 (its network address)");
  info->callback([=, &exit_code] { exit_code = RunInfo(*info_path, *info_json, *info_hash); });
}

}  // namespace infernet::cli
