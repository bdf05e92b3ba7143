// Test support shared by provider_test and client_test (header only, not part of the library):
// a tiny random model written to a temporary directory, and a provider serving it on loopback.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "core/hash.h"
#include "core/identity.h"
#include "engine/model/test_model.h"
#include "provider/provider_server.h"
#include "provider/task_service.h"

namespace infernet::provider::testing {

// A small model so that end-to-end tests run in milliseconds.
inline TestModelSpec TinySpec() {
  TestModelSpec spec;
  spec.n_vocab = 512;
  spec.n_embd = 64;
  spec.n_layer = 1;
  spec.n_head = 2;
  spec.n_head_kv = 1;
  spec.n_ff = 128;
  spec.n_ctx = 256;
  spec.seed = 7;
  return spec;
}

class TempModelFile {
 public:
  TempModelFile() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("infernet-provider-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "tiny.gguf";
    Status written = WriteTestModel(TinySpec(), path_);
    EXPECT_TRUE(written.ok()) << written.ToString();
    auto hash = Blake2b256File(path_);
    EXPECT_TRUE(hash.ok()) << hash.status().ToString();
    if (hash.ok()) hash_ = *hash;
  }
  ~TempModelFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& dir() const { return dir_; }
  const Digest32& hash() const { return hash_; }
  ModelLocator Locator() const {
    return [path = path_, hash = hash_](const Digest32& h) -> std::optional<std::filesystem::path> {
      if (h != hash) return std::nullopt;
      return path;
    };
  }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
  Digest32 hash_{};
};

inline NodeIdentity IdentityFromByte(uint8_t b) {
  std::array<uint8_t, 32> seed{};
  seed.fill(b);
  return NodeIdentity::FromSeed(seed);
}

inline ProviderConfig SmallProviderConfig() {
  ProviderConfig config;
  config.price_per_mtok_micros = 100;
  config.execution.n_ctx = 256;
  config.execution.threads = 1;
  config.admission.max_concurrent = 1;
  config.admission.max_queued = 4;
  config.engine.set_backend("cpu");
  config.software_version = "test";
  return config;
}

// A provider (identity, service, server) on 127.0.0.1 with insecure credentials.
struct LoopbackProvider {
  LoopbackProvider(const TempModelFile& model, ProviderConfig config, uint8_t identity_byte = 0x42)
      : identity(IdentityFromByte(identity_byte)),
        service(identity, SystemClock::Instance(), model.Locator(), std::move(config)) {
    auto started =
        ProviderServer::Start("127.0.0.1:0", grpc::InsecureServerCredentials(), &service);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (started.ok()) server = std::move(started).value();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }

  NodeIdentity identity;
  TaskService service;
  std::unique_ptr<ProviderServer> server;  // declared last: shut down before the service goes
};

}  // namespace infernet::provider::testing
