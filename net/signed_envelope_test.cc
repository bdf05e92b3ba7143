#include "net/signed_envelope.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "infernet/v1/node_record.pb.h"
#include "infernet/v1/task.pb.h"

namespace infernet::net {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

NodeIdentity Identity(uint8_t tag) {
  std::array<uint8_t, 32> seed;
  seed.fill(tag);
  return NodeIdentity::FromSeed(seed);
}

v1::NodeRecord Record() {
  v1::NodeRecord record;
  record.add_addresses("127.0.0.1:7000");
  record.set_software_version("test");
  record.set_protocol_version(1);
  return record;
}

class SignedEnvelopeTest : public ::testing::Test {
 protected:
  Result<VerifiedAuthor> Verify(const v1::SignedEnvelope& envelope, v1::NodeRecord* out = nullptr,
                                ReplayGuard* replay = nullptr) {
    v1::NodeRecord scratch;
    return VerifyClaim(envelope, clock_, policy_, replay, out != nullptr ? out : &scratch);
  }

  ManualClock clock_{kNow};
  FreshnessPolicy policy_;
  NodeIdentity alice_ = Identity(1);
  NodeIdentity mallory_ = Identity(2);
};

TEST_F(SignedEnvelopeTest, SignedClaimVerifiesAndYieldsTheBodyAndAuthor) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  EXPECT_EQ(envelope.protocol_version(), kProtocolVersion);
  EXPECT_EQ(envelope.kind(), "infernet.v1.NodeRecord");
  EXPECT_EQ(envelope.signer_key().size(), 32u);
  EXPECT_EQ(envelope.signature().size(), 64u);

  v1::NodeRecord record;
  auto author = Verify(envelope, &record);
  ASSERT_TRUE(author.ok()) << author.status().ToString();
  EXPECT_EQ(author->id, alice_.id());
  EXPECT_EQ(author->key, alice_.signing_public_key());
  EXPECT_EQ(author->timestamp_ms, kNow);
  EXPECT_EQ(record.addresses(0), "127.0.0.1:7000");
  EXPECT_EQ(record.header().timestamp_ms(), kNow);
  EXPECT_EQ(record.header().nonce().size(), 16u);
  EXPECT_EQ(record.header().author_id(),
            std::string(alice_.id().bytes.begin(), alice_.id().bytes.end()));
}

TEST_F(SignedEnvelopeTest, WorksForOtherClaimTypesAndRefusesAMismatchedKind) {
  v1::TaskRequest request;
  request.set_max_price_per_mtok_micros(42);
  v1::SignedEnvelope envelope = SignClaim(request, alice_, clock_);
  EXPECT_EQ(envelope.kind(), "infernet.v1.TaskRequest");
  v1::TaskRequest parsed;
  ASSERT_TRUE(VerifyClaim(envelope, clock_, policy_, nullptr, &parsed).ok());
  EXPECT_EQ(parsed.max_price_per_mtok_micros(), 42u);
  // The same envelope presented as a NodeRecord is refused before its signature is even checked.
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kCorrupt);
}

TEST_F(SignedEnvelopeTest, NoncesDifferBetweenClaims) {
  v1::NodeRecord a, b;
  ASSERT_TRUE(Verify(SignClaim(Record(), alice_, clock_), &a).ok());
  ASSERT_TRUE(Verify(SignClaim(Record(), alice_, clock_), &b).ok());
  EXPECT_NE(a.header().nonce(), b.header().nonce());
}

TEST_F(SignedEnvelopeTest, SigningInputIsDomainKindAndBodySeparatedByNul) {
  std::vector<uint8_t> input = SigningInput("k", "b");
  std::string expected("infernet/v1\0k\0b", 15);
  EXPECT_EQ(std::string(input.begin(), input.end()), expected);
}

TEST_F(SignedEnvelopeTest, TamperedBodyIsUnauthenticated) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  std::string body = envelope.body();
  body.back() ^= 1;
  envelope.set_body(body);
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(SignedEnvelopeTest, TamperedKindIsRefused) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  envelope.set_kind("infernet.v1.NodeRecorD");
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kCorrupt);
}

TEST_F(SignedEnvelopeTest, TamperedSignatureIsUnauthenticated) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  std::string signature = envelope.signature();
  signature[10] ^= 0x40;
  envelope.set_signature(signature);
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(SignedEnvelopeTest, SwappedSignerKeyIsUnauthenticated) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  const PublicKey& key = mallory_.signing_public_key();
  envelope.set_signer_key(key.data(), key.size());
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(SignedEnvelopeTest, ForgedRecordClaimingAnotherNodesIdIsUnauthenticated) {
  // Mallory signs, correctly, a record whose header names Alice as its author.
  v1::NodeRecord forged = Record();
  forged.mutable_header()->set_author_id(alice_.id().bytes.data(), alice_.id().bytes.size());
  forged.mutable_header()->set_timestamp_ms(kNow);
  forged.mutable_header()->set_nonce(std::string(16, 'n'));
  std::string body = forged.SerializeAsString();
  Signature signature = mallory_.Sign(SigningInput("infernet.v1.NodeRecord", body));
  v1::SignedEnvelope envelope;
  envelope.set_protocol_version(kProtocolVersion);
  envelope.set_kind("infernet.v1.NodeRecord");
  envelope.set_body(body);
  envelope.set_signer_key(mallory_.signing_public_key().data(), 32);
  envelope.set_signature(signature.data(), signature.size());

  auto result = Verify(envelope);
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(result.status().message().find("author_id"), std::string::npos);
  // Claiming Alice's key as signer instead fails the signature.
  envelope.set_signer_key(alice_.signing_public_key().data(), 32);
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(SignedEnvelopeTest, StaleAndFutureTimestampsAreRefused) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  clock_.SetMs(kNow + policy_.max_age_ms);
  EXPECT_TRUE(Verify(envelope).ok()) << "exactly max_age old is still fresh";
  clock_.SetMs(kNow + policy_.max_age_ms + 1);
  auto stale = Verify(envelope);
  EXPECT_EQ(stale.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(stale.status().message().rfind("stale", 0), 0u) << stale.status().message();

  clock_.SetMs(kNow - policy_.max_future_ms);
  EXPECT_TRUE(Verify(envelope).ok()) << "max_future ahead is tolerated skew";
  clock_.SetMs(kNow - policy_.max_future_ms - 1);
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kOutOfRange);
}

TEST_F(SignedEnvelopeTest, ExtremeTimestampsDoNotOverflow) {
  for (int64_t ts : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    ManualClock author_clock(ts);
    v1::SignedEnvelope envelope = SignClaim(Record(), alice_, author_clock);
    EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kOutOfRange) << ts;
  }
}

TEST_F(SignedEnvelopeTest, ReplayIsRefusedWhenAGuardIsGiven) {
  ReplayGuard guard(policy_.max_age_ms + policy_.max_future_ms, 1000);
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  ASSERT_TRUE(Verify(envelope, nullptr, &guard).ok());
  auto replay = Verify(envelope, nullptr, &guard);
  EXPECT_EQ(replay.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(replay.status().message().rfind("replayed", 0), 0u);
  EXPECT_TRUE(Verify(envelope).ok()) << "without a guard, replays are the caller's concern";
  EXPECT_TRUE(Verify(SignClaim(Record(), alice_, clock_), nullptr, &guard).ok());
}

TEST_F(SignedEnvelopeTest, FailedVerificationLeavesTheOutputUntouchedAndRecordsNoNonce) {
  ReplayGuard guard(policy_.max_age_ms + policy_.max_future_ms, 1000);
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  clock_.AdvanceMs(policy_.max_age_ms + 1);
  v1::NodeRecord out;
  out.set_software_version("untouched");
  EXPECT_FALSE(Verify(envelope, &out, &guard).ok());
  EXPECT_EQ(out.software_version(), "untouched");
  EXPECT_EQ(guard.size(), 0u);
}

TEST_F(SignedEnvelopeTest, WrongProtocolVersionIsUnsupported) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  envelope.set_protocol_version(2);
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kUnsupported);
  envelope.set_protocol_version(0);
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kUnsupported);
}

TEST_F(SignedEnvelopeTest, OversizedBodyIsRefusedBeforeVerifying) {
  v1::NodeRecord record = Record();
  record.set_software_version(std::string(kMaxEnvelopeBodyBytes, 'a'));
  v1::SignedEnvelope envelope = SignClaim(record, alice_, clock_);
  ASSERT_GT(envelope.body().size(), kMaxEnvelopeBodyBytes);
  auto result = Verify(envelope);
  EXPECT_EQ(result.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(result.status().message().find("limit"), std::string::npos);
}

TEST_F(SignedEnvelopeTest, WrongKeyOrSignatureLengthsAreCorrupt) {
  v1::SignedEnvelope envelope = SignClaim(Record(), alice_, clock_);
  v1::SignedEnvelope short_key = envelope;
  short_key.set_signer_key(envelope.signer_key().substr(0, 31));
  EXPECT_EQ(Verify(short_key).status().code(), StatusCode::kCorrupt);
  v1::SignedEnvelope long_signature = envelope;
  long_signature.set_signature(envelope.signature() + "x");
  EXPECT_EQ(Verify(long_signature).status().code(), StatusCode::kCorrupt);
}

TEST_F(SignedEnvelopeTest, SignedGarbageBodyIsCorrupt) {
  // A correctly signed body that is not a NodeRecord: refused after the signature, at parsing.
  std::string body = "\xff\xff\xff\xff";
  Signature signature = alice_.Sign(SigningInput("infernet.v1.NodeRecord", body));
  v1::SignedEnvelope envelope;
  envelope.set_protocol_version(kProtocolVersion);
  envelope.set_kind("infernet.v1.NodeRecord");
  envelope.set_body(body);
  envelope.set_signer_key(alice_.signing_public_key().data(), 32);
  envelope.set_signature(signature.data(), signature.size());
  EXPECT_EQ(Verify(envelope).status().code(), StatusCode::kCorrupt);
}

TEST_F(SignedEnvelopeTest, GarbageBytesNeverVerify) {
  v1::SignedEnvelope envelope;
  EXPECT_FALSE(envelope.ParseFromString("\x0a\x05hello") && Verify(envelope).ok());
  EXPECT_FALSE(Verify(v1::SignedEnvelope()).ok());
}

}  // namespace
}  // namespace infernet::net
