#include "engine/gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "engine/gguf/gguf_file.h"

namespace infernet::gguf {
namespace {

constexpr std::string_view kAlignmentKey = "general.alignment";

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>& out) : out_(out) {}

  template <class T>
  void Put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void PadTo(uint64_t alignment) {
    out_.resize((out_.size() + alignment - 1) / alignment * alignment, 0);
  }

 private:
  std::vector<uint8_t>& out_;
};

uint64_t AlignUp(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

// Any numeric storage converted to T, so a Value built with the public constructor from a
// different but numeric storage still encodes as its declared type.
template <class T>
T NumericAs(const Value::Storage& storage) {
  if (const auto* u = std::get_if<uint64_t>(&storage)) return static_cast<T>(*u);
  if (const auto* i = std::get_if<int64_t>(&storage)) return static_cast<T>(*i);
  if (const auto* d = std::get_if<double>(&storage)) return static_cast<T>(*d);
  if (const auto* b = std::get_if<bool>(&storage)) return static_cast<T>(*b);
  return T{};
}

// Writes one integer (or BOOL) element of an integer array, narrowed to `type`.
void PutInteger(ByteSink& sink, ValueType type, int64_t v) {
  switch (type) {
    case ValueType::kUint8:
      sink.Put(static_cast<uint8_t>(v));
      break;
    case ValueType::kInt8:
      sink.Put(static_cast<int8_t>(v));
      break;
    case ValueType::kUint16:
      sink.Put(static_cast<uint16_t>(v));
      break;
    case ValueType::kInt16:
      sink.Put(static_cast<int16_t>(v));
      break;
    case ValueType::kUint32:
      sink.Put(static_cast<uint32_t>(v));
      break;
    case ValueType::kInt32:
      sink.Put(static_cast<int32_t>(v));
      break;
    case ValueType::kUint64:
      sink.Put(static_cast<uint64_t>(v));
      break;
    case ValueType::kInt64:
      sink.Put(v);
      break;
    case ValueType::kBool:
      sink.Put(static_cast<uint8_t>(v != 0));
      break;
    default:
      break;
  }
}

void PutArray(ByteSink& sink, const Value& value) {
  const ValueType element = value.array_type();
  sink.Put(static_cast<uint32_t>(element));
  const Value::Storage& storage = value.storage();
  if (element == ValueType::kString) {
    const auto* strings = std::get_if<PackedStrings>(&storage);
    sink.Put<uint64_t>(strings ? strings->size() : 0);
    if (strings)
      for (std::string_view s : *strings) sink.PutString(s);
  } else if (element == ValueType::kFloat32) {
    const auto* floats = std::get_if<std::vector<float>>(&storage);
    sink.Put<uint64_t>(floats ? floats->size() : 0);
    if (floats)
      for (float f : *floats) sink.Put(f);
  } else {
    // Integer and BOOL arrays; other element types have no storage and are written empty.
    const bool writable = element != ValueType::kFloat64 && element != ValueType::kArray;
    const auto* wide = std::get_if<std::vector<int64_t>>(&storage);
    const auto* narrow = std::get_if<std::vector<int32_t>>(&storage);
    if (!writable || (wide == nullptr && narrow == nullptr)) {
      sink.Put<uint64_t>(0);
    } else if (wide != nullptr) {
      sink.Put<uint64_t>(wide->size());
      for (int64_t v : *wide) PutInteger(sink, element, v);
    } else {
      sink.Put<uint64_t>(narrow->size());
      for (int32_t v : *narrow) PutInteger(sink, element, v);
    }
  }
}

void PutValue(ByteSink& sink, const Value& value) {
  const ValueType type = value.type();
  sink.Put(static_cast<uint32_t>(type));
  const Value::Storage& s = value.storage();
  switch (type) {
    case ValueType::kUint8:
      sink.Put(NumericAs<uint8_t>(s));
      break;
    case ValueType::kInt8:
      sink.Put(NumericAs<int8_t>(s));
      break;
    case ValueType::kUint16:
      sink.Put(NumericAs<uint16_t>(s));
      break;
    case ValueType::kInt16:
      sink.Put(NumericAs<int16_t>(s));
      break;
    case ValueType::kUint32:
      sink.Put(NumericAs<uint32_t>(s));
      break;
    case ValueType::kInt32:
      sink.Put(NumericAs<int32_t>(s));
      break;
    case ValueType::kUint64:
      sink.Put(NumericAs<uint64_t>(s));
      break;
    case ValueType::kInt64:
      sink.Put(NumericAs<int64_t>(s));
      break;
    case ValueType::kFloat32:
      sink.Put(NumericAs<float>(s));
      break;
    case ValueType::kFloat64:
      sink.Put(NumericAs<double>(s));
      break;
    case ValueType::kBool:
      sink.Put(static_cast<uint8_t>(NumericAs<uint8_t>(s) != 0));
      break;
    case ValueType::kString: {
      const auto* str = std::get_if<std::string>(&s);
      sink.PutString(str ? std::string_view(*str) : std::string_view());
      break;
    }
    case ValueType::kArray:
      PutArray(sink, value);
      break;
  }
}

Status WriteAll(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Io("cannot write " + path + ": " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

void GgufWriter::SetValue(std::string key, Value value) {
  for (auto& [existing_key, existing_value] : metadata_) {
    if (existing_key == key) {
      existing_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

Status GgufWriter::AddTensor(std::string name, std::vector<int64_t> shape, TensorType type,
                             std::vector<uint8_t> data) {
  const std::string context = "tensor '" + name + "'";
  if (name.empty()) return Status::InvalidArgument("tensor name is empty");
  for (const PendingTensor& t : tensors_) {
    if (t.name == name) return Status(StatusCode::kAlreadyExists, context + ": already added");
  }
  if (!TensorTypeFromGguf(static_cast<uint32_t>(type))) {
    return Status::InvalidArgument(context + ": " + std::string(TypeName(type)) +
                                   " is not a storable tensor type");
  }
  if (shape.empty() || shape.size() > static_cast<size_t>(kMaxDims)) {
    return Status::InvalidArgument(context + ": " + std::to_string(shape.size()) +
                                   " dimensions (must be 1.." + std::to_string(kMaxDims) + ")");
  }
  int64_t elements = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] <= 0) {
      return Status::InvalidArgument(context + ": dimension " + std::to_string(d) + " is " +
                                     std::to_string(shape[d]) + " (must be positive)");
    }
    if (__builtin_mul_overflow(elements, shape[d], &elements)) {
      return Status::InvalidArgument(context + ": element count overflows");
    }
  }
  const TensorTypeTraits& traits = Traits(type);
  if (shape[0] % traits.block_elems != 0) {
    return Status::InvalidArgument(context + ": row length " + std::to_string(shape[0]) +
                                   " is not a multiple of the " + std::string(traits.name) +
                                   " block size " + std::to_string(traits.block_elems));
  }
  const uint64_t expected =
      static_cast<uint64_t>(elements / traits.block_elems) * traits.block_bytes;
  if (data.size() != expected) {
    return Status::InvalidArgument(context + ": " + std::to_string(data.size()) +
                                   " data bytes, expected " + std::to_string(expected));
  }
  tensors_.push_back({std::move(name), std::move(shape), type, std::move(data)});
  return Status::Ok();
}

Status GgufWriter::set_alignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    return Status::InvalidArgument("alignment " + std::to_string(alignment) +
                                   " is not a non-zero power of two");
  }
  alignment_ = alignment;
  return Status::Ok();
}

namespace {

struct Layout {
  std::vector<uint8_t> header;    // everything before the data section, padded to the alignment
  std::vector<uint64_t> offsets;  // each tensor's offset within the data section
  uint64_t data_size = 0;         // the data section, including trailing padding
};

// Templated on the tensor list so it can read the writer's private PendingTensor fields.
template <class Tensors>
Layout PlanLayout(const std::vector<std::pair<std::string, Value>>& metadata, uint32_t alignment,
                  const Tensors& tensors) {
  Layout layout;
  for (const auto& t : tensors) {
    layout.offsets.push_back(layout.data_size);
    layout.data_size = AlignUp(layout.data_size + t.data.size(), alignment);
  }
  ByteSink sink(layout.header);
  sink.Put(kMagic);
  sink.Put(kVersion);
  sink.Put<uint64_t>(tensors.size());
  uint64_t kv_count = alignment != kDefaultAlignment ? 1 : 0;
  for (const auto& [key, value] : metadata) kv_count += key != kAlignmentKey ? 1 : 0;
  sink.Put(kv_count);
  if (alignment != kDefaultAlignment) {
    sink.PutString(kAlignmentKey);
    PutValue(sink, Value::Uint32(alignment));
  }
  for (const auto& [key, value] : metadata) {
    if (key == kAlignmentKey) continue;  // managed by set_alignment()
    sink.PutString(key);
    PutValue(sink, value);
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    sink.PutString(tensors[i].name);
    sink.Put(static_cast<uint32_t>(tensors[i].shape.size()));
    for (int64_t d : tensors[i].shape) sink.Put(static_cast<uint64_t>(d));
    sink.Put(static_cast<uint32_t>(tensors[i].type));
    sink.Put(layout.offsets[i]);
  }
  sink.PadTo(alignment);
  return layout;
}

}  // namespace

std::vector<uint8_t> GgufWriter::WriteToBuffer() const {
  Layout layout = PlanLayout(metadata_, alignment_, tensors_);
  std::vector<uint8_t> out = std::move(layout.header);
  const size_t data_start = out.size();
  out.resize(data_start + layout.data_size, 0);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    std::memcpy(out.data() + data_start + layout.offsets[i], tensors_[i].data.data(),
                tensors_[i].data.size());
  }
  return out;
}

Status GgufWriter::WriteFile(const std::filesystem::path& path) const {
  // Streams tensor data after the header so a large model is not copied in memory.
  const Layout layout = PlanLayout(metadata_, alignment_, tensors_);
  const std::vector<uint64_t>& offsets = layout.offsets;
  const std::vector<uint8_t>& header = layout.header;
  const uint64_t offset = layout.data_size;

  std::filesystem::path temp = path;
  temp += ".tmp." + std::to_string(::getpid());
  const std::string temp_name = temp.string();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io("cannot create " + temp_name + ": " + std::strerror(errno));
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(temp.c_str());
    return s;
  };
  Status s = WriteAll(fd, header.data(), header.size(), temp_name);
  if (!s.ok()) return fail(s);
  const std::vector<uint8_t> padding(alignment_, 0);
  uint64_t written = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    s = WriteAll(fd, padding.data(), offsets[i] - written, temp_name);
    if (!s.ok()) return fail(s);
    s = WriteAll(fd, tensors_[i].data.data(), tensors_[i].data.size(), temp_name);
    if (!s.ok()) return fail(s);
    written = offsets[i] + tensors_[i].data.size();
  }
  s = WriteAll(fd, padding.data(), offset - written, temp_name);
  if (!s.ok()) return fail(s);
  if (::fsync(fd) != 0)
    return fail(Status::Io("cannot fsync " + temp_name + ": " + std::strerror(errno)));
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Status::Io("cannot close " + temp_name + ": " + std::strerror(err));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Status::Io("cannot rename " + temp_name + " to " + path.string() + ": " +
                      std::strerror(err));
  }
  // Persist the rename itself; best effort, the data is already durable.
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace infernet::gguf
