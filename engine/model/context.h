// An inference context: KV cache for up to `n_seq` sequences of up to `n_ctx` positions, and the
// batched forward pass. Several sequences may be advanced in one Decode() call.
//
// Determinism: the logits/hidden state of a token depend only on the model, the token, and the
// tokens before it in its own sequence — not on thread count, batch size, or which other sequences
// share the batch. Tests hold the engine to this bit for bit.
//
// Thread-safety: a Context is used by one thread at a time; several Contexts may share a Model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/result.h"
#include "engine/tensor_type.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {

class Model;

struct ContextParams {
  int32_t n_ctx = 2048;     // positions per sequence (clamped to the model's training context)
  int32_t n_seq = 1;        // independent sequences
  int32_t n_threads = 0;    // 0 = hardware concurrency
  int32_t max_batch = 512;  // tokens per forward pass; longer inputs are split by callers
  // How the KV cache stores keys and values: F16 (half the memory and the bytes attention reads)
  // or F32. Outputs depend on it, so nodes that must agree on bits use the same type.
  TensorType kv_type = TensorType::kF16;
};

struct BatchEntry {
  TokenId token;
  int32_t seq;          // 0 <= seq < n_seq
  int32_t pos;          // position within its sequence; must be that sequence's next position
  bool output = false;  // return logits (and hidden state) for this entry
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> Create(const Model& model, const ContextParams& params);
  ~Context();

  // Runs the forward pass over `batch` (1..max_batch entries), appending K/V to the cache.
  // For entries with `output`, in batch order, appends n_vocab logits to `logits` and, when
  // `hidden` is non-null, n_embd values of the final normed hidden state to `hidden`.
  // Errors (INVALID_ARGUMENT / OUT_OF_RANGE) leave the cache unchanged.
  Status Decode(std::span<const BatchEntry> batch, std::vector<float>* logits,
                std::vector<float>* hidden = nullptr);

  // Forgets sequence `seq` (its next position becomes 0).
  void ClearSequence(int32_t seq);
  // Drops positions >= `pos` of `seq` (e.g. to re-run from a shared prefix).
  void TruncateSequence(int32_t seq, int32_t pos);
  int32_t SequenceLength(int32_t seq) const;

  const Model& model() const;
  const ContextParams& params() const;
  // Bytes held by the KV cache.
  uint64_t kv_cache_bytes() const;
  // Tokens the activation scratch holds now: the last call's batch, capped at the forward chunk
  // (scratch shrinks when a call needs a quarter of it or less); 0 before the first call.
  int64_t scratch_rows() const;

 private:
  struct Impl;
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace infernet
