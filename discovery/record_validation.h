// Turns the raw values found under a provider key into trustworthy records: each is verified as a
// signed claim (docs/protocol.md §2-3) and ignored when malformed, badly signed, authored by
// someone other than its signer, stale, expired or of a protocol version we do not speak; of
// several valid records of one node only the newest is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "discovery/record_builder.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/node_record.pb.h"

namespace infernet::discovery {

struct ProviderRecord {
  NodeId node_id;
  v1::NodeRecord record;
  v1::SignedEnvelope envelope;  // as found, to forward to others unchanged
};

// How many values were ignored, by reason (for diagnostics: `infernet providers --verbose`).
struct IgnoredRecords {
  size_t malformed = 0;      // not a SignedEnvelope of kind NodeRecord, wrong sizes, bad body
  size_t wrong_version = 0;  // envelope or record protocol version not spoken
  size_t bad_signature = 0;  // signature does not verify
  size_t wrong_author = 0;   // signature verifies but header.author_id is not the signer
  size_t stale = 0;          // timestamp older than the accepted age, or too far in the future
  size_t expired = 0;        // expires_ms has passed
  size_t superseded = 0;     // an older record of a node that also has a newer one
  size_t total() const {
    return malformed + wrong_version + bad_signature + wrong_author + stale + expired + superseded;
  }
};

struct ValidatedRecords {
  std::vector<ProviderRecord> records;  // one per node, ordered by node id
  IgnoredRecords ignored;
};

struct RecordValidationPolicy {
  // Records older than this are stale. Publishers re-publish at half their TTL, so the default
  // accepts any record of a publisher using the default TTL.
  int64_t max_record_age_ms = kDefaultRecordTtlMs;
  int64_t max_future_ms = 60 * 1000;  // tolerated clock skew
};

ValidatedRecords ValidateNodeRecords(const std::vector<std::string>& values, const Clock& clock,
                                     const RecordValidationPolicy& policy = {});

// DHT replace policy for record values: a stored record may only be replaced by an envelope from
// the same signer, so nobody can overwrite another node's record under its value id.
bool SameSignerReplaces(std::string_view stored, std::string_view incoming);

}  // namespace infernet::discovery
