// In-band task errors (v1::Error) and the gRPC and Status codes they travel with
// (docs/protocol.md §6). The in-band code is the precise one; the gRPC code is coarse, for
// generic tooling.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "core/status.h"
#include "infernet/v1/envelope.pb.h"

namespace infernet::provider {

v1::Error MakeError(v1::Error::Code code, std::string message);

//   INVALID_ARGUMENT → INVALID_ARGUMENT      MODEL_NOT_FOUND     → NOT_FOUND
//   UNAUTHENTICATED  → UNAUTHENTICATED       OVERLOADED          → RESOURCE_EXHAUSTED
//   STALE            → FAILED_PRECONDITION   DEADLINE_UNMEETABLE → FAILED_PRECONDITION
//   REPLAYED         → ALREADY_EXISTS        PRICE_TOO_LOW       → FAILED_PRECONDITION
//   VERSION_UNSUPPORTED → UNIMPLEMENTED      CANCELLED           → CANCELLED
//   TOO_LARGE        → OUT_OF_RANGE          INTERNAL, other     → INTERNAL
grpc::StatusCode GrpcCodeFor(v1::Error::Code code);
grpc::Status ToGrpcStatus(const v1::Error& error);

// The Status a client reports for a provider's error; its message starts with the code's name
// (e.g. "PRICE_TOO_LOW: ...").
Status ToStatus(const v1::Error& error);

// The in-band error for a failed envelope verification (net::VerifyClaim's Status).
v1::Error ErrorForVerification(const Status& status);

}  // namespace infernet::provider
