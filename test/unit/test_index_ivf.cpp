// test_index_ivf.cpp tests the IVF index kinds: recall against exact search,
// filters, the iterator, range search, serialization and its corruption
// handling, parameter validation, cancellation and concurrent searches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "knowhere/distance.hpp"
#include "knowhere/index.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::knowhere {

namespace {

// Data holds n rows of dim floats drawn around ncenters Gaussian centres.
struct Data {
	int dim;
	size_t n;
	std::vector<float> x;
	std::vector<int64_t> labels;
};

// MakeClustered returns clustered float data and queries drawn the same way.
Data MakeClustered(size_t n, int dim, int ncenters, uint32_t seed) {
	std::mt19937 rng(seed);
	std::normal_distribution<float> g(0.0f, 1.0f);
	std::vector<float> centers(static_cast<size_t>(ncenters) * dim);
	for (float &c : centers)
		c = g(rng) * 4.0f;
	Data d{dim, n, std::vector<float>(n * dim), std::vector<int64_t>(n)};
	std::uniform_int_distribution<int> pick(0, ncenters - 1);
	for (size_t i = 0; i < n; i++) {
		int c = pick(rng);
		for (int j = 0; j < dim; j++)
			d.x[i * dim + j] = centers[static_cast<size_t>(c) * dim + j] + g(rng);
		d.labels[i] = static_cast<int64_t>(i) * 3 + 7;
	}
	return d;
}

// ExactScore returns the kind's score between two float rows.
float ExactScore(Metric m, const float *a, const float *b, int dim) {
	if (m == Metric::kL2)
		return L2SqrF32(a, b, dim);
	if (m == Metric::kInnerProduct)
		return -InnerProductF32(a, b, dim);
	return static_cast<float>(CosineDistanceF32(a, b, dim));
}

// GroundTruth returns the exact k-th score per query over allowed rows.
std::vector<std::vector<float>> ExactTop(const Data &d, const float *queries, size_t nq, size_t k, Metric m,
										 const std::vector<bool> *allowed = nullptr) {
	std::vector<std::vector<float>> out(nq);
	for (size_t q = 0; q < nq; q++) {
		std::vector<float> s;
		for (size_t i = 0; i < d.n; i++)
			if (allowed == nullptr || (*allowed)[i])
				s.push_back(ExactScore(m, queries + q * d.dim, d.x.data() + i * d.dim, d.dim));
		std::sort(s.begin(), s.end());
		s.resize(std::min(k, s.size()));
		out[q] = s;
	}
	return out;
}

// Recall counts results whose exact score is within the true k-th score
// (robust to ties), over all queries.
double Recall(const Data &d, const float *queries, size_t nq, size_t k, Metric m, const int64_t *labels,
			  const std::vector<std::vector<float>> &truth) {
	size_t hit = 0, total = 0;
	for (size_t q = 0; q < nq; q++) {
		float kth = truth[q].back();
		total += truth[q].size();
		for (size_t j = 0; j < k; j++) {
			int64_t l = labels[q * k + j];
			if (l < 0)
				continue;
			size_t row = static_cast<size_t>((l - 7) / 3);
			float s = ExactScore(m, queries + q * d.dim, d.x.data() + row * d.dim, d.dim);
			hit += s <= kth + 1e-3f * std::max(1.0f, std::fabs(kth));
		}
	}
	return static_cast<double>(hit) / static_cast<double>(total);
}

// Build creates, trains and fills an index over d.
std::unique_ptr<Index> Build(const Data &d, IndexKind kind, Metric metric, int nlist, int pq_m = 8) {
	IndexConfig c;
	c.kind = kind;
	c.metric = metric;
	c.dim = d.dim;
	c.nlist = nlist;
	c.pq_m = pq_m;
	auto idx = CreateIndex(c);
	EXPECT_TRUE(idx.ok()) << idx.status().message();
	std::unique_ptr<Index> index = std::move(idx).value();
	Status s = index->Build(d.x.data(), d.labels.data(), d.n);
	EXPECT_TRUE(s.ok()) << s.message();
	return index;
}

// Big returns the shared 20k x 64 clustered data set and its 100 queries.
const Data &Big() {
	static const Data d = MakeClustered(20000, 64, 100, 1);
	return d;
}
const Data &BigQueries() {
	static const Data q = MakeClustered(100, 64, 100, 1);
	return q;
}

// BigFlat returns the shared IVF_FLAT index over Big() (nlist 100).
const Index &BigFlat() {
	static std::unique_ptr<Index> index = Build(Big(), IndexKind::kIvfFlat, Metric::kL2, 100);
	return *index;
}

// RecallOf searches the big data set and returns recall@10.
double RecallOf(const Index &index, const SearchParams &p) {
	const Data &d = Big();
	const Data &q = BigQueries();
	size_t k = 10;
	std::vector<int64_t> labels(q.n * k);
	std::vector<float> dist(q.n * k);
	Status s = index.Search(q.x.data(), q.n, k, p, {}, labels.data(), dist.data());
	EXPECT_TRUE(s.ok()) << s.message();
	static const auto truth = ExactTop(d, q.x.data(), q.n, k, Metric::kL2);
	return Recall(d, q.x.data(), q.n, k, Metric::kL2, labels.data(), truth);
}

TEST(IvfIndex, IvfFlatRecall) {
	SearchParams p;
	p.nprobe = 10;
	double r = RecallOf(BigFlat(), p);
	std::printf("IVF_FLAT nlist 100 nprobe 10 recall@10 = %.3f\n", r);
	EXPECT_GE(r, 0.95);
}

// AddToIvfLists puts rows in the lists the caller names (GPU_IVF_FLAT
// assigns on its device), IvfListRows shows them there (owned and view),
// and a bad list or kind adds nothing.
TEST(IvfIndex, AddToGivenListsAndReadLists) {
	Data d = MakeClustered(3000, 16, 10, 9);
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.metric = Metric::kL2;
	c.dim = d.dim;
	c.nlist = 8;
	auto made = CreateIndex(c);
	ASSERT_TRUE(made.ok());
	Index &index = *made.value();
	EXPECT_EQ(IvfListCount(index), 0u); /* untrained */
	ASSERT_TRUE(index.Train(d.x.data(), d.n).ok());
	ASSERT_EQ(IvfListCount(index), 8u);
	std::vector<int64_t> lists(d.n);
	for (size_t i = 0; i < d.n; i++)
		lists[i] = static_cast<int64_t>((i * 5) % 8); /* not the nearest centroid: the caller's choice */
	std::vector<int64_t> bad = lists;
	bad[d.n - 1] = 8;
	EXPECT_EQ(AddToIvfLists(index, d.x.data(), d.labels.data(), bad.data(), d.n).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index.count(), 0);
	ASSERT_TRUE(AddToIvfLists(index, d.x.data(), d.labels.data(), lists.data(), d.n).ok());
	EXPECT_EQ(index.count(), static_cast<int64_t>(d.n));
	auto check = [&](const Index &ix, const char *what) {
		size_t total = 0;
		for (size_t l = 0; l < 8; l++) {
			RowSet r = IvfListRows(ix, l);
			total += r.n;
			for (size_t j = 0; j < r.n; j++) {
				size_t row = static_cast<size_t>((r.labels[j] - 7) / 3);
				ASSERT_EQ(static_cast<size_t>(lists[row]), l) << what;
				const float *v = reinterpret_cast<const float *>(r.base + j * r.stride);
				ASSERT_EQ(v[0], d.x[row * d.dim]) << what;
			}
		}
		EXPECT_EQ(total, d.n) << what;
		EXPECT_EQ(IvfListRows(ix, 8).n, 0u) << what;
	};
	check(index, "owned");
	StringWriter w;
	ASSERT_TRUE(index.Serialize(w).ok());
	std::vector<uint8_t> bytes(w.bytes().size() + kIndexViewAlign);
	uint8_t *aligned = bytes.data() + (kIndexViewAlign - reinterpret_cast<uintptr_t>(bytes.data()) % kIndexViewAlign);
	std::copy(w.bytes().begin(), w.bytes().end(), aligned);
	auto view = OpenIndexView(aligned, w.bytes().size(), true);
	ASSERT_TRUE(view.ok()) << view.status().message();
	check(*view.value(), "view");
	EXPECT_EQ(AddToIvfLists(*view.value(), d.x.data(), d.labels.data(), lists.data(), 1).code(),
			  StatusCode::kNotSupported);
	/* duplicate labels and the wrong kinds are refused */
	EXPECT_FALSE(AddToIvfLists(index, d.x.data(), d.labels.data(), lists.data(), 1).ok());
	c.kind = IndexKind::kFlat;
	auto flat = CreateIndex(c);
	ASSERT_TRUE(flat.ok());
	EXPECT_EQ(AddToIvfLists(*flat.value(), d.x.data(), d.labels.data(), lists.data(), 1).code(),
			  StatusCode::kInvalidArgument);
	EXPECT_EQ(IvfListCount(*flat.value()), 0u);
	c.kind = IndexKind::kIvfSq8;
	auto sq = CreateIndex(c);
	ASSERT_TRUE(sq.ok());
	ASSERT_TRUE(sq.value()->Train(d.x.data(), d.n).ok());
	EXPECT_EQ(IvfListCount(*sq.value()), 0u); /* lists hold codes, not rows */
	ASSERT_TRUE(AddToIvfLists(*sq.value(), d.x.data(), d.labels.data(), lists.data(), d.n).ok());
	EXPECT_EQ(sq.value()->count(), static_cast<int64_t>(d.n));
}

// widen_probes (the GPU worker's scans) answers what an iterator's first
// batch of k returns: the probed lists, then more in centroid order until
// they hold k allowed rows; without it Search answers exactly when the
// probed lists hold too few.
TEST(IvfIndex, WidenProbesIsTheIteratorsFirstBatch) {
	Data d = MakeClustered(3000, 16, 10, 5);
	Data q = MakeClustered(20, 16, 10, 6);
	for (IndexKind kind : {IndexKind::kIvfFlat, IndexKind::kIvfSq8}) {
		std::unique_ptr<Index> index = Build(d, kind, Metric::kL2, 100); /* ~30 rows a list */
		std::vector<uint8_t> bits((d.labels.back() + 8) / 8, 0);
		for (size_t i = 0; i < d.n; i += 2)
			bits[d.labels[i] / 8] |= static_cast<uint8_t>(1u << (d.labels[i] % 8));
		for (BitsetView filter : {BitsetView(), BitsetView(bits.data(), d.labels.back() + 1)}) {
			for (int nprobe : {1, 3}) {
				SearchParams p;
				p.nprobe = nprobe;
				p.widen_probes = true;
				const size_t k = 40;
				std::vector<int64_t> labels(q.n * k);
				std::vector<float> dist(q.n * k);
				ASSERT_TRUE(index->Search(q.x.data(), q.n, k, p, filter, labels.data(), dist.data()).ok());
				size_t differ_from_exact = 0;
				for (size_t i = 0; i < q.n; i++) {
					auto it = index->CreateIterator(q.x.data() + i * q.dim, p, filter);
					ASSERT_TRUE(it.ok());
					std::vector<Neighbor> first;
					ASSERT_TRUE(it.value()->Next(k, &first).ok());
					ASSERT_EQ(first.size(), k);
					for (size_t j = 0; j < k; j++) {
						EXPECT_EQ(labels[i * k + j], first[j].label) << "query " << i << " rank " << j;
						EXPECT_NEAR(dist[i * k + j], first[j].distance, 1e-3f * std::max(1.0f, first[j].distance));
					}
					std::vector<int64_t> el(k);
					std::vector<float> ed(k);
					SearchParams plain = p;
					plain.widen_probes = false;
					ASSERT_TRUE(index->Search(q.x.data() + i * q.dim, 1, k, plain, filter, el.data(), ed.data()).ok());
					differ_from_exact += el != std::vector<int64_t>(labels.begin() + i * k, labels.begin() + (i + 1) * k);
				}
				/* one list of ~30 rows (two at 50%: ~30 allowed) holds fewer than 40: plain Search
				 * answers exactly, which differs from the widened lists' top 40 */
				if (nprobe == 1)
					EXPECT_GT(differ_from_exact, 0u);
			}
		}
	}
}

TEST(IvfIndex, IvfPqRecallWithRerank) {
	auto index = Build(Big(), IndexKind::kIvfPq, Metric::kL2, 100, 16);
	SearchParams p;
	p.nprobe = 10;
	double plain = RecallOf(*index, p);
	p.rerank = 10;
	double reranked = RecallOf(*index, p);
	std::printf("IVF_PQ nlist 100 pq_m 16 nbits 8 nprobe 10 recall@10 = %.3f, rerank 10: %.3f\n", plain, reranked);
	EXPECT_GE(reranked, 0.9);
	EXPECT_GE(reranked, plain);
}

TEST(IvfIndex, IvfSq8Recall) {
	auto index = Build(Big(), IndexKind::kIvfSq8, Metric::kL2, 100);
	SearchParams p;
	p.nprobe = 10;
	double plain = RecallOf(*index, p);
	p.rerank = 4;
	double reranked = RecallOf(*index, p);
	std::printf("IVF_SQ8 nlist 100 nprobe 10 recall@10 = %.3f, rerank 4: %.3f\n", plain, reranked);
	EXPECT_GE(plain, 0.9);
	EXPECT_GE(reranked, 0.95);
}

// MakeBinary returns n packed rows of dim bits, flipped 10% from 50 centres.
std::vector<uint8_t> MakeBinary(size_t n, int dim, uint32_t seed) {
	std::mt19937 rng(seed);
	size_t bytes = static_cast<size_t>(dim) / 8;
	std::vector<uint8_t> centers(50 * bytes);
	for (uint8_t &c : centers)
		c = static_cast<uint8_t>(rng());
	std::vector<uint8_t> x(n * bytes);
	for (size_t i = 0; i < n; i++) {
		size_t c = rng() % 50;
		for (size_t j = 0; j < bytes; j++) {
			uint8_t flips = 0;
			for (int b = 0; b < 8; b++)
				flips |= static_cast<uint8_t>((rng() % 10 == 0) << b);
			x[i * bytes + j] = centers[c * bytes + j] ^ flips;
		}
	}
	return x;
}

TEST(IvfIndex, BinIvfRecall) {
	int dim = 256;
	size_t n = 10000, nq = 50, k = 10, bytes = 32;
	std::vector<uint8_t> x = MakeBinary(n, dim, 3), q = MakeBinary(nq, dim, 3);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	IndexConfig c;
	c.kind = IndexKind::kBinIvf;
	c.metric = Metric::kHamming;
	c.dim = dim;
	c.nlist = 50;
	auto idx = CreateIndex(c);
	ASSERT_TRUE(idx.ok()) << idx.status().message();
	auto &index = idx.value();
	ASSERT_TRUE(index->Build(x.data(), labels.data(), n).ok());
	SearchParams p;
	p.nprobe = 5;
	std::vector<int64_t> out(nq * k);
	std::vector<float> dist(nq * k);
	ASSERT_TRUE(index->Search(q.data(), nq, k, p, {}, out.data(), dist.data()).ok());
	size_t hit = 0;
	for (size_t i = 0; i < nq; i++) {
		std::vector<uint64_t> all(n);
		for (size_t r = 0; r < n; r++)
			all[r] = HammingBits(q.data() + i * bytes, x.data() + r * bytes, bytes);
		std::nth_element(all.begin(), all.begin() + (k - 1), all.end());
		uint64_t kth = all[k - 1];
		for (size_t j = 0; j < k; j++) {
			ASSERT_GE(out[i * k + j], 0);
			uint64_t h = HammingBits(q.data() + i * bytes, x.data() + out[i * k + j] * bytes, bytes);
			EXPECT_EQ(static_cast<float>(h), dist[i * k + j]);
			hit += h <= kth;
		}
	}
	std::vector<uint8_t> bits(n / 8, 0);
	for (size_t i = 0; i < n; i++)
		if (i % 10 != 0)
			bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
	BitsetView view(bits.data(), n);
	ASSERT_TRUE(index->Search(q.data(), nq, k, p, view, out.data(), dist.data()).ok());
	for (size_t i = 0; i < nq * k; i++) {
		ASSERT_GE(out[i], 0);
		EXPECT_EQ(out[i] % 10, 0);
	}
	auto it = index->CreateIterator(q.data(), p, view);
	ASSERT_TRUE(it.ok());
	std::set<int64_t> seen;
	for (;;) {
		std::vector<Neighbor> batch;
		ASSERT_TRUE(it.value()->Next(100, &batch).ok());
		if (batch.empty())
			break;
		for (const Neighbor &nb : batch)
			EXPECT_TRUE(nb.label % 10 == 0 && seen.insert(nb.label).second);
	}
	EXPECT_EQ(seen.size(), n / 10);
	double r = static_cast<double>(hit) / static_cast<double>(nq * k);
	std::printf("BIN_IVF 10k x 256 bits nlist 50 nprobe 5 recall@10 = %.3f\n", r);
	EXPECT_GE(r, 0.9);
}

TEST(IvfIndex, InnerProductAndCosineScores) {
	Data d = MakeClustered(3000, 16, 20, 5);
	Data q = MakeClustered(10, 16, 20, 5);
	for (Metric m : {Metric::kInnerProduct, Metric::kCosine}) {
		auto index = Build(d, IndexKind::kIvfFlat, m, 20);
		SearchParams p;
		p.nprobe = 20;
		size_t k = 5;
		std::vector<int64_t> labels(q.n * k);
		std::vector<float> dist(q.n * k);
		ASSERT_TRUE(index->Search(q.x.data(), q.n, k, p, {}, labels.data(), dist.data()).ok());
		auto truth = ExactTop(d, q.x.data(), q.n, k, m);
		for (size_t i = 0; i < q.n; i++)
			for (size_t j = 0; j < k; j++)
				EXPECT_NEAR(dist[i * k + j], truth[i][j], 1e-3 * std::max(1.0f, std::fabs(truth[i][j])));
		if (m == Metric::kCosine) {
			std::vector<float> zero(16, 0.0f);
			int64_t l = 1;
			EXPECT_EQ(index->Add(zero.data(), &l, 1).code(), StatusCode::kInvalidArgument);
			EXPECT_EQ(index->Search(zero.data(), 1, k, p, {}, labels.data(), dist.data()).code(),
					  StatusCode::kInvalidArgument);
		}
	}
}

// Filter holds a bitset that keeps about fraction of Big()'s rows.
struct Filter {
	std::vector<uint8_t> bits;
	std::vector<bool> allowed;
	BitsetView view() const { return BitsetView(bits.data(), bits.size() * 8); }
};

// MakeFilter filters out all of Big()'s labels except a random fraction.
Filter MakeFilter(const Data &d, double fraction, uint32_t seed) {
	std::mt19937 rng(seed);
	std::uniform_real_distribution<double> u(0, 1);
	Filter f;
	f.bits.assign(static_cast<size_t>(d.labels.back() / 8 + 1), 0);
	f.allowed.resize(d.n);
	for (size_t i = 0; i < d.n; i++) {
		f.allowed[i] = u(rng) < fraction;
		if (!f.allowed[i])
			f.bits[d.labels[i] >> 3] |= static_cast<uint8_t>(1u << (d.labels[i] & 7));
	}
	return f;
}

// CheckFiltered searches index with a filter and returns recall@k; it checks
// that no filtered label comes back and k results always do.
double CheckFiltered(const Index &index, const Filter &f, size_t k, const SearchParams &p) {
	const Data &d = Big();
	const Data &q = BigQueries();
	std::vector<int64_t> labels(q.n * k);
	std::vector<float> dist(q.n * k);
	Status s = index.Search(q.x.data(), q.n, k, p, f.view(), labels.data(), dist.data());
	EXPECT_TRUE(s.ok()) << s.message();
	size_t allowed = static_cast<size_t>(std::count(f.allowed.begin(), f.allowed.end(), true));
	for (size_t i = 0; i < q.n * k; i++) {
		if (i % k < std::min(k, allowed))
			EXPECT_GE(labels[i], 0);
		if (labels[i] >= 0)
			EXPECT_FALSE(f.view().test(labels[i]));
	}
	auto truth = ExactTop(d, q.x.data(), q.n, k, Metric::kL2, &f.allowed);
	return Recall(d, q.x.data(), q.n, k, Metric::kL2, labels.data(), truth);
}

TEST(IvfIndex, FilteredSearch) {
	SearchParams p;
	p.nprobe = 10;
	for (double fraction : {0.01, 0.1, 0.5}) {
		Filter f = MakeFilter(Big(), fraction, 11);
		double r = CheckFiltered(BigFlat(), f, 10, p);
		std::printf("IVF_FLAT filter keeping %.0f%%: recall@10 = %.3f\n", fraction * 100, r);
		EXPECT_GE(r, 0.95);
	}
	Filter tiny = MakeFilter(Big(), 0.0004, 12);
	CheckFiltered(BigFlat(), tiny, 10, p);
}

TEST(IvfIndex, FilteredSearchPq) {
	auto index = Build(Big(), IndexKind::kIvfPq, Metric::kL2, 100, 8);
	SearchParams p;
	p.nprobe = 10;
	p.rerank = 5;
	for (double fraction : {0.01, 0.1, 0.5}) {
		Filter f = MakeFilter(Big(), fraction, 13);
		double r = CheckFiltered(*index, f, 10, p);
		std::printf("IVF_PQ pq_m 8 rerank 5 filter keeping %.0f%%: recall@10 = %.3f\n", fraction * 100, r);
	}
}

TEST(IvfIndex, IteratorDrainsAllowedOnce) {
	Data d = MakeClustered(4000, 32, 30, 7);
	Data q = MakeClustered(1, 32, 30, 8);
	auto index = Build(d, IndexKind::kIvfFlat, Metric::kL2, 40);
	std::vector<uint8_t> bits((d.labels.back() / 8) + 1, 0);
	std::set<int64_t> allowed;
	for (size_t i = 0; i < d.n; i++) {
		if (i % 2 == 0)
			bits[d.labels[i] >> 3] |= static_cast<uint8_t>(1u << (d.labels[i] & 7));
		else
			allowed.insert(d.labels[i]);
	}
	BitsetView view(bits.data(), bits.size() * 8);
	SearchParams p;
	p.nprobe = 4;
	size_t k = 10;
	std::vector<int64_t> labels(k);
	std::vector<float> dist(k);
	ASSERT_TRUE(index->Search(q.x.data(), 1, k, p, view, labels.data(), dist.data()).ok());
	auto it = index->CreateIterator(q.x.data(), p, view);
	ASSERT_TRUE(it.ok()) << it.status().message();
	std::vector<Neighbor> first;
	ASSERT_TRUE(it.value()->Next(k, &first).ok());
	ASSERT_EQ(first.size(), k);
	for (size_t j = 0; j < k; j++) {
		EXPECT_EQ(first[j].label, labels[j]);
		EXPECT_NEAR(first[j].distance, dist[j], 1e-3 * std::max(1.0f, dist[j]));
	}
	std::set<int64_t> seen;
	for (const Neighbor &n : first)
		seen.insert(n.label);
	for (;;) {
		std::vector<Neighbor> batch;
		ASSERT_TRUE(it.value()->Next(97, &batch).ok());
		if (batch.empty())
			break;
		for (const Neighbor &n : batch) {
			EXPECT_TRUE(allowed.count(n.label)) << n.label;
			EXPECT_TRUE(seen.insert(n.label).second) << "repeated " << n.label;
		}
	}
	EXPECT_EQ(seen, allowed);
}

TEST(IvfIndex, LossyIteratorsReturnExactDistancesInOrder) {
	/* The SQL layer's ORDER BY takes the iterator's distances as they are:
	   for IVF_PQ and IVF_SQ8 they must be exact, and each batch sorted. */
	Data d = MakeClustered(4000, 32, 30, 23);
	Data q = MakeClustered(3, 32, 30, 24);
	for (IndexKind kind : {IndexKind::kIvfPq, IndexKind::kIvfSq8}) {
		for (Metric m : {Metric::kL2, Metric::kCosine}) {
			auto index = Build(d, kind, m, 40, 8);
			SearchParams p;
			p.nprobe = 4;
			Filter f = MakeFilter(d, 0.5, 25);
			for (size_t qi = 0; qi < q.n; qi++) {
				const float *query = q.x.data() + qi * q.dim;
				auto it = index->CreateIterator(query, p, f.view());
				ASSERT_TRUE(it.ok()) << it.status().message();
				size_t returned = 0, batches = 0;
				for (;;) {
					std::vector<Neighbor> batch;
					ASSERT_TRUE(it.value()->Next(50, &batch).ok());
					if (batch.empty())
						break;
					batches++;
					for (size_t j = 0; j < batch.size(); j++) {
						size_t row = static_cast<size_t>((batch[j].label - 7) / 3);
						float exact = ExactScore(m, query, d.x.data() + row * d.dim, d.dim);
						ASSERT_NEAR(batch[j].distance, exact, 1e-4f * std::max(1.0f, std::fabs(exact)))
							<< static_cast<int>(kind) << " batch " << batches;
						if (j > 0)
							ASSERT_LE(batch[j - 1].distance, batch[j].distance) << "batch " << batches;
					}
					returned += batch.size();
				}
				EXPECT_EQ(returned, static_cast<size_t>(std::count(f.allowed.begin(), f.allowed.end(), true)));
				EXPECT_GT(batches, 1u);
			}
		}
	}
}

TEST(IvfIndex, RangeSearchMatchesExactWhenAllListsProbed) {
	Data d = MakeClustered(3000, 16, 20, 9);
	Data q = MakeClustered(1, 16, 20, 10);
	auto index = Build(d, IndexKind::kIvfSq8, Metric::kL2, 20);
	SearchParams p;
	p.nprobe = 20;
	auto truth = ExactTop(d, q.x.data(), 1, 25, Metric::kL2);
	float radius = truth[0].back();
	std::vector<Neighbor> out;
	ASSERT_TRUE(index->RangeSearch(q.x.data(), radius, p, {}, &out).ok());
	ASSERT_EQ(out.size(), 25u);
	for (size_t i = 0; i < out.size(); i++) {
		EXPECT_LE(out[i].distance, radius);
		if (i > 0)
			EXPECT_LE(out[i - 1].distance, out[i].distance);
	}
}

// RoundTrip serializes index and reads it back.
std::unique_ptr<Index> RoundTrip(const Index &index, std::string *bytes) {
	StringWriter w;
	Status s = index.Serialize(w);
	EXPECT_TRUE(s.ok()) << s.message();
	*bytes = w.bytes();
	MemoryReader r(bytes->data(), bytes->size());
	auto loaded = DeserializeIndex(r);
	EXPECT_TRUE(loaded.ok()) << loaded.status().message();
	return loaded.ok() ? std::move(loaded).value() : nullptr;
}

// A bit length that is not a whole number of bytes (PostgreSQL bit(52)):
// FAISS works on 7 whole bytes whose 4 padding bits are zero, so probing
// every list gives exactly the brute-force Hamming order, also after a
// serialize round trip (views: test_index_view).
TEST(IvfIndex, BinIvfOddBitLength) {
	const int dim = 52;
	const size_t n = 600, nq = 20, k = 5, bytes = 7;
	std::mt19937 rng(52);
	std::vector<uint8_t> x(n * bytes), q(nq * bytes);
	for (std::vector<uint8_t> *v : {&x, &q})
		for (size_t i = 0; i < v->size(); i++)
			(*v)[i] = static_cast<uint8_t>(rng()) & (i % bytes == bytes - 1 ? 0xF0 : 0xFF);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	IndexConfig c;
	c.kind = IndexKind::kBinIvf;
	c.metric = Metric::kHamming;
	c.dim = dim;
	c.nlist = 8;
	auto idx = CreateIndex(c);
	ASSERT_TRUE(idx.ok()) << idx.status().message();
	ASSERT_TRUE(idx.value()->Build(x.data(), labels.data(), n).ok());
	std::string buf;
	std::unique_ptr<Index> loaded = RoundTrip(*idx.value(), &buf);
	ASSERT_NE(loaded, nullptr);
	SearchParams p;
	p.nprobe = 8;
	for (const Index *index : {idx.value().get(), loaded.get()}) {
		std::vector<int64_t> out(nq * k);
		std::vector<float> dist(nq * k);
		ASSERT_TRUE(index->Search(q.data(), nq, k, p, {}, out.data(), dist.data()).ok());
		for (size_t i = 0; i < nq; i++) {
			std::vector<uint64_t> all(n);
			for (size_t r = 0; r < n; r++)
				all[r] = HammingBits(q.data() + i * bytes, x.data() + r * bytes, bytes);
			std::sort(all.begin(), all.end());
			for (size_t j = 0; j < k; j++) {
				ASSERT_GE(out[i * k + j], 0);
				EXPECT_EQ(dist[i * k + j], static_cast<float>(all[j]));
				EXPECT_EQ(dist[i * k + j],
						  static_cast<float>(HammingBits(q.data() + i * bytes, x.data() + out[i * k + j] * bytes, bytes)));
			}
		}
	}
}

TEST(IvfIndex, SerializeRoundTripEveryKind) {
	Data d = MakeClustered(2000, 16, 10, 15);
	Data q = MakeClustered(20, 16, 10, 16);
	for (IndexKind kind : {IndexKind::kIvfFlat, IndexKind::kIvfPq, IndexKind::kIvfSq8}) {
		auto index = Build(d, kind, Metric::kCosine, 16, 4);
		std::string bytes;
		auto loaded = RoundTrip(*index, &bytes);
		ASSERT_NE(loaded, nullptr);
		EXPECT_EQ(loaded->count(), index->count());
		EXPECT_EQ(loaded->kind(), kind);
		SearchParams p;
		p.nprobe = 3;
		p.rerank = 2;
		size_t k = 10;
		std::vector<int64_t> l1(q.n * k), l2(q.n * k);
		std::vector<float> d1(q.n * k), d2(q.n * k);
		ASSERT_TRUE(index->Search(q.x.data(), q.n, k, p, {}, l1.data(), d1.data()).ok());
		ASSERT_TRUE(loaded->Search(q.x.data(), q.n, k, p, {}, l2.data(), d2.data()).ok());
		EXPECT_EQ(l1, l2);
		EXPECT_EQ(d1, d2);
	}
	std::vector<uint8_t> x = MakeBinary(500, 64, 17);
	std::vector<int64_t> labels(500);
	for (size_t i = 0; i < labels.size(); i++)
		labels[i] = static_cast<int64_t>(i);
	IndexConfig c;
	c.kind = IndexKind::kBinIvf;
	c.metric = Metric::kHamming;
	c.dim = 64;
	c.nlist = 8;
	auto bin = CreateIndex(c);
	ASSERT_TRUE(bin.ok());
	ASSERT_TRUE(bin.value()->Build(x.data(), labels.data(), 500).ok());
	std::string bytes;
	auto loaded = RoundTrip(*bin.value(), &bytes);
	ASSERT_NE(loaded, nullptr);
	SearchParams p;
	p.nprobe = 2;
	std::vector<int64_t> l1(50), l2(50);
	std::vector<float> d1(50), d2(50);
	ASSERT_TRUE(bin.value()->Search(x.data(), 5, 10, p, {}, l1.data(), d1.data()).ok());
	ASSERT_TRUE(loaded->Search(x.data(), 5, 10, p, {}, l2.data(), d2.data()).ok());
	EXPECT_EQ(l1, l2);
	EXPECT_EQ(d1, d2);
}

TEST(IvfIndex, SerializeUntrainedAndEmpty) {
	IndexConfig c;
	c.kind = IndexKind::kIvfSq8;
	c.dim = 8;
	c.nlist = 4;
	auto idx = CreateIndex(c);
	ASSERT_TRUE(idx.ok());
	std::string bytes;
	auto untrained = RoundTrip(*idx.value(), &bytes);
	ASSERT_NE(untrained, nullptr);
	EXPECT_TRUE(untrained->NeedsTraining());
	Data d = MakeClustered(100, 8, 4, 22);
	ASSERT_TRUE(untrained->Train(d.x.data(), d.n).ok());
	auto empty = RoundTrip(*untrained, &bytes);
	ASSERT_NE(empty, nullptr);
	EXPECT_FALSE(empty->NeedsTraining());
	EXPECT_EQ(empty->count(), 0);
	ASSERT_TRUE(empty->Add(d.x.data(), d.labels.data(), d.n).ok());
	SearchParams p;
	int64_t label = -1;
	float dist = 0;
	ASSERT_TRUE(empty->Search(d.x.data(), 1, 1, p, {}, &label, &dist).ok());
	EXPECT_EQ(label, d.labels[0]);
}

TEST(IvfIndex, TruncatedAndCorruptStreamsFail) {
	Data d = MakeClustered(300, 8, 4, 18);
	for (IndexKind kind : {IndexKind::kIvfFlat, IndexKind::kIvfPq}) {
		IndexConfig c;
		c.kind = kind;
		c.dim = 8;
		c.nlist = 4;
		c.pq_m = 2;
		c.nbits = 4;
		auto idx = CreateIndex(c);
		ASSERT_TRUE(idx.ok()) << idx.status().message();
		ASSERT_TRUE(idx.value()->Build(d.x.data(), d.labels.data(), d.n).ok());
		StringWriter w;
		ASSERT_TRUE(idx.value()->Serialize(w).ok());
		const std::string &bytes = w.bytes();
		for (size_t len = 0; len < bytes.size(); len++) {
			MemoryReader r(bytes.data(), len);
			auto loaded = DeserializeIndex(r);
			ASSERT_FALSE(loaded.ok()) << "truncated at " << len;
			EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt) << len << ": " << loaded.status().message();
		}
		std::mt19937 rng(19);
		for (int trial = 0; trial < 2000; trial++) {
			std::string bad = bytes;
			size_t at = sizeof(IndexHeader) + rng() % (bad.size() - sizeof(IndexHeader));
			bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + rng() % 255));
			MemoryReader r(bad.data(), bad.size());
			auto loaded = DeserializeIndex(r);
			EXPECT_FALSE(loaded.ok()) << "flip at " << at;
		}
		for (int trial = 0; trial < 500; trial++) {
			std::string bad = bytes;
			size_t at = rng() % sizeof(IndexHeader);
			bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + rng() % 255));
			MemoryReader r(bad.data(), bad.size());
			(void) DeserializeIndex(r);
		}
	}
}

TEST(IvfIndex, InvalidParametersAreErrors) {
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.dim = 0;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.dim = 16001;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kTooManyDimensions);
	c.kind = IndexKind::kIvfPq;
	c.dim = 30;
	c.pq_m = 8;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.kind = IndexKind::kBinIvf;
	c.metric = Metric::kHamming;
	c.dim = 12; /* any bit length: BinIvfOddBitLength */
	EXPECT_TRUE(CreateIndex(c).ok());

	Data d = MakeClustered(50, 8, 2, 20);
	c = IndexConfig();
	c.kind = IndexKind::kIvfFlat;
	c.dim = 8;
	c.nlist = 100;
	auto idx = CreateIndex(c);
	ASSERT_TRUE(idx.ok());
	Index &index = *idx.value();
	EXPECT_TRUE(index.NeedsTraining());
	EXPECT_EQ(index.Add(d.x.data(), d.labels.data(), d.n).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index.Train(d.x.data(), d.n).code(), StatusCode::kInvalidArgument);
	c.kind = IndexKind::kIvfPq;
	c.nlist = 2;
	c.pq_m = 2;
	auto pq = CreateIndex(c);
	ASSERT_TRUE(pq.ok());
	EXPECT_EQ(pq.value()->Train(d.x.data(), d.n).code(), StatusCode::kInvalidArgument);

	c.kind = IndexKind::kIvfFlat;
	c.nlist = 4;
	auto ok = CreateIndex(c);
	ASSERT_TRUE(ok.ok());
	ASSERT_TRUE(ok.value()->Build(d.x.data(), d.labels.data(), d.n).ok());
	EXPECT_EQ(ok.value()->Add(d.x.data(), d.labels.data(), 1).code(), StatusCode::kInvalidArgument);
	int64_t negative = -5;
	EXPECT_EQ(ok.value()->Add(d.x.data(), &negative, 1).code(), StatusCode::kInvalidArgument);
	std::vector<float> nan_row(8, std::numeric_limits<float>::quiet_NaN());
	int64_t fresh = 100000;
	EXPECT_EQ(ok.value()->Add(nan_row.data(), &fresh, 1).code(), StatusCode::kInvalidArgument);
	SearchParams p;
	int64_t label;
	float dist;
	EXPECT_EQ(ok.value()->Search(d.x.data(), 1, 0, p, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(ok.value()->Search(nan_row.data(), 1, 1, p, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
	p.nprobe = 0;
	EXPECT_EQ(ok.value()->Search(d.x.data(), 1, 1, p, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(ok.value()->count(), static_cast<int64_t>(d.n));
}

// StopNow is a stop callback that always asks to stop.
bool StopNow(void *) noexcept {
	return true;
}

TEST(IvfIndex, CancelledSearch) {
	SearchParams p;
	p.should_stop = StopNow;
	const Data &q = BigQueries();
	std::vector<int64_t> labels(10);
	std::vector<float> dist(10);
	EXPECT_EQ(BigFlat().Search(q.x.data(), 1, 10, p, {}, labels.data(), dist.data()).code(), StatusCode::kCancelled);
	auto it = BigFlat().CreateIterator(q.x.data(), p, {});
	ASSERT_TRUE(it.ok());
	std::vector<Neighbor> out;
	EXPECT_EQ(it.value()->Next(10, &out).code(), StatusCode::kCancelled);
}

TEST(IvfIndex, ConcurrentSearchesMatchSerial) {
	const Index &index = BigFlat();
	const Data &q = BigQueries();
	size_t k = 10;
	SearchParams p;
	p.nprobe = 8;
	Filter f = MakeFilter(Big(), 0.3, 21);
	std::vector<int64_t> serial(q.n * k);
	std::vector<float> sd(q.n * k);
	ASSERT_TRUE(index.Search(q.x.data(), q.n, k, p, f.view(), serial.data(), sd.data()).ok());
	std::vector<std::vector<int64_t>> got(4, std::vector<int64_t>(q.n * k));
	std::vector<std::thread> threads;
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] {
			std::vector<float> dist(k);
			for (size_t i = 0; i < q.n; i++)
				(void) index.Search(q.x.data() + i * q.dim, 1, k, p, f.view(), got[t].data() + i * k, dist.data());
		});
	for (auto &t : threads)
		t.join();
	for (int t = 0; t < 4; t++)
		EXPECT_EQ(got[t], serial);
}

}  // namespace
}  // namespace vecdb::knowhere
