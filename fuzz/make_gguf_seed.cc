// Writes a small valid GGUF file (every value type, several tensor types) into the directory
// given as argv[1], as a seed corpus for gguf_fuzz.
#include <cstdio>
#include <filesystem>
#include <vector>

#include "engine/gguf/gguf_writer.h"

int main(int argc, char** argv) {
  using infernet::TensorType;
  using namespace infernet::gguf;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  GgufWriter w;
  w.SetValue("general.architecture", Value::String("llama"));
  w.SetValue("llama.block_count", Value::Uint32(1));
  w.SetValue("llama.context_length", Value::Uint64(128));
  w.SetValue("llama.rope.freq_base", Value::Float32(10000.0f));
  w.SetValue("f64", Value::Float64(0.5));
  w.SetValue("i8", Value::Int8(-1));
  w.SetValue("u16", Value::Uint16(7));
  w.SetValue("add_bos", Value::Bool(true));
  w.SetValue("tokenizer.ggml.tokens", Value::StringArray({"<s>", "</s>", "a"}));
  w.SetValue("tokenizer.ggml.scores", Value::Float32Array({0.0f, -1.0f, -2.0f}));
  w.SetValue("tokenizer.ggml.token_type", Value::IntArray(ValueType::kInt32, {3, 3, 1}));
  w.SetValue("flags", Value::IntArray(ValueType::kBool, {1, 0}));
  struct Spec {
    const char* name;
    std::vector<int64_t> shape;
    TensorType type;
  };
  const Spec specs[] = {{"f32", {4, 2}, TensorType::kF32},
                        {"f16", {8}, TensorType::kF16},
                        {"q8", {32}, TensorType::kQ8_0},
                        {"q4k", {256}, TensorType::kQ4_K}};
  for (const Spec& s : specs) {
    int64_t n = 1;
    for (int64_t d : s.shape) n *= d;
    infernet::Status added = w.AddTensor(s.name, s.shape, s.type,
                                         std::vector<uint8_t>(infernet::RowBytes(s.type, n), 0x11));
    if (!added.ok()) {
      std::fprintf(stderr, "%s\n", added.ToString().c_str());
      return 1;
    }
  }
  std::filesystem::create_directories(argv[1]);
  infernet::Status written = w.WriteFile(std::filesystem::path(argv[1]) / "seed.gguf");
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 1;
  }
  return 0;
}
