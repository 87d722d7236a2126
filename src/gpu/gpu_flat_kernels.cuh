// gpu_flat_kernels.cuh declares the launchers of GPU_FLAT's kernels (row
// norms, fused scan + select, GEMM tile select, merge, finalize); internal
// to src/gpu, used by gpu_flat_index.cu.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

#include "knowhere/index.hpp"

namespace vecdb::gpu {

// DeviceMetric is the metric as the kernels see it.
enum class DeviceMetric : int { kL2 = 0, kInnerProduct = 1, kCosine = 2 };

// ToDeviceMetric maps an engine metric (L2, inner product, cosine) to the kernels' one.
inline DeviceMetric ToDeviceMetric(knowhere::Metric m) noexcept {
	if (m == knowhere::Metric::kInnerProduct)
		return DeviceMetric::kInnerProduct;
	if (m == knowhere::Metric::kCosine)
		return DeviceMetric::kCosine;
	return DeviceMetric::kL2;
}

// RoundUp rounds x up to a multiple of m (rows to float4, slices to 1024).
inline size_t RoundUp(size_t x, size_t m) noexcept {
	return (x + m - 1) / m * m;
}

// ScanSliceRows is how many rows one fused-scan block takes when a query
// scans all n rows: about 4 blocks per multiprocessor, whole rounds of 1024,
// at least 4 k rows, at most 65,536.
inline size_t ScanSliceRows(size_t n, int sms, int k) noexcept {
	size_t per = 4 * static_cast<size_t>(sms);
	size_t slice = RoundUp((n + per - 1) / per, 1024);
	return std::min<size_t>(std::max<size_t>(slice, RoundUp(4 * static_cast<size_t>(k), 1024)), 65536);
}

// kMaxRows bounds the rows of one device index: keys carry the row in 32
// bits, and a scan's 32-bit round counter must not wrap past the last row.
constexpr size_t kMaxRows = 0xfffff000u;
// kMaxGridQueries is the most queries one launch takes (grid y).
constexpr size_t kMaxGridQueries = 65535;
// kMaxSelectK is the largest k the GPU selection handles (larger k go to the CPU).
constexpr int kMaxSelectK = 2048;
// kApproxIpRelError bounds |ip_tf32 - ip| / (||q|| ||x||) for one TF32
// product (operands rounded or truncated to 10 mantissa bits: each product
// off by at most 2^-9 + 2^-20 relative, summed under |q|.|x| <= ||q|| ||x||),
// doubled for safety; the FP32 accumulation adds dim * 2^-22 (also doubled).
constexpr double kApproxIpRelError = 2.0 * (0x1p-9 + 0x1p-20);
// kMaxFusedVec4 bounds the dimensions (in float4 units) of the fused scan,
// whose query lives in registers: 256 float4 = 1024 floats.
constexpr int kMaxFusedVec4 = 256;

// RowFilter tells the kernels which rows a search may return: bit label of
// bits set means filtered out (BitsetView); labels == nullptr means row i
// has label i.
struct RowFilter {
	const uint8_t *bits = nullptr;
	uint64_t nbits = 0;
	const int64_t *labels = nullptr;
};

// LaunchRowNorms writes norms[i] = ||x_i||^2 for n rows of nvec float4.
cudaError_t LaunchRowNorms(const float *x, size_t n, int nvec, float *norms, cudaStream_t s);

// LaunchScanSelect scores nq queries (nvec float4 each) against every row of
// base in slices of slice_len rows (a multiple of 1024) and writes each
// slice's k best keys to out[(q * slices + slice) * k ...].
cudaError_t LaunchScanSelect(DeviceMetric metric, const float *base, size_t n, int nvec, const float *queries,
							 int nq, RowFilter filter, int k, int slice_len, uint64_t *out, cudaStream_t s);

// LaunchRangeScanSelect is the fused scan over row ranges of each query's
// own: ranges[2 (q * slots + s)] and [... + 1] are the first row and one past
// the last of range s of query q (equal: none), and that range's k best keys
// go to out[(q * slots + s) * k ...] (GPU_IVF_FLAT: a probed list or a part
// of one per range; filter.labels then holds the rows' labels).
cudaError_t LaunchRangeScanSelect(DeviceMetric metric, const float *base, int nvec, const float *queries, int nq,
								  const uint32_t *ranges, int slots, RowFilter filter, int k, uint64_t *out,
								  cudaStream_t s);

// LaunchTileSelect selects, for each of nq queries, the k best of rows
// [row0, row0 + rows) from the inner products ip[q * ld + i] (a GEMM tile),
// in slices of slice_len rows (seed: seed each block's threshold, see
// gpu_select.cuh; false keeps the unseeded selection for comparison); slice j of the tile is written to
// out[(q * total_slices + row0 / slice_len + j) * k ...]. qnorms and
// xnorms (squared norms) are read for L2 only.
cudaError_t LaunchTileSelect(DeviceMetric metric, const float *ip, size_t ld, int nq, size_t row0, size_t rows,
							 const float *qnorms, const float *xnorms, RowFilter filter, int k, int slice_len,
							 int total_slices, bool seed, uint64_t *out, cudaStream_t s);

// LaunchRerank re-scores, for each of nq queries, its m candidates
// cand[q * m ...] (sorted keys of approximate scores from a GEMM, TF32 or
// FP32, whose inner products are off by at most ip_rel_error ||q|| ||x||;
// under L2 the score is the norm expansion ||q||^2 + ||x||^2 - 2 q.x, whose
// FP32 rounding the bound adds) exactly in FP32 with direct differences
// against the base rows (nvec float4 each, any width; no row norm above
// max_norm), writes the k best exact keys to out[q * k ...] and
// certified[q] = 1 when the bound proves that no row outside the candidates
// belongs in (or ties into) the exact top k, else 0 (the caller then answers
// that query exactly).
cudaError_t LaunchRerank(DeviceMetric metric, const float *base, int nvec, const float *queries, int nq,
						 const uint64_t *cand, int m, int k, float max_norm, float ip_rel_error, uint64_t *out,
						 uint8_t *certified, cudaStream_t s);
// kFp32IpRelError bounds |ip_fp32 - ip| / (||q|| ||x||) per dimension for an
// FP32 (pedantic SGEMM) inner product: dim * 2^-24 in any summation order,
// counted 4x; the TF32 bound is kApproxIpRelError + dim * this.
constexpr double kFp32IpRelErrorPerDim = 0x1p-22;

// LaunchMerge reduces, for each of nq queries, lists sorted lists of k keys
// to ceil(lists / group) lists (each the k best of group lists).
cudaError_t LaunchMerge(const uint64_t *in, int nq, int lists, int k, int group, uint64_t *out, cudaStream_t s);

// LaunchFinalize turns nq x k keys into labels (through row_labels, or the
// row itself when null) and distances; kNoKey becomes -1 / +infinity.
cudaError_t LaunchFinalize(const uint64_t *keys, size_t count, const int64_t *row_labels, int64_t *labels,
						   float *distances, cudaStream_t s);

}  // namespace vecdb::gpu
