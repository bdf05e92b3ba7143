#include "discovery/far_ranges.h"

#include <algorithm>

namespace infernet::discovery {
namespace {

constexpr unsigned kIdBits = 160;

// The far range of `own` that `id` lies in: the index of the first bit where they differ;
// kIdBits for `own` itself.
unsigned FarRangeOf(const dht::InfoHash& own, const dht::InfoHash& id) {
  for (unsigned bit = 0; bit < kIdBits; ++bit) {
    if (own.getBit(bit) != id.getBit(bit)) return bit;
  }
  return kIdBits;
}

}  // namespace

dht::InfoHash RandomIdInFarRange(const dht::InfoHash& own, unsigned level) {
  dht::InfoHash target = dht::InfoHash::getRandom();
  for (unsigned bit = 0; bit < level && bit < kIdBits; ++bit) target.setBit(bit, own.getBit(bit));
  if (level < kIdBits) target.setBit(level, !own.getBit(level));
  return target;
}

std::vector<unsigned> EmptyFarRanges(const dht::InfoHash& own,
                                     const std::vector<dht::InfoHash>& known, unsigned levels) {
  levels = std::min(levels, kIdBits);
  std::vector<bool> occupied(levels, false);
  for (const dht::InfoHash& id : known) {
    const unsigned range = FarRangeOf(own, id);
    if (range < levels) occupied[range] = true;
  }
  std::vector<unsigned> empty;
  for (unsigned level = 0; level < levels; ++level) {
    if (!occupied[level]) empty.push_back(level);
  }
  return empty;
}

}  // namespace infernet::discovery
