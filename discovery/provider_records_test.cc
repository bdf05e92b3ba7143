// Publishing and finding provider records against an in-memory store: what readers accept and
// what they ignore (docs/protocol.md §3), and when publishers re-publish.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <map>

#include "discovery/provider_keys.h"
#include "discovery/provider_lookup.h"
#include "discovery/record_builder.h"
#include "discovery/record_publisher.h"
#include "discovery/record_validation.h"
#include "net/signed_envelope.h"

namespace infernet::discovery {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kStart = 1'700'000'000'000;
constexpr uint64_t kGiB = uint64_t{1} << 30;

// Keeps values per key and value id, as the DHT does (same id replaces).
class InMemoryStore final : public RecordStore {
 public:
  Status Put(std::string_view key, std::string bytes, uint64_t value_id, milliseconds) override {
    ++puts;
    if (fail_puts) return Status(StatusCode::kUnavailable, "no node acknowledged");
    values[std::string(key)][value_id] = std::move(bytes);
    return Status::Ok();
  }
  Result<RecordStoreGet> Get(std::string_view key, milliseconds) override {
    RecordStoreGet got;
    got.complete = true;
    for (const auto& [id, bytes] : values[std::string(key)]) got.values.push_back(bytes);
    return got;
  }
  void AddRaw(const std::string& key, uint64_t id, const std::string& bytes) {
    values[key][id] = bytes;
  }

  std::map<std::string, std::map<uint64_t, std::string>> values;
  int puts = 0;
  bool fail_puts = false;
};

NodeIdentity IdentityNumber(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed.fill(n);
  return NodeIdentity::FromSeed(seed);
}

std::string ModelHash(char c) { return std::string(32, c); }

ProviderDescription Description(const std::string& model_hash, uint64_t vram_bytes) {
  ProviderDescription description;
  description.addresses = {"127.0.0.1:7000"};
  if (vram_bytes > 0) {
    v1::GpuInfo* gpu = description.hardware.add_gpus();
    gpu->set_name("Test GPU");
    gpu->set_vram_bytes(vram_bytes);
  }
  v1::ModelOffer offer;
  offer.set_model_hash(model_hash);
  offer.set_name("test-model");
  description.models.push_back(offer);
  description.capacity.set_max_concurrent(4);
  return description;
}

std::string Serialize(const v1::SignedEnvelope& envelope) {
  std::string bytes;
  envelope.SerializeToString(&bytes);
  return bytes;
}

// Re-signs `envelope` with `signer` after `edit` changed its body's record.
template <class Edit>
v1::SignedEnvelope ResignedWith(const v1::SignedEnvelope& envelope, const NodeIdentity& signer,
                                Edit edit) {
  v1::NodeRecord record;
  EXPECT_TRUE(record.ParseFromString(envelope.body()));
  edit(&record);
  v1::SignedEnvelope forged = envelope;
  forged.set_body(record.SerializeAsString());
  Signature signature = signer.Sign(net::SigningInput(forged.kind(), forged.body()));
  forged.set_signer_key(signer.signing_public_key().data(), 32);
  forged.set_signature(signature.data(), signature.size());
  return forged;
}

class ProviderRecordsTest : public ::testing::Test {
 protected:
  ProviderLookupResult Find(const std::string& model_hash, uint64_t min_vram = 0) {
    ProviderLookup lookup(store_, clock_);
    ProviderQuery query;
    query.model_hash = model_hash;
    query.min_gpu_vram_bytes = min_vram;
    auto result = lookup.Find(query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : ProviderLookupResult{};
  }
  void PutUnderModelKey(const std::string& model_hash, uint64_t id, const std::string& bytes) {
    store_.AddRaw(ModelKey(std::span<const uint8_t>(
                      reinterpret_cast<const uint8_t*>(model_hash.data()), model_hash.size())),
                  id, bytes);
  }

  ManualClock clock_{kStart};
  InMemoryStore store_;
  NodeIdentity provider_ = IdentityNumber(1);
  NodeIdentity other_ = IdentityNumber(2);
};

TEST_F(ProviderRecordsTest, APublishedProviderIsFoundByModelAndAmongAllProviders) {
  RecordPublisher publisher(store_, provider_, clock_);
  publisher.SetDescription(Description(ModelHash('a'), 24 * kGiB));
  ASSERT_TRUE(publisher.Tick().ok());

  ProviderLookupResult by_model = Find(ModelHash('a'));
  ASSERT_EQ(by_model.providers.size(), 1u);
  EXPECT_EQ(by_model.providers[0].node_id, provider_.id());
  EXPECT_EQ(by_model.providers[0].record.addresses(0), "127.0.0.1:7000");
  EXPECT_EQ(by_model.providers[0].record.expires_ms(), kStart + kDefaultRecordTtlMs);
  EXPECT_EQ(by_model.ignored.total(), 0u);

  EXPECT_EQ(Find("").providers.size(), 1u);
  EXPECT_TRUE(Find(ModelHash('b')).providers.empty());
}

TEST_F(ProviderRecordsTest, AModelHashOfTheWrongSizeIsRefused) {
  ProviderLookup lookup(store_, clock_);
  ProviderQuery query;
  query.model_hash = "short";
  EXPECT_EQ(lookup.Find(query).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProviderRecordsTest, ARecordSignedByOneKeyClaimingAnotherNodeIsIgnored) {
  v1::SignedEnvelope genuine =
      BuildSignedNodeRecord(provider_, Description(ModelHash('a'), 0), clock_, 60'000);
  // `other_` signs a record that claims to be authored by `provider_`.
  v1::SignedEnvelope forged = ResignedWith(
      genuine, other_, [](v1::NodeRecord* record) { record->set_addresses(0, "10.6.6.6:7000"); });
  PutUnderModelKey(ModelHash('a'), 1, Serialize(forged));
  ProviderLookupResult result = Find(ModelHash('a'));
  EXPECT_TRUE(result.providers.empty());
  EXPECT_EQ(result.ignored.wrong_author, 1u);
  EXPECT_EQ(result.ignored.total(), 1u);
}

TEST_F(ProviderRecordsTest, ARecordWithABadSignatureIsIgnored) {
  v1::SignedEnvelope envelope =
      BuildSignedNodeRecord(provider_, Description(ModelHash('a'), 0), clock_, 60'000);
  std::string signature = envelope.signature();
  signature[10] ^= 1;
  envelope.set_signature(signature);
  PutUnderModelKey(ModelHash('a'), 1, Serialize(envelope));
  ProviderLookupResult result = Find(ModelHash('a'));
  EXPECT_TRUE(result.providers.empty());
  EXPECT_EQ(result.ignored.bad_signature, 1u);
}

TEST_F(ProviderRecordsTest, AnExpiredRecordIsIgnored) {
  PutUnderModelKey(ModelHash('a'), 1,
                   Serialize(BuildSignedNodeRecord(provider_, Description(ModelHash('a'), 0),
                                                   clock_, /*ttl_ms=*/1000)));
  EXPECT_EQ(Find(ModelHash('a')).providers.size(), 1u);
  clock_.AdvanceMs(1001);
  ProviderLookupResult result = Find(ModelHash('a'));
  EXPECT_TRUE(result.providers.empty());
  EXPECT_EQ(result.ignored.expired, 1u);
}

TEST_F(ProviderRecordsTest, ARecordOlderThanTheAcceptedAgeIsStaleEvenIfNotExpired) {
  PutUnderModelKey(ModelHash('a'), 1,
                   Serialize(BuildSignedNodeRecord(provider_, Description(ModelHash('a'), 0),
                                                   clock_, /*ttl_ms=*/24 * 3600 * 1000)));
  clock_.AdvanceMs(kDefaultRecordTtlMs + 1);
  ProviderLookupResult result = Find(ModelHash('a'));
  EXPECT_TRUE(result.providers.empty());
  EXPECT_EQ(result.ignored.stale, 1u);
}

TEST_F(ProviderRecordsTest, OfTwoRecordsOfOneNodeTheNewestWins) {
  ProviderDescription description = Description(ModelHash('a'), 0);
  description.capacity.set_queued(1);
  const std::string older =
      Serialize(BuildSignedNodeRecord(provider_, description, clock_, 60'000));
  clock_.AdvanceMs(1000);
  description.capacity.set_queued(2);
  const std::string newer =
      Serialize(BuildSignedNodeRecord(provider_, description, clock_, 60'000));
  // Newest first, so that "last one wins" would pick the wrong record.
  PutUnderModelKey(ModelHash('a'), 1, newer);
  PutUnderModelKey(ModelHash('a'), 2, older);
  ProviderLookupResult result = Find(ModelHash('a'));
  ASSERT_EQ(result.providers.size(), 1u);
  EXPECT_EQ(result.providers[0].record.capacity().queued(), 2u);
  EXPECT_EQ(result.ignored.superseded, 1u);
}

TEST_F(ProviderRecordsTest, RecordsOfAnUnspokenProtocolVersionOrMalformedAreIgnored) {
  v1::NodeRecord future;
  future.set_protocol_version(2);
  future.set_expires_ms(kStart + 60'000);
  future.add_models()->set_model_hash(ModelHash('a'));
  PutUnderModelKey(ModelHash('a'), 1, Serialize(net::SignClaim(future, provider_, clock_)));
  PutUnderModelKey(ModelHash('a'), 2, "not a protobuf \xff\xff");
  ProviderLookupResult result = Find(ModelHash('a'));
  EXPECT_TRUE(result.providers.empty());
  EXPECT_EQ(result.ignored.wrong_version, 1u);
  EXPECT_EQ(result.ignored.malformed, 1u);
}

TEST_F(ProviderRecordsTest, ARecordUnderAModelKeyThatDoesNotOfferTheModelIsFilteredOut) {
  PutUnderModelKey(
      ModelHash('a'), 1,
      Serialize(BuildSignedNodeRecord(provider_, Description(ModelHash('b'), 0), clock_, 60'000)));
  ProviderLookupResult result = Find(ModelHash('a'));
  EXPECT_TRUE(result.providers.empty());
  EXPECT_EQ(result.filtered_out, 1u);
}

TEST_F(ProviderRecordsTest, TheMinimumVramFilterKeepsOnlyProvidersWithABigEnoughGpu) {
  NodeIdentity small = IdentityNumber(3);
  NodeIdentity big = IdentityNumber(4);
  NodeIdentity cpu_only = IdentityNumber(5);
  for (auto [identity, vram] : {std::pair{&small, 24 * kGiB}, std::pair{&big, 80 * kGiB},
                                std::pair{&cpu_only, uint64_t{0}}}) {
    RecordPublisher publisher(store_, *identity, clock_);
    publisher.SetDescription(Description(ModelHash('a'), vram));
    ASSERT_TRUE(publisher.Tick().ok());
  }
  EXPECT_EQ(Find(ModelHash('a')).providers.size(), 3u);
  ProviderLookupResult result = Find(ModelHash('a'), 40 * kGiB);
  ASSERT_EQ(result.providers.size(), 1u);
  EXPECT_EQ(result.providers[0].node_id, big.id());
  EXPECT_EQ(result.filtered_out, 2u);
}

TEST_F(ProviderRecordsTest, ThePublisherRepublishesAtHalfTheTtlReplacingItsRecord) {
  PublisherOptions options;
  options.ttl_ms = 60'000;
  RecordPublisher publisher(store_, provider_, clock_, options);
  EXPECT_TRUE(publisher.Tick().ok());  // nothing to publish yet
  EXPECT_EQ(store_.puts, 0);

  publisher.SetDescription(Description(ModelHash('a'), 0));
  ASSERT_TRUE(publisher.Tick().ok());
  EXPECT_EQ(store_.puts, 2);  // all-providers key and the model's key
  EXPECT_EQ(publisher.next_publish_ms(), kStart + 30'000);

  clock_.AdvanceMs(29'999);
  ASSERT_TRUE(publisher.Tick().ok());
  EXPECT_EQ(store_.puts, 2);

  clock_.AdvanceMs(1);
  ASSERT_TRUE(publisher.Tick().ok());
  EXPECT_EQ(store_.puts, 4);
  EXPECT_EQ(publisher.publications(), 2u);
  // One value per key: the re-publication replaced the first record.
  EXPECT_EQ(store_.values[kAllProvidersKey].size(), 1u);
  // Long after the first record would have expired, the provider is still found.
  clock_.AdvanceMs(40'000);
  ASSERT_TRUE(publisher.Tick().ok());
  EXPECT_EQ(Find(ModelHash('a')).providers.size(), 1u);
}

TEST_F(ProviderRecordsTest, AFailedPublicationIsRetriedSooner) {
  PublisherOptions options;
  options.ttl_ms = 600'000;
  options.retry_ms = 5'000;
  RecordPublisher publisher(store_, provider_, clock_, options);
  publisher.SetDescription(Description(ModelHash('a'), 0));
  store_.fail_puts = true;
  EXPECT_EQ(publisher.Tick().code(), StatusCode::kUnavailable);
  EXPECT_EQ(publisher.next_publish_ms(), kStart + 5'000);
  store_.fail_puts = false;
  clock_.AdvanceMs(5'000);
  EXPECT_TRUE(publisher.Tick().ok());
  EXPECT_EQ(publisher.publications(), 1u);
}

TEST_F(ProviderRecordsTest, OnlyTheSameSignerMayReplaceAStoredRecord) {
  const std::string mine =
      Serialize(BuildSignedNodeRecord(provider_, Description(ModelHash('a'), 0), clock_, 60'000));
  const std::string mine_later =
      Serialize(BuildSignedNodeRecord(provider_, Description(ModelHash('b'), 0), clock_, 60'000));
  const std::string theirs =
      Serialize(BuildSignedNodeRecord(other_, Description(ModelHash('a'), 0), clock_, 60'000));
  v1::SignedEnvelope tampered;
  ASSERT_TRUE(tampered.ParseFromString(mine_later));
  tampered.set_body(tampered.body() + "x");  // signer key copied, signature no longer matches
  EXPECT_TRUE(SameSignerReplaces(mine, mine_later));
  EXPECT_FALSE(SameSignerReplaces(mine, theirs));
  EXPECT_FALSE(SameSignerReplaces(mine, Serialize(tampered)));
  EXPECT_FALSE(SameSignerReplaces(mine, "garbage \xff"));
}

TEST(ProviderKeysTest, KeysAndValueIdsFollowTheProtocol) {
  const std::string hash(32, '\x01');
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "01";
  EXPECT_EQ(ModelKey(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(hash.data()), 32)),
            "infernet/v1/model/" + hex);
  NodeId id;
  id.bytes.fill(0);
  EXPECT_EQ(RecordValueId(id), 1u);  // never OpenDHT's "no id"
  id.bytes[0] = 0xab;
  EXPECT_EQ(RecordValueId(id), uint64_t{0xab} << 56);
}

}  // namespace
}  // namespace infernet::discovery
