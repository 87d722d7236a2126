// test_gpu_flat.cpp checks GPU_FLAT against the CPU FLAT index and exact
// double-precision answers: metrics, the fused (few queries) and GEMM
// (batch) paths, filters at 0/1/10/50/100% allowed, k above the allowed
// rows, ties, non-identity labels, the CPU fallback for large k,
// serialization, the TF32 + exact re-rank batch path (labels equal to FLAT's,
// and the exact fallback for queries the error bound cannot certify);
// without a GPU every device case skips with the reason.
#include <gtest/gtest.h>

#include <unordered_map>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gpu/device_probe.hpp"
#include "gpu_test_util.hpp"
#include "gpu/gpu_flat_index.hpp"
#include "index_test_util.hpp"
#include "knowhere/index.hpp"

namespace {

using namespace vecdb::knowhere;
using vecdb::knowhere::testutil::Bitset;
using vecdb::knowhere::testutil::ReferenceDistance;
using vecdb::knowhere::testutil::Rng;

using vecdb::gpu::testutil::NoGpuReason;

// RandomRows returns n x dim normal floats.
std::vector<float> RandomRows(size_t n, int dim, uint64_t seed) {
	Rng rng(seed);
	std::vector<float> v(n * dim);
	for (auto &x : v)
		x = static_cast<float>(rng.Normal());
	return v;
}

// Built holds a GPU_FLAT and a FLAT index over the same rows.
struct Built {
	std::unique_ptr<Index> gpu, cpu;
};

// Build makes both indexes over data with labels.
Built Build(Metric metric, int dim, const std::vector<float> &data, const std::vector<int64_t> &labels) {
	Built b;
	IndexConfig c;
	c.metric = metric;
	c.dim = dim;
	auto g = vecdb::gpu::NewGpuFlatIndex(c);
	EXPECT_TRUE(g.ok()) << g.status().message();
	if (!g.ok())
		return b;
	b.gpu = std::move(g).value();
	c.kind = IndexKind::kFlat;
	auto f = CreateIndex(c);
	EXPECT_TRUE(f.ok());
	b.cpu = std::move(f).value();
	EXPECT_TRUE(b.gpu->Add(data.data(), labels.data(), labels.size()).ok());
	EXPECT_TRUE(b.cpu->Add(data.data(), labels.data(), labels.size()).ok());
	return b;
}

// Near reports whether two scores agree within 1e-3 relative (1e-3 absolute near 0).
bool Near(double a, double b) {
	return std::fabs(a - b) <= 1e-3 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

// CheckAgainstCpu searches both indexes and checks that GPU_FLAT returns the
// same rows as FLAT: equal padding, distances within 1e-3, and where a label
// differs it is a tie (the GPU label is allowed, not repeated, and its exact
// distance equals the CPU's at that rank within tolerance).
void CheckAgainstCpu(const Built &b, Metric metric, int dim, const std::vector<float> &data,
					 const std::vector<int64_t> &labels, const std::vector<float> &queries, size_t nq, size_t k,
					 BitsetView filter, const std::string &what) {
	std::vector<int64_t> gl(nq * k, -7), cl(nq * k);
	std::vector<float> gd(nq * k, -7.0f), cd(nq * k);
	SearchParams p;
	Status s = b.gpu->Search(queries.data(), nq, k, p, filter, gl.data(), gd.data());
	ASSERT_TRUE(s.ok()) << what << ": " << s.message();
	ASSERT_TRUE(b.cpu->Search(queries.data(), nq, k, p, filter, cl.data(), cd.data()).ok());
	std::unordered_map<int64_t, size_t> row_of;
	for (size_t i = 0; i < labels.size(); i++)
		row_of[labels[i]] = i;
	size_t mismatched = 0;
	for (size_t q = 0; q < nq; q++) {
		std::vector<int64_t> seen;
		for (size_t i = 0; i < k; i++) {
			size_t at = q * k + i;
			if (cl[at] < 0) {
				EXPECT_EQ(gl[at], -1) << what << " q " << q << " rank " << i;
				EXPECT_TRUE(std::isinf(gd[at]) && gd[at] > 0) << what << " q " << q << " rank " << i;
				continue;
			}
			ASSERT_GE(gl[at], 0) << what << " q " << q << " rank " << i;
			EXPECT_TRUE(Near(gd[at], cd[at])) << what << " q " << q << " rank " << i << ": gpu " << gd[at]
											  << " cpu " << cd[at];
			EXPECT_FALSE(filter.test(gl[at])) << what << ": filtered label " << gl[at] << " returned";
			for (int64_t l : seen)
				EXPECT_NE(l, gl[at]) << what << ": label repeated";
			seen.push_back(gl[at]);
			if (gl[at] != cl[at]) {
				mismatched++;
				ASSERT_TRUE(row_of.count(gl[at]) == 1) << what << ": unknown label " << gl[at];
				double exact = ReferenceDistance(metric, dim, queries.data() + q * dim,
												 data.data() + row_of[gl[at]] * dim);
				EXPECT_TRUE(Near(exact, cd[at])) << what << " q " << q << " rank " << i << ": label " << gl[at]
												 << " (exact " << exact << ") instead of " << cl[at] << " ("
												 << cd[at] << ")";
			}
		}
	}
	EXPECT_LE(mismatched, nq * k / 100 + 2) << what << ": too many tie swaps";
}

// CheckExactAgainstCpu requires GPU_FLAT's labels to equal FLAT's rank by
// rank, except where the two rows' distances are genuinely equal: their
// double-precision distances to the query agree within the FP32 rounding of
// two direct evaluations (2 (dim + 4) 2^-24 relative), far tighter than the
// error of the norm expansion ||q||^2 + ||x||^2 - 2 q.x on near-duplicate
// rows. GPU distances must ascend, and equal ones order by label.
void CheckExactAgainstCpu(const Built &b, Metric metric, int dim, const std::vector<float> &data,
						  const std::vector<int64_t> &labels, const std::vector<float> &queries, size_t nq, size_t k,
						  BitsetView filter, const std::string &what) {
	std::vector<int64_t> gl(nq * k, -7), cl(nq * k);
	std::vector<float> gd(nq * k, -7.0f), cd(nq * k);
	ASSERT_TRUE(b.gpu->Search(queries.data(), nq, k, SearchParams(), filter, gl.data(), gd.data()).ok()) << what;
	ASSERT_TRUE(b.cpu->Search(queries.data(), nq, k, SearchParams(), filter, cl.data(), cd.data()).ok()) << what;
	std::unordered_map<int64_t, size_t> row_of;
	for (size_t i = 0; i < labels.size(); i++)
		row_of[labels[i]] = i;
	const double tol = 2.0 * (dim + 4) * std::ldexp(1.0, -24);
	size_t swaps = 0;
	for (size_t q = 0; q < nq; q++) {
		for (size_t i = 0; i < k; i++) {
			size_t at = q * k + i;
			if (i > 0 && gl[at] >= 0) {
				EXPECT_LE(gd[at - 1], gd[at]) << what << " q " << q << " rank " << i;
				if (gd[at - 1] == gd[at])
					EXPECT_LT(gl[at - 1], gl[at]) << what << ": tie not by label, q " << q << " rank " << i;
			}
			if (gl[at] == cl[at])
				continue;
			ASSERT_TRUE(gl[at] >= 0 && cl[at] >= 0) << what << " q " << q << " rank " << i;
			const float *qv = queries.data() + q * dim;
			double eg = ReferenceDistance(metric, dim, qv, data.data() + row_of[gl[at]] * dim);
			double ec = ReferenceDistance(metric, dim, qv, data.data() + row_of[cl[at]] * dim);
			EXPECT_LE(std::fabs(eg - ec), tol * std::max(std::fabs(eg), std::fabs(ec)) + 1e-30)
				<< what << " q " << q << " rank " << i << ": label " << gl[at] << " (exact " << eg
				<< ") instead of " << cl[at] << " (exact " << ec << ")";
			swaps++;
		}
	}
	std::printf("%s: %zu of %zu labels differ from FLAT, all at FP32-equal distances\n", what.c_str(), swaps,
				nq * k);
}

TEST(GpuFlat, WithoutDeviceSaysNotSupported) {
	if (NoGpuReason().empty())
		GTEST_SKIP() << "a GPU is present; this case covers machines without one";
	IndexConfig c;
	c.kind = IndexKind::kGpuFlat;
	c.dim = 8;
	auto direct = vecdb::gpu::NewGpuFlatIndex(c);
	ASSERT_FALSE(direct.ok());
	EXPECT_EQ(direct.status().code(), StatusCode::kNotSupported);
	EXPECT_NE(direct.status().message().find("no CUDA device"), std::string::npos) << direct.status().message();
	vecdb::gpu::RegisterGpuKinds();
	auto viaFactory = CreateIndex(c);
	ASSERT_FALSE(viaFactory.ok());
	EXPECT_EQ(viaFactory.status().code(), StatusCode::kNotSupported);
	std::printf("without a GPU: %s\n", direct.status().message().c_str());
}

TEST(GpuFlat, MatchesCpuFlatAcrossMetricsPathsAndFilters) {
	SKIP_WITHOUT_GPU();
	const size_t n = 30000;
	const int dim = 37; /* not a multiple of 4: exercises the device padding */
	std::vector<float> data = RandomRows(n, dim, 1);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
		Built b = Build(metric, dim, data, labels);
		ASSERT_TRUE(b.gpu != nullptr);
		for (size_t nq : {size_t{1}, size_t{3}, size_t{64}}) {
			std::vector<float> queries = RandomRows(nq, dim, 100 + nq);
			for (size_t k : {size_t{1}, size_t{10}, size_t{100}, size_t{1024}}) {
				for (double allowed : {1.0, 0.5, 0.1, 0.01, 0.0}) {
					Bitset bits = Bitset::Random(n, 1.0 - allowed, 7 + k);
					BitsetView view = allowed == 1.0 ? BitsetView() : bits.View();
					std::string what = "metric " + std::to_string(static_cast<int>(metric)) + " nq " +
						std::to_string(nq) + " k " + std::to_string(k) + " allowed " + std::to_string(allowed);
					CheckAgainstCpu(b, metric, dim, data, labels, queries, nq, k, view, what);
				}
			}
		}
	}
}

TEST(GpuFlat, FewerAllowedRowsThanKArePadded) {
	SKIP_WITHOUT_GPU();
	const size_t n = 5000;
	const int dim = 16;
	std::vector<float> data = RandomRows(n, dim, 2);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	Built b = Build(Metric::kL2, dim, data, labels);
	ASSERT_TRUE(b.gpu != nullptr);
	Bitset bits(n);
	for (size_t i = 0; i < n; i++)
		if (i % 1000 != 3)
			bits.Set(i);
	for (size_t nq : {size_t{1}, size_t{20}}) {
		std::vector<float> queries = RandomRows(nq, dim, 3);
		const size_t k = 10;
		std::vector<int64_t> gl(nq * k);
		std::vector<float> gd(nq * k);
		ASSERT_TRUE(b.gpu->Search(queries.data(), nq, k, SearchParams(), bits.View(), gl.data(), gd.data()).ok());
		for (size_t q = 0; q < nq; q++) {
			for (size_t i = 0; i < 5; i++)
				EXPECT_EQ(gl[q * k + i] % 1000, 3) << "q " << q << " rank " << i;
			for (size_t i = 5; i < k; i++) {
				EXPECT_EQ(gl[q * k + i], -1);
				EXPECT_TRUE(std::isinf(gd[q * k + i]));
			}
		}
		CheckAgainstCpu(b, Metric::kL2, dim, data, labels, queries, nq, k, bits.View(), "five allowed");
	}
}

TEST(GpuFlat, TiesGoToTheSmallerLabel) {
	SKIP_WITHOUT_GPU();
	const int dim = 8;
	const size_t distinct = 300, copies = 20, n = distinct * copies;
	std::vector<float> proto = RandomRows(distinct, dim, 4), data(n * dim);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
			data[i * dim + j] = proto[(i % distinct) * dim + j];
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	Built b = Build(Metric::kL2, dim, data, labels);
	ASSERT_TRUE(b.gpu != nullptr);
	for (size_t nq : {size_t{1}, size_t{16}}) {
		std::vector<float> queries = RandomRows(nq, dim, 5);
		const size_t k = 50;
		std::vector<int64_t> gl(nq * k), cl(nq * k);
		std::vector<float> gd(nq * k), cd(nq * k);
		ASSERT_TRUE(b.gpu->Search(queries.data(), nq, k, SearchParams(), {}, gl.data(), gd.data()).ok());
		ASSERT_TRUE(b.cpu->Search(queries.data(), nq, k, SearchParams(), {}, cl.data(), cd.data()).ok());
		for (size_t i = 0; i < nq * k; i++) {
			/* equal vectors give bit-equal GPU scores, so ties are exact there */
			if (i % k > 0 && gd[i] == gd[i - 1])
				EXPECT_LT(gl[i - 1], gl[i]) << "nq " << nq << " at " << i;
			EXPECT_TRUE(Near(gd[i], cd[i]));
		}
		CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, nq, k, {}, "duplicates nq " + std::to_string(nq));
	}
	/* the same through SGEMM candidates */
	vecdb::gpu::GpuFlatBatchOptions o;
	o.tf32_rerank = false;
	ASSERT_TRUE(vecdb::gpu::SetGpuFlatBatchOptions(*b.gpu, o).ok());
	std::vector<float> queries = RandomRows(16, dim, 5);
	CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, 16, 50, {}, "duplicates, sgemm");
}

TEST(GpuFlat, ArbitraryLabelsFilterByLabel) {
	SKIP_WITHOUT_GPU();
	const size_t n = 20000;
	const int dim = 64;
	std::vector<float> data = RandomRows(n, dim, 6);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>((i * 7919) % n) * 3 + 1000; /* a permutation, not ascending */
	Built b = Build(Metric::kInnerProduct, dim, data, labels);
	ASSERT_TRUE(b.gpu != nullptr);
	Bitset bits = Bitset::Random(n * 3 + 1000, 0.9, 8);
	for (size_t nq : {size_t{1}, size_t{50}}) {
		std::vector<float> queries = RandomRows(nq, dim, 9);
		CheckAgainstCpu(b, Metric::kInnerProduct, dim, data, labels, queries, nq, 20, bits.View(), "labels");
		CheckAgainstCpu(b, Metric::kInnerProduct, dim, data, labels, queries, nq, 20, {}, "labels, no filter");
	}
}

TEST(GpuFlat, WideRowsLargeKFallbackRangeAndSerialization) {
	SKIP_WITHOUT_GPU();
	const size_t n = 6000;
	const int dim = 768;
	std::vector<float> data = RandomRows(n, dim, 10);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	Built b = Build(Metric::kL2, dim, data, labels);
	ASSERT_TRUE(b.gpu != nullptr);
	std::vector<float> queries = RandomRows(10, dim, 11);
	CheckAgainstCpu(b, Metric::kL2, dim, data, labels, queries, 1, 10, {}, "d768 single");
	CheckAgainstCpu(b, Metric::kL2, dim, data, labels, queries, 10, 10, {}, "d768 batch");
	CheckAgainstCpu(b, Metric::kL2, dim, data, labels, queries, 2, 3000, {}, "k 3000 (CPU fallback)");

	std::vector<Neighbor> gr, cr;
	ASSERT_TRUE(b.cpu->RangeSearch(queries.data(), 1400.0f, SearchParams(), {}, &cr).ok());
	ASSERT_TRUE(b.gpu->RangeSearch(queries.data(), 1400.0f, SearchParams(), {}, &gr).ok());
	ASSERT_EQ(gr.size(), cr.size());
	for (size_t i = 0; i < gr.size(); i++)
		EXPECT_EQ(gr[i].label, cr[i].label);

	vecdb::gpu::RegisterGpuKinds();
	StringWriter w;
	ASSERT_TRUE(b.gpu->Serialize(w).ok());
	MemoryReader r(w.bytes().data(), w.bytes().size());
	auto loaded = DeserializeIndex(r);
	ASSERT_TRUE(loaded.ok()) << loaded.status().message();
	Built b2{std::move(loaded).value(), std::move(b.cpu)};
	EXPECT_EQ(b2.gpu->kind(), IndexKind::kGpuFlat);
	EXPECT_EQ(b2.gpu->count(), static_cast<int64_t>(n));
	CheckAgainstCpu(b2, Metric::kL2, dim, data, labels, queries, 3, 10, {}, "reloaded");
	std::string bad = w.bytes();
	bad[bad.size() / 2] ^= 1;
	MemoryReader rb(bad.data(), bad.size());
	auto corrupt = DeserializeIndex(rb);
	EXPECT_FALSE(corrupt.ok());
	std::vector<float> back(dim);
	int64_t l = 17;
	ASSERT_TRUE(b2.gpu->Reconstruct(&l, 1, back.data()).ok());
	for (int j = 0; j < dim; j++)
		EXPECT_EQ(back[j], data[17 * dim + j]);
}

// SameLabelsFraction returns the fraction of queries whose k labels from two
// searches are equal in order.
double SameLabelsFraction(const std::vector<int64_t> &a, const std::vector<int64_t> &b, size_t nq, size_t k) {
	size_t same = 0;
	for (size_t q = 0; q < nq; q++) {
		bool eq = true;
		for (size_t i = 0; i < k; i++)
			eq = eq && a[q * k + i] == b[q * k + i];
		same += eq;
	}
	return static_cast<double>(same) / nq;
}

TEST(GpuFlat, Tf32RerankBatchesMatchCpuFlat) {
	SKIP_WITHOUT_GPU();
	const size_t n = 60000, nq = 300;
	for (int dim : {128, 37}) {
		std::vector<float> data = RandomRows(n, dim, 20 + dim), queries = RandomRows(nq, dim, 21 + dim);
		std::vector<int64_t> labels(n);
		for (size_t i = 0; i < n; i++)
			labels[i] = static_cast<int64_t>(i);
		for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
			Built b = Build(metric, dim, data, labels);
			ASSERT_TRUE(b.gpu != nullptr);
			for (size_t k : {size_t{1}, size_t{10}, size_t{100}}) {
				for (double allowed : {1.0, 0.1, 0.01}) {
					Bitset bits = Bitset::Random(n, 1.0 - allowed, 30 + k);
					BitsetView view = allowed == 1.0 ? BitsetView() : bits.View();
					std::string what = "tf32 dim " + std::to_string(dim) + " metric " +
						std::to_string(static_cast<int>(metric)) + " k " + std::to_string(k) + " allowed " +
						std::to_string(allowed);
					CheckAgainstCpu(b, metric, dim, data, labels, queries, nq, k, view, what);
					auto st = vecdb::gpu::GetGpuFlatBatchStats(*b.gpu);
					EXPECT_EQ(st.reranked, nq) << what << ": the batch did not take the TF32 path";
					EXPECT_LE(st.fallback, nq / 10) << what << ": too many queries fell back";
					std::vector<int64_t> gl(nq * k), cl(nq * k);
					std::vector<float> gd(nq * k), cd(nq * k);
					ASSERT_TRUE(b.gpu->Search(queries.data(), nq, k, SearchParams(), view, gl.data(), gd.data()).ok());
					ASSERT_TRUE(b.cpu->Search(queries.data(), nq, k, SearchParams(), view, cl.data(), cd.data()).ok());
					/* differences only where FP32 summation order splits a near tie */
					EXPECT_GE(SameLabelsFraction(gl, cl, nq, k), 0.99) << what;
				}
			}
			vecdb::gpu::GpuFlatBatchOptions o;
			o.tf32_rerank = false;
			ASSERT_TRUE(vecdb::gpu::SetGpuFlatBatchOptions(*b.gpu, o).ok());
			CheckAgainstCpu(b, metric, dim, data, labels, queries, nq, 10, {}, "sgemm option");
			EXPECT_EQ(vecdb::gpu::GetGpuFlatBatchStats(*b.gpu).reranked, 0u);
		}
	}
}

TEST(GpuFlat, Tf32UncertifiedQueriesFallBackToExact) {
	SKIP_WITHOUT_GPU();
	/* 400 prototypes, 50 near-copies each (noise 1e-3): the k + k candidates
	   of a query sit inside the TF32 error bound, so certification fails and
	   those queries are answered again by the direct scan; distances differ
	   by ~1e-4 relative, below the norm expansion's FP32 error, so any final
	   distance from ||q||^2 + ||x||^2 - 2 q.x misorders them: labels must
	   equal FLAT's exactly */
	const int dim = 64;
	const size_t protos = 400, copies = 50, n = protos * copies, nq = 40, k = 20;
	std::vector<float> proto = RandomRows(protos, dim, 40), noise = RandomRows(n, dim, 41), data(n * dim);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
			data[i * dim + j] = proto[(i % protos) * dim + j] + 1e-3f * noise[i * dim + j];
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	std::vector<float> queries(nq * dim), qnoise = RandomRows(nq, dim, 42);
	for (size_t q = 0; q < nq; q++)
		for (int j = 0; j < dim; j++)
			queries[q * dim + j] = proto[(q * 7) % protos * dim + j] + 0.05f * qnoise[q * dim + j];
	Built b = Build(Metric::kL2, dim, data, labels);
	ASSERT_TRUE(b.gpu != nullptr);
	/* single query and small batches: the fused scan's direct distances */
	for (size_t few : {size_t{1}, size_t{3}, size_t{4}})
		CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, few, k, {},
							 "near copies, fused, nq " + std::to_string(few));
	vecdb::gpu::GpuFlatBatchOptions o;
	o.rerank_factor = 2;
	ASSERT_TRUE(vecdb::gpu::SetGpuFlatBatchOptions(*b.gpu, o).ok());
	CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, nq, k, {}, "near copies");
	auto st = vecdb::gpu::GetGpuFlatBatchStats(*b.gpu);
	EXPECT_EQ(st.reranked, nq);
	EXPECT_GT(st.fallback, 0u) << "the bound certified candidates it cannot separate";
	std::printf("near copies: %zu of %zu queries fell back\n", st.fallback, st.reranked);
	CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, 5, k, {}, "near copies, batch of 5");
	Bitset bits = Bitset::Random(n, 0.5, 43);
	CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, nq, k, bits.View(), "near copies, 50% allowed");
	o.rerank_factor = 4;
	o.tf32_rerank = false; /* SGEMM candidates: the norm expansion in FP32 misorders these too */
	ASSERT_TRUE(vecdb::gpu::SetGpuFlatBatchOptions(*b.gpu, o).ok());
	CheckExactAgainstCpu(b, Metric::kL2, dim, data, labels, queries, nq, k, {}, "near copies, sgemm");
	std::printf("near copies, sgemm: %zu of %zu queries fell back\n", vecdb::gpu::GetGpuFlatBatchStats(*b.gpu).fallback,
				nq);
	o.rerank_factor = 1;
	EXPECT_FALSE(vecdb::gpu::SetGpuFlatBatchOptions(*b.gpu, o).ok());
}

TEST(GpuFlat, EmptyIndexAndBadQueries) {
	SKIP_WITHOUT_GPU();
	IndexConfig c;
	c.metric = Metric::kCosine;
	c.dim = 4;
	auto g = vecdb::gpu::NewGpuFlatIndex(c);
	ASSERT_TRUE(g.ok());
	std::unique_ptr<Index> idx = std::move(g).value();
	float q[4] = {1, 2, 3, 4}, zero[4] = {0, 0, 0, 0};
	int64_t l[3];
	float d[3];
	ASSERT_TRUE(idx->Search(q, 1, 3, SearchParams(), {}, l, d).ok());
	EXPECT_EQ(l[0], -1);
	int64_t lab = 0;
	EXPECT_FALSE(idx->Add(zero, &lab, 1).ok()); /* zero vector under cosine */
	ASSERT_TRUE(idx->Add(q, &lab, 1).ok());
	EXPECT_FALSE(idx->Search(zero, 1, 3, SearchParams(), {}, l, d).ok());
	EXPECT_FALSE(idx->Search(q, 1, 0, SearchParams(), {}, l, d).ok());
	ASSERT_TRUE(idx->Search(q, 1, 3, SearchParams(), {}, l, d).ok());
	EXPECT_EQ(l[0], 0);
	EXPECT_NEAR(d[0], 0.0f, 1e-6f);
	EXPECT_EQ(l[1], -1);
}

}  // namespace
