// Fuzz regression in the ordinary test run: seeded random damage to a valid file must always end
// in a clean Status or a file whose every value and tensor byte can be read (ASan/UBSan in CI
// turn any over-read into a failure).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"

namespace infernet::gguf {
namespace {

std::vector<uint8_t> ValidFile() {
  GgufWriter w;
  w.SetValue("general.architecture", Value::String("llama"));
  w.SetValue("llama.block_count", Value::Uint32(2));
  w.SetValue("llama.rope.freq_base", Value::Float32(10000.0f));
  w.SetValue("tokenizer.ggml.tokens", Value::StringArray({"<s>", "</s>", "a", "bc"}));
  w.SetValue("tokenizer.ggml.scores", Value::Float32Array({0.0f, -1.0f, -2.0f, -3.0f}));
  w.SetValue("tokenizer.ggml.token_type", Value::IntArray(ValueType::kInt32, {3, 3, 1, 1}));
  w.SetValue("flags", Value::IntArray(ValueType::kBool, {1, 0}));
  w.SetValue("add_bos", Value::Bool(true));
  w.SetValue("big", Value::Uint64(1ull << 40));
  EXPECT_TRUE(w.AddTensor("a", {8, 2}, TensorType::kF32, std::vector<uint8_t>(64, 1)).ok());
  EXPECT_TRUE(w.AddTensor("b", {32}, TensorType::kQ8_0, std::vector<uint8_t>(34, 2)).ok());
  EXPECT_TRUE(w.AddTensor("c", {4}, TensorType::kF16, std::vector<uint8_t>(8, 3)).ok());
  return w.WriteToBuffer();
}

// Reads everything a parsed file exposes; returns a checksum so nothing is optimized away.
uint64_t TouchEverything(const GgufFile& f) {
  uint64_t sum = 0;
  for (const auto& [key, value] : f.metadata()) {
    sum += key.size() + value.array_size();
    if (auto s = value.AsString(); s.ok()) sum += s->size();
    if (auto a = value.AsStringArray(); a.ok()) {
      for (const auto& s : *a) sum += s.size();
    }
  }
  for (const TensorInfo& t : f.tensors()) {
    for (uint8_t b : f.TensorData(t)) sum += b;
    EXPECT_EQ(f.TensorData(t).size(), t.size_bytes) << t.name;
  }
  return sum;
}

TEST(GgufRandomMutationTest, DamagedFilesNeverCrashTheParser) {
  const std::vector<uint8_t> valid = ValidFile();
  ASSERT_TRUE(GgufFile::FromBuffer(valid).ok());
  std::mt19937_64 rng(0x6775676621);
  auto below = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  int parsed = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::vector<uint8_t> bytes = valid;
    const int edits = 1 + static_cast<int>(below(4));
    for (int e = 0; e < edits; ++e) {
      switch (below(4)) {
        case 0:  // flip bits of one byte
          if (!bytes.empty()) bytes[below(bytes.size())] ^= static_cast<uint8_t>(1 + below(255));
          break;
        case 1:  // overwrite a byte with an interesting value
          if (!bytes.empty()) {
            static constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x09};
            bytes[below(bytes.size())] = kInteresting[below(std::size(kInteresting))];
          }
          break;
        case 2:  // truncate
          bytes.resize(below(bytes.size() + 1));
          break;
        case 3:  // insert random bytes
          for (uint64_t k = 0, n = 1 + below(8); k < n; ++k) {
            bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(below(bytes.size() + 1)),
                         static_cast<uint8_t>(rng()));
          }
          break;
      }
    }
    auto file = GgufFile::FromBuffer(bytes);
    if (file.ok()) {
      ++parsed;
      TouchEverything(**file);
    } else {
      EXPECT_TRUE(file.status().code() == StatusCode::kCorrupt ||
                  file.status().code() == StatusCode::kUnsupported)
          << file.status().ToString();
      EXPECT_FALSE(file.status().message().empty());
    }
  }
  // Some mutations land in tensor data or padding and must still parse.
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace infernet::gguf
