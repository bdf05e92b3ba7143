#include "aggregator/grpc_shard_runner.h"

#include <spdlog/spdlog.h>

#include "aggregator/shard_request.h"
#include "client/direct_job.h"
#include "core/hash.h"
#include "core/log.h"
#include "infernet/v1/service.grpc.pb.h"
#include "net/channel_options.h"
#include "net/signed_envelope.h"

namespace infernet::aggregator {
namespace {
constexpr int64_t kReceiptTimeoutMs = 5000;
}

GrpcShardRunner::~GrpcShardRunner() {
  std::map<uint64_t, std::unique_ptr<Call>> calls;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, call] : calls_) {
      call->cancelled = true;
      call->context.TryCancel();
    }
    calls.swap(calls_);
  }
  for (auto& [id, call] : calls) {
    if (call->thread.joinable()) call->thread.join();
  }
}

Result<std::shared_ptr<grpc::Channel>> GrpcShardRunner::ChannelFor(const NodeId& provider,
                                                                   const std::string& address) {
  auto it = channels_.find(provider);
  if (it != channels_.end() && it->second.first == address) return it->second.second;
  INFERNET_ASSIGN_OR_RETURN(auto channel, net::DialNode(self_, provider, address));
  channels_[provider] = {address, channel};
  return channel;
}

void GrpcShardRunner::ReapFinishedLocked() {
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second->finished) {
      if (it->second->thread.joinable()) it->second->thread.join();
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
}

void GrpcShardRunner::Start(ShardDispatch dispatch, Done done) {
  std::lock_guard lock(mutex_);
  ReapFinishedLocked();
  auto call = std::make_unique<Call>();
  call->context.set_deadline(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(dispatch.deadline_ms)));
  const uint64_t id = dispatch.attempt_id;
  Call* raw = call.get();
  calls_.emplace(id, std::move(call));
  raw->thread = std::thread([this, id, dispatch = std::move(dispatch), done = std::move(done)] {
    Run(id, dispatch, done);
  });
}

void GrpcShardRunner::Cancel(uint64_t attempt_id) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(attempt_id);
  if (it == calls_.end() || it->second->finished) return;
  it->second->cancelled = true;
  it->second->context.TryCancel();
}

void GrpcShardRunner::Run(uint64_t attempt_id, const ShardDispatch& dispatch, const Done& done) {
  Call* call;
  Result<std::shared_ptr<grpc::Channel>> channel = Status::Internal("unset");
  {
    std::lock_guard lock(mutex_);
    call = calls_.at(attempt_id).get();
    channel = ChannelFor(dispatch.provider, dispatch.address);
  }
  ShardOutcome outcome;
  outcome.attempt_id = attempt_id;
  outcome.task_request = SealShardRequest(dispatch);
  std::unique_ptr<v1::Provider::Stub> stub;
  if (!channel.ok()) {
    outcome.status = channel.status();
  } else {
    stub = v1::Provider::NewStub(*channel);
    auto collected = client::CollectTaskOn(call->context, *stub, outcome.task_request, nullptr);
    if (!collected.ok()) {
      outcome.status = collected.status();
    } else {
      auto price = VerifyShard(outcome.task_request, dispatch.provider, collected->outputs,
                               collected->result, clock_);
      if (price.ok()) {
        outcome.price_micros = *price;
        outcome.outputs = std::move(collected->outputs);
        outcome.task_result = std::move(collected->result);
      } else {
        outcome.status = price.status();
      }
    }
  }
  bool cancelled;
  {
    std::lock_guard lock(mutex_);
    cancelled = call->cancelled;
  }
  if (cancelled && !outcome.status.ok()) {
    outcome.status = Status(StatusCode::kCancelled, "cancelled by the aggregator");
  }
  const bool verified = outcome.status.ok();
  v1::TaskReceipt receipt;
  if (verified) {
    receipt.set_task_id(dispatch.request.task_id());
    const Digest32 result_hash = Blake2b256(outcome.task_result.body());
    receipt.set_result_hash(std::string(result_hash.begin(), result_hash.end()));
    receipt.set_accepted(true);
  }
  done(std::move(outcome));
  if (verified && stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(kReceiptTimeoutMs));
    v1::ReceiptAck ack;
    grpc::Status status =
        stub->SubmitReceipt(&context, net::SignClaim(receipt, self_, clock_), &ack);
    if (!status.ok())
      spdlog::debug("aggregator: receipt not delivered: {}", status.error_message());
  }
  std::lock_guard lock(mutex_);
  call->finished = true;
}

}  // namespace infernet::aggregator
