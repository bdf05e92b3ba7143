#include "bench/plain_flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace infernet::bench {
namespace {

struct Values {
  std::string model;
  int threads = 2;
  double seconds = 1.0;
  std::string kv = "f16";
  bool skip = false;
};

class PlainFlagsTest : public ::testing::Test {
 protected:
  PlainFlagsTest() {
    parser_.Add("model", &v_.model, "model file", {}, /*required=*/true);
    parser_.Add("threads", &v_.threads, "threads", 1, 256);
    parser_.Add("segment-seconds", &v_.seconds, "seconds", 0.0, 60.0);
    parser_.Add("kv-type", &v_.kv, "KV type", {"f16", "f32"});
    parser_.AddSwitch("skip-limits", &v_.skip, "skip");
  }

  Status Parse(std::vector<const char*> args) {
    args.insert(args.begin(), "bench");
    return parser_.Parse(static_cast<int>(args.size()), args.data(), &help_);
  }

  Values v_;
  bool help_ = false;
  PlainFlags parser_{"test program"};
};

TEST_F(PlainFlagsTest, SetsEveryKindBothSpellings) {
  ASSERT_TRUE(Parse({"--model", "m.gguf", "--threads=8", "--segment-seconds", "2.5",
                     "--kv-type=f32", "--skip-limits"})
                  .ok());
  EXPECT_FALSE(help_);
  EXPECT_EQ(v_.model, "m.gguf");
  EXPECT_EQ(v_.threads, 8);
  EXPECT_DOUBLE_EQ(v_.seconds, 2.5);
  EXPECT_EQ(v_.kv, "f32");
  EXPECT_TRUE(v_.skip);
}

TEST_F(PlainFlagsTest, KeepsDefaultsOfAbsentFlags) {
  ASSERT_TRUE(Parse({"--model=m"}).ok());
  EXPECT_EQ(v_.threads, 2);
  EXPECT_DOUBLE_EQ(v_.seconds, 1.0);
  EXPECT_EQ(v_.kv, "f16");
  EXPECT_FALSE(v_.skip);
}

TEST_F(PlainFlagsTest, ErrorsNameTheFlag) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--threads", "4"}, "--model is required"},
      {{"--model", "m", "--threads", "0"}, "--threads 0: outside [1, 256]"},
      {{"--model", "m", "--threads", "2x"}, "--threads 2x: not a whole number"},
      {{"--model", "m", "--threads", "99999999999999999999"}, "--threads"},
      {{"--model", "m", "--segment-seconds", "nan"}, "--segment-seconds nan: not a number"},
      {{"--model", "m", "--segment-seconds=-1"}, "outside [0, 60]"},
      {{"--model", "m", "--kv-type", "q8"}, "--kv-type q8: not one of the allowed values"},
      {{"--model", "m", "--bogus", "1"}, "unknown flag --bogus"},
      {{"--model", "m", "--threads"}, "--threads needs a value"},
      {{"--model", "m", "--threads="}, "--threads: empty value"},
      {{"--model", "m", "--skip-limits=yes"}, "--skip-limits takes no value"},
      {{"--model", "m", "extra"}, "unexpected argument 'extra'"},
  };
  for (const auto& [args, expected] : cases) {
    const Status status = Parse(args);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << expected;
    EXPECT_NE(status.message().find(expected), std::string::npos)
        << status.message() << " lacks " << expected;
  }
}

TEST_F(PlainFlagsTest, HelpWinsOverErrors) {
  ASSERT_TRUE(Parse({"--bogus", "-h"}).ok());
  EXPECT_TRUE(help_);
  const std::string usage = parser_.Usage("bench");
  EXPECT_NE(usage.find("test program"), std::string::npos);
  EXPECT_NE(usage.find("--threads NUMBER"), std::string::npos);
  EXPECT_NE(usage.find("[1-256, default 2]"), std::string::npos);
  EXPECT_NE(usage.find("[f16, f32, default f16]"), std::string::npos);
  EXPECT_NE(usage.find("(required)"), std::string::npos);
  EXPECT_NE(usage.find("--skip-limits"), std::string::npos);
}

}  // namespace
}  // namespace infernet::bench
