// gpu_kmeans.hpp declares GPU k-means (Lloyd iterations on a CUDA device),
// whose centroids train the CPU IVF kinds' coarse quantizer. No CUDA type
// appears here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::gpu {

// GpuKMeansOptions holds the knobs of one GpuKMeans call. The defaults follow
// FAISS' Clustering where it has one (spherical for inner product IVF).
struct GpuKMeansOptions {
	int niter = 10;                     /* Lloyd iterations */
	uint64_t seed = 42;                 /* initial centroids, sampling, empty-cluster splits */
	knowhere::Metric metric = knowhere::Metric::kL2; /* kL2: nearest by L2; kInnerProduct: largest inner product */
	bool spherical = false;             /* normalize centroids after each update */
	size_t max_points_per_centroid = 0; /* > 0: train on a sample of k * this many rows (FAISS: 256) */
	knowhere::StopCallback should_stop = nullptr; /* polled before each iteration: Cancelled when it fires */
	void *stop_arg = nullptr;
};

// GpuKMeansStats reports what one call did.
struct GpuKMeansStats {
	double objective = 0;       /* last assignment's sum of squared L2 (L2) or of inner products (IP) */
	int iterations = 0;
	size_t empty_splits = 0;    /* empty clusters refilled by splitting a large one */
	double seconds_total = 0;   /* whole call, host-to-device copy included */
	double seconds_iterations = 0;
};

// KMeansTrainingRows returns the first entries of a seeded partial shuffle
// of 0 .. n-1: the k rows GpuKMeans starts its centroids from, followed,
// when it trains on a sample, by the rest of the sample (all n rows train
// otherwise). A CPU reference that starts from the
// same rows runs the same Lloyd iterations. Throws std::bad_alloc.
std::vector<size_t> KMeansTrainingRows(size_t n, int k, const GpuKMeansOptions &options);

// GpuKMeans clusters n rows of dim floats (host memory, row-major) into k
// centroids written to centroids (k x dim, host memory). Each iteration
// assigns every row through one SGEMM per chunk and an argmin, accumulates
// the clusters' sums with atomics, then recomputes the centroids on the
// host, splitting a large cluster into any empty one as FAISS does.
// NotSupported without a CUDA device; InvalidArgument when n < k;
// Cancelled when options.should_stop fires.
knowhere::Status GpuKMeans(const float *x, size_t n, int dim, int k, const GpuKMeansOptions &options,
						 float *centroids, GpuKMeansStats *stats) noexcept;

// GpuTrainStats counts what the registered IVF centroid trainer did in this
// process (RegisterGpuCentroidTrainer).
struct GpuTrainStats {
	uint64_t calls = 0;        /* requests from IVF Train */
	uint64_t trained = 0;      /* answered with centroids */
	uint64_t failed = 0;       /* failed (the index trained on the CPU) or cancelled */
	double last_seconds = 0;   /* the last successful call, host-to-device copy included */
	char last_error[256] = {}; /* the last failure's message */
};

// RegisterGpuCentroidTrainer makes GpuKMeans the engine's centroid trainer
// for IVF_FLAT, IVF_PQ and IVF_SQ8 (IndexConfig::train_device; usable when
// CheckDevice is Ok). RegisterGpuKinds calls it.
void RegisterGpuCentroidTrainer() noexcept;

// GetGpuTrainStats returns the trainer's counters.
GpuTrainStats GetGpuTrainStats() noexcept;

}  // namespace vecdb::gpu
