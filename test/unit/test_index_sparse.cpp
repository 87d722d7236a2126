// test_index_sparse.cpp tests SPARSE_INVERTED (sparse_index.hpp): exact and
// WAND search against brute force, filters, zero-score fill, rows with 0 and
// thousands of non-zeros, the iterator, serialization and damaged streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/sparse_index.hpp"

namespace vecdb::knowhere {
namespace {

using testutil::Rng;

// SparseSet holds rows in compressed form and hands out SparseRow views.
struct SparseSet {
	std::vector<std::vector<int32_t>> indices;
	std::vector<std::vector<float>> values;

	size_t size() const { return indices.size(); }
	SparseRow Row(size_t i) const {
		return SparseRow{indices[i].data(), values[i].data(), static_cast<uint32_t>(indices[i].size())};
	}
	std::vector<SparseRow> Rows() const {
		std::vector<SparseRow> out;
		for (size_t i = 0; i < size(); i++)
			out.push_back(Row(i));
		return out;
	}
	void Add(std::vector<int32_t> idx, std::vector<float> val) {
		indices.push_back(std::move(idx));
		values.push_back(std::move(val));
	}
};

// MakeSparse draws n rows of about nnz terms among dim, term ids skewed
// toward small ids (so lists have very different lengths); values positive,
// or of both signs when mixed.
SparseSet MakeSparse(size_t n, int dim, int nnz, uint64_t seed, bool mixed = false) {
	Rng rng(seed);
	SparseSet s;
	for (size_t i = 0; i < n; i++) {
		std::vector<int32_t> idx;
		int want = 1 + static_cast<int>(rng.Below(static_cast<uint64_t>(2 * nnz)));
		for (int t = 0; t < want; t++)
			idx.push_back(static_cast<int32_t>(std::pow(rng.Uniform(), 2.5) * dim));
		std::sort(idx.begin(), idx.end());
		idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
		std::vector<float> val;
		for (size_t t = 0; t < idx.size(); t++) {
			float v = static_cast<float>(0.05 + rng.Uniform());
			val.push_back(mixed && rng.Below(3) == 0 ? -v : v);
		}
		s.Add(std::move(idx), std::move(val));
	}
	return s;
}

// Labels returns 0 .. n-1.
std::vector<int64_t> Labels(size_t n) {
	std::vector<int64_t> l(n);
	for (size_t i = 0; i < n; i++)
		l[i] = static_cast<int64_t>(i);
	return l;
}

// BuildSparse makes an index of metric over rows labelled 0 .. n-1.
std::unique_ptr<SparseIndex> BuildSparse(Metric metric, int dim, const SparseSet &rows) {
	IndexConfig c;
	c.kind = IndexKind::kSparseInverted;
	c.metric = metric;
	c.dim = dim;
	auto made = CreateSparseIndex(c);
	EXPECT_TRUE(made.ok()) << made.status().message();
	std::unique_ptr<SparseIndex> index = std::move(made).value();
	std::vector<SparseRow> r = rows.Rows();
	std::vector<int64_t> labels = Labels(rows.size());
	Status s = index->Add(r.data(), labels.data(), r.size());
	EXPECT_TRUE(s.ok()) << s.message();
	return index;
}

// RefDistance is the reference distance of a query and a row from the
// distance kernels (cosine in double, as the SQL operator computes it).
float RefDistance(Metric metric, const SparseRow &q, const SparseRow &r) {
	switch (metric) {
		case Metric::kInnerProduct:
			return -SparseInnerProductF32(q.indices, q.values, q.nnz, r.indices, r.values, r.nnz);
		case Metric::kCosine:
			return static_cast<float>(
				SparseCosineDistanceF32(q.indices, q.values, q.nnz, r.indices, r.values, r.nnz));
		default:
			return SparseL2SqrF32(q.indices, q.values, q.nnz, r.indices, r.values, r.nnz);
	}
}

// BruteTopK returns the exact top k allowed rows of a query, by (distance, label).
std::vector<Neighbor> BruteTopK(Metric metric, const SparseSet &rows, const SparseRow &q, size_t k,
								BitsetView filter = {}) {
	std::vector<Neighbor> all;
	for (size_t i = 0; i < rows.size(); i++)
		if (!filter.test(static_cast<int64_t>(i)))
			all.push_back(Neighbor{static_cast<int64_t>(i), RefDistance(metric, q, rows.Row(i))});
	std::sort(all.begin(), all.end(), [](const Neighbor &a, const Neighbor &b) {
		return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
	});
	all.resize(std::min(k, all.size()));
	return all;
}

// Result is one query's answer.
struct Result {
	std::vector<int64_t> labels;
	std::vector<float> distances;
};

// SearchOne runs one query.
Result SearchOne(const SparseIndex &index, const SparseRow &q, size_t k, const SparseSearchParams &p,
				 BitsetView filter = {}) {
	Result r;
	r.labels.resize(k);
	r.distances.resize(k);
	Status s = index.Search(&q, 1, k, p, filter, r.labels.data(), r.distances.data());
	EXPECT_TRUE(s.ok()) << s.message();
	return r;
}

// ExpectMatchesBrute checks a result against brute force: the same number of
// results, distances equal within tol at every rank, and every returned
// label's own reference distance equal to the one returned (so rows tied
// within tol may swap, nothing else).
void ExpectMatchesBrute(Metric metric, const SparseSet &rows, const SparseRow &q, const Result &got, size_t k,
						float tol, BitsetView filter = {}) {
	std::vector<Neighbor> want = BruteTopK(metric, rows, q, k, filter);
	for (size_t i = 0; i < k; i++) {
		if (i >= want.size()) {
			EXPECT_EQ(got.labels[i], -1);
			continue;
		}
		ASSERT_GE(got.labels[i], 0) << "rank " << i;
		EXPECT_FALSE(filter.test(got.labels[i]));
		EXPECT_NEAR(got.distances[i], want[i].distance, tol) << "rank " << i;
		float own = RefDistance(metric, q, rows.Row(static_cast<size_t>(got.labels[i])));
		EXPECT_NEAR(got.distances[i], own, tol) << "rank " << i;
	}
}

// Bits returns a filter over n labels where each label is filtered out with
// probability drop.
std::vector<uint8_t> RandomFilter(size_t n, double drop, uint64_t seed) {
	Rng rng(seed);
	std::vector<uint8_t> bits((n + 7) / 8, 0);
	for (size_t i = 0; i < n; i++)
		if (rng.Uniform() < drop)
			bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
	return bits;
}

constexpr int kDim = 3000;
const Metric kSparseMetrics[] = {Metric::kInnerProduct, Metric::kCosine, Metric::kL2};

// Wand returns the parameters of a WAND search.
SparseSearchParams Wand() {
	SparseSearchParams p;
	p.algorithm = SparseAlgorithm::kWand;
	return p;
}

// Exact returns the parameters of a term-at-a-time search.
SparseSearchParams Exact() {
	SparseSearchParams p;
	p.algorithm = SparseAlgorithm::kExact;
	return p;
}

// Forced returns p with the filtered path forced: lists (ratio 0) or the scan of allowed rows (1).
SparseSearchParams Forced(SparseSearchParams p, double ratio) {
	p.brute_force_ratio = ratio;
	return p;
}

// Rare returns set with every index i replaced by dim - 1 - i (re-sorted):
// rare terms, so a query touches few rows.
SparseSet Rare(const SparseSet &set, int dim) {
	SparseSet out;
	for (size_t i = 0; i < set.size(); i++) {
		std::vector<int32_t> idx(set.indices[i].rbegin(), set.indices[i].rend());
		std::vector<float> val(set.values[i].rbegin(), set.values[i].rend());
		for (int32_t &d : idx)
			d = dim - 1 - d;
		out.Add(idx, val);
	}
	return out;
}

TEST(SparseIndex, ExactMatchesBruteForce) {
	SparseSet rows = MakeSparse(1500, kDim, 40, 1, true);
	SparseSet queries = MakeSparse(20, kDim, 15, 2, true);
	/* queries of rare terms take the path that marks touched rows, the others pass every row */
	SparseSet rare = Rare(MakeSparse(10, kDim, 5, 3, true), kDim);
	for (size_t i = 0; i < rare.size(); i++)
		queries.Add(rare.indices[i], rare.values[i]);
	for (Metric m : kSparseMetrics) {
		auto index = BuildSparse(m, kDim, rows);
		for (size_t q = 0; q < queries.size(); q++) {
			Result r = SearchOne(*index, queries.Row(q), 10, Exact());
			ExpectMatchesBrute(m, rows, queries.Row(q), r, 10, m == Metric::kInnerProduct ? 0.0f : 2e-5f);
		}
	}
}

TEST(SparseIndex, WandEqualsExactTopK) {
	for (bool mixed : {false, true}) {
		SparseSet rows = MakeSparse(3000, kDim, 50, 3, mixed);
		SparseSet queries = MakeSparse(30, kDim, 20, 4, mixed);
		std::vector<uint8_t> bits = RandomFilter(rows.size(), 0.3, 5);
		for (Metric m : {Metric::kInnerProduct, Metric::kCosine}) {
			auto index = BuildSparse(m, kDim, rows);
			for (size_t k : {1, 10, 100}) {
				for (BitsetView f : {BitsetView(), BitsetView(bits.data(), rows.size())}) {
					for (size_t q = 0; q < queries.size(); q++) {
						Result exact = SearchOne(*index, queries.Row(q), k, Forced(Exact(), 0), f);
						Result wand = SearchOne(*index, queries.Row(q), k, Forced(Wand(), 0), f);
						EXPECT_EQ(wand.labels, exact.labels) << "k " << k << " query " << q;
						EXPECT_EQ(wand.distances, exact.distances) << "k " << k << " query " << q;
						if (m == Metric::kInnerProduct)
							ExpectMatchesBrute(m, rows, queries.Row(q), wand, k, 0.0f, f);
					}
				}
			}
		}
	}
}

TEST(SparseIndex, FiltersHonouredAtEverySelectivity) {
	SparseSet rows = MakeSparse(4000, kDim, 30, 6);
	SparseSet queries = MakeSparse(10, kDim, 12, 7);
	for (Metric m : kSparseMetrics) {
		auto index = BuildSparse(m, kDim, rows);
		for (double drop : {0.5, 0.9, 0.999, 1.0}) {
			std::vector<uint8_t> bits = RandomFilter(rows.size(), drop, 8);
			BitsetView f(bits.data(), rows.size());
			for (SparseSearchParams p : {Exact(), Wand(), Forced(Exact(), 0),
										  Forced(Wand(), 0), Forced(Wand(), 1)})
				for (size_t q = 0; q < queries.size(); q++) {
					Result r = SearchOne(*index, queries.Row(q), 10, p, f);
					ExpectMatchesBrute(m, rows, queries.Row(q), r, 10, m == Metric::kInnerProduct ? 0.0f : 2e-5f, f);
				}
		}
	}
}

TEST(SparseIndex, RowsSharingNoTermFillK) {
	SparseSet rows;
	for (int i = 0; i < 50; i++)
		rows.Add({i}, {1.0f + static_cast<float>(i)});
	auto index = BuildSparse(Metric::kInnerProduct, 100, rows);
	/* the query shares a term with rows 3 and 7 only: they come first, then zeros by label */
	SparseSet q;
	q.Add({3, 7, 99}, {1.0f, 1.0f, 5.0f});
	for (SparseSearchParams p : {Exact(), Wand()}) {
		Result r = SearchOne(*index, q.Row(0), 6, p);
		EXPECT_EQ(r.labels, (std::vector<int64_t>{7, 3, 0, 1, 2, 4}));
		EXPECT_EQ(r.distances[0], -8.0f);
		EXPECT_EQ(r.distances[5], 0.0f);
		/* a negative weight pushes rows below the zeros */
		SparseSet neg;
		neg.Add({0, 1}, {-1.0f, 1.0f});
		Result n = SearchOne(*index, neg.Row(0), 3, p);
		EXPECT_EQ(n.labels, (std::vector<int64_t>{1, 2, 3}));
		/* more than the rows: padded */
		Result all = SearchOne(*index, q.Row(0), 60, p);
		EXPECT_EQ(all.labels[49] >= 0, true);
		EXPECT_EQ(all.labels[50], -1);
		EXPECT_TRUE(std::isinf(all.distances[59]));
	}
}

TEST(SparseIndex, RowsWithNoOrThousandsOfNonZeros) {
	const int dim = 30522;
	SparseSet rows = MakeSparse(300, dim, 60, 9);
	Rng rng(10);
	for (int big = 0; big < 3; big++) {
		std::vector<int32_t> idx;
		std::vector<float> val;
		for (int32_t d = big; d < dim && idx.size() < 2500; d += 1 + static_cast<int32_t>(rng.Below(12))) {
			idx.push_back(d);
			val.push_back(static_cast<float>(0.01 + rng.Uniform()));
		}
		ASSERT_GE(idx.size(), 2000u);
		rows.Add(idx, val);
	}
	rows.Add({}, {});
	rows.Add({}, {});
	SparseSet queries = MakeSparse(5, dim, 30, 11);
	queries.Add(rows.indices[300], rows.values[300]);
	for (Metric m : {Metric::kInnerProduct, Metric::kL2}) {
		auto index = BuildSparse(m, dim, rows);
		EXPECT_EQ(index->count(), static_cast<int64_t>(rows.size()));
		SparseRow stored;
		ASSERT_TRUE(index->GetRow(301, &stored).ok());
		EXPECT_EQ(stored.nnz, rows.indices[301].size());
		EXPECT_EQ(std::memcmp(stored.values, rows.values[301].data(), stored.nnz * sizeof(float)), 0);
		ASSERT_TRUE(index->GetRow(303, &stored).ok());
		EXPECT_EQ(stored.nnz, 0u);
		for (SparseSearchParams p : {Exact(), Wand()})
			for (size_t q = 0; q < queries.size(); q++) {
				Result r = SearchOne(*index, queries.Row(q), 20, p);
				ExpectMatchesBrute(m, rows, queries.Row(q), r, 20, m == Metric::kL2 ? 1e-3f : 0.0f);
			}
		/* a zero query: every row scores 0 under inner product (the first labels
		   win); under L2 the zero rows are nearest */
		SparseRow zero;
		Result z = SearchOne(*index, zero, 3, Wand());
		EXPECT_EQ(z.labels[0], m == Metric::kL2 ? 303 : 0);
		EXPECT_EQ(z.labels[1], m == Metric::kL2 ? 304 : 1);
	}
}

TEST(SparseIndex, EmptyIndex) {
	SparseSet none;
	auto index = BuildSparse(Metric::kInnerProduct, 10, none);
	SparseSet q;
	q.Add({1}, {1.0f});
	Result r = SearchOne(*index, q.Row(0), 3, Wand());
	EXPECT_EQ(r.labels, (std::vector<int64_t>{-1, -1, -1}));
	/* re-scoring fewer candidates than k * refine (fuzz_index found a write past them) */
	SparseSearchParams refined = Exact();
	refined.drop_ratio = 0.5f;
	refined.refine = 4;
	r = SearchOne(*index, q.Row(0), 3, refined);
	EXPECT_EQ(r.labels, (std::vector<int64_t>{-1, -1, -1}));
	auto it = index->CreateIterator(q.Row(0), Wand(), {});
	ASSERT_TRUE(it.ok());
	std::vector<Neighbor> out;
	ASSERT_TRUE(it.value()->Next(10, &out).ok());
	EXPECT_TRUE(out.empty());
	StringWriter w;
	ASSERT_TRUE(index->Serialize(w).ok());
	MemoryReader reader(w.bytes().data(), w.bytes().size());
	auto loaded = DeserializeSparseIndex(reader);
	ASSERT_TRUE(loaded.ok()) << loaded.status().message();
	EXPECT_EQ(loaded.value()->count(), 0);
}

TEST(SparseIndex, IteratorDrainsInOrder) {
	SparseSet rows = MakeSparse(700, kDim, 30, 12, true);
	SparseSet queries = MakeSparse(3, kDim, 15, 13);
	std::vector<uint8_t> bits = RandomFilter(rows.size(), 0.4, 14);
	BitsetView f(bits.data(), rows.size());
	for (Metric m : kSparseMetrics) {
		auto index = BuildSparse(m, kDim, rows);
		for (size_t q = 0; q < queries.size(); q++) {
			auto it = index->CreateIterator(queries.Row(q), Wand(), f);
			ASSERT_TRUE(it.ok()) << it.status().message();
			std::vector<Neighbor> all;
			size_t batch = 7;
			for (;;) {
				size_t before = all.size();
				ASSERT_TRUE(it.value()->Next(batch, &all).ok());
				if (all.size() == before)
					break;
				batch *= 2;
			}
			std::vector<Neighbor> want = BruteTopK(m, rows, queries.Row(q), rows.size(), f);
			ASSERT_EQ(all.size(), want.size());
			for (size_t i = 1; i < all.size(); i++)
				EXPECT_TRUE(all[i - 1].distance < all[i].distance ||
							(all[i - 1].distance == all[i].distance && all[i - 1].label < all[i].label));
			Result top = SearchOne(*index, queries.Row(q), 10, Exact(), f);
			for (size_t i = 0; i < 10; i++)
				EXPECT_EQ(all[i].label, top.labels[i]);
		}
	}
}

// The iterator's two ways of scoring (the query's lists, or the allowed rows
// themselves) drain every allowed row once, in order, with exact distances,
// unfiltered and at 60% and 1% allowed.
TEST(SparseIndex, IteratorScoresByListsOrByAllowedRows) {
	SparseSet rows = MakeSparse(900, kDim, 30, 21, true);
	SparseSet queries = MakeSparse(3, kDim, 15, 22);
	std::vector<uint8_t> some = RandomFilter(rows.size(), 0.4, 23);
	std::vector<uint8_t> few = RandomFilter(rows.size(), 0.99, 24);
	for (Metric m : kSparseMetrics) {
		auto index = BuildSparse(m, kDim, rows);
		const std::vector<uint8_t> *filters[] = {nullptr, &some, &few};
		for (const std::vector<uint8_t> *bits : filters) {
			BitsetView f = bits ? BitsetView(bits->data(), rows.size()) : BitsetView();
			for (double ratio : {-1.0, 0.0, 1.0}) {
				SparseSearchParams p;
				p.brute_force_ratio = ratio;
				for (size_t q = 0; q < queries.size(); q++) {
					auto it = index->CreateIterator(queries.Row(q), p, f);
					ASSERT_TRUE(it.ok()) << it.status().message();
					std::vector<Neighbor> all;
					for (size_t batch = 5;; batch *= 2) {
						size_t before = all.size();
						ASSERT_TRUE(it.value()->Next(batch, &all).ok());
						if (all.size() == before)
							break;
					}
					std::vector<Neighbor> want = BruteTopK(m, rows, queries.Row(q), rows.size(), f);
					ASSERT_EQ(all.size(), want.size());
					std::vector<int64_t> got_labels, want_labels;
					for (size_t i = 0; i < all.size(); i++) {
						EXPECT_NEAR(all[i].distance, want[i].distance, 1e-4f);
						if (i > 0)
							EXPECT_TRUE(all[i - 1].distance < all[i].distance ||
										(all[i - 1].distance == all[i].distance && all[i - 1].label < all[i].label));
						got_labels.push_back(all[i].label);
						want_labels.push_back(want[i].label);
					}
					std::sort(got_labels.begin(), got_labels.end());
					std::sort(want_labels.begin(), want_labels.end());
					EXPECT_EQ(got_labels, want_labels);
				}
			}
		}
	}
}

TEST(SparseIndex, DropRatioApproximatesAndRefineRecovers) {
	SparseSet rows = MakeSparse(3000, kDim, 60, 15);
	SparseSet queries = MakeSparse(40, kDim, 40, 16);
	auto index = BuildSparse(Metric::kInnerProduct, kDim, rows);
	SparseSearchParams drop;
	drop.drop_ratio = 0.5f;
	SparseSearchParams refined = drop;
	refined.refine = 5;
	size_t hits_drop = 0, hits_refined = 0, total = 0;
	for (size_t q = 0; q < queries.size(); q++) {
		Result exact = SearchOne(*index, queries.Row(q), 10, Exact());
		Result a = SearchOne(*index, queries.Row(q), 10, drop);
		Result b = SearchOne(*index, queries.Row(q), 10, refined);
		for (int64_t l : exact.labels) {
			hits_drop += std::count(a.labels.begin(), a.labels.end(), l);
			hits_refined += std::count(b.labels.begin(), b.labels.end(), l);
		}
		total += 10;
		/* refined distances are exact scores of the returned rows */
		ExpectMatchesBrute(Metric::kInnerProduct, rows, queries.Row(q), b, 10, 1e9f);
		for (size_t i = 0; i < 10; i++)
			EXPECT_EQ(b.distances[i], RefDistance(Metric::kInnerProduct, queries.Row(q),
												  rows.Row(static_cast<size_t>(b.labels[i]))));
	}
	double recall_drop = static_cast<double>(hits_drop) / total, recall_refined = static_cast<double>(hits_refined) / total;
	EXPECT_GE(recall_drop, 0.5);
	EXPECT_GE(recall_refined, recall_drop);
	EXPECT_GE(recall_refined, 0.8);
}

// Serialized returns index's bytes.
std::string Serialized(const SparseIndex &index) {
	StringWriter w;
	Status s = index.Serialize(w);
	EXPECT_TRUE(s.ok()) << s.message();
	return w.bytes();
}

// LoadSparse reads bytes back.
Expected<std::unique_ptr<SparseIndex>> LoadSparse(const std::string &bytes) {
	MemoryReader reader(bytes.data(), bytes.size());
	return DeserializeSparseIndex(reader);
}

TEST(SparseIndex, SerializeRoundTrip) {
	SparseSet rows = MakeSparse(1000, kDim, 30, 17, true);
	rows.Add({}, {});
	SparseSet queries = MakeSparse(10, kDim, 15, 18);
	for (Metric m : kSparseMetrics) {
		if (m == Metric::kCosine)
			rows.indices.back() = {5}, rows.values.back() = {2.0f};
		auto index = BuildSparse(m, kDim, rows);
		std::string bytes = Serialized(*index);
		auto loaded = LoadSparse(bytes);
		ASSERT_TRUE(loaded.ok()) << loaded.status().message();
		const SparseIndex &copy = *loaded.value();
		EXPECT_EQ(copy.kind(), IndexKind::kSparseInverted);
		EXPECT_EQ(copy.metric(), m);
		EXPECT_EQ(copy.dim(), kDim);
		EXPECT_EQ(copy.count(), index->count());
		EXPECT_EQ(copy.nnz(), index->nnz());
		for (size_t q = 0; q < queries.size(); q++) {
			Result a = SearchOne(*index, queries.Row(q), 15, Wand());
			Result b = SearchOne(copy, queries.Row(q), 15, Wand());
			EXPECT_EQ(a.labels, b.labels);
			EXPECT_EQ(a.distances, b.distances);
		}
		EXPECT_EQ(Serialized(copy), bytes);
	}
}

// Reseal rewrites the trailer so that any content passes the checksum.
void Reseal(std::string *bytes) {
	size_t body = bytes->size() - sizeof(IndexTrailer);
	IndexTrailer t{};
	t.size = body;
	t.checksum = ChecksumOf(bytes->data(), body);
	t.magic = kIndexTrailerMagic;
	std::memcpy(&(*bytes)[body], &t, sizeof(t));
}

TEST(SparseIndex, DamagedStreamsRefused) {
	SparseSet rows = MakeSparse(12, 40, 4, 19);
	SparseSet queries = MakeSparse(2, 40, 4, 20);
	for (Metric m : kSparseMetrics) {
		auto index = BuildSparse(m, 40, rows);
		std::string bytes = Serialized(*index);
		for (size_t len = 0; len < bytes.size(); len++) {
			auto r = LoadSparse(bytes.substr(0, len));
			ASSERT_FALSE(r.ok()) << "truncated to " << len;
			EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << "truncated to " << len;
		}
		Rng rng(21);
		for (size_t pos = 0; pos < bytes.size(); pos++) {
			for (int t = 0; t < 4; t++) {
				std::string bad = bytes;
				bad[pos] = static_cast<char>(bad[pos] ^ static_cast<char>(1 + rng.Below(255)));
				auto r = LoadSparse(bad);
				ASSERT_FALSE(r.ok()) << "byte " << pos << " flipped";
				EXPECT_TRUE(r.status().code() == StatusCode::kCorrupt ||
							r.status().code() == StatusCode::kOutOfMemory)
					<< r.status().message();
				/* with a valid checksum the loader's own checks stand alone: refused or searchable */
				Reseal(&bad);
				auto sealed = LoadSparse(bad);
				if (!sealed.ok())
					continue;
				Result res = SearchOne(*sealed.value(), queries.Row(0), 5, Wand());
				auto it = sealed.value()->CreateIterator(queries.Row(1), Wand(), {});
				EXPECT_TRUE(it.ok() || it.status().code() == StatusCode::kInvalidArgument);
			}
		}
	}
}

TEST(SparseIndex, InvalidArgumentsRefused) {
	IndexConfig c;
	c.kind = IndexKind::kSparseInverted;
	c.metric = Metric::kCosine;
	c.dim = 100;
	auto index = std::move(CreateSparseIndex(c)).value();
	int64_t label = 0;
	auto add = [&](std::vector<int32_t> idx, std::vector<float> val) {
		SparseRow r{idx.data(), val.data(), static_cast<uint32_t>(idx.size())};
		return index->Add(&r, &label, 1).code();
	};
	EXPECT_EQ(add({3, 2}, {1, 1}), StatusCode::kInvalidArgument);
	EXPECT_EQ(add({2, 2}, {1, 1}), StatusCode::kInvalidArgument);
	EXPECT_EQ(add({100}, {1}), StatusCode::kInvalidArgument);
	EXPECT_EQ(add({-1}, {1}), StatusCode::kInvalidArgument);
	EXPECT_EQ(add({1}, {std::numeric_limits<float>::quiet_NaN()}), StatusCode::kInvalidArgument);
	EXPECT_EQ(add({}, {}), StatusCode::kInvalidArgument) << "zero row under cosine";
	label = -1;
	EXPECT_EQ(add({1}, {1}), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->count(), 0);
	label = 0;
	EXPECT_EQ(add({1}, {1}), StatusCode::kOk);

	SparseSearchParams p;
	p.drop_ratio = 1.0f;
	int64_t out_label;
	float out_dist;
	SparseRow q; /* zero */
	EXPECT_EQ(index->Search(&q, 1, 1, p, {}, &out_label, &out_dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Search(&q, 1, 0, Wand(), {}, &out_label, &out_dist).code(),
			  StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Search(&q, 1, 1, Wand(), {}, &out_label, &out_dist).code(),
			  StatusCode::kInvalidArgument)
		<< "zero query under cosine";

	c.dim = kMaxSparseDim + 1;
	EXPECT_EQ(CreateSparseIndex(c).status().code(), StatusCode::kTooManyDimensions);
	c.dim = kMaxSparseDim;
	EXPECT_TRUE(CreateSparseIndex(c).ok());
	c.metric = Metric::kL1;
	EXPECT_EQ(CreateSparseIndex(c).status().code(), StatusCode::kNotSupported);
	c.metric = Metric::kInnerProduct;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kNotSupported);
	IndexConfig flat;
	flat.dim = 4;
	EXPECT_EQ(CreateSparseIndex(flat).status().code(), StatusCode::kInvalidArgument);

	/* each factory refuses the other's bytes */
	std::string sparse_bytes = Serialized(*index);
	MemoryReader reader(sparse_bytes.data(), sparse_bytes.size());
	EXPECT_EQ(DeserializeIndex(reader).status().code(), StatusCode::kNotSupported);
	auto dense = std::move(CreateIndex(flat)).value();
	StringWriter w;
	ASSERT_TRUE(dense->Serialize(w).ok());
	EXPECT_EQ(LoadSparse(w.bytes()).status().code(), StatusCode::kInvalidArgument);
}

TEST(SparseIndex, SeveralAddsEqualOneAdd) {
	SparseSet rows = MakeSparse(900, kDim, 30, 22);
	SparseSet queries = MakeSparse(10, kDim, 15, 23);
	auto one = BuildSparse(Metric::kInnerProduct, kDim, rows);
	IndexConfig c;
	c.kind = IndexKind::kSparseInverted;
	c.metric = Metric::kInnerProduct;
	c.dim = kDim;
	auto parts = std::move(CreateSparseIndex(c)).value();
	std::vector<SparseRow> r = rows.Rows();
	std::vector<int64_t> labels = Labels(rows.size());
	for (size_t at = 0; at < rows.size(); at += 100)
		ASSERT_TRUE(parts->Add(r.data() + at, labels.data() + at, std::min<size_t>(100, rows.size() - at)).ok());
	EXPECT_EQ(Serialized(*one), Serialized(*parts));
	for (size_t q = 0; q < queries.size(); q++) {
		Result a = SearchOne(*one, queries.Row(q), 10, Wand());
		Result b = SearchOne(*parts, queries.Row(q), 10, Wand());
		EXPECT_EQ(a.labels, b.labels);
	}
	EXPECT_GT(parts->MemoryUsage(), 0u);
	EXPECT_LE(one->MemoryUsage(), 2 * EstimateSparseMemory(rows.size(), one->nnz()));
	EXPECT_GE(2 * one->MemoryUsage(), EstimateSparseMemory(rows.size(), one->nnz()));
}

TEST(SparseIndex, BatchesAndThreadsAnswerAsSingleQueries) {
	SparseSet rows = MakeSparse(2000, kDim, 30, 25, true);
	SparseSet queries = MakeSparse(12, kDim, 15, 26, true);
	SparseSet rare = Rare(MakeSparse(4, kDim, 4, 27), kDim);
	for (size_t i = 0; i < rare.size(); i++)
		queries.Add(rare.indices[i], rare.values[i]);
	std::vector<SparseRow> q = queries.Rows();
	std::vector<uint8_t> bits = RandomFilter(rows.size(), 0.5, 28);
	BitsetView f(bits.data(), rows.size());
	SparseSearchParams dropped = Wand();
	dropped.drop_ratio = 0.3f;
	dropped.refine = 2;
	const size_t k = 7;
	for (Metric m : kSparseMetrics) {
		auto index = BuildSparse(m, kDim, rows);
		for (SparseSearchParams p : {Exact(), Wand(), dropped}) {
			std::vector<int64_t> one(q.size() * k), batch(q.size() * k), other(q.size() * k);
			std::vector<float> d1(q.size() * k), d2(q.size() * k), d3(q.size() * k);
			for (size_t i = 0; i < q.size(); i++)
				ASSERT_TRUE(index->Search(&q[i], 1, k, p, f, one.data() + i * k, d1.data() + i * k).ok());
			std::thread t([&] { ASSERT_TRUE(index->Search(q.data(), q.size(), k, p, f, other.data(), d3.data()).ok()); });
			ASSERT_TRUE(index->Search(q.data(), q.size(), k, p, f, batch.data(), d2.data()).ok());
			t.join();
			EXPECT_EQ(batch, one);
			EXPECT_EQ(d2, d1);
			EXPECT_EQ(other, one);
		}
	}
}

// StopNow always asks to stop.
bool StopNow(void *) noexcept {
	return true;
}

// StopAtCall asks to stop from the call number *arg counts down to.
bool StopAtCall(void *arg) noexcept {
	int *left = static_cast<int *>(arg);
	return --*left <= 0;
}

TEST(SparseIndex, CancellationStopsAddAndSearch) {
	SparseSet rows = MakeSparse(9000, kDim, 10, 24);
	IndexConfig c;
	c.kind = IndexKind::kSparseInverted;
	c.metric = Metric::kInnerProduct;
	c.dim = kDim;
	auto index = std::move(CreateSparseIndex(c)).value();
	std::vector<SparseRow> r = rows.Rows();
	std::vector<int64_t> labels = Labels(rows.size());
	index->SetBuildControl(StopNow, nullptr);
	EXPECT_EQ(index->Add(r.data(), labels.data(), r.size()).code(), StatusCode::kCancelled);
	EXPECT_EQ(index->count(), 0);
	/* later polls: after the rows are checked, and while postings go in */
	for (int calls : {3, 4}) {
		int left = calls;
		index->SetBuildControl(StopAtCall, &left);
		EXPECT_EQ(index->Add(r.data(), labels.data(), r.size()).code(), StatusCode::kCancelled) << calls;
		EXPECT_EQ(index->count(), 0);
		EXPECT_EQ(index->nnz(), 0u);
	}
	index->SetBuildControl(nullptr, nullptr);
	ASSERT_TRUE(index->Add(r.data(), labels.data(), r.size()).ok());
	EXPECT_EQ(Serialized(*index), Serialized(*BuildSparse(Metric::kInnerProduct, kDim, rows)));
	SparseSearchParams p;
	p.should_stop = StopNow;
	int64_t l;
	float d;
	EXPECT_EQ(index->Search(&r[0], 1, 1, p, {}, &l, &d).code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace vecdb::knowhere
