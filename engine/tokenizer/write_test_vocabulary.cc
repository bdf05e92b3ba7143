// WriteTestVocabulary: serialises BuildTestVocabulary's result as tokenizer.ggml.* metadata.
#include "engine/gguf/gguf_writer.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {

void WriteTestVocabulary(gguf::GgufWriter& writer, TokenizerKind kind, int vocab_size,
                         bool llama3_specials) {
  using gguf::Value;
  using gguf::ValueType;
  TokenizerData data = BuildTestVocabulary(kind, vocab_size, llama3_specials);
  const bool bpe = kind == TokenizerKind::kByteLevelBpe;
  const ChatFormat format = llama3_specials ? ChatFormat::kLlama3
                            : bpe           ? ChatFormat::kChatMl
                                            : ChatFormat::kLlama2;

  writer.SetValue("tokenizer.ggml.model", Value::String(bpe ? "gpt2" : "llama"));
  if (bpe) writer.SetValue("tokenizer.ggml.pre", Value::String(data.pre));
  writer.SetValue("tokenizer.ggml.tokens", Value::StringArray(std::move(data.tokens)));
  if (!bpe) writer.SetValue("tokenizer.ggml.scores", Value::Float32Array(std::move(data.scores)));
  writer.SetValue("tokenizer.ggml.token_type",
                  Value::IntArray(ValueType::kInt32, std::vector<int64_t>(data.token_types.begin(),
                                                                          data.token_types.end())));
  if (bpe) writer.SetValue("tokenizer.ggml.merges", Value::StringArray(std::move(data.merges)));
  const auto write_id = [&](const char* key, TokenId id) {
    if (id >= 0) writer.SetValue(key, Value::Uint32(static_cast<uint32_t>(id)));
  };
  write_id("tokenizer.ggml.bos_token_id", data.bos_id);
  write_id("tokenizer.ggml.eos_token_id", data.eos_id);
  write_id("tokenizer.ggml.eot_token_id", data.eot_id);
  write_id("tokenizer.ggml.unknown_token_id", data.unknown_id);
  writer.SetValue("tokenizer.ggml.add_bos_token", Value::Bool(data.add_bos));
  writer.SetValue("tokenizer.chat_template",
                  Value::String(std::string(ChatTemplateSource(format))));
}

}  // namespace infernet
