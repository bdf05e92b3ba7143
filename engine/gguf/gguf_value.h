// A GGUF metadata value (scalar, string, or homogeneous array).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/packed_strings.h"
#include "core/result.h"

namespace infernet::gguf {

// On-disk value type ids of GGUF v3.
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view ValueTypeName(ValueType t);

class Value {
 public:
  // Scalars and strings.
  static Value Uint8(uint8_t v);
  static Value Int8(int8_t v);
  static Value Uint16(uint16_t v);
  static Value Int16(int16_t v);
  static Value Uint32(uint32_t v);
  static Value Int32(int32_t v);
  static Value Uint64(uint64_t v);
  static Value Int64(int64_t v);
  static Value Float32(float v);
  static Value Float64(double v);
  static Value Bool(bool v);
  static Value String(std::string v);
  // Arrays. Integer arrays are stored as int32 when every value fits (4 bytes a token type
  // instead of 8), else as int64, and are written back as `element_type`.
  static Value StringArray(PackedStrings v);
  static Value Float32Array(std::vector<float> v);
  static Value IntArray(ValueType element_type, std::vector<int64_t> v);

  ValueType type() const { return type_; }
  // For arrays: the element type and count. REQUIRES: type() == kArray.
  ValueType array_type() const { return array_type_; }
  size_t array_size() const;

  // Typed reads; each fails with INVALID_ARGUMENT naming the actual type on mismatch.
  Result<uint64_t> AsUint() const;  // any integer type holding a non-negative value
  Result<int64_t> AsInt() const;    // any integer type that fits in int64
  Result<double> AsFloat() const;   // float32 or float64
  Result<bool> AsBool() const;
  Result<std::string_view> AsString() const;
  Result<PackedStrings> AsStringArray() const;
  Result<std::vector<float>> AsFloatArray() const;  // float32 elements
  Result<std::vector<int64_t>> AsIntArray() const;  // any integer elements

  // Frees an array's elements: it then reads as an empty array of the same element type. No-op
  // for scalars and strings.
  void ReleaseArrayElements();

  // Internal storage; readers and writers use these, other code should use the typed reads.
  using Storage = std::variant<uint64_t, int64_t, double, bool, std::string, PackedStrings,
                               std::vector<float>, std::vector<int64_t>, std::vector<int32_t>>;
  const Storage& storage() const { return storage_; }
  Value(ValueType type, ValueType array_type, Storage storage)
      : type_(type), array_type_(array_type), storage_(std::move(storage)) {}

 private:
  ValueType type_ = ValueType::kUint8;
  ValueType array_type_ = ValueType::kUint8;
  Storage storage_;
};

}  // namespace infernet::gguf
