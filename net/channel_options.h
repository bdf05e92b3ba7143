// Transport settings shared by every Infernet gRPC client and server (docs/protocol.md §6):
// message size limits, keep-alives, and dialing a peer by node ID.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "core/identity.h"
#include "core/result.h"

namespace infernet::net {

// Largest gRPC message either side accepts: the largest envelope plus framing.
inline constexpr int kMaxMessageBytes = (16 << 20) + (1 << 20);
inline constexpr int kKeepaliveTimeMs = 30 * 1000;
inline constexpr int kKeepaliveTimeoutMs = 10 * 1000;

// Message limits and keep-alives for a server.
void ConfigureServer(grpc::ServerBuilder& builder);
// The same for a channel.
grpc::ChannelArguments PeerChannelArguments();

// A channel to the node `peer` at `address` ("host:port"), authenticated as `self`, that refuses
// any server whose TLS key does not hash to `peer`. Connects lazily (first call).
Result<std::shared_ptr<grpc::Channel>> DialNode(const NodeIdentity& self, const NodeId& peer,
                                                const std::string& address);

}  // namespace infernet::net
