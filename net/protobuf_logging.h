// Protobuf prints parse errors of untrusted input (e.g. invalid UTF-8 in a string field) to
// stderr itself; a hostile peer could flood the log that way. This routes them to spdlog at
// debug level instead. Call once at start-up, before serving.
#pragma once

namespace infernet::net {

void RouteProtobufLogsToDebug();

}  // namespace infernet::net
