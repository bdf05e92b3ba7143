// Lower-case hexadecimal encoding of byte strings (hashes, keys, IDs).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace infernet {

std::string HexEncode(std::span<const uint8_t> bytes);
// Accepts upper or lower case; rejects odd lengths and non-hex characters.
Result<std::vector<uint8_t>> HexDecode(std::string_view hex);

}  // namespace infernet
