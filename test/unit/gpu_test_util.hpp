// gpu_test_util.hpp gives the GPU unit tests one way to find out whether a
// device is usable and to skip a case, with the reason printed, when not.
#pragma once

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "gpu/device_probe.hpp"

namespace vecdb::gpu::testutil {

// NoGpuReason returns why there is no usable device, or "" when there is one.
inline std::string NoGpuReason() {
	DeviceInfo devs[1];
	ProbeResult r = ProbeDevices(devs, 1);
	return r.count > 0 ? std::string() : std::string(r.reason);
}

}  // namespace vecdb::gpu::testutil

// SKIP_WITHOUT_GPU skips the current test, printing why, when no device is usable.
#define SKIP_WITHOUT_GPU()                                                   \
	do {                                                                     \
		std::string why_ = ::vecdb::gpu::testutil::NoGpuReason();            \
		if (!why_.empty()) {                                                 \
			std::printf("skipped: %s\n", why_.c_str());                      \
			GTEST_SKIP() << why_;                                            \
		}                                                                    \
	} while (0)
