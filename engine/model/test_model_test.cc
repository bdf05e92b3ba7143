#include "engine/model/test_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/quant/quant.h"
#include "engine/testing/temp_test_model.h"

namespace infernet {
namespace {

TestModelSpec SmallSpec() {
  TestModelSpec s;
  s.n_vocab = 512;
  s.n_embd = 64;
  s.n_layer = 2;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_ff = 96;
  s.n_ctx = 128;
  s.weight_type = TensorType::kF32;
  return s;
}

void ExpectInvalid(const TestModelSpec& spec, const std::string& mentions) {
  Status s = ValidateTestModelSpec(spec);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(mentions), std::string::npos) << s.message();
}

std::vector<char> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(TestModelSpecTest, TheDefaultAndSmallSpecsAreValid) {
  EXPECT_TRUE(ValidateTestModelSpec(TestModelSpec{}).ok());
  EXPECT_TRUE(ValidateTestModelSpec(SmallSpec()).ok());
}

TEST(TestModelSpecTest, RejectsInconsistentSizesNamingTheField) {
  TestModelSpec s = SmallSpec();
  s.n_vocab = 511;
  ExpectInvalid(s, "n_vocab");
  s = SmallSpec();
  s.n_layer = 0;
  ExpectInvalid(s, "n_layer");
  s = SmallSpec();
  s.n_ff = -1;
  ExpectInvalid(s, "n_ff");
  s = SmallSpec();
  s.n_ctx = 0;
  ExpectInvalid(s, "n_ctx");
  s = SmallSpec();
  s.n_head = 5;  // 64 / 5
  ExpectInvalid(s, "n_head");
  s = SmallSpec();
  s.n_embd = 12;
  s.n_head = 4;  // head size 3 cannot be rotated in pairs
  s.n_head_kv = 4;
  ExpectInvalid(s, "even");
  s = SmallSpec();
  s.n_head_kv = 3;
  ExpectInvalid(s, "n_head_kv");
}

TEST(TestModelSpecTest, RejectsUnusableTypesAndParameters) {
  TestModelSpec s = SmallSpec();
  s.weight_type = TensorType::kQ8_K;
  ExpectInvalid(s, "Q8_K");
  s = SmallSpec();
  s.rope_freq_base = 0;
  ExpectInvalid(s, "rope_freq_base");
  s = SmallSpec();
  s.rope_scaling_factor = -2;
  ExpectInvalid(s, "rope_scaling_factor");
  s = SmallSpec();
  s.rms_eps = NAN;
  ExpectInvalid(s, "rms_eps");
}

TEST(TestModelSpecTest, ChatFormatMustMatchTheVocabulary) {
  TestModelSpec s = SmallSpec();
  s.tokenizer = TokenizerKind::kSentencePiece;
  s.chat = ChatFormat::kChatMl;
  ExpectInvalid(s, "chat format");
  s.chat = ChatFormat::kLlama2;
  EXPECT_TRUE(ValidateTestModelSpec(s).ok());
  s.tokenizer = TokenizerKind::kByteLevelBpe;
  ExpectInvalid(s, "chat format");
}

TEST(TestModelSpecTest, DefaultChatFormatFollowsArchitectureAndTokenizer) {
  EXPECT_EQ(DefaultChatFormat(Architecture::kQwen2, TokenizerKind::kByteLevelBpe),
            ChatFormat::kChatMl);
  EXPECT_EQ(DefaultChatFormat(Architecture::kLlama, TokenizerKind::kByteLevelBpe),
            ChatFormat::kLlama3);
  EXPECT_EQ(DefaultChatFormat(Architecture::kLlama, TokenizerKind::kSentencePiece),
            ChatFormat::kLlama2);
}

TEST(TestModelMatrixTypeTest, FallsBackWhenRowsDoNotFillBlocks) {
  EXPECT_EQ(TestModelMatrixType(TensorType::kQ4_K, 256), TensorType::kQ4_K);
  EXPECT_EQ(TestModelMatrixType(TensorType::kQ4_K, 128), TensorType::kQ8_0);
  EXPECT_EQ(TestModelMatrixType(TensorType::kQ4_0, 48), TensorType::kF16);
  EXPECT_EQ(TestModelMatrixType(TensorType::kBF16, 48), TensorType::kBF16);
}

TEST(WriteTestModelTest, InvalidSpecWritesNothing) {
  auto dir = MakeTempDirectory();
  ASSERT_TRUE(dir.ok());
  TestModelSpec s = SmallSpec();
  s.n_head_kv = 3;
  EXPECT_EQ(WriteTestModel(s, *dir / "m.gguf").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(*dir / "m.gguf"));
  std::filesystem::remove_all(*dir);
}

TEST(WriteTestModelTest, ReportsProgressOncePerLayerInOrder) {
  auto dir = MakeTempDirectory();
  ASSERT_TRUE(dir.ok());
  TestModelSpec s = SmallSpec();
  s.n_layer = 3;
  std::vector<std::pair<int64_t, int64_t>> calls;
  ASSERT_TRUE(WriteTestModel(s, *dir / "m.gguf", [&](int64_t done, int64_t total) {
                calls.emplace_back(done, total);
              }).ok());
  const std::vector<std::pair<int64_t, int64_t>> expected = {{1, 3}, {2, 3}, {3, 3}};
  EXPECT_EQ(calls, expected);
  std::filesystem::remove_all(*dir);
}

TEST(WriteTestModelTest, ConfigurationReadsBackAsTheSpec) {
  for (Architecture arch : {Architecture::kLlama, Architecture::kQwen2}) {
    TestModelSpec spec = SmallSpec();
    spec.arch = arch;
    spec.chat = DefaultChatFormat(arch, spec.tokenizer);
    spec.n_vocab = 600;
    spec.rope_freq_base = 50000.0f;
    spec.rms_eps = 1e-6f;
    spec.tied_embeddings = arch == Architecture::kQwen2;
    spec.rope_scaling_factor = arch == Architecture::kQwen2 ? 1.0f : 4.0f;
    auto model = TempTestModel::Create(spec);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto file = gguf::GgufFile::Open((*model)->path());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto config = ReadModelConfig(**file);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->arch, arch);
    EXPECT_EQ(config->n_vocab, spec.n_vocab);
    EXPECT_EQ(config->n_embd, spec.n_embd);
    EXPECT_EQ(config->n_layer, spec.n_layer);
    EXPECT_EQ(config->n_head, spec.n_head);
    EXPECT_EQ(config->n_head_kv, spec.n_head_kv);
    EXPECT_EQ(config->n_ff, spec.n_ff);
    EXPECT_EQ(config->n_ctx_train, spec.n_ctx);
    EXPECT_EQ(config->head_dim, spec.n_embd / spec.n_head);
    EXPECT_EQ(config->n_rot, config->head_dim);
    EXPECT_EQ(config->rope_freq_base, spec.rope_freq_base);
    EXPECT_EQ(config->rms_eps, spec.rms_eps);
    EXPECT_EQ(config->rope_freq_scale, 1.0f / spec.rope_scaling_factor);
    EXPECT_EQ(config->tied_embeddings, spec.tied_embeddings);
    // qwen2 carries q/k/v biases, llama none.
    const bool has_bias = (*file)->FindTensor("blk.1.attn_k.bias") != nullptr;
    EXPECT_EQ(has_bias, arch == Architecture::kQwen2);

    auto tokenizer = Tokenizer::FromGguf(**file);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
    EXPECT_EQ((*tokenizer)->vocab_size(), static_cast<size_t>(spec.n_vocab));
    auto chat_template = (*file)->GetString("tokenizer.chat_template");
    ASSERT_TRUE(chat_template.ok());
    auto chat = DetectChatFormat(*chat_template);
    ASSERT_TRUE(chat.ok());
    EXPECT_EQ(*chat, spec.chat);
  }
}

TEST(WriteTestModelTest, MatricesUseTheWeightTypeAndNormsStayF32) {
  TestModelSpec spec = SmallSpec();
  spec.n_embd = 256;
  spec.n_ff = 288;  // not a multiple of 256: ffn_down falls back to Q8_0
  spec.weight_type = TensorType::kQ4_K;
  auto model = TempTestModel::Create(spec);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto file = gguf::GgufFile::Open((*model)->path());
  ASSERT_TRUE(file.ok());
  const auto type_of = [&](const char* name) {
    const gguf::TensorInfo* t = (*file)->FindTensor(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? t->type : TensorType::kQ8_K;
  };
  EXPECT_EQ(type_of("token_embd.weight"), TensorType::kQ4_K);
  EXPECT_EQ(type_of("output.weight"), TensorType::kQ4_K);
  EXPECT_EQ(type_of("blk.0.attn_q.weight"), TensorType::kQ4_K);
  EXPECT_EQ(type_of("blk.0.ffn_gate.weight"), TensorType::kQ4_K);
  EXPECT_EQ(type_of("blk.0.ffn_down.weight"), TensorType::kQ8_0);
  EXPECT_EQ(type_of("blk.0.attn_norm.weight"), TensorType::kF32);
  EXPECT_EQ(type_of("output_norm.weight"), TensorType::kF32);
}

TEST(WriteTestModelTest, WeightsHaveTheDocumentedScale) {
  TestModelSpec spec = SmallSpec();
  spec.n_ff = 512;
  auto model = TempTestModel::Create(spec);
  ASSERT_TRUE(model.ok());
  auto file = gguf::GgufFile::Open((*model)->path());
  ASSERT_TRUE(file.ok());
  const auto moments = [&](const char* name) {
    const gguf::TensorInfo* t = (*file)->FindTensor(name);
    std::vector<float> v(static_cast<size_t>(t->num_elements()));
    quant::DequantizeRow(t->type, (*file)->TensorData(*t).data(), v.data(), t->num_elements());
    double sum = 0, sum_sq = 0;
    for (float x : v) sum += x;
    const double mean = sum / v.size();
    for (float x : v) sum_sq += (x - mean) * (x - mean);
    return std::pair(mean, std::sqrt(sum_sq / v.size()));
  };
  auto [q_mean, q_std] = moments("blk.0.attn_q.weight");  // fan-in 64
  EXPECT_NEAR(q_mean, 0.0, 0.01);
  EXPECT_NEAR(q_std, 1.0 / 8, 0.01);
  auto [down_mean, down_std] = moments("blk.1.ffn_down.weight");  // fan-in 512
  EXPECT_NEAR(down_std, 1.0 / std::sqrt(512.0), 0.005);
  auto [norm_mean, norm_std] = moments("blk.0.attn_norm.weight");
  EXPECT_NEAR(norm_mean, 1.0, 0.05);
  EXPECT_GT(norm_std, 0.0);
  // Distinct tensors get distinct streams.
  EXPECT_NE(moments("blk.0.ffn_gate.weight"), moments("blk.0.ffn_up.weight"));
}

TEST(WriteTestModelTest, SameSeedGivesByteIdenticalFiles) {
  TestModelSpec spec = SmallSpec();
  spec.weight_type = TensorType::kQ4_0;
  auto a = TempTestModel::Create(spec);
  auto b = TempTestModel::Create(spec);
  spec.seed = 2;
  auto c = TempTestModel::Create(spec);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const std::vector<char> bytes_a = ReadBytes((*a)->path());
  ASSERT_FALSE(bytes_a.empty());
  EXPECT_EQ(bytes_a, ReadBytes((*b)->path()));
  const std::vector<char> bytes_c = ReadBytes((*c)->path());
  EXPECT_EQ(bytes_a.size(), bytes_c.size());
  EXPECT_NE(bytes_a, bytes_c);
}

}  // namespace
}  // namespace infernet
