// Random-weight GGUF models for tests, benchmarks and the demo (`infernet model make-test`).
//
// The weights are a pure function of the spec: the same spec (seed included) always produces a
// byte-identical file, so tests and benchmarks on different machines use the same model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "core/status.h"
#include "engine/model/model_config.h"
#include "engine/tensor_type.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {

struct TestModelSpec {
  Architecture arch = Architecture::kLlama;
  int64_t n_vocab = 1024;  // >= 512 (the synthetic vocabulary needs its 256 byte tokens and more)
  int64_t n_embd = 128;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 2;
  int64_t n_ff = 384;
  int64_t n_ctx = 512;  // training context length written to the metadata
  // Type of every weight matrix, the token embeddings and the output matrix. A matrix whose row
  // length is not a multiple of the type's block size falls back to Q8_0, then F16 (as llama.cpp's
  // quantizer does). Norms and biases are always F32.
  TensorType weight_type = TensorType::kQ8_0;
  bool tied_embeddings = false;  // no output.weight; logits use token_embd.weight
  uint64_t seed = 1;
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-5f;
  // Linear RoPE scaling ({arch}.rope.scaling.type = "linear"): positions are divided by this
  // factor. 1 writes no scaling keys.
  float rope_scaling_factor = 1.0f;
  TokenizerKind tokenizer = TokenizerKind::kByteLevelBpe;
  // ChatML and Llama3 need the byte-level BPE vocabulary, Llama2 the SentencePiece one.
  ChatFormat chat = ChatFormat::kLlama3;
};

// The chat format the CLI pairs with an architecture and tokenizer: ChatML for qwen2, Llama3 for
// llama with BPE, Llama2 for llama with SentencePiece.
ChatFormat DefaultChatFormat(Architecture arch, TokenizerKind tokenizer);

// INVALID_ARGUMENT naming the field: non-positive sizes, n_vocab < 512, heads that do not divide
// the width (or an odd head size, which RoPE cannot rotate), KV heads that do not divide the
// heads, an unsupported weight type (Q8_K), a non-positive RoPE base or epsilon, or a chat format
// the tokenizer has no special tokens for.
Status ValidateTestModelSpec(const TestModelSpec& spec);

// Validates `spec` and writes the model to `path` (atomically: a temporary file is renamed).
// Memory: the quantized weights once (the writer's buffers) plus one float row per thread.
// Prints nothing; callers show progress through `on_layer_written(layers_done, n_layer)`, called
// on the calling thread after each transformer block is generated.
using TestModelProgress = std::function<void(int64_t layers_done, int64_t n_layer)>;
Status WriteTestModel(const TestModelSpec& spec, const std::filesystem::path& path,
                      const TestModelProgress& on_layer_written = nullptr);

// The type `WriteTestModel` stores a matrix of rows of `row_length` elements as.
TensorType TestModelMatrixType(TensorType weight_type, int64_t row_length);

}  // namespace infernet
