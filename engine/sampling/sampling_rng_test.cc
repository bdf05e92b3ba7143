// Golden values come from a separate, literal re-statement of SplitMix64 and xoshiro256**
// (Vigna's published reference code), not from SamplingRng itself.
#include <gtest/gtest.h>

#include "engine/sampling/sampler.h"

namespace infernet {
namespace {

struct ReferenceSplitMix64 {
  uint64_t x;
  uint64_t next() {
    uint64_t z = (x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
};

struct ReferenceXoshiro256StarStar {
  uint64_t s[4];
  static uint64_t rotl(const uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

TEST(ReferenceSplitMix64, MatchesThePublishedVector) {
  ReferenceSplitMix64 sm{0};
  EXPECT_EQ(sm.next(), 0xe220a8397b1dcdafull);
}

TEST(SamplingRng, IsXoshiro256StarStarSeededBySplitMix64) {
  for (uint64_t seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
    ReferenceSplitMix64 sm{seed};
    ReferenceXoshiro256StarStar ref{{sm.next(), sm.next(), sm.next(), sm.next()}};
    SamplingRng rng(seed);
    for (int i = 0; i < 1000; ++i)
      ASSERT_EQ(rng.Next(), ref.next()) << "seed " << seed << " i " << i;
  }
}

TEST(SamplingRng, NextUnitIsTheTop53BitsScaled) {
  ReferenceSplitMix64 sm{7};
  ReferenceXoshiro256StarStar ref{{sm.next(), sm.next(), sm.next(), sm.next()}};
  SamplingRng rng(7);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.NextUnit();
    EXPECT_EQ(u, static_cast<double>(ref.next() >> 11) / 9007199254740992.0);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(SamplingRng, DifferentSeedsGiveDifferentStreams) {
  SamplingRng a(1), b(2);
  EXPECT_NE(a.Next(), b.Next());
}

}  // namespace
}  // namespace infernet
