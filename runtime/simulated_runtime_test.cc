// The simulated runtime: made-up but deterministic outputs, a lower bound on the time it costs,
// prompt cancellation and injected failures.
#include "runtime/simulated_runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace infernet::runtime {
namespace {

using Steady = std::chrono::steady_clock;

v1::TaskRequest Request(uint32_t inputs, uint32_t max_tokens, uint64_t seed = 1) {
  v1::TaskRequest request;
  request.set_model_hash(std::string(32, '\x07'));
  request.set_kind(v1::GENERATE);
  request.mutable_generation()->set_max_tokens(max_tokens);
  request.mutable_generation()->set_seed(seed);
  for (uint32_t i = 0; i < inputs; ++i) {
    v1::TaskInput* input = request.add_inputs();
    input->set_index(10 + i);
    input->set_text("prompt " + std::to_string(i));
  }
  return request;
}

std::string Bytes(const v1::TaskOutput& o) { return o.SerializeAsString(); }

TEST(SimulatedRuntimeTest, OutputsAreDeterministicAndDependOnInputAndParameters) {
  SimulatedRuntimeConfig fast{.us_per_token = 0};
  auto a = RunSimulated(Request(3, 5), fast, {});
  auto b = RunSimulated(Request(3, 5), fast, {});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->outputs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Bytes(a->outputs[i]), Bytes(b->outputs[i]));
    EXPECT_EQ(a->outputs[i].index(), 10 + i);
    EXPECT_EQ(a->outputs[i].tokens_size(), 5);
    EXPECT_EQ(a->outputs[i].finish_reason(), "length");
  }
  EXPECT_NE(Bytes(a->outputs[0]), Bytes(a->outputs[1]));  // different texts
  auto other_seed = RunSimulated(Request(3, 5, 2), fast, {});
  ASSERT_TRUE(other_seed.ok());
  EXPECT_NE(Bytes(a->outputs[0]), Bytes(other_seed->outputs[0]));
  EXPECT_EQ(a->generated_tokens, 15u);
}

TEST(SimulatedRuntimeTest, EmbeddingsAreUnitVectorsAndScoresNegative) {
  v1::TaskRequest request = Request(2, 0);
  request.set_kind(v1::EMBED);
  auto embedded = RunSimulated(request, {.us_per_token = 0}, {});
  ASSERT_TRUE(embedded.ok());
  double norm = 0;
  for (float x : embedded->outputs[0].embedding()) norm += double{x} * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  request.set_kind(v1::SCORE);
  auto scored = RunSimulated(request, {.us_per_token = 0}, {});
  ASSERT_TRUE(scored.ok());
  EXPECT_LT(scored->outputs[0].score_logprob(), 0);
}

TEST(SimulatedRuntimeTest, CostsAtLeastItsTimePerTokenAndStreamsTokens) {
  // 2 inputs x 20 tokens at 1 ms: at least 40 ms (prompt tokens add a little more).
  int tokens = 0, outputs = 0;
  ExecutionHooks hooks;
  hooks.on_token = [&](const v1::TaskEvent::Token&) { ++tokens; };
  hooks.on_output = [&](const v1::TaskOutput&) { ++outputs; };
  const auto start = Steady::now();
  auto result = RunSimulated(Request(2, 20), {.us_per_token = 1000}, hooks);
  const auto elapsed = Steady::now() - start;
  ASSERT_TRUE(result.ok());
  EXPECT_GE(elapsed, std::chrono::milliseconds(40));
  EXPECT_EQ(tokens, 40);
  EXPECT_EQ(outputs, 2);
}

TEST(SimulatedRuntimeTest, CancellationStopsTheTaskPromptly) {
  std::atomic<bool> cancel{false};
  ExecutionHooks hooks;
  hooks.is_cancelled = [&] { return cancel.load(); };
  auto running = std::async(std::launch::async, [&] {
    return RunSimulated(Request(1, 100000), {.us_per_token = 1000}, hooks);  // 100 s if not
  });
  cancel = true;
  ASSERT_EQ(running.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(running.get().status().code(), StatusCode::kCancelled);
}

TEST(SimulatedRuntimeTest, InjectedFailureIsAnInternalError) {
  auto result = RunSimulated(Request(2, 10), {.us_per_token = 100, .fail_tasks = true}, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("injected"), std::string::npos);
}

}  // namespace
}  // namespace infernet::runtime
