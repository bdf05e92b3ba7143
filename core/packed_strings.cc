#include "core/packed_strings.h"

#include <cassert>

namespace infernet {

PackedStrings::PackedStrings(std::initializer_list<std::string_view> strings) {
  for (std::string_view s : strings) PushBack(s);
}

PackedStrings::Storage& PackedStrings::Mutable() {
  if (!storage_) {
    storage_ = std::make_shared<Storage>();
  } else if (storage_.use_count() > 1) {
    storage_ = std::make_shared<Storage>(*storage_);
  }
  return *storage_;
}

void PackedStrings::Reserve(size_t count, size_t chars) {
  Storage& s = Mutable();
  s.ends.reserve(count);
  s.chars.reserve(chars);
}

void PackedStrings::PushBack(std::string_view text) {
  Storage& s = Mutable();
  assert(s.chars.size() + text.size() <= kMaxChars);
  s.chars.append(text);
  s.ends.push_back(static_cast<uint32_t>(s.chars.size()));
}

void PackedStrings::Truncate(size_t count) {
  assert(count <= size());
  if (count == size()) return;
  Storage& s = Mutable();
  s.ends.resize(count);
  s.chars.resize(count == 0 ? 0 : s.ends.back());
}

std::vector<std::string> PackedStrings::ToVector() const {
  return std::vector<std::string>(begin(), end());
}

bool operator==(const PackedStrings& a, const PackedStrings& b) {
  if (a.storage_ == b.storage_) return true;
  return a.size() == b.size() && a.total_chars() == b.total_chars() &&
         (a.empty() ||
          (a.storage_->ends == b.storage_->ends && a.storage_->chars == b.storage_->chars));
}

}  // namespace infernet
