#include "net/replay_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace infernet::net {
namespace {

NodeId Author(uint8_t tag) {
  NodeId id;
  id.bytes.fill(tag);
  return id;
}

std::string Nonce(int n) { return "nonce-" + std::to_string(n) + std::string(10, 'x'); }

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kWindow = 60'000;

TEST(ReplayGuardTest, AcceptsANewPairAndRefusesItsReplay) {
  ReplayGuard guard(kWindow, 100);
  EXPECT_TRUE(guard.CheckAndRecord(Author(1), Nonce(1), kNow, kNow).ok());
  Status replay = guard.CheckAndRecord(Author(1), Nonce(1), kNow, kNow + 10);
  EXPECT_EQ(replay.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(replay.message().rfind("replayed", 0), 0u) << replay.message();
  EXPECT_EQ(guard.size(), 1u);
}

TEST(ReplayGuardTest, SameNonceFromAnotherAuthorIsNotAReplay) {
  ReplayGuard guard(kWindow, 100);
  EXPECT_TRUE(guard.CheckAndRecord(Author(1), Nonce(1), kNow, kNow).ok());
  EXPECT_TRUE(guard.CheckAndRecord(Author(2), Nonce(1), kNow, kNow).ok());
  EXPECT_TRUE(guard.CheckAndRecord(Author(1), Nonce(2), kNow, kNow).ok());
  EXPECT_EQ(guard.size(), 3u);
}

TEST(ReplayGuardTest, ForgetsEntriesOutsideTheWindowAndRefusesClaimsThatOld) {
  ReplayGuard guard(kWindow, 100);
  ASSERT_TRUE(guard.CheckAndRecord(Author(1), Nonce(1), kNow, kNow).ok());
  // Still inside the window: remembered.
  EXPECT_EQ(guard.CheckAndRecord(Author(1), Nonce(1), kNow, kNow + kWindow).code(),
            StatusCode::kAlreadyExists);
  // Past the window: the entry is dropped, and the replay is refused as stale instead.
  Status late = guard.CheckAndRecord(Author(1), Nonce(1), kNow, kNow + kWindow + 1);
  EXPECT_EQ(late.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(late.message().rfind("stale", 0), 0u) << late.message();
  EXPECT_EQ(guard.size(), 0u);
}

TEST(ReplayGuardTest, StaysWithinCapacityAndRefusesClaimsOlderThanWhatItDropped) {
  constexpr size_t kCapacity = 8;
  ReplayGuard guard(kWindow, kCapacity);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(guard.CheckAndRecord(Author(1), Nonce(i), kNow + i, kNow + i).ok()) << i;
    EXPECT_LE(guard.size(), kCapacity);
  }
  EXPECT_EQ(guard.size(), kCapacity);
  // Nonce 0 was dropped for capacity; its replay must still be refused (as too old to vouch for).
  EXPECT_FALSE(guard.CheckAndRecord(Author(1), Nonce(0), kNow, kNow + 100).ok());
  // So is any new claim no newer than the dropped ones.
  EXPECT_EQ(guard.CheckAndRecord(Author(2), Nonce(0), kNow + 50, kNow + 100).code(),
            StatusCode::kOutOfRange);
  // Recent entries are still remembered, and newer claims still accepted.
  EXPECT_EQ(guard.CheckAndRecord(Author(1), Nonce(99), kNow + 99, kNow + 100).code(),
            StatusCode::kAlreadyExists);
  EXPECT_TRUE(guard.CheckAndRecord(Author(2), Nonce(0), kNow + 100, kNow + 100).ok());
}

}  // namespace
}  // namespace infernet::net
