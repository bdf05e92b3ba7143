#include "discovery/hardware_probe.h"

#include <gtest/gtest.h>

namespace infernet::discovery {
namespace {

TEST(HardwareProbeTest, ThisMachineHasSaneCpuValues) {
  const v1::Hardware hardware = ProbeHardware();
  EXPECT_FALSE(hardware.cpu_model().empty());
  EXPECT_GE(hardware.cpu_cores(), 1u);
  EXPECT_LE(hardware.cpu_cores(), 4096u);
  EXPECT_GE(hardware.ram_bytes(), uint64_t{64} << 20);
  EXPECT_LE(hardware.ram_bytes(), uint64_t{64} << 40);
  for (const v1::GpuInfo& gpu : hardware.gpus()) {  // only on machines with NVML
    EXPECT_FALSE(gpu.name().empty());
    EXPECT_GT(gpu.vram_bytes(), 0u);
  }
}

TEST(HardwareProbeTest, ParsesCpuinfoAndMeminfo) {
  EXPECT_EQ(CpuModelFromCpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\n"
                                "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t: fpu\n"),
            "Intel(R) Xeon(R) CPU @ 2.20GHz");
  EXPECT_EQ(CpuModelFromCpuinfo("nothing here\n"), "");
  EXPECT_EQ(RamBytesFromMeminfo("MemTotal:       16318504 kB\nMemFree: 1 kB\n"),
            uint64_t{16318504} * 1024);
  EXPECT_EQ(RamBytesFromMeminfo("MemTotal: lots\n"), 0u);
  EXPECT_EQ(RamBytesFromMeminfo(""), 0u);
}

}  // namespace
}  // namespace infernet::discovery
