// The software version every node reports (records, Ping, results).
#pragma once

namespace infernet::node {

inline constexpr const char* kSoftwareVersion = "infernet/0.1.0";

}  // namespace infernet::node
