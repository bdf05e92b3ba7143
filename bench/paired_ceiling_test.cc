#include "bench/paired_ceiling.h"

#include <gtest/gtest.h>

#include <vector>

namespace infernet::bench {
namespace {

TEST(PairCeilingTest, OneSegmentIsTokensOverTheCeilingTime) {
  // 1 GB a token at 50 GB/s: 50 tok/s is the ceiling; 40 tok/s measured is 80 %.
  const std::vector<DecodeSegment> segments = {{.tokens = 4, .seconds = 0.1, .mean_positions = 0}};
  const std::vector<double> readings = {50, 40};
  auto c = PairCeiling(segments, readings, 1e9, 1000);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->ceiling_tok_s, 50);
  EXPECT_DOUBLE_EQ(c->fraction, 0.8);
}

TEST(PairCeilingTest, EachSegmentMeetsTheHigherOfItsOwnReadings) {
  // Regime change between the segments: the first is measured against 30 GB/s, the second
  // against 60, not both against 60.
  const std::vector<DecodeSegment> segments = {{2, 2.0 / 27, 0}, {2, 2.0 / 54, 0}};
  const std::vector<double> readings = {30, 28, 60};
  auto c = PairCeiling(segments, readings, 1e9, 0);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->fraction, 0.9, 1e-12);
  // Against 60 GB/s for the whole run it would read 0.6.
  EXPECT_NEAR(c->ceiling_seconds, 2.0 / 30 + 2.0 / 60, 1e-12);
}

TEST(PairCeilingTest, CountsTheKvBytesOfEachSegmentsPositions) {
  const std::vector<DecodeSegment> segments = {{1, 1.0, 100}, {1, 1.0, 300}};
  const std::vector<double> readings = {1, 1, 1};
  auto c = PairCeiling(segments, readings, 1e9, 1e6);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->ceiling_seconds, (1.1e9 + 1.3e9) / 1e9, 1e-12);
}

TEST(PairCeilingTest, RejectsMismatchedOrNonPositiveInput) {
  const std::vector<DecodeSegment> one = {{1, 1.0, 0}};
  EXPECT_FALSE(PairCeiling(one, std::vector<double>{1}, 1e9, 0).ok());
  EXPECT_FALSE(PairCeiling(one, std::vector<double>{1, 0}, 1e9, 0).ok());
  EXPECT_FALSE(PairCeiling(one, std::vector<double>{1, 1}, 0, 0).ok());
  EXPECT_FALSE(PairCeiling({}, std::vector<double>{1}, 1e9, 0).ok());
  const std::vector<DecodeSegment> empty_segment = {{0, 1.0, 0}};
  EXPECT_FALSE(PairCeiling(empty_segment, std::vector<double>{1, 1}, 1e9, 0).ok());
}

}  // namespace
}  // namespace infernet::bench
