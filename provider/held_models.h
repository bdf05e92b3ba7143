// The models this provider serves, loaded on first use and kept: a task names a model by content
// hash, a locator maps the hash to a file the node holds, and the loaded model is shared by every
// task that uses it (each task gets its own Context).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "core/hash.h"
#include "core/result.h"
#include "engine/backend.h"
#include "engine/model/model.h"

namespace infernet::provider {

// Where a held model's file is; nullopt when this node does not hold the model. Must be
// thread-safe. (A ModelStore fits: [&](h) { auto m = store.Find(h); ... }.)
using ModelLocator =
    std::function<std::optional<std::filesystem::path>(const Digest32& model_hash)>;

struct LoadedModel {
  std::unique_ptr<Backend> backend;  // declared first: destroyed after the model
  std::unique_ptr<Model> model;
  Digest32 hash{};
};

class HeldModels {
 public:
  // `threads`: CPU back-end threads per model (0 = all cores).
  HeldModels(ModelLocator locator, int threads);

  // Whether the node holds the model (without loading it). Thread-safe.
  bool Holds(const Digest32& hash) const;
  // The loaded model, loading it on first use. kNotFound when not held; load errors as
  // Model::Load reports them. Thread-safe (loads are serialised).
  Result<std::shared_ptr<const LoadedModel>> Get(const Digest32& hash);

 private:
  ModelLocator locator_;
  int threads_;
  std::mutex mutex_;
  std::map<Digest32, std::shared_ptr<const LoadedModel>> loaded_;
};

}  // namespace infernet::provider
