// Tokenizer::FromGguf: reads the tokenizer.ggml.* metadata into TokenizerData.
#include <string>

#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {
namespace {

Status CorruptKey(std::string_view key, const Status& cause) {
  return Status::Corrupt(std::string(key) + ": " + cause.message());
}

// A type mismatch in metadata is a malformed file, not a caller error.
template <class T>
Result<T> Required(const gguf::GgufFile& file, std::string_view key,
                   Result<T> (gguf::Value::*read)() const) {
  const gguf::Value* value = file.Find(key);
  if (value == nullptr) return Status::Corrupt(std::string(key) + ": missing");
  Result<T> result = (value->*read)();
  if (!result.ok()) return CorruptKey(key, result.status());
  return result;
}

template <class T>
Status Optional(const gguf::GgufFile& file, std::string_view key,
                Result<T> (gguf::Value::*read)() const, T& out) {
  if (file.Find(key) == nullptr) return Status::Ok();
  INFERNET_ASSIGN_OR_RETURN(out, Required(file, key, read));
  return Status::Ok();
}

Status OptionalId(const gguf::GgufFile& file, std::string_view key, TokenId& out) {
  int64_t id = -1;
  INFERNET_RETURN_IF_ERROR(Optional(file, key, &gguf::Value::AsInt, id));
  if (id < -1 || id > INT32_MAX) {
    return Status::Corrupt(std::string(key) + ": id " + std::to_string(id) + " out of range");
  }
  out = static_cast<TokenId>(id);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const gguf::GgufFile& file) {
  TokenizerData data;
  INFERNET_ASSIGN_OR_RETURN(const std::string_view model,
                            Required(file, "tokenizer.ggml.model", &gguf::Value::AsString));
  if (model == "llama") {
    data.kind = TokenizerKind::kSentencePiece;
  } else if (model == "gpt2") {
    data.kind = TokenizerKind::kByteLevelBpe;
  } else {
    return Status::Unsupported("tokenizer.ggml.model: unsupported tokenizer \"" +
                               std::string(model) + "\"");
  }
  INFERNET_ASSIGN_OR_RETURN(data.tokens,
                            Required(file, "tokenizer.ggml.tokens", &gguf::Value::AsStringArray));
  INFERNET_RETURN_IF_ERROR(
      Optional(file, "tokenizer.ggml.scores", &gguf::Value::AsFloatArray, data.scores));
  std::vector<int64_t> types;
  INFERNET_RETURN_IF_ERROR(
      Optional(file, "tokenizer.ggml.token_type", &gguf::Value::AsIntArray, types));
  data.token_types.reserve(types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i] < 0 || types[i] > UINT8_MAX) {  // ValidateTokenizerData rejects the rest
      return Status::Corrupt("tokenizer.ggml.token_type[" + std::to_string(i) + "]: unknown type " +
                             std::to_string(types[i]));
    }
    data.token_types.push_back(static_cast<uint8_t>(types[i]));
  }
  if (data.kind == TokenizerKind::kByteLevelBpe) {
    INFERNET_ASSIGN_OR_RETURN(data.merges,
                              Required(file, "tokenizer.ggml.merges", &gguf::Value::AsStringArray));
    std::string_view pre;
    INFERNET_RETURN_IF_ERROR(Optional(file, "tokenizer.ggml.pre", &gguf::Value::AsString, pre));
    data.pre = std::string(pre);
  }
  INFERNET_RETURN_IF_ERROR(OptionalId(file, "tokenizer.ggml.bos_token_id", data.bos_id));
  INFERNET_RETURN_IF_ERROR(OptionalId(file, "tokenizer.ggml.eos_token_id", data.eos_id));
  INFERNET_RETURN_IF_ERROR(OptionalId(file, "tokenizer.ggml.eot_token_id", data.eot_id));
  INFERNET_RETURN_IF_ERROR(OptionalId(file, "tokenizer.ggml.unknown_token_id", data.unknown_id));
  INFERNET_RETURN_IF_ERROR(OptionalId(file, "tokenizer.ggml.padding_token_id", data.padding_id));
  // GGUF converters write add_bos_token only when it differs from the model's default.
  data.add_bos = data.kind == TokenizerKind::kSentencePiece;
  INFERNET_RETURN_IF_ERROR(
      Optional(file, "tokenizer.ggml.add_bos_token", &gguf::Value::AsBool, data.add_bos));
  INFERNET_RETURN_IF_ERROR(
      Optional(file, "tokenizer.ggml.add_eos_token", &gguf::Value::AsBool, data.add_eos));
  INFERNET_RETURN_IF_ERROR(Optional(file, "tokenizer.ggml.add_space_prefix", &gguf::Value::AsBool,
                                    data.add_space_prefix));
  return FromData(std::move(data));
}

}  // namespace infernet
