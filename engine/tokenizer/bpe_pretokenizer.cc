#include "engine/tokenizer/bpe_pretokenizer.h"

#include <cstdint>

#include "engine/tokenizer/unicode_text.h"

namespace infernet {
namespace {

// One decoded character: its code point and where its bytes start.
struct Char {
  uint32_t cp;
  size_t offset;
};

bool IsNewline(uint32_t cp) { return cp == '\r' || cp == '\n'; }
bool IsSpace(uint32_t cp) { return cp != unicode::kInvalidCodePoint && unicode::IsWhitespace(cp); }
bool IsLetter(uint32_t cp) { return cp != unicode::kInvalidCodePoint && unicode::IsLetter(cp); }
bool IsNumber(uint32_t cp) { return cp != unicode::kInvalidCodePoint && unicode::IsNumber(cp); }
bool IsOther(uint32_t cp) { return !IsSpace(cp) && !IsLetter(cp) && !IsNumber(cp); }

uint32_t AsciiLower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

class Scanner {
 public:
  Scanner(std::string_view text, PreTokenizerFlavor flavor) : text_(text), flavor_(flavor) {
    for (size_t pos = 0; pos < text.size();) {
      uint32_t cp;
      const size_t len = unicode::DecodeUtf8(text, pos, &cp);
      chars_.push_back({cp, pos});
      pos += len;
    }
  }

  std::vector<std::string_view> Run() {
    std::vector<std::string_view> pieces;
    for (size_t i = 0; i < chars_.size();) {
      size_t end = flavor_ == PreTokenizerFlavor::kGpt2 ? MatchGpt2(i) : MatchLlama3(i);
      if (end <= i) end = i + 1;  // unreachable with the alternatives above; keeps progress
      pieces.push_back(Slice(i, end));
      i = end;
    }
    return pieces;
  }

 private:
  uint32_t At(size_t i) const { return i < chars_.size() ? chars_[i].cp : 0; }
  bool Has(size_t i) const { return i < chars_.size(); }

  std::string_view Slice(size_t begin, size_t end) const {
    const size_t b = chars_[begin].offset;
    const size_t e = end < chars_.size() ? chars_[end].offset : text_.size();
    return text_.substr(b, e - b);
  }

  // 's|'t|'re|'ve|'m|'ll|'d, optionally ASCII case-insensitive. Returns the end or `i`.
  size_t MatchContraction(size_t i, bool ignore_case) const {
    if (At(i) != '\'' || !Has(i + 1)) return i;
    auto fold = [&](size_t k) { return ignore_case ? AsciiLower(At(k)) : At(k); };
    const uint32_t a = fold(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (Has(i + 2)) {
      const uint32_t b = fold(i + 2);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    return i;
  }

  size_t SkipWhile(size_t i, bool (*pred)(uint32_t)) const {
    while (Has(i) && pred(At(i))) ++i;
    return i;
  }

  // \s+(?!\S)|\s+ : a whitespace run, leaving its last character for the next pre-token when
  // something non-space follows (so " word" keeps its space).
  size_t MatchTrailingWhitespace(size_t i) const {
    const size_t end = SkipWhile(i, IsSpace);
    if (end == chars_.size() || end - i == 1) return end;
    return end - 1;
  }

  size_t MatchLlama3(size_t i) const {
    if (size_t e = MatchContraction(i, /*ignore_case=*/true); e > i) return e;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (IsLetter(At(i))) return SkipWhile(i, IsLetter);
    if (!IsNewline(At(i)) && !IsLetter(At(i)) && !IsNumber(At(i)) && Has(i + 1) &&
        IsLetter(At(i + 1))) {
      return SkipWhile(i + 1, IsLetter);
    }
    // \p{N}{1,3} (Llama 3) or \p{N} (Qwen2)
    if (IsNumber(At(i))) {
      const size_t max_digits = flavor_ == PreTokenizerFlavor::kQwen2 ? 1 : 3;
      size_t e = i;
      while (e - i < max_digits && Has(e) && IsNumber(At(e))) ++e;
      return e;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n]*"
    {
      const size_t start = At(i) == ' ' ? i + 1 : i;
      if (Has(start) && IsOther(At(start))) {
        size_t e = SkipWhile(start, IsOther);
        return SkipWhile(e, IsNewline);
      }
    }
    // \s*[\r\n]+ : the longest match ends just after the last newline of the whitespace run.
    const size_t run_end = SkipWhile(i, IsSpace);
    for (size_t k = run_end; k > i; --k) {
      if (IsNewline(At(k - 1))) return k;
    }
    return MatchTrailingWhitespace(i);
  }

  size_t MatchGpt2(size_t i) const {
    if (size_t e = MatchContraction(i, /*ignore_case=*/false); e > i) return e;
    const size_t start = (At(i) == ' ' && Has(i + 1)) ? i + 1 : i;
    if (IsLetter(At(start))) return SkipWhile(start, IsLetter);
    if (IsNumber(At(start))) return SkipWhile(start, IsNumber);
    if (IsOther(At(start))) return SkipWhile(start, IsOther);
    return MatchTrailingWhitespace(i);
  }

  std::string_view text_;
  PreTokenizerFlavor flavor_;
  std::vector<Char> chars_;
};

}  // namespace

PreTokenizerFlavor PreTokenizerFlavorFromName(std::string_view name) {
  if (name == "llama-bpe" || name == "llama3") return PreTokenizerFlavor::kLlama3;
  if (name == "qwen2") return PreTokenizerFlavor::kQwen2;
  return PreTokenizerFlavor::kGpt2;
}

std::vector<std::string_view> PreTokenize(std::string_view text, PreTokenizerFlavor flavor) {
  return Scanner(text, flavor).Run();
}

}  // namespace infernet
