#include "discovery/record_publisher.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "discovery/provider_keys.h"

namespace infernet::discovery {

RecordPublisher::RecordPublisher(RecordStore& store, const NodeIdentity& identity,
                                 const Clock& clock, PublisherOptions options)
    : store_(store),
      identity_(identity),
      clock_(clock),
      options_(options),
      next_publish_ms_(std::numeric_limits<int64_t>::max()) {}

void RecordPublisher::SetDescription(ProviderDescription description) {
  description_ = std::move(description);
  has_description_ = true;
  next_publish_ms_ = std::numeric_limits<int64_t>::min();  // due now
}

Status RecordPublisher::Tick() {
  const int64_t now = clock_.NowMs();
  if (!has_description_ || now < next_publish_ms_) return Status::Ok();

  const v1::SignedEnvelope envelope =
      BuildSignedNodeRecord(identity_, description_, clock_, options_.ttl_ms);
  std::string bytes;
  envelope.SerializeToString(&bytes);
  // The same model listed twice would be published twice under one key: deduplicate.
  std::set<std::string> keys = {kAllProvidersKey};
  for (const v1::ModelOffer& offer : description_.models) {
    keys.insert(ModelKey(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(offer.model_hash().data()), offer.model_hash().size())));
  }
  const uint64_t value_id = RecordValueId(identity_.id());
  Status first_error;
  for (const std::string& key : keys) {
    Status status = store_.Put(key, bytes, value_id, options_.put_timeout);
    if (!status.ok() && first_error.ok()) first_error = status.WithContext("publishing to " + key);
  }
  const auto republish_after =
      std::max<int64_t>(1, static_cast<int64_t>(options_.ttl_ms * options_.republish_fraction));
  if (first_error.ok()) {
    ++publications_;
    next_publish_ms_ = now + republish_after;
  } else {
    next_publish_ms_ = now + std::min(options_.retry_ms, republish_after);
  }
  return first_error;
}

}  // namespace infernet::discovery
