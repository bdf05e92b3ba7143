#include "engine/tokenizer/vocabulary_tokenizer.h"

#include <algorithm>
#include <string>

namespace infernet {
namespace {

constexpr std::string_view kEndOfGenerationTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end_of_text|>",
                                                      "<|endoftext|>"};

Status CheckSpecialId(TokenId id, size_t vocab_size, std::string_view key) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= vocab_size)) {
    return Status::Corrupt("tokenizer.ggml." + std::string(key) + ": id " + std::to_string(id) +
                           " outside a vocabulary of " + std::to_string(vocab_size));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTokenizerData(const TokenizerData& data) {
  const size_t n = data.tokens.size();
  if (n == 0) return Status::Corrupt("tokenizer.ggml.tokens: empty vocabulary");
  if (n > static_cast<size_t>(INT32_MAX)) return Status::Corrupt("tokenizer.ggml.tokens: too many");
  if (!data.scores.empty() && data.scores.size() != n) {
    return Status::Corrupt("tokenizer.ggml.scores: " + std::to_string(data.scores.size()) +
                           " scores for " + std::to_string(n) + " tokens");
  }
  if (!data.token_types.empty() && data.token_types.size() != n) {
    return Status::Corrupt("tokenizer.ggml.token_type: " + std::to_string(data.token_types.size()) +
                           " types for " + std::to_string(n) + " tokens");
  }
  for (size_t i = 0; i < data.token_types.size(); ++i) {
    if (data.token_types[i] > 6) {
      return Status::Corrupt("tokenizer.ggml.token_type[" + std::to_string(i) + "]: unknown type " +
                             std::to_string(data.token_types[i]));
    }
  }
  INFERNET_RETURN_IF_ERROR(CheckSpecialId(data.bos_id, n, "bos_token_id"));
  INFERNET_RETURN_IF_ERROR(CheckSpecialId(data.eos_id, n, "eos_token_id"));
  INFERNET_RETURN_IF_ERROR(CheckSpecialId(data.eot_id, n, "eot_token_id"));
  INFERNET_RETURN_IF_ERROR(CheckSpecialId(data.unknown_id, n, "unknown_token_id"));
  INFERNET_RETURN_IF_ERROR(CheckSpecialId(data.padding_id, n, "padding_token_id"));
  return Status::Ok();
}

VocabularyTokenizer::VocabularyTokenizer(TokenizerData data)
    : data_(std::move(data)), token_ids_(data_.tokens) {
  const size_t n = data_.tokens.size();
  end_of_generation_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<TokenId>(i);
    const std::string_view text = data_.tokens[i];
    token_ids_.Insert(id);  // the first of duplicate texts wins
    for (std::string_view eog : kEndOfGenerationTexts) {
      if (text == eog) end_of_generation_[i] = true;
    }
    if (IsSpecialText(id) && !text.empty()) {
      specials_by_first_byte_[static_cast<uint8_t>(text[0])].push_back({text, id});
    }
  }
  if (data_.eos_id >= 0) end_of_generation_[data_.eos_id] = true;
  if (data_.eot_id >= 0) end_of_generation_[data_.eot_id] = true;
  for (auto& candidates : specials_by_first_byte_) {
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const SpecialCandidate& a, const SpecialCandidate& b) {
                       return a.text.size() > b.text.size();
                     });
  }
}

TokenType VocabularyTokenizer::type(TokenId id) const {
  if (data_.token_types.empty()) return TokenType::kNormal;
  return static_cast<TokenType>(data_.token_types[id]);
}

bool VocabularyTokenizer::IsSpecialText(TokenId id) const {
  const TokenType t = type(id);
  return t == TokenType::kControl || t == TokenType::kUserDefined;
}

bool VocabularyTokenizer::IsEndOfGeneration(TokenId id) const {
  return id >= 0 && static_cast<size_t>(id) < end_of_generation_.size() && end_of_generation_[id];
}

bool VocabularyTokenizer::IsControl(TokenId id) const {
  return id >= 0 && static_cast<size_t>(id) < vocab_size() && type(id) == TokenType::kControl;
}

TokenId VocabularyTokenizer::FindToken(std::string_view text) const {
  return token_ids_.Find(text);
}

std::vector<TokenId> VocabularyTokenizer::Encode(std::string_view text, bool add_special,
                                                 bool parse_special) const {
  std::vector<TokenId> out;
  if (add_special && data_.add_bos && data_.bos_id >= 0) out.push_back(data_.bos_id);
  bool after_special = true;
  size_t run_start = 0;
  auto flush = [&](size_t end) {
    if (end > run_start) {
      EncodeText(text.substr(run_start, end - run_start), after_special, out);
      after_special = false;
    }
  };
  if (parse_special) {
    for (size_t pos = 0; pos < text.size();) {
      const SpecialCandidate* match = nullptr;
      for (const SpecialCandidate& c : specials_by_first_byte_[static_cast<uint8_t>(text[pos])]) {
        if (text.substr(pos, c.text.size()) == c.text) {  // longest first
          match = &c;
          break;
        }
      }
      if (match == nullptr) {
        ++pos;
        continue;
      }
      flush(pos);
      out.push_back(match->id);
      after_special = true;
      pos += match->text.size();
      run_start = pos;
    }
  }
  flush(text.size());
  if (add_special && data_.add_eos && data_.eos_id >= 0) out.push_back(data_.eos_id);
  return out;
}

std::string VocabularyTokenizer::TokenToPiece(TokenId id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_size()) return {};
  switch (type(id)) {
    case TokenType::kControl:
    case TokenType::kUnknown:
    case TokenType::kUnused:
      return render_special ? std::string(data_.tokens[id]) : std::string();
    default:
      return DecodedPiece(id);
  }
}

}  // namespace infernet
