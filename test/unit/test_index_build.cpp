// test_index_build.cpp tests what every index kind shares around building:
// cancellation and progress of Train / Build / Add, Reconstruct, EstimateMemory
// against MemoryUsage and the heap, IVF_FLAT's single copy of its vectors, and
// parallel HNSW builds.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/hnsw_index.hpp"
#include "knowhere/index.hpp"

namespace vecdb::knowhere {
namespace {

using testutil::ClusteredBits;
using testutil::ExactSearch;
using testutil::GaussianMixture;
using testutil::RecallAtK;
using testutil::Rng;

using Clock = std::chrono::steady_clock;

// KindCase is one index kind with a metric and build parameters that suit it.
struct KindCase {
	const char *name;
	IndexKind kind;
	Metric metric;
	int dim;
	int nlist;
	int pq_m;
};

// kKinds covers every kind (and the metrics with their own storage paths:
// cosine stores normalized rows, bits are bytes).
const KindCase kKinds[] = {
	{"FLAT", IndexKind::kFlat, Metric::kL2, 32, 0, 0},
	{"BIN_FLAT", IndexKind::kBinFlat, Metric::kHamming, 64, 0, 0},
	{"HNSW", IndexKind::kHnsw, Metric::kCosine, 32, 0, 0},
	{"IVF_FLAT", IndexKind::kIvfFlat, Metric::kCosine, 32, 32, 0},
	{"IVF_PQ", IndexKind::kIvfPq, Metric::kL2, 32, 32, 8},
	{"IVF_SQ8", IndexKind::kIvfSq8, Metric::kInnerProduct, 32, 32, 0},
	{"BIN_IVF", IndexKind::kBinIvf, Metric::kHamming, 64, 16, 0},
};

// ConfigOf returns the config of a case.
IndexConfig ConfigOf(const KindCase &k) {
	return testutil::MakeConfig(k.kind, k.metric, k.dim, k.nlist, k.pq_m);
}

// RowsFor returns n rows for a case: clustered floats or clustered bits.
std::vector<uint8_t> RowsFor(const KindCase &k, size_t n, uint64_t seed) {
	if (IsBinaryKind(k.kind))
		return ClusteredBits(n, k.dim, 20, seed);
	std::vector<float> f = GaussianMixture::Make(k.dim, 20, seed).Sample(n, seed + 1);
	std::vector<uint8_t> b(f.size() * sizeof(float));
	std::memcpy(b.data(), f.data(), b.size());
	return b;
}

// RowBytesOf returns the bytes of one row of a case.
size_t RowBytesOf(const KindCase &k) {
	return testutil::RowBytesOf(k.metric, k.dim);
}

// MakeIndex creates an empty index for a case.
std::unique_ptr<Index> MakeIndex(const IndexConfig &c) {
	auto made = CreateIndex(c);
	EXPECT_TRUE(made.ok()) << made.status().message();
	return made.ok() ? std::move(made).value() : nullptr;
}

// Expected returns the stored form of an input row: normalized under cosine.
std::vector<float> StoredForm(const float *v, int dim, Metric metric) {
	std::vector<float> out(v, v + dim);
	if (metric == Metric::kCosine) {
		double norm = 0;
		for (float x : out)
			norm += static_cast<double>(x) * x;
		for (float &x : out)
			x = static_cast<float>(x / std::sqrt(norm));
	}
	return out;
}

TEST(Reconstruct, EveryKindReturnsStoredRows) {
	for (const KindCase &k : kKinds) {
		SCOPED_TRACE(k.name);
		size_t n = 3000, rb = RowBytesOf(k);
		std::vector<uint8_t> rows = RowsFor(k, n, 5);
		/* labels 7 i + 3 in a shuffled order: no kind may assume row order */
		std::vector<int64_t> labels(n);
		for (size_t i = 0; i < n; i++)
			labels[i] = static_cast<int64_t>(7 * ((i * 1237) % n) + 3);
		auto index = MakeIndex(ConfigOf(k));
		ASSERT_NE(index, nullptr);
		ASSERT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
		Rng rng(9);
		std::vector<size_t> pick(500);
		for (size_t &p : pick)
			p = static_cast<size_t>(rng.Below(n));
		pick.push_back(pick.front());
		std::vector<int64_t> want;
		for (size_t p : pick)
			want.push_back(labels[p]);
		/* the serialized-and-loaded index must answer the same */
		StringWriter w;
		ASSERT_TRUE(index->Serialize(w).ok());
		MemoryReader r(w.bytes().data(), w.bytes().size());
		auto loaded = DeserializeIndex(r);
		ASSERT_TRUE(loaded.ok()) << loaded.status().message();
		for (const Index *idx : {index.get(), loaded.value().get()}) {
			std::vector<uint8_t> out(want.size() * rb);
			ASSERT_TRUE(idx->Reconstruct(want.data(), want.size(), out.data()).ok());
			for (size_t i = 0; i < pick.size(); i++) {
				const uint8_t *in = rows.data() + pick[i] * rb;
				if (IsBinaryKind(k.kind)) {
					ASSERT_EQ(std::memcmp(out.data() + i * rb, in, rb), 0) << i;
					continue;
				}
				std::vector<float> expect = StoredForm(reinterpret_cast<const float *>(in), k.dim, k.metric);
				const float *got = reinterpret_cast<const float *>(out.data() + i * rb);
				for (int j = 0; j < k.dim; j++)
					ASSERT_NEAR(got[j], expect[j], 1e-6f * (1 + std::fabs(expect[j]))) << i << " " << j;
			}
			int64_t unknown[2] = {labels[0], 4};
			std::vector<uint8_t> two(2 * rb);
			EXPECT_EQ(idx->Reconstruct(unknown, 2, two.data()).code(), StatusCode::kInvalidArgument);
			int64_t negative = -3;
			EXPECT_EQ(idx->Reconstruct(&negative, 1, two.data()).code(), StatusCode::kInvalidArgument);
			EXPECT_TRUE(idx->Reconstruct(nullptr, 0, nullptr).ok());
		}
	}
}

TEST(Reconstruct, FlatWithIncreasingAndRepeatedLabels) {
	/* FLAT binary-searches increasing labels and scans otherwise; it does
	   not reject a repeated label, and returns the first row that holds it. */
	KindCase k = kKinds[0];
	std::vector<uint8_t> rows = RowsFor(k, 100, 3);
	std::vector<int64_t> labels(100);
	std::iota(labels.begin(), labels.end(), 10);
	auto index = MakeIndex(ConfigOf(k));
	ASSERT_TRUE(index->Add(rows.data(), labels.data(), 50).ok());
	ASSERT_TRUE(index->Add(rows.data() + 50 * RowBytesOf(k), labels.data() + 50, 50).ok());
	std::vector<uint8_t> out(RowBytesOf(k));
	int64_t label = 77;
	ASSERT_TRUE(index->Reconstruct(&label, 1, out.data()).ok());
	EXPECT_EQ(std::memcmp(out.data(), rows.data() + 67 * RowBytesOf(k), RowBytesOf(k)), 0);
	int64_t again = 12;
	ASSERT_TRUE(index->Add(rows.data() + 99 * RowBytesOf(k), &again, 1).ok());
	ASSERT_TRUE(index->Reconstruct(&again, 1, out.data()).ok());
	EXPECT_EQ(std::memcmp(out.data(), rows.data() + 2 * RowBytesOf(k), RowBytesOf(k)), 0);
	label = 110;
	EXPECT_EQ(index->Reconstruct(&label, 1, out.data()).code(), StatusCode::kInvalidArgument);
}

// HeapInUse returns the bytes malloc has handed out and not taken back.
size_t HeapInUse() {
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}

TEST(EstimateMemory, WithinTwiceOfMemoryUsageForEveryKind) {
	for (const KindCase &k : kKinds) {
		for (size_t n : {size_t{600}, size_t{10000}}) {
			SCOPED_TRACE(std::string(k.name) + " n=" + std::to_string(n));
			IndexConfig c = ConfigOf(k);
			std::vector<uint8_t> rows = RowsFor(k, n, 11);
			std::vector<int64_t> labels(n);
			std::iota(labels.begin(), labels.end(), 0);
			size_t estimate = EstimateMemory(c, n);
			size_t heap_before = HeapInUse();
			auto index = MakeIndex(c);
			ASSERT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
			size_t heap = HeapInUse() - heap_before;
			size_t usage = index->MemoryUsage();
			std::printf("%-8s n=%-6zu vectors %9zu  estimate %9zu  MemoryUsage %9zu  heap %9zu\n", k.name, n,
						n * RowBytesOf(k), estimate, usage, heap);
			EXPECT_LE(estimate, 2 * usage);
			EXPECT_LE(usage, 2 * estimate);
			/* MemoryUsage itself must describe the heap the index holds */
			EXPECT_LE(usage, 2 * heap);
			EXPECT_LE(heap, 2 * usage);
		}
	}
	IndexConfig bad;
	bad.dim = 0;
	EXPECT_EQ(EstimateMemory(bad, 100), 0u);
}

TEST(IvfFlat, HoldsOneCopyOfItsVectors) {
	KindCase k = kKinds[3];
	k.metric = Metric::kL2;
	size_t n = 20000, vectors = n * RowBytesOf(k);
	std::vector<uint8_t> rows = RowsFor(k, n, 13);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	auto index = MakeIndex(ConfigOf(k));
	ASSERT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
	StringWriter w;
	ASSERT_TRUE(index->Serialize(w).ok());
	std::printf("IVF_FLAT %zu x %d: vectors %zu bytes, serialized %zu (%.2fx), MemoryUsage %zu (%.2fx)\n", n, k.dim,
				vectors, w.bytes().size(), static_cast<double>(w.bytes().size()) / vectors, index->MemoryUsage(),
				static_cast<double>(index->MemoryUsage()) / vectors);
	/* per row: the vector, its label in the list (8 bytes), in the stream
	   its position in label order (8 bytes: a view's label lookup) and, in
	   memory, the label map entry; everything else is per list */
	EXPECT_LE(w.bytes().size(), vectors + n * 16 + 64 * 1024);
	EXPECT_LE(index->MemoryUsage(), vectors + n * 56 + 64 * 1024);
	/* filtered search, iterator and reconstruct read the vectors from the lists */
	SearchParams p;
	p.nprobe = 32;
	testutil::Bitset bits = testutil::Bitset::Random(n, 0.5, 3);
	std::vector<int64_t> got(10);
	std::vector<float> dist(10);
	ASSERT_TRUE(index->Search(rows.data(), 1, 10, p, bits.View(), got.data(), dist.data()).ok());
	auto truth = ExactSearch(k.metric, k.dim, rows.data(), labels.data(), n, rows.data(), 1, 10, bits.View());
	EXPECT_EQ(RecallAtK(truth, got.data(), 10), 1.0);
}

// StopAt is a build stop callback that says stop from a given time on and
// remembers when it first did.
struct StopAt {
	Clock::time_point deadline;
	Clock::time_point first_stop{};
	std::atomic<int> polls{0};
	// Fn is the StopCallback.
	static bool Fn(void *arg) noexcept {
		auto *self = static_cast<StopAt *>(arg);
		self->polls++;
		Clock::time_point now = Clock::now();
		if (now < self->deadline)
			return false;
		if (self->first_stop == Clock::time_point{})
			self->first_stop = now;
		return true;
	}
};

// BigRows returns the shared 100,000 x 128 clustered rows of the cancel tests.
const std::vector<float> &BigRows() {
	static const std::vector<float> rows = GaussianMixture::Make(128, 100, 42).Sample(100000, 43);
	return rows;
}

TEST(BuildControl, CancelOf100kBuildReturnsWithinASecond) {
	const std::vector<float> &rows = BigRows();
	size_t n = rows.size() / 128;
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	struct Case {
		const char *name;
		IndexKind kind;
		int nlist;
	} cases[] = {{"HNSW", IndexKind::kHnsw, 0}, {"IVF_FLAT", IndexKind::kIvfFlat, 316}, {"IVF_PQ", IndexKind::kIvfPq, 316}};
	for (const Case &cs : cases) {
		for (int threads : {1, 2}) {
			SCOPED_TRACE(std::string(cs.name) + " threads " + std::to_string(threads));
			IndexConfig c;
			c.kind = cs.kind;
			c.dim = 128;
			c.threads = threads;
			if (cs.nlist > 0)
				c.nlist = cs.nlist;
			c.pq_m = 16;
			auto index = MakeIndex(c);
			StopAt stop;
			stop.deadline = Clock::now() + std::chrono::milliseconds(200);
			index->SetBuildControl(&StopAt::Fn, &stop);
			Status s = index->Build(rows.data(), labels.data(), n);
			Clock::time_point done = Clock::now();
			ASSERT_EQ(s.code(), StatusCode::kCancelled) << s.message();
			ASSERT_NE(stop.first_stop, Clock::time_point{});
			double latency = std::chrono::duration<double>(done - stop.first_stop).count();
			std::printf("%s threads %d: cancelled after %d polls, returned %.3f s after the stop, %lld rows kept\n",
						cs.name, threads, stop.polls.load(), latency, static_cast<long long>(index->count()));
			EXPECT_LT(latency, 1.0);
			EXPECT_LT(index->count(), static_cast<int64_t>(n));
			if (cs.kind != IndexKind::kHnsw)
				EXPECT_TRUE(index->NeedsTraining()) << "a cancelled Train leaves the index untrained";
			/* what was kept is a prefix of the batch, searchable */
			int64_t kept = index->count();
			std::vector<float> out(128);
			if (kept > 0) {
				int64_t last = kept - 1;
				EXPECT_TRUE(index->Reconstruct(&last, 1, out.data()).ok());
				/* HNSW stores L2 rows as given, also after linking over float16 rows */
				if (cs.kind == IndexKind::kHnsw)
					EXPECT_EQ(std::memcmp(out.data(), &rows[static_cast<size_t>(last) * 128], 128 * sizeof(float)), 0);
			}
			EXPECT_EQ(index->Reconstruct(&kept, 1, out.data()).code(), StatusCode::kInvalidArgument);
			std::vector<int64_t> got(10);
			std::vector<float> dist(10);
			EXPECT_TRUE(index->Search(rows.data(), 1, 10, SearchParams(), {}, got.data(), dist.data()).ok());
		}
	}
}

// StopAfterRows asks to stop once progress has reported at least limit rows.
struct StopAfterRows {
	uint64_t limit;
	uint64_t done = 0;
	// Stop is the StopCallback.
	static bool Stop(void *arg) noexcept {
		auto *self = static_cast<StopAfterRows *>(arg);
		return self->done >= self->limit;
	}
	// Progress is the ProgressCallback.
	static void Progress(void *arg, uint64_t done, uint64_t) noexcept { static_cast<StopAfterRows *>(arg)->done = done; }
};

TEST(BuildControl, CancelledAddKeepsAPrefix) {
	for (const KindCase &k : kKinds) {
		SCOPED_TRACE(k.name);
		size_t n = 20000, rb = RowBytesOf(k);
		std::vector<uint8_t> rows = RowsFor(k, n, 17);
		std::vector<int64_t> labels(n);
		std::iota(labels.begin(), labels.end(), 100);
		auto index = MakeIndex(ConfigOf(k));
		if (index->NeedsTraining())
			ASSERT_TRUE(index->Train(rows.data(), 2000).ok());
		/* FLAT undoes its batch; the others keep a prefix */
		StopAfterRows stop{5000};
		index->SetBuildControl(&StopAfterRows::Stop, &stop);
		index->SetBuildProgress(&StopAfterRows::Progress, &stop);
		ASSERT_EQ(index->Add(rows.data(), labels.data(), n).code(), StatusCode::kCancelled);
		int64_t kept = index->count();
		std::printf("%s: cancelled Add kept %lld of %zu rows\n", k.name, static_cast<long long>(kept), n);
		EXPECT_LT(kept, static_cast<int64_t>(n));
		if (k.kind != IndexKind::kFlat && k.kind != IndexKind::kBinFlat)
			EXPECT_GE(kept, 5000);
		std::vector<uint8_t> out(rb);
		for (int64_t i = 0; i < kept; i += 997) {
			ASSERT_TRUE(index->Reconstruct(&labels[static_cast<size_t>(i)], 1, out.data()).ok()) << i;
		}
		if (kept < static_cast<int64_t>(n))
			EXPECT_FALSE(index->Reconstruct(&labels[static_cast<size_t>(kept)], 1, out.data()).ok());
		/* without the callback the rest goes in */
		index->SetBuildControl(nullptr, nullptr);
		index->SetBuildProgress(nullptr, nullptr);
		ASSERT_TRUE(index->Add(rows.data() + kept * rb, labels.data() + kept, n - static_cast<size_t>(kept)).ok());
		EXPECT_EQ(index->count(), static_cast<int64_t>(n));
	}
}

// Progress records the calls of a ProgressCallback.
struct Progress {
	std::vector<std::pair<uint64_t, uint64_t>> calls;
	// Fn is the ProgressCallback.
	static void Fn(void *arg, uint64_t done, uint64_t total) noexcept {
		static_cast<Progress *>(arg)->calls.emplace_back(done, total);
	}
};

TEST(BuildControl, ProgressIsReportedUpToTheTotal) {
	for (const KindCase &k : kKinds) {
		SCOPED_TRACE(k.name);
		size_t n = 10000;
		std::vector<uint8_t> rows = RowsFor(k, n, 19);
		std::vector<int64_t> labels(n);
		std::iota(labels.begin(), labels.end(), 0);
		IndexConfig c = ConfigOf(k);
		c.threads = 2;
		auto index = MakeIndex(c);
		Progress progress;
		index->SetBuildProgress(&Progress::Fn, &progress);
		ASSERT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
		ASSERT_GE(progress.calls.size(), 2u) << "more than the final report";
		for (size_t i = 0; i < progress.calls.size(); i++) {
			EXPECT_EQ(progress.calls[i].second, n);
			if (i > 0)
				EXPECT_LE(progress.calls[i - 1].first, progress.calls[i].first);
		}
		EXPECT_EQ(progress.calls.back().first, n);
	}
}

// SearchRecall returns recall@10 of index over queries against truth.
double SearchRecall(const Index &index, const std::vector<float> &queries, size_t nq,
					const std::vector<std::vector<testutil::RefNeighbor>> &truth) {
	std::vector<int64_t> got(nq * 10);
	std::vector<float> dist(nq * 10);
	SearchParams p;
	EXPECT_TRUE(index.Search(queries.data(), nq, 10, p, {}, got.data(), dist.data()).ok());
	return RecallAtK(truth, got.data(), 10);
}

TEST(HnswBuild, ParallelBuildKeepsRecall) {
	int dim = 64;
	size_t n = 20000, nq = 200;
	GaussianMixture mix = GaussianMixture::Make(dim, 50, 7, 0.3, 0.3, 1.0);
	std::vector<float> rows = mix.Sample(n, 8), queries = mix.Sample(nq, 9);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	auto truth = ExactSearch(Metric::kL2, dim, rows.data(), labels.data(), n, queries.data(), nq, 10);
	double recall[2];
	double seconds[2];
	int thread_counts[2] = {1, 2};
	for (int i = 0; i < 2; i++) {
		IndexConfig c;
		c.kind = IndexKind::kHnsw;
		c.dim = dim;
		c.threads = thread_counts[i];
		auto index = MakeIndex(c);
		Clock::time_point t0 = Clock::now();
		ASSERT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
		seconds[i] = std::chrono::duration<double>(Clock::now() - t0).count();
		ASSERT_EQ(index->count(), static_cast<int64_t>(n));
		recall[i] = SearchRecall(*index, queries, nq, truth);
		/* the graph a parallel build leaves passes every structural check */
		StringWriter w;
		ASSERT_TRUE(index->Serialize(w).ok());
		MemoryReader r(w.bytes().data(), w.bytes().size());
		auto loaded = DeserializeIndex(r);
		ASSERT_TRUE(loaded.ok()) << loaded.status().message();
		EXPECT_EQ(SearchRecall(*loaded.value(), queries, nq, truth), recall[i]);
		std::printf("hnsw 20000x64 threads %d: build %.2f s, recall@10 (ef 40) %.4f\n", thread_counts[i], seconds[i],
					recall[i]);
	}
	/* overlapping clusters keep recall off its ceiling (0.887 serial), so a
	   worse parallel graph would show; 0.02 is about three standard errors */
	EXPECT_GE(recall[0], 0.85);
	EXPECT_GE(recall[1], recall[0] - 0.02);
}

TEST(HnswBuild, SerialBuildIsDeterministic) {
	int dim = 16;
	size_t n = 3000;
	std::vector<float> rows = GaussianMixture::Make(dim, 10, 3).Sample(n, 4);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	std::string bytes[2];
	for (std::string &b : bytes) {
		IndexConfig c;
		c.kind = IndexKind::kHnsw;
		c.dim = dim;
		auto index = MakeIndex(c);
		/* two Adds draw the same levels as one Build */
		ASSERT_TRUE(index->Add(rows.data(), labels.data(), 1000).ok());
		ASSERT_TRUE(index->Add(rows.data() + 1000 * dim, labels.data() + 1000, n - 1000).ok());
		StringWriter w;
		ASSERT_TRUE(index->Serialize(w).ok());
		b = w.bytes();
	}
	EXPECT_EQ(bytes[0], bytes[1]);
}

// The build memo (HnswBuildOptions::build_memo) only saves work: serial
// builds with and without it give byte-identical graphs for every neighbour
// selection and metric, with exact copies (copy rings) among the rows, and
// for Adds onto an index built before (elements whose lists the batch's
// memo starts without knowing, or does not hold: a small batch onto a
// large index).
TEST(HnswBuild, MemoGivesTheSameGraph) {
	int dim = 12;
	size_t n = 4000;
	std::vector<float> rows = GaussianMixture::Make(dim, 8, 21).Sample(n, 22);
	for (size_t i = 3 * n / 4; i < n; i += 10)
		std::copy_n(&rows[(i / 7) * dim], dim, &rows[i * dim]);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	struct Selection {
		bool keep_pruned, full_layer0;
	} selections[] = {{true, false}, {false, false}, {true, true}};
	for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
		for (const Selection &sel : selections) {
			std::string bytes[2];
			for (int memo = 0; memo < 2; memo++) {
				IndexConfig c;
				c.kind = IndexKind::kHnsw;
				c.dim = dim;
				c.metric = metric;
				c.m = 8;
				c.threads = 1;
				HnswBuildOptions o;
				o.keep_pruned = sel.keep_pruned;
				o.full_layer0 = sel.full_layer0;
				o.build_memo = memo == 1;
				auto made = NewHnswIndexWithOptions(c, o);
				ASSERT_TRUE(made.ok());
				std::unique_ptr<Index> index = std::move(made).value();
				ASSERT_TRUE(index->Add(rows.data(), labels.data(), 1500).ok());
				ASSERT_TRUE(index->Add(rows.data() + 1500 * dim, labels.data() + 1500, 2300).ok());
				/* onto more than 4 times its rows: a memo of its own elements only */
				ASSERT_TRUE(index->Add(rows.data() + 3800 * dim, labels.data() + 3800, n - 3800).ok());
				StringWriter w;
				ASSERT_TRUE(index->Serialize(w).ok());
				bytes[memo] = w.bytes();
			}
			EXPECT_TRUE(bytes[0] == bytes[1]) << "metric " << static_cast<int>(metric) << ", keep_pruned "
											  << sel.keep_pruned << ", full_layer0 " << sel.full_layer0;
		}
	}
}

// OwnRowsMissed counts the rows first .. first + n - 1 (labelled by their
// position in rows, of dim floats) that a search for their own vector (k 10,
// ef_search ef) does not return.
size_t OwnRowsMissed(const Index &index, const std::vector<float> &rows, int dim, size_t first, size_t n, int ef) {
	SearchParams p;
	p.ef_search = ef;
	std::vector<int64_t> got(n * 10);
	std::vector<float> dist(n * 10);
	EXPECT_TRUE(index.Search(rows.data() + first * dim, n, 10, p, {}, got.data(), dist.data()).ok());
	size_t missed = 0;
	for (size_t i = 0; i < n; i++)
		missed += std::find(&got[i * 10], &got[i * 10] + 10, static_cast<int64_t>(first + i)) == &got[i * 10] + 10;
	return missed;
}

// On clusters whose per-axis spreads differ by a factor of 30, a plain build
// leaves rows a search for their own vector never finds; the reach repair
// (HnswBuildOptions::repair_reach) links every such row, built serially, on
// two threads, and in two batches (the second one's rows are checked too).
TEST(HnswBuild, RepairReachFindsEveryRow) {
	int dim = 24;
	size_t n = 12000;
	/* the bench harness' shape: centres N(0, 4^2), axis spreads 0.05 .. 1.5 */
	std::vector<float> rows = GaussianMixture::Make(dim, 40, 3, 4.0, 0.05, 1.5).Sample(n, 4);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	for (int threads : {1, 2}) {
		for (bool batches : {false, true}) {
			size_t missed[2];
			for (int repair = 0; repair < 2; repair++) {
				IndexConfig c;
				c.kind = IndexKind::kHnsw;
				c.dim = dim;
				c.threads = threads;
				HnswBuildOptions o;
				o.repair_reach = repair == 1;
				auto made = NewHnswIndexWithOptions(c, o);
				ASSERT_TRUE(made.ok());
				std::unique_ptr<Index> index = std::move(made).value();
				size_t first = batches ? n / 2 : n;
				ASSERT_TRUE(index->Add(rows.data(), labels.data(), first).ok());
				if (batches)
					ASSERT_TRUE(index->Add(rows.data() + first * dim, labels.data() + first, n - first).ok());
				missed[repair] = OwnRowsMissed(*index, rows, dim, 0, n, 160);
			}
			SCOPED_TRACE("threads " + std::to_string(threads) + (batches ? ", two batches" : ", one batch"));
			/* the data must show the problem, or the test proves nothing */
			EXPECT_GT(missed[0], 5u);
			EXPECT_LE(missed[1], missed[0] / 10);
		}
	}
}

// A loaded index has the reach repair off (build options are not
// serialized); SetRepairReach turns it on for the rows a later Add brings,
// as the access method does when it merges rows onto a segment.
TEST(HnswBuild, RepairReachOnALoadedIndex) {
	int dim = 24;
	size_t n = 12000, first = 6000;
	std::vector<float> rows = GaussianMixture::Make(dim, 40, 3, 4.0, 0.05, 1.5).Sample(n, 4);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = dim;
	auto built = MakeIndex(c);
	ASSERT_TRUE(built->Add(rows.data(), labels.data(), first).ok());
	StringWriter w;
	ASSERT_TRUE(built->Serialize(w).ok());
	size_t missed[2];
	for (int repair = 0; repair < 2; repair++) {
		MemoryReader r(w.bytes().data(), w.bytes().size());
		auto loaded = DeserializeIndex(r);
		ASSERT_TRUE(loaded.ok()) << loaded.status().message();
		std::unique_ptr<Index> index = std::move(loaded).value();
		index->SetRepairReach(repair == 1);
		ASSERT_TRUE(index->Add(rows.data() + first * dim, labels.data() + first, n - first).ok());
		missed[repair] = OwnRowsMissed(*index, rows, dim, first, n - first, 160);
	}
	EXPECT_GT(missed[0], 5u);
	EXPECT_LE(missed[1], missed[0] / 10);
}

// SerializedGraph builds rows (n x dim) serially as an HNSW index with
// IndexConfig::repair_reach as given and returns its serialized bytes.
std::string SerializedGraph(const std::vector<float> &rows, int dim, int repair_reach) {
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = dim;
	c.repair_reach = repair_reach;
	auto index = MakeIndex(c);
	size_t n = rows.size() / static_cast<size_t>(dim);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	EXPECT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
	StringWriter w;
	EXPECT_TRUE(index->Serialize(w).ok());
	return std::string(w.bytes().begin(), w.bytes().end());
}

// repair_reach -1 (the default) is the repair up to kReachRepairMaxDim
// dimensions and none above: the same graph as 1 there and as 0 here, on
// data where the repair changes the graph.
TEST(HnswBuild, RepairReachDefaultFollowsTheDimensions) {
	EXPECT_EQ(IndexConfig().repair_reach, -1);
	EXPECT_TRUE(ReachRepairOn(-1, kReachRepairMaxDim));
	EXPECT_FALSE(ReachRepairOn(-1, kReachRepairMaxDim + 1));
	EXPECT_TRUE(ReachRepairOn(1, 4096));
	EXPECT_FALSE(ReachRepairOn(0, 2));
	for (int dim : {24, kReachRepairMaxDim + 8}) {
		SCOPED_TRACE("dim " + std::to_string(dim));
		std::vector<float> rows = GaussianMixture::Make(dim, 40, 3, 4.0, 0.05, 1.5).Sample(6000, 4);
		std::string def = SerializedGraph(rows, dim, -1), on = SerializedGraph(rows, dim, 1),
					off = SerializedGraph(rows, dim, 0);
		/* (EXPECT_TRUE: the graphs' bytes are too many to print) */
		EXPECT_TRUE(on != off) << "the data must give the repair something to do";
		EXPECT_TRUE(def == (dim <= kReachRepairMaxDim ? on : off));
	}
}

// BuildLinkRows builds rows (n x dim) on one thread with
// HnswBuildOptions::link_rows and build_memo as given.
std::unique_ptr<Index> BuildLinkRows(const std::vector<float> &rows, int dim, Metric metric, LinkRows link_rows,
									 bool memo = true) {
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = dim;
	c.metric = metric;
	HnswBuildOptions o;
	o.link_rows = link_rows;
	o.build_memo = memo;
	auto made = NewHnswIndexWithOptions(c, o);
	EXPECT_TRUE(made.ok());
	std::unique_ptr<Index> index = std::move(made).value();
	size_t n = rows.size() / static_cast<size_t>(dim);
	std::vector<int64_t> labels(n);
	std::iota(labels.begin(), labels.end(), 0);
	EXPECT_TRUE(index->Build(rows.data(), labels.data(), n).ok());
	return index;
}

// SerializedIndex returns an index's serialized bytes.
std::string SerializedIndex(const Index &index) {
	StringWriter w;
	EXPECT_TRUE(index.Serialize(w).ok());
	return w.bytes();
}

// A first batch links over float16 rows from 64 dimensions and over byte
// rows from 256 (link_rows), for each metric (inner product: float16
// rows): recall is the float32-scored graph's, each compact kind builds
// its own graph, the stored rows are the float rows, and a search's
// distances are float32 scores of them.
TEST(HnswBuild, CompactRowsKeepRecallAndFloatRows) {
	for (int dim : {96, 256}) {
		size_t n = dim == 96 ? 8000 : 5000, nq = 200;
		GaussianMixture mix = GaussianMixture::Make(dim, 40, 11, 0.3, 0.3, 1.0);
		std::vector<float> rows = mix.Sample(n, 12), queries = mix.Sample(nq, 13);
		std::vector<int64_t> labels(n);
		std::iota(labels.begin(), labels.end(), 0);
		for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
			SCOPED_TRACE("dim " + std::to_string(dim) + " metric " + std::to_string(static_cast<int>(metric)));
			auto truth = ExactSearch(metric, dim, rows.data(), labels.data(), n, queries.data(), nq, 10);
			auto plain = BuildLinkRows(rows, dim, metric, LinkRows::kFloat);
			auto halves = BuildLinkRows(rows, dim, metric, LinkRows::kHalf);
			auto bytes = BuildLinkRows(rows, dim, metric, LinkRows::kByte);
			double r0 = SearchRecall(*plain, queries, nq, truth), r1 = SearchRecall(*halves, queries, nq, truth),
				   r2 = SearchRecall(*bytes, queries, nq, truth);
			std::printf("hnsw %zux%d metric %d: recall@10 float32 scores %.4f, float16 %.4f, bytes %.4f\n", n, dim,
						static_cast<int>(metric), r0, r1, r2);
			EXPECT_GE(r0, 0.8);
			EXPECT_GE(r1, r0 - 0.02);
			EXPECT_GE(r2, r0 - 0.02);
			std::string s0 = SerializedIndex(*plain), s1 = SerializedIndex(*halves), s2 = SerializedIndex(*bytes);
			EXPECT_TRUE(s0 != s1);
			/* byte rows from 256 dimensions, never for inner product */
			EXPECT_TRUE((s1 != s2) == (dim >= 256 && metric != Metric::kInnerProduct));
			for (const Index *index : {halves.get(), bytes.get()}) {
				std::vector<float> a(n * dim), b(n * dim);
				ASSERT_TRUE(plain->Reconstruct(labels.data(), n, a.data()).ok());
				ASSERT_TRUE(index->Reconstruct(labels.data(), n, b.data()).ok());
				EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
				if (metric != Metric::kL2)
					continue;
				EXPECT_EQ(std::memcmp(b.data(), rows.data(), rows.size() * sizeof(float)), 0);
				std::vector<int64_t> got(nq * 10);
				std::vector<float> dist(nq * 10);
				ASSERT_TRUE(index->Search(queries.data(), nq, 10, SearchParams(), {}, got.data(), dist.data()).ok());
				for (size_t i = 0; i < got.size(); i++) {
					ASSERT_GE(got[i], 0);
					EXPECT_EQ(dist[i], L2SqrF32(&queries[(i / 10) * dim], &rows[static_cast<size_t>(got[i]) * dim],
												static_cast<size_t>(dim)));
				}
			}
		}
	}
}

// Byte rows give each dimension the widest one's step: when a few
// dimensions span far more than the rest (here 4 of 256, 1,000 times
// wider), the others would get too few levels, and the batch links over
// float16 rows instead (the same graph as LinkRows::kHalf's).
TEST(HnswBuild, ByteRowsGiveWayToHalvesOnUnevenRanges) {
	int dim = 256;
	size_t n = 2000;
	std::vector<float> rows = GaussianMixture::Make(dim, 10, 31).Sample(n, 32);
	std::string even_half = SerializedIndex(*BuildLinkRows(rows, dim, Metric::kL2, LinkRows::kHalf));
	std::string even_byte = SerializedIndex(*BuildLinkRows(rows, dim, Metric::kL2, LinkRows::kByte));
	EXPECT_TRUE(even_half != even_byte) << "even ranges: byte rows";
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < 4; j++)
			rows[i * dim + j] *= 1000.0f;
	std::string uneven_half = SerializedIndex(*BuildLinkRows(rows, dim, Metric::kL2, LinkRows::kHalf));
	std::string uneven_byte = SerializedIndex(*BuildLinkRows(rows, dim, Metric::kL2, LinkRows::kByte));
	EXPECT_TRUE(uneven_half == uneven_byte) << "uneven ranges: float16 rows";
}

// The float16 rows are the rows times a power of two, and the byte levels
// do not change when every row is scaled by one, so rows of any magnitude
// give the graph their unscaled copy gives: a search returns the same rows
// (float32 scores scale exactly). Unscaled, rows times 2^-40 would all
// round to zero as halves and the graph would be noise.
TEST(HnswBuild, CompactRowsGraphDoesNotDependOnScale) {
	for (int dim : {64, 256}) {
		SCOPED_TRACE("dim " + std::to_string(dim));
		size_t n = 3000, nq = 100;
		GaussianMixture mix = GaussianMixture::Make(dim, 20, 5, 0.3, 0.3, 1.0);
		std::vector<float> rows = mix.Sample(n, 6), queries = mix.Sample(nq, 7);
		std::vector<int64_t> want;
		for (float scale : {1.0f, 0x1p40f, 0x1p-40f}) {
			SCOPED_TRACE("scale " + std::to_string(scale));
			std::vector<float> r(rows), q(queries);
			for (float &x : r)
				x *= scale;
			for (float &x : q)
				x *= scale;
			auto index = BuildLinkRows(r, dim, Metric::kL2, LinkRows::kByte);
			std::vector<int64_t> got(nq * 10);
			std::vector<float> dist(nq * 10);
			SearchParams p;
			p.ef_search = 40;
			ASSERT_TRUE(index->Search(q.data(), nq, 10, p, {}, got.data(), dist.data()).ok());
			if (want.empty())
				want = got;
			else
				EXPECT_EQ(got, want);
		}
	}
}

// Over float16 and byte rows the build memo still only saves work (serial
// builds with and without it are byte-identical), and exact copies still
// find each other (FindTwin compares the caller's float rows): a search for
// a row copied 150 times returns every copy (without copy rings it finds
// fewer than half of them).
TEST(HnswBuild, CompactRowsKeepTheMemoExactAndCopiesFound) {
	for (int dim : {64, 256}) {
		SCOPED_TRACE("dim " + std::to_string(dim));
		size_t n = 4000;
		std::vector<float> rows = GaussianMixture::Make(dim, 8, 21).Sample(n, 22);
		for (size_t i = 3000; i < 3150; i++)
			std::copy_n(&rows[17 * dim], dim, &rows[i * dim]);
		std::string bytes[2];
		std::unique_ptr<Index> index;
		for (int memo = 0; memo < 2; memo++) {
			index = BuildLinkRows(rows, dim, Metric::kL2, LinkRows::kByte, memo == 1);
			bytes[memo] = SerializedIndex(*index);
		}
		EXPECT_TRUE(bytes[0] == bytes[1]);
		std::vector<int64_t> got(151);
		std::vector<float> dist(151);
		SearchParams p;
		p.ef_search = 151;
		ASSERT_TRUE(index->Search(&rows[17 * dim], 1, 151, p, {}, got.data(), dist.data()).ok());
		std::sort(got.begin(), got.end());
		std::vector<int64_t> want{17};
		for (int64_t i = 3000; i < 3150; i++)
			want.push_back(i);
		EXPECT_EQ(got, want);
	}
}

TEST(HnswBuild, ManyThreadsOnSmallBatches) {
	/* more threads than cores and than rows: the locking, not the speed */
	int dim = 8;
	std::vector<float> rows = GaussianMixture::Make(dim, 4, 5).Sample(3000, 6);
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = dim;
	c.m = 4;
	c.threads = 8;
	auto index = MakeIndex(c);
	int64_t next = 0;
	for (size_t batch : {size_t{1}, size_t{3}, size_t{50}, size_t{946}, size_t{2000}}) {
		std::vector<int64_t> labels(batch);
		std::iota(labels.begin(), labels.end(), next);
		ASSERT_TRUE(index->Add(rows.data() + next * dim, labels.data(), batch).ok());
		next += static_cast<int64_t>(batch);
	}
	ASSERT_EQ(index->count(), 3000);
	StringWriter w;
	ASSERT_TRUE(index->Serialize(w).ok());
	MemoryReader r(w.bytes().data(), w.bytes().size());
	ASSERT_TRUE(DeserializeIndex(r).ok());
	std::vector<int64_t> all(3000);
	std::iota(all.begin(), all.end(), 0);
	auto truth = ExactSearch(Metric::kL2, dim, rows.data(), all.data(), 3000, rows.data(), 100, 10);
	EXPECT_GE(SearchRecall(*index, rows, 100, truth), 0.95);
}

}  // namespace
}  // namespace vecdb::knowhere
