// Describes this machine for the node record: CPU model, cores and RAM from /proc, and GPUs from
// NVML when the NVIDIA driver is installed. NVML is loaded at run time (dlopen), so the binary
// neither links against nor requires it: without it the machine simply has no GPUs.
#pragma once

#include <string>

#include "infernet/v1/node_record.pb.h"

namespace infernet::discovery {

// Never fails: unknown values stay empty/zero. engine_backend and kernel_level are left for the
// caller (they depend on the engine build, not the hardware).
v1::Hardware ProbeHardware();

// Parsers, separated for testing with canned /proc contents.
std::string CpuModelFromCpuinfo(const std::string& cpuinfo);
uint64_t RamBytesFromMeminfo(const std::string& meminfo);

// GPUs reported by NVML; empty when libnvidia-ml.so.1 is absent or fails to initialise.
void AppendNvmlGpus(v1::Hardware* hardware);

}  // namespace infernet::discovery
