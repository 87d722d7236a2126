// test_growing_index.cpp checks GROWING, the in-memory index of a growing
// segment: exact while small, IVF lists from kGrowingTrainRows on, retrained
// as it grows, centroids handed on, every row reachable through iterators.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/growing_index.hpp"
#include "knowhere/index.hpp"

using namespace vecdb::knowhere;
using namespace vecdb::knowhere::testutil;

namespace {

constexpr int kDim = 32;

// Growing makes an empty GROWING index.
std::unique_ptr<Index> Growing(Metric metric = Metric::kL2) {
	auto made = CreateIndex(MakeConfig(IndexKind::kGrowing, metric, kDim));
	EXPECT_TRUE(made.ok()) << made.status().message();
	return std::move(made).value();
}

// AddInBatches adds rows [from, to) of x with labels equal to row numbers, in
// batches of batch rows (as a growing segment is extended).
void AddInBatches(Index *index, const std::vector<float> &x, size_t from, size_t to, size_t batch) {
	for (size_t at = from; at < to; at += batch) {
		size_t m = std::min(batch, to - at);
		std::vector<int64_t> labels(m);
		for (size_t i = 0; i < m; i++)
			labels[i] = static_cast<int64_t>(at + i);
		ASSERT_TRUE(index->Add(x.data() + at * kDim, labels.data(), m).ok());
	}
}

// Recall returns recall@k of the index's searches against exact search over x's first n rows.
double Recall(const Index &index, const std::vector<float> &x, size_t n, const std::vector<float> &q, size_t nq,
			  size_t k, int ef_search, BitsetView filter = {}) {
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	auto truth = ExactSearch(Metric::kL2, kDim, x.data(), labels.data(), n, q.data(), nq, k, filter);
	SearchParams p;
	p.ef_search = ef_search;
	std::vector<int64_t> got(nq * k);
	std::vector<float> dist(nq * k);
	EXPECT_TRUE(index.Search(q.data(), nq, k, p, filter, got.data(), dist.data()).ok());
	return RecallAtK(truth, got.data(), k);
}

TEST(GrowingIndex, ExactBelowTheTrainingSizeThenListsWithRecall) {
	auto mix = GaussianMixture::Make(kDim, 40, 3);
	auto x = mix.Sample(3 * kGrowingTrainRows, 11);
	auto q = mix.Sample(50, 12);
	auto index = Growing();
	AddInBatches(index.get(), x, 0, kGrowingTrainRows - 1, 500);
	EXPECT_EQ(GrowingIndexLists(*index), 0u);
	EXPECT_DOUBLE_EQ(Recall(*index, x, kGrowingTrainRows - 1, q, 50, 10, 40), 1.0) << "exact while small";

	AddInBatches(index.get(), x, kGrowingTrainRows - 1, 3 * kGrowingTrainRows, 700);
	EXPECT_EQ(index->count(), static_cast<int64_t>(3 * kGrowingTrainRows));
	size_t lists = GrowingIndexLists(*index);
	EXPECT_GE(lists, 80u) << "trained once it reached kGrowingTrainRows";
	double r40 = Recall(*index, x, 3 * kGrowingTrainRows, q, 50, 10, 40);
	EXPECT_GE(r40, 0.9) << "probing a tenth of the lists on clustered data";
	EXPECT_DOUBLE_EQ(Recall(*index, x, 3 * kGrowingTrainRows, q, 50, 10, 400), 1.0)
		<< "ef_search 400 probes every list";
}

TEST(GrowingIndex, RetrainsWithMoreListsAsItGrows) {
	auto mix = GaussianMixture::Make(kDim, 40, 5);
	size_t n = kGrowingRetrainFactor * kGrowingTrainRows + 1;
	auto x = mix.Sample(n, 21);
	auto index = Growing();
	AddInBatches(index.get(), x, 0, kGrowingTrainRows, 4096);
	size_t first = GrowingIndexLists(*index);
	AddInBatches(index.get(), x, kGrowingTrainRows, n, 4096);
	EXPECT_GT(GrowingIndexLists(*index), first);
	auto q = mix.Sample(30, 22);
	EXPECT_GE(Recall(*index, x, n, q, 30, 10, 40), 0.9);
}

TEST(GrowingIndex, EveryRowFindsItselfFirst) {
	auto mix = GaussianMixture::Make(kDim, 30, 7);
	size_t n = kGrowingTrainRows + 3000;
	auto x = mix.Sample(n, 31);
	auto index = Growing();
	AddInBatches(index.get(), x, 0, n, 1000);
	ASSERT_GT(GrowingIndexLists(*index), 0u);
	SearchParams p;
	std::vector<int64_t> got(n);
	std::vector<float> dist(n);
	ASSERT_TRUE(index->Search(x.data(), n, 1, p, {}, got.data(), dist.data()).ok());
	size_t lost = 0;
	for (size_t i = 0; i < n; i++)
		lost += got[i] != static_cast<int64_t>(i) && dist[i] > 0.0f;
	EXPECT_EQ(lost, 0u) << "a row's own list is probed first";
}

TEST(GrowingIndex, IteratorReturnsEveryAllowedRowOnce) {
	auto mix = GaussianMixture::Make(kDim, 20, 9);
	size_t n = kGrowingTrainRows + 500;
	auto x = mix.Sample(n, 41);
	auto index = Growing();
	AddInBatches(index.get(), x, 0, n, 2048);
	ASSERT_GT(GrowingIndexLists(*index), 0u);
	std::vector<uint8_t> bits((n + 7) / 8, 0);
	for (size_t i = 0; i < n; i += 3)
		bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
	for (bool filtered : {false, true}) {
		BitsetView filter = filtered ? BitsetView(bits.data(), n) : BitsetView();
		SearchParams p;
		auto it = index->CreateIterator(x.data() + 5 * kDim, p, filter);
		ASSERT_TRUE(it.ok());
		std::set<int64_t> seen;
		std::vector<Neighbor> out;
		for (;;) {
			out.clear();
			ASSERT_TRUE(it.value()->Next(1000, &out).ok());
			if (out.empty())
				break;
			for (const Neighbor &nb : out) {
				EXPECT_TRUE(seen.insert(nb.label).second) << "label " << nb.label << " twice";
				EXPECT_FALSE(filter.test(nb.label));
			}
		}
		EXPECT_EQ(seen.size(), filtered ? n - (n + 2) / 3 : n);
	}
}

TEST(GrowingIndex, FilteredSearchFillsK) {
	auto mix = GaussianMixture::Make(kDim, 20, 13);
	size_t n = 2 * kGrowingTrainRows;
	auto x = mix.Sample(n, 51);
	auto q = mix.Sample(20, 52);
	auto index = Growing();
	AddInBatches(index.get(), x, 0, n, 4096);
	std::vector<uint8_t> bits((n + 7) / 8, 0xff);
	for (size_t i = 0; i < n; i += 50)
		bits[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));  /* 2% allowed */
	BitsetView filter(bits.data(), n);
	SearchParams p;
	std::vector<int64_t> got(20 * 10);
	std::vector<float> dist(20 * 10);
	ASSERT_TRUE(index->Search(q.data(), 20, 10, p, filter, got.data(), dist.data()).ok());
	for (int64_t l : got) {
		ASSERT_GE(l, 0);
		EXPECT_EQ(l % 50, 0);
	}
	EXPECT_GE(Recall(*index, x, n, q, 20, 10, 40, filter), 0.95);
}

TEST(GrowingIndex, AdoptedCentroidsSkipTraining) {
	auto mix = GaussianMixture::Make(kDim, 40, 17);
	auto x = mix.Sample(2 * kGrowingTrainRows, 61);
	auto q = mix.Sample(40, 62);
	auto first = Growing();
	AddInBatches(first.get(), x, 0, kGrowingTrainRows, 4096);
	size_t lists = GrowingIndexLists(*first);
	ASSERT_GT(lists, 0u);
	auto second = Growing();
	AdoptGrowingTraining(*first, second.get());
	/* the second segment's rows are the next ones of the stream */
	std::vector<float> y(x.begin() + kGrowingTrainRows * kDim, x.end());
	AddInBatches(second.get(), y, 0, kGrowingTrainRows - 1, 4096);
	EXPECT_EQ(GrowingIndexLists(*second), 0u) << "still exact below the training size";
	AddInBatches(second.get(), y, kGrowingTrainRows - 1, kGrowingTrainRows, 4096);
	EXPECT_EQ(GrowingIndexLists(*second), lists) << "switched with the adopted centroids";
	EXPECT_GE(Recall(*second, y, kGrowingTrainRows, q, 40, 10, 40), 0.9);
	/* adopting into an index that holds rows does nothing */
	auto third = Growing();
	AddInBatches(third.get(), y, 0, 10, 10);
	AdoptGrowingTraining(*first, third.get());
	AddInBatches(third.get(), y, 10, kGrowingTrainRows, 4096);
	EXPECT_GT(GrowingIndexLists(*third), 0u);
}

TEST(GrowingIndex, ReconstructRangeAndLimits) {
	auto mix = GaussianMixture::Make(kDim, 10, 19);
	size_t n = kGrowingTrainRows + 10;
	auto x = mix.Sample(n, 71);
	auto index = Growing();
	AddInBatches(index.get(), x, 0, n, 4096);
	std::vector<int64_t> want = {0, 17, static_cast<int64_t>(n - 1)};
	std::vector<float> out(3 * kDim);
	ASSERT_TRUE(index->Reconstruct(want.data(), 3, out.data()).ok());
	for (size_t i = 0; i < 3; i++)
		EXPECT_EQ(std::memcmp(out.data() + i * kDim, x.data() + want[i] * kDim, kDim * sizeof(float)), 0);
	std::vector<Neighbor> in_range;
	SearchParams p;
	ASSERT_TRUE(index->RangeSearch(x.data(), 1e-6f, p, {}, &in_range).ok());
	ASSERT_FALSE(in_range.empty());
	EXPECT_EQ(in_range[0].label, 0);
	StringWriter w;
	EXPECT_EQ(index->Serialize(w).code(), StatusCode::kNotSupported);

	/* L1 has no IVF form: it stays exact */
	auto l1 = Growing(Metric::kL1);
	AddInBatches(l1.get(), x, 0, n, 4096);
	EXPECT_EQ(GrowingIndexLists(*l1), 0u);
	EXPECT_EQ(l1->count(), static_cast<int64_t>(n));
}

// CheckDropped says that index holds exactly x's rows [first, n) as labels
// 0 .. n-first-1: count, stored vectors, exact top-10 at full probes, an
// iterator that returns every row once, and rows added after them. Recall
// is checked against min_recall (1.0 for exact kinds and full probes).
void CheckDropped(Index *index, const std::vector<float> &x, size_t first, size_t n, size_t more,
				  double min_recall = 1.0) {
	size_t kept = n - first;
	ASSERT_EQ(index->count(), static_cast<int64_t>(kept));
	std::vector<int64_t> all(kept);
	for (size_t i = 0; i < kept; i++)
		all[i] = static_cast<int64_t>(i);
	std::vector<float> back(kept * kDim);
	ASSERT_TRUE(index->Reconstruct(all.data(), kept, back.data()).ok());
	EXPECT_EQ(std::memcmp(back.data(), x.data() + first * kDim, back.size() * sizeof(float)), 0);
	std::vector<float> rest(x.begin() + static_cast<std::ptrdiff_t>(first * kDim),
							x.begin() + static_cast<std::ptrdiff_t>(n * kDim));
	EXPECT_GE(Recall(*index, rest, kept, rest, 20, 10, 400), min_recall);
	SearchParams p;
	auto it = index->CreateIterator(x.data() + (n - 1) * kDim, p, {});
	ASSERT_TRUE(it.ok());
	std::set<int64_t> seen;
	std::vector<Neighbor> out;
	do {
		out.clear();
		ASSERT_TRUE(it.value()->Next(1000, &out).ok());
		for (const Neighbor &nb : out)
			EXPECT_TRUE(seen.insert(nb.label).second) << "label " << nb.label << " twice";
	} while (!out.empty());
	EXPECT_EQ(seen.size(), kept);
	EXPECT_EQ(*seen.rbegin(), static_cast<int64_t>(kept - 1));
	std::vector<int64_t> next(more);
	for (size_t i = 0; i < more; i++)
		next[i] = static_cast<int64_t>(kept + i);
	ASSERT_TRUE(index->Add(x.data() + n * kDim, next.data(), more).ok());
	EXPECT_EQ(index->count(), static_cast<int64_t>(kept + more));
}

TEST(GrowingIndex, DropBelowKeepsTheRestInPlace) {
	auto mix = GaussianMixture::Make(kDim, 20, 23);
	size_t n = kGrowingTrainRows + 3000;
	auto x = mix.Sample(n + 100, 81);
	/* exact phase */
	auto exact = Growing();
	AddInBatches(exact.get(), x, 0, 5000, 1000);
	ASSERT_TRUE(exact->DropBelow(3000).ok());
	CheckDropped(exact.get(), x, 3000, 5000, 100);
	/* lists: the lists and their training stay */
	auto lists = Growing();
	AddInBatches(lists.get(), x, 0, n, 2048);
	size_t before = GrowingIndexLists(*lists);
	ASSERT_GT(before, 0u);
	ASSERT_TRUE(lists->DropBelow(6000).ok());
	EXPECT_EQ(GrowingIndexLists(*lists), before);
	CheckDropped(lists.get(), x, 6000, n, 100);
	/* dropping nothing, then everything */
	ASSERT_TRUE(lists->DropBelow(0).ok());
	ASSERT_TRUE(lists->DropBelow(lists->count()).ok());
	EXPECT_EQ(lists->count(), 0);
}

TEST(GrowingIndex, DropBelowOnOtherKinds) {
	auto mix = GaussianMixture::Make(kDim, 20, 29);
	auto x = mix.Sample(4100, 83);
	std::vector<int64_t> labels(4000);
	for (size_t i = 0; i < labels.size(); i++)
		labels[i] = static_cast<int64_t>(i);
	/* IVF_SQ8 keeps exact rows beside its codes: both move */
	for (IndexKind kind : {IndexKind::kFlat, IndexKind::kIvfSq8}) {
		auto made = CreateIndex(MakeConfig(kind, Metric::kL2, kDim, 16));
		ASSERT_TRUE(made.ok());
		auto index = std::move(made).value();
		ASSERT_TRUE(index->Build(x.data(), labels.data(), labels.size()).ok());
		ASSERT_TRUE(index->DropBelow(1500).ok());
		/* IVF_SQ8 probes its default lists: approximate */
		CheckDropped(index.get(), x, 1500, 4000, 100, kind == IndexKind::kFlat ? 1.0 : 0.9);
	}
	auto hnsw = CreateIndex(MakeConfig(IndexKind::kHnsw, Metric::kL2, kDim));
	ASSERT_TRUE(hnsw.ok());
	EXPECT_EQ(hnsw.value()->DropBelow(1).code(), StatusCode::kNotSupported);
}

}  // namespace
