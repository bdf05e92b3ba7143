// Token pieces are raw bytes and may split or (from a random model) not even form UTF-8, while
// protobuf `string` fields must be valid UTF-8 or the receiver's parser rejects the message. These
// turn engine bytes into text that is always valid.
#pragma once

#include <string>
#include <string_view>

namespace infernet::provider {

// `bytes` with every invalid or truncated UTF-8 sequence replaced by U+FFFD (one per maximal
// invalid subpart, as in Unicode §3.9 "substitution of maximal subparts").
std::string ToValidUtf8(std::string_view bytes);

// Length of the longest prefix of `bytes` that does not end inside an incomplete (but so far
// valid) multi-byte sequence: the rest may still be completed by later bytes.
size_t CompleteUtf8Prefix(std::string_view bytes);

}  // namespace infernet::provider
