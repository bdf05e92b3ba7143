// BuildTestVocabulary: a tiny BPE training run over a fixed English paragraph, so the synthetic
// models of `model make-test` tokenize ordinary text into word-sized pieces.
#include <algorithm>
#include <cassert>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "engine/tokenizer/bpe_pretokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"
#include "engine/tokenizer/unicode_text.h"

namespace infernet {
namespace {

// Written for this project. Changing it changes every synthetic model's vocabulary.
constexpr std::string_view kTrainingText =
    "The small village sat at the edge of a quiet river, and every morning the people of the "
    "village walked down to the water to watch the sun rise over the hills. The children ran "
    "ahead of their parents, laughing and calling to one another, while the old men followed "
    "slowly and talked about the weather, the harvest and the news from the city. In the spring "
    "the river was high and fast, and the farmers worked from dawn until night to plant their "
    "fields before the rain came again. In the summer the water was low and warm, and the "
    "children swam in the shallow pools while their mothers washed clothes on the flat stones. "
    "When autumn arrived the trees turned red and gold, and the whole village gathered in the "
    "square to share bread, cheese, apples and wine. There was music and dancing, and the "
    "teacher told stories about the history of the valley, about the first families who came "
    "there long ago and built their houses from wood and stone. Winter was the hardest time of "
    "the year. The snow covered the roads, the wind was cold, and the days were short, but the "
    "people helped each other. They shared food, they kept the fires burning, and they waited "
    "for the light to return. A young woman named Clara worked in the library, where she kept "
    "the books in order and wrote letters for those who could not write. She believed that "
    "knowledge should belong to everyone, and she taught anyone who wanted to learn how to read "
    "and count. Her brother Thomas was a builder who could repair a roof in a single afternoon. "
    "Together they started a small school in the old mill by the river. At first only three "
    "students came, but soon there were twenty, and then forty, and the school became the "
    "heart of the village. Years later, when the city sent engineers to build a bridge across "
    "the river, they were surprised to find that the people already understood numbers, maps "
    "and machines. The bridge was finished in 1897, and it still stands today, strong and "
    "simple, a quiet reminder that small places can do great things when people work together "
    "and share what they know. What would you do if you were there? I'm sure you'd help, and "
    "we'll remember it: they've told us it's true!";

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581

using Symbols = std::vector<std::string>;

struct Corpus {
  std::map<Symbols, int> words;  // symbol sequence -> occurrences
};

Corpus BpeCorpus(PreTokenizerFlavor flavor) {
  Corpus corpus;
  for (std::string_view word : PreTokenize(kTrainingText, flavor)) {
    Symbols symbols;
    for (char c : word) {
      std::string s;
      unicode::AppendUtf8(unicode::ByteToCodePoint(static_cast<uint8_t>(c)), s);
      symbols.push_back(std::move(s));
    }
    ++corpus.words[symbols];
  }
  return corpus;
}

// Words as the SentencePiece encoder sees them: each starts at a U+2581 (space) marker.
Corpus SentencePieceCorpus() {
  Corpus corpus;
  Symbols current;
  std::string text(kSpaceMarker);
  for (char c : kTrainingText) {
    if (c == ' ') {
      text += kSpaceMarker;
    } else {
      text += c;
    }
  }
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp;
    const size_t len = unicode::DecodeUtf8(text, pos, &cp);
    std::string ch(text.substr(pos, len));
    if (ch == kSpaceMarker && !current.empty()) {
      ++corpus.words[current];
      current.clear();
    }
    current.push_back(std::move(ch));
    pos += len;
  }
  if (!current.empty()) ++corpus.words[current];
  return corpus;
}

struct Training {
  std::vector<std::pair<std::string, std::string>> merges;  // in learned order
  std::vector<std::string> pieces;                          // new tokens, in learned order
};

// Repeatedly merges the most frequent adjacent pair (ties: the lexicographically smallest) until
// `max_pieces` new pieces exist or every word is a single symbol. `known` are existing tokens.
Training Train(Corpus corpus, size_t max_pieces, std::set<std::string> known) {
  Training result;
  while (result.pieces.size() < max_pieces) {
    std::map<std::pair<std::string, std::string>, int> pair_counts;
    for (const auto& [symbols, count] : corpus.words) {
      for (size_t i = 1; i < symbols.size(); ++i)
        pair_counts[{symbols[i - 1], symbols[i]}] += count;
    }
    if (pair_counts.empty()) break;
    auto best = pair_counts.begin();
    for (auto it = pair_counts.begin(); it != pair_counts.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    const auto [left, right] = best->first;
    const std::string merged = left + right;
    result.merges.push_back({left, right});
    if (known.insert(merged).second) result.pieces.push_back(merged);

    std::map<Symbols, int> next;
    for (const auto& [symbols, count] : corpus.words) {
      Symbols out;
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(symbols[i]);
        }
      }
      next[std::move(out)] += count;
    }
    corpus.words = std::move(next);
  }
  return result;
}

struct Specials {
  std::vector<std::string> texts;
  std::string bos, eos, eot;
  bool add_bos = false;
};

Specials SpecialsFor(TokenizerKind kind, bool llama3) {
  Specials s;
  if (llama3) {
    s.texts = {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
               "<|eot_id|>"};
    s.bos = "<|begin_of_text|>";
    s.eos = "<|end_of_text|>";
    s.eot = "<|eot_id|>";
    s.add_bos = true;
  } else if (kind == TokenizerKind::kByteLevelBpe) {
    // Qwen2-style: no BOS is added; <|endoftext|> ends documents, <|im_end|> ends chat turns.
    s.texts = {"<|im_start|>", "<|im_end|>", "<|endoftext|>"};
    s.bos = "<|endoftext|>";
    s.eos = "<|endoftext|>";
    s.eot = "<|im_end|>";
  }
  if (kind == TokenizerKind::kSentencePiece) {
    s.add_bos = true;
    if (!llama3) {
      s.bos = "<s>";
      s.eos = "</s>";
    }
  }
  return s;
}

class VocabularyBuilder {
 public:
  explicit VocabularyBuilder(TokenizerData& data) : data_(data) {}
  TokenId Add(std::string_view text, TokenType type, float score = 0.0f) {
    data_.tokens.PushBack(text);
    data_.token_types.push_back(static_cast<uint8_t>(type));
    data_.scores.push_back(score);
    return static_cast<TokenId>(data_.tokens.size() - 1);
  }
  TokenId Find(std::string_view text) const {
    auto it = std::find(data_.tokens.begin(), data_.tokens.end(), text);
    return it == data_.tokens.end() ? -1 : static_cast<TokenId>(it - data_.tokens.begin());
  }

 private:
  TokenizerData& data_;
};

}  // namespace

TokenizerData BuildTestVocabulary(TokenizerKind kind, int vocab_size, bool llama3_specials) {
  assert(vocab_size >= 512);
  TokenizerData data;
  data.kind = kind;
  VocabularyBuilder builder(data);
  const Specials specials = SpecialsFor(kind, llama3_specials);
  std::set<std::string> known;

  if (kind == TokenizerKind::kSentencePiece) {
    data.unknown_id = builder.Add("<unk>", TokenType::kUnknown);
    builder.Add("<s>", TokenType::kControl);
    builder.Add("</s>", TokenType::kControl);
    for (int b = 0; b < 256; ++b) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      builder.Add(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", TokenType::kByte);
    }
  } else {
    data.pre = llama3_specials ? "llama-bpe" : "qwen2";
    for (int b = 0; b < 256; ++b) {
      std::string s;
      unicode::AppendUtf8(unicode::ByteToCodePoint(static_cast<uint8_t>(b)), s);
      known.insert(s);
      builder.Add(s, TokenType::kNormal);
    }
  }

  Corpus corpus = kind == TokenizerKind::kSentencePiece
                      ? SentencePieceCorpus()
                      : BpeCorpus(PreTokenizerFlavorFromName(data.pre));
  // SentencePiece also needs every character of the corpus as a piece of its own.
  std::vector<std::string> characters;
  if (kind == TokenizerKind::kSentencePiece) {
    std::set<std::string> distinct;
    for (const auto& [symbols, count] : corpus.words)
      distinct.insert(symbols.begin(), symbols.end());
    characters.assign(distinct.begin(), distinct.end());
    known.insert(distinct.begin(), distinct.end());
  }
  const size_t reserved = data.tokens.size() + characters.size() + specials.texts.size();
  const size_t room = static_cast<size_t>(vocab_size) > reserved ? vocab_size - reserved : 0;
  const Training training = Train(std::move(corpus), room, std::move(known));

  // Scores fall with learning order, so SentencePiece merges in the order training found them.
  float score = 0.0f;
  for (const std::string& piece : training.pieces) builder.Add(piece, TokenType::kNormal, score--);
  for (const std::string& c : characters) builder.Add(c, TokenType::kNormal, score--);
  if (kind == TokenizerKind::kByteLevelBpe) {
    for (const auto& [left, right] : training.merges) data.merges.PushBack(left + " " + right);
  }
  // When the corpus runs out of merges, unused placeholders keep the requested size.
  for (int i = 0; data.tokens.size() + specials.texts.size() < static_cast<size_t>(vocab_size);
       ++i) {
    builder.Add("<unused" + std::to_string(i) + ">", TokenType::kUnused);
  }
  for (const std::string& text : specials.texts) builder.Add(text, TokenType::kControl);
  if (kind == TokenizerKind::kByteLevelBpe) data.scores.clear();  // BPE ranks come from merges

  data.bos_id = builder.Find(specials.bos);
  data.eos_id = builder.Find(specials.eos);
  data.eot_id = specials.eot.empty() ? -1 : builder.Find(specials.eot);
  data.add_bos = specials.add_bos;
  return data;
}

}  // namespace infernet
