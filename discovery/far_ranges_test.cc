#include "discovery/far_ranges.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace infernet::discovery {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

dht::InfoHash IdStartingWith(uint8_t first_byte) {
  dht::InfoHash id;  // zero
  id[0] = first_byte;
  return id;
}

TEST(FarRangesTest, ARandomIdInARangeSharesThePrefixAndDiffersInTheRangesBit) {
  const dht::InfoHash own = dht::InfoHash::getRandom();
  for (unsigned level : {0u, 1u, 2u, 7u, 8u, 159u}) {
    const dht::InfoHash id = RandomIdInFarRange(own, level);
    for (unsigned bit = 0; bit < level; ++bit) EXPECT_EQ(id.getBit(bit), own.getBit(bit));
    EXPECT_NE(id.getBit(level), own.getBit(level)) << "level " << level;
    EXPECT_THAT(EmptyFarRanges(own, {id}, 160).size(), 159u);
  }
}

TEST(FarRangesTest, EachKnownIdFillsTheRangeOfItsFirstDifferingBit) {
  const dht::InfoHash own = IdStartingWith(0b0000'0000);
  // 1xxx: range 0; 01xx: range 1; 0001: range 3.
  const std::vector<dht::InfoHash> known = {IdStartingWith(0b1000'0000),
                                            IdStartingWith(0b0100'0000),
                                            IdStartingWith(0b0001'0000)};
  EXPECT_THAT(EmptyFarRanges(own, known, 5), ElementsAre(2, 4));
  EXPECT_THAT(EmptyFarRanges(own, known, 2), IsEmpty());
  EXPECT_THAT(EmptyFarRanges(own, {}, 3), ElementsAre(0, 1, 2));
  EXPECT_THAT(EmptyFarRanges(own, known, 0), IsEmpty());
}

TEST(FarRangesTest, OwnIdAndNearIdsFillNoFarRange) {
  const dht::InfoHash own = IdStartingWith(0b1010'0000);
  dht::InfoHash near = own;
  near[19] ^= 1;  // differs only in the last bit: range 159
  EXPECT_THAT(EmptyFarRanges(own, {own, near}, 3), ElementsAre(0, 1, 2));
  EXPECT_EQ(EmptyFarRanges(own, {own, near}, 1000).size(), 159u);
}

}  // namespace
}  // namespace infernet::discovery
