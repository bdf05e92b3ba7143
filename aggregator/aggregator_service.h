// The Aggregator gRPC service (docs/protocol.md §7): takes clients' signed jobs, hands them to the
// coordinator and streams each job's events back; lets a client re-attach to its job after a
// dropped connection or an aggregator restart.
//
// SubmitJob checks, in order: the envelope (signature, author, freshness, replay), the addressee,
// ids' sizes, the inputs (count, indices 0..n-1, sizes), the parameters and the deadline. The
// first failure is reported as an Error event and the matching gRPC status.
#pragma once

#include <grpcpp/grpcpp.h>

#include "aggregator/coordinator.h"
#include "core/clock.h"
#include "core/identity.h"
#include "infernet/v1/service.grpc.pb.h"
#include "net/replay_guard.h"
#include "net/signed_envelope.h"

namespace infernet::aggregator {

struct AggregatorLimits {
  uint32_t max_inputs = 100000;
  uint32_t max_input_bytes = 64 << 10;
  uint32_t max_tokens_limit = 4096;
  net::FreshnessPolicy freshness;
  size_t replay_capacity = 1 << 16;
  std::string software_version;
};

class AggregatorService final : public v1::Aggregator::Service {
 public:
  // All references must outlive the service.
  AggregatorService(const NodeIdentity& identity, const Clock& clock, Coordinator& coordinator,
                    AggregatorLimits limits);

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                    v1::PingResponse* response) override;
  grpc::Status SubmitJob(grpc::ServerContext* context, const v1::SignedEnvelope* request,
                         grpc::ServerWriter<v1::JobEvent>* writer) override;
  grpc::Status AttachJob(grpc::ServerContext* context, const v1::SignedEnvelope* request,
                         grpc::ServerWriter<v1::JobEvent>* writer) override;

 private:
  // Checks a job request; fills `error` and returns false on the first problem.
  bool Screen(const v1::SignedEnvelope& envelope, v1::JobRequest* request, NodeId* client,
              v1::Error* error);
  grpc::Status Stream(grpc::ServerContext* context, const std::string& job_id, const NodeId& client,
                      bool resumed, uint32_t inputs, grpc::ServerWriter<v1::JobEvent>* writer);

  const NodeIdentity& identity_;
  const Clock& clock_;
  Coordinator& coordinator_;
  const AggregatorLimits limits_;
  net::ReplayGuard replay_;
};

}  // namespace infernet::aggregator
