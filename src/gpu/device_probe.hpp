// device_probe.hpp declares the engine's CUDA device discovery, which reports
// "no GPU" as an ordinary answer rather than an error.
#pragma once

#include <cstddef>

namespace vecdb::gpu {

// DeviceInfo describes one CUDA device.
struct DeviceInfo {
	char name[256];
	int major;
	int minor;
	size_t total_memory;
	int multiprocessors;
};

// ProbeResult holds what ProbeDevices found; reason explains a count of zero.
struct ProbeResult {
	int count;
	char reason[256];
};

// ProbeDevices fills up to max entries of out and returns how many CUDA devices
// are usable; with none (no driver, no device) count is 0 and reason says why.
ProbeResult ProbeDevices(DeviceInfo *out, int max) noexcept;

}  // namespace vecdb::gpu
