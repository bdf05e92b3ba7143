// Runs shards on real providers: one Provider.RunTask call over TLS (bound to the provider's node
// id) per attempt, on its own thread; the outputs and signed result are verified before they are
// reported, and an accepted receipt is signed and sent back to the provider.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "aggregator/shard_runner.h"
#include "core/clock.h"
#include "core/identity.h"

namespace infernet::aggregator {

class GrpcShardRunner final : public ShardRunner {
 public:
  // `self` and `clock` must outlive the runner.
  GrpcShardRunner(const NodeIdentity& self, const Clock& clock) : self_(self), clock_(clock) {}
  ~GrpcShardRunner() override;  // cancels every call and joins its thread

  void Start(ShardDispatch dispatch, Done done) override;
  void Cancel(uint64_t attempt_id) override;

 private:
  struct Call {
    grpc::ClientContext context;
    bool cancelled = false;  // guarded by mutex_
    bool finished = false;   // guarded by mutex_
    std::thread thread;
  };
  void Run(uint64_t attempt_id, const ShardDispatch& dispatch, const Done& done);
  Result<std::shared_ptr<grpc::Channel>> ChannelFor(const NodeId& provider,
                                                    const std::string& address);
  void ReapFinishedLocked();

  const NodeIdentity& self_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
  std::map<NodeId, std::pair<std::string, std::shared_ptr<grpc::Channel>>> channels_;
};

}  // namespace infernet::aggregator
