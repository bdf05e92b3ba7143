// A local Infernet network on loopback, as separate processes of this binary: a bootstrap DHT
// node, an aggregator and N providers, each with its own home directory, key and copy of a
// generated test model. Used by `infernet devnet` and `infernet devnet demo`.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "client/job_file.h"
#include "core/hash.h"
#include "core/result.h"

namespace infernet::cli {

struct DevnetOptions {
  int providers = 3;
  std::filesystem::path dir;       // default: a fresh /tmp/infernet-devnet.XXXXXX
  std::string runtime = "native";  // or "simulated"
  uint32_t simulated_us_per_token = 1000;
  uint32_t provider_threads = 1;  // engine threads per provider
  std::string model_preset = "tiny";
  std::string model_type = "Q8_0";
  uint32_t target_shard_ms = 500;
};

struct DevnetProcess {
  std::string role;  // "bootstrap", "aggregator", "provider-N"
  pid_t pid = -1;
  std::string node_id;
  std::string grpc;  // empty for the bootstrap node
  int dht_port = 0;
  std::filesystem::path log;
};

class Devnet {
 public:
  // Makes the model and starts every process, each waited for until it reports ready (or fails:
  // then everything started is stopped and the error names the process and its log).
  static Result<std::unique_ptr<Devnet>> Start(const DevnetOptions& options);
  ~Devnet();  // Stop()

  const std::vector<DevnetProcess>& processes() const { return processes_; }
  const DevnetProcess& aggregator() const { return processes_.at(1); }
  const Digest32& model_hash() const { return model_hash_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string bootstrap_address() const;
  // SIGTERM to every process, SIGKILL to those still running after a grace period; reaped.
  void Stop();

 private:
  Devnet() = default;
  Result<DevnetProcess> Spawn(const std::string& role, std::vector<std::string> args);

  std::filesystem::path dir_;
  bool remove_dir_ = false;
  Digest32 model_hash_{};
  std::vector<DevnetProcess> processes_;
};

}  // namespace infernet::cli
