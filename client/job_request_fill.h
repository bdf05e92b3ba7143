// What a job file says, written into a request: TaskRequest (a direct job) and JobRequest (through
// an aggregator) share these fields by design (docs/protocol.md §4.1, §7).
#pragma once

#include <cstdint>
#include <string>

#include "client/job_file.h"

namespace infernet::client {

// Model, kind, inputs with indices 0..n-1, generation parameters or pooling, price cap, and a
// deadline of now + job.deadline_seconds.
template <class Request>
void FillFromJob(const JobSpec& job, int64_t now_ms, Request* request) {
  request->set_model_hash(std::string(job.model.begin(), job.model.end()));
  request->set_kind(job.kind);
  for (size_t i = 0; i < job.inputs.size(); ++i) {
    auto* input = request->add_inputs();
    input->set_index(static_cast<uint32_t>(i));
    input->set_text(job.inputs[i].text);
    input->set_continuation(job.inputs[i].continuation);
  }
  if (job.kind == v1::GENERATE) *request->mutable_generation() = job.generation;
  if (job.kind == v1::EMBED) request->set_pooling(job.pooling);
  request->set_max_price_per_mtok_micros(job.max_price_per_mtok_micros);
  request->set_deadline_ms(now_ms + job.deadline_seconds * 1000);
  // A task goes to one chosen provider; only a job still has providers to choose among.
  if constexpr (requires { request->set_min_gpu_vram_bytes(uint64_t{0}); }) {
    request->set_min_gpu_vram_bytes(job.min_gpu_vram_bytes);
  }
}

}  // namespace infernet::client
