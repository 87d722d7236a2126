// test_index_hnsw.cpp tests the HNSW index kind: recall on clustered data,
// filtered search, the iterator, range search, serialization and its
// corruption checks, parameter errors, concurrency and cancellation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <thread>
#include <vector>

#include "knowhere/distance.hpp"
#include "knowhere/hnsw_index.hpp"
#include "knowhere/index.hpp"
#include "knowhere/index_kinds.hpp"

namespace vecdb::knowhere {

namespace {

// Data holds n rows of dim floats with labels 0..n-1.
struct Data {
	size_t n = 0;
	int dim = 0;
	std::vector<float> x;
	std::vector<int64_t> labels;
};

// MakeClustered draws n rows around n/per_cluster+1 Gaussian centres with
// unit-normal coordinates, each row spread per axis around its centre.
Data MakeClustered(size_t n, int dim, uint32_t seed, float spread = 0.25f, size_t per_cluster = 200) {
	std::mt19937 rng(seed);
	std::normal_distribution<float> normal(0.0f, 1.0f);
	size_t clusters = n / per_cluster + 1;
	std::vector<float> centres(clusters * dim);
	for (float &c : centres)
		c = normal(rng);
	Data d;
	d.n = n;
	d.dim = dim;
	d.x.resize(n * dim);
	d.labels.resize(n);
	std::uniform_int_distribution<size_t> pick(0, clusters - 1);
	for (size_t i = 0; i < n; i++) {
		size_t c = pick(rng);
		for (int j = 0; j < dim; j++)
			d.x[i * dim + j] = centres[c * dim + j] + spread * normal(rng);
		d.labels[i] = static_cast<int64_t>(i);
	}
	return d;
}

// Split moves the last nq rows of all into a query set and returns it.
Data Split(Data *all, size_t nq) {
	Data q;
	q.n = nq;
	q.dim = all->dim;
	q.x.assign(all->x.end() - nq * all->dim, all->x.end());
	all->n -= nq;
	all->x.resize(all->n * all->dim);
	all->labels.resize(all->n);
	return q;
}

// Score returns the index's score of a and b for metric (test-side reference).
float Score(Metric m, const float *a, const float *b, int dim) {
	switch (m) {
		case Metric::kInnerProduct:
			return -InnerProductF32(a, b, dim);
		case Metric::kCosine:
			return static_cast<float>(CosineDistanceF32(a, b, dim));
		case Metric::kL1:
			return L1F32(a, b, dim);
		default:
			return L2SqrF32(a, b, dim);
	}
}

// Bitset is an owned filter: a set bit filters a label out.
struct Bitset {
	std::vector<uint8_t> bits;
	size_t n;
	BitsetView view() const { return BitsetView(bits.data(), n); }
	bool filtered(int64_t l) const { return (bits[l >> 3] >> (l & 7)) & 1; }
};

// MakeFilter allows about fraction of n labels, chosen at random.
Bitset MakeFilter(size_t n, double fraction, uint32_t seed) {
	std::mt19937 rng(seed);
	std::uniform_real_distribution<double> u(0, 1);
	Bitset b{std::vector<uint8_t>((n + 7) / 8, 0), n};
	for (size_t i = 0; i < n; i++)
		if (u(rng) >= fraction)
			b.bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
	return b;
}

// TrueKnn returns the exact k nearest allowed labels of each query.
std::vector<std::vector<int64_t>> TrueKnn(const Data &d, const Data &q, size_t k, Metric m,
										  const Bitset *filter = nullptr) {
	std::vector<std::vector<int64_t>> out(q.n);
	std::vector<std::pair<float, int64_t>> all;
	for (size_t qi = 0; qi < q.n; qi++) {
		all.clear();
		for (size_t i = 0; i < d.n; i++)
			if (filter == nullptr || !filter->filtered(d.labels[i]))
				all.emplace_back(Score(m, &q.x[qi * q.dim], &d.x[i * d.dim], d.dim), d.labels[i]);
		size_t kk = std::min(k, all.size());
		std::partial_sort(all.begin(), all.begin() + kk, all.end());
		for (size_t i = 0; i < kk; i++)
			out[qi].push_back(all[i].second);
	}
	return out;
}

// Recall returns the fraction of true neighbours found.
double Recall(const std::vector<std::vector<int64_t>> &truth, const std::vector<int64_t> &labels, size_t k) {
	size_t hit = 0, total = 0;
	for (size_t qi = 0; qi < truth.size(); qi++) {
		std::set<int64_t> t(truth[qi].begin(), truth[qi].end());
		for (size_t i = 0; i < k; i++)
			hit += t.count(labels[qi * k + i]);
		total += truth[qi].size();
	}
	return total == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(total);
}

// BuildIndex builds an HNSW index over d.
std::unique_ptr<Index> BuildIndex(const Data &d, Metric metric = Metric::kL2,
								  HnswBuildOptions opt = HnswBuildOptions(), int m = 16, int ef_c = 64) {
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.metric = metric;
	c.dim = d.dim;
	c.m = m;
	c.ef_construction = ef_c;
	auto r = NewHnswIndexWithOptions(c, opt);
	EXPECT_TRUE(r.ok()) << r.status().message();
	std::unique_ptr<Index> idx = std::move(r).value();
	Status s = idx->Build(d.x.data(), d.labels.data(), d.n);
	EXPECT_TRUE(s.ok()) << s.message();
	return idx;
}

// SearchAll runs every query and returns the labels (k per query).
std::vector<int64_t> SearchAll(const Index &idx, const Data &q, size_t k, SearchParams p, BitsetView f = {},
							   std::vector<float> *dist = nullptr) {
	std::vector<int64_t> labels(q.n * k);
	std::vector<float> d(q.n * k);
	Status s = idx.Search(q.x.data(), q.n, k, p, f, labels.data(), d.data());
	EXPECT_TRUE(s.ok()) << s.message();
	if (dist)
		*dist = d;
	return labels;
}

// Shared builds the 20,000 x 64 clustered index once for the suite.
class HnswShared : public ::testing::Test {
protected:
	static void SetUpTestSuite() {
		/* Queries are fresh draws from the same clusters. */
		data_ = new Data(MakeClustered(20200, 64, 1, 1.0f, 2000));
		queries_ = new Data(Split(data_, 200));
		index_ = BuildIndex(*data_).release();
		truth_ = new std::vector<std::vector<int64_t>>(TrueKnn(*data_, *queries_, 10, Metric::kL2));
	}
	static void TearDownTestSuite() {
		delete index_;
		delete data_;
		delete queries_;
		delete truth_;
	}
	static Data *data_;
	static Data *queries_;
	static Index *index_;
	static std::vector<std::vector<int64_t>> *truth_;
};
Data *HnswShared::data_ = nullptr;
Data *HnswShared::queries_ = nullptr;
Index *HnswShared::index_ = nullptr;
std::vector<std::vector<int64_t>> *HnswShared::truth_ = nullptr;

TEST_F(HnswShared, RecallWithDefaults) {
	/* Overlapping clusters (spread 1.0, 2000 rows each): the floor 0.95 holds
	   from the default ef_search 40 up. */
	for (int ef : {40, 80, 160, 320}) {
		SearchParams p;
		p.ef_search = ef;
		double r = Recall(*truth_, SearchAll(*index_, *queries_, 10, p), 10);
		std::printf("hnsw 20000x64 m16 efc64 default ef=%d recall@10=%.4f\n", ef, r);
		EXPECT_GE(r, 0.95) << "ef " << ef;
	}
}

TEST_F(HnswShared, ResultsSortedAndDistancesExact) {
	SearchParams p;
	std::vector<float> dist;
	auto labels = SearchAll(*index_, *queries_, 10, p, {}, &dist);
	for (size_t qi = 0; qi < queries_->n; qi++)
		for (size_t i = 0; i < 10; i++) {
			ASSERT_GE(labels[qi * 10 + i], 0);
			float ref = L2SqrF32(&queries_->x[qi * 64], &data_->x[labels[qi * 10 + i] * 64], 64);
			EXPECT_NEAR(dist[qi * 10 + i], ref, 1e-3f * (1 + ref));
			if (i > 0)
				EXPECT_LE(dist[qi * 10 + i - 1], dist[qi * 10 + i]);
		}
}

TEST_F(HnswShared, FilteredSearch) {
	for (double frac : {0.01, 0.10, 0.50}) {
		Bitset f = MakeFilter(data_->n, frac, 7);
		auto truth = TrueKnn(*data_, *queries_, 10, Metric::kL2, &f);
		SearchParams p;
		auto labels = SearchAll(*index_, *queries_, 10, p, f.view());
		for (size_t qi = 0; qi < queries_->n; qi++)
			for (size_t i = 0; i < 10; i++) {
				int64_t l = labels[qi * 10 + i];
				ASSERT_GE(l, 0) << "fewer than k results at " << frac;
				ASSERT_FALSE(f.filtered(l)) << "filtered label returned at " << frac;
			}
		double r = Recall(truth, labels, 10);
		std::printf("hnsw filtered allowed=%.2f recall@10=%.4f\n", frac, r);
		EXPECT_GE(r, 0.95) << frac;
	}
}

TEST_F(HnswShared, FilteredGraphPathFillsK) {
	/* brute_force_ratio 0 forces the graph path even at 0.2% allowed. */
	Bitset f = MakeFilter(data_->n, 0.002, 9);
	SearchParams p;
	p.brute_force_ratio = 0.0;
	Data q = *queries_;
	q.n = 20;
	auto labels = SearchAll(*index_, q, 10, p, f.view());
	for (int64_t l : labels) {
		ASSERT_GE(l, 0);
		ASSERT_FALSE(f.filtered(l));
	}
}

TEST_F(HnswShared, IteratorFirstBatchAgreesWithSearch) {
	SearchParams p;
	auto labels = SearchAll(*index_, *queries_, 10, p);
	size_t same = 0;
	for (size_t qi = 0; qi < queries_->n; qi++) {
		auto it = index_->CreateIterator(&queries_->x[qi * 64], p, {});
		ASSERT_TRUE(it.ok());
		std::vector<Neighbor> out;
		ASSERT_TRUE(it.value()->Next(10, &out).ok());
		ASSERT_EQ(out.size(), 10u);
		std::set<int64_t> s(labels.begin() + qi * 10, labels.begin() + qi * 10 + 10);
		for (const Neighbor &nb : out)
			same += s.count(nb.label);
	}
	EXPECT_GE(static_cast<double>(same) / (queries_->n * 10), 0.95);
}

TEST_F(HnswShared, ConcurrentSearchesEqualSerial) {
	SearchParams p;
	p.ef_search = 64;
	Bitset f = MakeFilter(data_->n, 0.3, 3);
	auto serial = SearchAll(*index_, *queries_, 10, p, f.view());
	std::vector<std::vector<int64_t>> results(4);
	std::vector<std::thread> threads;
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] { results[t] = SearchAll(*index_, *queries_, 10, p, f.view()); });
	for (auto &t : threads)
		t.join();
	for (int t = 0; t < 4; t++)
		EXPECT_EQ(results[t], serial);
}

// StopAlways is a should_stop callback that always asks to stop.
bool StopAlways(void *) noexcept {
	return true;
}

// StopAfter stops once its counter reaches zero.
bool StopAfter(void *arg) noexcept {
	return --*static_cast<std::atomic<int> *>(arg) < 0;
}

TEST_F(HnswShared, Cancellation) {
	SearchParams p;
	p.ef_search = 500;
	p.should_stop = StopAlways;
	std::vector<int64_t> labels(10);
	std::vector<float> d(10);
	Status s = index_->Search(queries_->x.data(), 1, 10, p, {}, labels.data(), d.data());
	EXPECT_EQ(s.code(), StatusCode::kCancelled);
	Bitset f = MakeFilter(data_->n, 0.01, 5);
	s = index_->Search(queries_->x.data(), 1, 10, p, f.view(), labels.data(), d.data());
	EXPECT_EQ(s.code(), StatusCode::kCancelled);
	std::atomic<int> budget{3};
	p.should_stop = StopAfter;
	p.stop_arg = &budget;
	auto it = index_->CreateIterator(queries_->x.data(), p, {});
	ASSERT_TRUE(it.ok());
	std::vector<Neighbor> out;
	Status is = Status::Ok();
	for (int i = 0; i < 1000 && is.ok(); i++)
		is = it.value()->Next(100, &out);
	EXPECT_EQ(is.code(), StatusCode::kCancelled);
}

TEST(Hnsw, KeepPrunedVersusHnswlib) {
	/* Compares neighbour selection on overlapping clusters (spread 1.0, 2000
	   rows per cluster, 20,000 x 64), where the graphs differ: hnswlib's own,
	   pruned filling only, and pgvector's (filling plus up to 2m picks on
	   layer 0). Filling must not lose recall at ef 40. */
	Data d = MakeClustered(20200, 64, 1, 1.0f, 2000);
	Data q = Split(&d, 200);
	auto truth = TrueKnn(d, q, 10, Metric::kL2);
	struct Variant {
		const char *name;
		HnswBuildOptions opt;
	} variants[] = {{"hnswlib", {false, false}}, {"keep_pruned", {true, false}}, {"pgvector", {true, true}}};
	double at40[3];
	for (int vi = 0; vi < 3; vi++) {
		auto idx = BuildIndex(d, Metric::kL2, variants[vi].opt);
		for (int ef : {40, 80, 160, 320}) {
			SearchParams p;
			p.ef_search = ef;
			double r = Recall(truth, SearchAll(*idx, q, 10, p), 10);
			std::printf("hnsw 20000x64 overlapping %-11s ef=%d recall@10=%.4f\n", variants[vi].name, ef, r);
			if (ef == 40)
				at40[vi] = r;
		}
	}
	EXPECT_GE(at40[1], at40[0] - 0.005);
	EXPECT_GE(at40[2], at40[0] - 0.005);
}

TEST(Hnsw, LayerOneBeamSeedsBetterThanGreedyDescent) {
	/* two serial builds give one graph; searched with and without the
	   layer-1 beam (without it the search is hnswlib's searchKnn) */
	Data d = MakeClustered(10100, 32, 3, 1.0f, 1000);
	Data q = Split(&d, 100);
	auto truth = TrueKnn(d, q, 10, Metric::kL2);
	HnswBuildOptions greedy;
	greedy.layer1_beam = false;
	auto with_beam = BuildIndex(d);
	auto without = BuildIndex(d, Metric::kL2, greedy);
	StringWriter a, b;
	ASSERT_TRUE(with_beam->Serialize(a).ok());
	ASSERT_TRUE(without->Serialize(b).ok());
	ASSERT_EQ(a.bytes(), b.bytes());
	double sum_beam = 0, sum_greedy = 0;
	for (int ef : {10, 20, 40}) {
		SearchParams p;
		p.ef_search = ef;
		double rb = Recall(truth, SearchAll(*with_beam, q, 10, p), 10);
		double rg = Recall(truth, SearchAll(*without, q, 10, p), 10);
		std::printf("hnsw 10000x32 ef=%d recall@10 beam %.4f greedy %.4f\n", ef, rb, rg);
		sum_beam += rb;
		sum_greedy += rg;
	}
	EXPECT_GE(sum_beam, sum_greedy);
	EXPECT_GT(sum_greedy, 0.0);
}

// The layer-1 beam is ef_search wide unless SearchParams::layer1_width says
// otherwise (a 16-wide beam answers differently from the 80-wide default
// here), and a negative width is refused.
TEST(Hnsw, LayerOneBeamIsEfSearchWideUnlessSet) {
	SearchParams p;
	p.ef_search = 80;
	SearchParams w16 = p, full = p;
	w16.layer1_width = 16;
	full.layer1_width = 80;
	Data d = MakeClustered(8100, 32, 5, 4.0f, 400);
	Data q = Split(&d, 100);
	auto idx = BuildIndex(d);
	auto by_default = SearchAll(*idx, q, 10, p);
	ASSERT_NE(SearchAll(*idx, q, 10, w16), SearchAll(*idx, q, 10, full)) << "the widths must matter on this data";
	EXPECT_EQ(by_default, SearchAll(*idx, q, 10, full));
	SearchParams bad = p;
	bad.layer1_width = -1;
	EXPECT_EQ(ValidateSearch(bad, 10).code(), StatusCode::kInvalidArgument);
}

TEST(Hnsw, IteratorDrainsEveryAllowedLabelOnce) {
	Data d = MakeClustered(3000, 16, 11);
	auto idx = BuildIndex(d, Metric::kL2, HnswBuildOptions(), 8, 32);
	for (double frac : {1.0, 0.3, 0.02}) {
		Bitset f = MakeFilter(d.n, frac, 13);
		size_t allowed = 0;
		for (size_t i = 0; i < d.n; i++)
			allowed += !f.filtered(static_cast<int64_t>(i));
		SearchParams p;
		auto it = idx->CreateIterator(&d.x[5 * 16], p, f.view());
		ASSERT_TRUE(it.ok());
		std::set<int64_t> seen;
		std::vector<Neighbor> out;
		for (;;) {
			out.clear();
			ASSERT_TRUE(it.value()->Next(97, &out).ok());
			if (out.empty())
				break;
			for (const Neighbor &nb : out) {
				ASSERT_FALSE(f.filtered(nb.label));
				ASSERT_TRUE(seen.insert(nb.label).second) << "label repeated";
			}
		}
		EXPECT_EQ(seen.size(), allowed) << frac;
	}
}

// The filter is tested on labels: with labels that are not the element ids
// (a shuffled 3i + 7), the iterator and Search return only allowed labels,
// every allowed label once, and the iterator's first ten are the exact
// filtered top ten (the walk finds them here); with ids as labels the same
// filter, moved onto ids, gives the same answers.
TEST(Hnsw, FilterIsTestedOnLabelsNotIds) {
	Data d = MakeClustered(3000, 16, 11);
	Data scattered = d;
	for (size_t i = 0; i < d.n; i++)
		scattered.labels[i] = static_cast<int64_t>(3 * i + 7);
	std::shuffle(scattered.labels.begin(), scattered.labels.end(), std::mt19937(5));
	std::map<int64_t, size_t> position;
	for (size_t i = 0; i < d.n; i++)
		position[scattered.labels[i]] = i;
	auto dense = BuildIndex(d, Metric::kL2, HnswBuildOptions(), 8, 32);
	auto sparse = BuildIndex(scattered, Metric::kL2, HnswBuildOptions(), 8, 32);
	const float *q = &d.x[5 * 16];
	for (double frac : {0.5, 0.3, 0.1}) {
		Bitset by_id = MakeFilter(d.n, frac, 13);
		size_t nlabels = 3 * d.n + 8;
		Bitset by_label{std::vector<uint8_t>((nlabels + 7) / 8, 0xff), nlabels};
		size_t allowed = 0;
		for (size_t i = 0; i < d.n; i++)
			if (!by_id.filtered(static_cast<int64_t>(i))) {
				int64_t l = scattered.labels[i];
				by_label.bits[l >> 3] &= static_cast<uint8_t>(~(1u << (l & 7)));
				allowed++;
			}
		/* exact filtered top ten, as ids */
		std::vector<std::pair<float, size_t>> exact;
		for (size_t i = 0; i < d.n; i++)
			if (!by_id.filtered(static_cast<int64_t>(i))) {
				float dist = 0;
				for (int j = 0; j < 16; j++)
					dist += (d.x[i * 16 + j] - q[j]) * (d.x[i * 16 + j] - q[j]);
				exact.emplace_back(dist, i);
			}
		std::sort(exact.begin(), exact.end());
		SearchParams p;
		p.ef_search = 64;
		p.brute_force_ratio = 0.0;
		for (bool use_sparse : {false, true}) {
			const Index &idx = use_sparse ? *sparse : *dense;
			const Bitset &f = use_sparse ? by_label : by_id;
			auto id_of = [&](int64_t label) { return use_sparse ? position.at(label) : static_cast<size_t>(label); };
			auto it = idx.CreateIterator(q, p, f.view());
			ASSERT_TRUE(it.ok());
			std::set<int64_t> seen;
			std::vector<Neighbor> out, first;
			for (;;) {
				out.clear();
				ASSERT_TRUE(it.value()->Next(16, &out).ok());
				if (out.empty())
					break;
				for (const Neighbor &nb : out) {
					ASSERT_FALSE(f.filtered(nb.label)) << frac << " " << use_sparse;
					ASSERT_TRUE(seen.insert(nb.label).second) << "label repeated";
					if (first.size() < 10)
						first.push_back(nb);
				}
			}
			EXPECT_EQ(seen.size(), allowed) << frac << " " << use_sparse;
			ASSERT_EQ(first.size(), 10u);
			for (size_t r = 0; r < 10; r++)
				EXPECT_EQ(id_of(first[r].label), exact[r].second) << frac << " " << use_sparse << " rank " << r;
			std::vector<int64_t> labels(10);
			std::vector<float> dists(10);
			ASSERT_TRUE(idx.Search(q, 1, 10, p, f.view(), labels.data(), dists.data()).ok());
			for (size_t r = 0; r < 10; r++)
				EXPECT_EQ(id_of(labels[r]), exact[r].second) << frac << " " << use_sparse << " search rank " << r;
		}
	}
}

// Iterators hold a visited list from the graph's pool for their whole life:
// interleaved iterators and searches on one index must not disturb each
// other (each drains every label once, in the batches it yields alone).
TEST(Hnsw, InterleavedIteratorsAndSearchesAreIndependent) {
	Data d = MakeClustered(2000, 16, 17);
	auto idx = BuildIndex(d, Metric::kL2, HnswBuildOptions(), 8, 32);
	SearchParams p;
	p.ef_search = 20;
	auto drain_alone = [&](size_t row) {
		auto it = idx->CreateIterator(&d.x[row * 16], p, {});
		EXPECT_TRUE(it.ok());
		std::vector<std::vector<int64_t>> batches;
		std::vector<Neighbor> out;
		do {
			out.clear();
			EXPECT_TRUE(it.value()->Next(50, &out).ok());
			std::vector<int64_t> b;
			for (const Neighbor &nb : out)
				b.push_back(nb.label);
			batches.push_back(b);
		} while (!out.empty());
		return batches;
	};
	auto alone_a = drain_alone(3), alone_b = drain_alone(700);
	auto a = idx->CreateIterator(&d.x[3 * 16], p, {});
	auto b = idx->CreateIterator(&d.x[700 * 16], p, {});
	ASSERT_TRUE(a.ok() && b.ok());
	std::set<int64_t> seen_a, seen_b;
	std::vector<Neighbor> out;
	std::vector<int64_t> labels(10);
	std::vector<float> dist(10);
	for (size_t i = 0; i < std::max(alone_a.size(), alone_b.size()); i++) {
		for (auto [it, alone, seen] : {std::make_tuple(a.value().get(), &alone_a, &seen_a),
									   std::make_tuple(b.value().get(), &alone_b, &seen_b)}) {
			out.clear();
			ASSERT_TRUE(it->Next(50, &out).ok());
			std::vector<int64_t> got;
			for (const Neighbor &nb : out) {
				got.push_back(nb.label);
				ASSERT_TRUE(seen->insert(nb.label).second) << "label repeated";
			}
			if (i < alone->size())
				EXPECT_EQ(got, (*alone)[i]) << "batch " << i;
			else
				EXPECT_TRUE(got.empty());
			ASSERT_TRUE(idx->Search(&d.x[(i % d.n) * 16], 1, 10, p, {}, labels.data(), dist.data()).ok());
		}
	}
	EXPECT_EQ(seen_a.size(), d.n);
	EXPECT_EQ(seen_b.size(), d.n);
}

// WithCopies returns d with the last share of its rows replaced by exact
// copies of earlier rows: one group of 100 copies of one row (a group that
// fills whole neighbour lists with itself) and the rest in groups of 6.
Data WithCopies(Data d, double share, uint32_t seed, std::vector<std::vector<int64_t>> *groups) {
	std::mt19937 rng(seed);
	size_t copies = static_cast<size_t>(share * static_cast<double>(d.n));
	size_t originals = d.n - copies;
	std::uniform_int_distribution<size_t> pick(0, originals - 1);
	size_t at = originals;
	while (at < d.n) {
		size_t src = pick(rng);
		size_t size = std::min<size_t>(groups->empty() ? 100 : 6, d.n - at);
		std::vector<int64_t> g{static_cast<int64_t>(src)};
		for (size_t i = 0; i < size; i++, at++) {
			std::copy_n(&d.x[src * d.dim], d.dim, &d.x[at * d.dim]);
			g.push_back(static_cast<int64_t>(at));
		}
		groups->push_back(g);
	}
	return d;
}

// Exact duplicates (re-ingested rows, default embeddings) must neither hide
// other rows nor hide each other: recall by distance stays high at 0%, 10%
// and 50% copies, and a query equal to a row copied 6 or 100 times finds
// every copy of it (of 101 copies it found about 57 before copy rings).
TEST(Hnsw, DuplicateHeavyDataKeepsRecallAndEveryCopy) {
	for (double share : {0.0, 0.1, 0.5}) {
		Data all = MakeClustered(6100, 24, 29, 1.0f, 400);
		Data q = Split(&all, 100);
		std::vector<std::vector<int64_t>> groups;
		Data d = WithCopies(all, share, 31, &groups);
		auto idx = BuildIndex(d);
		SearchParams p;
		p.ef_search = 40;
		std::vector<float> dist;
		auto labels = SearchAll(*idx, q, 10, p, {}, &dist);
		/* recall by distance: copies tie, so any of them is a right answer */
		size_t hit = 0;
		for (size_t qi = 0; qi < q.n; qi++) {
			std::vector<float> exact;
			for (size_t i = 0; i < d.n; i++)
				exact.push_back(L2SqrF32(&q.x[qi * 24], &d.x[i * 24], 24));
			std::nth_element(exact.begin(), exact.begin() + 9, exact.end());
			for (size_t j = 0; j < 10; j++)
				hit += labels[qi * 10 + j] >= 0 && dist[qi * 10 + j] <= exact[9] * (1 + 1e-5f) + 1e-6f;
		}
		EXPECT_GE(static_cast<double>(hit) / (10.0 * q.n), 0.95) << "share " << share;
		/* group 0 holds 101 identical rows, the others 7 */
		for (size_t gi = 0; gi < std::min<size_t>(groups.size(), 30); gi++) {
			const std::vector<int64_t> &g = groups[gi];
			SearchParams pg;
			pg.ef_search = static_cast<int>(std::max<size_t>(40, g.size()));
			std::vector<int64_t> got(g.size());
			std::vector<float> gd(g.size());
			ASSERT_TRUE(idx->Search(&d.x[g[0] * 24], 1, g.size(), pg, {}, got.data(), gd.data()).ok());
			std::set<int64_t> want(g.begin(), g.end());
			size_t found = 0;
			for (int64_t l : got)
				found += want.count(l);
			EXPECT_EQ(found, want.size()) << "share " << share << ", group " << gi << " of " << g.size();
		}
	}
}

// Seven distinct, close rows among 2,000 rows made of 350 vectors repeated
// about six times each: a query near the seven finds all of them.
TEST(Hnsw, SmallGroupAmongDuplicatesStaysReachable) {
	for (uint32_t seed : {1u, 2u, 3u}) {
		std::mt19937 rng(seed);
		std::normal_distribution<float> normal(0.0f, 1.0f);
		const int dim = 32;
		Data d;
		d.dim = dim;
		std::vector<float> centre(dim), others(350 * dim);
		for (float &c : centre)
			c = normal(rng);
		for (float &o : others)
			o = normal(rng);
		for (size_t i = 0; i < 7; i++)
			for (int j = 0; j < dim; j++)
				d.x.push_back(centre[j] + 0.01f * normal(rng));
		for (size_t i = 0; i < 2000; i++)
			d.x.insert(d.x.end(), &others[(i % 350) * dim], &others[(i % 350) * dim] + dim);
		d.n = d.x.size() / dim;
		/* the seven go in at random places among the copies */
		std::vector<size_t> order(d.n);
		for (size_t i = 0; i < d.n; i++)
			order[i] = i;
		std::shuffle(order.begin(), order.end(), rng);
		std::vector<float> shuffled(d.x.size());
		for (size_t i = 0; i < d.n; i++)
			std::copy_n(&d.x[order[i] * dim], dim, &shuffled[i * dim]);
		d.x = shuffled;
		for (size_t i = 0; i < d.n; i++)
			d.labels.push_back(static_cast<int64_t>(order[i]));
		auto idx = BuildIndex(d);
		std::vector<float> query(dim);
		for (int j = 0; j < dim; j++)
			query[j] = centre[j] + 0.005f * normal(rng);
		for (int ef : {10, 40}) {
			SearchParams p;
			p.ef_search = ef;
			std::vector<int64_t> got(7);
			std::vector<float> gd(7);
			ASSERT_TRUE(idx->Search(query.data(), 1, 7, p, {}, got.data(), gd.data()).ok());
			std::sort(got.begin(), got.end());
			EXPECT_EQ(got, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6})) << "seed " << seed << ", ef " << ef;
		}
	}
}

// WithOneRowCopied returns d with `copies` rows, the last ones or rows at
// random places, replaced by copies of the first of them; *group gets their
// labels in increasing order.
Data WithOneRowCopied(Data d, size_t copies, bool at_end, uint32_t seed, std::vector<int64_t> *group) {
	std::mt19937 rng(seed);
	std::vector<size_t> rows(d.n);
	for (size_t i = 0; i < d.n; i++)
		rows[i] = i;
	if (!at_end)
		std::shuffle(rows.begin(), rows.end(), rng);
	rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(copies));
	std::sort(rows.begin(), rows.end());
	for (size_t r : rows) {
		std::copy_n(&d.x[rows[0] * d.dim], d.dim, &d.x[r * d.dim]);
		group->push_back(static_cast<int64_t>(r));
	}
	return d;
}

// CopiesFound returns how many labels of group a search with k = ef = the
// allowed copies finds for their own vector, and fails on a filtered one.
size_t CopiesFound(const Index &idx, const Data &d, const std::vector<int64_t> &group, const Bitset *f) {
	std::set<int64_t> want;
	for (int64_t l : group)
		if (f == nullptr || !f->filtered(l))
			want.insert(l);
	SearchParams p;
	p.ef_search = static_cast<int>(want.size());
	std::vector<int64_t> got(want.size());
	std::vector<float> dist(want.size());
	BitsetView view = f == nullptr ? BitsetView() : f->view();
	EXPECT_TRUE(idx.Search(&d.x[group[0] * d.dim], 1, want.size(), p, view, got.data(), dist.data()).ok());
	size_t found = 0;
	for (int64_t l : got) {
		EXPECT_TRUE(f == nullptr || l < 0 || !f->filtered(l)) << l;
		found += want.count(l);
	}
	return found;
}

// CopiesIterated drains an iterator over the copies' vector until it yields
// a row at a positive distance, and returns how many distinct labels of
// group it yielded (each at most once).
size_t CopiesIterated(const Index &idx, const Data &d, const std::vector<int64_t> &group, const Bitset *f) {
	SearchParams p;
	p.ef_search = 40;
	auto it = idx.CreateIterator(&d.x[group[0] * d.dim], p, f == nullptr ? BitsetView() : f->view());
	EXPECT_TRUE(it.ok());
	std::set<int64_t> want(group.begin(), group.end()), seen;
	std::vector<Neighbor> out;
	for (bool more = true; more;) {
		out.clear();
		EXPECT_TRUE(it.value()->Next(50, &out).ok());
		more = !out.empty();
		for (const Neighbor &nb : out) {
			EXPECT_TRUE(seen.insert(nb.label).second) << "label repeated";
			EXPECT_TRUE(f == nullptr || !f->filtered(nb.label));
			more = more && nb.distance == 0.0f;
		}
	}
	size_t found = 0;
	for (int64_t l : seen)
		found += want.count(l);
	return found;
}

// A query equal to a row copied 101 or 1,000 times (the last rows or rows
// anywhere) finds every copy with k = ef_search = the copies, also when a
// filter (deletes) hides every other copy, and through the iterator; so do
// the deserialized index and a parallel build.
TEST(Hnsw, EveryCopyOfAHeavilyCopiedRowIsFound) {
	for (size_t copies : {101, 1000}) {
		for (int layout = 0; layout < 4; layout++) {
			int threads = 1 + layout / 2;
			bool at_end = layout % 2 == 0;
			std::vector<int64_t> group;
			Data d = WithOneRowCopied(MakeClustered(6000, 24, 61, 1.0f, 400), copies, at_end, 67, &group);
			IndexConfig c;
			c.kind = IndexKind::kHnsw;
			c.dim = d.dim;
			c.threads = threads;
			auto made = CreateIndex(c);
			ASSERT_TRUE(made.ok());
			auto idx = std::move(made).value();
			ASSERT_TRUE(idx->Build(d.x.data(), d.labels.data(), d.n).ok());
			Bitset half{std::vector<uint8_t>((d.n + 7) / 8, 0), d.n};
			for (size_t i = 0; i < group.size(); i += 2)
				half.bits[group[i] >> 3] |= static_cast<uint8_t>(1u << (group[i] & 7));
			std::string at = std::to_string(copies) + (at_end ? " copies last, " : " copies anywhere, ") +
				std::to_string(threads) + " threads";
			EXPECT_EQ(CopiesFound(*idx, d, group, nullptr), copies) << at;
			EXPECT_EQ(CopiesFound(*idx, d, group, &half), copies / 2) << at;
			EXPECT_EQ(CopiesIterated(*idx, d, group, nullptr), copies) << at;
			EXPECT_EQ(CopiesIterated(*idx, d, group, &half), copies / 2) << at;
			StringWriter w;
			ASSERT_TRUE(idx->Serialize(w).ok());
			MemoryReader r(w.bytes().data(), w.bytes().size());
			auto loaded = DeserializeIndex(r);
			ASSERT_TRUE(loaded.ok());
			EXPECT_EQ(CopiesFound(*loaded.value(), d, group, &half), copies / 2) << at;
		}
	}
}

TEST(Hnsw, MetricsRecall) {
	Data d = MakeClustered(4050, 24, 21);
	Data q = Split(&d, 50);
	for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
		auto idx = BuildIndex(d, m);
		SearchParams p;
		p.ef_search = 100;
		std::vector<float> dist;
		auto labels = SearchAll(*idx, q, 10, p, {}, &dist);
		double r = Recall(TrueKnn(d, q, 10, m), labels, 10);
		EXPECT_GE(r, 0.9) << static_cast<int>(m);
		float ref = Score(m, q.x.data(), &d.x[labels[0] * 24], 24);
		EXPECT_NEAR(dist[0], ref, 1e-3f * (1 + std::fabs(ref))) << static_cast<int>(m);
	}
}

TEST(Hnsw, RangeSearchIsExact) {
	Data d = MakeClustered(2000, 8, 31);
	auto idx = BuildIndex(d);
	Bitset f = MakeFilter(d.n, 0.5, 2);
	std::vector<Neighbor> out;
	SearchParams p;
	ASSERT_TRUE(idx->RangeSearch(d.x.data(), 0.5f, p, f.view(), &out).ok());
	size_t expect = 0;
	for (size_t i = 0; i < d.n; i++)
		expect += !f.filtered(static_cast<int64_t>(i)) && L2SqrF32(d.x.data(), &d.x[i * 8], 8) <= 0.5f;
	EXPECT_EQ(out.size(), expect);
	for (size_t i = 1; i < out.size(); i++)
		EXPECT_LE(out[i - 1].distance, out[i].distance);
}

TEST(Hnsw, SerializeRoundTrip) {
	Data d = MakeClustered(3000, 16, 41);
	auto idx = BuildIndex(d, Metric::kCosine);
	StringWriter w;
	ASSERT_TRUE(idx->Serialize(w).ok());
	MemoryReader r(w.bytes().data(), w.bytes().size());
	auto loaded = DeserializeIndex(r);
	ASSERT_TRUE(loaded.ok()) << loaded.status().message();
	EXPECT_EQ(r.remaining(), 0u);
	Index &l = *loaded.value();
	EXPECT_EQ(l.kind(), IndexKind::kHnsw);
	EXPECT_EQ(l.metric(), Metric::kCosine);
	EXPECT_EQ(l.count(), 3000);
	Data q = d;
	q.n = 100;
	SearchParams p;
	std::vector<float> d1, d2;
	Bitset f = MakeFilter(d.n, 0.2, 4);
	EXPECT_EQ(SearchAll(*idx, q, 10, p, {}, &d1), SearchAll(l, q, 10, p, {}, &d2));
	EXPECT_EQ(d1, d2);
	EXPECT_EQ(SearchAll(*idx, q, 10, p, f.view()), SearchAll(l, q, 10, p, f.view()));
	StringWriter w2;
	ASSERT_TRUE(l.Serialize(w2).ok());
	EXPECT_EQ(w.bytes(), w2.bytes());
	/* The loaded index accepts more rows. */
	int64_t label = 100000;
	EXPECT_TRUE(l.Add(d.x.data(), &label, 1).ok());
}

TEST(Hnsw, CorruptStreamsFail) {
	Data d = MakeClustered(150, 8, 51);
	auto idx = BuildIndex(d, Metric::kL2, HnswBuildOptions(), 4, 16);
	StringWriter w;
	ASSERT_TRUE(idx->Serialize(w).ok());
	const std::string &bytes = w.bytes();
	for (size_t len = 0; len < bytes.size(); len++) {
		MemoryReader r(bytes.data(), len);
		auto res = DeserializeIndex(r);
		ASSERT_FALSE(res.ok()) << "truncated at " << len;
		ASSERT_EQ(res.status().code(), StatusCode::kCorrupt) << len;
	}
	std::mt19937 rng(5);
	for (int trial = 0; trial < 3000; trial++) {
		std::string b = bytes;
		int flips = 1 + trial % 3;
		for (int i = 0; i < flips; i++)
			b[rng() % b.size()] ^= static_cast<char>(1u << (rng() % 8));
		MemoryReader r(b.data(), b.size());
		auto res = DeserializeIndex(r);
		EXPECT_FALSE(res.ok()) << "flip trial " << trial;
	}
	/* A huge element count in an otherwise valid header must not allocate it. */
	std::string b = bytes;
	int64_t huge = int64_t(1) << 40;
	std::memcpy(&b[24], &huge, sizeof(huge));
	MemoryReader r(b.data(), b.size());
	EXPECT_FALSE(DeserializeIndex(r).ok());
}

// Reseal recomputes the trailer's checksum (the engine's Checksum over
// everything before the 24-byte trailer), so tests can reach the structural
// checks behind it.
void Reseal(std::string *b) {
	size_t body = b->size() - sizeof(IndexTrailer);
	uint64_t h = ChecksumOf(b->data(), body);
	std::memcpy(&(*b)[body + offsetof(IndexTrailer, checksum)], &h, 8);
}

TEST(Hnsw, StructuralChecksBehindChecksum) {
	Data d = MakeClustered(150, 8, 51);
	auto idx = BuildIndex(d, Metric::kL2, HnswBuildOptions(), 4, 16);
	StringWriter w;
	ASSERT_TRUE(idx->Serialize(w).ok());
	std::string ok = w.bytes();
	Reseal(&ok);
	ASSERT_EQ(ok, w.bytes()) << "Reseal must reproduce the writer's checksum";
	/* Sections (serialize.hpp): header 32, meta (88 bytes) at 64, then the
	   level-0 block (per element at m 4, dim 8: count 4, 8 links 32, vector
	   32, label 8), labels (8 each), levels (4 each), each 64-aligned. */
	auto align = [](size_t x) { return (x + 63) / 64 * 64; };
	const size_t kPer = 4 + 32 + 32 + 8, kCount0 = align(64 + 88), kFirstId = kCount0 + 4;
	const size_t kLevel0 = align(align(kCount0 + 150 * kPer) + 150 * 8);
	struct Patch {
		size_t offset;
		uint32_t value;
	} patches[] = {{kLevel0, 1000}, {kCount0, 1000}, {kFirstId, 150}, {kFirstId, 0}, {kFirstId, 0xffffffffu}};
	for (const Patch &pt : patches) {
		std::string b = w.bytes();
		std::memcpy(&b[pt.offset], &pt.value, 4);
		Reseal(&b);
		MemoryReader r(b.data(), b.size());
		auto res = DeserializeIndex(r);
		EXPECT_EQ(res.status().code(), StatusCode::kCorrupt) << pt.offset << " " << pt.value;
	}
	/* Random flips with a valid checksum: errors or a usable index, never a crash. */
	std::mt19937 rng(8);
	size_t loaded = 0;
	for (int trial = 0; trial < 3000; trial++) {
		std::string b = w.bytes();
		size_t pos = 32 + rng() % (b.size() - 32 - sizeof(IndexTrailer));
		b[pos] ^= static_cast<char>(1u << (rng() % 8));
		Reseal(&b);
		MemoryReader r(b.data(), b.size());
		auto res = DeserializeIndex(r);
		if (!res.ok())
			continue;
		loaded++;
		std::vector<int64_t> labels(10);
		std::vector<float> dist(10);
		SearchParams p;
		EXPECT_TRUE(res.value()->Search(d.x.data(), 1, 10, p, {}, labels.data(), dist.data()).ok());
		auto it = res.value()->CreateIterator(d.x.data(), p, {});
		ASSERT_TRUE(it.ok());
		std::vector<Neighbor> out;
		while (it.value()->Next(64, &out).ok() && out.size() < 1000 && !out.empty() && out.size() % 64 == 0) {
		}
	}
	std::printf("flips that still loaded (vector bits, seed): %zu of 3000\n", loaded);
}

TEST(Hnsw, InvalidArguments) {
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = 0;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.dim = 16001;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kTooManyDimensions);
	c.dim = 4;
	c.m = 1;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.m = 16;
	c.ef_construction = 2000;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.ef_construction = 64;
	c.metric = Metric::kHamming;
	EXPECT_FALSE(CreateIndex(c).ok());
	c.metric = Metric::kL2;
	auto r = CreateIndex(c);
	ASSERT_TRUE(r.ok());
	Index &idx = *r.value();
	float q[4] = {1, 2, 3, 4};
	int64_t label = 0;
	float dist = 0;
	SearchParams p;
	/* Empty index: no error, every slot missing (the contract of Search). */
	ASSERT_TRUE(idx.Search(q, 1, 1, p, {}, &label, &dist).ok());
	EXPECT_EQ(label, -1);
	EXPECT_TRUE(std::isinf(dist));
	auto empty_it = idx.CreateIterator(q, p, {});
	ASSERT_TRUE(empty_it.ok());
	std::vector<Neighbor> out;
	EXPECT_TRUE(empty_it.value()->Next(10, &out).ok());
	EXPECT_TRUE(out.empty());
	int64_t neg = -1;
	EXPECT_EQ(idx.Add(q, &neg, 1).code(), StatusCode::kInvalidArgument);
	float nan_row[4] = {1, NAN, 0, 0};
	EXPECT_EQ(idx.Add(nan_row, &label, 1).code(), StatusCode::kInvalidArgument);
	float two[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	int64_t dup[2] = {7, 7};
	EXPECT_EQ(idx.Add(two, dup, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(idx.count(), 0);
	label = 0;
	ASSERT_TRUE(idx.Add(q, &label, 1).ok());
	EXPECT_EQ(idx.Add(q, &label, 1).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(idx.Search(q, 1, 0, p, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(idx.Search(nan_row, 1, 1, p, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
	p.ef_search = 0;
	EXPECT_EQ(idx.Search(q, 1, 1, p, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
	EXPECT_FALSE(idx.CreateIterator(q, p, {}).ok());
	/* Cosine rejects zero vectors at add and at query. */
	c.metric = Metric::kCosine;
	auto cr = CreateIndex(c);
	ASSERT_TRUE(cr.ok());
	label = 0;
	float zero[4] = {0, 0, 0, 0};
	EXPECT_EQ(cr.value()->Add(zero, &label, 1).code(), StatusCode::kInvalidArgument);
	ASSERT_TRUE(cr.value()->Add(q, &label, 1).ok());
	SearchParams p2;
	EXPECT_EQ(cr.value()->Search(zero, 1, 1, p2, {}, &label, &dist).code(), StatusCode::kInvalidArgument);
}

TEST(Hnsw, FewerRowsThanK) {
	Data d = MakeClustered(5, 4, 61);
	auto idx = BuildIndex(d);
	std::vector<int64_t> labels(8);
	std::vector<float> dist(8);
	SearchParams p;
	ASSERT_TRUE(idx->Search(d.x.data(), 1, 8, p, {}, labels.data(), dist.data()).ok());
	std::set<int64_t> got(labels.begin(), labels.begin() + 5);
	EXPECT_EQ(got.size(), 5u);
	for (size_t i = 5; i < 8; i++)
		EXPECT_EQ(labels[i], -1);
}

// BenchRecall measures recall@10 at ef 40..320 for hnswlib's and pgvector's
// neighbour selection when VECDB_HNSW_BENCH=N,DIM[,SPREAD,PER_CLUSTER] is set
// (e.g. 100000,128 or 100000,128,1.0,2000), or on raw float32 files named by
// VECDB_HNSW_BENCH_RAW=BASE,QUERIES,DIM.
TEST(Hnsw, BenchRecall) {
	const char *env = std::getenv("VECDB_HNSW_BENCH");
	const char *raw = std::getenv("VECDB_HNSW_BENCH_RAW");
	if (env == nullptr && raw == nullptr)
		GTEST_SKIP() << "set VECDB_HNSW_BENCH=N,DIM[,SPREAD,PER_CLUSTER] or VECDB_HNSW_BENCH_RAW=BASE,QUERIES,DIM";
	size_t n = 100000, per_cluster = 200;
	int dim = 128;
	float spread = 0.25f;
	Data d, q;
	if (raw != nullptr) {
		/* Raw little-endian float32 rows, e.g. bench/harness.py's data set
		   (base.npy and queries.npy of its .npz without their headers). */
		char base_path[512], query_path[512];
		ASSERT_EQ(std::sscanf(raw, "%511[^,],%511[^,],%d", base_path, query_path, &dim), 3);
		for (auto [path, out] : {std::pair<const char *, Data *>{base_path, &d}, {query_path, &q}}) {
			FILE *f = std::fopen(path, "rb");
			ASSERT_NE(f, nullptr) << path;
			std::fseek(f, 0, SEEK_END);
			size_t rows = static_cast<size_t>(std::ftell(f)) / (sizeof(float) * dim);
			std::fseek(f, 0, SEEK_SET);
			out->n = rows;
			out->dim = dim;
			out->x.resize(rows * dim);
			ASSERT_EQ(std::fread(out->x.data(), sizeof(float) * dim, rows, f), rows);
			std::fclose(f);
			out->labels.resize(rows);
			for (size_t i = 0; i < rows; i++)
				out->labels[i] = static_cast<int64_t>(i);
		}
		n = d.n;
	} else {
		std::sscanf(env, "%zu,%d,%f,%zu", &n, &dim, &spread, &per_cluster);
		d = MakeClustered(n + 1000, dim, 1, spread, per_cluster);
		q = Split(&d, 1000);
	}
	auto truth = TrueKnn(d, q, 10, Metric::kL2);
	struct Variant {
		const char *name;
		HnswBuildOptions opt;
	} variants[] = {{"hnswlib", {false, false}}, {"keep_pruned", {true, false}}, {"pgvector", {true, true}}};
	for (const Variant &v : variants) {
		auto t0 = std::chrono::steady_clock::now();
		auto idx = BuildIndex(d, Metric::kL2, v.opt);
		double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		for (int ef : {40, 80, 160, 320}) {
			SearchParams p;
			p.ef_search = ef;
			auto t1 = std::chrono::steady_clock::now();
			auto labels = SearchAll(*idx, q, 10, p);
			double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
			std::printf("bench %zux%d %-11s build=%.1fs ef=%d recall@10=%.4f qps=%.0f\n", n, dim, v.name, build, ef,
						Recall(truth, labels, 10), q.n / secs);
		}
	}
}

// ParallelBuildKeepsEveryRowReachable builds with 4 threads on uniform data,
// where concurrent inserts often find each other through upper layers, and
// checks that every row is found by a search for its own vector (a build
// that overwrote links other threads had added left some rows unreachable).
TEST(Hnsw, ParallelBuildKeepsEveryRowReachable) {
	const size_t n = 4000;
	const int dim = 16;
	std::mt19937 rng(7);
	std::uniform_real_distribution<float> u(0.0f, 1.0f);
	std::vector<float> x(n * dim);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n * dim; i++)
		x[i] = u(rng);
	for (size_t i = 0; i < n; i++)
		labels[i] = static_cast<int64_t>(i);
	IndexConfig config;
	config.kind = IndexKind::kHnsw;
	config.metric = Metric::kL2;
	config.dim = dim;
	config.threads = 4;
	auto made = CreateIndex(config);
	ASSERT_TRUE(made.ok());
	auto idx = std::move(made).value();
	ASSERT_TRUE(idx->Build(x.data(), labels.data(), n).ok());
	SearchParams p;
	p.ef_search = 400;
	std::vector<int64_t> got(n);
	std::vector<float> dist(n);
	ASSERT_TRUE(idx->Search(x.data(), n, 1, p, {}, got.data(), dist.data()).ok());
	size_t lost = 0;
	for (size_t i = 0; i < n; i++)
		lost += got[i] != static_cast<int64_t>(i);
	EXPECT_EQ(lost, 0u);
}

}  // namespace
}  // namespace vecdb::knowhere

