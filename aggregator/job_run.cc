#include "aggregator/job_run.h"

#include "aggregator/cost_model.h"
#include "core/hex.h"

namespace infernet::aggregator {

std::string JobIdHex(const std::string& job_id) {
  return HexEncode({reinterpret_cast<const uint8_t*>(job_id.data()), job_id.size()});
}

JobRun::JobRun(std::string job_id, v1::JobRequest request, v1::SignedEnvelope envelope,
               uint64_t model_bytes, int64_t started_ms_in)
    : started_ms(started_ms_in),
      job_id_(std::move(job_id)),
      request_(std::move(request)),
      envelope_(std::move(envelope)),
      model_bytes_(model_bytes) {
  if (inputs_total() > 0) pending_.insert({0, inputs_total()});
  input_cost_.reserve(inputs_total());
  for (const v1::TaskInput& input : request_.inputs()) {
    input_cost_.push_back(InputCost(input, request_.kind(), request_.generation(), 1'000'000'000));
  }
}

double JobRun::RangeCost(const InputRange& range) const {
  double units = 0;
  for (uint32_t i = range.first; i < range.end(); ++i) units += input_cost_[i];
  return units * static_cast<double>(std::max<uint64_t>(model_bytes_, 1)) / 1e9;
}

void JobRun::Restore(std::vector<StoredShard> shards) {
  for (StoredShard& shard : shards) {
    // Remove [first, end) from the pending ranges (they start as one range; stored shards never
    // overlap).
    const InputRange done{shard.first_index, shard.count};
    auto it = pending_.upper_bound(done);
    if (it != pending_.begin()) --it;
    if (it == pending_.end() || it->first > done.first || it->end() < done.end()) continue;
    const InputRange whole = *it;
    pending_.erase(it);
    if (whole.first < done.first) pending_.insert({whole.first, done.first - whole.first});
    if (done.end() < whole.end()) pending_.insert({done.end(), whole.end() - done.end()});
    dispatches += shard.attempts;
    retries += static_cast<uint32_t>(shard.failed_attempts.size());
    MarkDone(std::move(shard));
  }
}

InputRange JobRun::TakeShard(double budget_units) {
  InputRange first = *pending_.begin();
  pending_.erase(pending_.begin());
  const double scale = static_cast<double>(std::max<uint64_t>(model_bytes_, 1)) / 1e9;
  uint32_t count = 0;
  double units = 0;
  while (count < first.count) {
    const double next = input_cost_[first.first + count] * scale;
    if (count > 0 && units + next > budget_units) break;
    units += next;
    ++count;
  }
  if (count < first.count) pending_.insert({first.first + count, first.count - count});
  return {first.first, count};
}

void JobRun::ReturnRange(const InputRange& range) { pending_.insert(range); }

void JobRun::MarkDone(StoredShard shard) {
  const uint32_t first = shard.first_index;
  inputs_done_ += shard.count;
  done_.emplace(first, std::move(shard));
}

void JobRun::AppendShardEvents(const StoredShard& shard, std::vector<v1::JobEvent>* events) {
  v1::JobEvent& head = events->emplace_back();
  v1::ShardDone* done = head.mutable_shard();
  done->set_first_index(shard.first_index);
  done->set_count(shard.count);
  done->set_provider_id(std::string(shard.provider.bytes.begin(), shard.provider.bytes.end()));
  done->set_attempts(shard.attempts);
  for (const std::string& note : shard.failed_attempts) done->add_failed_attempts(note);
  *done->mutable_task_request() = shard.task_request;
  *done->mutable_task_result() = shard.task_result;
  done->set_started_ms(shard.started_ms);
  done->set_finished_ms(shard.finished_ms);
  for (const v1::TaskOutput& output : shard.outputs) {
    *events->emplace_back().mutable_output() = output;
  }
}

std::vector<v1::JobEvent> JobRun::TakeStreamableEvents(bool build) {
  std::vector<v1::JobEvent> events;
  for (auto it = done_.find(stream_next_); it != done_.end(); it = done_.find(stream_next_)) {
    if (build) AppendShardEvents(it->second, &events);
    stream_next_ = it->second.first_index + it->second.count;
  }
  return events;
}

std::vector<v1::JobEvent> JobRun::ReplayEvents() const {
  std::vector<v1::JobEvent> events;
  for (const auto& [first, shard] : done_) {
    if (first >= stream_next_) break;
    AppendShardEvents(shard, &events);
  }
  return events;
}

}  // namespace infernet::aggregator
