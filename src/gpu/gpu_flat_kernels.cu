// gpu_flat_kernels.cu implements GPU_FLAT's kernels: squared row norms, the
// fused scan (distances computed in the selecting block, for one or a few
// queries: one pass over the base, memory bound), the selection over GEMM
// tiles (batches), the merge of per-slice lists and the final mapping to
// labels. gpu_select.cuh explains the selection.
//
// Fused scan layout. A block takes a slice of rows in rounds of 1024: each
// of its 8 warps scores 128 rows, 32 at a time; a warp scores one row with
// all 32 lanes (each lane a float4, or VPL of them for wider rows, the
// query's float4s held in registers), reduces it with shuffles, and lane j
// keeps row j's distance, so after 32 rows every lane holds one key. Loads
// for 8 / VPL rows are issued before their first use (8 float4 per lane in
// flight). A row the filter removes is never loaded: at 1% or 10% allowed
// the scan reads less memory than unfiltered.
#include "gpu/gpu_flat_kernels.cuh"

#include <cfloat>

#include "gpu/gpu_select.cuh"

namespace vecdb::gpu {

namespace {

// Allowed reports whether row may be returned.
__device__ __forceinline__ bool Allowed(const RowFilter &f, uint32_t row) {
	if (f.bits == nullptr)
		return true;
	uint64_t label = f.labels != nullptr ? static_cast<uint64_t>(f.labels[row]) : row;
	if (label >= f.nbits)
		return true;
	return ((__ldg(f.bits + (label >> 3)) >> (label & 7)) & 1) == 0;
}

// ScoreFromIp returns the ordering score from an inner product.
template <int M>
__device__ __forceinline__ float ScoreFromIp(float ip, float qn, float xn) {
	if (M == static_cast<int>(DeviceMetric::kL2))
		return fmaxf(qn + xn - 2.0f * ip, 0.0f);
	if (M == static_cast<int>(DeviceMetric::kInnerProduct))
		return -ip;
	return fminf(fmaxf(1.0f - ip, 0.0f), 2.0f);
}

// Accumulate adds one float4's contribution: squared difference (L2) or product.
template <int M>
__device__ __forceinline__ float Accumulate(float acc, float4 q, float4 x) {
	if (M == static_cast<int>(DeviceMetric::kL2)) {
		float a = q.x - x.x, b = q.y - x.y, c = q.z - x.z, d = q.w - x.w;
		return fmaf(a, a, fmaf(b, b, fmaf(c, c, fmaf(d, d, acc))));
	}
	return fmaf(q.x, x.x, fmaf(q.y, x.y, fmaf(q.z, x.z, fmaf(q.w, x.w, acc))));
}

// WarpSum returns the sum of v over the warp in every lane.
__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

// SelectorIn sets up a BlockSelector over the dynamic shared memory.
__device__ __forceinline__ BlockSelector SelectorIn(uint64_t *smem, uint64_t *threshold, int *count, int k,
												   bool seed = true) {
	BlockSelector sel{smem, threshold, count, k, NextPow2(k), seed};
	sel.Init();
	return sel;
}

// WriteBest writes the block's k best keys to out.
__device__ __forceinline__ void WriteBest(const BlockSelector &sel, uint64_t *out) {
	for (int i = threadIdx.x; i < sel.k; i += blockDim.x)
		out[i] = sel.keys[i];
}

// RowNormsKernel computes one squared norm per warp.
__global__ void RowNormsKernel(const float4 *x, size_t n, int nvec, float *norms) {
	size_t row = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
	int lane = threadIdx.x & 31;
	if (row >= n)
		return;
	float s = 0.0f;
	for (int v = lane; v < nvec; v += 32) {
		float4 a = x[row * nvec + v];
		s = fmaf(a.x, a.x, fmaf(a.y, a.y, fmaf(a.z, a.z, fmaf(a.w, a.w, s))));
	}
	s = WarpSum(s);
	if (lane == 0)
		norms[row] = s;
}

// ScanSelectKernel is the fused scan: block (slice, query), or with ranges
// block (range slot, query) over rows ranges[slot] = [x, y) of its own.
template <int VPL, int M>
__global__ void __launch_bounds__(kThreads) ScanSelectKernel(const float4 *__restrict__ base, uint32_t n, int nvec,
															  const float4 *__restrict__ queries, RowFilter filter,
															  int k, uint32_t slice_len, const uint2 *__restrict__ ranges,
															  uint64_t *out) {
	constexpr int RB = 8 / VPL; /* rows whose loads are in flight together */
	extern __shared__ uint64_t smem[];
	__shared__ uint64_t threshold;
	__shared__ int count;
	BlockSelector sel = SelectorIn(smem, &threshold, &count, k);
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	const float4 *q = queries + static_cast<size_t>(blockIdx.y) * nvec;
	float4 qv[VPL];
#pragma unroll
	for (int t = 0; t < VPL; t++) {
		int v = lane + 32 * t;
		qv[t] = v < nvec ? q[v] : make_float4(0.f, 0.f, 0.f, 0.f);
	}
	const size_t slot = static_cast<size_t>(blockIdx.y) * gridDim.x + blockIdx.x;
	const uint32_t begin = ranges != nullptr ? ranges[slot].x : blockIdx.x * slice_len;
	const uint32_t end = ranges != nullptr ? ranges[slot].y : min(n, begin + slice_len);
	for (uint32_t round = begin; round < end; round += kRound) {
		uint64_t cand[kPerThread];
#pragma unroll
		for (int g = 0; g < kPerThread; g++) {
			const uint32_t row0 = round + warp * (32 * kPerThread) + g * 32;
			const uint32_t my_row = row0 + lane;
			const bool ok = my_row < end && Allowed(filter, my_row);
			const unsigned mask = __ballot_sync(0xffffffffu, ok);
			float mine = 0.0f;
			if (mask != 0) {
				for (int b = 0; b < 32; b += RB) {
					if (((mask >> b) & ((1u << RB) - 1)) == 0)
						continue;
					float4 xv[RB][VPL];
#pragma unroll
					for (int i = 0; i < RB; i++) {
						const float4 *row = base + static_cast<size_t>(row0 + b + i) * nvec;
						const bool live = (mask >> (b + i)) & 1;
#pragma unroll
						for (int t = 0; t < VPL; t++) {
							int v = lane + 32 * t;
							xv[i][t] = (live && v < nvec) ? __ldg(row + v) : make_float4(0.f, 0.f, 0.f, 0.f);
						}
					}
#pragma unroll
					for (int i = 0; i < RB; i++) {
						float acc = 0.0f;
#pragma unroll
						for (int t = 0; t < VPL; t++)
							acc = Accumulate<M>(acc, qv[t], xv[i][t]);
						acc = WarpSum(acc);
						if (lane == b + i)
							mine = acc;
					}
				}
			}
			float score;
			if (M == static_cast<int>(DeviceMetric::kL2))
				score = mine;
			else
				score = ScoreFromIp<M>(mine, 0.0f, 0.0f);
			cand[g] = ok ? MakeKey(score, my_row) : kNoKey;
		}
		sel.Offer(cand);
	}
	sel.Finish();
	WriteBest(sel, out + slot * k);
}

// TileSelectKernel selects over one GEMM tile: block (slice of the tile, query).
template <int M>
__global__ void __launch_bounds__(kThreads)
	TileSelectKernel(const float *__restrict__ ip, size_t ld, uint32_t row0, uint32_t rows,
					 const float *__restrict__ qnorms, const float *__restrict__ xnorms, RowFilter filter, int k,
					 uint32_t slice_len, int total_slices, bool seed, uint64_t *out) {
	extern __shared__ uint64_t smem[];
	__shared__ uint64_t threshold;
	__shared__ int count;
	BlockSelector sel = SelectorIn(smem, &threshold, &count, k, seed);
	const uint32_t q = blockIdx.y;
	const float *row_ip = ip + static_cast<size_t>(q) * ld;
	const float qn = M == static_cast<int>(DeviceMetric::kL2) ? qnorms[q] : 0.0f;
	const uint32_t begin = blockIdx.x * slice_len;
	const uint32_t end = min(rows, begin + slice_len);
	for (uint32_t round = begin; round < end; round += kRound) {
		uint64_t cand[kPerThread];
#pragma unroll
		for (int r = 0; r < kPerThread; r++) {
			uint32_t i = round + r * kThreads + threadIdx.x;
			uint64_t key = kNoKey;
			if (i < end) {
				uint32_t row = row0 + i;
				if (Allowed(filter, row)) {
					float xn = M == static_cast<int>(DeviceMetric::kL2) ? xnorms[row] : 0.0f;
					key = MakeKey(ScoreFromIp<M>(row_ip[i], qn, xn), row);
				}
			}
			cand[r] = key;
		}
		sel.Offer(cand);
	}
	sel.Finish();
	int slice = static_cast<int>(row0 / slice_len + blockIdx.x);
	WriteBest(sel, out + (static_cast<size_t>(q) * total_slices + slice) * k);
}

// MergeKernel selects the k best of a group of sorted lists: block (group, query).
__global__ void __launch_bounds__(kThreads)
	MergeKernel(const uint64_t *__restrict__ in, int lists, int k, int group, uint64_t *out) {
	extern __shared__ uint64_t smem[];
	__shared__ uint64_t threshold;
	__shared__ int count;
	BlockSelector sel = SelectorIn(smem, &threshold, &count, k);
	const uint64_t *row = in + static_cast<size_t>(blockIdx.y) * lists * k;
	const size_t begin = static_cast<size_t>(blockIdx.x) * group * k;
	const size_t end = min(static_cast<size_t>(lists), static_cast<size_t>(blockIdx.x + 1) * group) * k;
	for (size_t round = begin; round < end; round += kRound) {
		uint64_t cand[kPerThread];
#pragma unroll
		for (int r = 0; r < kPerThread; r++) {
			size_t i = round + r * kThreads + threadIdx.x;
			cand[r] = i < end ? row[i] : kNoKey;
		}
		sel.Offer(cand);
	}
	sel.Finish();
	WriteBest(sel, out + (static_cast<size_t>(blockIdx.y) * gridDim.x + blockIdx.x) * k);
}

// RerankKernel re-scores one query's m candidates exactly: block per query.
// Each warp scores candidates in FP32 from the base rows, directly ((q - x)^2
// summed under L2, never the norm expansion, whose cancellation misorders
// near-duplicate rows), with the scan's arithmetic (lane partial sums in the
// same order, then the same shuffle tree: a row scores bit-equal here and in
// ScanSelectKernel), the block sorts the
// exact keys and writes the k best. Thread 0 then decides whether the
// candidates provably hold the exact top k: every row outside them has an
// approximate score >= a_m (the m-th candidate's), so its true score is at
// least a_m - B and its FP32 score at least (a_m - B)(1 - eta) (L2) or
// a_m - B (inner product, cosine), where B bounds the approximate score's
// error: ip_rel_error ||q|| ||x|| on the inner product, doubled under L2,
// plus the FP32 rounding of ||q||^2 + ||x||^2 - 2 q.x, which scales with
// ||q||^2 + ||x||^2 and not with the distance (gpu_flat_kernels.cuh); when
// that exceeds the k-th exact score, no such row can enter or tie into the
// top k.
template <int VPL, int M>
__global__ void __launch_bounds__(kThreads)
	RerankKernel(const float4 *__restrict__ base, int nvec, const float4 *__restrict__ queries,
				 const uint64_t *__restrict__ cand, int m, int k, float max_norm, float ip_rel_error, uint64_t *out,
				 uint8_t *certified) {
	extern __shared__ uint64_t smem[];
	__shared__ double qn_shared;
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	const float4 *q = queries + static_cast<size_t>(blockIdx.x) * nvec;
	const uint64_t *list = cand + static_cast<size_t>(blockIdx.x) * m;
	constexpr int QV = VPL > 0 ? VPL : 1; /* VPL 0: rows wider than 1024, query read from memory */
	float4 qv[QV];
#pragma unroll
	for (int t = 0; t < QV; t++) {
		int v = lane + 32 * t;
		qv[t] = (VPL > 0 && v < nvec) ? q[v] : make_float4(0.f, 0.f, 0.f, 0.f);
	}
	if (warp == 0) {
		double s = 0;
		for (int v = lane; v < nvec; v += 32) {
			float4 a = __ldg(q + v);
			s += static_cast<double>(a.x) * a.x + static_cast<double>(a.y) * a.y + static_cast<double>(a.z) * a.z +
				static_cast<double>(a.w) * a.w;
		}
#pragma unroll
		for (int o = 16; o > 0; o >>= 1)
			s += __shfl_xor_sync(0xffffffffu, s, o);
		if (lane == 0)
			qn_shared = s;
	}
	const int len = NextPow2(m);
	for (int c = warp; c < len; c += kThreads / 32) {
		uint64_t key = c < m ? list[c] : kNoKey;
		if (key == kNoKey) {
			if (lane == 0)
				smem[c] = kNoKey;
			continue;
		}
		uint32_t row = static_cast<uint32_t>(key & 0xffffffffu);
		const float4 *x = base + static_cast<size_t>(row) * nvec;
		float acc = 0.0f;
		if (VPL > 0) {
#pragma unroll
			for (int t = 0; t < QV; t++) {
				int v = lane + 32 * t;
				if (v < nvec)
					acc = Accumulate<M>(acc, qv[t], __ldg(x + v));
			}
		} else {
			for (int v = lane; v < nvec; v += 32)
				acc = Accumulate<M>(acc, __ldg(q + v), __ldg(x + v));
		}
		acc = WarpSum(acc);
		float score = M == static_cast<int>(DeviceMetric::kL2) ? acc : ScoreFromIp<M>(acc, 0.0f, 0.0f);
		if (lane == 0)
			smem[c] = MakeKey(score, row);
	}
	__syncthreads();
	BitonicSort(smem, len);
	for (int i = threadIdx.x; i < k; i += blockDim.x)
		out[static_cast<size_t>(blockIdx.x) * k + i] = smem[i];
	if (threadIdx.x == 0) {
		uint64_t last = list[m - 1];
		bool ok;
		if (last == kNoKey) {
			ok = true; /* fewer allowed rows than m: all of them are candidates */
		} else if (smem[k - 1] == kNoKey) {
			ok = false;
		} else {
			double a = FloatFromOrdered(static_cast<uint32_t>(last >> 32));
			double dk = FloatFromOrdered(static_cast<uint32_t>(smem[k - 1] >> 32));
			double dim = 4.0 * nvec;
			double qn = qn_shared, qnorm = sqrt(qn), xnorm = max_norm;
			double gamma = ip_rel_error;
			double eta = (dim + 4.0) * 0x1p-23;
			if (M == static_cast<int>(DeviceMetric::kL2)) {
				double b = 2.0 * gamma * qnorm * xnorm + eta * (qn + xnorm * xnorm + 2.0 * qnorm * xnorm);
				ok = isfinite(a) && (a - b) * (1.0 - eta) > dk;
			} else {
				double b = (gamma + eta) * qnorm * xnorm + 0x1p-20;
				ok = isfinite(a) && a - b > dk;
			}
		}
		certified[blockIdx.x] = ok ? 1 : 0;
	}
}

// FinalizeKernel maps keys to labels and distances.
__global__ void FinalizeKernel(const uint64_t *keys, size_t count, const int64_t *row_labels, int64_t *labels,
							   float *distances) {
	size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
	if (i >= count)
		return;
	uint64_t key = keys[i];
	if (key == kNoKey) {
		labels[i] = -1;
		distances[i] = __int_as_float(0x7f800000);
		return;
	}
	uint32_t row = static_cast<uint32_t>(key & 0xffffffffu);
	labels[i] = row_labels != nullptr ? row_labels[row] : static_cast<int64_t>(row);
	distances[i] = FloatFromOrdered(static_cast<uint32_t>(key >> 32));
}

// LaunchScanFor launches the fused scan for a VPL chosen at run time: over
// slices of slice_len rows (ranges null) or over slots ranges per query.
template <int M>
cudaError_t LaunchScanFor(const float *base, size_t n, int nvec, const float *queries, int nq, RowFilter filter,
						  int k, int slice_len, const uint2 *ranges, int slots, uint64_t *out, cudaStream_t s) {
	unsigned blocks = ranges != nullptr ? static_cast<unsigned>(slots)
										: static_cast<unsigned>((n + slice_len - 1) / slice_len);
	dim3 grid(blocks, static_cast<unsigned>(nq));
	size_t smem = SelectSmemBytes(NextPow2(k));
	auto b = reinterpret_cast<const float4 *>(base);
	auto q = reinterpret_cast<const float4 *>(queries);
	uint32_t nn = static_cast<uint32_t>(n), sl = static_cast<uint32_t>(slice_len);
	if (nvec <= 32)
		ScanSelectKernel<1, M><<<grid, kThreads, smem, s>>>(b, nn, nvec, q, filter, k, sl, ranges, out);
	else if (nvec <= 64)
		ScanSelectKernel<2, M><<<grid, kThreads, smem, s>>>(b, nn, nvec, q, filter, k, sl, ranges, out);
	else if (nvec <= 128)
		ScanSelectKernel<4, M><<<grid, kThreads, smem, s>>>(b, nn, nvec, q, filter, k, sl, ranges, out);
	else
		ScanSelectKernel<8, M><<<grid, kThreads, smem, s>>>(b, nn, nvec, q, filter, k, sl, ranges, out);
	return cudaGetLastError();
}

}  // namespace

// LaunchRowNorms runs one warp per row.
cudaError_t LaunchRowNorms(const float *x, size_t n, int nvec, float *norms, cudaStream_t s) {
	if (n == 0)
		return cudaSuccess;
	size_t blocks = (n * 32 + 255) / 256;
	RowNormsKernel<<<static_cast<unsigned>(blocks), 256, 0, s>>>(reinterpret_cast<const float4 *>(x), n, nvec,
																	norms);
	return cudaGetLastError();
}

// LaunchScanSelect dispatches on the metric.
cudaError_t LaunchScanSelect(DeviceMetric metric, const float *base, size_t n, int nvec, const float *queries,
							 int nq, RowFilter filter, int k, int slice_len, uint64_t *out, cudaStream_t s) {
	if (nvec > kMaxFusedVec4 || k > kMaxSelectK || k < 1)
		return cudaErrorInvalidValue;
	switch (metric) {
		case DeviceMetric::kL2:
			return LaunchScanFor<0>(base, n, nvec, queries, nq, filter, k, slice_len, nullptr, 0, out, s);
		case DeviceMetric::kInnerProduct:
			return LaunchScanFor<1>(base, n, nvec, queries, nq, filter, k, slice_len, nullptr, 0, out, s);
		default:
			return LaunchScanFor<2>(base, n, nvec, queries, nq, filter, k, slice_len, nullptr, 0, out, s);
	}
}

// LaunchRangeScanSelect dispatches on the metric; every query has slots ranges.
cudaError_t LaunchRangeScanSelect(DeviceMetric metric, const float *base, int nvec, const float *queries, int nq,
								  const uint32_t *ranges, int slots, RowFilter filter, int k, uint64_t *out,
								  cudaStream_t s) {
	if (nvec > kMaxFusedVec4 || k > kMaxSelectK || k < 1 || slots < 1)
		return cudaErrorInvalidValue;
	if (nq == 0)
		return cudaSuccess;
	auto r = reinterpret_cast<const uint2 *>(ranges);
	switch (metric) {
		case DeviceMetric::kL2:
			return LaunchScanFor<0>(base, 0, nvec, queries, nq, filter, k, 1024, r, slots, out, s);
		case DeviceMetric::kInnerProduct:
			return LaunchScanFor<1>(base, 0, nvec, queries, nq, filter, k, 1024, r, slots, out, s);
		default:
			return LaunchScanFor<2>(base, 0, nvec, queries, nq, filter, k, 1024, r, slots, out, s);
	}
}

// LaunchTileSelect dispatches on the metric.
cudaError_t LaunchTileSelect(DeviceMetric metric, const float *ip, size_t ld, int nq, size_t row0, size_t rows,
							 const float *qnorms, const float *xnorms, RowFilter filter, int k, int slice_len,
							 int total_slices, bool seed, uint64_t *out, cudaStream_t s) {
	if (k > kMaxSelectK || k < 1)
		return cudaErrorInvalidValue;
	dim3 grid(static_cast<unsigned>((rows + slice_len - 1) / slice_len), static_cast<unsigned>(nq));
	size_t smem = SelectSmemBytes(NextPow2(k));
	uint32_t r0 = static_cast<uint32_t>(row0), nr = static_cast<uint32_t>(rows), sl = static_cast<uint32_t>(slice_len);
	switch (metric) {
		case DeviceMetric::kL2:
			TileSelectKernel<0><<<grid, kThreads, smem, s>>>(ip, ld, r0, nr, qnorms, xnorms, filter, k, sl,
															 total_slices, seed, out);
			break;
		case DeviceMetric::kInnerProduct:
			TileSelectKernel<1><<<grid, kThreads, smem, s>>>(ip, ld, r0, nr, qnorms, xnorms, filter, k, sl,
															 total_slices, seed, out);
			break;
		default:
			TileSelectKernel<2><<<grid, kThreads, smem, s>>>(ip, ld, r0, nr, qnorms, xnorms, filter, k, sl,
															 total_slices, seed, out);
			break;
	}
	return cudaGetLastError();
}

// LaunchMerge runs one block per (group, query).
cudaError_t LaunchMerge(const uint64_t *in, int nq, int lists, int k, int group, uint64_t *out, cudaStream_t s) {
	dim3 grid(static_cast<unsigned>((lists + group - 1) / group), static_cast<unsigned>(nq));
	MergeKernel<<<grid, kThreads, SelectSmemBytes(NextPow2(k)), s>>>(in, lists, k, group, out);
	return cudaGetLastError();
}

// LaunchRerank dispatches on the metric and the row width.
cudaError_t LaunchRerank(DeviceMetric metric, const float *base, int nvec, const float *queries, int nq,
						 const uint64_t *cand, int m, int k, float max_norm, float ip_rel_error, uint64_t *out,
						 uint8_t *certified, cudaStream_t s) {
	if (m > kMaxSelectK || k < 1 || k > m)
		return cudaErrorInvalidValue;
	if (nq == 0)
		return cudaSuccess;
	size_t smem = static_cast<size_t>(NextPow2(m)) * sizeof(uint64_t);
	auto b = reinterpret_cast<const float4 *>(base);
	auto q = reinterpret_cast<const float4 *>(queries);
#define VECDB_RERANK(VPL, M) \
	RerankKernel<VPL, M><<<static_cast<unsigned>(nq), kThreads, smem, s>>>(b, nvec, q, cand, m, k, max_norm, ip_rel_error, out, \
																		   certified)
#define VECDB_RERANK_M(M)         \
	do {                          \
		if (nvec <= 32)           \
			VECDB_RERANK(1, M);   \
		else if (nvec <= 64)      \
			VECDB_RERANK(2, M);   \
		else if (nvec <= 128)     \
			VECDB_RERANK(4, M);   \
		else if (nvec <= 256)     \
			VECDB_RERANK(8, M);   \
		else                      \
			VECDB_RERANK(0, M);   \
	} while (0)
	switch (metric) {
		case DeviceMetric::kL2:
			VECDB_RERANK_M(0);
			break;
		case DeviceMetric::kInnerProduct:
			VECDB_RERANK_M(1);
			break;
		default:
			VECDB_RERANK_M(2);
			break;
	}
#undef VECDB_RERANK_M
#undef VECDB_RERANK
	return cudaGetLastError();
}

// LaunchFinalize runs one thread per key.
cudaError_t LaunchFinalize(const uint64_t *keys, size_t count, const int64_t *row_labels, int64_t *labels,
						   float *distances, cudaStream_t s) {
	if (count == 0)
		return cudaSuccess;
	FinalizeKernel<<<static_cast<unsigned>((count + 255) / 256), 256, 0, s>>>(keys, count, row_labels, labels,
																			  distances);
	return cudaGetLastError();
}

}  // namespace vecdb::gpu
