#include "engine/sampling/candidate_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace infernet {
namespace {

std::vector<Candidate> FromLogits(const std::vector<float>& logits) {
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < logits.size(); ++i) {
    candidates.push_back({logits[i], static_cast<TokenId>(i)});
  }
  return candidates;
}

void ExpectSameOrderAsStdSort(const std::vector<float>& logits) {
  std::vector<Candidate> radix = FromLogits(logits), reference = radix, scratch;
  SortCandidates(radix, scratch);
  std::sort(reference.begin(), reference.end(), ComesFirst);
  ASSERT_EQ(radix.size(), reference.size());
  for (size_t i = 0; i < radix.size(); ++i) {
    ASSERT_EQ(radix[i].id, reference[i].id) << "position " << i << " of " << radix.size();
    // The same float bits, not only an equal value: -0 stays -0.
    ASSERT_EQ(std::signbit(radix[i].logit), std::signbit(reference[i].logit));
    ASSERT_EQ(radix[i].logit, reference[i].logit);
  }
}

TEST(CandidateOrderTest, ComesFirstRanksByLogitThenId) {
  EXPECT_TRUE(ComesFirst({2.0f, 5}, {1.0f, 0}));
  EXPECT_FALSE(ComesFirst({1.0f, 0}, {2.0f, 5}));
  EXPECT_TRUE(ComesFirst({1.0f, 3}, {1.0f, 4}));
  EXPECT_TRUE(ComesFirst({-0.0f, 3}, {0.0f, 4}));  // +0 and -0 tie
  EXPECT_FALSE(ComesFirst({0.0f, 4}, {-0.0f, 3}));
}

TEST(CandidateOrderTest, MatchesStdSortOnRandomVocabularies) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (size_t n : {0u, 1u, 2u, 3u, 17u, 100u, 2049u, 32000u}) {
    std::vector<float> logits(n);
    for (float& l : logits) l = normal(rng);
    ExpectSameOrderAsStdSort(logits);
  }
}

TEST(CandidateOrderTest, MatchesStdSortWithTiesZerosAndInfinities) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> pick(0, 9);
  const float values[] = {0.0f,    -0.0f,  1.0f,      -1.0f,    1e-38f,
                          -1e-38f, 1e-45f, -INFINITY, INFINITY, 3.5f};
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> logits(static_cast<size_t>(50 + trial * 300));
    for (float& l : logits) l = values[pick(rng)];
    ExpectSameOrderAsStdSort(logits);
  }
}

TEST(CandidateOrderTest, ExtremeMagnitudesKeepTheirOrder) {
  ExpectSameOrderAsStdSort({3.4e38f, -3.4e38f, 1.17549435e-38f, -1.17549435e-38f, 1.4e-45f,
                            -1.4e-45f, 0.0f, -0.0f, 1.0f, -1.0f, 2.0f, -2.0f});
}

}  // namespace
}  // namespace infernet
