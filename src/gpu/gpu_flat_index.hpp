// gpu_flat_index.hpp declares GPU_FLAT, the exact float32 index whose rows
// live on a CUDA device, behind the engine's Index interface. No CUDA type
// appears here: the PostgreSQL side and the engine include it freely.
#pragma once

#include <memory>

#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::gpu {

// CheckDevice returns Ok when a CUDA device is usable, else NotSupported
// ("no CUDA device: ...").
knowhere::Status CheckDevice() noexcept;

// NewGpuFlatIndex makes an empty GPU_FLAT index (L2, inner product or
// cosine) on device 0; NotSupported when no CUDA device is present.
// Searches of up to kGpuFlatFusedQueries queries scan the rows once per
// query with direct FP32 distances ((q - x)^2 summed under L2) computed
// inside the selecting kernel; larger batches select m = k x rerank_factor
// (at most 2048, at least k) candidates per query from a GEMM in tiles (TF32
// by default, FP32 SGEMM with tf32_rerank off), re-score them directly in
// FP32 and keep the k best. Final distances never come from the GEMM's norm
// expansion: a bound on its error (which scales with ||q||^2 + ||x||^2, not
// with the distance) certifies each query, and the rare queries it cannot
// certify (near-duplicate or tied rows) are answered again by the direct
// scan over every allowed row. Ties go to the smaller row. k above 2048 is
// answered on the CPU from the index's host copy, as are RangeSearch and
// CreateIterator (exact, brute_force.hpp).
knowhere::Expected<std::unique_ptr<knowhere::Index>> NewGpuFlatIndex(const knowhere::IndexConfig &config) noexcept;

// kGpuFlatFusedQueries is the largest batch searched by the fused scan.
constexpr int kGpuFlatFusedQueries = 4;

// GpuFlatBatchOptions are the batch path's knobs. The defaults are the
// engine's choice; bench_gpu and the tests set others on one index.
struct GpuFlatBatchOptions {
	bool tf32_rerank = true;		  /* false: candidates from an FP32 SGEMM (pedantic) */
	int rerank_factor = 4;			  /* candidates per query = k x this (>= 2) */
	size_t tile_floats = size_t{64} << 20; /* GEMM tile, queries x rows floats */
	int slice_rows = 16384;			  /* rows per tile-selection block (multiple of 1024) */
	bool seed_select = true;		  /* seeded selection threshold (gpu_select.cuh) */
	int skip = 0; /* bench only, results wrong: kSkipGemm | kSkipSelect | kSkipRerank leave a stage out */
};
constexpr int kSkipGemm = 1;
constexpr int kSkipSelect = 2;
constexpr int kSkipRerank = 4;

// GpuFlatBatchStats describes an index's last batch search.
struct GpuFlatBatchStats {
	size_t queries = 0;			/* queries answered by the batch path */
	size_t reranked = 0;		/* through TF32 candidates and the exact re-rank */
	size_t fallback = 0;		/* not certified, answered again by the direct scan (TF32 or SGEMM) */
	int candidates = 0;			/* candidates per query */
};

// SetGpuFlatBatchOptions sets a GPU_FLAT index's batch knobs
// (InvalidArgument for another kind or a bad value).
knowhere::Status SetGpuFlatBatchOptions(knowhere::Index &index, const GpuFlatBatchOptions &options) noexcept;

// GetGpuFlatBatchStats returns the index's last batch-search figures (zeros
// for another kind).
GpuFlatBatchStats GetGpuFlatBatchStats(const knowhere::Index &index) noexcept;

// RegisterGpuKinds makes CreateIndex and DeserializeIndex build GPU_FLAT
// indexes through this library and registers GpuKMeans as the IVF kinds'
// centroid trainer (RegisterGpuCentroidTrainer); call once at start-up.
void RegisterGpuKinds() noexcept;

}  // namespace vecdb::gpu
