// Read-only mappings of model files that the kernel can back with 2 MiB pages.
//
// Decode streams every weight once per token, and with 4 KiB pages each page costs a TLB miss
// and a page walk that hardware prefetchers do not cross: measured on Zen 5, the 1b Q4_K test
// model decoded 52-56 tok/s from 4 KiB pages and 61-79 from 2 MiB ones (docs/benchmarks.md).
// A 2 MiB page of a file mapping needs a 2 MiB folio in the page cache and a mapping whose
// addresses and file offsets agree modulo 2 MiB; folios are created when the file is read or
// written, so a file cached in small folios (by whatever wrote it) stays so until evicted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace infernet::gguf {

struct FileMapping {
  void* address = nullptr;
  size_t size = 0;
  uint64_t huge_page_bytes = 0;  // bytes mapped by 2 MiB pages (measured when huge pages asked)
  bool recached = false;         // the file's cache was dropped and re-read in large folios
};

struct MapOptions {
  // Map at a 2 MiB boundary, ask for huge pages (MADV_HUGEPAGE) and read the whole file in now.
  // When a large file still ends up mostly in 4 KiB pages (its cache was filled in small folios),
  // its clean, unmapped cached pages are dropped once (POSIX_FADV_DONTNEED) and read again:
  // reads through a huge-page mapping fill the cache in 2 MiB folios. Pages other processes have
  // mapped are never dropped, and nothing is written.
  bool huge_pages = false;
};

// Maps `size` bytes of `fd` read-only and private; `fd` may be closed afterwards.
Result<FileMapping> MapFileReadOnly(int fd, size_t size, const MapOptions& options);

// Sum of the FilePmdMapped fields of the /proc/<pid>/smaps entries that begin within
// [start, start + size).
uint64_t PmdMappedBytesFromSmaps(std::string_view smaps, uintptr_t start, size_t size);

}  // namespace infernet::gguf
