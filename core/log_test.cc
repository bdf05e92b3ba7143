#include "core/log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace infernet {
namespace {

TEST(LogTest, InitLoggingCanBeCalledAgainToChangeTheLevel) {
  ASSERT_TRUE(InitLogging("warn").ok());
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
  ASSERT_TRUE(InitLogging("debug").ok());  // e.g. the node's configured level after the flag's
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  Status bad = InitLogging("loud");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("loud"), std::string::npos);
}

}  // namespace
}  // namespace infernet
