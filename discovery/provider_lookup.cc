#include "discovery/provider_lookup.h"

#include <span>
#include <utility>

#include "discovery/provider_keys.h"

namespace infernet::discovery {

bool OffersModel(const v1::NodeRecord& record, const std::string& model_hash) {
  for (const v1::ModelOffer& offer : record.models()) {
    if (offer.model_hash() == model_hash) return true;
  }
  return false;
}

bool HasGpuWithVram(const v1::NodeRecord& record, uint64_t min_vram) {
  if (min_vram == 0) return true;
  for (const v1::GpuInfo& gpu : record.hardware().gpus()) {
    if (gpu.vram_bytes() >= min_vram) return true;
  }
  return false;
}

Result<ProviderLookupResult> ProviderLookup::Find(const ProviderQuery& query) const {
  std::string key = kAllProvidersKey;
  if (!query.model_hash.empty()) {
    if (query.model_hash.size() != 32) {
      return Status::InvalidArgument("model hash is " + std::to_string(query.model_hash.size()) +
                                     " bytes, expected 32");
    }
    key = ModelKey(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(query.model_hash.data()), query.model_hash.size()));
  }
  INFERNET_ASSIGN_OR_RETURN(RecordStoreGet found, store_.Get(key, query.timeout));
  ValidatedRecords valid = ValidateNodeRecords(found.values, clock_, policy_);
  ProviderLookupResult result;
  result.ignored = valid.ignored;
  result.complete = found.complete;
  for (ProviderRecord& provider : valid.records) {
    // A model key is written by anyone: the record itself must say it offers the model.
    const bool matches =
        (query.model_hash.empty() || OffersModel(provider.record, query.model_hash)) &&
        HasGpuWithVram(provider.record, query.min_gpu_vram_bytes);
    if (matches) {
      result.providers.push_back(std::move(provider));
    } else {
      ++result.filtered_out;
    }
  }
  return result;
}

}  // namespace infernet::discovery
