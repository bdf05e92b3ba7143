#include "provider/model_store.h"

#include <system_error>

namespace infernet::provider {

Result<std::unique_ptr<ModelStore>> ModelStore::Open(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec)
    return Status::Io("cannot create model directory " + directory.string() + ": " + ec.message());
  std::unique_ptr<ModelStore> store(new ModelStore(directory));
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".gguf") continue;
    auto hash = Blake2b256File(entry.path());
    if (!hash.ok()) return hash.status().WithContext("hashing model " + entry.path().string());
    store->models_[*hash] =
        StoredModel{*hash, entry.path(), entry.file_size(), entry.path().stem().string()};
  }
  if (ec)
    return Status::Io("cannot list model directory " + directory.string() + ": " + ec.message());
  return store;
}

std::optional<StoredModel> ModelStore::Find(const Digest32& hash) const {
  std::lock_guard lock(mutex_);
  auto it = models_.find(hash);
  if (it == models_.end()) return std::nullopt;
  return it->second;
}

std::vector<StoredModel> ModelStore::List() const {
  std::lock_guard lock(mutex_);
  std::vector<StoredModel> out;
  for (const auto& [hash, model] : models_) out.push_back(model);
  return out;
}

void ModelStore::Add(StoredModel model) {
  std::lock_guard lock(mutex_);
  models_[model.hash] = std::move(model);
}

}  // namespace infernet::provider
