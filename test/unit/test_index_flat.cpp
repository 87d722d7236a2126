// test_index_flat.cpp checks FLAT and BIN_FLAT (and the shared brute-force helpers) against a double-precision reference.
//
// Tolerances. The engine sums in float; for d terms the error of a sum is at
// most (d + 4) u sum|t_i| with u = 2^-24 (see test_distance.cpp); we allow
// 4 (d + 8) u sum|t_i|. Cosine works on vectors normalized in float, which
// adds a few u per vector, so it gets 8 (d + 8) u absolute. Bit metrics are
// exact: Hamming is an integer and Jaccard's double becomes the same float.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/brute_force.hpp"
#include "knowhere/index.hpp"
#include "knowhere/params.hpp"

using namespace vecdb::knowhere;
using namespace vecdb::knowhere::testutil;

namespace {

constexpr double kU = 1.0 / 16777216.0;
constexpr float kInf = std::numeric_limits<float>::infinity();

// Dataset holds rows, labels and queries for one metric.
struct Dataset {
	IndexKind kind;
	Metric metric;
	int dim;
	size_t n;
	size_t nq;
	std::vector<uint8_t> data;
	std::vector<uint8_t> queries;
	std::vector<int64_t> labels;
	int64_t max_label;
};

// AsBytes copies floats into a byte buffer.
std::vector<uint8_t> AsBytes(const std::vector<float> &v) {
	std::vector<uint8_t> b(v.size() * sizeof(float));
	std::memcpy(b.data(), v.data(), b.size());
	return b;
}

// MakeDataset draws clustered rows and queries with labels 3 i + 5.
Dataset MakeDataset(Metric metric, size_t n = 2000, size_t nq = 20, int dim = 37, uint64_t seed = 7) {
	Dataset d;
	d.metric = metric;
	d.n = n;
	d.nq = nq;
	bool bin = metric == Metric::kHamming || metric == Metric::kJaccard;
	d.kind = bin ? IndexKind::kBinFlat : IndexKind::kFlat;
	d.dim = bin ? 100 : dim;
	if (bin) {
		/* rows and queries from the same prototypes: draw n + nq, split */
		std::vector<uint8_t> all = ClusteredBits(n + nq, d.dim, 8, seed, 0.2);
		auto split = all.begin() + static_cast<std::ptrdiff_t>(n * RowBytesOf(metric, d.dim));
		d.data.assign(all.begin(), split);
		d.queries.assign(split, all.end());
	} else {
		GaussianMixture g = GaussianMixture::Make(d.dim, 8, seed);
		d.data = AsBytes(g.Sample(n, seed + 1));
		d.queries = AsBytes(g.Sample(nq, seed + 2));
	}
	for (size_t i = 0; i < n; i++)
		d.labels.push_back(static_cast<int64_t>(3 * i + 5));
	d.max_label = static_cast<int64_t>(3 * (n - 1) + 5);
	return d;
}

// Build creates an index for the dataset and adds all rows.
std::unique_ptr<Index> Build(const Dataset &d) {
	IndexConfig c;
	c.kind = d.kind;
	c.metric = d.metric;
	c.dim = d.dim;
	auto made = CreateIndex(c);
	EXPECT_TRUE(made.ok()) << made.status().message();
	if (!made.ok())
		return nullptr;
	std::unique_ptr<Index> index = std::move(made).value();
	Status s = index->Add(d.data.data(), d.labels.data(), d.n);
	EXPECT_TRUE(s.ok()) << s.message();
	return index;
}

// Tolerance bounds the float error of the engine's score of query q and row r.
double Tolerance(Metric metric, int dim, const uint8_t *q, const uint8_t *r) {
	if (metric == Metric::kHamming)
		return 0.0;
	if (metric == Metric::kJaccard)
		return 1e-7;
	if (metric == Metric::kCosine)
		return 8.0 * (dim + 8) * kU;
	const float *a = reinterpret_cast<const float *>(q), *b = reinterpret_cast<const float *>(r);
	double sum = 0;
	for (int i = 0; i < dim; i++) {
		double u = a[i], v = b[i];
		sum += metric == Metric::kL2 ? (u - v) * (u - v) : metric == Metric::kL1 ? std::fabs(u - v) : std::fabs(u * v);
	}
	return 4.0 * (dim + 8) * kU * sum + 1e-30;
}

// CheckExact verifies one query's k results against the reference: distances
// within tolerance of the reference distance of the returned label, no label
// twice, sorted, and no returned row farther than the true k-th (modulo the
// tolerance); bit metrics must match labels exactly.
void CheckExact(const Dataset &d, size_t q, size_t k, const int64_t *labels, const float *dists, BitsetView filter,
				const std::string &what) {
	size_t rb = RowBytesOf(d.metric, d.dim);
	const uint8_t *qv = d.queries.data() + q * rb;
	auto ref = ExactSearch(d.metric, d.dim, d.data.data(), d.labels.data(), d.n, qv, 1, 0, filter)[0];
	std::map<int64_t, size_t> row_of;
	for (size_t i = 0; i < d.n; i++)
		row_of[d.labels[i]] = i;
	size_t expect = std::min(k, ref.size());
	std::set<int64_t> seen;
	for (size_t i = 0; i < k; i++) {
		if (i >= expect) {
			EXPECT_EQ(labels[i], -1) << what << " rank " << i;
			EXPECT_EQ(dists[i], kInf) << what << " rank " << i;
			continue;
		}
		ASSERT_TRUE(row_of.count(labels[i])) << what << " unknown label " << labels[i];
		EXPECT_FALSE(filter.test(labels[i])) << what << " filtered label returned";
		EXPECT_TRUE(seen.insert(labels[i]).second) << what << " label twice";
		const uint8_t *rv = d.data.data() + row_of[labels[i]] * rb;
		double exact = ReferenceDistance(d.metric, d.dim, qv, rv);
		double tol = Tolerance(d.metric, d.dim, qv, rv);
		EXPECT_LE(std::fabs(dists[i] - exact), tol) << what << " rank " << i;
		EXPECT_LE(exact, ref[expect - 1].distance + 2 * tol + 1e-12) << what << " rank " << i << " not in top k";
		if (i > 0)
			EXPECT_TRUE(dists[i - 1] < dists[i] || (dists[i - 1] == dists[i] && labels[i - 1] < labels[i]))
				<< what << " order at rank " << i;
		if (d.metric == Metric::kHamming || d.metric == Metric::kJaccard)
			EXPECT_EQ(labels[i], ref[i].label) << what << " rank " << i;
	}
}

const Metric kAllMetrics[] = {Metric::kL2, Metric::kInnerProduct, Metric::kCosine,
							  Metric::kL1, Metric::kHamming,      Metric::kJaccard};

// MetricName names a metric for messages.
std::string MetricName(Metric m) {
	switch (m) {
		case Metric::kL2:
			return "l2";
		case Metric::kInnerProduct:
			return "ip";
		case Metric::kCosine:
			return "cosine";
		case Metric::kL1:
			return "l1";
		case Metric::kHamming:
			return "hamming";
		case Metric::kJaccard:
			return "jaccard";
	}
	return "?";
}

// SearchAll runs a batch search and returns labels and distances.
void SearchAll(const Index &index, const Dataset &d, size_t k, const SearchParams &p, BitsetView filter,
			   std::vector<int64_t> *labels, std::vector<float> *dists) {
	labels->assign(d.nq * k, 0);
	dists->assign(d.nq * k, 0);
	Status s = index.Search(d.queries.data(), d.nq, k, p, filter, labels->data(), dists->data());
	ASSERT_TRUE(s.ok()) << s.message();
}

TEST(FlatIndex, ExactForEveryMetric) {
	for (Metric m : kAllMetrics) {
		Dataset d = MakeDataset(m);
		auto index = Build(d);
		ASSERT_NE(index, nullptr);
		EXPECT_EQ(index->count(), static_cast<int64_t>(d.n));
		for (size_t k : {1, 10, 100}) {
			std::vector<int64_t> labels;
			std::vector<float> dists;
			SearchAll(*index, d, k, SearchParams(), {}, &labels, &dists);
			for (size_t q = 0; q < d.nq; q++)
				CheckExact(d, q, k, labels.data() + q * k, dists.data() + q * k, {},
						   MetricName(m) + " k=" + std::to_string(k));
		}
	}
}

TEST(FlatIndex, KLargerThanCountPads) {
	Dataset d = MakeDataset(Metric::kL2, 7, 3);
	auto index = Build(d);
	std::vector<int64_t> labels;
	std::vector<float> dists;
	SearchAll(*index, d, 10, SearchParams(), {}, &labels, &dists);
	for (size_t q = 0; q < d.nq; q++)
		CheckExact(d, q, 10, labels.data() + q * 10, dists.data() + q * 10, {}, "k > n");
}

TEST(FlatIndex, TiesBrokenByLabel) {
	/* five copies of the same vector under labels 40, 10, 30, 20, 50 */
	IndexConfig c;
	c.dim = 4;
	auto index = std::move(CreateIndex(c)).value();
	std::vector<float> v = {1, 2, 3, 4};
	std::vector<float> rows;
	for (int i = 0; i < 5; i++)
		rows.insert(rows.end(), v.begin(), v.end());
	std::vector<int64_t> labels = {40, 10, 30, 20, 50};
	ASSERT_TRUE(index->Add(rows.data(), labels.data(), 5).ok());
	int64_t out[3];
	float dist[3];
	ASSERT_TRUE(index->Search(v.data(), 1, 3, SearchParams(), {}, out, dist).ok());
	EXPECT_EQ(out[0], 10);
	EXPECT_EQ(out[1], 20);
	EXPECT_EQ(out[2], 30);
	EXPECT_EQ(dist[0], 0.0f);
}

TEST(FlatIndex, FiltersHonoured) {
	for (Metric m : {Metric::kL2, Metric::kCosine, Metric::kHamming}) {
		Dataset d = MakeDataset(m);
		auto index = Build(d);
		/* 95% filtered, and labels past the bitset's end are allowed */
		Bitset bits = Bitset::Random(static_cast<size_t>(d.max_label) - 300, 0.95, 11);
		std::vector<int64_t> labels;
		std::vector<float> dists;
		SearchAll(*index, d, 50, SearchParams(), bits.View(), &labels, &dists);
		for (size_t q = 0; q < d.nq; q++)
			CheckExact(d, q, 50, labels.data() + q * 50, dists.data() + q * 50, bits.View(),
					   MetricName(m) + " filtered");
	}
}

TEST(FlatIndex, FewOrNoRowsAllowed) {
	Dataset d = MakeDataset(Metric::kL2, 500, 4);
	auto index = Build(d);
	Bitset all(static_cast<size_t>(d.max_label) + 1);
	for (int64_t l : d.labels)
		all.Set(static_cast<size_t>(l));
	std::vector<int64_t> labels;
	std::vector<float> dists;
	SearchAll(*index, d, 10, SearchParams(), all.View(), &labels, &dists);
	for (size_t i = 0; i < labels.size(); i++) {
		EXPECT_EQ(labels[i], -1);
		EXPECT_EQ(dists[i], kInf);
	}
	/* exactly three allowed: 3 results then padding */
	Bitset three(static_cast<size_t>(d.max_label) + 1);
	for (int64_t l : d.labels)
		if (l != d.labels[7] && l != d.labels[100] && l != d.labels[499])
			three.Set(static_cast<size_t>(l));
	SearchAll(*index, d, 10, SearchParams(), three.View(), &labels, &dists);
	for (size_t q = 0; q < d.nq; q++) {
		std::set<int64_t> got(labels.begin() + q * 10, labels.begin() + q * 10 + 3);
		EXPECT_EQ(got, (std::set<int64_t>{d.labels[7], d.labels[100], d.labels[499]}));
		CheckExact(d, q, 10, labels.data() + q * 10, dists.data() + q * 10, three.View(), "three allowed");
	}
}

TEST(FlatIndex, IteratorDrainsInOrder) {
	for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kJaccard}) {
		Dataset d = MakeDataset(m, 1000, 3);
		auto index = Build(d);
		Bitset bits = Bitset::Random(static_cast<size_t>(d.max_label) + 1, 0.3, 5);
		size_t allowed = 0;
		for (int64_t l : d.labels)
			allowed += !bits.View().test(l);
		size_t rb = RowBytesOf(m, d.dim);
		for (size_t q = 0; q < d.nq; q++) {
			auto it = index->CreateIterator(d.queries.data() + q * rb, SearchParams(), bits.View());
			ASSERT_TRUE(it.ok()) << it.status().message();
			std::vector<Neighbor> all;
			size_t batch = 17, calls = 0;
			for (;;) {
				size_t before = all.size();
				ASSERT_TRUE(it.value()->Next(batch, &all).ok());
				if (all.size() == before)
					break;
				EXPECT_LE(all.size() - before, batch);
				if (calls++ == 0) {
					std::vector<int64_t> labels(batch);
					std::vector<float> dists(batch);
					ASSERT_TRUE(index->Search(d.queries.data() + q * rb, 1, batch, SearchParams(), bits.View(),
											  labels.data(), dists.data())
									.ok());
					for (size_t i = 0; i < batch; i++) {
						EXPECT_EQ(all[i].label, labels[i]);
						EXPECT_EQ(all[i].distance, dists[i]);
					}
				}
				batch = batch * 2 + 1;
			}
			EXPECT_EQ(all.size(), allowed) << MetricName(m);
			std::set<int64_t> seen;
			for (size_t i = 0; i < all.size(); i++) {
				EXPECT_FALSE(bits.View().test(all[i].label));
				EXPECT_TRUE(seen.insert(all[i].label).second);
				if (i > 0)
					EXPECT_TRUE(NeighborLess(all[i - 1], all[i])) << MetricName(m) << " at " << i;
			}
			std::vector<Neighbor> more;
			EXPECT_TRUE(it.value()->Next(10, &more).ok());
			EXPECT_TRUE(more.empty());
			EXPECT_EQ(it.value()->Next(0, &more).code(), StatusCode::kInvalidArgument);
		}
	}
}

TEST(FlatIndex, RangeSearchMatchesReference) {
	for (Metric m : {Metric::kL2, Metric::kCosine, Metric::kHamming}) {
		Dataset d = MakeDataset(m, 1000, 3);
		auto index = Build(d);
		Bitset bits = Bitset::Random(static_cast<size_t>(d.max_label) + 1, 0.5, 9);
		size_t rb = RowBytesOf(m, d.dim);
		for (size_t q = 0; q < d.nq; q++) {
			const uint8_t *qv = d.queries.data() + q * rb;
			auto ref = ExactSearch(m, d.dim, d.data.data(), d.labels.data(), d.n, qv, 1, 0, bits.View())[0];
			float radius = static_cast<float>(ref[ref.size() / 10].distance);
			std::vector<Neighbor> out;
			ASSERT_TRUE(index->RangeSearch(qv, radius, SearchParams(), bits.View(), &out).ok());
			/* every reference row clearly inside is found; nothing clearly outside is */
			std::set<int64_t> got;
			for (size_t i = 0; i < out.size(); i++) {
				got.insert(out[i].label);
				EXPECT_LE(out[i].distance, radius);
				if (i > 0)
					EXPECT_TRUE(NeighborLess(out[i - 1], out[i]));
			}
			for (const RefNeighbor &r : ref) {
				if (r.distance < radius - 1e-4)
					EXPECT_TRUE(got.count(r.label)) << MetricName(m);
				if (r.distance > radius + 1e-4)
					EXPECT_FALSE(got.count(r.label)) << MetricName(m);
			}
			EXPECT_GE(out.size(), ref.size() / 10 - 2);
		}
	}
}

// Serialized returns the bytes of an index.
std::string Serialized(const Index &index) {
	StringWriter w;
	Status s = index.Serialize(w);
	EXPECT_TRUE(s.ok()) << s.message();
	return w.bytes();
}

// Load deserializes bytes.
Expected<std::unique_ptr<Index>> Load(const std::string &bytes) {
	MemoryReader r(bytes.data(), bytes.size());
	return DeserializeIndex(r);
}

TEST(FlatIndex, SerializeRoundTrip) {
	for (Metric m : kAllMetrics) {
		Dataset d = MakeDataset(m, 800, 10);
		auto index = Build(d);
		std::string bytes = Serialized(*index);
		auto loaded = Load(bytes);
		ASSERT_TRUE(loaded.ok()) << loaded.status().message();
		Index &copy = *loaded.value();
		EXPECT_EQ(copy.kind(), index->kind());
		EXPECT_EQ(copy.metric(), m);
		EXPECT_EQ(copy.dim(), d.dim);
		EXPECT_EQ(copy.count(), index->count());
		std::vector<int64_t> a, b;
		std::vector<float> da, db;
		SearchAll(*index, d, 25, SearchParams(), {}, &a, &da);
		SearchAll(copy, d, 25, SearchParams(), {}, &b, &db);
		EXPECT_EQ(a, b);
		EXPECT_EQ(da, db);
		EXPECT_EQ(Serialized(copy), bytes);
	}
	/* an empty index too */
	IndexConfig c;
	c.dim = 3;
	auto empty = std::move(CreateIndex(c)).value();
	auto loaded = Load(Serialized(*empty));
	ASSERT_TRUE(loaded.ok());
	EXPECT_EQ(loaded.value()->count(), 0);
}

// SmallIndexResults returns the search results of a few queries (the
// fingerprint compared after a damaged stream loads).
std::vector<float> Fingerprint(const Index &index, const Dataset &d) {
	std::vector<int64_t> labels;
	std::vector<float> dists;
	SearchAll(index, d, 5, SearchParams(), {}, &labels, &dists);
	std::vector<float> out(dists);
	for (int64_t l : labels)
		out.push_back(static_cast<float>(l));
	out.push_back(static_cast<float>(index.count()));
	out.push_back(static_cast<float>(index.dim()));
	out.push_back(static_cast<float>(index.metric()));
	return out;
}

TEST(FlatIndex, DamagedStreamsNeverCrash) {
	for (Metric m : {Metric::kCosine, Metric::kL1, Metric::kJaccard}) {
		Dataset d = MakeDataset(m, 20, 3, 5);
		auto index = Build(d);
		std::string bytes = Serialized(*index);
		std::vector<float> want = Fingerprint(*index, d);
		for (size_t len = 0; len < bytes.size(); len++) {
			auto r = Load(bytes.substr(0, len));
			ASSERT_FALSE(r.ok()) << "truncated to " << len;
			EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << "truncated to " << len;
		}
		Rng rng(99);
		size_t loaded = 0;
		for (size_t pos = 0; pos < bytes.size(); pos++) {
			for (int t = 0; t < 4; t++) {
				std::string bad = bytes;
				bad[pos] = static_cast<char>(bad[pos] ^ static_cast<char>(1 + rng.Below(255)));
				auto r = Load(bad);
				if (!r.ok()) {
					EXPECT_TRUE(r.status().code() == StatusCode::kCorrupt ||
								r.status().code() == StatusCode::kOutOfMemory)
						<< r.status().message();
					continue;
				}
				loaded++;
				EXPECT_EQ(Fingerprint(*r.value(), d), want) << "byte " << pos << " flipped";
			}
		}
		EXPECT_EQ(loaded, 0u) << "the checksum should catch every single-byte change";
	}
}

TEST(FlatIndex, InvalidArguments) {
	IndexConfig c;
	c.dim = 0;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.dim = kMaxFloatDim + 1;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kTooManyDimensions);
	c.dim = kMaxFloatDim;
	EXPECT_TRUE(CreateIndex(c).ok());
	c.dim = 8;
	c.metric = Metric::kHamming;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kNotSupported);
	c.kind = IndexKind::kBinFlat;
	c.metric = Metric::kL2;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kNotSupported);

	c = IndexConfig();
	c.dim = 3;
	c.metric = Metric::kCosine;
	auto index = std::move(CreateIndex(c)).value();
	float good[6] = {1, 2, 3, 4, 5, 6};
	int64_t labels[2] = {0, 1};
	int64_t out[4];
	float dist[4];

	/* an empty index searches fine: everything is padding */
	ASSERT_TRUE(index->Search(good, 1, 4, SearchParams(), {}, out, dist).ok());
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(out[i], -1);

	float nan_row[6] = {1, 2, 3, 4, std::nanf(""), 6};
	float inf_row[6] = {1, 2, 3, 4, kInf, 6};
	float zero_row[6] = {1, 2, 3, 0, 0, 0};
	int64_t negative[2] = {0, -5};
	EXPECT_EQ(index->Add(nan_row, labels, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Add(inf_row, labels, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Add(zero_row, labels, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Add(good, negative, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Add(nullptr, labels, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Add(good, nullptr, 2).code(), StatusCode::kInvalidArgument);
	EXPECT_TRUE(index->Add(nullptr, nullptr, 0).ok());
	EXPECT_EQ(index->count(), 0) << "a failed Add leaves the index unchanged";
	ASSERT_TRUE(index->Add(good, labels, 2).ok());
	EXPECT_EQ(index->count(), 2);

	SearchParams p;
	EXPECT_EQ(index->Search(good, 1, 0, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Search(nan_row + 3, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Search(zero_row + 3, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Search(nullptr, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->Search(good, 1, 2, p, {}, nullptr, dist).code(), StatusCode::kInvalidArgument);
	EXPECT_TRUE(index->Search(nullptr, 0, 2, p, {}, nullptr, nullptr).ok());
	std::vector<Neighbor> range;
	EXPECT_EQ(index->RangeSearch(good, std::nanf(""), p, {}, &range).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->RangeSearch(zero_row + 3, 1.0f, p, {}, &range).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->CreateIterator(nan_row + 3, p, {}).status().code(), StatusCode::kInvalidArgument);
	p.ef_search = 0;
	EXPECT_EQ(index->Search(good, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	p = SearchParams();
	p.nprobe = 0;
	EXPECT_EQ(index->Search(good, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	p = SearchParams();
	p.threads = 0;
	EXPECT_EQ(index->Search(good, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(index->RangeSearch(good, 1.0f, p, {}, &range).code(), StatusCode::kInvalidArgument);
	p = SearchParams();
	p.brute_force_ratio = std::nan("");
	EXPECT_EQ(index->Search(good, 1, 2, p, {}, out, dist).code(), StatusCode::kInvalidArgument);

	/* bit vectors with padding bits set are refused */
	IndexConfig b;
	b.kind = IndexKind::kBinFlat;
	b.metric = Metric::kHamming;
	b.dim = 10;
	auto bin = std::move(CreateIndex(b)).value();
	uint8_t bits_ok[2] = {0xFF, 0xC0}, bits_bad[2] = {0xFF, 0xE0};
	int64_t l0 = 0;
	EXPECT_TRUE(bin->Add(bits_ok, &l0, 1).ok());
	EXPECT_EQ(bin->Add(bits_bad, &l0, 1).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(bin->Search(bits_bad, 1, 1, SearchParams(), {}, out, dist).code(), StatusCode::kInvalidArgument);
	ASSERT_TRUE(bin->Search(bits_ok, 1, 1, SearchParams(), {}, out, dist).ok());
	EXPECT_EQ(out[0], 0);
	EXPECT_EQ(dist[0], 0.0f);
}

TEST(FlatIndex, ConcurrentSearchEqualsSerial) {
	Dataset d = MakeDataset(Metric::kL2, 3000, 40);
	auto index = Build(d);
	Bitset bits = Bitset::Random(static_cast<size_t>(d.max_label) + 1, 0.2, 3);
	std::vector<int64_t> want;
	std::vector<float> want_d;
	SearchAll(*index, d, 10, SearchParams(), bits.View(), &want, &want_d);

	std::vector<std::vector<int64_t>> got(4);
	std::vector<std::vector<float>> got_d(4);
	std::vector<std::thread> threads;
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] {
			got[t].assign(want.size(), 0);
			got_d[t].assign(want.size(), 0);
			for (int rep = 0; rep < 3; rep++)
				EXPECT_TRUE(index->Search(d.queries.data(), d.nq, 10, SearchParams(), bits.View(), got[t].data(),
										  got_d[t].data())
								.ok());
		});
	for (auto &t : threads)
		t.join();
	for (int t = 0; t < 4; t++) {
		EXPECT_EQ(got[t], want);
		EXPECT_EQ(got_d[t], want_d);
	}

	/* and the search's own worker threads give the same answers */
	SearchParams p;
	p.threads = 4;
	std::vector<int64_t> par;
	std::vector<float> par_d;
	SearchAll(*index, d, 10, p, bits.View(), &par, &par_d);
	EXPECT_EQ(par, want);
	EXPECT_EQ(par_d, want_d);
}

// CountingStop counts polls and says stop once it has been called stop_at times.
struct CountingStop {
	std::atomic<int> calls{0};
	int stop_at = 1;
	static bool Fn(void *arg) noexcept {
		auto *self = static_cast<CountingStop *>(arg);
		return ++self->calls >= self->stop_at;
	}
};

TEST(FlatIndex, Cancellation) {
	Dataset d = MakeDataset(Metric::kL2, 20000, 8, 8);
	auto index = Build(d);
	std::vector<int64_t> labels(d.nq * 5);
	std::vector<float> dists(d.nq * 5);

	CountingStop never;
	never.stop_at = std::numeric_limits<int>::max();
	SearchParams p;
	p.should_stop = &CountingStop::Fn;
	p.stop_arg = &never;
	ASSERT_TRUE(index->Search(d.queries.data(), d.nq, 5, p, {}, labels.data(), dists.data()).ok());
	EXPECT_GE(never.calls.load(), static_cast<int>(d.nq * d.n / kStopPollRows) - 1) << "polled in the scan";

	/* one thread: the third poll (mid-scan) stops it; four threads: a stop
	   on the first poll (taken before work starts, so not a race) */
	for (int threads : {1, 4}) {
		CountingStop stop;
		stop.stop_at = threads == 1 ? 3 : 1;
		p.stop_arg = &stop;
		p.threads = threads;
		EXPECT_EQ(index->Search(d.queries.data(), d.nq, 5, p, {}, labels.data(), dists.data()).code(),
				  StatusCode::kCancelled)
			<< threads << " threads";
	}
	CountingStop stop;
	p.stop_arg = &stop;
	p.threads = 1;
	std::vector<Neighbor> range;
	EXPECT_EQ(index->RangeSearch(d.queries.data(), 1e30f, p, {}, &range).code(), StatusCode::kCancelled);
	stop.calls = 0;
	EXPECT_EQ(index->CreateIterator(d.queries.data(), p, {}).status().code(), StatusCode::kCancelled);
}

TEST(FlatIndex, ParamsTableMatchesDefaults) {
	IndexConfig c;
	SearchParams s;
	auto def = [](const char *name) {
		const ParamSpec *p = FindParam(name);
		EXPECT_NE(p, nullptr) << name;
		return p == nullptr ? -12345 : p->default_value;
	};
	EXPECT_EQ(def("m"), c.m);
	EXPECT_EQ(def("ef_construction"), c.ef_construction);
	EXPECT_EQ(def("nlist"), c.nlist);
	EXPECT_EQ(def("pq_m"), c.pq_m);
	EXPECT_EQ(def("nbits"), c.nbits);
	EXPECT_EQ(def("threads"), c.threads);
	EXPECT_EQ(def("repair_reach"), c.repair_reach);
	EXPECT_EQ(def("train_device"), static_cast<int>(c.train_device));
	EXPECT_EQ(def("ef_search"), s.ef_search);
	EXPECT_EQ(def("nprobe"), s.nprobe);
	EXPECT_EQ(def("rerank"), s.rerank);
	EXPECT_EQ(def("search_threads"), s.threads);
	size_t n = 0;
	const ParamSpec *all = Params(&n);
	for (size_t i = 0; i < n; i++) {
		EXPECT_LE(all[i].min_value, all[i].default_value) << all[i].name;
		EXPECT_LE(all[i].default_value, all[i].max_value) << all[i].name;
	}
	EXPECT_TRUE(ValidateConfig([] {
					IndexConfig x;
					x.dim = 8;
					return x;
				}())
					.ok());
	EXPECT_TRUE(ValidateSearch(s, 1).ok());
	/* the default switch point is each kind's own, in (0, 1]; for IVF it
	   grows with nprobe / nlist */
	EXPECT_LT(s.brute_force_ratio, 0.0);
	for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvfFlat, IndexKind::kIvfPq,
						   IndexKind::kIvfSq8, IndexKind::kBinFlat, IndexKind::kBinIvf}) {
		IndexConfig config;
		config.kind = kind;
		double ratio = DefaultBruteForceRatio(config, s);
		EXPECT_GT(ratio, 0.0) << static_cast<int>(kind);
		EXPECT_LE(ratio, 1.0) << static_cast<int>(kind);
	}
	IndexConfig ivf;
	ivf.kind = IndexKind::kIvfFlat;
	ivf.nlist = 316;
	SearchParams wide = s;
	wide.nprobe = 32;
	EXPECT_LT(DefaultBruteForceRatio(ivf, s), DefaultBruteForceRatio(ivf, wide));
	/* IVF: exact exactly where the widened probe count, nprobe / fraction,
	   would reach every list (docs/engine.md, measured through the iterator) */
	EXPECT_DOUBLE_EQ(DefaultBruteForceRatio(ivf, wide) * ivf.nlist, wide.nprobe);
	wide.nprobe = 316;
	EXPECT_EQ(DefaultBruteForceRatio(ivf, wide), 1.0);
	/* HNSW: the exact scan costs the allowed rows, the filtered graph search
	   about 1 / fraction and sqrt(ef_search): 4 * sqrt(ef / rows) */
	IndexConfig hnsw;
	hnsw.kind = IndexKind::kHnsw;
	SearchParams ef40 = s, ef320 = s;
	ef40.ef_search = 40;
	ef320.ef_search = 320;
	EXPECT_NEAR(DefaultBruteForceRatio(hnsw, ef40, 100000), 4 * std::sqrt(40.0 / 100000.0), 1e-12);
	EXPECT_NEAR(DefaultBruteForceRatio(hnsw, ef40, 400000), DefaultBruteForceRatio(hnsw, ef40, 100000) / 2, 1e-12);
	EXPECT_NEAR(DefaultBruteForceRatio(hnsw, ef320, 1000000), 0.072, 0.001);
	EXPECT_NEAR(DefaultBruteForceRatio(hnsw, ef40, 1000000), 0.025, 0.001);
	EXPECT_EQ(DefaultBruteForceRatio(hnsw, ef40, 200), 1.0);
	EXPECT_EQ(DefaultBruteForceRatio(hnsw, ef40), DefaultBruteForceRatio(hnsw, ef40, 100000));
	/* below ef_search 10 (the fit's lowest point) the switch stays at 10's */
	SearchParams ef1 = s, ef5 = s, ef10 = s;
	ef1.ef_search = 1;
	ef5.ef_search = 5;
	ef10.ef_search = 10;
	EXPECT_NEAR(DefaultBruteForceRatio(hnsw, ef10, 100000), 0.04, 1e-12);
	EXPECT_EQ(DefaultBruteForceRatio(hnsw, ef1, 100000), DefaultBruteForceRatio(hnsw, ef10, 100000));
	EXPECT_EQ(DefaultBruteForceRatio(hnsw, ef5, 100000), DefaultBruteForceRatio(hnsw, ef10, 100000));
	/* float rows past 128 dimensions: cbrt(128 / dim) of it; bit rows and
	   shorter rows keep it */
	IndexConfig wide_rows = hnsw, short_rows = hnsw, bits = hnsw;
	wide_rows.dim = 784;
	short_rows.dim = 128;
	bits.dim = 1024;
	bits.metric = Metric::kHamming;
	double base = 4 * std::sqrt(40.0 / 60000.0);
	EXPECT_NEAR(DefaultBruteForceRatio(wide_rows, ef40, 60000), base * std::cbrt(128.0 / 784.0), 1e-12);
	EXPECT_NEAR(DefaultBruteForceRatio(short_rows, ef40, 60000), base, 1e-12);
	EXPECT_NEAR(DefaultBruteForceRatio(bits, ef40, 60000), base, 1e-12);
	s.brute_force_ratio = 1.5;
	EXPECT_EQ(ValidateSearch(s, 1).code(), StatusCode::kInvalidArgument);
}

TEST(FlatBruteForce, PointerRowsAndTopK) {
	/* the helpers other kinds use: rows given as pointers, in any order */
	Dataset d = MakeDataset(Metric::kInnerProduct, 300, 2);
	size_t rb = RowBytesOf(d.metric, d.dim);
	std::vector<const void *> ptrs;
	for (size_t i = 0; i < d.n; i++)
		ptrs.push_back(d.data.data() + (d.n - 1 - i) * rb);
	std::vector<int64_t> labels(d.labels.rbegin(), d.labels.rend());
	RowSet rows;
	rows.labels = labels.data();
	rows.rows = ptrs.data();
	rows.n = d.n;
	Bitset bits = Bitset::Random(static_cast<size_t>(d.max_label) + 1, 0.5, 2);
	for (size_t q = 0; q < d.nq; q++) {
		std::vector<uint8_t> query;
		ASSERT_TRUE(PrepareQuery(d.metric, d.dim, d.queries.data() + q * rb, &query).ok());
		int64_t out[12];
		float dist[12];
		ASSERT_TRUE(
			BruteForceSearch(d.metric, d.dim, query.data(), rows, 12, bits.View(), SearchParams(), out, dist).ok());
		CheckExact(d, q, 12, out, dist, bits.View(), "pointer rows");
	}
	TopK top;
	ASSERT_TRUE(top.Init(2).ok());
	top.Push(5, 1.0f);
	top.Push(3, 1.0f);
	top.Push(9, 0.5f);
	top.Push(1, 2.0f);
	int64_t l[3];
	float dd[3];
	top.Extract(3, l, dd);
	EXPECT_EQ(l[0], 9);
	EXPECT_EQ(l[1], 3);
	EXPECT_EQ(l[2], -1);
	EXPECT_EQ(dd[2], kInf);
}

TEST(FlatBruteForce, BitsetCountsAndAllowedLabels) {
	/* word-at-a-time paths against bit-by-bit ones, for sizes around 64 */
	for (size_t nbits : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{200}, size_t{1000}}) {
		Bitset bits = Bitset::Random(nbits, 0.7, nbits);
		BitsetView view = bits.View();
		for (size_t end : {size_t{0}, nbits / 2, nbits, nbits + 70}) {
			size_t filtered = 0;
			std::vector<int64_t> expect;
			for (size_t i = 0; i < end; i++) {
				if (view.test(static_cast<int64_t>(i)))
					filtered++;
				else
					expect.push_back(static_cast<int64_t>(i));
			}
			EXPECT_EQ(CountFilteredBelow(view, end), filtered) << nbits << " " << end;
			std::vector<int64_t> got;
			AllowedBelow(view, end, &got);
			EXPECT_EQ(got, expect) << nbits << " " << end;
		}
	}
	std::vector<int64_t> all;
	AllowedBelow(BitsetView(), 5, &all);
	EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4}));
	EXPECT_EQ(CountFilteredBelow(BitsetView(), 5), 0u);
}

TEST(FlatIndex, MemoryUsageGrows) {
	Dataset d = MakeDataset(Metric::kL2, 1000, 1);
	IndexConfig c;
	c.dim = d.dim;
	auto index = std::move(CreateIndex(c)).value();
	size_t before = index->MemoryUsage();
	ASSERT_TRUE(index->Add(d.data.data(), d.labels.data(), d.n).ok());
	EXPECT_GE(index->MemoryUsage(), before + d.n * (d.dim * sizeof(float) + sizeof(int64_t)));
}

TEST(IndexFactory, GpuFlatIsNotSupportedUntilRegistered) {
	/* this binary never links src/gpu: GPU_FLAT has no factory here */
	IndexConfig c;
	c.kind = IndexKind::kGpuFlat;
	c.dim = 8;
	EXPECT_TRUE(ValidateConfig(c).ok());
	auto made = CreateIndex(c);
	ASSERT_FALSE(made.ok());
	EXPECT_EQ(made.status().code(), StatusCode::kNotSupported);
	EXPECT_NE(made.status().message().find("GPU_FLAT"), std::string::npos);
	c.metric = Metric::kL1;
	EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kNotSupported);
}

}  // namespace
