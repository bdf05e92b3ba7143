#include "provider/held_models.h"

#include "core/hex.h"
#include "engine/cpu/cpu_backend.h"

namespace infernet::provider {

HeldModels::HeldModels(ModelLocator locator, int threads)
    : locator_(std::move(locator)), threads_(threads) {}

bool HeldModels::Holds(const Digest32& hash) const {
  return locator_ && locator_(hash).has_value();
}

Result<std::shared_ptr<const LoadedModel>> HeldModels::Get(const Digest32& hash) {
  std::lock_guard lock(mutex_);
  if (auto it = loaded_.find(hash); it != loaded_.end()) return it->second;
  std::optional<std::filesystem::path> path = locator_ ? locator_(hash) : std::nullopt;
  if (!path) return Status::NotFound("model " + HexEncode(hash) + " is not held here");
  auto loaded = std::make_shared<LoadedModel>();
  loaded->backend = CreateCpuBackend(threads_);
  INFERNET_ASSIGN_OR_RETURN(loaded->model, Model::Load(*path, *loaded->backend));
  loaded->hash = hash;
  loaded_[hash] = loaded;
  return std::shared_ptr<const LoadedModel>(loaded);
}

}  // namespace infernet::provider
