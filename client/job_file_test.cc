#include "client/job_file.h"
#include "client/job_request_fill.h"
#include "infernet/v1/aggregator.pb.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/hex.h"

namespace infernet::client {
namespace {

const std::string kModelHex(64, 'a');

class JobFileTest : public ::testing::Test {
 protected:
  JobFileTest() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("infernet-job-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(dir_);
  }
  ~JobFileTest() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  // Parses `job` with a valid inputs.jsonl of `inputs` next to it.
  Result<JobSpec> Parse(const std::string& job,
                        const std::string& inputs = "{\"prompt\": \"hello\"}\n") {
    Write("inputs.jsonl", inputs);
    return ParseJobFile(Write("job.json", job));
  }
  static std::string Job(const std::string& kind, const std::string& extra = "") {
    return "{\"model\": \"" + kModelHex + "\", \"kind\": \"" + kind +
           "\", \"inputs\": \"inputs.jsonl\", \"max_price_per_mtok\": 500" + extra + "}";
  }
  static void ExpectError(const Result<JobSpec>& spec, const std::string& fragment) {
    ASSERT_FALSE(spec.ok());
    EXPECT_NE(spec.status().message().find(fragment), std::string::npos)
        << spec.status().ToString();
  }

  std::filesystem::path dir_;
};

TEST_F(JobFileTest, ParsesAGenerateJobWithInputsRelativeToTheJobFile) {
  const std::string provider_hex(64, 'b');
  auto spec = Parse(Job("generate",
                        ", \"max_tokens\": 7, \"temperature\": 0.5, \"top_k\": 40, "
                        "\"top_p\": 0.9, \"seed\": 11, \"chat\": true, "
                        "\"deadline_seconds\": 30, \"provider\": {\"id\": \"" +
                            provider_hex + "\", \"address\": \"127.0.0.1:9\"}"),
                    "{\"prompt\": \"one\"}\n\n{\"prompt\": \"two\"}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(HexEncode(spec->model), kModelHex);
  EXPECT_EQ(spec->kind, v1::GENERATE);
  ASSERT_EQ(spec->inputs.size(), 2u);
  EXPECT_EQ(spec->inputs[1].text, "two");
  EXPECT_EQ(spec->generation.max_tokens(), 7u);
  EXPECT_FLOAT_EQ(spec->generation.temperature(), 0.5f);
  EXPECT_EQ(spec->generation.top_k(), 40u);
  EXPECT_FLOAT_EQ(spec->generation.top_p(), 0.9f);
  EXPECT_FLOAT_EQ(spec->generation.repetition_penalty(), 1.0f);  // default: off
  EXPECT_EQ(spec->generation.seed(), 11u);
  EXPECT_TRUE(spec->generation.chat());
  EXPECT_EQ(spec->max_price_per_mtok_micros, 500u);
  EXPECT_EQ(spec->deadline_seconds, 30);
  ASSERT_TRUE(spec->provider.has_value());
  EXPECT_EQ(spec->provider->id.ToHex(), provider_hex);
  EXPECT_EQ(spec->provider->address, "127.0.0.1:9");
}

TEST_F(JobFileTest, ParsesEmbedAndScoreInputs) {
  auto embed = Parse(Job("embed", ", \"pooling\": \"last\""), "{\"text\": \"abc\"}\n");
  ASSERT_TRUE(embed.ok()) << embed.status().ToString();
  EXPECT_EQ(embed->pooling, v1::LAST);
  EXPECT_EQ(embed->inputs[0].text, "abc");
  auto score = Parse(Job("score"), "{\"prompt\": \"The sky is\", \"continuation\": \" blue\"}\n");
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(score->inputs[0].continuation, " blue");
}

TEST_F(JobFileTest, HardwareRequirementIsInGiBAndReachesTheJobRequest) {
  auto spec = Parse(Job("generate", ", \"min_gpu_vram_gb\": 1.5"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->min_gpu_vram_bytes, uint64_t{3} << 29);
  v1::JobRequest request;
  FillFromJob(*spec, 0, &request);
  EXPECT_EQ(request.min_gpu_vram_bytes(), uint64_t{3} << 29);
  auto any = Parse(Job("generate"));
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->min_gpu_vram_bytes, 0u);
  ExpectError(Parse(Job("generate", ", \"min_gpu_vram_gb\": -1")), "\"min_gpu_vram_gb\" must be");
  ExpectError(Parse(Job("generate", ", \"min_gpu_vram_gb\": \"24\"")),
              "\"min_gpu_vram_gb\" must be");
}

TEST_F(JobFileTest, ErrorsNameTheField) {
  ExpectError(Parse("{\"kind\": \"generate\"}"), "\"model\" is required");
  ExpectError(Parse("[1, 2]"), "JSON object");
  ExpectError(Parse("{not json"), "not valid JSON");
  ExpectError(Parse(Job("generate", ", \"temprature\": 1")), "\"temprature\" is not known");
  ExpectError(Parse(Job("translate")), "\"kind\" must be");
  ExpectError(Parse(Job("generate", ", \"top_p\": 0")), "\"top_p\" must be in (0, 1]");
  ExpectError(Parse(Job("generate", ", \"max_tokens\": -3")), "\"max_tokens\" must be");
  ExpectError(Parse(Job("embed", ", \"seed\": 1")), "\"seed\" applies to generate jobs only");
  ExpectError(Parse(Job("embed", ", \"pooling\": \"max\"")), "\"pooling\" must be");
  ExpectError(Parse(Job("generate", ", \"provider\": {\"id\": \"xyz\", \"address\": \"a:1\"}")),
              "\"provider.id\" must be 64 hex digits");
  auto bad_model = Parse(
      "{\"model\": \"12\", \"kind\": \"generate\", \"inputs\": \"inputs.jsonl\", "
      "\"max_price_per_mtok\": 1}");
  ExpectError(bad_model, "\"model\" must be 64 hex digits");
}

TEST_F(JobFileTest, InputErrorsNameTheFileAndLine) {
  ExpectError(Parse(Job("generate"), "{\"prompt\": \"ok\"}\n{\"prompt\": 3}\n"),
              "inputs.jsonl line 2: \"prompt\" must be a string");
  ExpectError(Parse(Job("generate"), "{\"prompt\": \"ok\"}\n\nnot json\n"),
              "inputs.jsonl line 3: not a JSON object");
  ExpectError(Parse(Job("score"), "{\"prompt\": \"ok\"}\n"),
              "inputs.jsonl line 1: needs a non-empty \"continuation\"");
  ExpectError(Parse(Job("generate"), "{\"prompt\": \"ok\", \"extra\": \"x\"}\n"),
              "line 1: unexpected key \"extra\"");
  ExpectError(Parse(Job("generate"), "\n\n"), "has no inputs");
}

TEST_F(JobFileTest, MissingFilesAreNotFound) {
  auto missing_job = ParseJobFile(dir_ / "nope.json");
  ASSERT_FALSE(missing_job.ok());
  EXPECT_EQ(missing_job.status().code(), StatusCode::kNotFound);
  auto missing_inputs = ParseJobFile(Write("job.json", Job("generate")));
  ASSERT_FALSE(missing_inputs.ok());
  EXPECT_EQ(missing_inputs.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing_inputs.status().message().find("inputs.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace infernet::client
