#include "engine/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "engine/gguf/byte_cursor.h"
#include "engine/gguf/gguf_value_decode.h"

namespace infernet::gguf {
namespace {

constexpr std::string_view kAlignmentKey = "general.alignment";
// Smallest encodings, used to reject counts that cannot fit in the file before allocating.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;  // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes =
    8 + 4 + 8 + 4 + 8;                                    // name length, n_dims, dim, type, offset
constexpr uint32_t kByteSwappedVersionMask = 0x0000FFFF;  // big-endian files put it high

std::string At(uint64_t offset) { return " at byte offset " + std::to_string(offset); }

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Hex32(uint32_t v) {
  char hex[11];
  std::snprintf(hex, sizeof hex, "0x%08x", v);
  return hex;
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

std::string Range(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

Status ParseVersion(ByteCursor& cursor, uint32_t& version) {
  const size_t at = cursor.offset();
  INFERNET_ASSIGN_OR_RETURN(version, cursor.Read<uint32_t>("version"));
  if (version == 2 || version == 3) return Status::Ok();
  if (version != 0 && (version & kByteSwappedVersionMask) == 0) {
    return Status::Unsupported("big-endian GGUF files are not supported (version field " +
                               Hex32(version) + At(at) + ")");
  }
  if (version == 0) return Status::Corrupt("GGUF version 0" + At(at) + " is invalid");
  return Status::Unsupported("GGUF version " + std::to_string(version) + At(at) +
                             " is not supported (only 2 and 3 are)");
}

Status CheckAlignmentValue(const Value& value, size_t at, uint64_t& alignment) {
  if (value.type() != ValueType::kUint32) {
    return Status::Corrupt("metadata key " + Quoted(kAlignmentKey) + ": must be UINT32, got " +
                           std::string(ValueTypeName(value.type())) + At(at));
  }
  const uint64_t a = std::get<uint64_t>(value.storage());
  if (a == 0 || (a & (a - 1)) != 0) {
    return Status::Corrupt("metadata key " + Quoted(kAlignmentKey) + ": " + std::to_string(a) +
                           " is not a non-zero power of two" + At(at));
  }
  alignment = a;
  return Status::Ok();
}

// Reads the tensor's dims, type and offset (the name is already read) and computes its size.
Status ParseTensorInfo(ByteCursor& cursor, uint64_t alignment, TensorInfo& info) {
  const std::string context = "tensor " + Quoted(info.name);
  const size_t dims_at = cursor.offset();
  auto n_dims = cursor.Read<uint32_t>("dimension count");
  if (!n_dims.ok()) return n_dims.status().WithContext(context);
  if (*n_dims < 1 || *n_dims > static_cast<uint32_t>(kMaxDims)) {
    return Status::Corrupt(context + ": " + std::to_string(*n_dims) + " dimensions" + At(dims_at) +
                           " (must be 1.." + std::to_string(kMaxDims) + ")");
  }
  uint64_t elements = 1;
  info.shape.resize(*n_dims);
  for (uint32_t d = 0; d < *n_dims; ++d) {
    const size_t dim_at = cursor.offset();
    auto dim = cursor.Read<uint64_t>("dimension");
    if (!dim.ok()) return dim.status().WithContext(context);
    if (*dim == 0 || *dim > static_cast<uint64_t>(INT64_MAX)) {
      return Status::Corrupt(context + ": dimension " + std::to_string(d) + " is " +
                             std::to_string(*dim) + At(dim_at) + " (must be positive)");
    }
    if (__builtin_mul_overflow(elements, *dim, &elements) ||
        elements > static_cast<uint64_t>(INT64_MAX)) {
      return Status::Corrupt(context + ": element count overflows" + At(dim_at));
    }
    info.shape[d] = static_cast<int64_t>(*dim);
  }
  const size_t type_at = cursor.offset();
  auto raw_type = cursor.Read<uint32_t>("tensor type");
  if (!raw_type.ok()) return raw_type.status().WithContext(context);
  std::optional<TensorType> type = TensorTypeFromGguf(*raw_type);
  if (!type) {
    return Status::Unsupported(context + ": unsupported tensor type id " +
                               std::to_string(*raw_type) + At(type_at));
  }
  info.type = *type;
  const TensorTypeTraits& traits = Traits(*type);
  if (info.shape[0] % traits.block_elems != 0) {
    return Status::Corrupt(context + ": row length " + std::to_string(info.shape[0]) +
                           " is not a multiple of the " + std::string(traits.name) +
                           " block size " + std::to_string(traits.block_elems) + At(dims_at));
  }
  const uint64_t blocks = elements / static_cast<uint64_t>(traits.block_elems);
  if (__builtin_mul_overflow(blocks, uint64_t{traits.block_bytes}, &info.size_bytes)) {
    return Status::Corrupt(context + ": byte size overflows" + At(dims_at));
  }
  const size_t offset_at = cursor.offset();
  auto offset = cursor.Read<uint64_t>("tensor data offset");
  if (!offset.ok()) return offset.status().WithContext(context);
  if (*offset % alignment != 0) {
    return Status::Corrupt(context + ": data offset " + std::to_string(*offset) +
                           " is not a multiple of the alignment " + std::to_string(alignment) +
                           At(offset_at));
  }
  info.offset = *offset;
  return Status::Ok();
}

}  // namespace

int64_t TensorInfo::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Io("cannot open " + path.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::Io("cannot stat " + path.string() + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Io(path.string() + " is not a regular file");
  }
  std::unique_ptr<GgufFile> file(new GgufFile());
  const auto size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (map == MAP_FAILED)
      return Status::Io("cannot mmap " + path.string() + ": " + std::strerror(err));
    // Inference reads every weight, so ask the kernel to start reading ahead now.
    ::madvise(map, size, MADV_WILLNEED);
    file->mapping_ = map;
    file->bytes_ = std::span<const uint8_t>(static_cast<const uint8_t*>(map), size);
  } else {
    ::close(fd);
  }
  INFERNET_RETURN_IF_ERROR(file->Parse());
  file->ReleaseHeaderPages();
  return file;
}

void GgufFile::ReleaseHeaderPages() {
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t header_pages = std::min<uint64_t>(data_offset_, bytes_.size()) / page * page;
  // MADV_DONTNEED on a read-only private file mapping only unmaps the pages: touching them again
  // reads the file back, so this cannot lose data.
  if (mapping_ != nullptr && header_pages > 0) ::madvise(mapping_, header_pages, MADV_DONTNEED);
}

Result<std::unique_ptr<GgufFile>> GgufFile::FromBuffer(std::span<const uint8_t> bytes) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->bytes_ = bytes;
  INFERNET_RETURN_IF_ERROR(file->Parse());
  return file;
}

GgufFile::~GgufFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, bytes_.size());
}

Status GgufFile::Parse() {
  ByteCursor cursor(bytes_);
  INFERNET_ASSIGN_OR_RETURN(uint32_t magic, cursor.Read<uint32_t>("magic"));
  if (magic != kMagic) {
    return Status::Corrupt("bad magic " + Hex32(magic) + At(0) + " (not a GGUF file)");
  }
  INFERNET_RETURN_IF_ERROR(ParseVersion(cursor, version_));

  const size_t counts_at = cursor.offset();
  INFERNET_ASSIGN_OR_RETURN(uint64_t tensor_count, cursor.Read<uint64_t>("tensor count"));
  INFERNET_ASSIGN_OR_RETURN(uint64_t kv_count, cursor.Read<uint64_t>("metadata count"));
  const uint64_t left = cursor.remaining();
  if (tensor_count > left / kMinTensorInfoBytes || kv_count > left / kMinKeyValueBytes ||
      tensor_count * kMinTensorInfoBytes + kv_count * kMinKeyValueBytes > left) {
    return Status::Corrupt(std::to_string(tensor_count) + " tensors and " +
                           std::to_string(kv_count) + " metadata entries" + At(counts_at) +
                           " cannot fit in the " + std::to_string(left) + " bytes remaining");
  }

  metadata_.reserve(static_cast<size_t>(kv_count));
  for (uint64_t i = 0; i < kv_count; ++i) {
    const size_t key_at = cursor.offset();
    auto key = cursor.ReadString("metadata key");
    if (!key.ok()) return key.status().WithContext("metadata entry #" + std::to_string(i));
    const std::string context = "metadata key " + Quoted(*key);
    if (key->empty())
      return Status::Corrupt("metadata entry #" + std::to_string(i) + ": empty key" + At(key_at));
    if (metadata_index_.count(*key) != 0) {
      return Status::Corrupt(context + ": duplicate key" + At(key_at));
    }
    auto type = DecodeValueType(cursor);
    if (!type.ok()) return type.status().WithContext(context);
    const size_t value_at = cursor.offset();
    auto value = DecodeValue(cursor, *type);
    if (!value.ok()) return value.status().WithContext(context);
    if (*key == kAlignmentKey)
      INFERNET_RETURN_IF_ERROR(CheckAlignmentValue(*value, value_at, alignment_));
    metadata_.emplace_back(std::string(*key), std::move(*value));
    metadata_index_.emplace(metadata_.back().first, metadata_.size() - 1);
  }

  tensors_.reserve(static_cast<size_t>(tensor_count));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    const size_t name_at = cursor.offset();
    auto name = cursor.ReadString("tensor name");
    if (!name.ok()) return name.status().WithContext("tensor #" + std::to_string(i));
    if (name->empty())
      return Status::Corrupt("tensor #" + std::to_string(i) + ": empty name" + At(name_at));
    if (tensor_index_.count(*name) != 0) {
      return Status::Corrupt("tensor " + Quoted(*name) + ": duplicate name" + At(name_at));
    }
    TensorInfo info;
    info.name = std::string(*name);
    INFERNET_RETURN_IF_ERROR(ParseTensorInfo(cursor, alignment_, info));
    tensors_.push_back(std::move(info));
    tensor_index_.emplace(tensors_.back().name, tensors_.size() - 1);
  }

  // The data section starts at the first aligned offset after the header (padding may be absent
  // when there are no tensors, so only tensors' extents are checked against the file size).
  data_offset_ = (cursor.offset() + alignment_ - 1) / alignment_ * alignment_;
  const uint64_t file_size = bytes_.size();
  for (const TensorInfo& t : tensors_) {
    const bool fits = data_offset_ <= file_size && t.offset <= file_size - data_offset_ &&
                      t.size_bytes <= file_size - data_offset_ - t.offset;
    if (!fits) {
      const uint64_t begin = SaturatingAdd(data_offset_, t.offset);
      return Status::Corrupt("tensor " + Quoted(t.name) + ": data " +
                             Range(begin, SaturatingAdd(begin, t.size_bytes)) +
                             " extends past end of file (size " + std::to_string(file_size) + ")");
    }
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = tensors_[order[k - 1]];
    const TensorInfo& next = tensors_[order[k]];
    if (prev.offset + prev.size_bytes > next.offset) {
      return Status::Corrupt(
          "tensor " + Quoted(next.name) + ": data " +
          Range(data_offset_ + next.offset, data_offset_ + next.offset + next.size_bytes) +
          " overlaps tensor " + Quoted(prev.name) + " at " +
          Range(data_offset_ + prev.offset, data_offset_ + prev.offset + prev.size_bytes));
    }
  }
  return Status::Ok();
}

const Value* GgufFile::Find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

void GgufFile::ReleaseArrayElements(std::string_view key) {
  auto it = metadata_index_.find(key);
  if (it != metadata_index_.end()) metadata_[it->second].second.ReleaseArrayElements();
}

namespace {

template <class T>
Result<T> GetTyped(const GgufFile& file, std::string_view key, Result<T> (Value::*read)() const) {
  const Value* value = file.Find(key);
  if (value == nullptr) return Status::NotFound("metadata key " + Quoted(key) + " not found");
  Result<T> result = (value->*read)();
  if (!result.ok()) return result.status().WithContext("metadata key " + Quoted(key));
  return result;
}

}  // namespace

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  return GetTyped(*this, key, &Value::AsUint);
}
Result<double> GgufFile::GetFloat(std::string_view key) const {
  return GetTyped(*this, key, &Value::AsFloat);
}
Result<std::string_view> GgufFile::GetString(std::string_view key) const {
  return GetTyped(*this, key, &Value::AsString);
}
Result<bool> GgufFile::GetBool(std::string_view key) const {
  return GetTyped(*this, key, &Value::AsBool);
}

const TensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::TensorData(const TensorInfo& info) const {
  // Open() checked every tensor of this file; re-check so a foreign TensorInfo cannot over-read.
  const uint64_t size = bytes_.size();
  if (data_offset_ > size || info.offset > size - data_offset_ ||
      info.size_bytes > size - data_offset_ - info.offset) {
    return {};
  }
  return bytes_.subspan(static_cast<size_t>(data_offset_ + info.offset),
                        static_cast<size_t>(info.size_bytes));
}

}  // namespace infernet::gguf
