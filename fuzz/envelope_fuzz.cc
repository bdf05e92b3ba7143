// libFuzzer target for signed-envelope verification: arbitrary bytes, parsed as a SignedEnvelope
// and verified as a NodeRecord claim, must yield a clean Status without ASan/UBSan complaints.
// Inputs starting with 0xFF are appended to a correctly signed record, so mutations also reach
// the signature, header, freshness and replay checks, not just the wire parser.
//
// Build and run (see fuzz/CMakeLists.txt; needs the network stack, so not ENGINE_ONLY):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz-net -G Ninja -DINFERNET_FUZZ=ON \
//       -DINFERNET_BENCH=OFF
//   ninja -C build-fuzz-net envelope_fuzz
//   build-fuzz-net/fuzz/envelope_fuzz -max_total_time=60 /tmp/envelope_corpus
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "infernet/v1/node_record.pb.h"
#include "net/signed_envelope.h"

namespace {

constexpr int64_t kNow = 1'700'000'000'000;

const infernet::NodeIdentity& Author() {
  static const infernet::NodeIdentity author = [] {
    std::array<uint8_t, 32> seed{};
    seed[0] = 42;
    return infernet::NodeIdentity::FromSeed(seed);
  }();
  return author;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const infernet::ManualClock clock(kNow);
  static const std::string valid = [] {
    infernet::v1::NodeRecord record;
    record.add_addresses("127.0.0.1:7000");
    record.set_software_version("fuzz");
    return infernet::net::SignClaim(record, Author(), clock).SerializeAsString();
  }();
  infernet::v1::SignedEnvelope envelope;
  // Inputs starting with 0xFF are spliced onto the valid envelope (protobuf merges repeated
  // fields, last one wins), so mutations explore around an envelope that verifies.
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0xFF) bytes = valid + bytes.substr(1);
  if (!envelope.ParseFromString(bytes)) return 0;
  infernet::v1::NodeRecord body;
  infernet::net::ReplayGuard guard(10 * 60 * 1000, 64);
  auto result =
      infernet::net::VerifyClaim(envelope, clock, infernet::net::FreshnessPolicy{}, &guard, &body);
  if (result.ok()) {
    // Nobody but the author can sign, so whatever verified must be the author's own signed bytes.
    infernet::v1::SignedEnvelope reference;
    reference.ParseFromString(valid);
    if (envelope.signer_key() != reference.signer_key() || envelope.body() != reference.body() ||
        envelope.kind() != reference.kind()) {
      std::abort();  // a forgery
    }
  }
  return 0;
}
