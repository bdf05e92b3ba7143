// Decoding of GGUF metadata values from untrusted bytes (internal to the GGUF reader).
#pragma once

#include "core/result.h"
#include "engine/gguf/byte_cursor.h"
#include "engine/gguf/gguf_value.h"

namespace infernet::gguf {

// Reads a uint32 value type id. Unknown ids are CORRUPT.
Result<ValueType> DecodeValueType(ByteCursor& cursor);

// Reads one value of `type`. Arrays of arrays and arrays of FLOAT64 are UNSUPPORTED (Value has no
// storage for them); element counts that cannot fit in the remaining bytes are CORRUPT and are
// rejected before anything is allocated; BOOL bytes other than 0 and 1 are CORRUPT.
Result<Value> DecodeValue(ByteCursor& cursor, ValueType type);

}  // namespace infernet::gguf
