#include "discovery/hardware_probe.h"

#include <dlfcn.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>

namespace infernet::discovery {
namespace {

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  // /proc files are small, but cap anyway: a pathological one must not exhaust memory.
  constexpr size_t kCap = 4 << 20;
  std::string text;
  char buffer[64 * 1024];
  while (text.size() < kCap) {
    in.read(buffer, sizeof(buffer));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

// The subset of NVML's C API we use (nvml.h, stable since CUDA 8). Declared here so that the
// build needs no NVIDIA headers.
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr int kNvmlClockMem = 2;  // NVML_CLOCK_MEM

struct Nvml {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*device_count)(unsigned*) = nullptr;
  nvmlReturn_t (*device_by_index)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, NvmlMemory*) = nullptr;
  nvmlReturn_t (*compute_capability)(nvmlDevice_t, int*, int*) = nullptr;
  nvmlReturn_t (*gpu_cores)(nvmlDevice_t, unsigned*) = nullptr;  // newer drivers only
  nvmlReturn_t (*bus_width)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*max_clock)(nvmlDevice_t, int, unsigned*) = nullptr;
};

template <class F>
void Bind(void* library, const char* symbol, F* function) {
  *function = reinterpret_cast<F>(dlsym(library, symbol));
}

// CUDA cores per streaming multiprocessor by compute capability (CUDA programming guide).
unsigned CoresPerMultiprocessor(int major, int minor) {
  switch (major) {
    case 6:
      return minor == 0 ? 64 : 128;
    case 7:
      return 64;
    case 8:
      return minor == 0 ? 64 : 128;
    case 9:
    case 10:
    case 12:
      return 128;
    default:
      return 0;  // unknown: do not guess
  }
}

}  // namespace

std::string CpuModelFromCpuinfo(const std::string& cpuinfo) {
  std::istringstream lines(cpuinfo);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string field = Trim(line.substr(0, colon));
    // x86 says "model name"; some ARM kernels only have "Hardware" or "Processor".
    if (field == "model name" || field == "Processor" || field == "Hardware") {
      return Trim(line.substr(colon + 1));
    }
  }
  return {};
}

uint64_t RamBytesFromMeminfo(const std::string& meminfo) {
  std::istringstream lines(meminfo);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    uint64_t kib = 0;
    std::string unit;
    if (fields >> kib >> unit && unit == "kB") return kib * 1024;
    return 0;
  }
  return 0;
}

void AppendNvmlGpus(v1::Hardware* hardware) {
  void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) return;  // no NVIDIA driver: a CPU-only machine
  Nvml nvml;
  Bind(library, "nvmlInit_v2", &nvml.init);
  Bind(library, "nvmlShutdown", &nvml.shutdown);
  Bind(library, "nvmlDeviceGetCount_v2", &nvml.device_count);
  Bind(library, "nvmlDeviceGetHandleByIndex_v2", &nvml.device_by_index);
  Bind(library, "nvmlDeviceGetName", &nvml.name);
  Bind(library, "nvmlDeviceGetMemoryInfo", &nvml.memory);
  Bind(library, "nvmlDeviceGetCudaComputeCapability", &nvml.compute_capability);
  Bind(library, "nvmlDeviceGetNumGpuCores", &nvml.gpu_cores);
  Bind(library, "nvmlDeviceGetMemoryBusWidth", &nvml.bus_width);
  Bind(library, "nvmlDeviceGetMaxClockInfo", &nvml.max_clock);
  if (nvml.init == nullptr || nvml.shutdown == nullptr || nvml.device_count == nullptr ||
      nvml.device_by_index == nullptr || nvml.init() != 0) {
    dlclose(library);
    return;
  }
  unsigned count = 0;
  if (nvml.device_count(&count) != 0) count = 0;
  for (unsigned i = 0; i < count && i < 64; ++i) {
    nvmlDevice_t device = nullptr;
    if (nvml.device_by_index(i, &device) != 0) continue;
    v1::GpuInfo* gpu = hardware->add_gpus();
    char name[96] = {};
    if (nvml.name && nvml.name(device, name, sizeof(name) - 1) == 0) gpu->set_name(name);
    NvmlMemory memory{};
    if (nvml.memory && nvml.memory(device, &memory) == 0) gpu->set_vram_bytes(memory.total);
    int major = 0, minor = 0;
    if (nvml.compute_capability && nvml.compute_capability(device, &major, &minor) == 0) {
      gpu->set_compute_capability_major(static_cast<uint32_t>(major));
      gpu->set_compute_capability_minor(static_cast<uint32_t>(minor));
    }
    unsigned cores = 0;
    if (nvml.gpu_cores && nvml.gpu_cores(device, &cores) == 0 && cores > 0) {
      gpu->set_cuda_cores(cores);
      const unsigned per_sm = CoresPerMultiprocessor(major, minor);
      if (per_sm > 0) gpu->set_multiprocessors(cores / per_sm);
    }
    unsigned bus_bits = 0, clock_mhz = 0;
    if (nvml.bus_width && nvml.max_clock && nvml.bus_width(device, &bus_bits) == 0 &&
        nvml.max_clock(device, kNvmlClockMem, &clock_mhz) == 0) {
      // Double data rate: two transfers per memory clock.
      gpu->set_memory_bandwidth_bytes_per_s(uint64_t{bus_bits} / 8 * uint64_t{clock_mhz} *
                                            1'000'000 * 2);
    }
  }
  nvml.shutdown();
  dlclose(library);
}

v1::Hardware ProbeHardware() {
  v1::Hardware hardware;
  hardware.set_cpu_model(CpuModelFromCpuinfo(ReadSmallFile("/proc/cpuinfo")));
  hardware.set_cpu_cores(std::thread::hardware_concurrency());
  hardware.set_ram_bytes(RamBytesFromMeminfo(ReadSmallFile("/proc/meminfo")));
  AppendNvmlGpus(&hardware);
  return hardware;
}

}  // namespace infernet::discovery
