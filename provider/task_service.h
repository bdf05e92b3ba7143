// The Provider gRPC service (docs/protocol.md §4, §6): runs clients' signed task requests on the
// native engine and streams the outputs and a signed result; records clients' receipts; serves
// model manifests and chunks when given a ModelChunkServer.
//
// RunTask checks, in order: the envelope (signature, author, freshness, replay), that the request
// is addressed to this node, the ids' sizes, that the model is held, the price, the inputs
// (count, sizes, indices, parameters), then admission (queue and deadline). The first failure is
// the one reported, as an Error event and the matching gRPC status. Then: Accepted, Token events
// while generating, one TaskOutput per input in input order, and the signed TaskResult.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "infernet/v1/service.grpc.pb.h"
#include "net/replay_guard.h"
#include "net/signed_envelope.h"
#include "provider/admission_queue.h"
#include "provider/held_models.h"
#include "provider/model_chunk_server.h"
#include "provider/task_executor.h"
#include "runtime/simulated_runtime.h"

namespace infernet::provider {

struct ProviderConfig {
  uint64_t price_per_mtok_micros = 0;   // price per million (prompt + generated) tokens
  uint32_t max_inputs = 1024;           // inputs per task
  uint32_t max_input_bytes = 64 << 10;  // text (+ continuation) bytes per input
  uint32_t max_tokens_limit = 4096;     // largest generation.max_tokens accepted
  AdmissionLimits admission;
  ExecutionLimits execution;
  net::FreshnessPolicy freshness;
  size_t replay_capacity = 1 << 16;
  v1::EngineInfo engine;  // reported in results (backend, kernel level, version)
  // "native": tasks run on the engine; "simulated": on runtime/simulated_runtime.h (made-up
  // outputs after a time per token; results report the backend "simulated").
  std::string runtime = "native";
  runtime::SimulatedRuntimeConfig simulated;
  std::string software_version;
  // Test seam: called after each streamed token with the task's cancellation predicate.
  std::function<void(const std::function<bool()>& is_cancelled)> after_token_for_testing;
};

// Counters for observation (tests, metrics).
struct TaskCounters {
  uint64_t completed = 0;
  uint64_t cancelled = 0;
  uint64_t failed = 0;   // errors after acceptance (engine failures)
  uint64_t refused = 0;  // errors before acceptance
};

class TaskService final : public v1::Provider::Service {
 public:
  // `identity`, `clock` and `chunks` (may be null: manifests/chunks UNIMPLEMENTED) must outlive
  // the service.
  TaskService(const NodeIdentity& identity, const Clock& clock, ModelLocator models,
              ProviderConfig config, ModelChunkServer* chunks = nullptr);

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                    v1::PingResponse* response) override;
  grpc::Status RunTask(grpc::ServerContext* context, const v1::SignedEnvelope* request,
                       grpc::ServerWriter<v1::TaskEvent>* writer) override;
  grpc::Status SubmitReceipt(grpc::ServerContext* context, const v1::SignedEnvelope* request,
                             v1::ReceiptAck* response) override;
  grpc::Status GetModelManifest(grpc::ServerContext* context, const v1::ManifestRequest* request,
                                v1::SignedEnvelope* response) override;
  grpc::Status GetModelChunk(grpc::ServerContext* context, const v1::ChunkRequest* request,
                             v1::Chunk* response) override;

  TaskCounters counters() const;
  // Blocks until `done(counters())` holds or `timeout_ms` passes; returns whether it held.
  bool WaitForCounters(const std::function<bool(const TaskCounters&)>& done, int64_t timeout_ms);
  // Verified receipts by task id (in memory; persistence is the node's business).
  std::map<std::string, v1::TaskReceipt> receipts() const;
  const AdmissionQueue& admission() const { return admission_; }

 private:
  struct Accepted;
  // Checks everything before admission; on success fills `*accepted`.
  bool Screen(const v1::SignedEnvelope& envelope, Accepted* accepted, v1::Error* error);
  grpc::Status Refuse(grpc::ServerWriter<v1::TaskEvent>* writer, const v1::Error& error,
                      uint64_t TaskCounters::*counter);
  void Count(uint64_t TaskCounters::*counter);

  const NodeIdentity& identity_;
  const Clock& clock_;
  HeldModels models_;
  const ProviderConfig config_;
  ModelChunkServer* chunks_;
  net::ReplayGuard request_replay_;
  net::ReplayGuard receipt_replay_;
  AdmissionQueue admission_;

  mutable std::mutex mutex_;
  std::condition_variable counters_changed_;
  TaskCounters counters_;
  std::map<std::string, v1::TaskReceipt> receipts_;  // by task id
  struct Completed {
    NodeId client;
    std::string result_hash;
  };
  std::map<std::string, Completed> completed_;  // by task id, awaiting a receipt
};

}  // namespace infernet::provider
