// gpu_select.cuh is the block-level k-selection that every GPU search path
// shares: a thread block streams keys, keeps its k smallest, and writes them
// sorted. Internal to src/gpu.
//
// Design. A key is 64 bits: the distance mapped to an unsigned integer that
// orders like the float (high 32 bits) and the row (low 32 bits), so keys
// are unique, ordering by key is ordering by (distance, row), and a tie is
// won by the smaller row. kNoKey (all ones) marks "nothing": filtered rows,
// rows past the end, padding; it never enters a result.
//
// The block keeps its best kpad >= k keys sorted at the front of a shared
// array and a threshold T, the k-th best key so far. Keys arrive in rounds
// of kRound (kThreads threads x kPerThread keys); a key below T is appended
// to a candidate buffer behind the best list (warp-aggregated: one shared
// atomic per warp and round). When the buffer may not hold another round,
// or when the block holds k candidates and still has no threshold, the
// block bitonic-sorts best list and buffer together, keeps the front and
// re-reads T. With random data T tightens after the first round and few keys
// pass it afterwards (about k ln(n / k) over n keys), so most rounds cost a
// comparison per key: this is the "threshold + buffer" idea behind FAISS'
// block select, without its per-thread register queues.
//
// Seeding (kpad <= kThreads). Without a threshold the first round would put
// all kRound keys in the buffer and sort kpad + kRound keys (2048 at k <= 16:
// 66 barrier-separated stages, shared-memory bound, about 10 us per block;
// with 64 slices x 1000 queries per batch that was milliseconds). Instead
// each thread takes the least of its kPerThread keys, the block sorts those
// kThreads minima and sets T just above the k-th of them: at least k keys
// seen are <= it, so a key above it cannot be among the k best, and it sits
// near the k / kRound quantile, about where the full sort would have put it.
// The buffer is also folded in once it holds max(256, 2 kpad) keys, so a
// loose seed is tightened early.
//
// A search runs this in two steps: many blocks each select over a slice of
// the rows (distances computed in the block, or read from a GEMM tile), and
// merge passes select over groups of those sorted lists until one list per
// query remains; MergeProducer reads those lists.
#pragma once

#include <cstdint>

namespace vecdb::gpu {

constexpr int kThreads = 256;
constexpr int kPerThread = 4;
constexpr int kRound = kThreads * kPerThread;
constexpr uint64_t kNoKey = ~0ull;
// kSelectCap is the candidate buffer: room for two rounds.
constexpr int kSelectCap = 2 * kRound;

// OrderedBits maps a float to an unsigned integer with the same order
// (NaN as +infinity, -0 as +0).
__device__ __forceinline__ uint32_t OrderedBits(float d) {
	if (d != d)
		d = __int_as_float(0x7f800000);
	d += 0.0f;
	uint32_t u = __float_as_uint(d);
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// FloatFromOrdered inverts OrderedBits.
__device__ __forceinline__ float FloatFromOrdered(uint32_t o) {
	return __uint_as_float((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}

// MakeKey packs a distance and a row into one sortable key.
__device__ __forceinline__ uint64_t MakeKey(float d, uint32_t row) {
	return (static_cast<uint64_t>(OrderedBits(d)) << 32) | row;
}

// NextPow2 returns the smallest power of two >= x (x >= 1).
__host__ __device__ inline int NextPow2(int x) {
	int p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

// SelectSmemBytes returns the dynamic shared memory a select block needs.
inline size_t SelectSmemBytes(int kpad) {
	return static_cast<size_t>(NextPow2(kpad + kSelectCap)) * sizeof(uint64_t);
}

// BitonicSort sorts keys[0, n) ascending (n a power of two) with the whole block.
__device__ inline void BitonicSort(uint64_t *keys, int n) {
	for (int size = 2; size <= n; size <<= 1) {
		for (int stride = size >> 1; stride > 0; stride >>= 1) {
			for (int i = threadIdx.x; i < (n >> 1); i += blockDim.x) {
				int lo = 2 * i - (i & (stride - 1));
				int hi = lo + stride;
				bool asc = (lo & size) == 0;
				uint64_t a = keys[lo], b = keys[hi];
				if ((a > b) == asc) {
					keys[lo] = b;
					keys[hi] = a;
				}
			}
			__syncthreads();
		}
	}
}

// BlockSelector holds one block's selection state in shared memory.
struct BlockSelector {
	uint64_t *keys; /* [0, kpad): best, sorted; [kpad, kpad + kSelectCap): candidates */
	uint64_t *threshold;
	int *count;
	int k;
	int kpad;
	bool seed; /* seed the threshold from the first round (see above) */

	// Init empties the best list (all threads; ends with a barrier).
	__device__ void Init() {
		for (int i = threadIdx.x; i < kpad; i += blockDim.x)
			keys[i] = kNoKey;
		if (threadIdx.x == 0) {
			*threshold = kNoKey;
			*count = 0;
		}
		__syncthreads();
	}

	// Offer appends this thread's keys that beat the threshold (all threads
	// call it once per round with kPerThread keys; ends with a barrier).
	__device__ void Offer(const uint64_t (&cand)[kPerThread]) {
		if (seed && kpad <= kThreads && *threshold == kNoKey)
			Seed(cand);
		uint64_t t = *threshold;
		int lane = threadIdx.x & 31;
#pragma unroll
		for (int r = 0; r < kPerThread; r++) {
			bool pass = cand[r] < t;
			unsigned mask = __ballot_sync(0xffffffffu, pass);
			if (mask == 0)
				continue;
			int base = 0;
			if (lane == 0)
				base = atomicAdd(count, __popc(mask));
			base = __shfl_sync(0xffffffffu, base, 0);
			if (pass)
				keys[kpad + base + __popc(mask & ((1u << lane) - 1))] = cand[r];
		}
		__syncthreads();
		int n = *count;
		/* no warp may append the next round's keys before every warp read n */
		__syncthreads();
		if (n > kSelectCap - kRound || (n >= k && *threshold == kNoKey) || (seed && n >= SoftCap()))
			Reduce(n);
	}

	// SoftCap is the buffer fill at which a seeded block folds candidates in.
	__device__ int SoftCap() const { return kpad <= 128 ? 256 : 2 * kpad; }

	// Seed sets the threshold just above the k-th least of the threads'
	// minima (all threads; blockDim.x == kThreads; ends with a barrier). The
	// minima are sorted in the free part of the buffer, behind the
	// candidates held (at most kSelectCap - kRound of them, so it fits).
	__device__ void Seed(const uint64_t (&cand)[kPerThread]) {
		uint64_t m = cand[0];
#pragma unroll
		for (int r = 1; r < kPerThread; r++)
			m = cand[r] < m ? cand[r] : m;
		uint64_t *scratch = keys + kpad + *count;
		scratch[threadIdx.x] = m;
		__syncthreads();
		BitonicSort(scratch, kThreads);
		uint64_t t0 = scratch[k - 1];
		__syncthreads();
		if (threadIdx.x == 0 && t0 != kNoKey)
			*threshold = t0 + 1;
		__syncthreads();
	}

	// Reduce sorts the best list with n candidates and re-reads the threshold
	// (all threads, after a barrier; ends with a barrier).
	__device__ void Reduce(int n) {
		int len = NextPow2(kpad + n);
		for (int i = kpad + n + threadIdx.x; i < len; i += blockDim.x)
			keys[i] = kNoKey;
		__syncthreads();
		BitonicSort(keys, len);
		if (threadIdx.x == 0) {
			*threshold = keys[k - 1];
			*count = 0;
		}
		__syncthreads();
	}

	// Finish folds the last candidates in (all threads).
	__device__ void Finish() {
		int n = *count;
		__syncthreads();
		if (n > 0)
			Reduce(n);
	}
};

}  // namespace vecdb::gpu
