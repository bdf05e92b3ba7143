// A list of strings kept in one character buffer plus one end offset per string.
//
// Vocabularies hold tens of thousands of short strings: as std::vector<std::string> each costs a
// 32-byte std::string (plus a heap block when longer than 15 bytes), here 4 bytes plus its
// characters, so a 32,000-token vocabulary takes about 0.3 MiB instead of 1 MiB. Copies share
// one buffer until one of them is changed, so a model's metadata and its tokenizer hold a single
// copy of the vocabulary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace infernet {

class PackedStrings {
 public:
  // The most characters all strings together may hold (offsets are 32-bit).
  static constexpr size_t kMaxChars = UINT32_MAX;

  class Iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;

    Iterator() = default;
    Iterator(const PackedStrings* list, size_t index) : list_(list), index_(index) {}
    std::string_view operator*() const { return (*list_)[index_]; }
    std::string_view operator[](difference_type n) const { return *(*this + n); }
    Iterator& operator++() { return *this += 1; }
    Iterator operator++(int) { return Step(1); }
    Iterator& operator--() { return *this -= 1; }
    Iterator operator--(int) { return Step(-1); }
    Iterator& operator+=(difference_type n) {
      index_ = static_cast<size_t>(static_cast<difference_type>(index_) + n);
      return *this;
    }
    Iterator& operator-=(difference_type n) { return *this += -n; }
    friend Iterator operator+(Iterator it, difference_type n) { return it += n; }
    friend Iterator operator+(difference_type n, Iterator it) { return it += n; }
    friend Iterator operator-(Iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const Iterator& a, const Iterator& b) {
      return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }
    friend auto operator<=>(const Iterator& a, const Iterator& b) { return a.index_ <=> b.index_; }

   private:
    Iterator Step(difference_type n) {
      Iterator before = *this;
      *this += n;
      return before;
    }
    const PackedStrings* list_ = nullptr;
    size_t index_ = 0;
  };

  PackedStrings() = default;
  PackedStrings(std::initializer_list<std::string_view> strings);

  size_t size() const { return storage_ ? storage_->ends.size() : 0; }
  bool empty() const { return size() == 0; }
  size_t total_chars() const { return storage_ ? storage_->chars.size() : 0; }
  // REQUIRES: i < size().
  std::string_view operator[](size_t i) const {
    const std::vector<uint32_t>& ends = storage_->ends;
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(storage_->chars).substr(begin, ends[i] - begin);
  }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

  void Reserve(size_t count, size_t chars);
  // REQUIRES: total_chars() + s.size() <= kMaxChars (callers reading untrusted input check it).
  void PushBack(std::string_view s);
  // Keeps the first `count` strings. REQUIRES: count <= size().
  void Truncate(size_t count);
  std::vector<std::string> ToVector() const;

  friend bool operator==(const PackedStrings& a, const PackedStrings& b);

 private:
  struct Storage {
    std::string chars;
    std::vector<uint32_t> ends;  // ends[i]: one past string i's last character in chars
  };
  // The storage, first made this object's own when it is absent or shared with a copy.
  Storage& Mutable();

  std::shared_ptr<Storage> storage_;  // null while empty
};

}  // namespace infernet
