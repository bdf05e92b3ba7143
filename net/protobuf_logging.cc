#include "net/protobuf_logging.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

namespace infernet::net {
namespace {

void ToSpdlog(google::protobuf::LogLevel level, const char* filename, int line,
              const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_FATAL) {
    spdlog::critical("protobuf {}:{}: {}", filename, line, message);
    return;
  }
  spdlog::debug("protobuf {}:{}: {}", filename, line, message);
}

}  // namespace

void RouteProtobufLogsToDebug() { google::protobuf::SetLogHandler(&ToSpdlog); }

}  // namespace infernet::net
