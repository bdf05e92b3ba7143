#include "bench/paired_ceiling.h"

#include <algorithm>
#include <string>

namespace infernet::bench {

Result<PairedCeiling> PairCeiling(std::span<const DecodeSegment> segments,
                                  std::span<const double> readings_gb_s, double weight_bytes,
                                  double kv_bytes_per_position) {
  if (segments.empty() || readings_gb_s.size() != segments.size() + 1) {
    return Status::InvalidArgument("want one more bandwidth reading than segments, got " +
                                   std::to_string(readings_gb_s.size()) + " for " +
                                   std::to_string(segments.size()));
  }
  if (!(weight_bytes > 0) || !(kv_bytes_per_position >= 0)) {
    return Status::InvalidArgument("byte counts must be positive");
  }
  for (double r : readings_gb_s) {
    if (!(r > 0)) return Status::InvalidArgument("bandwidth readings must be positive");
  }
  PairedCeiling out;
  double seconds = 0;
  int tokens = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const DecodeSegment& s = segments[i];
    if (s.tokens < 1 || !(s.seconds > 0) || !(s.mean_positions >= 0)) {
      return Status::InvalidArgument("segment " + std::to_string(i) +
                                     ": tokens and seconds must be positive");
    }
    const double bytes_per_token = weight_bytes + kv_bytes_per_position * s.mean_positions;
    const double gb_s = std::max(readings_gb_s[i], readings_gb_s[i + 1]);
    out.ceiling_seconds += s.tokens * bytes_per_token / (gb_s * 1e9);
    seconds += s.seconds;
    tokens += s.tokens;
  }
  out.fraction = out.ceiling_seconds / seconds;
  out.ceiling_tok_s = tokens / out.ceiling_seconds;
  return out;
}

}  // namespace infernet::bench
