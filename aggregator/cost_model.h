// How much work an input is, and how much of it a provider does per second. One cost unit is one
// gigabyte of weights streamed: a generated token reads the whole model once, a prompt token
// (batched prefill) about a tenth of that. So cost = (generated + prompt / 10) × model GB, and
// a provider's speed is in cost units per second — comparable across models, and guessable from
// memory bandwidth before anything has been measured.
#pragma once

#include <cstdint>

#include "infernet/v1/task.pb.h"

namespace infernet::aggregator {

// Prompt tokens of a text, estimated without the model's tokenizer (~4 bytes per token).
uint32_t EstimatePromptTokens(const v1::TaskInput& input);

// Cost units of one input of a task of `kind` on a model of `model_bytes`.
double InputCost(const v1::TaskInput& input, v1::TaskKind kind,
                 const v1::GenerationParams& generation, uint64_t model_bytes);

// A provider's speed in cost units per second: measured (an exponentially weighted mean of
// finished shards) once it has finished one, else guessed from its hardware.
class SpeedEstimate {
 public:
  explicit SpeedEstimate(double guess_units_per_s) : units_per_s_(guess_units_per_s) {}
  double units_per_s() const { return units_per_s_; }
  bool measured() const { return measured_; }
  // A shard of `units` that took `elapsed_ms` (queueing and transport included: that is what the
  // aggregator waits for).
  void Observe(double units, double elapsed_ms);

 private:
  double units_per_s_;
  bool measured_ = false;
};

// A first guess of speed from hardware: the memory bandwidth of its fastest GPU, else
// `cpu_bandwidth_bytes_per_s`, at half efficiency.
double GuessUnitsPerSecond(uint64_t gpu_bandwidth_bytes_per_s, uint64_t cpu_bandwidth_bytes_per_s);

}  // namespace infernet::aggregator
