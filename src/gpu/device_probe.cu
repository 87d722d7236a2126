// device_probe.cu finds CUDA devices through the runtime API.
#include "gpu/device_probe.hpp"

#include <cstdio>
#include <cstring>

#include <cuda_runtime.h>

namespace vecdb::gpu {

// ProbeDevices asks the CUDA runtime for devices, treating a missing driver or
// device as "none" with a reason.
ProbeResult ProbeDevices(DeviceInfo *out, int max) noexcept {
	ProbeResult result{};
	int n = 0;
	cudaError_t err = cudaGetDeviceCount(&n);
	if (err != cudaSuccess) {
		std::snprintf(result.reason, sizeof(result.reason), "no GPU: %s (%s)",
					  cudaGetErrorString(err), cudaGetErrorName(err));
		cudaGetLastError();	/* clear the sticky error state */
		return result;
	}
	if (n == 0) {
		std::snprintf(result.reason, sizeof(result.reason), "no GPU: the CUDA runtime reports 0 devices");
		return result;
	}
	result.count = n;
	for (int i = 0; i < n && i < max; i++) {
		cudaDeviceProp prop;
		if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
			cudaGetLastError();
			continue;
		}
		std::memset(&out[i], 0, sizeof(out[i]));
		std::snprintf(out[i].name, sizeof(out[i].name), "%s", prop.name);
		out[i].major = prop.major;
		out[i].minor = prop.minor;
		out[i].total_memory = prop.totalGlobalMem;
		out[i].multiprocessors = prop.multiProcessorCount;
	}
	std::snprintf(result.reason, sizeof(result.reason), "%d device(s)", n);
	return result;
}

}  // namespace vecdb::gpu
