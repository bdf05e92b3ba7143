#include "engine/sampling/candidate_order.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace infernet {
namespace {

constexpr int kDigitBits = 11;
constexpr uint32_t kDigitMask = (1u << kDigitBits) - 1;
constexpr int kPasses = (32 + kDigitBits - 1) / kDigitBits;

// A key whose ascending unsigned order is ComesFirst's order of logits (descending), with -0
// mapped to +0 so the two tie.
uint32_t DescendingKey(float logit) {
  const float canonical = logit == 0.0f ? 0.0f : logit;
  uint32_t bits;
  std::memcpy(&bits, &canonical, sizeof(bits));
  // Ascending order of floats as unsigned: flip all bits of negatives, the sign bit of the rest.
  const uint32_t ascending = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
  return ~ascending;
}

}  // namespace

bool ComesFirst(const Candidate& a, const Candidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

void SortCandidates(std::vector<Candidate>& candidates, std::vector<Candidate>& scratch) {
  const size_t n = candidates.size();
  if (n < 2) return;
  scratch.resize(n);
  std::vector<Candidate>* from = &candidates;
  std::vector<Candidate>* to = &scratch;
  for (int pass = 0; pass < kPasses; ++pass) {
    const int shift = pass * kDigitBits;
    const auto digit = [shift](const Candidate& c) {
      return (DescendingKey(c.logit) >> shift) & kDigitMask;
    };
    std::array<size_t, kDigitMask + 1> start{};
    for (const Candidate& c : *from) ++start[digit(c)];
    size_t sum = 0;
    for (size_t& s : start) {
      const size_t count = s;
      s = sum;
      sum += count;
    }
    for (const Candidate& c : *from) (*to)[start[digit(c)]++] = c;
    std::swap(from, to);
  }
  if (from != &candidates) candidates.swap(*from);
}

}  // namespace infernet
