#include "engine/sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

namespace infernet {
namespace {

SamplingParams Params(float temperature, uint64_t seed = 1) {
  SamplingParams p;
  p.temperature = temperature;
  p.seed = seed;
  return p;
}

// Log-probabilities given directly, so softmax(logits) is the distribution below.
std::vector<float> LogitsFor(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

std::map<TokenId, int> Histogram(const SamplingParams& params, const std::vector<float>& logits,
                                 int draws) {
  Sampler sampler(params);
  std::map<TokenId, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[sampler.Sample(logits, {}).token];
  return counts;
}

TEST(ValidateSamplingParams, AcceptsDefaultsAndRejectsEachBadField) {
  EXPECT_TRUE(ValidateSamplingParams(SamplingParams{}).ok());
  auto expect_bad = [](auto mutate, const char* name) {
    SamplingParams p;
    mutate(p);
    const Status s = ValidateSamplingParams(p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(s.message().find(name), std::string::npos) << s.message();
  };
  expect_bad([](SamplingParams& p) { p.temperature = -0.1f; }, "temperature");
  expect_bad([](SamplingParams& p) { p.temperature = INFINITY; }, "temperature");
  expect_bad([](SamplingParams& p) { p.temperature = NAN; }, "temperature");
  expect_bad([](SamplingParams& p) { p.top_k = -1; }, "top_k");
  expect_bad([](SamplingParams& p) { p.top_p = 0.0f; }, "top_p");
  expect_bad([](SamplingParams& p) { p.top_p = 1.5f; }, "top_p");
  expect_bad([](SamplingParams& p) { p.min_p = -0.1f; }, "min_p");
  expect_bad([](SamplingParams& p) { p.min_p = 1.1f; }, "min_p");
  expect_bad([](SamplingParams& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty");
  expect_bad([](SamplingParams& p) { p.repeat_last_n = -1; }, "repeat_last_n");
}

TEST(LogProbability, IsLogSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (TokenId t = 0; t < 3; ++t) {
    EXPECT_NEAR(LogProbability(logits, t), (t + 1.0) - std::log(z), 1e-6);
  }
  // Large logits do not overflow.
  EXPECT_NEAR(LogProbability(std::vector<float>{1000.0f, 1000.0f}, 0), std::log(0.5), 1e-6);
}

TEST(Sampler, GreedyTakesTheArgmaxAndBreaksTiesByLowestId) {
  Sampler sampler(Params(0.0f));
  EXPECT_EQ(sampler.Sample(std::vector<float>{0.1f, 3.0f, -1.0f, 2.0f}, {}).token, 1);
  EXPECT_EQ(sampler.Sample(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f}, {}).token, 1);
  const SampledToken t = sampler.Sample(std::vector<float>{0.0f, 0.0f}, {});
  EXPECT_EQ(t.token, 0);
  EXPECT_NEAR(t.logprob, std::log(0.5), 1e-6);
}

// The documented greedy rule, one element at a time.
TokenId FirstLargest(const std::vector<float>& logits) {
  TokenId best = -1;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) continue;
    if (best < 0 || logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<TokenId>(i);
  }
  return best < 0 ? 0 : best;
}

TEST(Sampler, GreedyOverLongVectorsFollowsTheRuleExactly) {
  Sampler sampler(Params(0.0f));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> logits(static_cast<size_t>(1 + trial * 37 % 700));
    for (float& l : logits) l = value(rng);
    // Ties across vector lanes, NaNs, infinities and signed zeros at random places.
    const size_t n = logits.size();
    if (trial % 3 == 0) logits[rng() % n] = logits[rng() % n] = 9.0f;
    if (trial % 4 == 0) logits[rng() % n] = NAN;
    if (trial % 5 == 0) logits[0] = NAN;
    if (trial % 7 == 0) logits[rng() % n] = -INFINITY;
    if (trial % 11 == 0) {
      for (float& l : logits) l = l > 0 ? 0.0f : -0.0f;
    }
    EXPECT_EQ(sampler.Sample(logits, {}).token, FirstLargest(logits)) << "trial " << trial;
  }
  EXPECT_EQ(sampler.Sample(std::vector<float>(40, NAN), {}).token, 0);
  std::vector<float> infinities(40, -INFINITY);
  infinities[0] = NAN;
  EXPECT_EQ(sampler.Sample(infinities, {}).token, 1);
  std::vector<float> zeros(40, -0.0f);
  zeros[33] = 0.0f;
  EXPECT_EQ(sampler.Sample(zeros, {}).token, 0);
}

TEST(Sampler, TopKOneEqualsGreedy) {
  SamplingParams p = Params(1.5f, 99);
  p.top_k = 1;
  Sampler top1(p);
  Sampler greedy(Params(0.0f));
  SamplingRng values(5);
  for (int step = 0; step < 50; ++step) {
    std::vector<float> logits(32);
    for (float& l : logits) l = static_cast<float>(values.NextUnit() * 4.0 - 2.0);
    logits[7] = logits[3] = 5.0f;  // a tie at the top as well
    EXPECT_EQ(top1.Sample(logits, {}).token, greedy.Sample(logits, {}).token);
  }
}

TEST(Sampler, SameSeedGivesTheSameSequence) {
  SamplingParams p = Params(0.8f, 1234);
  p.top_k = 20;
  p.top_p = 0.9f;
  SamplingRng values(3);
  std::vector<std::vector<float>> steps(100, std::vector<float>(50));
  for (auto& logits : steps) {
    for (float& l : logits) l = static_cast<float>(values.NextUnit() * 6.0);
  }
  auto run = [&](uint64_t seed) {
    p.seed = seed;
    Sampler sampler(p);
    std::vector<TokenId> out;
    for (const auto& logits : steps) out.push_back(sampler.Sample(logits, out).token);
    return out;
  };
  EXPECT_EQ(run(1234), run(1234));
  EXPECT_NE(run(1234), run(4321));
}

TEST(Sampler, FrequenciesMatchTheSoftmax) {
  const std::vector<double> probs = {0.5, 0.25, 0.15, 0.1};
  const int draws = 20000;
  const auto counts = Histogram(Params(1.0f, 77), LogitsFor(probs), draws);
  for (size_t t = 0; t < probs.size(); ++t) {
    const double expected = probs[t] * draws;
    const double sigma = std::sqrt(draws * probs[t] * (1 - probs[t]));
    EXPECT_NEAR(counts.count(t) ? counts.at(t) : 0, expected, 5 * sigma) << "token " << t;
  }
}

TEST(Sampler, TemperatureSharpensTheDistribution) {
  const std::vector<double> probs = {0.6, 0.4};
  // At T = 0.5 the probabilities are proportional to p^2: 0.36 : 0.16.
  const auto counts = Histogram(Params(0.5f, 8), LogitsFor(probs), 20000);
  const double expected0 = 0.36 / 0.52;
  EXPECT_NEAR(counts.at(0) / 20000.0, expected0, 0.02);
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  // Sorted: 0.4 (id 2), 0.3 (id 0), 0.2 (id 3), 0.1 (id 1). top_p = 0.65 -> 0.4 + 0.3 = 0.7 is
  // the first cumulative sum >= 0.65, so ids 2 and 0 survive, renormalised to 4/7 and 3/7.
  SamplingParams p = Params(1.0f, 11);
  p.top_p = 0.65f;
  const auto counts = Histogram(p, LogitsFor({0.3, 0.1, 0.4, 0.2}), 20000);
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_NEAR(counts.at(2) / 20000.0, 4.0 / 7.0, 0.02);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheBest) {
  // p_max = 0.5; min_p = 0.4 keeps p >= 0.2: ids 0 (0.5) and 1 (0.3); drops 0.15 and 0.05.
  SamplingParams p = Params(1.0f, 12);
  p.min_p = 0.4f;
  const auto counts = Histogram(p, LogitsFor({0.5, 0.3, 0.15, 0.05}), 20000);
  EXPECT_EQ(counts.count(2), 0u);
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_NEAR(counts.at(0) / 20000.0, 0.5 / 0.8, 0.02);
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  SamplingParams p = Params(1.0f, 13);
  p.top_k = 2;
  const auto counts = Histogram(p, LogitsFor({0.1, 0.4, 0.2, 0.3}), 5000);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts.count(1), 0u);
  EXPECT_GT(counts.count(3), 0u);
}

TEST(Sampler, RepetitionPenaltyPushesRecentTokensDown) {
  SamplingParams p = Params(0.0f);
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 2;
  Sampler sampler(p);
  // Positive logit 3 / 2 = 1.5 < 2: token 0 loses to token 1.
  EXPECT_EQ(sampler.Sample(std::vector<float>{3.0f, 2.0f}, std::vector<TokenId>{0}).token, 1);
  // Negative logit -1 * 2 = -2 < -1.5: token 0 loses to token 1.
  EXPECT_EQ(sampler.Sample(std::vector<float>{-1.0f, -1.5f}, std::vector<TokenId>{0, 0}).token, 1);
  // Only the last repeat_last_n tokens count: token 0 is outside the window here.
  EXPECT_EQ(sampler.Sample(std::vector<float>{3.0f, 2.0f}, std::vector<TokenId>{0, 1, 1}).token, 0);
  // The reported logprob is under the raw logits, not the penalised ones.
  const SampledToken t = sampler.Sample(std::vector<float>{3.0f, 2.0f}, std::vector<TokenId>{0});
  EXPECT_NEAR(t.logprob, LogProbability(std::vector<float>{3.0f, 2.0f}, 1), 1e-7);
}

TEST(Sampler, PenaltyBelowOneFavoursRecentTokens) {
  SamplingParams p = Params(0.0f);
  p.repeat_penalty = 0.5f;
  Sampler sampler(p);
  EXPECT_EQ(sampler.Sample(std::vector<float>{2.0f, 3.0f}, std::vector<TokenId>{0}).token, 0);
}

}  // namespace
}  // namespace infernet
