// cuda_status.cuh turns CUDA runtime and cuBLAS return codes into engine
// Status values; internal to src/gpu (CUDA types never leave the .cu files).
#pragma once

#include <string>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "knowhere/status.hpp"

namespace vecdb::gpu {

// CudaStatus maps a CUDA error to a Status naming the call that failed; an
// allocation failure is OutOfMemory, a missing driver or device NotSupported.
inline knowhere::Status CudaStatus(cudaError_t e, const char *what) noexcept {
	if (e == cudaSuccess)
		return knowhere::Status::Ok();
	cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */
	std::string msg;
	try {
		msg = std::string(what) + ": " + cudaGetErrorString(e);
	} catch (...) {
	}
	if (e == cudaErrorMemoryAllocation)
		return knowhere::Status::OutOfMemory(std::move(msg));
	if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver)
		return knowhere::Status::NotSupported("no CUDA device: " + msg);
	return knowhere::Status::Internal(std::move(msg));
}

// CublasStatus maps a cuBLAS status to a Status.
inline knowhere::Status CublasStatus(cublasStatus_t s, const char *what) noexcept {
	if (s == CUBLAS_STATUS_SUCCESS)
		return knowhere::Status::Ok();
	std::string msg;
	try {
		msg = std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(s));
	} catch (...) {
	}
	if (s == CUBLAS_STATUS_ALLOC_FAILED)
		return knowhere::Status::OutOfMemory(std::move(msg));
	return knowhere::Status::Internal(std::move(msg));
}

}  // namespace vecdb::gpu

// VECDB_CUDA_TRY returns from the enclosing Status function when a CUDA call fails.
#define VECDB_CUDA_TRY(call)                                                        \
	do {                                                                            \
		cudaError_t _vecdb_e = (call);                                              \
		if (_vecdb_e != cudaSuccess)                                                \
			return ::vecdb::gpu::CudaStatus(_vecdb_e, #call);                       \
	} while (0)

// VECDB_CUBLAS_TRY is VECDB_CUDA_TRY for cuBLAS calls.
#define VECDB_CUBLAS_TRY(call)                                                      \
	do {                                                                            \
		cublasStatus_t _vecdb_s = (call);                                           \
		if (_vecdb_s != CUBLAS_STATUS_SUCCESS)                                      \
			return ::vecdb::gpu::CublasStatus(_vecdb_s, #call);                     \
	} while (0)

// VECDB_CUDA_LAUNCHED checks the launch of the kernel just issued.
#define VECDB_CUDA_LAUNCHED() VECDB_CUDA_TRY(cudaGetLastError())
