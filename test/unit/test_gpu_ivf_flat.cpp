// test_gpu_ivf_flat.cpp checks GPU_IVF_FLAT against the CPU IVF_FLAT it is
// made from (same centroids and lists, so the same rows at equal nprobe):
// metrics, one query and batches, nprobe 1 to all lists, filters that widen
// nprobe or make the search exact, k above the allowed rows, labels that are
// not row numbers, assignment on the device (Add) against FAISS' own,
// GPU-trained recall against CPU-trained, serialization, the CPU paths
// (large k, iterator, range search, Reconstruct), DropBelow and
// cancellation. Without a GPU every device case skips with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpu/device_probe.hpp"
#include "gpu_test_util.hpp"
#include "gpu/gpu_flat_index.hpp"
#include "gpu/gpu_ivf_flat_index.hpp"
#include "index_test_util.hpp"
#include "ivf_train_test_util.hpp"
#include "knowhere/index.hpp"

namespace {

using namespace vecdb::knowhere;
using vecdb::knowhere::testutil::Bitset;
using vecdb::knowhere::testutil::Rng;

using vecdb::gpu::testutil::NoGpuReason;

// Clustered returns n x dim rows around 64 centres (so lists differ in size).
std::vector<float> Clustered(size_t n, int dim, uint64_t seed) {
	testutil::GaussianMixture g = testutil::GaussianMixture::Make(dim, 64, seed, 0.3, 0.1, 0.5);
	return g.Sample(n, seed + 1);
}

// RowLabels returns the labels 0 .. n-1.
std::vector<int64_t> RowLabels(size_t n) {
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	return labels;
}

// Pair is a CPU IVF_FLAT and the GPU_IVF_FLAT made from it.
struct Pair {
	std::unique_ptr<Index> cpu, gpu;
};

// MakePair trains and fills a CPU IVF_FLAT (FAISS on the CPU), then copies it
// to the device.
Pair MakePair(Metric metric, int dim, int nlist, const std::vector<float> &data, const std::vector<int64_t> &labels) {
	Pair p;
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.metric = metric;
	c.dim = dim;
	c.nlist = nlist;
	c.train_device = TrainDevice::kCpu;
	auto made = CreateIndex(c);
	EXPECT_TRUE(made.ok());
	p.cpu = std::move(made).value();
	EXPECT_TRUE(p.cpu->Build(data.data(), labels.data(), labels.size()).ok());
	auto g = vecdb::gpu::GpuIvfFlatFrom(*p.cpu);
	EXPECT_TRUE(g.ok()) << g.status().message();
	if (g.ok())
		p.gpu = std::move(g).value();
	return p;
}

// Near reports whether two scores agree within 1e-3 relative (1e-3 absolute near 0).
bool Near(double a, double b) {
	return std::fabs(a - b) <= 1e-3 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

// CheckSame searches both indexes and requires the same answer: equal
// padding, no filtered or repeated label, distances within 1e-3 at every
// rank, and labels equal except ties and rare centroid near-ties (at most
// 0.1% of the results: a row dropped from every list, 1 in ~470, fails).
void CheckSame(const Pair &p, const std::vector<float> &queries, size_t nq, size_t k, const SearchParams &sp,
			   BitsetView filter, const std::string &what) {
	std::vector<int64_t> gl(nq * k, -7), cl(nq * k);
	std::vector<float> gd(nq * k, -7.0f), cd(nq * k);
	Status s = p.gpu->Search(queries.data(), nq, k, sp, filter, gl.data(), gd.data());
	ASSERT_TRUE(s.ok()) << what << ": " << s.message();
	ASSERT_TRUE(p.cpu->Search(queries.data(), nq, k, sp, filter, cl.data(), cd.data()).ok()) << what;
	size_t differ = 0, far = 0;
	for (size_t q = 0; q < nq; q++) {
		std::vector<int64_t> seen;
		for (size_t i = 0; i < k; i++) {
			size_t at = q * k + i;
			if (cl[at] < 0) {
				EXPECT_EQ(gl[at], -1) << what << " q " << q << " rank " << i;
				EXPECT_TRUE(std::isinf(gd[at])) << what << " q " << q << " rank " << i;
				continue;
			}
			ASSERT_GE(gl[at], 0) << what << " q " << q << " rank " << i << " (cpu " << cl[at] << ")";
			EXPECT_FALSE(filter.test(gl[at])) << what << ": filtered label " << gl[at];
			EXPECT_EQ(std::count(seen.begin(), seen.end(), gl[at]), 0) << what << ": label repeated";
			seen.push_back(gl[at]);
			far += Near(gd[at], cd[at]) ? 0 : 1;
			differ += gl[at] != cl[at];
		}
	}
	EXPECT_LE(far, nq * k / 1000 + 1) << what << ": distances differ from IVF_FLAT's";
	EXPECT_LE(differ, nq * k / 1000 + 2) << what << ": labels differ from IVF_FLAT's";
}

TEST(GpuIvfFlat, NotSupportedWithoutDevice) {
	if (NoGpuReason().empty())
		GTEST_SKIP() << "a GPU is present";
	IndexConfig c;
	c.metric = Metric::kL2;
	c.dim = 8;
	auto made = vecdb::gpu::NewGpuIvfFlatIndex(c);
	ASSERT_FALSE(made.ok());
	EXPECT_EQ(made.status().code(), StatusCode::kNotSupported);
}

TEST(GpuIvfFlat, MatchesCpuIvfFlat) {
	SKIP_WITHOUT_GPU();
	const int dim = 40; /* not a multiple of 4: padded rows */
	const size_t n = 30000;
	std::vector<float> data = Clustered(n, dim, 7);
	std::vector<int64_t> labels = RowLabels(n);
	std::vector<float> queries = Clustered(200, dim, 99);
	for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
		Pair p = MakePair(m, dim, 64, data, labels);
		ASSERT_NE(p.gpu, nullptr);
		EXPECT_EQ(p.gpu->kind(), IndexKind::kGpuIvfFlat);
		EXPECT_EQ(p.gpu->count(), static_cast<int64_t>(n));
		std::string mname = "metric " + std::to_string(static_cast<int>(m));
		Bitset half(n), tenth(n), rare(n);
		Rng rng(5);
		for (size_t i = 0; i < n; i++) {
			if (rng.Uniform() >= 0.5)
				half.Set(i);
			if (rng.Uniform() >= 0.1)
				tenth.Set(i);
			if (i % 200 != 0)
				rare.Set(i);
		}
		for (int nprobe : {1, 4, 16, 64}) {
			for (bool widen : {false, true}) {
				SearchParams sp;
				sp.nprobe = nprobe;
				sp.widen_probes = widen; /* the worker's scans: more lists, never exact for lack of rows */
				for (size_t nq : {size_t{1}, size_t{3}, size_t{200}})
					for (size_t k : {size_t{1}, size_t{10}, size_t{100}, size_t{1000}}) {
						std::string w = mname + " nprobe " + std::to_string(nprobe) + (widen ? " widened" : "") +
							" nq " + std::to_string(nq) + " k " + std::to_string(k);
						CheckSame(p, queries, nq, k, sp, BitsetView(), w);
						CheckSame(p, queries, nq, k, sp, half.View(), w + " 50%");
						CheckSame(p, queries, nq, k, sp, tenth.View(), w + " 10%");
						CheckSame(p, queries, nq, k, sp, rare.View(), w + " 0.5%");
					}
			}
		}
		/* k above the allowed rows pads with -1; an all-filtered bitset returns nothing */
		SearchParams sp;
		sp.nprobe = 4;
		CheckSame(p, queries, 5, 200, sp, rare.View(), mname + " k 200 of 150 allowed");
		Bitset none(n);
		for (size_t i = 0; i < n; i++)
			none.Set(i);
		CheckSame(p, queries, 5, 10, sp, none.View(), mname + " nothing allowed");
		vecdb::gpu::GpuIvfFlatStats st = vecdb::gpu::GetGpuIvfFlatStats(*p.gpu);
		EXPECT_GT(st.probed, 0u);
		EXPECT_GT(st.exact, 0u);
		EXPECT_EQ(st.cpu, 0u);
		EXPECT_EQ(st.uploads, 1u);
	}
}

TEST(GpuIvfFlat, LongListsAndRefills) {
	SKIP_WITHOUT_GPU();
	const int dim = 8;
	const size_t n = 30000;
	std::vector<float> data = Clustered(n, dim, 13);
	std::vector<int64_t> labels = RowLabels(n);
	std::vector<float> queries = Clustered(300, dim, 17);
	/* 2 lists of ~15,000 rows: each probed list is cut into several ranges */
	Pair two = MakePair(Metric::kL2, dim, 2, data, labels);
	ASSERT_NE(two.gpu, nullptr);
	SearchParams sp;
	sp.nprobe = 1;
	CheckSame(two, queries, 300, 50, sp, BitsetView(), "two long lists, nprobe 1");
	sp.nprobe = 2;
	CheckSame(two, queries, 7, 50, sp, BitsetView(), "two long lists, nprobe 2 (every list)");
	/* 64 lists of ~470 rows, half allowed, nprobe 1 widened to 2: about 470
	 * allowed rows probed, mostly fewer than k = 1000, so those queries are
	 * answered again exactly (the CPU does the same) */
	Pair many = MakePair(Metric::kL2, dim, 64, data, labels);
	ASSERT_NE(many.gpu, nullptr);
	Bitset half(n);
	for (size_t i = 0; i < n; i += 2)
		half.Set(i);
	sp.nprobe = 1;
	CheckSame(many, queries, 20, 1000, sp, half.View(), "refilled: probed lists too short for k");
	vecdb::gpu::GpuIvfFlatStats st = vecdb::gpu::GetGpuIvfFlatStats(*many.gpu);
	EXPECT_EQ(st.probed, 20u);
	EXPECT_GT(st.refilled, 0u);
	EXPECT_LE(st.refilled, st.probed);
	/* widen_probes instead probes further lists until they hold k allowed rows: no refill */
	sp.widen_probes = true;
	CheckSame(many, queries, 20, 1000, sp, half.View(), "widened: more lists for k");
	EXPECT_EQ(vecdb::gpu::GetGpuIvfFlatStats(*many.gpu).refilled, st.refilled);
}

TEST(GpuIvfFlat, LabelsAreNotRowNumbers) {
	SKIP_WITHOUT_GPU();
	const int dim = 16;
	const size_t n = 8000;
	std::vector<float> data = Clustered(n, dim, 3);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = 100000 + 3 * static_cast<int64_t>(n - i);
	Pair p = MakePair(Metric::kL2, dim, 32, data, labels);
	ASSERT_NE(p.gpu, nullptr);
	Bitset bits(100000 + 3 * n + 1);
	for (size_t i = 0; i < n; i += 3)
		bits.Set(static_cast<size_t>(labels[i]));
	std::vector<float> queries = Clustered(50, dim, 11);
	SearchParams sp;
	sp.nprobe = 8;
	CheckSame(p, queries, 50, 10, sp, BitsetView(), "sparse labels");
	CheckSame(p, queries, 50, 10, sp, bits.View(), "sparse labels, filtered");
}

TEST(GpuIvfFlat, DeviceAssignmentMatchesFaiss) {
	SKIP_WITHOUT_GPU();
	const int dim = 24;
	const size_t n = 80000;
	std::vector<float> data = Clustered(n, dim, 21);
	std::vector<int64_t> labels = RowLabels(n);
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.metric = Metric::kL2;
	c.dim = dim;
	c.nlist = 50;
	c.train_device = TrainDevice::kCpu;
	auto cpu = CreateIndex(c);
	ASSERT_TRUE(cpu.ok());
	ASSERT_TRUE(cpu.value()->Train(data.data(), n).ok());
	auto gpu = vecdb::gpu::GpuIvfFlatFrom(*cpu.value()); /* trained, empty */
	ASSERT_TRUE(gpu.ok()) << gpu.status().message();
	ASSERT_EQ(gpu.value()->count(), 0);
	/* the device assigns (one call of 66,000 rows: two coarse searches; then
	 * slices, as the access method adds), FAISS assigns on the CPU */
	for (size_t at = 0; at < n;) {
		size_t m = std::min<size_t>(at == 0 ? 66000 : 7000, n - at);
		ASSERT_TRUE(gpu.value()->Add(data.data() + at * dim, labels.data() + at, m).ok());
		ASSERT_TRUE(cpu.value()->Add(data.data() + at * dim, labels.data() + at, m).ok());
		at += m;
	}
	Pair p{std::move(cpu).value(), std::move(gpu).value()};
	std::vector<float> queries = Clustered(100, dim, 5);
	for (int nprobe : {1, 3}) {
		SearchParams sp;
		sp.nprobe = nprobe;
		CheckSame(p, queries, 100, 20, sp, BitsetView(), "device-assigned lists, nprobe " + std::to_string(nprobe));
	}
	/* a duplicate label adds nothing */
	EXPECT_FALSE(p.gpu->Add(data.data(), labels.data(), 1).ok());
	EXPECT_EQ(p.gpu->count(), static_cast<int64_t>(n));
}

TEST(GpuIvfFlat, GpuTrainedRecallMatchesCpuTrained) {
	SKIP_WITHOUT_GPU();
	vecdb::gpu::RegisterGpuKinds();
	vecdb::gpu::RegisterGpuIvfKinds();
	using namespace vecdb::knowhere::testutil;
	IvfRecallData d = MakeIvfRecallData(Metric::kL2, kIvfRecallRows, kIvfRecallDim, kIvfRecallClusters, 500, 10, 17);
	IndexConfig c;
	c.metric = Metric::kL2;
	c.dim = kIvfRecallDim;
	c.nlist = kIvfRecallLists;
	c.kind = IndexKind::kIvfFlat;
	c.train_device = TrainDevice::kCpu;
	IvfRecallRun cpu = RunIvfRecall(c, d, kIvfRecallProbes);
	ASSERT_TRUE(cpu.status.ok()) << cpu.status.message();
	c.kind = IndexKind::kGpuIvfFlat;
	IvfRecallRun gpu = RunIvfRecall(c, d, kIvfRecallProbes);
	ASSERT_TRUE(gpu.status.ok()) << gpu.status.message();
	std::printf("gpu-ivf-flat: recall@10 GPU-built %.4f (train %.3f s), CPU-built %.4f (train %.3f s)\n",
				gpu.recall, gpu.train_seconds, cpu.recall, cpu.train_seconds);
	EXPECT_GE(gpu.recall, cpu.recall - 0.01);
	/* the stored form reads back as GPU_IVF_FLAT with the same answers */
	MemoryReader r(gpu.serialized.data(), gpu.serialized.size());
	auto loaded = DeserializeIndex(r);
	ASSERT_TRUE(loaded.ok()) << loaded.status().message();
	EXPECT_EQ(loaded.value()->kind(), IndexKind::kGpuIvfFlat);
	EXPECT_EQ(loaded.value()->count(), static_cast<int64_t>(d.n));
	EXPECT_TRUE(vecdb::gpu::GetGpuIvfFlatStats(*loaded.value()).uploads == 0);
	auto made = CreateIndex(c);
	ASSERT_TRUE(made.ok());
	ASSERT_TRUE(made.value()->Train(d.base.data(), d.n).ok());
	EXPECT_TRUE(vecdb::gpu::GetGpuIvfFlatStats(*made.value()).trained_on_gpu);
}

TEST(GpuIvfFlat, CpuPathsAndLifecycle) {
	SKIP_WITHOUT_GPU();
	const int dim = 12;
	const size_t n = 5000;
	std::vector<float> data = Clustered(n, dim, 41);
	std::vector<int64_t> labels = RowLabels(n);
	Pair p = MakePair(Metric::kL2, dim, 20, data, labels);
	ASSERT_NE(p.gpu, nullptr);
	std::vector<float> queries = Clustered(4, dim, 43);
	SearchParams sp;
	sp.nprobe = 5;
	/* k above kMaxSelectK answers on the CPU twin */
	CheckSame(p, queries, 2, 2500, sp, BitsetView(), "k 2500");
	EXPECT_EQ(vecdb::gpu::GetGpuIvfFlatStats(*p.gpu).cpu, 2u);
	/* iterator, range search and Reconstruct are the twin's */
	auto it = p.gpu->CreateIterator(queries.data(), sp, BitsetView());
	ASSERT_TRUE(it.ok());
	std::vector<Neighbor> batch;
	ASSERT_TRUE(it.value()->Next(10, &batch).ok());
	ASSERT_EQ(batch.size(), 10u);
	std::vector<Neighbor> within;
	ASSERT_TRUE(p.gpu->RangeSearch(queries.data(), batch[4].distance, sp, BitsetView(), &within).ok());
	EXPECT_GE(within.size(), 5u);
	std::vector<float> row(dim);
	ASSERT_TRUE(p.gpu->Reconstruct(&labels[17], 1, row.data()).ok());
	EXPECT_EQ(row[3], data[17 * dim + 3]);
	/* a device search uploads the lists once */
	CheckSame(p, queries, 4, 10, sp, BitsetView(), "before DropBelow");
	EXPECT_EQ(vecdb::gpu::GetGpuIvfFlatStats(*p.gpu).uploads, 1u);
	/* DropBelow relabels; the next search uploads again and still matches */
	ASSERT_TRUE(p.cpu->DropBelow(1000).ok());
	ASSERT_TRUE(p.gpu->DropBelow(1000).ok());
	EXPECT_EQ(p.gpu->count(), static_cast<int64_t>(n - 1000));
	CheckSame(p, queries, 4, 10, sp, BitsetView(), "after DropBelow");
	EXPECT_EQ(vecdb::gpu::GetGpuIvfFlatStats(*p.gpu).uploads, 2u);
	/* a stop request cancels the search */
	SearchParams stop = sp;
	stop.should_stop = [](void *) noexcept { return true; };
	std::vector<int64_t> l(10);
	std::vector<float> dd(10);
	EXPECT_EQ(p.gpu->Search(queries.data(), 1, 10, stop, BitsetView(), l.data(), dd.data()).code(),
			  StatusCode::kCancelled);
	/* an untrained index refuses rows */
	IndexConfig c;
	c.metric = Metric::kL2;
	c.dim = dim;
	c.nlist = 8;
	auto fresh = vecdb::gpu::NewGpuIvfFlatIndex(c);
	ASSERT_TRUE(fresh.ok());
	EXPECT_TRUE(fresh.value()->NeedsTraining());
	EXPECT_EQ(fresh.value()->Add(data.data(), labels.data(), 10).code(), StatusCode::kInvalidArgument);
	/* GpuIvfFlatFrom wants a trained IVF_FLAT */
	EXPECT_FALSE(vecdb::gpu::GpuIvfFlatFrom(*fresh.value()).ok());
}

}  // namespace
