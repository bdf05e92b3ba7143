#include "engine/model/context.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/model/model_weights.h"

namespace infernet {
namespace {

// Output rows go through the final norm and lm_head in chunks of this many, bounding the logits
// scratch (rows x n_vocab floats) however many entries ask for output.
constexpr int64_t kOutputChunk = 32;
// A batch runs through the layers at most this many tokens at a time. Activation scratch is sized
// by it rather than by max_batch, which keeps a long prefill's memory small; results are unchanged
// because a token's output never depends on how the batch is split (see context.h). Each chunk
// streams every weight once, so longer chunks read less per token: in alternated runs 64 gave
// +8-10 % prefill for 100m-F16 and +4 % for 100m-Q8_0 over 32 (Q4_K within noise), and 128 no
// more. ForwardChunk halves it for models so small that 64 tokens of scratch would exceed
// kMaxScratchShare of the weights (1.1 MiB saved on the 100m Q4_K test model).
constexpr int64_t kForwardChunk = 64;
constexpr int64_t kMinForwardChunk = 32;
constexpr double kMaxScratchShare = 0.02;

int64_t ForwardChunk(const ModelConfig& c, uint64_t weight_bytes) {
  const int64_t q_dim = c.n_head * c.head_dim;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  // x, xn, q, attn, k, v, gate and up: floats per token.
  const auto per_token = static_cast<double>(
      sizeof(float) * static_cast<size_t>(2 * c.n_embd + 2 * q_dim + 2 * kv_dim + 2 * c.n_ff));
  const double share =
      per_token * kForwardChunk / static_cast<double>(std::max<uint64_t>(1, weight_bytes));
  return share > kMaxScratchShare ? kMinForwardChunk : kForwardChunk;
}

}  // namespace

struct Context::Impl {
  const Model* model = nullptr;
  ContextParams params;
  std::unique_ptr<ComputeStream> stream;
  std::unique_ptr<KvCache> cache;
  std::vector<int32_t> seq_len;  // next position of each sequence

  int64_t forward_chunk = kForwardChunk;  // tokens per pass through the layers (ForwardChunk)
  // Activation scratch, scratch_rows rows each (FitScratch).
  int64_t scratch_rows = 0;
  std::unique_ptr<DeviceTensor> x, xn, q, k, v, attn, gate, up;
  // Output-row scratch, min(scratch_rows, kOutputChunk) rows.
  std::unique_ptr<DeviceTensor> out_x, out_norm, out_logits;
  // Host-side batch description, reused across calls.
  std::vector<int32_t> tokens, seqs, positions, output_rows, next_len;
  // The layers' weights as DecoderLayers takes them, filled on first use.
  std::vector<DecoderLayerWeights> layers;

  Status Validate(std::span<const BatchEntry> batch);
  void FitScratch(int64_t rows);
  void Forward();
  void EmitOutputs(std::vector<float>* logits, std::vector<float>* hidden);
};

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::Create(const Model& model, const ContextParams& params) {
  const ModelConfig& c = model.config();
  if (params.n_ctx < 1) return Status::InvalidArgument("n_ctx must be at least 1");
  if (params.n_seq < 1) return Status::InvalidArgument("n_seq must be at least 1");
  if (params.max_batch < 1) return Status::InvalidArgument("max_batch must be at least 1");
  if (params.n_threads < 0) return Status::InvalidArgument("n_threads must not be negative");
  if (!IsKvCacheType(params.kv_type)) {
    return Status::InvalidArgument("KV cache type " + std::string(TypeName(params.kv_type)) +
                                   " is not supported (expected F16 or F32)");
  }

  auto impl = std::make_unique<Impl>();
  impl->model = &model;
  impl->params = params;
  if (c.n_ctx_train > 0 && impl->params.n_ctx > c.n_ctx_train) {
    impl->params.n_ctx = static_cast<int32_t>(c.n_ctx_train);
  }
  impl->forward_chunk = ForwardChunk(c, model.weight_bytes());
  const int64_t b = std::min<int64_t>(impl->params.max_batch, impl->forward_chunk);

  Impl& m = *impl;
  m.stream = model.backend().CreateStream(params.n_threads);
  m.cache = m.stream->NewKvCache(c.n_layer, m.params.n_seq, m.params.n_ctx, c.n_head_kv, c.head_dim,
                                 m.params.kv_type);
  m.seq_len.assign(static_cast<size_t>(m.params.n_seq), 0);
  for (auto* v : {&m.tokens, &m.seqs, &m.positions, &m.output_rows}) {
    v->reserve(static_cast<size_t>(b));
  }
  m.next_len.reserve(static_cast<size_t>(m.params.n_seq));
  return std::unique_ptr<Context>(new Context(std::move(impl)));
}

// Scratch follows the calls' batch sizes: it grows to a batch's rows and shrinks once a call needs
// a quarter of it or less, so a decode loop after a long prompt does not keep the prompt's
// scratch resident (0.9-1.9 MiB on the 100m test models, 6 MiB on the 1b ones, against a decode
// step's few KiB). Reallocating costs a prefill chunk about a page fault per 4 KiB, far below the
// chunk's weight stream; results never depend on it.
void Context::Impl::FitScratch(int64_t rows) {
  if (rows <= scratch_rows && 4 * rows > scratch_rows) return;
  const ModelConfig& c = model->config();
  const int64_t q_dim = c.n_head * c.head_dim;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  ComputeStream& s = *stream;
  // Release before allocating, so the two sizes are never resident together.
  for (auto* t : {&x, &xn, &q, &k, &v, &attn, &gate, &up, &out_x, &out_norm, &out_logits}) {
    t->reset();
  }
  x = s.NewTensor(rows, c.n_embd);
  xn = s.NewTensor(rows, c.n_embd);
  q = s.NewTensor(rows, q_dim);
  k = s.NewTensor(rows, kv_dim);
  v = s.NewTensor(rows, kv_dim);
  attn = s.NewTensor(rows, q_dim);
  gate = s.NewTensor(rows, c.n_ff);
  up = s.NewTensor(rows, c.n_ff);
  const int64_t out_rows = std::min(rows, kOutputChunk);
  out_x = s.NewTensor(out_rows, c.n_embd);
  out_norm = s.NewTensor(out_rows, c.n_embd);
  out_logits = s.NewTensor(out_rows, c.n_vocab);
  scratch_rows = rows;
}

Status Context::Impl::Validate(std::span<const BatchEntry> batch) {
  if (batch.empty()) return Status::InvalidArgument("empty batch");
  if (batch.size() > static_cast<size_t>(params.max_batch)) {
    return Status::OutOfRange("batch of " + std::to_string(batch.size()) +
                              " tokens exceeds max_batch " + std::to_string(params.max_batch));
  }
  const int64_t n_vocab = model->config().n_vocab;
  next_len = seq_len;
  for (size_t i = 0; i < batch.size(); ++i) {
    const BatchEntry& e = batch[i];
    const std::string where = "batch entry " + std::to_string(i) + ": ";
    if (e.token < 0 || e.token >= n_vocab) {
      return Status::InvalidArgument(where + "token " + std::to_string(e.token) +
                                     " is outside the vocabulary of " + std::to_string(n_vocab));
    }
    if (e.seq < 0 || e.seq >= params.n_seq) {
      return Status::InvalidArgument(where + "sequence " + std::to_string(e.seq) +
                                     " is outside 0.." + std::to_string(params.n_seq - 1));
    }
    int32_t& next = next_len[static_cast<size_t>(e.seq)];
    if (e.pos != next) {
      return Status::InvalidArgument(where + "position " + std::to_string(e.pos) + " of sequence " +
                                     std::to_string(e.seq) + " should be " + std::to_string(next));
    }
    if (e.pos >= params.n_ctx) {
      return Status::OutOfRange(where + "position " + std::to_string(e.pos) +
                                " exceeds the context of " + std::to_string(params.n_ctx));
    }
    ++next;
  }
  return Status::Ok();
}

void Context::Impl::Forward() {
  const ModelConfig& c = model->config();
  const ModelWeights& w = model->weights();
  ComputeStream& s = *stream;
  const TokenSlots slots{seqs, positions};
  RopeParams q_rope{c.n_head,         c.head_dim,        c.n_rot,
                    c.rope_freq_base, c.rope_freq_scale, c.rope_ordering};
  RopeParams k_rope = q_rope;
  k_rope.n_head = c.n_head_kv;
  const AttentionParams attention{
      c.n_head, c.n_head_kv, c.head_dim,
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)))};

  s.GetRows(*w.token_embd, tokens, *x);
  if (layers.empty()) {
    for (const LayerWeights& l : w.layers) {
      layers.push_back({{l.attn_norm.get(), l.wq.get(), l.bq.get(), l.wk.get(), l.bk.get(),
                         l.wv.get(), l.bv.get(), l.wo.get()},
                        {l.ffn_norm.get(), l.ffn_gate.get(), l.ffn_up.get(), l.ffn_down.get()}});
    }
  }
  s.DecoderLayers(*x, layers, c.rms_eps, q_rope, k_rope, attention, *cache, slots,
                  {xn.get(), q.get(), k.get(), v.get(), attn.get()},
                  {xn.get(), gate.get(), up.get()});
}

void Context::Impl::EmitOutputs(std::vector<float>* logits, std::vector<float>* hidden) {
  const ModelConfig& c = model->config();
  const ModelWeights& w = model->weights();
  ComputeStream& s = *stream;
  const int64_t total = static_cast<int64_t>(output_rows.size());
  if (logits == nullptr && hidden == nullptr) return;
  for (int64_t first = 0; first < total; first += kOutputChunk) {
    const int64_t count = std::min(kOutputChunk, total - first);
    const std::span<const int32_t> rows(output_rows.data() + first, static_cast<size_t>(count));
    s.GatherRows(*x, rows, *out_x);
    s.RmsNorm(*out_x, *w.output_norm, c.rms_eps, count, *out_norm);
    if (hidden != nullptr) {
      const size_t at = hidden->size();
      hidden->resize(at + static_cast<size_t>(count * c.n_embd));
      s.CopyToHost(*out_norm, count, hidden->data() + at);
    }
    if (logits != nullptr) {
      const size_t at = logits->size();
      logits->resize(at + static_cast<size_t>(count * c.n_vocab));
      s.MatMulToHost(w.lm_head(), *out_norm, count, *out_logits, logits->data() + at);
    }
  }
}

Status Context::Decode(std::span<const BatchEntry> batch, std::vector<float>* logits,
                       std::vector<float>* hidden) {
  Impl& m = *impl_;
  INFERNET_RETURN_IF_ERROR(m.Validate(batch));
  const auto chunk = static_cast<size_t>(m.forward_chunk);
  m.FitScratch(static_cast<int64_t>(std::min(batch.size(), chunk)));
  for (size_t first = 0; first < batch.size(); first += chunk) {
    const size_t end = std::min(batch.size(), first + chunk);
    m.tokens.clear();
    m.seqs.clear();
    m.positions.clear();
    m.output_rows.clear();
    for (size_t i = first; i < end; ++i) {
      m.tokens.push_back(batch[i].token);
      m.seqs.push_back(batch[i].seq);
      m.positions.push_back(batch[i].pos);
      if (batch[i].output) m.output_rows.push_back(static_cast<int32_t>(i - first));
    }
    m.Forward();
    m.EmitOutputs(logits, hidden);
  }
  m.seq_len.swap(m.next_len);
  return Status::Ok();
}

void Context::ClearSequence(int32_t seq) {
  if (seq >= 0 && seq < impl_->params.n_seq) impl_->seq_len[static_cast<size_t>(seq)] = 0;
}

void Context::TruncateSequence(int32_t seq, int32_t pos) {
  if (seq < 0 || seq >= impl_->params.n_seq) return;
  int32_t& len = impl_->seq_len[static_cast<size_t>(seq)];
  len = std::clamp(pos, 0, len);
}

int32_t Context::SequenceLength(int32_t seq) const {
  if (seq < 0 || seq >= impl_->params.n_seq) return 0;
  return impl_->seq_len[static_cast<size_t>(seq)];
}

const Model& Context::model() const { return *impl_->model; }
const ContextParams& Context::params() const { return impl_->params; }
uint64_t Context::kv_cache_bytes() const { return impl_->cache->size_bytes(); }
int64_t Context::scratch_rows() const { return impl_->scratch_rows; }

}  // namespace infernet
