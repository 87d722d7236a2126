// test_index_view.cpp tests OpenIndexView: for every kind with a view, a view
// over the serialized bytes answers every search exactly as the owning index
// and its deserialized copy do; damaged, truncated, unaligned and
// inconsistent bytes are refused or searched safely, never crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/index.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::knowhere {

namespace {

using testutil::Bitset;
using testutil::GaussianMixture;
using testutil::Rng;

// AlignedBytes is a copy of serialized bytes at a 64-byte aligned address
// (what the PostgreSQL side's shared memory gives), with room for an
// unaligned copy at offset 8.
class AlignedBytes {
public:
	explicit AlignedBytes(const std::string &bytes, size_t shift = 0) : size_(bytes.size()) {
		size_t cap = (bytes.size() + shift + 63) / 64 * 64 + 64;
		mem_.reset(static_cast<uint8_t *>(std::aligned_alloc(64, cap)));
		std::memcpy(mem_.get() + shift, bytes.data(), bytes.size());
		data_ = mem_.get() + shift;
	}
	uint8_t *data() const { return data_; }
	size_t size() const { return size_; }

private:
	struct Free {
		void operator()(uint8_t *p) const { std::free(p); }
	};
	std::unique_ptr<uint8_t, Free> mem_;
	uint8_t *data_;
	size_t size_;
};

// Case is one index to view: its config, rows, labels and queries.
struct Case {
	IndexConfig config;
	size_t n = 0;
	std::vector<uint8_t> rows;
	std::vector<int64_t> labels;
	std::vector<uint8_t> queries;
	size_t nq = 0;
	size_t row_bytes = 0;
	int64_t max_label = 0;
};

// MakeCase draws n rows for config (float clusters or clustered bits), with
// labels 0 .. n-1 when dense, else spread and shuffled labels.
Case MakeCase(const IndexConfig &config, size_t n, bool dense, uint64_t seed) {
	Case c;
	c.config = config;
	c.n = n;
	c.nq = 12;
	c.row_bytes = testutil::RowBytesOf(config.metric, config.dim);
	if (IsBinaryKind(config.kind)) {
		c.rows = testutil::ClusteredBits(n, config.dim, 8, seed);
		c.queries = testutil::ClusteredBits(c.nq, config.dim, 8, seed + 1);
	} else {
		GaussianMixture g = GaussianMixture::Make(config.dim, 12, seed);
		std::vector<float> x = g.Sample(n, seed + 1), q = g.Sample(c.nq, seed + 2);
		c.rows.resize(x.size() * sizeof(float));
		std::memcpy(c.rows.data(), x.data(), c.rows.size());
		c.queries.resize(q.size() * sizeof(float));
		std::memcpy(c.queries.data(), q.data(), c.queries.size());
	}
	c.labels.resize(n);
	for (size_t i = 0; i < n; i++)
		c.labels[i] = dense ? static_cast<int64_t>(i) : static_cast<int64_t>(3 * i + 7);
	if (!dense) {
		std::mt19937_64 rng(seed);
		std::shuffle(c.labels.begin(), c.labels.end(), rng);
	}
	c.max_label = *std::max_element(c.labels.begin(), c.labels.end());
	return c;
}

// BuildOwning builds the owning index of a case.
std::unique_ptr<Index> BuildOwning(const Case &c) {
	auto made = CreateIndex(c.config);
	EXPECT_TRUE(made.ok()) << made.status().message();
	std::unique_ptr<Index> index = std::move(made).value();
	Status s = index->Build(c.rows.data(), c.labels.data(), c.n);
	EXPECT_TRUE(s.ok()) << s.message();
	return index;
}

// Serialized returns an index's bytes.
std::string Serialized(const Index &index) {
	StringWriter w;
	Status s = index.Serialize(w);
	EXPECT_TRUE(s.ok()) << s.message();
	return w.bytes();
}

// Answers collects everything a view must reproduce exactly.
struct Answers {
	std::vector<int64_t> labels;
	std::vector<float> distances;
	std::vector<Neighbor> range;
	std::vector<Neighbor> iterated;
	std::vector<uint8_t> rows;

	bool operator==(const Answers &o) const {
		auto same = [](const std::vector<Neighbor> &a, const std::vector<Neighbor> &b) {
			if (a.size() != b.size())
				return false;
			for (size_t i = 0; i < a.size(); i++)
				if (a[i].label != b[i].label || a[i].distance != b[i].distance)
					return false;
			return true;
		};
		return labels == o.labels && distances == o.distances && same(range, o.range) &&
			same(iterated, o.iterated) && rows == o.rows;
	}
};

// Ask runs Search (k 10), RangeSearch (radius: the 10th distance of the
// first query) and a drained iterator for every query under one filter and
// params, and Reconstructs every label.
Answers Ask(const Index &index, const Case &c, BitsetView filter, const SearchParams &p) {
	Answers a;
	const size_t k = 10;
	a.labels.assign(c.nq * k, -2);
	a.distances.assign(c.nq * k, -2);
	Status s = index.Search(c.queries.data(), c.nq, k, p, filter, a.labels.data(), a.distances.data());
	EXPECT_TRUE(s.ok()) << s.message();
	float radius = a.distances[k - 1];
	for (size_t q = 0; q < c.nq; q++) {
		const uint8_t *query = c.queries.data() + q * c.row_bytes;
		s = index.RangeSearch(query, radius, p, filter, &a.range);
		EXPECT_TRUE(s.ok()) << s.message();
		auto it = index.CreateIterator(query, p, filter);
		EXPECT_TRUE(it.ok()) << it.status().message();
		if (!it.ok())
			continue;
		size_t before = a.iterated.size();
		for (;;) {
			size_t had = a.iterated.size();
			s = it.value()->Next(37, &a.iterated);
			EXPECT_TRUE(s.ok()) << s.message();
			if (!s.ok() || a.iterated.size() == had)
				break;
		}
		size_t allowed = 0;
		for (int64_t l : c.labels)
			allowed += !filter.test(l);
		EXPECT_EQ(a.iterated.size() - before, allowed) << "a drained iterator returns every allowed row";
	}
	a.rows.assign(c.n * c.row_bytes, 0);
	s = index.Reconstruct(c.labels.data(), c.n, a.rows.data());
	EXPECT_TRUE(s.ok()) << s.message();
	return a;
}

// ExpectSameAnswers checks that view and copy answer as owning does under
// no filter, ~10% and ~50% allowed, and with the filtered paths forced.
void ExpectSameAnswers(const Index &owning, const Index &view, const Index &copy, const Case &c) {
	Bitset ten = Bitset::Random(static_cast<size_t>(c.max_label) + 1, 0.9, 5);
	Bitset half = Bitset::Random(static_cast<size_t>(c.max_label) + 1, 0.5, 6);
	SearchParams plain, forced;
	forced.brute_force_ratio = 0;
	forced.ef_search = 24;
	forced.nprobe = 3;
	forced.rerank = 3;
	struct Variant {
		BitsetView filter;
		SearchParams params;
		const char *name;
	} variants[] = {{{}, plain, "no filter"},
					{ten.View(), plain, "10% allowed"},
					{half.View(), plain, "50% allowed"},
					{ten.View(), forced, "10% allowed, filtered path"}};
	for (const Variant &v : variants) {
		Answers want = Ask(owning, c, v.filter, v.params);
		EXPECT_TRUE(Ask(view, c, v.filter, v.params) == want) << v.name;
		EXPECT_TRUE(Ask(copy, c, v.filter, v.params) == want) << v.name;
	}
}

// ViewConfigs lists the configs of every kind (each has a view), small.
std::vector<IndexConfig> ViewConfigs() {
	std::vector<IndexConfig> out;
	for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1})
		out.push_back(testutil::MakeConfig(IndexKind::kFlat, m, 16));
	for (Metric m : {Metric::kHamming, Metric::kJaccard})
		out.push_back(testutil::MakeConfig(IndexKind::kBinFlat, m, 77));
	for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
		IndexConfig h = testutil::MakeConfig(IndexKind::kHnsw, m, 16);
		h.m = 8;
		h.ef_construction = 32;
		out.push_back(h);
	}
	auto ivf = [&](IndexKind kind, Metric m, int dim) {
		IndexConfig c = testutil::MakeConfig(kind, m, dim, 8, 4);
		c.nbits = 4;
		out.push_back(c);
	};
	for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine})
		ivf(IndexKind::kIvfFlat, m, 16);
	for (Metric m : {Metric::kL2, Metric::kInnerProduct})
		ivf(IndexKind::kIvfPq, m, 16);
	for (Metric m : {Metric::kL2, Metric::kCosine})
		ivf(IndexKind::kIvfSq8, m, 16);
	ivf(IndexKind::kBinIvf, Metric::kHamming, 64);
	ivf(IndexKind::kBinIvf, Metric::kHamming, 52);
	return out;
}

// Name describes a config in messages.
std::string Name(const IndexConfig &c) {
	return "kind " + std::to_string(static_cast<int>(c.kind)) + " metric " + std::to_string(static_cast<int>(c.metric));
}

TEST(IndexView, AnswersAsOwningAndDeserialized) {
	for (const IndexConfig &config : ViewConfigs()) {
		for (bool dense : {true, false}) {
			SCOPED_TRACE(Name(config) + (dense ? " dense labels" : " spread labels"));
			Case c = MakeCase(config, 1500, dense, 11);
			std::unique_ptr<Index> owning = BuildOwning(c);
			std::string bytes = Serialized(*owning);
			AlignedBytes buf(bytes);
			ASSERT_TRUE(VerifyIndexBytes(buf.data(), buf.size()).ok());
			for (bool verify : {true, false}) {
				auto view = OpenIndexView(buf.data(), buf.size(), verify);
				ASSERT_TRUE(view.ok()) << view.status().message();
				MemoryReader r(bytes.data(), bytes.size());
				auto copy = DeserializeIndex(r);
				ASSERT_TRUE(copy.ok()) << copy.status().message();
				const Index &v = *view.value();
				EXPECT_EQ(v.kind(), owning->kind());
				EXPECT_EQ(v.metric(), owning->metric());
				EXPECT_EQ(v.dim(), owning->dim());
				EXPECT_EQ(v.count(), owning->count());
				EXPECT_LT(v.MemoryUsage(), bytes.size() / 4) << "a view's own memory is small";
				EXPECT_EQ(Serialized(v), bytes);
				ExpectSameAnswers(*owning, v, *copy.value(), c);
				Index &mut = *view.value();
				EXPECT_EQ(mut.Add(c.rows.data(), c.labels.data(), 1).code(), StatusCode::kNotSupported);
				EXPECT_EQ(mut.Train(c.rows.data(), c.n).code(), StatusCode::kNotSupported);
				EXPECT_EQ(mut.Build(c.rows.data(), c.labels.data(), 1).code(), StatusCode::kNotSupported);
				int64_t missing = c.max_label + 1;
				std::vector<uint8_t> row(c.row_bytes);
				EXPECT_EQ(v.Reconstruct(&missing, 1, row.data()).code(), StatusCode::kInvalidArgument);
			}
		}
	}
}

TEST(IndexView, EmptyIndexes) {
	for (const IndexConfig &config : ViewConfigs()) {
		SCOPED_TRACE(Name(config));
		auto made = CreateIndex(config);
		ASSERT_TRUE(made.ok());
		std::string bytes = Serialized(*made.value());
		AlignedBytes buf(bytes);
		auto view = OpenIndexView(buf.data(), buf.size(), true);
		ASSERT_TRUE(view.ok()) << view.status().message();
		EXPECT_EQ(view.value()->count(), 0);
		std::vector<uint8_t> q(testutil::RowBytesOf(config.metric, config.dim), IsBinaryKind(config.kind) ? 0 : 1);
		int64_t label = 5;
		float dist = 0;
		Status s = view.value()->Search(q.data(), 1, 1, SearchParams(), {}, &label, &dist);
		ASSERT_TRUE(s.ok()) << s.message();
		EXPECT_EQ(label, -1);
		auto it = view.value()->CreateIterator(q.data(), SearchParams(), {});
		ASSERT_TRUE(it.ok());
		std::vector<Neighbor> out;
		EXPECT_TRUE(it.value()->Next(10, &out).ok());
		EXPECT_TRUE(out.empty());
	}
}

TEST(IndexView, ConcurrentSearchesAgree) {
	IndexConfig config = testutil::MakeConfig(IndexKind::kHnsw, Metric::kL2, 16);
	Case c = MakeCase(config, 3000, true, 21);
	std::unique_ptr<Index> owning = BuildOwning(c);
	std::string bytes = Serialized(*owning);
	AlignedBytes buf(bytes);
	auto view = OpenIndexView(buf.data(), buf.size(), false);
	ASSERT_TRUE(view.ok());
	Answers want = Ask(*owning, c, {}, SearchParams());
	std::vector<std::thread> threads;
	std::vector<int> same(4, 0);
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] { same[t] = Ask(*view.value(), c, {}, SearchParams()) == want; });
	for (std::thread &t : threads)
		t.join();
	for (int t = 0; t < 4; t++)
		EXPECT_TRUE(same[t]) << "thread " << t;
}

// SmallBytes returns the bytes of a small index of config (corruption tests
// try every length and many flips).
std::string SmallBytes(const IndexConfig &config, Case *c) {
	*c = MakeCase(config, 120, false, 31);
	return Serialized(*BuildOwning(*c));
}

// SearchEverything runs every read path of an index over a few queries and
// reports whether each call returned (any status): damaged views must not crash.
void SearchEverything(const Index &index, const Case &c) {
	SearchParams p;
	Bitset half = Bitset::Random(static_cast<size_t>(c.max_label) + 1, 0.5, 6);
	for (BitsetView f : {BitsetView(), half.View()}) {
		std::vector<int64_t> labels(3 * 10);
		std::vector<float> dist(3 * 10);
		(void) index.Search(c.queries.data(), 3, 10, p, f, labels.data(), dist.data());
		std::vector<Neighbor> out;
		(void) index.RangeSearch(c.queries.data(), 1e30f, p, f, &out);
		auto it = index.CreateIterator(c.queries.data(), p, f);
		if (it.ok()) {
			out.clear();
			for (int i = 0; i < 100; i++) {
				size_t had = out.size();
				if (!it.value()->Next(16, &out).ok() || out.size() == had)
					break;
			}
		}
	}
	std::vector<uint8_t> rows(c.n * c.row_bytes);
	(void) index.Reconstruct(c.labels.data(), c.n, rows.data());
}

TEST(IndexView, TruncatedFlippedAndUnaligned) {
	for (const IndexConfig &config : ViewConfigs()) {
		SCOPED_TRACE(Name(config));
		Case c;
		std::string bytes = SmallBytes(config, &c);
		for (size_t len = 0; len < bytes.size(); len++) {
			AlignedBytes buf(bytes.substr(0, len));
			for (bool verify : {true, false}) {
				auto view = OpenIndexView(buf.data(), len, verify);
				ASSERT_FALSE(view.ok()) << "truncated at " << len;
				EXPECT_EQ(view.status().code(), StatusCode::kCorrupt) << len << ": " << view.status().message();
			}
			EXPECT_EQ(VerifyIndexBytes(buf.data(), len).code(), StatusCode::kCorrupt);
		}
		Rng rng(17);
		for (size_t pos = 0; pos < bytes.size(); pos++) {
			std::string bad = bytes;
			bad[pos] = static_cast<char>(bad[pos] ^ static_cast<char>(1 + rng.Below(255)));
			AlignedBytes buf(bad);
			auto view = OpenIndexView(buf.data(), buf.size(), true);
			ASSERT_FALSE(view.ok()) << "byte " << pos << " flipped";
			EXPECT_EQ(view.status().code(), StatusCode::kCorrupt) << view.status().message();
		}
		AlignedBytes shifted(bytes, 8);
		auto view = OpenIndexView(shifted.data(), bytes.size(), true);
		EXPECT_EQ(view.status().code(), StatusCode::kInvalidArgument);
		EXPECT_EQ(OpenIndexView(nullptr, 0, true).status().code(), StatusCode::kInvalidArgument);
	}
}

// ResealedBytes recomputes the trailer's checksum after a change.
void Reseal(std::string *b) {
	size_t body = b->size() - sizeof(IndexTrailer);
	uint64_t h = ChecksumOf(b->data(), body);
	std::memcpy(&(*b)[body + offsetof(IndexTrailer, checksum)], &h, 8);
}

TEST(IndexView, InconsistentBytesNeverCrash) {
	for (const IndexConfig &config : ViewConfigs()) {
		SCOPED_TRACE(Name(config));
		Case c;
		std::string bytes = SmallBytes(config, &c);
		std::mt19937_64 rng(23);
		size_t opened = 0;
		const size_t body = bytes.size() - sizeof(IndexTrailer);
		for (int trial = 0; trial < 1500; trial++) {
			std::string bad = bytes;
			/* garbage words (counts, ids, offsets, levels) anywhere after the
			   header, resealed so that verify passes too */
			int words = 1 + trial % 4;
			for (int i = 0; i < words; i++) {
				size_t at = sizeof(IndexHeader) + rng() % (body - sizeof(IndexHeader) - 4);
				at &= ~size_t{3};
				uint32_t v = trial % 3 == 0 ? static_cast<uint32_t>(rng()) : (trial % 3 == 1 ? 0xffffffffu : 1000u);
				std::memcpy(&bad[at], &v, 4);
			}
			if (trial % 2 == 0)
				Reseal(&bad);
			AlignedBytes buf(bad);
			auto view = OpenIndexView(buf.data(), buf.size(), trial % 2 == 0);
			if (!view.ok()) {
				EXPECT_EQ(view.status().code(), StatusCode::kCorrupt) << view.status().message();
				continue;
			}
			opened++;
			SearchEverything(*view.value(), c);
		}
		std::printf("%s: %zu of 1500 damaged views opened and were searched\n", Name(config).c_str(), opened);
	}
}

TEST(IndexView, FormatTwoIsRefused) {
	Case c;
	std::string bytes = SmallBytes(testutil::MakeConfig(IndexKind::kFlat, Metric::kL2, 16), &c);
	uint32_t two = 2;
	std::memcpy(&bytes[offsetof(IndexHeader, version)], &two, 4);
	MemoryReader r(bytes.data(), bytes.size());
	auto loaded = DeserializeIndex(r);
	EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
	EXPECT_EQ(loaded.status().message(), "index format 2 is no longer supported; REINDEX");
	AlignedBytes buf(bytes);
	EXPECT_EQ(OpenIndexView(buf.data(), buf.size(), false).status().message(),
			  "index format 2 is no longer supported; REINDEX");
}

TEST(IndexView, ChecksumDoesNotDependOnChunks) {
	std::string bytes(1000, '\0');
	Rng rng(3);
	for (char &b : bytes)
		b = static_cast<char>(rng.Below(256));
	uint64_t whole = ChecksumOf(bytes.data(), bytes.size());
	for (size_t step : {1, 3, 7, 31, 32, 33, 100}) {
		Checksum c;
		for (size_t at = 0; at < bytes.size(); at += step)
			c.Update(bytes.data() + at, std::min(step, bytes.size() - at));
		EXPECT_EQ(c.Value(), whole) << step;
	}
}

}  // namespace

}  // namespace vecdb::knowhere
