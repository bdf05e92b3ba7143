// Decode speed against memory-bandwidth readings taken between its segments. This machine's read
// bandwidth can change by half within seconds, so a decode run compared with readings taken
// seconds before and after can meet a ceiling from another bandwidth regime; a reading beside
// every short segment compares each part with the bandwidth of its own moment.
#pragma once

#include <span>

#include "core/result.h"

namespace infernet::bench {

struct DecodeSegment {
  int tokens = 0;
  double seconds = 0;
  double mean_positions = 0;  // K/V positions a token of the segment attends to, on average
};

struct PairedCeiling {
  double ceiling_seconds = 0;  // the time the segments' tokens take at their ceilings
  double fraction = 0;         // ceiling_seconds / the segments' measured seconds
  double ceiling_tok_s = 0;    // tokens / ceiling_seconds
};

// Segment i's ceiling is max(readings[i], readings[i + 1]) GB/s over the bytes a token reads:
// weight_bytes + kv_bytes_per_position x its mean_positions. The higher of the two readings, so a
// change of regime during a segment counts against the engine.
// Errors: InvalidArgument unless readings has one more entry than segments and every reading,
// token count, duration and byte count is positive.
Result<PairedCeiling> PairCeiling(std::span<const DecodeSegment> segments,
                                  std::span<const double> readings_gb_s, double weight_bytes,
                                  double kv_bytes_per_position);

}  // namespace infernet::bench
