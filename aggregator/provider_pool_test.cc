// Provider selection: eligibility from discovery listings (model, price, GPU memory), providers
// that vanish from the DHT, failure cooldowns, in-flight bounds and ranking by reliability.
#include "aggregator/provider_pool.h"

#include <gtest/gtest.h>

namespace infernet::aggregator {
namespace {

const std::string kModel(32, '\x22');
const std::string kOtherModel(32, '\x33');

discovery::ProviderRecord Listing(const NodeId& id, const std::string& model, uint64_t price,
                                  uint64_t gpu_vram_bytes = 0) {
  discovery::ProviderRecord r;
  r.node_id = id;
  r.record.add_addresses("127.0.0.1:1");
  v1::ModelOffer* offer = r.record.add_models();
  offer->set_model_hash(model);
  offer->set_price_per_mtok_micros(price);
  offer->set_size_bytes(1'000'000);
  if (gpu_vram_bytes) {
    v1::GpuInfo* gpu = r.record.mutable_hardware()->add_gpus();
    gpu->set_vram_bytes(gpu_vram_bytes);
    gpu->set_memory_bandwidth_bytes_per_s(1'000'000'000'000);
  }
  return r;
}

JobNeeds Needs(uint64_t max_price, uint64_t min_vram = 0) { return {kModel, max_price, min_vram}; }

class ProviderPoolTest : public ::testing::Test {
 protected:
  NodeId a_ = NodeIdentity::Generate().id();
  NodeId b_ = NodeIdentity::Generate().id();
  NodeId c_ = NodeIdentity::Generate().id();
  ProviderPool pool_{PoolSettings{}};
};

TEST_F(ProviderPoolTest, OnlyProvidersListingTheModelWithinThePriceAreEligible) {
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 100), Listing(b_, kModel, 900)});
  pool_.UpdateListing(kOtherModel, {Listing(c_, kOtherModel, 1)});
  EXPECT_EQ(pool_.Ranked(Needs(500), 0), std::vector<NodeId>{a_});
  EXPECT_EQ(pool_.Ranked(Needs(1000), 0).size(), 2u);
  EXPECT_FALSE(pool_.AnyEligible(Needs(50), {}));
  EXPECT_EQ(pool_.Pick(Needs(1000), 0, {a_}), b_);
  EXPECT_FALSE(pool_.Pick(Needs(1000), 0, {a_, b_}).has_value());
}

TEST_F(ProviderPoolTest, AGpuMemoryRequirementExcludesSmallerAndCpuOnlyProviders) {
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 1), Listing(b_, kModel, 1, uint64_t{8} << 30),
                               Listing(c_, kModel, 1, uint64_t{80} << 30)});
  EXPECT_EQ(pool_.Ranked(Needs(10, uint64_t{16} << 30), 0), std::vector<NodeId>{c_});
  EXPECT_EQ(pool_.Ranked(Needs(10), 0).size(), 3u);
  EXPECT_FALSE(pool_.AnyEligible(Needs(10, uint64_t{100} << 30), {}));
}

TEST_F(ProviderPoolTest, AProviderThatLeavesTheListingGetsNoMoreWorkAndKeepsItsHistory) {
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 1), Listing(b_, kModel, 1)});
  pool_.OnDispatched(a_);
  pool_.OnFinished(a_, 1.0, 0, 100);
  pool_.UpdateListing(kModel, {Listing(b_, kModel, 1)});  // a's record expired
  EXPECT_EQ(pool_.Ranked(Needs(10), 1000), std::vector<NodeId>{b_});
  EXPECT_EQ(pool_.Pick(Needs(10), 1000, {b_}), std::nullopt);
  ASSERT_NE(pool_.Find(a_), nullptr);
  EXPECT_EQ(pool_.Find(a_)->completed, 1u);
  pool_.UpdateListing(kModel, {});  // everyone gone
  EXPECT_FALSE(pool_.AnyEligible(Needs(10), {}));
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 1)});  // a is back, history intact
  EXPECT_EQ(pool_.Ranked(Needs(10), 1000), std::vector<NodeId>{a_});
  EXPECT_EQ(pool_.Find(a_)->completed, 1u);
}

TEST_F(ProviderPoolTest, FailuresCoolAProviderDownForLongerEachTime) {
  PoolSettings settings;
  settings.failure_cooldown_ms = 100;
  ProviderPool pool(settings);
  pool.UpdateListing(kModel, {Listing(a_, kModel, 1)});
  pool.OnDispatched(a_);
  pool.OnFailed(a_, 1000);
  EXPECT_FALSE(pool.Pick(Needs(10), 1099, {}).has_value());
  EXPECT_EQ(pool.Pick(Needs(10), 1100, {}), a_);
  pool.OnDispatched(a_);
  pool.OnFailed(a_, 2000);  // second in a row: twice as long
  EXPECT_FALSE(pool.Pick(Needs(10), 2199, {}).has_value());
  EXPECT_EQ(pool.Pick(Needs(10), 2200, {}), a_);
  EXPECT_TRUE(pool.AnyEligible(Needs(10), {}));  // cooling down is not leaving
}

TEST_F(ProviderPoolTest, InFlightWorkIsBoundedPerProvider) {
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 1)});
  const uint32_t bound = pool_.settings().max_in_flight_per_provider;
  for (uint32_t i = 0; i < bound; ++i) {
    ASSERT_EQ(pool_.Pick(Needs(10), 0, {}), a_);
    pool_.OnDispatched(a_);
  }
  EXPECT_FALSE(pool_.Pick(Needs(10), 0, {}).has_value());
  EXPECT_TRUE(pool_.Ranked(Needs(10), 0).empty());
  pool_.OnCancelled(a_);
  EXPECT_EQ(pool_.Pick(Needs(10), 0, {}), a_);
}

TEST_F(ProviderPoolTest, AReliableProviderRanksAboveAFailingOneOfTheSameSpeed) {
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 1), Listing(b_, kModel, 1)});
  for (int i = 0; i < 4; ++i) {
    pool_.OnDispatched(a_);
    pool_.OnFinished(a_, 1.0, 0, 100);
    pool_.OnDispatched(b_);
    pool_.OnFinished(b_, 1.0, 0, 100);
  }
  for (int i = 0; i < 3; ++i) {
    pool_.OnDispatched(b_);
    pool_.OnFailed(b_, 0);
  }
  // Long after b's cooldown, both eligible: a first.
  const std::vector<NodeId> ranked = pool_.Ranked(Needs(10), 1'000'000);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0], a_);
}

TEST_F(ProviderPoolTest, ACheaperPriceWithinTheOfferBreaksTies) {
  pool_.UpdateListing(kModel, {Listing(a_, kModel, 90), Listing(b_, kModel, 10)});
  const std::vector<NodeId> ranked = pool_.Ranked(Needs(100), 0);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0], b_);
}

}  // namespace
}  // namespace infernet::aggregator
