// Errors as values: every module boundary returns Status or Result<T>; exceptions never cross one.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace infernet {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller passed something malformed (bad flag, bad parameter)
  kNotFound,
  kCorrupt,          // input data is malformed or truncated (a file, a message)
  kIo,               // the operating system refused (open, read, mmap, write)
  kUnsupported,      // well-formed but not something we implement (tensor type, architecture)
  kOutOfRange,       // a bound was exceeded (context length, batch size)
  kResourceExhausted,
  kCancelled,
  kDeadlineExceeded,
  kPermissionDenied,
  kUnauthenticated,
  kAlreadyExists,
  kUnavailable,
  kInternal,  // a bug: an invariant did not hold
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status Io(std::string m) { return {StatusCode::kIo, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context + ": "` (no-op when OK).
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace infernet

#define INFERNET_CONCAT_INNER(a, b) a##b
#define INFERNET_CONCAT(a, b) INFERNET_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define INFERNET_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::infernet::Status infernet_status_ = (expr);        \
    if (!infernet_status_.ok()) return infernet_status_; \
  } while (0)

// `lhs` = value of the Result `expr`, or returns its Status from the enclosing function.
#define INFERNET_ASSIGN_OR_RETURN(lhs, expr) \
  INFERNET_ASSIGN_OR_RETURN_IMPL(INFERNET_CONCAT(infernet_result_, __LINE__), lhs, expr)
#define INFERNET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
