#include "discovery/provider_keys.h"

#include "core/hex.h"

namespace infernet::discovery {

std::string ModelKey(std::span<const uint8_t> model_hash) {
  return "infernet/v1/model/" + HexEncode(model_hash);
}

uint64_t RecordValueId(const NodeId& node) {
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | node.bytes[i];
  return id == 0 ? 1 : id;
}

}  // namespace infernet::discovery
