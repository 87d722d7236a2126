// device_buffer.cuh holds DeviceBuffer, one owned cudaMalloc allocation
// that the GPU index kinds reuse between calls; internal to src/gpu.
#pragma once

#include <algorithm>
#include <cstddef>

#include <cuda_runtime.h>

#include "gpu/cuda_status.cuh"
#include "knowhere/status.hpp"

namespace vecdb::gpu {

// DeviceBuffer owns one cudaMalloc allocation.
struct DeviceBuffer {
	void *ptr = nullptr;
	size_t bytes = 0;

	DeviceBuffer() = default;
	DeviceBuffer(const DeviceBuffer &) = delete;
	DeviceBuffer &operator=(const DeviceBuffer &) = delete;
	~DeviceBuffer() { Free(); }

	// Free releases the allocation.
	void Free() noexcept {
		if (ptr != nullptr)
			cudaFree(ptr);
		ptr = nullptr;
		bytes = 0;
	}
	// Reserve makes the buffer at least bytes long, dropping its contents.
	knowhere::Status Reserve(size_t want) noexcept {
		if (want <= bytes && ptr != nullptr)
			return knowhere::Status::Ok();
		Free();
		VECDB_CUDA_TRY(cudaMalloc(&ptr, std::max<size_t>(want, 256)));
		bytes = std::max<size_t>(want, 256);
		return knowhere::Status::Ok();
	}
	template <typename T>
	T *as() const noexcept {
		return static_cast<T *>(ptr);
	}
};

}  // namespace vecdb::gpu
