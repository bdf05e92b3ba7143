#include "client/job_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/hex.h"

namespace infernet::client {
namespace {

using nlohmann::json;

Status FieldError(std::string_view field, std::string_view problem) {
  return Status::InvalidArgument("job field \"" + std::string(field) + "\" " +
                                 std::string(problem));
}

Result<std::string> ReadBounded(const std::filesystem::path& path, size_t limit,
                                std::string_view what) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return Status::NotFound(std::string(what) + " not found: " + path.string());
  }
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return Status::Io("cannot stat " + path.string() + ": " + error.message());
  if (size > limit) {
    return Status::InvalidArgument(std::string(what) + " " + path.string() + " is larger than " +
                                   std::to_string(limit) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot open " + path.string());
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) return Status::Io("cannot read " + path.string());
  return text;
}

Result<Digest32> ParseHash(const json& value, std::string_view field) {
  if (!value.is_string()) return FieldError(field, "must be a string of 64 hex digits");
  auto bytes = HexDecode(value.get<std::string>());
  if (!bytes.ok() || bytes->size() != 32) return FieldError(field, "must be 64 hex digits");
  Digest32 digest;
  std::memcpy(digest.data(), bytes->data(), digest.size());
  return digest;
}

Result<uint64_t> ParseUnsigned(const json& value, std::string_view field, uint64_t max) {
  if (!value.is_number_integer() || (!value.is_number_unsigned() && value.get<int64_t>() < 0)) {
    return FieldError(field, "must be a non-negative integer");
  }
  const uint64_t v = value.get<uint64_t>();
  if (v > max) return FieldError(field, "must be at most " + std::to_string(max));
  return v;
}

Result<float> ParseFloat(const json& value, std::string_view field) {
  if (!value.is_number()) return FieldError(field, "must be a number");
  const double v = value.get<double>();
  if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
    return FieldError(field, "must be a finite number");
  }
  return static_cast<float>(v);
}

Result<v1::TaskKind> ParseKind(const json& value) {
  if (value == "generate") return v1::GENERATE;
  if (value == "embed") return v1::EMBED;
  if (value == "score") return v1::SCORE;
  return FieldError("kind", "must be \"generate\", \"embed\" or \"score\"");
}

// `field`: "provider" or "aggregator".
Result<ProviderEndpoint> ParseEndpoint(const json& value, const std::string& field) {
  if (!value.is_object()) return FieldError(field, "must be an object {\"id\", \"address\"}");
  for (const auto& [key, unused] : value.items()) {
    if (key != "id" && key != "address") return FieldError(field + "." + key, "is not known");
  }
  if (!value.contains("id")) return FieldError(field + ".id", "is required");
  if (!value.contains("address") || !value["address"].is_string() ||
      value["address"].get<std::string>().empty()) {
    return FieldError(field + ".address", "is required (host:port)");
  }
  ProviderEndpoint endpoint;
  INFERNET_ASSIGN_OR_RETURN(endpoint.id.bytes, ParseHash(value["id"], field + ".id"));
  endpoint.address = value["address"].get<std::string>();
  return endpoint;
}

const std::set<std::string>& KnownFields() {
  static const std::set<std::string> fields = {"model",
                                               "kind",
                                               "inputs",
                                               "max_tokens",
                                               "temperature",
                                               "top_k",
                                               "top_p",
                                               "min_p",
                                               "repetition_penalty",
                                               "seed",
                                               "chat",
                                               "pooling",
                                               "max_price_per_mtok",
                                               "deadline_seconds",
                                               "min_gpu_vram_gb",
                                               "provider",
                                               "aggregator"};
  return fields;
}

}  // namespace

Result<std::vector<JobInput>> ParseJobInputs(std::string_view jsonl, v1::TaskKind kind,
                                             const std::string& name) {
  std::vector<JobInput> inputs;
  size_t line_number = 0;
  size_t start = 0;
  while (start < jsonl.size()) {
    size_t end = jsonl.find('\n', start);
    if (end == std::string_view::npos) end = jsonl.size();
    std::string_view line = jsonl.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = name + " line " + std::to_string(line_number);
    json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) {
      return Status::InvalidArgument(where + ": not a JSON object");
    }
    JobInput input;
    const char* text_key = kind == v1::EMBED && object.contains("text") ? "text" : "prompt";
    for (const auto& [key, value] : object.items()) {
      const bool known = key == text_key || (kind == v1::SCORE && key == "continuation");
      if (!known) return Status::InvalidArgument(where + ": unexpected key \"" + key + "\"");
      if (!value.is_string()) {
        return Status::InvalidArgument(where + ": \"" + key + "\" must be a string");
      }
    }
    if (!object.contains(text_key) || object[text_key].get<std::string>().empty()) {
      return Status::InvalidArgument(where + ": needs a non-empty \"" +
                                     std::string(kind == v1::EMBED ? "text" : "prompt") + "\"");
    }
    input.text = object[text_key].get<std::string>();
    if (kind == v1::SCORE) {
      if (!object.contains("continuation") || object["continuation"].get<std::string>().empty()) {
        return Status::InvalidArgument(where + ": needs a non-empty \"continuation\"");
      }
      input.continuation = object["continuation"].get<std::string>();
    }
    if (inputs.size() >= kMaxJobInputs) {
      return Status::InvalidArgument(name + " has more than " + std::to_string(kMaxJobInputs) +
                                     " inputs");
    }
    inputs.push_back(std::move(input));
  }
  if (inputs.empty()) return Status::InvalidArgument(name + " has no inputs");
  return inputs;
}

Result<JobSpec> ParseJob(std::string_view text, const std::filesystem::path& base_dir) {
  json job = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (job.is_discarded()) return Status::InvalidArgument("job file is not valid JSON");
  if (!job.is_object()) return Status::InvalidArgument("job file must hold a JSON object");
  for (const auto& [key, unused] : job.items()) {
    if (!KnownFields().contains(key)) return FieldError(key, "is not known");
  }
  for (const char* required : {"model", "kind", "inputs", "max_price_per_mtok"}) {
    if (!job.contains(required)) return FieldError(required, "is required");
  }
  JobSpec spec;
  INFERNET_ASSIGN_OR_RETURN(spec.model, ParseHash(job["model"], "model"));
  INFERNET_ASSIGN_OR_RETURN(spec.kind, ParseKind(job["kind"]));
  INFERNET_ASSIGN_OR_RETURN(spec.max_price_per_mtok_micros,
                            ParseUnsigned(job["max_price_per_mtok"], "max_price_per_mtok",
                                          std::numeric_limits<int64_t>::max()));
  if (job.contains("deadline_seconds")) {
    INFERNET_ASSIGN_OR_RETURN(
        uint64_t seconds, ParseUnsigned(job["deadline_seconds"], "deadline_seconds", 7 * 86400));
    if (seconds == 0) return FieldError("deadline_seconds", "must be positive");
    spec.deadline_seconds = static_cast<int64_t>(seconds);
  }
  if (job.contains("min_gpu_vram_gb")) {
    const json& gb = job["min_gpu_vram_gb"];
    if (!gb.is_number() || gb.get<double>() < 0 || gb.get<double>() > 1 << 20) {
      return FieldError("min_gpu_vram_gb", "must be a number of GiB between 0 and 1048576");
    }
    spec.min_gpu_vram_bytes = static_cast<uint64_t>(gb.get<double>() * (uint64_t{1} << 30));
  }
  if (job.contains("provider")) {
    INFERNET_ASSIGN_OR_RETURN(spec.provider, ParseEndpoint(job["provider"], "provider"));
  }
  if (job.contains("aggregator")) {
    INFERNET_ASSIGN_OR_RETURN(spec.aggregator, ParseEndpoint(job["aggregator"], "aggregator"));
  }
  if (spec.provider && spec.aggregator) {
    return FieldError("aggregator", "cannot be given together with provider (one or the other)");
  }

  const bool generate = spec.kind == v1::GENERATE;
  for (const char* field : {"max_tokens", "temperature", "top_k", "top_p", "min_p",
                            "repetition_penalty", "seed", "chat"}) {
    if (!generate && job.contains(field)) {
      return FieldError(field, "applies to generate jobs only");
    }
  }
  if (spec.kind != v1::EMBED && job.contains("pooling")) {
    return FieldError("pooling", "applies to embed jobs only");
  }
  v1::GenerationParams& g = spec.generation;
  if (generate) {
    g.set_max_tokens(128);
    g.set_top_p(1.0f);
    g.set_repetition_penalty(1.0f);
    if (job.contains("max_tokens")) {
      INFERNET_ASSIGN_OR_RETURN(uint64_t n,
                                ParseUnsigned(job["max_tokens"], "max_tokens", 1 << 20));
      if (n == 0) return FieldError("max_tokens", "must be positive");
      g.set_max_tokens(static_cast<uint32_t>(n));
    }
    if (job.contains("temperature")) {
      INFERNET_ASSIGN_OR_RETURN(float t, ParseFloat(job["temperature"], "temperature"));
      if (t < 0) return FieldError("temperature", "must be >= 0");
      g.set_temperature(t);
    }
    if (job.contains("top_k")) {
      INFERNET_ASSIGN_OR_RETURN(uint64_t k, ParseUnsigned(job["top_k"], "top_k", INT32_MAX));
      g.set_top_k(static_cast<uint32_t>(k));
    }
    if (job.contains("top_p")) {
      INFERNET_ASSIGN_OR_RETURN(float p, ParseFloat(job["top_p"], "top_p"));
      if (!(p > 0 && p <= 1)) return FieldError("top_p", "must be in (0, 1]");
      g.set_top_p(p);
    }
    if (job.contains("min_p")) {
      INFERNET_ASSIGN_OR_RETURN(float p, ParseFloat(job["min_p"], "min_p"));
      if (!(p >= 0 && p <= 1)) return FieldError("min_p", "must be in [0, 1]");
      g.set_min_p(p);
    }
    if (job.contains("repetition_penalty")) {
      INFERNET_ASSIGN_OR_RETURN(float r,
                                ParseFloat(job["repetition_penalty"], "repetition_penalty"));
      if (!(r > 0)) return FieldError("repetition_penalty", "must be > 0");
      g.set_repetition_penalty(r);
    }
    if (job.contains("seed")) {
      INFERNET_ASSIGN_OR_RETURN(uint64_t seed, ParseUnsigned(job["seed"], "seed", UINT64_MAX));
      g.set_seed(seed);
    }
    if (job.contains("chat")) {
      if (!job["chat"].is_boolean()) return FieldError("chat", "must be true or false");
      g.set_chat(job["chat"].get<bool>());
    }
  }
  if (job.contains("pooling")) {
    if (job["pooling"] == "mean") {
      spec.pooling = v1::MEAN;
    } else if (job["pooling"] == "last") {
      spec.pooling = v1::LAST;
    } else {
      return FieldError("pooling", "must be \"mean\" or \"last\"");
    }
  }

  if (!job["inputs"].is_string() || job["inputs"].get<std::string>().empty()) {
    return FieldError("inputs", "must be the path of a JSONL file");
  }
  std::filesystem::path inputs_path = job["inputs"].get<std::string>();
  if (inputs_path.is_relative()) inputs_path = base_dir / inputs_path;
  INFERNET_ASSIGN_OR_RETURN(std::string inputs_text,
                            ReadBounded(inputs_path, kMaxInputsFileBytes, "inputs file"));
  INFERNET_ASSIGN_OR_RETURN(
      spec.inputs, ParseJobInputs(inputs_text, spec.kind, inputs_path.filename().string()));
  return spec;
}

Result<JobSpec> ParseJobFile(const std::filesystem::path& path) {
  INFERNET_ASSIGN_OR_RETURN(std::string text, ReadBounded(path, kMaxJobFileBytes, "job file"));
  auto spec = ParseJob(text, path.parent_path());
  if (!spec.ok()) return spec.status().WithContext(path.string());
  return spec;
}

}  // namespace infernet::client
