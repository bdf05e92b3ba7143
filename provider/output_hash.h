// The canonical hash of a task output: what a provider signs in TaskResult.output_hashes and what
// a client (or a verifier comparing providers) recomputes from the outputs it received.
//
// Canonical encoding of a TaskOutput, version 1 (copy of this block lives in docs/protocol.md
// §4.3). All integers are little-endian; floats are their IEEE-754 bit patterns (binary32 for the
// repeated float fields, binary64 for score_logprob), written as integers of the same width, so
// -0.0 and 0.0 (and distinct NaN payloads) hash differently. Fields are written in this order,
// whether set or not:
//
//   domain        the 22 bytes "infernet/v1/TaskOutput" followed by one 0x00 byte
//   index         u32
//   text          u64 byte length, then the UTF-8 bytes
//   tokens        u64 count, then each token id as u32
//   logprobs      u64 count, then each value as u32 (binary32 bits)
//   embedding     u64 count, then each value as u32 (binary32 bits)
//   score_logprob u64 (binary64 bits)
//   prompt_tokens u32
//   finish_reason u64 byte length, then the UTF-8 bytes
//
//   output_hash  = BLAKE2b-256(encoding)
//   outputs_hash = BLAKE2b-256(output_hash[0] || output_hash[1] || ... ), 32 bytes each, in input
//                  order (the order of TaskResult.output_hashes)
//
// Unknown fields of a TaskOutput are not part of the encoding: a field added to TaskOutput later
// needs a new encoding version.
#pragma once

#include <span>
#include <string>

#include "core/hash.h"
#include "infernet/v1/task.pb.h"

namespace infernet::provider {

// The canonical encoding above, without hashing (exposed for tests and for documentation).
std::string CanonicalOutputBytes(const v1::TaskOutput& output);

Digest32 OutputHash(const v1::TaskOutput& output);

Digest32 OutputsHash(std::span<const Digest32> output_hashes);

}  // namespace infernet::provider
