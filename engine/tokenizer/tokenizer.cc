#include "engine/tokenizer/tokenizer.h"

#include "engine/tokenizer/byte_level_bpe_tokenizer.h"
#include "engine/tokenizer/sentencepiece_tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"
#include "engine/tokenizer/vocabulary_tokenizer.h"

namespace infernet {

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromData(TokenizerData data) {
  INFERNET_RETURN_IF_ERROR(ValidateTokenizerData(data));
  switch (data.kind) {
    case TokenizerKind::kSentencePiece:
      return MakeSentencePieceTokenizer(std::move(data));
    case TokenizerKind::kByteLevelBpe:
      return MakeByteLevelBpeTokenizer(std::move(data));
  }
  return Status::Unsupported("tokenizer.ggml.model: unknown tokenizer kind");
}

std::string Tokenizer::Decode(std::span<const TokenId> ids, bool render_special) const {
  return DecodeTokens(ids, render_special);
}

std::string Tokenizer::DecodeTokens(std::span<const TokenId> ids, bool render_special) const {
  std::string out;
  for (TokenId id : ids) out += TokenToPiece(id, render_special);
  return out;
}

}  // namespace infernet
