#include "engine/gguf/gguf_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/gguf/gguf_test_bytes.h"

namespace infernet::gguf {
namespace {

using testing::GgufBytes;

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ8_0 = 8;

// The parsed file views the bytes, so temporaries are refused at compile time.
Result<std::unique_ptr<GgufFile>> Parse(GgufBytes&& b) = delete;
Result<std::unique_ptr<GgufFile>> Parse(const GgufBytes& b) {
  return GgufFile::FromBuffer(b.bytes());
}

// Expects `code` and a message containing each of `fragments`.
void ExpectError(const GgufBytes& b, StatusCode code,
                 std::initializer_list<std::string> fragments) {
  auto file = Parse(b);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), code) << file.status().ToString();
  for (const std::string& f : fragments) {
    EXPECT_NE(file.status().message().find(f), std::string::npos)
        << "'" << f << "' not in: " << file.status().message();
  }
}

// A file with one metadata string and two F32 tensors of 4 elements (16 bytes each).
GgufBytes TwoTensorFile() {
  GgufBytes b;
  b.Header(2, 1).Str("general.name").U32(8).Str("tiny");
  b.Tensor("a", {4}, kF32, 0).Tensor("b", {2, 2}, kF32, 32).PadTo(32);
  for (int i = 0; i < 4; ++i) b.F32(static_cast<float>(i));
  b.Zeros(16);
  for (int i = 0; i < 4; ++i) b.F32(static_cast<float>(10 + i));
  return b;
}

TEST(GgufFileTest, ParsesAHandBuiltFile) {
  GgufBytes b = TwoTensorFile();
  auto file = Parse(b);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(f.file_size(), b.size());
  EXPECT_EQ(*f.GetString("general.name"), "tiny");
  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorInfo* t = f.FindTensor("b");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t->num_elements(), 4);
  EXPECT_EQ(t->rows(), 2);
  EXPECT_EQ(t->row_length(), 2);
  EXPECT_EQ(t->size_bytes, 16u);
  std::span<const uint8_t> data = f.TensorData(*t);
  ASSERT_EQ(data.size(), 16u);
  EXPECT_EQ(data.data(), b.bytes().data() + f.data_offset() + 32);  // zero-copy
  float first;
  std::memcpy(&first, data.data(), sizeof first);
  EXPECT_EQ(first, 10.0f);
  EXPECT_EQ(f.FindTensor("missing"), nullptr);
}

TEST(GgufFileTest, TypedGettersNameTheKeyOnFailure) {
  const GgufBytes b = TwoTensorFile();
  auto file = Parse(b);
  ASSERT_TRUE(file.ok());
  auto missing = (*file)->GetUint("general.missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("general.missing"), std::string::npos);
  auto wrong = (*file)->GetUint("general.name");
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("general.name"), std::string::npos);
  EXPECT_NE(wrong.status().message().find("STRING"), std::string::npos);
  EXPECT_EQ((*file)->GetBool("general.name").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*file)->GetFloat("general.name").status().code(), StatusCode::kInvalidArgument);
}

TEST(GgufFileTest, AcceptsVersion2AndAnEmptyModel) {
  GgufBytes b;
  b.Header(0, 0, 2);
  auto file = Parse(b);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->version(), 2u);
  EXPECT_TRUE((*file)->tensors().empty());
}

TEST(GgufFileTest, EveryTruncationIsACleanCorruptError) {
  const GgufBytes full = TwoTensorFile();
  for (size_t n = 0; n < full.size(); ++n) {
    std::span<const uint8_t> prefix(full.bytes().data(), n);
    auto file = GgufFile::FromBuffer(prefix);
    ASSERT_FALSE(file.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(file.status().code(), StatusCode::kCorrupt) << n << ": " << file.status().ToString();
  }
  EXPECT_TRUE(GgufFile::FromBuffer(full.bytes()).ok());
}

TEST(GgufFileTest, RejectsBadMagic) {
  GgufBytes b;
  b.U32(0x46554746).U32(3).U64(0).U64(0);
  ExpectError(b, StatusCode::kCorrupt, {"bad magic 0x46554746", "byte offset 0"});
}

TEST(GgufFileTest, RejectsUnsupportedVersions) {
  GgufBytes v1;
  v1.Header(0, 0, 1);
  ExpectError(v1, StatusCode::kUnsupported, {"version 1", "byte offset 4"});
  GgufBytes v4;
  v4.Header(0, 0, 4);
  ExpectError(v4, StatusCode::kUnsupported, {"version 4"});
  GgufBytes big_endian;
  big_endian.Header(0, 0, 0x03000000);
  ExpectError(big_endian, StatusCode::kUnsupported, {"big-endian"});
}

TEST(GgufFileTest, RejectsCountsThatCannotFitBeforeAllocating) {
  GgufBytes tensors;
  tensors.Header(uint64_t{1} << 60, 0);
  ExpectError(tensors, StatusCode::kCorrupt, {"1152921504606846976 tensors", "byte offset 8"});
  GgufBytes kvs;
  kvs.Header(0, ~uint64_t{0});
  ExpectError(kvs, StatusCode::kCorrupt, {"metadata entries", "cannot fit"});
}

TEST(GgufFileTest, RejectsHugeStringLength) {
  GgufBytes b;
  b.Header(0, 1).U64(~uint64_t{0}).Zeros(16);
  ExpectError(b, StatusCode::kCorrupt, {"string length 18446744073709551615", "byte offset 24"});
}

TEST(GgufFileTest, RejectsHugeArrayLength) {
  GgufBytes b;
  b.Header(0, 1).Str("k").U32(9).U32(4).U64(uint64_t{1} << 62).Zeros(16);
  ExpectError(b, StatusCode::kCorrupt, {"metadata key 'k'", "array of UINT32 length"});
}

TEST(GgufFileTest, RejectsUnknownValueType) {
  GgufBytes b;
  b.Header(0, 1).Str("k").U32(13).U32(0);
  ExpectError(b, StatusCode::kCorrupt, {"metadata key 'k'", "unknown value type id 13"});
}

TEST(GgufFileTest, RejectsNestedArraysAsUnsupported) {
  GgufBytes b;
  b.Header(0, 1).Str("k").U32(9).U32(9).U64(1).U32(4).U64(0);
  ExpectError(b, StatusCode::kUnsupported, {"metadata key 'k'", "nested arrays"});
}

TEST(GgufFileTest, RejectsBoolBytesOtherThanZeroAndOne) {
  GgufBytes b;
  b.Header(0, 1).Str("k").U32(7).U8(2);
  ExpectError(b, StatusCode::kCorrupt, {"metadata key 'k'", "BOOL byte 2"});
}

TEST(GgufFileTest, RejectsDuplicateKey) {
  GgufBytes b;
  b.Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2);
  ExpectError(b, StatusCode::kCorrupt, {"metadata key 'k'", "duplicate", "byte offset 41"});
}

TEST(GgufFileTest, RejectsBadAlignment) {
  for (uint32_t alignment : {0u, 3u, 48u}) {
    GgufBytes b;
    b.Header(0, 1).Str("general.alignment").U32(4).U32(alignment);
    ExpectError(b, StatusCode::kCorrupt, {"general.alignment", "power of two"});
  }
  GgufBytes wrong_type;
  wrong_type.Header(0, 1).Str("general.alignment").U32(10).U64(64);
  ExpectError(wrong_type, StatusCode::kCorrupt,
              {"general.alignment", "must be UINT32, got UINT64"});
}

TEST(GgufFileTest, HonoursCustomAlignment) {
  GgufBytes b;
  b.Header(1, 1).Str("general.alignment").U32(4).U32(64);
  b.Tensor("w", {4}, kF32, 0).PadTo(64).Zeros(16);
  auto file = Parse(b);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->alignment(), 64u);
  EXPECT_EQ((*file)->data_offset(), 128u);
}

TEST(GgufFileTest, RejectsMisalignedTensorOffset) {
  GgufBytes b;
  b.Header(1, 0).Tensor("w", {4}, kF32, 16).PadTo(32).Zeros(64);
  ExpectError(b, StatusCode::kCorrupt, {"tensor 'w'", "offset 16", "alignment 32"});
}

TEST(GgufFileTest, RejectsTensorPastEndOfFile) {
  GgufBytes b;
  b.Header(1, 0).Tensor("blk.0.attn_q.weight", {8}, kF32, 0).PadTo(32).Zeros(16);
  const std::string expected =
      "tensor 'blk.0.attn_q.weight': data [96, 128) extends past end of "
      "file (size 112)";
  auto file = Parse(b);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(file.status().message(), expected);
}

TEST(GgufFileTest, RejectsTensorOffsetFarPastEndOfFile) {
  GgufBytes b;
  b.Header(1, 0).Tensor("w", {4}, kF32, ~uint64_t{31}).PadTo(32).Zeros(16);
  ExpectError(b, StatusCode::kCorrupt, {"tensor 'w'", "extends past end of file"});
}

TEST(GgufFileTest, RejectsOverlappingTensors) {
  GgufBytes b;
  b.Header(2, 0).Tensor("a", {16}, kF32, 0).Tensor("b", {4}, kF32, 32).PadTo(32).Zeros(64);
  ExpectError(b, StatusCode::kCorrupt, {"tensor 'b'", "overlaps tensor 'a'"});
}

TEST(GgufFileTest, RejectsUnknownTensorTypeAsUnsupported) {
  GgufBytes b;
  b.Header(1, 0).Tensor("w", {4}, 99, 0).PadTo(32).Zeros(32);
  ExpectError(b, StatusCode::kUnsupported, {"tensor 'w'", "tensor type id 99"});
  GgufBytes q8k;
  q8k.Header(1, 0).Tensor("w", {256}, 15, 0).PadTo(32).Zeros(512);
  ExpectError(q8k, StatusCode::kUnsupported, {"tensor type id 15"});
}

TEST(GgufFileTest, RejectsBadDimensions) {
  GgufBytes zero_dim;
  zero_dim.Header(1, 0).Tensor("w", {4, 0}, kF32, 0).PadTo(32);
  ExpectError(zero_dim, StatusCode::kCorrupt, {"tensor 'w'", "dimension 1 is 0"});
  GgufBytes too_many;
  too_many.Header(1, 0).Tensor("w", {1, 1, 1, 1, 1}, kF32, 0).PadTo(32).Zeros(32);
  ExpectError(too_many, StatusCode::kCorrupt, {"tensor 'w'", "5 dimensions"});
  GgufBytes none;
  none.Header(1, 0).Tensor("w", {}, kF32, 0).PadTo(32).Zeros(32);
  ExpectError(none, StatusCode::kCorrupt, {"tensor 'w'", "0 dimensions"});
  GgufBytes overflow;
  overflow.Header(1, 0).Tensor("w", {uint64_t{1} << 40, uint64_t{1} << 40}, kF32, 0).PadTo(32);
  ExpectError(overflow, StatusCode::kCorrupt, {"tensor 'w'", "overflows"});
}

TEST(GgufFileTest, RejectsRowLengthThatIsNotAWholeNumberOfBlocks) {
  GgufBytes b;
  b.Header(1, 0).Tensor("w", {16}, kQ8_0, 0).PadTo(32).Zeros(64);
  ExpectError(b, StatusCode::kCorrupt, {"tensor 'w'", "row length 16", "block size 32"});
}

TEST(GgufFileTest, RejectsDuplicateTensorName) {
  GgufBytes b;
  b.Header(2, 0).Tensor("w", {4}, kF32, 0).Tensor("w", {4}, kF32, 32).PadTo(32).Zeros(64);
  ExpectError(b, StatusCode::kCorrupt, {"tensor 'w'", "duplicate name"});
}

TEST(GgufFileTest, OpenReportsIoErrorForMissingFile) {
  auto file = GgufFile::Open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kIo);
  EXPECT_NE(file.status().message().find("/nonexistent/dir/model.gguf"), std::string::npos);
}

TEST(GgufFileTest, OpenMapsAFileAndRejectsAnEmptyOne) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gguf_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const GgufBytes b = TwoTensorFile();
  {
    std::ofstream out(dir / "m.gguf", std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.bytes().data()),
              static_cast<std::streamsize>(b.size()));
    std::ofstream empty(dir / "empty.gguf", std::ios::binary);
  }
  auto file = GgufFile::Open(dir / "m.gguf");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const TensorInfo* a = (*file)->FindTensor("a");
  ASSERT_NE(a, nullptr);
  auto data = (*file)->TensorData(*a);
  ASSERT_EQ(data.size(), 16u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), b.bytes().begin() + (*file)->data_offset()));
  EXPECT_EQ(GgufFile::Open(dir / "empty.gguf").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(GgufFile::Open(dir).status().code(), StatusCode::kIo);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace infernet::gguf
