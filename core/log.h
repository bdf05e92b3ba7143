// Logging set-up. Modules log through spdlog directly; this configures the sink and level once.
#pragma once

#include <string_view>

#include "core/result.h"

namespace infernet {

// Accepts trace|debug|info|warn|error|off. Logs go to stderr so stdout stays machine-readable.
Status InitLogging(std::string_view level);

}  // namespace infernet
