#include "engine/gguf/gguf_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "engine/gguf/gguf_file.h"

namespace infernet::gguf {
namespace {

constexpr TensorType kAllStoredTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
                                          TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                                          TensorType::kQ6_K};

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

// The parsed file views `bytes`, so temporaries are refused at compile time.
std::unique_ptr<GgufFile> ParseOrDie(std::vector<uint8_t>&& bytes) = delete;
std::unique_ptr<GgufFile> ParseOrDie(const std::vector<uint8_t>& bytes) {
  auto file = GgufFile::FromBuffer(bytes);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return file.ok() ? std::move(file).value() : nullptr;
}

TEST(GgufWriterTest, RoundTripsEveryScalarType) {
  GgufWriter w;
  w.SetValue("u8", Value::Uint8(255));
  w.SetValue("i8", Value::Int8(-128));
  w.SetValue("u16", Value::Uint16(65535));
  w.SetValue("i16", Value::Int16(-32768));
  w.SetValue("u32", Value::Uint32(4294967295u));
  w.SetValue("i32", Value::Int32(std::numeric_limits<int32_t>::min()));
  w.SetValue("u64", Value::Uint64(std::numeric_limits<uint64_t>::max()));
  w.SetValue("i64", Value::Int64(std::numeric_limits<int64_t>::min()));
  w.SetValue("f32", Value::Float32(0.1f));
  w.SetValue("f64", Value::Float64(0.1));
  w.SetValue("t", Value::Bool(true));
  w.SetValue("f", Value::Bool(false));
  w.SetValue("s", Value::String(std::string("h\0llo \xE2\x9C\x93", 10)));
  const std::vector<uint8_t> bytes = w.WriteToBuffer();
  auto f = ParseOrDie(bytes);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metadata().size(), 13u);
  EXPECT_EQ(f->metadata()[0].first, "u8");  // file order is insertion order
  EXPECT_EQ(f->Find("u8")->type(), ValueType::kUint8);
  EXPECT_EQ(*f->GetUint("u8"), 255u);
  EXPECT_EQ(f->Find("i8")->type(), ValueType::kInt8);
  EXPECT_EQ(*f->Find("i8")->AsInt(), -128);
  EXPECT_EQ(*f->GetUint("u16"), 65535u);
  EXPECT_EQ(*f->Find("i16")->AsInt(), -32768);
  EXPECT_EQ(*f->GetUint("u32"), 4294967295u);
  EXPECT_EQ(*f->Find("i32")->AsInt(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f->Find("u64")->type(), ValueType::kUint64);
  EXPECT_EQ(*f->GetUint("u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*f->Find("i64")->AsInt(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->Find("f32")->type(), ValueType::kFloat32);
  EXPECT_EQ(*f->GetFloat("f32"), static_cast<double>(0.1f));
  EXPECT_EQ(f->Find("f64")->type(), ValueType::kFloat64);
  EXPECT_EQ(*f->GetFloat("f64"), 0.1);
  EXPECT_TRUE(*f->GetBool("t"));
  EXPECT_FALSE(*f->GetBool("f"));
  EXPECT_EQ(*f->GetString("s"), std::string_view("h\0llo \xE2\x9C\x93", 10));
}

TEST(GgufWriterTest, RoundTripsArraysOfEveryElementType) {
  GgufWriter w;
  w.SetValue("strings", Value::StringArray({"", "a", std::string(300, 'x')}));
  w.SetValue("floats", Value::Float32Array({1.5f, -0.0f, std::numeric_limits<float>::infinity()}));
  w.SetValue("empty", Value::StringArray({}));
  const std::vector<std::pair<ValueType, std::vector<int64_t>>> int_arrays = {
      {ValueType::kUint8, {0, 255}},
      {ValueType::kInt8, {-128, 127}},
      {ValueType::kUint16, {0, 65535}},
      {ValueType::kInt16, {-32768, 32767}},
      {ValueType::kUint32, {0, 4294967295}},
      {ValueType::kInt32, {std::numeric_limits<int32_t>::min(), 7}},
      {ValueType::kUint64, {0, std::numeric_limits<int64_t>::max()}},
      {ValueType::kInt64, {std::numeric_limits<int64_t>::min(), -1}},
      {ValueType::kBool, {1, 0, 1}},
  };
  for (const auto& [type, values] : int_arrays) {
    w.SetValue(std::string(ValueTypeName(type)), Value::IntArray(type, values));
  }
  const std::vector<uint8_t> bytes = w.WriteToBuffer();
  auto f = ParseOrDie(bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->Find("strings")->AsStringArray()->ToVector(),
            (std::vector<std::string>{"", "a", std::string(300, 'x')}));
  std::vector<float> floats = *f->Find("floats")->AsFloatArray();
  ASSERT_EQ(floats.size(), 3u);
  EXPECT_EQ(floats[0], 1.5f);
  EXPECT_TRUE(std::signbit(floats[1]));
  EXPECT_TRUE(std::isinf(floats[2]));
  EXPECT_EQ(f->Find("empty")->array_size(), 0u);
  EXPECT_EQ(f->Find("empty")->array_type(), ValueType::kString);
  for (const auto& [type, values] : int_arrays) {
    const Value* v = f->Find(ValueTypeName(type));
    ASSERT_NE(v, nullptr) << ValueTypeName(type);
    EXPECT_EQ(v->type(), ValueType::kArray);
    EXPECT_EQ(v->array_type(), type);
    EXPECT_EQ(v->array_size(), values.size());
    // Types whose values all fit in int32 are stored at half the width.
    const bool narrow =
        type != ValueType::kUint32 && type != ValueType::kUint64 && type != ValueType::kInt64;
    std::vector<int64_t> stored;
    if (narrow) {
      const auto* ints = std::get_if<std::vector<int32_t>>(&v->storage());
      ASSERT_NE(ints, nullptr) << ValueTypeName(type);
      stored.assign(ints->begin(), ints->end());
    } else {
      const auto* ints = std::get_if<std::vector<int64_t>>(&v->storage());
      ASSERT_NE(ints, nullptr) << ValueTypeName(type);
      stored = *ints;
    }
    EXPECT_EQ(stored, values) << ValueTypeName(type);
    if (type != ValueType::kBool) {
      EXPECT_EQ(*v->AsIntArray(), values) << ValueTypeName(type);
    }
  }
}

TEST(GgufWriterTest, RoundTripsEveryTensorTypeWithZeroCopyData) {
  GgufWriter w;
  std::vector<std::vector<uint8_t>> payloads;
  for (TensorType type : kAllStoredTypes) {
    const std::vector<int64_t> shape = {Traits(type).block_elems * 2, 3};
    payloads.push_back(RandomBytes(RowBytes(type, shape[0]) * 3, static_cast<uint32_t>(type)));
    ASSERT_TRUE(w.AddTensor("t." + std::string(TypeName(type)), shape, type, payloads.back()).ok());
  }
  const std::vector<uint8_t> bytes = w.WriteToBuffer();
  auto f = ParseOrDie(bytes);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->tensors().size(), std::size(kAllStoredTypes));
  for (size_t i = 0; i < std::size(kAllStoredTypes); ++i) {
    const TensorType type = kAllStoredTypes[i];
    const TensorInfo* t = f->FindTensor("t." + std::string(TypeName(type)));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, type);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{Traits(type).block_elems * 2, 3}));
    EXPECT_EQ(t->offset % 32, 0u);
    std::span<const uint8_t> data = f->TensorData(*t);
    EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.end()), payloads[i]) << TypeName(type);
    EXPECT_GE(data.data(), bytes.data());
    EXPECT_LE(data.data() + data.size(), bytes.data() + bytes.size());
  }
}

TEST(GgufWriterTest, RecordsNonDefaultAlignmentOnly) {
  GgufWriter default_alignment;
  ASSERT_TRUE(default_alignment.AddTensor("a", {3}, TensorType::kF32, RandomBytes(12, 1)).ok());
  const std::vector<uint8_t> default_bytes = default_alignment.WriteToBuffer();
  auto d = ParseOrDie(default_bytes);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->Find("general.alignment"), nullptr);

  GgufWriter w;
  ASSERT_TRUE(w.set_alignment(256).ok());
  w.SetValue("general.alignment", Value::Uint32(8));  // ignored: set_alignment() owns the key
  ASSERT_TRUE(w.AddTensor("a", {3}, TensorType::kF32, RandomBytes(12, 1)).ok());
  ASSERT_TRUE(w.AddTensor("b", {5}, TensorType::kF32, RandomBytes(20, 2)).ok());
  const std::vector<uint8_t> bytes = w.WriteToBuffer();
  auto f = ParseOrDie(bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(*f->GetUint("general.alignment"), 256u);
  EXPECT_EQ(f->alignment(), 256u);
  EXPECT_EQ(f->data_offset() % 256, 0u);
  EXPECT_EQ(f->FindTensor("b")->offset, 256u);
}

TEST(GgufWriterTest, SetValueReplacesInPlace) {
  GgufWriter w;
  w.SetValue("a", Value::Uint32(1));
  w.SetValue("b", Value::Uint32(2));
  w.SetValue("a", Value::String("x"));
  const std::vector<uint8_t> bytes = w.WriteToBuffer();
  auto f = ParseOrDie(bytes);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "a");
  EXPECT_EQ(*f->GetString("a"), "x");
}

TEST(GgufWriterTest, AddTensorValidatesItsArguments) {
  GgufWriter w;
  ASSERT_TRUE(w.AddTensor("w", {4}, TensorType::kF32, std::vector<uint8_t>(16)).ok());
  EXPECT_EQ(w.AddTensor("w", {4}, TensorType::kF32, std::vector<uint8_t>(16)).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(w.AddTensor("", {4}, TensorType::kF32, std::vector<uint8_t>(16)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("z", {4, 0}, TensorType::kF32, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("n", {-4}, TensorType::kF32, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("d", {}, TensorType::kF32, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("d5", {1, 1, 1, 1, 1}, TensorType::kF32, std::vector<uint8_t>(4)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("q", {16}, TensorType::kQ8_0, std::vector<uint8_t>(17)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("s", {4}, TensorType::kF32, std::vector<uint8_t>(15)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("k", {256}, TensorType::kQ8_K, std::vector<uint8_t>(292)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.set_alignment(0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.set_alignment(24).code(), StatusCode::kInvalidArgument);
  const std::vector<uint8_t> bytes = w.WriteToBuffer();
  auto f = ParseOrDie(bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->tensors().size(), 1u);  // rejected tensors left no trace
}

class GgufWriterFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("gguf_writer_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(GgufWriterFileTest, WriteFileProducesWhatOpenMaps) {
  GgufWriter w;
  w.SetValue("general.architecture", Value::String("llama"));
  const std::vector<uint8_t> payload = RandomBytes(RowBytes(TensorType::kQ4_K, 512), 9);
  ASSERT_TRUE(w.AddTensor("blk.0.w", {512, 1}, TensorType::kQ4_K, payload).ok());
  const auto path = dir_ / "model.gguf";
  ASSERT_TRUE(w.WriteFile(path).ok());
  // Only the final file remains: the temporary was renamed, not left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*(*f)->GetString("general.architecture"), "llama");
  auto data = (*f)->TensorData(*(*f)->FindTensor("blk.0.w"));
  EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.end()), payload);
  const std::vector<uint8_t> buffer = w.WriteToBuffer();
  EXPECT_EQ((*f)->file_size(), buffer.size());  // both paths lay out the same bytes
}

TEST_F(GgufWriterFileTest, WriteFileIntoAMissingDirectoryIsAnIoError) {
  GgufWriter w;
  EXPECT_EQ(w.WriteFile(dir_ / "no" / "such" / "m.gguf").code(), StatusCode::kIo);
}

}  // namespace
}  // namespace infernet::gguf
