#include "engine/gguf/file_mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels answer EINVAL, then faults read it
#endif

namespace infernet::gguf {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// Re-reading a file costs its size in disk reads; below this the TLB misses cost less.
constexpr size_t kMinRecacheBytes = size_t{16} << 20;

size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

Status MapError(const char* what) {
  return Status::Io(std::string(what) + " failed: " + std::strerror(errno));
}

// Maps the file at an address that is a multiple of 2 MiB (file offset 0 there), by reserving
// 2 MiB more address space than needed and trimming both ends.
Result<void*> MapAligned(int fd, size_t size) {
  const size_t mapped = RoundUp(size, PageSize());
  void* reserve = ::mmap(nullptr, mapped + kHugePage, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserve == MAP_FAILED) return MapError("mmap (address reservation)");
  const auto base = reinterpret_cast<uintptr_t>(reserve);
  const uintptr_t aligned = RoundUp(base, kHugePage);
  void* map =
      ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  if (map == MAP_FAILED) {
    const Status error = MapError("mmap");
    ::munmap(reserve, mapped + kHugePage);
    return error;
  }
  if (aligned > base) ::munmap(reserve, aligned - base);
  const uintptr_t end = aligned + mapped, reserve_end = base + mapped + kHugePage;
  if (reserve_end > end) ::munmap(reinterpret_cast<void*>(end), reserve_end - end);
  return map;
}

bool TransparentHugePagesOff() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return !std::getline(in, line) || line.find("[never]") != std::string::npos;
}

uint64_t MeasureHugePageBytes(const void* address, size_t size) {
  std::ifstream in("/proc/self/smaps");
  std::stringstream text;
  text << in.rdbuf();
  return PmdMappedBytesFromSmaps(text.str(), reinterpret_cast<uintptr_t>(address), size);
}

// Huge-page advice and the read-in; either may be unsupported (EINVAL), which only costs speed.
FileMapping AdviseAndPopulate(void* map, size_t size) {
  ::madvise(map, size, MADV_HUGEPAGE);
  if (::madvise(map, size, MADV_POPULATE_READ) != 0) ::madvise(map, size, MADV_WILLNEED);
  return FileMapping{map, size, MeasureHugePageBytes(map, size), false};
}

bool ParseHex(std::string_view text, uintptr_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

uint64_t PmdMappedBytesFromSmaps(std::string_view smaps, uintptr_t start, size_t size) {
  constexpr std::string_view kField = "FilePmdMapped:";
  uint64_t total = 0;
  bool inside = false;
  while (!smaps.empty()) {
    const size_t eol = smaps.find('\n');
    const std::string_view line = smaps.substr(0, eol);
    smaps = eol == std::string_view::npos ? std::string_view() : smaps.substr(eol + 1);
    // An entry's header is "start-end perms offset dev inode [path]"; fields are "Name: value".
    const size_t dash = line.find('-'), space = line.find(' ');
    uintptr_t lo = 0, hi = 0;
    if (dash != std::string_view::npos && space != std::string_view::npos && dash < space &&
        ParseHex(line.substr(0, dash), lo) &&
        ParseHex(line.substr(dash + 1, space - dash - 1), hi)) {
      inside = lo >= start && lo < start + size && hi > lo;
      continue;
    }
    if (!inside || !line.starts_with(kField)) continue;
    std::string_view value = line.substr(kField.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    uint64_t kib = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), kib);
    if (error == std::errc() && std::string_view(end, value.data() + value.size()) == " kB") {
      total += kib * 1024;
    }
  }
  return total;
}

Result<FileMapping> MapFileReadOnly(int fd, size_t size, const MapOptions& options) {
  if (!options.huge_pages || size < kHugePage || TransparentHugePagesOff()) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) return MapError("mmap");
    // Inference reads every weight, so ask the kernel to start reading ahead now.
    ::madvise(map, size, MADV_WILLNEED);
    return FileMapping{map, size, 0, false};
  }
  INFERNET_ASSIGN_OR_RETURN(void* map, MapAligned(fd, size));
  FileMapping mapping = AdviseAndPopulate(map, size);
  if (size < kMinRecacheBytes || mapping.huge_page_bytes >= size / 2) return mapping;
  // Mostly small folios: drop what nobody else maps and read it again through a fresh mapping.
  ::munmap(map, size);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  INFERNET_ASSIGN_OR_RETURN(map, MapAligned(fd, size));
  mapping = AdviseAndPopulate(map, size);
  mapping.recached = true;
  return mapping;
}

}  // namespace infernet::gguf
