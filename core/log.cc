#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace infernet {

Status InitLogging(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for explicitly.
  if (parsed == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                   "' (expected trace, debug, info, warn, error or off)");
  }
  // Idempotent: a later call (e.g. a configuration file's level) only changes the level.
  auto logger = spdlog::get("infernet");
  if (!logger) logger = spdlog::stderr_color_mt("infernet");
  spdlog::set_default_logger(logger);
  spdlog::set_level(parsed);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  return Status::Ok();
}

}  // namespace infernet
