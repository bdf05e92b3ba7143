#include "provider/output_hash.h"

#include <bit>
#include <cstdint>
#include <string_view>

namespace infernet::provider {
namespace {

constexpr char kDomain[] = "infernet/v1/TaskOutput";  // written with its terminating NUL

template <class T>
void PutLittleEndian(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>(static_cast<uint64_t>(value) >> (8 * i) & 0xff));
  }
}

void PutBytes(std::string& out, std::string_view bytes) {
  PutLittleEndian<uint64_t>(out, bytes.size());
  out.append(bytes);
}

template <class Repeated>
void PutFloats(std::string& out, const Repeated& values) {
  PutLittleEndian<uint64_t>(out, static_cast<uint64_t>(values.size()));
  for (float v : values) PutLittleEndian<uint32_t>(out, std::bit_cast<uint32_t>(v));
}

}  // namespace

std::string CanonicalOutputBytes(const v1::TaskOutput& output) {
  std::string out;
  out.reserve(sizeof(kDomain) + 64 + output.text().size() + 4 * output.tokens_size() +
              4 * output.logprobs_size() + 4 * output.embedding_size());
  out.append(kDomain, sizeof(kDomain));  // includes the NUL
  PutLittleEndian<uint32_t>(out, output.index());
  PutBytes(out, output.text());
  PutLittleEndian<uint64_t>(out, static_cast<uint64_t>(output.tokens_size()));
  for (uint32_t token : output.tokens()) PutLittleEndian<uint32_t>(out, token);
  PutFloats(out, output.logprobs());
  PutFloats(out, output.embedding());
  PutLittleEndian<uint64_t>(out, std::bit_cast<uint64_t>(output.score_logprob()));
  PutLittleEndian<uint32_t>(out, output.prompt_tokens());
  PutBytes(out, output.finish_reason());
  return out;
}

Digest32 OutputHash(const v1::TaskOutput& output) {
  return Blake2b256(CanonicalOutputBytes(output));
}

Digest32 OutputsHash(std::span<const Digest32> output_hashes) {
  Blake2b256Hasher hasher;
  for (const Digest32& h : output_hashes) hasher.Update(h);
  return hasher.Finish();
}

}  // namespace infernet::provider
