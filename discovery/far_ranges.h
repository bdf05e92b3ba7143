// Kademlia's far ranges of a node id: range `level` holds the ids that agree with the node's id in
// the bits before `level` and differ in bit `level`. Range 0 is the half of the id space opposite
// the node's own, range 1 the opposite quarter within its own half, and so on. A node that knows
// no one in a far range routes every lookup for a key out there through nodes no closer to it.
#pragma once

#include <opendht/infohash.h>

#include <vector>

namespace infernet::discovery {

// A random id in far range `level` (< 160) of `own`.
dht::InfoHash RandomIdInFarRange(const dht::InfoHash& own, unsigned level);

// The levels below `levels` whose far range of `own` holds none of `known`, in increasing order.
std::vector<unsigned> EmptyFarRanges(const dht::InfoHash& own,
                                     const std::vector<dht::InfoHash>& known, unsigned levels);

}  // namespace infernet::discovery
