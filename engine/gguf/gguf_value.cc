// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside std::variant's move
// constructor (inlined from the standard headers) for the factories below; the pragma must come
// before the includes because the warning is attributed to the header lines.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "engine/gguf/gguf_value.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace infernet::gguf {
namespace {

bool IsUnsignedType(ValueType t) {
  return t == ValueType::kUint8 || t == ValueType::kUint16 || t == ValueType::kUint32 ||
         t == ValueType::kUint64;
}

bool IsSignedType(ValueType t) {
  return t == ValueType::kInt8 || t == ValueType::kInt16 || t == ValueType::kInt32 ||
         t == ValueType::kInt64;
}

// "UINT32", or "ARRAY[STRING]" for arrays, so mismatch messages say exactly what was found.
std::string DescribeType(const Value& v) {
  std::string name(ValueTypeName(v.type()));
  if (v.type() == ValueType::kArray) name += "[" + std::string(ValueTypeName(v.array_type())) + "]";
  return name;
}

Status Mismatch(const Value& v, std::string_view expected) {
  return Status::InvalidArgument("expected " + std::string(expected) + ", got " + DescribeType(v));
}

}  // namespace

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
      return "UINT8";
    case ValueType::kInt8:
      return "INT8";
    case ValueType::kUint16:
      return "UINT16";
    case ValueType::kInt16:
      return "INT16";
    case ValueType::kUint32:
      return "UINT32";
    case ValueType::kInt32:
      return "INT32";
    case ValueType::kFloat32:
      return "FLOAT32";
    case ValueType::kBool:
      return "BOOL";
    case ValueType::kString:
      return "STRING";
    case ValueType::kArray:
      return "ARRAY";
    case ValueType::kUint64:
      return "UINT64";
    case ValueType::kInt64:
      return "INT64";
    case ValueType::kFloat64:
      return "FLOAT64";
  }
  return "UNKNOWN";
}

Value Value::Uint8(uint8_t v) { return Value(ValueType::kUint8, ValueType::kUint8, uint64_t{v}); }
Value Value::Int8(int8_t v) { return Value(ValueType::kInt8, ValueType::kUint8, int64_t{v}); }
Value Value::Uint16(uint16_t v) {
  return Value(ValueType::kUint16, ValueType::kUint8, uint64_t{v});
}
Value Value::Int16(int16_t v) { return Value(ValueType::kInt16, ValueType::kUint8, int64_t{v}); }
Value Value::Uint32(uint32_t v) {
  return Value(ValueType::kUint32, ValueType::kUint8, uint64_t{v});
}
Value Value::Int32(int32_t v) { return Value(ValueType::kInt32, ValueType::kUint8, int64_t{v}); }
Value Value::Uint64(uint64_t v) { return Value(ValueType::kUint64, ValueType::kUint8, v); }
Value Value::Int64(int64_t v) { return Value(ValueType::kInt64, ValueType::kUint8, v); }
Value Value::Float32(float v) {
  return Value(ValueType::kFloat32, ValueType::kUint8, static_cast<double>(v));
}
Value Value::Float64(double v) { return Value(ValueType::kFloat64, ValueType::kUint8, v); }
Value Value::Bool(bool v) { return Value(ValueType::kBool, ValueType::kUint8, v); }
Value Value::String(std::string v) {
  return Value(ValueType::kString, ValueType::kUint8, std::move(v));
}
Value Value::StringArray(PackedStrings v) {
  return Value(ValueType::kArray, ValueType::kString, std::move(v));
}
Value Value::Float32Array(std::vector<float> v) {
  return Value(ValueType::kArray, ValueType::kFloat32, std::move(v));
}
Value Value::IntArray(ValueType element_type, std::vector<int64_t> v) {
  const bool fits = std::all_of(v.begin(), v.end(), [](int64_t x) {
    return x >= std::numeric_limits<int32_t>::min() && x <= std::numeric_limits<int32_t>::max();
  });
  if (!fits) return Value(ValueType::kArray, element_type, std::move(v));
  return Value(ValueType::kArray, element_type, std::vector<int32_t>(v.begin(), v.end()));
}

size_t Value::array_size() const {
  if (type_ != ValueType::kArray) return 0;
  if (const auto* s = std::get_if<PackedStrings>(&storage_)) return s->size();
  if (const auto* f = std::get_if<std::vector<float>>(&storage_)) return f->size();
  if (const auto* i = std::get_if<std::vector<int64_t>>(&storage_)) return i->size();
  if (const auto* i = std::get_if<std::vector<int32_t>>(&storage_)) return i->size();
  return 0;
}

void Value::ReleaseArrayElements() {
  if (type_ != ValueType::kArray) return;
  std::visit(
      [](auto& elements) {
        using T = std::decay_t<decltype(elements)>;
        if constexpr (std::is_same_v<T, PackedStrings> || std::is_same_v<T, std::vector<float>> ||
                      std::is_same_v<T, std::vector<int64_t>> ||
                      std::is_same_v<T, std::vector<int32_t>>) {
          elements = T();
        }
      },
      storage_);
}

Result<uint64_t> Value::AsUint() const {
  if (IsUnsignedType(type_)) {
    if (const auto* u = std::get_if<uint64_t>(&storage_)) return *u;
  }
  if (IsSignedType(type_)) {
    if (const auto* i = std::get_if<int64_t>(&storage_)) {
      if (*i < 0) {
        return Status::InvalidArgument("expected a non-negative integer, got " +
                                       DescribeType(*this) + " " + std::to_string(*i));
      }
      return static_cast<uint64_t>(*i);
    }
  }
  return Mismatch(*this, "an unsigned integer");
}

Result<int64_t> Value::AsInt() const {
  if (IsSignedType(type_)) {
    if (const auto* i = std::get_if<int64_t>(&storage_)) return *i;
  }
  if (IsUnsignedType(type_)) {
    if (const auto* u = std::get_if<uint64_t>(&storage_)) {
      if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidArgument("UINT64 value " + std::to_string(*u) +
                                       " does not fit in a signed 64-bit integer");
      }
      return static_cast<int64_t>(*u);
    }
  }
  return Mismatch(*this, "an integer");
}

Result<double> Value::AsFloat() const {
  if (type_ == ValueType::kFloat32 || type_ == ValueType::kFloat64) {
    if (const auto* d = std::get_if<double>(&storage_)) return *d;
  }
  return Mismatch(*this, "FLOAT32 or FLOAT64");
}

Result<bool> Value::AsBool() const {
  if (type_ == ValueType::kBool) {
    if (const auto* b = std::get_if<bool>(&storage_)) return *b;
  }
  return Mismatch(*this, "BOOL");
}

Result<std::string_view> Value::AsString() const {
  if (type_ == ValueType::kString) {
    if (const auto* s = std::get_if<std::string>(&storage_)) return std::string_view(*s);
  }
  return Mismatch(*this, "STRING");
}

Result<PackedStrings> Value::AsStringArray() const {
  if (type_ == ValueType::kArray && array_type_ == ValueType::kString) {
    if (const auto* s = std::get_if<PackedStrings>(&storage_)) return *s;
  }
  return Mismatch(*this, "ARRAY[STRING]");
}

Result<std::vector<float>> Value::AsFloatArray() const {
  if (type_ == ValueType::kArray && array_type_ == ValueType::kFloat32) {
    if (const auto* f = std::get_if<std::vector<float>>(&storage_)) return *f;
  }
  return Mismatch(*this, "ARRAY[FLOAT32]");
}

Result<std::vector<int64_t>> Value::AsIntArray() const {
  if (type_ == ValueType::kArray && (IsUnsignedType(array_type_) || IsSignedType(array_type_))) {
    if (const auto* i = std::get_if<std::vector<int64_t>>(&storage_)) return *i;
    if (const auto* i = std::get_if<std::vector<int32_t>>(&storage_)) {
      return std::vector<int64_t>(i->begin(), i->end());
    }
  }
  return Mismatch(*this, "an integer ARRAY");
}

}  // namespace infernet::gguf
