#include "engine/gguf/gguf_value.h"

#include <gtest/gtest.h>

#include <limits>

namespace infernet::gguf {
namespace {

TEST(GgufValueTest, IntegerReadsConvertOnlyWhenTheValueFits) {
  EXPECT_EQ(*Value::Int32(7).AsUint(), 7u);
  EXPECT_EQ(Value::Int32(-7).AsUint().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*Value::Uint8(200).AsInt(), 200);
  const Value huge = Value::Uint64(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(huge.AsInt().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*huge.AsUint(), std::numeric_limits<uint64_t>::max());
}

TEST(GgufValueTest, MismatchNamesTheActualType) {
  auto s = Value::Float32(1.0f).AsString();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("FLOAT32"), std::string::npos);
  auto a = Value::StringArray({"x"}).AsIntArray();
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("ARRAY[STRING]"), std::string::npos);
  EXPECT_FALSE(Value::Uint32(1).AsFloat().ok());
  EXPECT_FALSE(Value::Uint32(1).AsBool().ok());
  EXPECT_FALSE(Value::Bool(true).AsInt().ok());
  EXPECT_FALSE(Value::IntArray(ValueType::kBool, {1}).AsIntArray().ok());
}

TEST(GgufValueTest, ArraysReportElementTypeAndSize) {
  const Value v = Value::IntArray(ValueType::kInt16, {1, -2, 3});
  EXPECT_EQ(v.type(), ValueType::kArray);
  EXPECT_EQ(v.array_type(), ValueType::kInt16);
  EXPECT_EQ(v.array_size(), 3u);
  EXPECT_EQ(*v.AsIntArray(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*Value::Float32Array({0.5f}).AsFloatArray(), std::vector<float>{0.5f});
  EXPECT_EQ(Value::String("x").array_size(), 0u);
}

TEST(GgufValueTest, ReleasedArraysReadAsEmptyArraysOfTheirType) {
  Value floats = Value::Float32Array({1.5f, 2.5f});
  floats.ReleaseArrayElements();
  EXPECT_EQ(floats.type(), ValueType::kArray);
  EXPECT_EQ(floats.array_type(), ValueType::kFloat32);
  EXPECT_EQ(floats.array_size(), 0u);
  ASSERT_TRUE(floats.AsFloatArray().ok());
  EXPECT_TRUE(floats.AsFloatArray()->empty());

  Value ints = Value::IntArray(ValueType::kInt32, {1, 6, 3});
  ints.ReleaseArrayElements();
  EXPECT_EQ(ints.array_type(), ValueType::kInt32);
  EXPECT_EQ(ints.array_size(), 0u);

  Value scalar = Value::Uint32(7);
  scalar.ReleaseArrayElements();
  EXPECT_EQ(*scalar.AsUint(), 7u);
}

TEST(GgufValueTest, TypeNames) {
  EXPECT_EQ(ValueTypeName(ValueType::kUint32), "UINT32");
  EXPECT_EQ(ValueTypeName(ValueType::kArray), "ARRAY");
  EXPECT_EQ(ValueTypeName(static_cast<ValueType>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace infernet::gguf
