#include "provider/output_hash.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace infernet::provider {
namespace {

v1::TaskOutput SampleOutput() {
  v1::TaskOutput output;
  output.set_index(3);
  output.set_text("hi");
  output.add_tokens(7);
  output.add_logprobs(-0.5f);
  output.set_prompt_tokens(4);
  output.set_finish_reason("eos");
  return output;
}

TEST(OutputHashTest, CanonicalBytesFollowTheDocumentedLayout) {
  std::string expected("infernet/v1/TaskOutput\0", 23);
  expected += std::string("\x03\0\0\0", 4);                  // index
  expected += std::string("\x02\0\0\0\0\0\0\0", 8) + "hi";   // text
  expected += std::string("\x01\0\0\0\0\0\0\0", 8);          // tokens count
  expected += std::string("\x07\0\0\0", 4);                  // token 7
  expected += std::string("\x01\0\0\0\0\0\0\0", 8);          // logprobs count
  expected += std::string("\0\0\0\xbf", 4);                  // -0.5f = 0xBF000000
  expected += std::string(8, '\0');                          // embedding count 0
  expected += std::string(8, '\0');                          // score 0.0
  expected += std::string("\x04\0\0\0", 4);                  // prompt_tokens
  expected += std::string("\x03\0\0\0\0\0\0\0", 8) + "eos";  // finish_reason
  EXPECT_EQ(CanonicalOutputBytes(SampleOutput()), expected);
  EXPECT_EQ(OutputHash(SampleOutput()), Blake2b256(expected));
}

TEST(OutputHashTest, EveryFieldChangesTheHash) {
  const Digest32 base = OutputHash(SampleOutput());
  std::vector<std::function<void(v1::TaskOutput&)>> edits = {
      [](auto& o) { o.set_index(4); },
      [](auto& o) { o.set_text("hj"); },
      [](auto& o) { o.set_tokens(0, 8); },
      [](auto& o) { o.set_logprobs(0, -0.25f); },
      [](auto& o) { o.add_embedding(0.0f); },
      [](auto& o) { o.set_score_logprob(-0.0); },  // sign bit alone matters
      [](auto& o) { o.set_prompt_tokens(5); },
      [](auto& o) { o.set_finish_reason("length"); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    v1::TaskOutput edited = SampleOutput();
    edits[i](edited);
    EXPECT_NE(OutputHash(edited), base) << "edit " << i;
  }
}

TEST(OutputHashTest, LengthPrefixesKeepFieldBoundaries) {
  // "ab" + "" and "a" + "b" must differ even though the concatenated bytes are equal.
  v1::TaskOutput a, b;
  a.set_text("ab");
  b.set_text("a");
  b.set_finish_reason("b");
  EXPECT_NE(OutputHash(a), OutputHash(b));
}

TEST(OutputHashTest, OutputsHashIsBlake2bOfTheConcatenatedHashes) {
  v1::TaskOutput second = SampleOutput();
  second.set_index(4);
  const std::vector<Digest32> hashes = {OutputHash(SampleOutput()), OutputHash(second)};
  std::string concatenated(reinterpret_cast<const char*>(hashes[0].data()), 32);
  concatenated.append(reinterpret_cast<const char*>(hashes[1].data()), 32);
  EXPECT_EQ(OutputsHash(hashes), Blake2b256(concatenated));
  const std::vector<Digest32> swapped = {hashes[1], hashes[0]};
  EXPECT_NE(OutputsHash(swapped), OutputsHash(hashes));
}

}  // namespace
}  // namespace infernet::provider
