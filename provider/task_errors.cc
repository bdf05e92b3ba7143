#include "provider/task_errors.h"

namespace infernet::provider {

v1::Error MakeError(v1::Error::Code code, std::string message) {
  v1::Error error;
  error.set_code(code);
  error.set_message(std::move(message));
  return error;
}

grpc::StatusCode GrpcCodeFor(v1::Error::Code code) {
  switch (code) {
    case v1::Error::INVALID_ARGUMENT:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case v1::Error::UNAUTHENTICATED:
      return grpc::StatusCode::UNAUTHENTICATED;
    case v1::Error::STALE:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case v1::Error::REPLAYED:
      return grpc::StatusCode::ALREADY_EXISTS;
    case v1::Error::VERSION_UNSUPPORTED:
      return grpc::StatusCode::UNIMPLEMENTED;
    case v1::Error::MODEL_NOT_FOUND:
      return grpc::StatusCode::NOT_FOUND;
    case v1::Error::OVERLOADED:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case v1::Error::DEADLINE_UNMEETABLE:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case v1::Error::PRICE_TOO_LOW:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case v1::Error::CANCELLED:
      return grpc::StatusCode::CANCELLED;
    case v1::Error::TOO_LARGE:
      return grpc::StatusCode::OUT_OF_RANGE;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status ToGrpcStatus(const v1::Error& error) {
  return grpc::Status(GrpcCodeFor(error.code()),
                      v1::Error::Code_Name(error.code()) + ": " + error.message());
}

Status ToStatus(const v1::Error& error) {
  StatusCode code;
  switch (error.code()) {
    case v1::Error::INVALID_ARGUMENT:
      code = StatusCode::kInvalidArgument;
      break;
    case v1::Error::UNAUTHENTICATED:
      code = StatusCode::kUnauthenticated;
      break;
    case v1::Error::STALE:
      code = StatusCode::kOutOfRange;
      break;
    case v1::Error::REPLAYED:
      code = StatusCode::kAlreadyExists;
      break;
    case v1::Error::VERSION_UNSUPPORTED:
      code = StatusCode::kUnsupported;
      break;
    case v1::Error::MODEL_NOT_FOUND:
      code = StatusCode::kNotFound;
      break;
    case v1::Error::OVERLOADED:
      code = StatusCode::kResourceExhausted;
      break;
    case v1::Error::DEADLINE_UNMEETABLE:
      code = StatusCode::kDeadlineExceeded;
      break;
    case v1::Error::PRICE_TOO_LOW:
      code = StatusCode::kPermissionDenied;
      break;
    case v1::Error::CANCELLED:
      code = StatusCode::kCancelled;
      break;
    case v1::Error::TOO_LARGE:
      code = StatusCode::kOutOfRange;
      break;
    default:
      code = StatusCode::kUnavailable;
      break;  // a provider failure: retry elsewhere
  }
  return Status(code, v1::Error::Code_Name(error.code()) + ": " + error.message());
}

v1::Error ErrorForVerification(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
      return MakeError(v1::Error::UNAUTHENTICATED, status.message());
    case StatusCode::kOutOfRange:
      return MakeError(v1::Error::STALE, status.message());
    case StatusCode::kAlreadyExists:
      return MakeError(v1::Error::REPLAYED, status.message());
    case StatusCode::kUnsupported:
      return MakeError(v1::Error::VERSION_UNSUPPORTED, status.message());
    default:
      return MakeError(v1::Error::INVALID_ARGUMENT, status.message());
  }
}

}  // namespace infernet::provider
