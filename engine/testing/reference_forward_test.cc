// Properties the reference must have on its own, so that agreement with the engine means
// something: causality, and a position-0 output that needs no attention arithmetic.
#include "engine/testing/reference_forward.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/testing/temp_test_model.h"

namespace infernet {
namespace {

class ReferenceForwardTest : public testing::TestWithParam<Architecture> {
 protected:
  void SetUp() override {
    TestModelSpec spec;
    spec.arch = GetParam();
    spec.chat = DefaultChatFormat(spec.arch, spec.tokenizer);
    spec.weight_type = TensorType::kF32;
    spec.n_vocab = 512;
    spec.n_embd = 64;
    spec.n_ff = 96;
    auto model = TempTestModel::Create(spec);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(*model);
    auto file = gguf::GgufFile::Open(model_->path());
    ASSERT_TRUE(file.ok());
    file_ = std::move(*file);
    auto reference = ReferenceModel::Load(*file_);
    ASSERT_TRUE(reference.ok()) << reference.status().ToString();
    reference_ = std::move(*reference);
  }
  std::unique_ptr<TempTestModel> model_;
  std::unique_ptr<gguf::GgufFile> file_;
  std::unique_ptr<ReferenceModel> reference_;
};

TEST_P(ReferenceForwardTest, OutputsHaveTheModelsShape) {
  const std::vector<TokenId> tokens = {1, 2, 3};
  const ReferenceOutput out = reference_->Forward(tokens);
  ASSERT_EQ(out.logits.size(), 3u);
  ASSERT_EQ(out.hidden.size(), 3u);
  EXPECT_EQ(out.logits[0].size(), 512u);
  EXPECT_EQ(out.hidden[0].size(), 64u);
}

TEST_P(ReferenceForwardTest, IsCausal) {
  const std::vector<TokenId> a = {10, 11, 12, 13, 14};
  const std::vector<TokenId> b = {10, 11, 12, 99, 98, 97};
  const ReferenceOutput out_a = reference_->Forward(a);
  const ReferenceOutput out_b = reference_->Forward(b);
  for (size_t t = 0; t < 3; ++t) EXPECT_EQ(out_a.logits[t], out_b.logits[t]) << t;
  EXPECT_NE(out_a.logits[3], out_b.logits[3]);
}

TEST_P(ReferenceForwardTest, LaterPositionsDependOnEarlierTokensAndOrder) {
  const ReferenceOutput ab = reference_->Forward(std::vector<TokenId>{20, 30, 40});
  const ReferenceOutput ba = reference_->Forward(std::vector<TokenId>{30, 20, 40});
  // Same multiset of earlier tokens, different order: RoPE makes position matter.
  EXPECT_NE(ab.logits[2], ba.logits[2]);
}

TEST_P(ReferenceForwardTest, MissingTensorIsReported) {
  gguf::GgufWriter writer;
  for (const auto& [key, value] : file_->metadata()) {
    if (key != "general.alignment") writer.SetValue(key, value);
  }
  for (const gguf::TensorInfo& t : file_->tensors()) {
    if (t.name == "blk.1.ffn_up.weight") continue;
    std::span<const uint8_t> data = file_->TensorData(t);
    ASSERT_TRUE(writer.AddTensor(t.name, t.shape, t.type, {data.begin(), data.end()}).ok());
  }
  const std::vector<uint8_t> bytes = writer.WriteToBuffer();
  auto file = gguf::GgufFile::FromBuffer(bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto reference = ReferenceModel::Load(**file);
  EXPECT_EQ(reference.status().code(), StatusCode::kNotFound);
  EXPECT_NE(reference.status().message().find("blk.1.ffn_up.weight"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BothArchitectures, ReferenceForwardTest,
                         testing::Values(Architecture::kLlama, Architecture::kQwen2));

}  // namespace
}  // namespace infernet
