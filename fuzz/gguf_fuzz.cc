// libFuzzer target for the GGUF reader: any input must yield a clean Status or a file whose every
// metadata value and tensor byte can be read without ASan/UBSan complaints.
//
// Build and run (see fuzz/CMakeLists.txt):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DINFERNET_FUZZ=ON \
//       -DINFERNET_BENCH=OFF -DINFERNET_ENGINE_ONLY=ON
//   ninja -C build-fuzz gguf_fuzz gguf_fuzz_seed
//   build-fuzz/fuzz/gguf_fuzz_seed /tmp/gguf_seed    # or: infernet model make-test -o ...
//   build-fuzz/fuzz/gguf_fuzz -max_total_time=60 /tmp/gguf_corpus /tmp/gguf_seed
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/gguf/gguf_file.h"

namespace {

volatile uint64_t g_sink;  // keeps the reads below from being optimized away

uint64_t TouchValue(const infernet::gguf::Value& value) {
  uint64_t sum = value.array_size() + static_cast<uint64_t>(value.type());
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          for (char c : v) sum += static_cast<uint8_t>(c);
        } else if constexpr (std::is_same_v<T, infernet::PackedStrings>) {
          for (std::string_view s : v) {
            for (char c : s) sum += static_cast<uint8_t>(c);
          }
        } else if constexpr (std::is_same_v<T, std::vector<float>> ||
                             std::is_same_v<T, std::vector<int64_t>> ||
                             std::is_same_v<T, std::vector<int32_t>>) {
          for (auto x : v) sum += static_cast<uint64_t>(x != 0);
        } else {
          sum += static_cast<uint64_t>(v != 0);
        }
      },
      value.storage());
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = infernet::gguf::GgufFile::FromBuffer(std::span<const uint8_t>(data, size));
  if (!file.ok()) return 0;
  const infernet::gguf::GgufFile& f = **file;
  uint64_t sum = 0;
  for (const auto& [key, value] : f.metadata()) {
    sum += key.size() + TouchValue(value);
    if (f.Find(key) != &value) __builtin_trap();  // keys are unique and indexed
  }
  for (const auto& t : f.tensors()) {
    std::span<const uint8_t> bytes = f.TensorData(t);
    if (bytes.size() != t.size_bytes || f.FindTensor(t.name) != &t) __builtin_trap();
    if (t.num_elements() <= 0 || t.offset % f.alignment() != 0) __builtin_trap();
    for (uint8_t b : bytes) sum += b;
  }
  g_sink = sum;
  return 0;
}
