#include "engine/cpu/rope_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "engine/cpu/rope_math.h"

namespace infernet::cpu {
namespace {

// The table's entry for (position, i), computed directly.
SinCos Expected(int32_t position, float freq_scale, float freq_base, int64_t n_rot, int64_t i) {
  const double inv_freq = RopePow(static_cast<double>(freq_base),
                                  -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
  return RopeSinCos(static_cast<double>(position) * static_cast<double>(freq_scale) * inv_freq);
}

void ExpectTable(const RopeTable& table, const std::vector<int32_t>& pos, float freq_scale,
                 float freq_base, int64_t n_rot) {
  for (size_t r = 0; r < pos.size(); ++r) {
    for (int64_t i = 0; i < n_rot / 2; ++i) {
      const SinCos e = Expected(pos[r], freq_scale, freq_base, n_rot, i);
      ASSERT_EQ(table.cos(static_cast<int64_t>(r))[i], static_cast<float>(e.cos))
          << "row " << r << " i " << i;
      ASSERT_EQ(table.sin(static_cast<int64_t>(r))[i], static_cast<float>(e.sin))
          << "row " << r << " i " << i;
    }
  }
}

TEST(RopeTableTest, HoldsTheAnglesOfTheBatchPositions) {
  ThreadPool pool(2);
  RopeTable table;
  const std::vector<int32_t> pos = {0, 1, 7, 511, 4096, 3};
  table.Prepare(pool, 10000.0f, 1.0f, 64, pos);
  ExpectTable(table, pos, 1.0f, 10000.0f, 64);
}

TEST(RopeTableTest, FollowsChangesOfPositionsScaleBaseAndWidth) {
  ThreadPool pool(2);
  RopeTable table;
  std::vector<int32_t> pos = {5, 6, 7, 8, 9};
  table.Prepare(pool, 10000.0f, 1.0f, 64, pos);
  pos[2] = 100;  // same count, one position changed
  table.Prepare(pool, 10000.0f, 1.0f, 64, pos);
  ExpectTable(table, pos, 1.0f, 10000.0f, 64);
  table.Prepare(pool, 10000.0f, 0.25f, 64, pos);
  ExpectTable(table, pos, 0.25f, 10000.0f, 64);
  table.Prepare(pool, 500000.0f, 0.25f, 64, pos);
  ExpectTable(table, pos, 0.25f, 500000.0f, 64);
  pos = {42};
  table.Prepare(pool, 500000.0f, 0.25f, 128, pos);
  ExpectTable(table, pos, 0.25f, 500000.0f, 128);
}

TEST(RopeTableTest, SameValuesWhateverTheThreadCount) {
  std::vector<int32_t> pos;
  for (int32_t p = 0; p < 300; ++p) pos.push_back(p * 13 % 2048);
  ThreadPool one(1), three(3);
  RopeTable a, b;
  a.Prepare(one, 10000.0f, 1.0f, 32, pos);
  b.Prepare(three, 10000.0f, 1.0f, 32, pos);
  for (int64_t r = 0; r < static_cast<int64_t>(pos.size()); ++r) {
    for (int64_t i = 0; i < 16; ++i) {
      ASSERT_EQ(a.cos(r)[i], b.cos(r)[i]);
      ASSERT_EQ(a.sin(r)[i], b.sin(r)[i]);
    }
  }
}

}  // namespace
}  // namespace infernet::cpu
