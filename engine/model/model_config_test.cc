#include "engine/model/model_config.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"

namespace infernet {
namespace {

using gguf::Value;

// Metadata of a small, valid model of `arch`; tests then change one thing.
gguf::GgufWriter ValidWriter(const std::string& arch) {
  gguf::GgufWriter w;
  w.SetValue("general.architecture", Value::String(arch));
  w.SetValue(arch + ".context_length", Value::Uint32(256));
  w.SetValue(arch + ".embedding_length", Value::Uint32(64));
  w.SetValue(arch + ".block_count", Value::Uint32(2));
  w.SetValue(arch + ".feed_forward_length", Value::Uint32(96));
  w.SetValue(arch + ".attention.head_count", Value::Uint32(8));
  w.SetValue(arch + ".attention.layer_norm_rms_epsilon", Value::Float32(1e-6f));
  w.SetValue("tokenizer.ggml.tokens", Value::StringArray({"a", "b", "c"}));
  return w;
}

Result<ModelConfig> Read(const gguf::GgufWriter& writer) {
  const std::vector<uint8_t> bytes = writer.WriteToBuffer();
  INFERNET_ASSIGN_OR_RETURN(auto file, gguf::GgufFile::FromBuffer(bytes));
  return ReadModelConfig(*file);
}

void ExpectError(const gguf::GgufWriter& writer, StatusCode code, const std::string& mention) {
  auto config = Read(writer);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), code) << config.status().ToString();
  EXPECT_NE(config.status().message().find(mention), std::string::npos)
      << config.status().ToString();
}

TEST(ReadModelConfigTest, ReadsLlamaWithDefaults) {
  auto config = Read(ValidWriter("llama"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->arch, Architecture::kLlama);
  EXPECT_EQ(config->arch_name, "llama");
  EXPECT_EQ(config->rope_ordering, RopeOrdering::kNormal);
  EXPECT_EQ(config->n_ctx_train, 256);
  EXPECT_EQ(config->n_embd, 64);
  EXPECT_EQ(config->n_layer, 2);
  EXPECT_EQ(config->n_ff, 96);
  EXPECT_EQ(config->n_head, 8);
  EXPECT_EQ(config->n_head_kv, 8);  // defaults to the head count
  EXPECT_EQ(config->head_dim, 8);
  EXPECT_EQ(config->n_rot, 8);    // defaults to the head size
  EXPECT_EQ(config->n_vocab, 3);  // from the token list
  EXPECT_FLOAT_EQ(config->rms_eps, 1e-6f);
  EXPECT_FLOAT_EQ(config->rope_freq_base, 10000.0f);
  EXPECT_FLOAT_EQ(config->rope_freq_scale, 1.0f);
  EXPECT_TRUE(config->tied_embeddings);  // no output.weight tensor
}

TEST(ReadModelConfigTest, ReadsQwen2WithNeoxRopeAndOptionalKeys) {
  auto w = ValidWriter("qwen2");
  w.SetValue("qwen2.attention.head_count_kv", Value::Uint32(2));
  w.SetValue("qwen2.rope.freq_base", Value::Float32(1000000.0f));
  w.SetValue("qwen2.rope.dimension_count", Value::Uint32(4));
  w.SetValue("qwen2.rope.scaling.type", Value::String("linear"));
  w.SetValue("qwen2.rope.scaling.factor", Value::Float32(4.0f));
  w.SetValue("qwen2.attention.key_length", Value::Uint32(16));
  auto config = Read(w);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->arch, Architecture::kQwen2);
  EXPECT_EQ(config->rope_ordering, RopeOrdering::kNeox);
  EXPECT_EQ(config->n_head_kv, 2);
  EXPECT_EQ(config->head_dim, 16);
  EXPECT_EQ(config->n_rot, 4);
  EXPECT_FLOAT_EQ(config->rope_freq_base, 1000000.0f);
  EXPECT_FLOAT_EQ(config->rope_freq_scale, 0.25f);
}

TEST(ReadModelConfigTest, VocabularySizeFallsBackToArchKey) {
  gguf::GgufWriter w;
  w.SetValue("general.architecture", Value::String("llama"));
  for (const char* key :
       {"context_length", "embedding_length", "block_count", "feed_forward_length"}) {
    w.SetValue(std::string("llama.") + key, Value::Uint32(64));
  }
  w.SetValue("llama.attention.head_count", Value::Uint32(8));
  w.SetValue("llama.attention.layer_norm_rms_epsilon", Value::Float32(1e-5f));
  w.SetValue("llama.vocab_size", Value::Uint32(1000));
  auto config = Read(w);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->n_vocab, 1000);
}

TEST(ReadModelConfigTest, RejectsUnknownArchitecture) {
  auto w = ValidWriter("llama");
  w.SetValue("general.architecture", Value::String("gptneox"));
  ExpectError(w, StatusCode::kUnsupported, "gptneox");
}

TEST(ReadModelConfigTest, MissingRequiredKeyIsNamed) {
  gguf::GgufWriter w;
  w.SetValue("general.architecture", Value::String("llama"));
  w.SetValue("llama.context_length", Value::Uint32(64));
  ExpectError(w, StatusCode::kNotFound, "llama.embedding_length");
}

TEST(ReadModelConfigTest, RejectsInconsistentHeads) {
  auto w = ValidWriter("llama");
  w.SetValue("llama.attention.head_count", Value::Uint32(6));  // 64 % 6 != 0
  ExpectError(w, StatusCode::kInvalidArgument, "llama.attention.head_count");

  auto kv = ValidWriter("llama");
  kv.SetValue("llama.attention.head_count_kv", Value::Uint32(3));  // 8 % 3 != 0
  ExpectError(kv, StatusCode::kInvalidArgument, "llama.attention.head_count_kv");

  auto zero = ValidWriter("llama");
  zero.SetValue("llama.block_count", Value::Uint32(0));
  ExpectError(zero, StatusCode::kInvalidArgument, "llama.block_count");
}

TEST(ReadModelConfigTest, RejectsRopeDimensionsBeyondTheHead) {
  auto w = ValidWriter("llama");
  w.SetValue("llama.rope.dimension_count", Value::Uint32(10));
  ExpectError(w, StatusCode::kInvalidArgument, "llama.rope.dimension_count");
}

TEST(ReadModelConfigTest, RejectsUnsupportedRopeScaling) {
  auto w = ValidWriter("llama");
  w.SetValue("llama.rope.scaling.type", Value::String("yarn"));
  ExpectError(w, StatusCode::kUnsupported, "yarn");

  auto missing_factor = ValidWriter("llama");
  missing_factor.SetValue("llama.rope.scaling.type", Value::String("linear"));
  ExpectError(missing_factor, StatusCode::kNotFound, "llama.rope.scaling.factor");
}

TEST(ReadModelConfigTest, RejectsWrongValueTypes) {
  auto w = ValidWriter("llama");
  w.SetValue("llama.embedding_length", Value::String("64"));
  ExpectError(w, StatusCode::kInvalidArgument, "llama.embedding_length");

  auto eps = ValidWriter("llama");
  eps.SetValue("llama.attention.layer_norm_rms_epsilon", Value::Float32(-1.0f));
  ExpectError(eps, StatusCode::kInvalidArgument, "llama.attention.layer_norm_rms_epsilon");
}

}  // namespace
}  // namespace infernet
