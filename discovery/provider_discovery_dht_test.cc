// End to end over a real DHT of in-process nodes on 127.0.0.1: a provider publishes, a fresh
// client node finds it; forged records and re-publications behave as docs/protocol.md §3 says.
// DHT propagation is eventual, so lookups are polled with a bounded deadline (PollUntil).
#include <gtest/gtest.h>

#include <array>

#include "discovery/loopback_dht_network.h"
#include "discovery/provider_keys.h"
#include "discovery/provider_lookup.h"
#include "discovery/record_publisher.h"
#include "discovery/record_validation.h"
#include "net/signed_envelope.h"

namespace infernet::discovery {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kPropagationTimeout(10000);

NodeIdentity IdentityNumber(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed.fill(n);
  return NodeIdentity::FromSeed(seed);
}

class ProviderDiscoveryDhtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DhtNodeOptions options;
    options.replace_policy = SameSignerReplaces;
    auto network = LoopbackDhtNetwork::Create(6, options);
    ASSERT_TRUE(network.ok()) << network.status().ToString();
    network_ = std::move(network).value();
    ASSERT_TRUE(network_->WaitConnected(1, milliseconds(10000)).ok());
    auto client = network_->StartExtraNode();
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
    ASSERT_TRUE(PollUntil([&] { return client_->Connectivity().connected; }, milliseconds(10000)));

    v1::ModelOffer offer;
    offer.set_model_hash(model_hash_);
    description_.addresses = {"127.0.0.1:7001"};
    description_.models = {offer};
    description_.hardware.add_gpus()->set_vram_bytes(uint64_t{80} << 30);
  }

  // Polls a lookup until `done` accepts its result; returns the last result.
  ProviderLookupResult FindUntil(const std::string& model_hash,
                                 const std::function<bool(const ProviderLookupResult&)>& done) {
    ProviderLookup lookup(*client_, clock_);
    ProviderQuery query;
    query.model_hash = model_hash;
    query.timeout = milliseconds(3000);
    ProviderLookupResult last;
    PollUntil(
        [&] {
          auto found = lookup.Find(query);
          if (!found.ok()) return false;
          last = std::move(found).value();
          return done(last);
        },
        kPropagationTimeout);
    return last;
  }

  const SystemClock& clock_ = SystemClock::Instance();
  std::string model_hash_ = std::string(32, '\x5a');
  ProviderDescription description_;
  std::unique_ptr<LoopbackDhtNetwork> network_;
  std::unique_ptr<DhtNode> client_;
};

TEST_F(ProviderDiscoveryDhtTest, AFreshClientFindsAPublishedProviderByModelAndAmongAll) {
  NodeIdentity provider = IdentityNumber(1);
  RecordPublisher publisher(network_->node(2), provider, clock_);
  publisher.SetDescription(description_);
  ASSERT_TRUE(publisher.Tick().ok());

  auto one_provider = [](const ProviderLookupResult& r) { return r.providers.size() == 1; };
  ProviderLookupResult by_model = FindUntil(model_hash_, one_provider);
  ASSERT_EQ(by_model.providers.size(), 1u);
  EXPECT_EQ(by_model.providers[0].node_id, provider.id());
  EXPECT_EQ(by_model.providers[0].record.addresses(0), "127.0.0.1:7001");
  EXPECT_EQ(FindUntil("", one_provider).providers.size(), 1u);
}

TEST_F(ProviderDiscoveryDhtTest, AForgedRecordIsIgnoredAndCannotReplaceTheGenuineOne) {
  NodeIdentity provider = IdentityNumber(1);
  NodeIdentity attacker = IdentityNumber(2);
  RecordPublisher publisher(network_->node(2), provider, clock_);
  publisher.SetDescription(description_);
  ASSERT_TRUE(publisher.Tick().ok());

  // The attacker signs a record claiming the provider's ID and pointing at its own address, and
  // stores it under the provider's value id (an overwrite attempt) and under a new one.
  v1::SignedEnvelope genuine = BuildSignedNodeRecord(provider, description_, clock_, 60'000);
  v1::NodeRecord record;
  ASSERT_TRUE(record.ParseFromString(genuine.body()));
  record.set_addresses(0, "10.6.6.6:7001");
  v1::SignedEnvelope forged = genuine;
  forged.set_body(record.SerializeAsString());
  Signature signature = attacker.Sign(net::SigningInput(forged.kind(), forged.body()));
  forged.set_signer_key(attacker.signing_public_key().data(), 32);
  forged.set_signature(signature.data(), signature.size());
  const std::string key = ModelKey(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(model_hash_.data()), model_hash_.size()));
  (void)network_->node(4).Put(key, forged.SerializeAsString(), RecordValueId(provider.id()),
                              milliseconds(5000));
  ASSERT_TRUE(
      network_->node(4).Put(key, forged.SerializeAsString(), 12345, milliseconds(5000)).ok());

  ProviderLookupResult result = FindUntil(model_hash_, [](const ProviderLookupResult& r) {
    return r.providers.size() == 1 && r.ignored.wrong_author >= 1;
  });
  ASSERT_EQ(result.providers.size(), 1u);
  EXPECT_EQ(result.providers[0].record.addresses(0), "127.0.0.1:7001");
  EXPECT_EQ(result.ignored.wrong_author, 1u);
}

TEST_F(ProviderDiscoveryDhtTest, RepublicationReplacesTheRecordInsteadOfAddingOne) {
  NodeIdentity provider = IdentityNumber(1);
  ManualClock clock(clock_.NowMs());
  PublisherOptions options;
  options.ttl_ms = 60'000;
  RecordPublisher publisher(network_->node(3), provider, clock, options);
  description_.capacity.set_queued(1);
  publisher.SetDescription(description_);
  ASSERT_TRUE(publisher.Tick().ok());
  ASSERT_EQ(
      FindUntil(model_hash_, [](const ProviderLookupResult& r) { return r.providers.size() == 1; })
          .providers.size(),
      1u);

  description_.capacity.set_queued(2);
  publisher.SetDescription(description_);
  clock.AdvanceMs(1);
  ASSERT_TRUE(publisher.Tick().ok());
  EXPECT_EQ(publisher.publications(), 2u);

  // Once the new record has spread, the key holds it alone: nothing was superseded.
  ProviderLookupResult result = FindUntil(model_hash_, [](const ProviderLookupResult& r) {
    return r.providers.size() == 1 && r.providers[0].record.capacity().queued() == 2 &&
           r.ignored.total() == 0;
  });
  ASSERT_EQ(result.providers.size(), 1u);
  EXPECT_EQ(result.providers[0].record.capacity().queued(), 2u);
  EXPECT_EQ(result.ignored.superseded, 0u);
  auto raw = client_->Get(kAllProvidersKey, milliseconds(3000));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->values.size(), 1u);
}

}  // namespace
}  // namespace infernet::discovery
