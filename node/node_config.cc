#include "node/node_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace infernet::node {
namespace {

const std::set<std::string> kKnownRoles = {"provider", "aggregator", "bootstrap"};

using Table = toml::table;

Status UnknownKeys(const Table& table, const std::string& section,
                   const std::set<std::string>& known) {
  for (const auto& [key, value] : table) {
    if (!known.count(std::string(key.str()))) {
      return Status::InvalidArgument("unknown key \"" + section + "." + std::string(key.str()) +
                                     "\"");
    }
  }
  return Status::Ok();
}

Status ReadString(const Table& t, const std::string& section, const char* key, std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  auto v = n->value<std::string>();
  if (!n->is_string() || !v) {
    return Status::InvalidArgument(section + "." + key + " must be a string");
  }
  *out = *v;
  return Status::Ok();
}

Status ReadPath(const Table& t, const std::string& section, const char* key,
                std::filesystem::path* out) {
  std::string s;
  INFERNET_RETURN_IF_ERROR(ReadString(t, section, key, &s));
  if (!s.empty()) *out = s;
  return Status::Ok();
}

Status ReadStrings(const Table& t, const std::string& section, const char* key,
                   std::vector<std::string>* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  const toml::array* a = n->as_array();
  if (!a) return Status::InvalidArgument(section + "." + key + " must be an array of strings");
  out->clear();
  for (const toml::node& item : *a) {
    auto v = item.value<std::string>();
    if (!item.is_string() || !v) {
      return Status::InvalidArgument(section + "." + key + " must be an array of strings");
    }
    out->push_back(*v);
  }
  return Status::Ok();
}

template <class T>
Status ReadUnsigned(const Table& t, const std::string& section, const char* key, T* out,
                    uint64_t min, uint64_t max) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  auto v = n->value<int64_t>();
  if (!n->is_integer() || !v || *v < 0 || static_cast<uint64_t>(*v) < min ||
      static_cast<uint64_t>(*v) > max) {
    return Status::InvalidArgument(section + "." + key + " must be an integer in [" +
                                   std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = static_cast<T>(*v);
  return Status::Ok();
}

Status ReadBool(const Table& t, const std::string& section, const char* key, bool* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (!n->is_boolean())
    return Status::InvalidArgument(section + "." + key + " must be true or false");
  *out = *n->value<bool>();
  return Status::Ok();
}

const Table* Section(const Table& root, const char* name, Status* error) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table())
    *error = Status::InvalidArgument(std::string("[") + name + "] must be a table");
  return n->as_table();
}

}  // namespace

bool NodeConfig::HasRole(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Result<NodeConfig> ParseNodeConfig(const std::string& toml_text, const std::string& source_name) {
  Table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return Status::InvalidArgument(source_name + ": " + std::string(e.description()) + " at " +
                                   where.str());
  }
  NodeConfig c;
  INFERNET_RETURN_IF_ERROR(UnknownKeys(root, "", {"node", "network", "provider", "aggregator"})
                               .WithContext(source_name));
  Status error;
  auto check = [&](Status s) { return s.WithContext(source_name); };
  if (const Table* t = Section(root, "node", &error)) {
    INFERNET_RETURN_IF_ERROR(
        check(UnknownKeys(*t, "node", {"roles", "home", "key_file", "log_level"})));
    INFERNET_RETURN_IF_ERROR(check(ReadStrings(*t, "node", "roles", &c.roles)));
    INFERNET_RETURN_IF_ERROR(check(ReadPath(*t, "node", "home", &c.home)));
    INFERNET_RETURN_IF_ERROR(check(ReadPath(*t, "node", "key_file", &c.key_file)));
    INFERNET_RETURN_IF_ERROR(check(ReadString(*t, "node", "log_level", &c.log_level)));
  }
  if (const Table* t = Section(root, "network", &error)) {
    INFERNET_RETURN_IF_ERROR(
        check(UnknownKeys(*t, "network", {"listen", "advertise", "dht_listen", "bootstrap"})));
    INFERNET_RETURN_IF_ERROR(check(ReadString(*t, "network", "listen", &c.listen)));
    INFERNET_RETURN_IF_ERROR(check(ReadStrings(*t, "network", "advertise", &c.advertise)));
    INFERNET_RETURN_IF_ERROR(check(ReadString(*t, "network", "dht_listen", &c.dht_listen)));
    INFERNET_RETURN_IF_ERROR(check(ReadStrings(*t, "network", "bootstrap", &c.bootstrap)));
  }
  if (const Table* t = Section(root, "provider", &error)) {
    INFERNET_RETURN_IF_ERROR(check(
        UnknownKeys(*t, "provider",
                    {"model_dir", "price_per_mtok_micros", "max_concurrent", "max_queue", "threads",
                     "serve_downloads", "pull_missing_models", "record_ttl_seconds", "runtime",
                     "simulated_us_per_token", "simulated_fail_tasks"})));
    INFERNET_RETURN_IF_ERROR(check(ReadPath(*t, "provider", "model_dir", &c.model_dir)));
    INFERNET_RETURN_IF_ERROR(check(ReadUnsigned(*t, "provider", "price_per_mtok_micros",
                                                &c.price_per_mtok_micros, 0, UINT64_MAX >> 1)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadUnsigned(*t, "provider", "max_concurrent", &c.max_concurrent, 1, 256)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadUnsigned(*t, "provider", "max_queue", &c.max_queue, 0, 100000)));
    INFERNET_RETURN_IF_ERROR(check(ReadUnsigned(*t, "provider", "threads", &c.threads, 0, 1024)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadBool(*t, "provider", "serve_downloads", &c.serve_downloads)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadBool(*t, "provider", "pull_missing_models", &c.pull_missing_models)));
    INFERNET_RETURN_IF_ERROR(check(
        ReadUnsigned(*t, "provider", "record_ttl_seconds", &c.record_ttl_seconds, 30, 86400)));
    INFERNET_RETURN_IF_ERROR(check(ReadString(*t, "provider", "runtime", &c.runtime)));
    INFERNET_RETURN_IF_ERROR(check(ReadUnsigned(*t, "provider", "simulated_us_per_token",
                                                &c.simulated_us_per_token, 0, 60000000)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadBool(*t, "provider", "simulated_fail_tasks", &c.simulated_fail_tasks)));
  }
  if (const Table* t = Section(root, "aggregator", &error)) {
    INFERNET_RETURN_IF_ERROR(
        check(UnknownKeys(*t, "aggregator",
                          {"state_db", "target_shard_ms", "max_in_flight_per_provider",
                           "max_attempts", "fee_basis_points"})));
    INFERNET_RETURN_IF_ERROR(check(ReadPath(*t, "aggregator", "state_db", &c.state_db)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadUnsigned(*t, "aggregator", "target_shard_ms", &c.target_shard_ms, 10, 3600000)));
    INFERNET_RETURN_IF_ERROR(check(ReadUnsigned(*t, "aggregator", "max_in_flight_per_provider",
                                                &c.max_in_flight_per_provider, 1, 1024)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadUnsigned(*t, "aggregator", "max_attempts", &c.max_attempts, 1, 100)));
    INFERNET_RETURN_IF_ERROR(
        check(ReadUnsigned(*t, "aggregator", "fee_basis_points", &c.fee_basis_points, 50, 200)));
  }
  if (!error.ok()) return error.WithContext(source_name);
  return c;
}

Result<NodeConfig> LoadNodeConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read configuration file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return ParseNodeConfig(text.str(), path.string());
}

Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("address \"" + address + "\" is not host:port");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port_text = address.substr(colon + 1);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), ::isdigit)) {
    return Status::InvalidArgument("address \"" + address + "\" has a bad port");
  }
  unsigned long port = std::stoul(port_text);
  if (port > 65535)
    return Status::InvalidArgument("address \"" + address + "\" has a port above 65535");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Status FinalizeNodeConfig(NodeConfig& c) {
  if (c.home.empty()) {
    if (const char* env = std::getenv("INFERNET_HOME"); env && *env) {
      c.home = env;
    } else if (const char* user_home = std::getenv("HOME"); user_home && *user_home) {
      c.home = std::filesystem::path(user_home) / ".infernet";
    } else {
      return Status::InvalidArgument("node.home is not set and neither INFERNET_HOME nor HOME is");
    }
  }
  if (c.key_file.empty()) c.key_file = c.home / "node.key";
  if (c.model_dir.empty()) c.model_dir = c.home / "models";
  if (c.state_db.empty()) c.state_db = c.home / "aggregator.db";
  if (c.runtime != "native" && c.runtime != "simulated") {
    return Status::InvalidArgument("provider.runtime must be \"native\" or \"simulated\", not \"" +
                                   c.runtime + "\"");
  }
  if (c.roles.empty()) return Status::InvalidArgument("node.roles is empty");
  for (const std::string& role : c.roles) {
    if (!kKnownRoles.count(role)) {
      return Status::InvalidArgument("node.roles: unknown role \"" + role +
                                     "\" (known: provider, aggregator, bootstrap)");
    }
  }
  INFERNET_RETURN_IF_ERROR(SplitHostPort(c.listen).status().WithContext("network.listen"));
  INFERNET_RETURN_IF_ERROR(SplitHostPort(c.dht_listen).status().WithContext("network.dht_listen"));
  if (c.advertise.empty()) c.advertise = {c.listen};
  for (const std::string& a : c.advertise) {
    INFERNET_RETURN_IF_ERROR(SplitHostPort(a).status().WithContext("network.advertise"));
  }
  for (const std::string& b : c.bootstrap) {
    INFERNET_RETURN_IF_ERROR(SplitHostPort(b).status().WithContext("network.bootstrap"));
  }
  if (c.max_concurrent == 0)
    return Status::InvalidArgument("provider.max_concurrent must be at least 1");
  // Flags bypass the file's range checks; the ranges that matter are checked again here.
  if (c.fee_basis_points < 50 || c.fee_basis_points > 200)
    return Status::InvalidArgument("aggregator.fee_basis_points must be in [50, 200] (0.5-2 %)");
  if (c.target_shard_ms < 10)
    return Status::InvalidArgument("aggregator.target_shard_ms must be at least 10");
  if (c.max_in_flight_per_provider == 0 || c.max_attempts == 0) {
    return Status::InvalidArgument(
        "aggregator.max_in_flight_per_provider and aggregator.max_attempts must be at least 1");
  }
  return Status::Ok();
}

}  // namespace infernet::node
