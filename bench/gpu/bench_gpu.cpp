// bench_gpu.cpp measures GPU_FLAT and GPU k-means on random data: the device
// copy bandwidth (the memory ceiling, CUDA events), GPU_FLAT 1M x 128 top-k
// single-query latency and batch-1000 throughput through the engine call
// (Index::Search, which returns after the results are on the host: timed
// with a host clock; warm-up, then medians), 1% / 10% filters against none,
// 1M x 768 batches, and GPU k-means 1M x 128 into 1,000 lists against a CPU
// reference (FAISS' Clustering when built with it, else a built-in OpenMP
// Lloyd, 3 iterations with the time scaled to 10). Batch 1000 top-10 also
// runs as variants (FP32 SGEMM, TF32 + exact re-rank at several candidate
// factors, tile sizes, unseeded selection), with leave-one-stage-out timings
// that place the time, and the default's results are compared with the
// SGEMM path (1000 queries) and the CPU FLAT index (200). With FAISS it also
// times IVF_FLAT's Train through the engine with GPU k-means (train_device
// gpu) against FAISS on the CPU, 1M x 128 into 1,000 lists and 100k into 256,
// and GPU_IVF_FLAT (build, then nprobe 32 searches: one query and batches of
// 1000, unfiltered and 10% allowed, recall) against IVF_FLAT on the CPU with
// the same lists. It ends with a short table.
//
// Usage: bench_gpu [--quick] [--cpu-iters N]   (--quick: 100k rows, for a smoke run)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <omp.h>

#include "gpu/gpu_flat_index.hpp"
#ifdef VECDB_BENCH_IVF
#include "gpu/gpu_ivf_flat_index.hpp"
#endif
#include "gpu/gpu_kmeans.hpp"
#include "knowhere/index.hpp"

#ifdef VECDB_BENCH_FAISS
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#endif

using namespace vecdb::knowhere;

namespace {

// Row is one line of the final table.
struct Row {
	std::string what;
	std::string value;
	std::string target;
};
std::vector<Row> table;

// Add records a table line and prints it at once.
void Report(const std::string &what, const std::string &value, const std::string &target = "") {
	table.push_back({what, value, target});
	std::printf("%-52s %-22s %s\n", what.c_str(), value.c_str(), target.c_str());
	std::fflush(stdout);
}

// Fmt formats a double.
std::string Fmt(const char *f, double v) {
	char b[64];
	std::snprintf(b, sizeof(b), f, v);
	return b;
}

// Now returns a steady clock in seconds.
double Now() {
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median returns the median of v.
double Median(std::vector<double> v) {
	std::sort(v.begin(), v.end());
	return v.empty() ? 0 : v[v.size() / 2];
}

// Percentile returns the p-quantile of v.
double Percentile(std::vector<double> v, double p) {
	std::sort(v.begin(), v.end());
	return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// Die prints a failed status and exits.
void Check(const Status &s, const char *what) {
	if (!s.ok()) {
		std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
		std::exit(1);
	}
}

// RandomUniform fills n x dim floats uniform in [-1, 1) (parallel xorshift).
std::vector<float> RandomUniform(size_t n, int dim, uint64_t seed) {
	std::vector<float> v(n * dim);
#pragma omp parallel
	{
		uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1 + omp_get_thread_num() * 0x632be59bd9b4e019ULL;
#pragma omp for schedule(static)
		for (long long i = 0; i < static_cast<long long>(v.size()); i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			v[i] = static_cast<float>((s >> 40) * (1.0 / 8388608.0) - 1.0);
		}
	}
	return v;
}

// Blobs returns n rows around ncenters random centres (noise 0.3).
std::vector<float> Blobs(size_t n, int dim, int ncenters, uint64_t seed) {
	std::vector<float> centers = RandomUniform(ncenters, dim, seed), noise = RandomUniform(n, dim, seed + 1);
#pragma omp parallel for schedule(static)
	for (long long i = 0; i < static_cast<long long>(n); i++) {
		size_t c = (static_cast<uint64_t>(i) * 2654435761ULL) % ncenters;
		for (int j = 0; j < dim; j++)
			noise[i * dim + j] = centers[c * dim + j] * 3.0f + 0.3f * noise[i * dim + j];
	}
	return noise;
}

// FilterBits returns a bitset of n labels letting about `allowed` through.
std::vector<uint8_t> FilterBits(size_t n, double allowed, uint64_t seed) {
	std::vector<uint8_t> b((n + 7) / 8, 0);
	uint64_t s = seed | 1;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		if ((s >> 11) * (1.0 / 9007199254740992.0) >= allowed)
			b[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
	}
	return b;
}

// CopyBandwidth measures a device-to-device copy (bytes read + written) with CUDA events.
double CopyBandwidth() {
	size_t bytes = size_t{2} << 30;
	void *a = nullptr, *b = nullptr;
	if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) {
		cudaGetLastError();
		return 0;
	}
	cudaMemset(a, 1, bytes);
	cudaEvent_t e0, e1;
	cudaEventCreate(&e0);
	cudaEventCreate(&e1);
	std::vector<double> ms;
	for (int i = 0; i < 12; i++) {
		cudaEventRecord(e0);
		cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
		cudaEventRecord(e1);
		cudaEventSynchronize(e1);
		float t = 0;
		cudaEventElapsedTime(&t, e0, e1);
		if (i >= 2)
			ms.push_back(t);
	}
	cudaEventDestroy(e0);
	cudaEventDestroy(e1);
	cudaFree(a);
	cudaFree(b);
	return 2.0 * bytes / (Median(ms) * 1e-3) / 1e12;
}

// SingleQueryMs returns median and p99 latency (ms) of one-query searches.
std::pair<double, double> SingleQueryMs(const Index &idx, const std::vector<float> &queries, size_t nq_pool, int dim,
										size_t k, BitsetView filter, int reps) {
	std::vector<int64_t> l(k);
	std::vector<float> d(k);
	SearchParams p;
	for (int i = 0; i < 20; i++)
		Check(idx.Search(queries.data() + (i % nq_pool) * dim, 1, k, p, filter, l.data(), d.data()), "warm-up");
	std::vector<double> t;
	for (int i = 0; i < reps; i++) {
		double t0 = Now();
		Check(idx.Search(queries.data() + (i % nq_pool) * dim, 1, k, p, filter, l.data(), d.data()), "search");
		t.push_back((Now() - t0) * 1e3);
	}
	return {Median(t), Percentile(t, 0.99)};
}

// BatchQps returns the median queries per second of batches of nq.
double BatchQps(const Index &idx, const std::vector<float> &queries, size_t nq, size_t k, BitsetView filter,
				int reps) {
	std::vector<int64_t> l(nq * k);
	std::vector<float> d(nq * k);
	SearchParams p;
	Check(idx.Search(queries.data(), nq, k, p, filter, l.data(), d.data()), "warm-up");
	std::vector<double> t;
	for (int i = 0; i < reps; i++) {
		double t0 = Now();
		Check(idx.Search(queries.data(), nq, k, p, filter, l.data(), d.data()), "batch");
		t.push_back(Now() - t0);
	}
	return nq / Median(t);
}

// Exactness compares two result sets of nq x k: the fraction of queries
// whose k labels are equal in order, and the largest distance difference at
// ranks where labels differ (float rounding when the differing rows tie).
struct Exactness {
	double same = 0;
	double max_diff_where_differs = 0;
	size_t differing = 0;
};
Exactness Compare(const std::vector<int64_t> &la, const std::vector<float> &da, const std::vector<int64_t> &lb,
				  const std::vector<float> &db, size_t nq, size_t k) {
	Exactness e;
	size_t same = 0;
	for (size_t q = 0; q < nq; q++) {
		bool eq = true;
		for (size_t i = 0; i < k; i++) {
			size_t at = q * k + i;
			if (la[at] != lb[at]) {
				eq = false;
				e.max_diff_where_differs = std::max(e.max_diff_where_differs, static_cast<double>(std::fabs(da[at] - db[at])));
			}
		}
		same += eq;
		e.differing += !eq;
	}
	e.same = nq ? static_cast<double>(same) / nq : 0;
	return e;
}

// ExactnessText formats an Exactness line.
std::string ExactnessText(const Exactness &e) {
	return Fmt("%.2f%% equal", 100.0 * e.same) + (e.differing ? Fmt(", max |dd| %.2g", e.max_diff_where_differs) : "");
}

// BatchMs returns the median milliseconds of one batch of nq top-k under options o.
double BatchMs(Index &idx, const vecdb::gpu::GpuFlatBatchOptions &o, const std::vector<float> &queries, size_t nq,
			   size_t k, int reps) {
	Check(vecdb::gpu::SetGpuFlatBatchOptions(idx, o), "SetGpuFlatBatchOptions");
	return nq / BatchQps(idx, queries, nq, k, {}, reps) * 1e3;
}

// BatchVariants times batch-1000 top-10 variants on idx (the engine's
// default last restored), places time by leaving stages out, and checks the
// default's results against the FP32 SGEMM path and the CPU FLAT index.
void BatchVariants(Index &idx, const std::vector<float> &x, size_t n, int dim, const std::vector<float> &queries) {
	using vecdb::gpu::GpuFlatBatchOptions;
	const size_t nq = 1000, k = 10;
	const int reps = 10;
	GpuFlatBatchOptions def;
	auto line = [&](const std::string &what, const GpuFlatBatchOptions &o) {
		double ms = BatchMs(idx, o, queries, nq, k, reps);
		auto st = vecdb::gpu::GetGpuFlatBatchStats(idx);
		std::string note = st.reranked ? "fallback " + std::to_string(st.fallback) + "/" + std::to_string(st.reranked) : "";
		Report("  " + what, Fmt("%.0f q/s", nq / ms * 1e3) + Fmt(" %.2f ms", ms), note);
		return ms;
	};
	std::printf("-- batch 1000 top-10 variants (median of %d, engine call) --\n", reps);
	GpuFlatBatchOptions a = def;
	a.tf32_rerank = false;
	a.seed_select = false;
	line("(a0) SGEMM FP32, unseeded select (first run)", a);
	a.seed_select = true;
	double a_ms = line("(a) SGEMM FP32, seeded select", a);
	for (int r : {2, 4, 8}) {
		GpuFlatBatchOptions b = def;
		b.rerank_factor = r;
		line("(b) TF32 + exact re-rank, R=" + std::to_string(r), b);
	}
	GpuFlatBatchOptions b0 = def;
	b0.seed_select = false;
	line("(b) TF32 R=4, unseeded select", b0);
	struct Tile {
		size_t floats;
		int slice;
	};
	for (Tile t : {Tile{size_t{64} << 20, 65536}, Tile{size_t{16} << 20, 16384}, Tile{size_t{8} << 20, 8192},
				   Tile{size_t{4} << 20, 4096}}) {
		GpuFlatBatchOptions c = def;
		c.tile_floats = t.floats;
		c.slice_rows = t.slice;
		line("(c) TF32 R=4, tile " + std::to_string(t.floats * 4 >> 20) + " MB, slice " + std::to_string(t.slice), c);
	}
	std::printf("-- stage split (leave-out variants; their results are wrong) --\n");
	GpuFlatBatchOptions sp = def;
	double full = line("TF32 R=4 full", sp);
	sp.skip = vecdb::gpu::kSkipSelect | vecdb::gpu::kSkipRerank;
	double gemm_only = line("TF32 GEMM only (+ merge, finalize, copies)", sp);
	sp.skip = vecdb::gpu::kSkipGemm;
	double no_gemm = line("TF32 path without GEMM", sp);
	sp.skip = vecdb::gpu::kSkipRerank;
	double no_rerank = line("TF32 path without re-rank", sp);
	sp.skip = vecdb::gpu::kSkipGemm | vecdb::gpu::kSkipSelect | vecdb::gpu::kSkipRerank;
	double none = line("overhead only (upload, merge, finalize, copies)", sp);
	Report("  split: TF32 GEMM / select / re-rank / rest",
		   Fmt("%.2f", full - no_gemm) + Fmt(" / %.2f", full - gemm_only - (full - no_rerank)) +
			   Fmt(" / %.2f", full - no_rerank) + Fmt(" / %.2f ms", none));
	GpuFlatBatchOptions sa = a;
	sa.skip = vecdb::gpu::kSkipSelect;
	double s_gemm_only = line("SGEMM only (+ merge, finalize, copies)", sa);
	sa.skip = vecdb::gpu::kSkipGemm;
	double s_no_gemm = line("SGEMM path without GEMM", sa);
	Report("  split: SGEMM GEMM / select / rest",
		   Fmt("%.2f", a_ms - s_no_gemm) + Fmt(" / %.2f", a_ms - s_gemm_only) + Fmt(" / %.2f ms", none));

	/* exactness: default (TF32 + re-rank) vs FP32 SGEMM path vs CPU FLAT */
	std::vector<int64_t> lt(nq * k), ls(nq * k);
	std::vector<float> dt(nq * k), ds(nq * k);
	Check(vecdb::gpu::SetGpuFlatBatchOptions(idx, def), "options");
	Check(idx.Search(queries.data(), nq, k, SearchParams(), {}, lt.data(), dt.data()), "tf32 search");
	auto st = vecdb::gpu::GetGpuFlatBatchStats(idx);
	Check(vecdb::gpu::SetGpuFlatBatchOptions(idx, a), "options");
	Check(idx.Search(queries.data(), nq, k, SearchParams(), {}, ls.data(), ds.data()), "sgemm search");
	Check(vecdb::gpu::SetGpuFlatBatchOptions(idx, def), "options");
	Report("exact: TF32+re-rank vs SGEMM path, 1000 q top-10", ExactnessText(Compare(lt, dt, ls, ds, nq, k)),
		   "fallback " + std::to_string(st.fallback) + "/1000");
	IndexConfig c;
	c.kind = IndexKind::kFlat;
	c.metric = Metric::kL2;
	c.dim = dim;
	auto flat = CreateIndex(c);
	Check(flat.status(), "FLAT");
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	Check(flat.value()->Add(x.data(), labels.data(), n), "FLAT Add");
	const size_t nc = 200;
	std::vector<int64_t> lc(nc * k);
	std::vector<float> dc(nc * k);
	SearchParams p;
	p.threads = omp_get_max_threads();
	double t0 = Now();
	Check(flat.value()->Search(queries.data(), nc, k, p, {}, lc.data(), dc.data()), "FLAT search");
	double cpu_s = Now() - t0;
	lt.resize(nc * k);
	dt.resize(nc * k);
	ls.resize(nc * k);
	ds.resize(nc * k);
	Report("exact: TF32+re-rank vs CPU FLAT, 200 q top-10", ExactnessText(Compare(lt, dt, lc, dc, nc, k)),
		   Fmt("CPU %.1f s", cpu_s));
	Report("exact: SGEMM path vs CPU FLAT, 200 q top-10", ExactnessText(Compare(ls, ds, lc, dc, nc, k)));
}

// BuildGpuFlat makes a GPU_FLAT over rows with labels 0 .. n-1.
std::unique_ptr<Index> BuildGpuFlat(const std::vector<float> &x, size_t n, int dim, double *seconds) {
	IndexConfig c;
	c.kind = IndexKind::kGpuFlat;
	c.metric = Metric::kL2;
	c.dim = dim;
	auto made = vecdb::gpu::NewGpuFlatIndex(c);
	Check(made.status(), "NewGpuFlatIndex");
	std::unique_ptr<Index> idx = std::move(made).value();
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	double t0 = Now();
	Check(idx->Add(x.data(), labels.data(), n), "Add");
	*seconds = Now() - t0;
	return idx;
}

// CpuLloyd is the built-in CPU reference: niter L2 Lloyd iterations from the
// same initial rows as GpuKMeans, rows in parallel (OpenMP), distances as
// ||c||^2 - 2 x.c in float; returns the last objective.
double CpuLloyd(const std::vector<float> &x, size_t n, int dim, int k, const std::vector<size_t> &init, int niter) {
	std::vector<float> c(static_cast<size_t>(k) * dim), cn(k);
	for (int i = 0; i < k; i++)
		std::memcpy(&c[i * dim], &x[init[i] * dim], dim * sizeof(float));
	double obj = 0;
	for (int it = 0; it < niter; it++) {
		for (int i = 0; i < k; i++) {
			float s = 0;
			for (int j = 0; j < dim; j++)
				s += c[i * dim + j] * c[i * dim + j];
			cn[i] = s;
		}
		std::vector<int> assign(n);
		obj = 0;
#pragma omp parallel for schedule(static) reduction(+ : obj)
		for (long long r = 0; r < static_cast<long long>(n); r++) {
			const float *xr = &x[r * dim];
			float best = std::numeric_limits<float>::infinity(), xn = 0;
			int arg = 0;
			for (int j = 0; j < dim; j++)
				xn += xr[j] * xr[j];
			for (int i = 0; i < k; i++) {
				const float *ci = &c[i * dim];
				float dot = 0;
#pragma omp simd reduction(+ : dot)
				for (int j = 0; j < dim; j++)
					dot += xr[j] * ci[j];
				float s = cn[i] - 2 * dot;
				if (s < best) {
					best = s;
					arg = i;
				}
			}
			assign[r] = arg;
			obj += std::max(0.0f, xn + best);
		}
		std::vector<double> sums(c.size(), 0.0);
		std::vector<size_t> counts(k, 0);
		for (size_t r = 0; r < n; r++) {
			counts[assign[r]]++;
			for (int j = 0; j < dim; j++)
				sums[assign[r] * dim + j] += x[r * dim + j];
		}
		for (int i = 0; i < k; i++)
			if (counts[i] > 0)
				for (int j = 0; j < dim; j++)
					c[i * dim + j] = static_cast<float>(sums[i * dim + j] / counts[i]);
	}
	return obj;
}

// IvfTrainComparison times IvfIndex::Train of IVF_FLAT through the engine
// (centroid trainer hook: GpuKMeans, then FAISS' residual step, nothing for
// IVF_FLAT) against the same Train on the CPU (FAISS k-means, all CPU
// threads), at n x dim into lists lists (FAISS' 10 iterations on at most 256
// rows per list) and at the first 100,000 rows into 256 lists, a size that
// train_device auto leaves on the CPU with 16 build threads.
void IvfTrainComparison(const std::vector<float> &x, size_t n, int dim, int lists) {
#ifdef VECDB_BENCH_IVF
	vecdb::gpu::RegisterGpuCentroidTrainer();
	const int threads = std::min(256, omp_get_max_threads());
	struct Case {
		size_t rows;
		int nlist;
	};
	for (Case cs : {Case{std::min<size_t>(n, 100000), 256}, Case{n, lists}}) {
		double secs[2] = {0, 0};
		for (int gpu = 1; gpu >= 0; gpu--) {
			IndexConfig c;
			c.kind = IndexKind::kIvfFlat;
			c.metric = Metric::kL2;
			c.dim = dim;
			c.nlist = cs.nlist;
			c.threads = threads;
			c.train_device = gpu ? TrainDevice::kGpu : TrainDevice::kCpu;
			auto made = CreateIndex(c);
			Check(made.status(), "CreateIndex IVF_FLAT");
			vecdb::gpu::GpuTrainStats before = vecdb::gpu::GetGpuTrainStats();
			double t0 = Now();
			Check(made.value()->Train(x.data(), cs.rows), "IVF_FLAT Train");
			secs[gpu] = Now() - t0;
			vecdb::gpu::GpuTrainStats after = vecdb::gpu::GetGpuTrainStats();
			if (gpu && after.trained != before.trained + 1) {
				Report("IVF_FLAT Train on the GPU", "FELL BACK TO CPU", after.last_error);
				return;
			}
		}
		std::string what = "IVF_FLAT Train " + std::to_string(cs.rows) + " x " + std::to_string(dim) + ", " +
			std::to_string(cs.nlist) + " lists";
		Report(what + ", GPU (engine)", Fmt("%.3f s", secs[1]), "train_device gpu");
		Report(what + ", CPU FAISS", Fmt("%.2f s", secs[0]), std::to_string(threads) + " threads");
		Report(what + ", speed-up", Fmt("%.1fx", secs[0] / secs[1]), "CPU / GPU, whole Train call");
	}
#else
	(void) x;
	(void) n;
	(void) dim;
	(void) lists;
	Report("IVF_FLAT Train GPU vs CPU (engine)", "not built", "no FAISS in this build");
#endif
}

// SearchTimes returns the median seconds of reps calls answering nq
// queries (cycling through queries) at params, after one warm-up call.
double SearchTimes(const Index &idx, const std::vector<float> &queries, size_t nq, size_t k, const SearchParams &p,
				   BitsetView filter, int reps, std::vector<int64_t> *labels = nullptr) {
	const size_t dim = static_cast<size_t>(idx.dim()), avail = queries.size() / dim;
	std::vector<int64_t> l(nq * k);
	std::vector<float> d(nq * k);
	Check(idx.Search(queries.data(), nq, k, p, filter, l.data(), d.data()), "warm-up");
	if (labels != nullptr)
		*labels = l;
	std::vector<double> t;
	for (int i = 0; i < reps; i++) {
		size_t at = nq == 1 ? static_cast<size_t>(i) % avail : 0;
		double t0 = Now();
		Check(idx.Search(queries.data() + at * dim, nq, k, p, filter, l.data(), d.data()), "search");
		t.push_back(Now() - t0);
	}
	return Median(t);
}

// RecallAt returns the fraction of truth's nq x k labels found in got.
double RecallAt(const std::vector<int64_t> &got, const std::vector<int64_t> &truth, size_t nq, size_t k) {
	size_t hit = 0;
	for (size_t q = 0; q < nq; q++)
		for (size_t i = 0; i < k; i++)
			for (size_t j = 0; j < k; j++)
				if (truth[q * k + i] >= 0 && got[q * k + j] == truth[q * k + i]) {
					hit++;
					break;
				}
	return static_cast<double>(hit) / static_cast<double>(nq * k);
}

// IvfSearchComparison measures GPU_IVF_FLAT over x (n x dim, lists lists):
// its own build (GpuKMeans, assignment on the device) against IVF_FLAT's
// Add on the CPU (FAISS' assignment, all threads, the same GPU-trained
// start), then searches at nprobe 32 of a GPU_IVF_FLAT made from that CPU
// index (same centroids and lists: the answers should agree) against the
// CPU index itself: one query at a time (CPU one thread) and batches of 1000
// (CPU all threads), unfiltered and 10% allowed, with recall@10 of each
// against the exact answers (GPU_FLAT).
void IvfSearchComparison(const std::vector<float> &x, size_t n, int dim, int lists, const std::vector<float> &queries) {
#ifdef VECDB_BENCH_IVF
	vecdb::gpu::RegisterGpuKinds();
	vecdb::gpu::RegisterGpuIvfKinds();
	const size_t nq = 1000, k = 10;
	const int threads = std::min(256, omp_get_max_threads());
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	IndexConfig c;
	c.kind = IndexKind::kGpuIvfFlat;
	c.metric = Metric::kL2;
	c.dim = dim;
	c.nlist = lists;
	c.threads = threads;
	auto g = vecdb::gpu::NewGpuIvfFlatIndex(c);
	Check(g.status(), "NewGpuIvfFlatIndex");
	double t0 = Now();
	Check(g.value()->Train(x.data(), n), "GPU_IVF_FLAT Train");
	double g_train = Now() - t0;
	t0 = Now();
	Check(g.value()->Add(x.data(), labels.data(), n), "GPU_IVF_FLAT Add");
	double g_add = Now() - t0;
	std::string size = std::to_string(n) + " x " + std::to_string(dim) + ", " + std::to_string(lists) + " lists";
	Report("GPU_IVF_FLAT " + size + " Train (GpuKMeans)", Fmt("%.3f s", g_train),
		   vecdb::gpu::GetGpuIvfFlatStats(*g.value()).trained_on_gpu ? "on the GPU" : "FELL BACK TO CPU");
	Report("GPU_IVF_FLAT Add (device assignment + host lists)", Fmt("%.3f s", g_add));
	c.kind = IndexKind::kIvfFlat;
	c.train_device = TrainDevice::kGpu;
	auto cpu = CreateIndex(c);
	Check(cpu.status(), "CreateIndex IVF_FLAT");
	Check(cpu.value()->Train(x.data(), n), "IVF_FLAT Train (GPU k-means)");
	t0 = Now();
	Check(cpu.value()->Add(x.data(), labels.data(), n), "IVF_FLAT Add");
	Report("IVF_FLAT Add on the CPU (FAISS assignment)", Fmt("%.3f s", Now() - t0), std::to_string(threads) + " threads");
	t0 = Now();
	auto twin = vecdb::gpu::GpuIvfFlatFrom(*cpu.value());
	Check(twin.status(), "GpuIvfFlatFrom");
	Report("GpuIvfFlatFrom (copy of the CPU index)", Fmt("%.3f s", Now() - t0));

	/* exact answers */
	double add_s = 0;
	std::unique_ptr<Index> flat = BuildGpuFlat(x, n, dim, &add_s);
	std::vector<int64_t> truth(nq * k);
	std::vector<float> td(nq * k);
	Check(flat->Search(queries.data(), nq, k, SearchParams(), {}, truth.data(), td.data()), "exact");
	flat.reset();

	auto f10 = FilterBits(n, 0.10, 4);
	BitsetView v10(f10.data(), n);
	SearchParams p;
	p.nprobe = 32;
	SearchParams pc = p;
	pc.threads = 1;
	t0 = Now();
	std::vector<int64_t> lt, lc, lg;
	double first = SearchTimes(*twin.value(), queries, 1, k, p, {}, 1); /* the first call uploads the lists */
	(void) first;
	Report("GPU_IVF_FLAT first search (uploads the lists)", Fmt("%.3f s", Now() - t0),
		   "uploads " + std::to_string(vecdb::gpu::GetGpuIvfFlatStats(*twin.value()).uploads));
	double g1 = SearchTimes(*twin.value(), queries, 1, k, p, {}, 300);
	double c1 = SearchTimes(*cpu.value(), queries, 1, k, pc, {}, 100);
	Report("IVF nprobe 32 single query top-10: GPU / CPU (1 thread)", Fmt("%.3f", g1 * 1e3) + Fmt(" / %.3f ms", c1 * 1e3));
	double gb = SearchTimes(*twin.value(), queries, nq, k, p, {}, 10, &lt);
	pc.threads = threads;
	double cb = SearchTimes(*cpu.value(), queries, nq, k, pc, {}, 3, &lc);
	Report("IVF nprobe 32 batch 1000 top-10: GPU / CPU", Fmt("%.0f", nq / gb) + Fmt(" / %.0f q/s", nq / cb),
		   std::to_string(threads) + " CPU threads");
	double gf = SearchTimes(*twin.value(), queries, nq, k, p, v10, 10);
	double cf = SearchTimes(*cpu.value(), queries, nq, k, pc, v10, 3);
	Report("IVF nprobe 32 batch 1000 top-10, 10% allowed: GPU / CPU", Fmt("%.0f", nq / gf) + Fmt(" / %.0f q/s", nq / cf));
	Report("IVF recall@10 vs exact: GPU (same lists) / CPU", Fmt("%.4f", RecallAt(lt, truth, nq, k)) +
		   Fmt(" / %.4f", RecallAt(lc, truth, nq, k)));
	Report("IVF GPU vs CPU answers, same lists", Fmt("%.4f of labels equal", RecallAt(lt, lc, nq, k)));
	SearchTimes(*g.value(), queries, nq, k, p, {}, 1, &lg);
	Report("IVF recall@10, GPU-built index (own lists)", Fmt("%.4f", RecallAt(lg, truth, nq, k)));
	vecdb::gpu::GpuIvfFlatStats st = vecdb::gpu::GetGpuIvfFlatStats(*twin.value());
	Report("  GPU_IVF_FLAT queries probed / exact / refilled / cpu",
		   std::to_string(st.probed) + " / " + std::to_string(st.exact) + " / " + std::to_string(st.refilled) +
			   " / " + std::to_string(st.cpu));
#else
	(void) x;
	(void) n;
	(void) dim;
	(void) lists;
	(void) queries;
	Report("GPU_IVF_FLAT", "not built", "no FAISS in this build");
#endif
}

// BlobQueries returns n queries around the same centres as Blobs(.., ncenters, seed).
std::vector<float> BlobQueries(size_t n, int dim, int ncenters, uint64_t seed) {
	std::vector<float> centers = RandomUniform(ncenters, dim, seed), noise = RandomUniform(n, dim, seed + 1000);
	for (size_t i = 0; i < n; i++) {
		size_t c = (i * 7919 + 13) % ncenters;
		for (int j = 0; j < dim; j++)
			noise[i * dim + j] = centers[c * dim + j] * 3.0f + 0.3f * noise[i * dim + j];
	}
	return noise;
}

}  // namespace

int main(int argc, char **argv) {
	bool quick = false;
	int cpu_iters = -1;
	for (int i = 1; i < argc; i++) {
		if (std::strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (std::strcmp(argv[i], "--cpu-iters") == 0 && i + 1 < argc)
			cpu_iters = std::atoi(argv[++i]);
	}
	Status dev = vecdb::gpu::CheckDevice();
	if (!dev.ok()) {
		std::printf("bench_gpu: %s\n", dev.message().c_str());
		return 0;
	}
	cudaDeviceProp prop;
	cudaGetDeviceProperties(&prop, 0);
	std::printf("device: %s, %d SMs, %zu MiB, L2 %d MiB; CPU threads %d\n", prop.name, prop.multiProcessorCount,
				prop.totalGlobalMem >> 20, prop.l2CacheSize >> 20, omp_get_max_threads());
	const size_t n = quick ? 100000 : 1000000;
	const int dim = 128;
	Report("device-to-device copy (read+write, events)", Fmt("%.2f TB/s", CopyBandwidth()));
	Report("GPU_FLAT floor: one query reads n x d floats",
		   Fmt("%.3f ms", n * dim * 4.0 / (CopyBandwidth() * 1e12) * 1e3), "(bytes / copy bandwidth)");

	std::vector<float> x = RandomUniform(n, dim, 1), queries = RandomUniform(1000, dim, 2);
	double add_s = 0;
	std::unique_ptr<Index> idx = BuildGpuFlat(x, n, dim, &add_s);
	Report("GPU_FLAT " + std::to_string(n) + " x 128 Add (host->device, norms)", Fmt("%.3f s", add_s));
	auto f1 = FilterBits(n, 0.01, 3), f10 = FilterBits(n, 0.10, 4);
	BitsetView v1(f1.data(), n), v10(f10.data(), n);
	for (size_t k : {size_t{10}, size_t{100}, size_t{1024}}) {
		auto r = SingleQueryMs(*idx, queries, 1000, dim, k, {}, 300);
		Report("single query top-" + std::to_string(k) + " median / p99", Fmt("%.3f", r.first) + Fmt(" / %.3f ms", r.second),
			   k == 10 ? "target <= 0.3 ms" : "");
	}
	auto s1 = SingleQueryMs(*idx, queries, 1000, dim, 10, v1, 300);
	auto s10 = SingleQueryMs(*idx, queries, 1000, dim, 10, v10, 300);
	Report("single query top-10, 1% allowed, median", Fmt("%.3f ms", s1.first), "<= unfiltered");
	Report("single query top-10, 10% allowed, median", Fmt("%.3f ms", s10.first), "<= unfiltered");
	for (size_t nq : {size_t{4}, size_t{16}, size_t{100}})
		Report("batch of " + std::to_string(nq) + " top-10", Fmt("%.0f q/s", BatchQps(*idx, queries, nq, 10, {}, 10)));
	double q0 = BatchQps(*idx, queries, 1000, 10, {}, 10);
	Report("batch 1000 top-10", Fmt("%.0f q/s", q0), "target >= 150000");
	Report("batch 1000 top-10, 1% allowed", Fmt("%.0f q/s", BatchQps(*idx, queries, 1000, 10, v1, 10)), ">= unfiltered");
	Report("batch 1000 top-10, 10% allowed", Fmt("%.0f q/s", BatchQps(*idx, queries, 1000, 10, v10, 10)), ">= unfiltered");
	Report("  fallback queries (not certified) in that batch",
		   std::to_string(vecdb::gpu::GetGpuFlatBatchStats(*idx).fallback) + " of 1000");
	Report("batch 1000 top-100", Fmt("%.0f q/s", BatchQps(*idx, queries, 1000, 100, {}, 5)),
		   "fallback " + std::to_string(vecdb::gpu::GetGpuFlatBatchStats(*idx).fallback));
	BatchVariants(*idx, x, n, dim, queries);
	idx.reset();
	x.clear();
	x.shrink_to_fit();

	{
		const int wide = 768;
		std::vector<float> xw = RandomUniform(n, wide, 5), qw = RandomUniform(1000, wide, 6);
		std::unique_ptr<Index> iw = BuildGpuFlat(xw, n, wide, &add_s);
		xw.clear();
		xw.shrink_to_fit();
		Report("GPU_FLAT " + std::to_string(n) + " x 768 single query top-10 median",
			   Fmt("%.3f ms", SingleQueryMs(*iw, qw, 1000, wide, 10, {}, 100).first));
		Report("GPU_FLAT " + std::to_string(n) + " x 768 batch 1000 top-10", Fmt("%.0f q/s", BatchQps(*iw, qw, 1000, 10, {}, 5)));
	}

	/* k-means: 1M x 128 into 1,000 lists, 10 iterations, every row trains */
	const int lists = quick ? 100 : 1000, iters = 10;
	std::vector<float> kx = Blobs(n, dim, 2000, 7);
	vecdb::gpu::GpuKMeansOptions o;
	o.niter = iters;
	std::vector<float> cent(static_cast<size_t>(lists) * dim);
	vecdb::gpu::GpuKMeansStats st;
	Check(vecdb::gpu::GpuKMeans(kx.data(), n, dim, lists, o, cent.data(), &st), "GpuKMeans warm-up");
	std::vector<double> gt, gi;
	for (int r = 0; r < 3; r++) {
		Check(vecdb::gpu::GpuKMeans(kx.data(), n, dim, lists, o, cent.data(), &st), "GpuKMeans");
		gt.push_back(st.seconds_total);
		gi.push_back(st.seconds_iterations);
	}
	double g_total = Median(gt), g_iter = Median(gi);
	Report("GPU k-means " + std::to_string(n) + " x 128, " + std::to_string(lists) + " lists, 10 it (total)",
		   Fmt("%.3f s", g_total), Fmt("objective %.4g", st.objective));
	Report("GPU k-means, iterations only (no host->device copy)", Fmt("%.3f s", g_iter));
#ifdef VECDB_BENCH_FAISS
	/* 3 iterations, time scaled to 10: FAISS' 10 took 42 s on the H200 machine */
	int ci = cpu_iters > 0 ? cpu_iters : 3;
	double t0 = Now();
	faiss::ClusteringParameters cp;
	cp.niter = ci;
	cp.seed = 42;
	cp.max_points_per_centroid = 1 << 30;
	cp.min_points_per_centroid = 1;
	faiss::Clustering clus(dim, lists, cp);
	faiss::IndexFlatL2 quant(dim);
	clus.train(n, kx.data(), quant);
	double cpu_s = (Now() - t0) * iters / ci;
	double cpu_obj = clus.iteration_stats.empty() ? 0 : clus.iteration_stats.back().obj;
	std::string ref = "FAISS Clustering, " + std::to_string(omp_get_max_threads()) + " threads";
#else
	int ci = cpu_iters > 0 ? cpu_iters : 2;
	std::vector<size_t> init = vecdb::gpu::KMeansTrainingRows(n, lists, o);
	double t0 = Now();
	double cpu_obj = CpuLloyd(kx, n, dim, lists, init, ci);
	double cpu_s = (Now() - t0) * iters / ci;
	std::string ref = "built-in OpenMP Lloyd (no FAISS here), " + std::to_string(omp_get_max_threads()) + " threads";
#endif
	Report("CPU k-means (" + ref + ")", Fmt("%.2f s", cpu_s),
		   ci == iters ? "10 iterations" : std::to_string(ci) + " iterations run, scaled to 10");
	Report("CPU objective after " + std::to_string(ci) + " it / GPU after 10", Fmt("%.4g", cpu_obj) + Fmt(" / %.4g", st.objective));
	Report("k-means speed-up (CPU / GPU total)", Fmt("%.1fx", cpu_s / g_total), "target >= 20x");
	IvfTrainComparison(kx, n, dim, lists);
	IvfSearchComparison(kx, n, dim, lists, BlobQueries(1000, dim, 2000, 7));

	std::printf("\n==== summary ====\n");
	for (const Row &r : table)
		std::printf("%-52s %-22s %s\n", r.what.c_str(), r.value.c_str(), r.target.c_str());
	return 0;
}
