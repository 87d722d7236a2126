// l2_batch.cu implements L2SqrBatch: one thread block per base vector, a shared
// memory tree reduction over the dimensions.
#include "gpu/l2_batch.hpp"

#include <cstdio>

#include <cuda_runtime.h>

namespace vecdb::gpu {

namespace {

constexpr int kThreads = 128;

// L2SqrKernel computes one row's squared distance per block.
__global__ void L2SqrKernel(const float *query, const float *base, size_t d, float *dist) {
	__shared__ float partial[kThreads];
	const float *row = base + static_cast<size_t>(blockIdx.x) * d;
	float s = 0.0f;
	for (size_t j = threadIdx.x; j < d; j += kThreads) {
		float t = row[j] - query[j];
		s += t * t;
	}
	partial[threadIdx.x] = s;
	__syncthreads();
	for (int stride = kThreads / 2; stride > 0; stride /= 2) {
		if (threadIdx.x < stride)
			partial[threadIdx.x] += partial[threadIdx.x + stride];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		dist[blockIdx.x] = partial[0];
}

// Fail records a CUDA error message and returns false.
bool Fail(cudaError_t e, const char *what, char *err, size_t err_len) {
	std::snprintf(err, err_len, "%s: %s", what, cudaGetErrorString(e));
	cudaGetLastError();
	return false;
}

}  // namespace

// L2SqrBatch copies the inputs to the device, runs the kernel and copies back.
bool L2SqrBatch(const float *query, const float *base, size_t n, size_t d, float *dist,
				char *err, size_t err_len) noexcept {
	if (n == 0)
		return true;
	float *dq = nullptr, *db = nullptr, *dd = nullptr;
	cudaError_t e;
	bool ok = false;
	if ((e = cudaMalloc(&dq, d * sizeof(float))) != cudaSuccess) {
		Fail(e, "cudaMalloc", err, err_len);
		goto done;
	}
	if ((e = cudaMalloc(&db, n * d * sizeof(float))) != cudaSuccess ||
		(e = cudaMalloc(&dd, n * sizeof(float))) != cudaSuccess) {
		Fail(e, "cudaMalloc", err, err_len);
		goto done;
	}
	if ((e = cudaMemcpy(dq, query, d * sizeof(float), cudaMemcpyHostToDevice)) != cudaSuccess ||
		(e = cudaMemcpy(db, base, n * d * sizeof(float), cudaMemcpyHostToDevice)) != cudaSuccess) {
		Fail(e, "cudaMemcpy", err, err_len);
		goto done;
	}
	L2SqrKernel<<<static_cast<unsigned>(n), kThreads>>>(dq, db, d, dd);
	if ((e = cudaGetLastError()) != cudaSuccess) {
		Fail(e, "kernel launch", err, err_len);
		goto done;
	}
	if ((e = cudaMemcpy(dist, dd, n * sizeof(float), cudaMemcpyDeviceToHost)) != cudaSuccess) {
		Fail(e, "cudaMemcpy", err, err_len);
		goto done;
	}
	ok = true;
done:
	cudaFree(dq);
	cudaFree(db);
	cudaFree(dd);
	return ok;
}

}  // namespace vecdb::gpu
