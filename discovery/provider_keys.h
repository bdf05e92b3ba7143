// The well-known DHT keys under which provider records are published (docs/protocol.md §3), and
// the DHT value id that makes a node's re-publication replace its previous record.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/identity.h"

namespace infernet::discovery {

// Every provider publishes its record here.
inline constexpr char kAllProvidersKey[] = "infernet/v1/providers";

// "infernet/v1/model/<content hash in lowercase hex>": providers holding that model.
std::string ModelKey(std::span<const uint8_t> model_hash);

// DHT value id of `node`'s record: its first 8 ID bytes, never 0 (OpenDHT's "no id").
uint64_t RecordValueId(const NodeId& node);

}  // namespace infernet::discovery
