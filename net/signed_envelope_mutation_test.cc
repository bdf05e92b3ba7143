// Seeded random mutations of a valid envelope's wire bytes: verification must never crash and
// must never accept an envelope whose signed bytes (kind, body) or signer differ from the
// original. A deterministic, always-on cousin of fuzz/envelope_fuzz.cc.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>

#include "infernet/v1/node_record.pb.h"
#include "net/signed_envelope.h"

namespace infernet::net {
namespace {

std::string Mutate(std::string bytes, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const size_t pos = bytes.empty() ? 0 : rng() % bytes.size();
    switch (rng() % 5) {
      case 0:  // flip one bit
        if (!bytes.empty()) bytes[pos] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!bytes.empty()) bytes[pos] = static_cast<char>(rng());
        break;
      case 2:  // insert a byte
        bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(pos), static_cast<char>(rng()));
        break;
      case 3:  // delete a byte
        if (!bytes.empty()) bytes.erase(pos, 1);
        break;
      default:  // truncate
        bytes.resize(pos);
        break;
    }
  }
  return bytes;
}

TEST(SignedEnvelopeMutationTest, MutatedEnvelopesNeverVerifyWithChangedSignedBytes) {
  constexpr int64_t kNow = 1'700'000'000'000;
  ManualClock clock(kNow);
  std::array<uint8_t, 32> seed{};
  seed[0] = 7;
  NodeIdentity author = NodeIdentity::FromSeed(seed);
  v1::NodeRecord record;
  record.add_addresses("127.0.0.1:7000");
  record.set_software_version("mutation-test");
  record.add_roles("provider");
  const v1::SignedEnvelope original = SignClaim(record, author, clock);
  const std::string wire = original.SerializeAsString();

  // Mutated strings are often invalid UTF-8, which protobuf reports on stderr at each parse.
  google::protobuf::LogSilencer quiet_protobuf;
  std::mt19937 rng(12345);
  int parsed = 0, accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string mutated = Mutate(wire, rng);
    v1::SignedEnvelope envelope;
    if (!envelope.ParseFromString(mutated)) continue;
    ++parsed;
    v1::NodeRecord body;
    auto result = VerifyClaim(envelope, clock, FreshnessPolicy{}, nullptr, &body);
    if (!result.ok()) continue;
    ++accepted;
    // Accepted only if every signed byte is the original's (the mutation hit unsigned framing,
    // e.g. a duplicated field that protobuf's last-one-wins rule resolves to the same value).
    ASSERT_EQ(envelope.kind(), original.kind()) << "iteration " << i;
    ASSERT_EQ(envelope.body(), original.body()) << "iteration " << i;
    ASSERT_EQ(envelope.signer_key(), original.signer_key()) << "iteration " << i;
    ASSERT_EQ(result->id, author.id());
  }
  // The mutations must actually exercise verification, not just the parser.
  EXPECT_GT(parsed, 500);
  RecordProperty("parsed", parsed);
  RecordProperty("accepted", accepted);
}

}  // namespace
}  // namespace infernet::net
