// gpu_kmeans.cu implements GpuKMeans: Lloyd iterations with the assignment
// as SGEMM (chunks of rows x all centroids) plus a warp-per-row argmin that
// also adds the row into its cluster's sum (float atomics) and the objective
// (one double atomic per block); centroids are recomputed on the host (k x
// dim is small), where empty clusters are refilled by splitting a cluster
// picked with probability proportional to its size (FAISS' rule: copy it,
// push the two copies apart by 1/1024 in alternate coordinates, halve its
// count).
#include "gpu/gpu_kmeans.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "gpu/cuda_status.cuh"

namespace vecdb::gpu {

using knowhere::Metric;
using knowhere::Status;

namespace {

// kChunkFloats bounds one assignment tile (rows x centroids floats): 256 MB.
constexpr size_t kChunkFloats = size_t{64} << 20;
// kSplitEps is how far a split pushes the two copies apart.
constexpr float kSplitEps = 1.0f / 1024.0f;

// Buffer owns one cudaMalloc allocation.
struct Buffer {
	void *ptr = nullptr;
	Buffer() = default;
	Buffer(const Buffer &) = delete;
	Buffer &operator=(const Buffer &) = delete;
	~Buffer() {
		if (ptr != nullptr)
			cudaFree(ptr);
	}
	template <typename T>
	T *as() const noexcept {
		return static_cast<T *>(ptr);
	}
};

// Handles owns the stream and cuBLAS handle of one call.
struct Handles {
	cudaStream_t stream = nullptr;
	cublasHandle_t blas = nullptr;
	~Handles() {
		if (blas != nullptr)
			cublasDestroy(blas);
		if (stream != nullptr)
			cudaStreamDestroy(stream);
	}
};

// NormsKernel writes the squared norm of each row (one warp per row).
__global__ void NormsKernel(const float *x, size_t n, int dim, float *norms) {
	size_t row = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
	int lane = threadIdx.x & 31;
	if (row >= n)
		return;
	float s = 0.0f;
	for (int j = lane; j < dim; j += 32) {
		float v = x[row * dim + j];
		s = fmaf(v, v, s);
	}
	for (int o = 16; o > 0; o >>= 1)
		s += __shfl_xor_sync(0xffffffffu, s, o);
	if (lane == 0)
		norms[row] = s;
}

// AssignKernel takes rows [0, rows) of a chunk (ip is rows x k, row-major):
// one warp per row finds the best centroid, adds the row to its sum and
// count, and the block adds its rows' objective to *objective.
template <bool kL2>
__global__ void AssignKernel(const float *__restrict__ ip, const float *__restrict__ x, const float *__restrict__ xn,
							 const float *__restrict__ cn, size_t rows, int k, int dim, float *sums,
							 unsigned *counts, double *objective) {
	__shared__ double block_obj[32];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
	double obj = 0.0;
	for (size_t row = static_cast<size_t>(blockIdx.x) * warps + warp; row < rows;
		 row += static_cast<size_t>(gridDim.x) * warps) {
		const float *r = ip + row * k;
		float best = INFINITY;
		int arg = 0x7fffffff;
		for (int j = lane; j < k; j += 32) {
			float s = kL2 ? cn[j] - 2.0f * r[j] : -r[j];
			if (s < best) {
				best = s;
				arg = j;
			}
		}
		for (int o = 16; o > 0; o >>= 1) {
			float b2 = __shfl_xor_sync(0xffffffffu, best, o);
			int a2 = __shfl_xor_sync(0xffffffffu, arg, o);
			if (b2 < best || (b2 == best && a2 < arg)) {
				best = b2;
				arg = a2;
			}
		}
		if (arg >= k)
			arg = 0; /* every score NaN: keep the row somewhere */
		const float *xr = x + row * dim;
		float *sr = sums + static_cast<size_t>(arg) * dim;
		for (int j = lane; j < dim; j += 32)
			atomicAdd(sr + j, xr[j]);
		if (lane == 0) {
			atomicAdd(counts + arg, 1u);
			obj += kL2 ? fmaxf(xn[row] + best, 0.0f) : -best;
		}
	}
	if (lane == 0)
		block_obj[warp] = obj;
	__syncthreads();
	if (threadIdx.x == 0) {
		double s = 0.0;
		for (int w = 0; w < warps; w++)
			s += block_obj[w];
		atomicAdd(objective, s);
	}
}

// KMeansSampled reports whether k-means trains on a sample of the rows.
bool KMeansSampled(size_t n, int k, const GpuKMeansOptions &options) {
	return options.max_points_per_centroid > 0 && n > options.max_points_per_centroid * static_cast<size_t>(k);
}

// Seconds returns the time since t0.
double Seconds(std::chrono::steady_clock::time_point t0) {
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// UpdateCentroids turns sums and counts into centroids (host), splitting
// large clusters into empty ones; returns the number of splits.
size_t UpdateCentroids(const std::vector<float> &sums, std::vector<unsigned> &counts, size_t n, int k, int dim,
					   bool spherical, std::mt19937_64 &rng, float *c) {
	for (int i = 0; i < k; i++) {
		if (counts[i] == 0)
			continue;
		float inv = 1.0f / static_cast<float>(counts[i]);
		for (int j = 0; j < dim; j++)
			c[static_cast<size_t>(i) * dim + j] = sums[static_cast<size_t>(i) * dim + j] * inv;
	}
	size_t splits = 0;
	std::uniform_real_distribution<double> u(0.0, 1.0);
	for (int ci = 0; ci < k; ci++) {
		if (counts[ci] != 0)
			continue;
		int cj = 0;
		for (size_t guard = 0;; cj = (cj + 1) % k, guard++) {
			double p = (static_cast<double>(counts[cj]) - 1.0) / static_cast<double>(n - k);
			if (counts[cj] > 1 && (u(rng) < p || guard > static_cast<size_t>(k) * 64))
				break;
		}
		float *a = c + static_cast<size_t>(ci) * dim, *b = c + static_cast<size_t>(cj) * dim;
		std::memcpy(a, b, sizeof(float) * dim);
		for (int j = 0; j < dim; j++) {
			if (j % 2 == 0) {
				a[j] *= 1 + kSplitEps;
				b[j] *= 1 - kSplitEps;
			} else {
				a[j] *= 1 - kSplitEps;
				b[j] *= 1 + kSplitEps;
			}
		}
		counts[ci] = counts[cj] / 2;
		counts[cj] -= counts[ci];
		splits++;
	}
	if (spherical) {
		for (int i = 0; i < k; i++) {
			double s = 0;
			for (int j = 0; j < dim; j++)
				s += static_cast<double>(c[static_cast<size_t>(i) * dim + j]) * c[static_cast<size_t>(i) * dim + j];
			if (s > 0) {
				float inv = static_cast<float>(1.0 / std::sqrt(s));
				for (int j = 0; j < dim; j++)
					c[static_cast<size_t>(i) * dim + j] *= inv;
			}
		}
	}
	return splits;
}

// Run is GpuKMeans after argument checks.
Status Run(const float *x, size_t n, int dim, int k, const GpuKMeansOptions &o, float *centroids,
		   GpuKMeansStats *stats) {
	auto t0 = std::chrono::steady_clock::now();
	int devices = 0;
	cudaError_t e = cudaGetDeviceCount(&devices);
	if (e != cudaSuccess || devices == 0) {
		cudaGetLastError();
		return Status::NotSupported(std::string("no CUDA device: ") +
									(e != cudaSuccess ? cudaGetErrorString(e) : "the CUDA runtime reports 0 devices"));
	}
	VECDB_CUDA_TRY(cudaSetDevice(0));
	std::vector<size_t> rows = KMeansTrainingRows(n, k, o);
	const bool sampled = KMeansSampled(n, k, o);
	const size_t m = sampled ? rows.size() : n;
	const size_t d = static_cast<size_t>(dim);
	std::vector<float> host_c(static_cast<size_t>(k) * d);
	for (int i = 0; i < k; i++)
		std::memcpy(host_c.data() + i * d, x + rows[i] * d, d * sizeof(float));

	Handles h;
	VECDB_CUDA_TRY(cudaStreamCreateWithFlags(&h.stream, cudaStreamNonBlocking));
	VECDB_CUBLAS_TRY(cublasCreate(&h.blas));
	VECDB_CUBLAS_TRY(cublasSetStream(h.blas, h.stream));
	VECDB_CUBLAS_TRY(cublasSetMathMode(h.blas, CUBLAS_PEDANTIC_MATH));
	Buffer dx, dxn, dc, dcn, dip, dsums, dcounts, dobj;
	VECDB_CUDA_TRY(cudaMalloc(&dx.ptr, m * d * sizeof(float)));
	if (sampled) {
		std::vector<float> stage(m * d);
		for (size_t i = 0; i < m; i++)
			std::memcpy(stage.data() + i * d, x + rows[i] * d, d * sizeof(float));
		VECDB_CUDA_TRY(cudaMemcpy(dx.ptr, stage.data(), m * d * sizeof(float), cudaMemcpyHostToDevice));
	} else {
		VECDB_CUDA_TRY(cudaMemcpy(dx.ptr, x, m * d * sizeof(float), cudaMemcpyHostToDevice));
	}
	const size_t chunk = std::max<size_t>(1, std::min(m, kChunkFloats / static_cast<size_t>(k)));
	VECDB_CUDA_TRY(cudaMalloc(&dxn.ptr, m * sizeof(float)));
	VECDB_CUDA_TRY(cudaMalloc(&dc.ptr, k * d * sizeof(float)));
	VECDB_CUDA_TRY(cudaMalloc(&dcn.ptr, k * sizeof(float)));
	VECDB_CUDA_TRY(cudaMalloc(&dip.ptr, chunk * k * sizeof(float)));
	VECDB_CUDA_TRY(cudaMalloc(&dsums.ptr, k * d * sizeof(float)));
	VECDB_CUDA_TRY(cudaMalloc(&dcounts.ptr, k * sizeof(unsigned)));
	VECDB_CUDA_TRY(cudaMalloc(&dobj.ptr, sizeof(double)));
	const bool l2 = o.metric != Metric::kInnerProduct;
	NormsKernel<<<static_cast<unsigned>((m * 32 + 255) / 256), 256, 0, h.stream>>>(dx.as<float>(), m, dim,
																				   dxn.as<float>());
	VECDB_CUDA_LAUNCHED();
	int sms = 0;
	VECDB_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
	std::mt19937_64 rng(o.seed ^ 0x5bd1e995ULL);
	std::vector<float> sums(static_cast<size_t>(k) * d);
	std::vector<unsigned> counts(k);
	const float one = 1.0f, zero = 0.0f;
	auto t_iter = std::chrono::steady_clock::now();
	double obj = 0;
	for (int it = 0; it < o.niter; it++) {
		if (o.should_stop != nullptr && o.should_stop(o.stop_arg))
			return Status::Cancelled();
		VECDB_CUDA_TRY(cudaMemcpyAsync(dc.ptr, host_c.data(), k * d * sizeof(float), cudaMemcpyHostToDevice, h.stream));
		NormsKernel<<<static_cast<unsigned>((static_cast<size_t>(k) * 32 + 255) / 256), 256, 0, h.stream>>>(
			dc.as<float>(), k, dim, dcn.as<float>());
		VECDB_CUDA_LAUNCHED();
		VECDB_CUDA_TRY(cudaMemsetAsync(dsums.ptr, 0, k * d * sizeof(float), h.stream));
		VECDB_CUDA_TRY(cudaMemsetAsync(dcounts.ptr, 0, k * sizeof(unsigned), h.stream));
		VECDB_CUDA_TRY(cudaMemsetAsync(dobj.ptr, 0, sizeof(double), h.stream));
		for (size_t r0 = 0; r0 < m; r0 += chunk) {
			size_t rm = std::min(chunk, m - r0);
			VECDB_CUBLAS_TRY(cublasSgemm(h.blas, CUBLAS_OP_T, CUBLAS_OP_N, k, static_cast<int>(rm), dim, &one,
										 dc.as<float>(), dim, dx.as<float>() + r0 * d, dim, &zero, dip.as<float>(), k));
			unsigned blocks = static_cast<unsigned>(std::min<size_t>((rm + 7) / 8, static_cast<size_t>(sms) * 16));
			if (l2)
				AssignKernel<true><<<blocks, 256, 0, h.stream>>>(dip.as<float>(), dx.as<float>() + r0 * d,
																 dxn.as<float>() + r0, dcn.as<float>(), rm, k, dim,
																 dsums.as<float>(), dcounts.as<unsigned>(),
																 dobj.as<double>());
			else
				AssignKernel<false><<<blocks, 256, 0, h.stream>>>(dip.as<float>(), dx.as<float>() + r0 * d,
																  dxn.as<float>() + r0, dcn.as<float>(), rm, k, dim,
																  dsums.as<float>(), dcounts.as<unsigned>(),
																  dobj.as<double>());
			VECDB_CUDA_LAUNCHED();
		}
		VECDB_CUDA_TRY(
			cudaMemcpyAsync(sums.data(), dsums.ptr, k * d * sizeof(float), cudaMemcpyDeviceToHost, h.stream));
		VECDB_CUDA_TRY(
			cudaMemcpyAsync(counts.data(), dcounts.ptr, k * sizeof(unsigned), cudaMemcpyDeviceToHost, h.stream));
		VECDB_CUDA_TRY(cudaMemcpyAsync(&obj, dobj.ptr, sizeof(double), cudaMemcpyDeviceToHost, h.stream));
		VECDB_CUDA_TRY(cudaStreamSynchronize(h.stream));
		if (stats != nullptr)
			stats->empty_splits += UpdateCentroids(sums, counts, m, k, dim, o.spherical, rng, host_c.data());
		else
			UpdateCentroids(sums, counts, m, k, dim, o.spherical, rng, host_c.data());
	}
	std::memcpy(centroids, host_c.data(), host_c.size() * sizeof(float));
	if (stats != nullptr) {
		stats->objective = obj;
		stats->iterations = o.niter;
		stats->seconds_iterations = Seconds(t_iter);
		stats->seconds_total = Seconds(t0);
	}
	return Status::Ok();
}

}  // namespace

// KMeansTrainingRows draws a seeded partial Fisher-Yates shuffle.
std::vector<size_t> KMeansTrainingRows(size_t n, int k, const GpuKMeansOptions &options) {
	size_t want = KMeansSampled(n, k, options) ? options.max_points_per_centroid * static_cast<size_t>(k)
											   : static_cast<size_t>(k);
	std::vector<size_t> perm(n);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	std::mt19937_64 rng(options.seed);
	for (size_t i = 0; i < want && i + 1 < n; i++) {
		size_t j = i + static_cast<size_t>(rng() % (n - i));
		std::swap(perm[i], perm[j]);
	}
	perm.resize(want);
	return perm;
}

// GpuKMeans checks its arguments and runs the iterations.
Status GpuKMeans(const float *x, size_t n, int dim, int k, const GpuKMeansOptions &options, float *centroids,
				 GpuKMeansStats *stats) noexcept {
	if (x == nullptr || centroids == nullptr)
		return Status::InvalidArgument("k-means input or output missing");
	if (dim < 1 || k < 1 || options.niter < 0)
		return Status::InvalidArgument("k-means needs dim >= 1, k >= 1 and niter >= 0");
	if (n < static_cast<size_t>(k))
		return Status::InvalidArgument("k-means needs at least k (" + std::to_string(k) + ") rows, got " +
									   std::to_string(n));
	if (n > (size_t{1} << 31))
		return Status::InvalidArgument("k-means takes at most 2^31 rows");
	if (options.metric != Metric::kL2 && options.metric != Metric::kInnerProduct)
		return Status::NotSupported("k-means assigns by L2 or inner product");
	if (stats != nullptr)
		*stats = GpuKMeansStats{};
	try {
		return Run(x, n, dim, k, options, centroids, stats);
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory in GPU k-means");
	} catch (const std::exception &ex) {
		return Status::Internal(std::string("GPU k-means: ") + ex.what());
	} catch (...) {
		return Status::Internal("GPU k-means: unknown exception");
	}
}

}  // namespace vecdb::gpu
