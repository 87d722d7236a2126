// test_index_hnsw_sq.cpp tests the memory-light HNSW kind, HNSW_SQ, and its
// scalar quantizer: codes decode within half a step, trained codecs
// (centroids, cut tails) code closer than min/max ranges, stored codecs load
// and bad ones are refused, kernels equal decoded rows; the stored form is a
// fraction of HNSW's; a view and a loaded copy re-rank through a RowSource
// to recall@10 >= 0.95 with exact distances, unfiltered and at 1%, 10% and
// 50% allowed, under L2, inner product and cosine; without rows they still
// answer (code distances) but refuse what needs the rows; the iterator
// returns every allowed row once; damaged bytes are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/brute_force.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/index.hpp"
#include "knowhere/sq_codec.hpp"

namespace vecdb::knowhere {

namespace {

using testutil::Bitset;
using testutil::GaussianMixture;

// Aligned is a 64-byte aligned copy of bytes (what OpenIndexView needs).
class Aligned {
public:
	explicit Aligned(const std::string &b) : size_(b.size()) {
		p_ = static_cast<uint8_t *>(std::aligned_alloc(64, (b.size() + 63) / 64 * 64 + 64));
		std::memcpy(p_, b.data(), b.size());
	}
	~Aligned() { std::free(p_); }
	Aligned(const Aligned &) = delete;
	Aligned &operator=(const Aligned &) = delete;
	uint8_t *data() const { return p_; }
	size_t size() const { return size_; }

private:
	uint8_t *p_;
	size_t size_;
};

// MemoryRows is a RowSource over rows SerializeRows wrote; it counts reads.
class MemoryRows final : public RowSource {
public:
	MemoryRows(std::string bytes, int dim) : bytes_(std::move(bytes)), dim_(static_cast<size_t>(dim)) {}
	Status Read(const uint64_t *ids, size_t n, float *out) const noexcept override {
		size_t row = dim_ * sizeof(float);
		for (size_t i = 0; i < n; i++) {
			if ((ids[i] + 1) * row > bytes_.size())
				return Status::InvalidArgument("row out of range");
			std::memcpy(out + i * dim_, bytes_.data() + ids[i] * row, row);
		}
		reads += n;
		return Status::Ok();
	}
	mutable size_t reads = 0;

private:
	std::string bytes_;
	size_t dim_;
};

// Built is an HNSW_SQ index built over clustered rows, its stored form and rows.
struct Built {
	IndexConfig config;
	size_t n = 0;
	std::vector<float> rows;
	std::vector<int64_t> labels;
	std::vector<float> queries;
	size_t nq = 40;
	std::unique_ptr<Index> owner;
	std::string bytes;
	std::string row_bytes;
};

Built Build(Metric metric, int bits, int dim, size_t n, uint64_t seed, int threads = 0) {
	Built b;
	b.config = testutil::MakeConfig(IndexKind::kHnswSq, metric, dim);
	b.config.nbits = bits;
	if (threads > 0)
		b.config.threads = threads;
	b.n = n;
	GaussianMixture g = GaussianMixture::Make(dim, 16, seed);
	b.rows = g.Sample(n, seed + 1);
	b.queries = g.Sample(b.nq, seed + 2);
	b.labels.resize(n);
	for (size_t i = 0; i < n; i++)
		b.labels[i] = static_cast<int64_t>(i);
	auto made = CreateIndex(b.config);
	EXPECT_TRUE(made.ok()) << made.status().message();
	b.owner = std::move(made).value();
	EXPECT_TRUE(b.owner->Build(b.rows.data(), b.labels.data(), n).ok());
	StringWriter w, r;
	EXPECT_TRUE(b.owner->Serialize(w).ok());
	EXPECT_TRUE(b.owner->SerializeRows(r).ok());
	b.bytes = w.bytes();
	b.row_bytes = r.bytes();
	return b;
}

// Recall searches idx for every query (k 10) and returns recall@10; with
// check_distances it also checks that each distance is the exact score.
double Recall(const Built &b, const Index &idx, BitsetView filter, bool check_distances, size_t k = 10,
			  SearchParams params = SearchParams()) {
	auto truth = testutil::ExactSearch(b.config.metric, b.config.dim, b.rows.data(), b.labels.data(), b.n,
									   b.queries.data(), b.nq, k, filter);
	std::vector<int64_t> labels(b.nq * k);
	std::vector<float> dist(b.nq * k);
	EXPECT_TRUE(idx.Search(b.queries.data(), b.nq, k, params, filter, labels.data(), dist.data()).ok());
	std::vector<float> q(static_cast<size_t>(b.config.dim)), row(static_cast<size_t>(b.config.dim));
	for (size_t i = 0; i < b.nq * k; i++) {
		if (labels[i] < 0)
			continue;
		EXPECT_FALSE(filter.test(labels[i])) << "a filtered label came back";
		if (check_distances) {
			size_t qi = i / k;
			EXPECT_TRUE(PrepareVector(b.config.metric, b.config.dim, b.queries.data() + qi * b.config.dim, q.data(),
									  "query")
							.ok());
			EXPECT_TRUE(PrepareVector(b.config.metric, b.config.dim, b.rows.data() + labels[i] * b.config.dim,
									  row.data(), "row")
							.ok());
			EXPECT_NEAR(dist[i], Score(b.config.metric, b.config.dim, q.data(), row.data()), 1e-4);
		}
	}
	return testutil::RecallAtK(truth, labels.data(), k);
}

// MinMax is a codec with one cluster and the minimum and maximum as ranges.
constexpr SqTrainOptions kMinMax{1, false};

// Train returns a codec of bits trained on rows (n x dim) with options.
SqCodec Train(int bits, int dim, const std::vector<float> &rows, SqTrainOptions options = SqTrainOptions()) {
	SqCodec codec(bits, dim);
	codec.Train(rows.size() / static_cast<size_t>(dim), [&](size_t i) { return rows.data() + i * dim; }, options);
	return codec;
}

// ExpectWithinHalfAStep checks that every row decodes within half a step of
// its values clamped to its cluster's range.
void ExpectWithinHalfAStep(const SqCodec &codec, const std::vector<float> &rows, int dim) {
	std::vector<uint8_t> code(codec.code_bytes());
	std::vector<float> back(static_cast<size_t>(dim));
	for (size_t i = 0; i < rows.size() / static_cast<size_t>(dim); i++) {
		codec.Encode(rows.data() + i * dim, code.data());
		codec.Decode(code.data(), back.data());
		uint32_t j;
		std::memcpy(&j, code.data(), sizeof(j));
		ASSERT_LT(j, codec.clusters());
		ASSERT_EQ(j, codec.Cluster(rows.data() + i * dim));
		for (int d = 0; d < dim; d++) {
			float want = std::clamp(rows[i * dim + d], codec.low(j, d), codec.high(j, d));
			ASSERT_LE(std::fabs(back[d] - want), codec.step(j)[d] * 0.5f + 1e-4f) << "dim " << dim << " d " << d;
		}
	}
}

TEST(SqCodec, CodesDecodeWithinHalfAStep) {
	for (int bits : {4, 8}) {
		for (int dim : {1, 7, 16, 20, 37, 64}) {
			SCOPED_TRACE("bits " + std::to_string(bits) + " dim " + std::to_string(dim));
			GaussianMixture g = GaussianMixture::Make(dim, 4, 7);
			std::vector<float> rows = g.Sample(3000, 8);
			/* min/max ranges hold every row: within half a step of the row itself */
			SqCodec minmax = Train(bits, dim, rows, kMinMax);
			ASSERT_EQ(minmax.code_bytes() % 8, 0u);
			ASSERT_EQ(minmax.clusters(), 1u);
			ExpectWithinHalfAStep(minmax, rows, dim);
			/* trained codecs: 30 clusters at 3,000 rows, tails cut */
			SqCodec trained = Train(bits, dim, rows);
			ASSERT_EQ(trained.clusters(), 30u);
			ExpectWithinHalfAStep(trained, rows, dim);
		}
	}
}

// CodingError returns the mean squared error of coding rows (n x dim) with codec.
double CodingError(const SqCodec &codec, const std::vector<float> &rows, int dim) {
	std::vector<uint8_t> code(codec.code_bytes());
	std::vector<float> back(static_cast<size_t>(dim));
	double sum = 0;
	size_t n = rows.size() / static_cast<size_t>(dim);
	for (size_t i = 0; i < n; i++) {
		codec.Encode(rows.data() + i * dim, code.data());
		codec.Decode(code.data(), back.data());
		for (int d = 0; d < dim; d++)
			sum += (back[d] - rows[i * dim + d]) * (back[d] - rows[i * dim + d]);
	}
	return sum / static_cast<double>(rows.size());
}

TEST(SqCodec, TrainedCodecsCodeCloserThanMinimumAndMaximum) {
	/* 20 well separated clusters */
	const int dim = 24;
	GaussianMixture g = GaussianMixture::Make(dim, 20, 21);
	std::vector<float> rows = g.Sample(20000, 22), outliers = rows;
	/* residuals from 20 centroids span far less than the rows */
	for (int bits : {4, 8}) {
		double one = CodingError(Train(bits, dim, rows, SqTrainOptions{1, true}), rows, dim);
		double clustered = CodingError(Train(bits, dim, rows), rows, dim);
		EXPECT_LT(clustered, 0.5 * one) << "bits " << bits;
	}
	/* a few far outliers stretch min/max ranges */
	for (size_t i = 0; i < 20; i++)
		outliers[i * 997 % 20000 * dim + i % dim] *= 25.0f;
	for (int bits : {4, 8}) {
		double minmax = CodingError(Train(bits, dim, outliers, kMinMax), outliers, dim);
		double cut = CodingError(Train(bits, dim, outliers, SqTrainOptions{1, true}), outliers, dim);
		/* at 4 bits the outliers make min/max ranges several times too wide;
		   at 8 bits clipping them would cost more than the finer step saves */
		if (bits == 4)
			EXPECT_LT(cut, 0.5 * minmax);
		else
			EXPECT_LE(cut, 1.02 * minmax);
	}
	/* on data with no tails to cut, cutting never does worse than min/max */
	std::vector<float> uniform(4000 * dim);
	for (size_t i = 0; i < uniform.size(); i++)
		uniform[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
	for (int bits : {4, 8})
		EXPECT_LE(CodingError(Train(bits, dim, uniform, SqTrainOptions{1, true}), uniform, dim),
				  CodingError(Train(bits, dim, uniform, kMinMax), uniform, dim) * 1.02)
			<< "bits " << bits;
}

// Training splits its nearest-cluster look-ups over threads: the codec, and
// so every code, is the one-thread codec's.
TEST(SqCodec, TrainingThreadsGiveTheSameCodes) {
	const int dim = 32;
	GaussianMixture g = GaussianMixture::Make(dim, 12, 41);
	std::vector<float> rows = g.Sample(30000, 42);
	for (int bits : {4, 8}) {
		SqTrainOptions one, three;
		three.threads = 3;
		SqCodec a = Train(bits, dim, rows, one), b = Train(bits, dim, rows, three);
		std::vector<uint8_t> ca(a.code_bytes()), cb(b.code_bytes());
		size_t differ = 0;
		for (size_t i = 0; i < rows.size() / dim; i++) {
			a.Encode(rows.data() + i * dim, ca.data());
			b.Encode(rows.data() + i * dim, cb.data());
			differ += ca != cb;
		}
		EXPECT_EQ(differ, 0u) << "bits " << bits;
	}
}

TEST(SqCodec, StoredCodecLoadsAndRefusesBadValues) {
	GaussianMixture g = GaussianMixture::Make(16, 4, 5);
	std::vector<float> rows = g.Sample(5000, 6);
	SqCodec codec = Train(4, 16, rows);
	SqMeta meta = codec.Meta();
	EXPECT_EQ(meta.clusters, 50u);
	std::vector<float> step(codec.step(0), codec.step(0) + 50 * 16), centers(codec.center(0), codec.center(0) + 50 * 16);
	SqCodec loaded, borrowed;
	ASSERT_TRUE(loaded.Load(meta, step.data(), centers.data()));
	ASSERT_TRUE(borrowed.Load(meta, step.data(), centers.data(), true));
	EXPECT_EQ(loaded.OwnedBytes(), 2 * 50 * 16 * sizeof(float));
	EXPECT_EQ(borrowed.OwnedBytes(), 0u);
	EXPECT_EQ(borrowed.center(3), centers.data() + 3 * 16);
	std::vector<uint8_t> code(codec.code_bytes());
	std::vector<float> a(16), b(16), c(16);
	codec.Encode(rows.data(), code.data());
	codec.Decode(code.data(), a.data());
	loaded.Decode(code.data(), b.data());
	SqCodec copy = borrowed; /* a copy borrows the same arrays */
	copy.Decode(code.data(), c.data());
	EXPECT_EQ(a, b);
	EXPECT_EQ(a, c);
	SqMeta bad = meta;
	bad.clusters = 0;
	EXPECT_FALSE(SqCodec().Load(bad, step.data(), centers.data()));
	bad = meta;
	bad.clusters = kSqMaxClusters + 1;
	EXPECT_FALSE(SqCodec().Load(bad, step.data(), centers.data()));
	bad = meta;
	bad.code_bytes += 8;
	EXPECT_FALSE(SqCodec().Load(bad, step.data(), centers.data()));
	centers[17] = std::numeric_limits<float>::infinity();
	EXPECT_FALSE(SqCodec().Load(meta, step.data(), centers.data()));
	/* a code naming a cluster past the last decodes against cluster 0, never outside */
	uint32_t far = 1000;
	std::memcpy(code.data(), &far, sizeof(far));
	loaded.Decode(code.data(), b.data());
	EXPECT_TRUE(std::all_of(b.begin(), b.end(), [](float v) { return std::isfinite(v); }));
}

TEST(SqCodec, KernelsMatchDecodedRows) {
	for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
	if (!SetSimdLevel(level))
		continue;
	SCOPED_TRACE("SIMD level " + std::to_string(static_cast<int>(level)));
	for (int bits : {4, 8}) {
		for (int dim : {5, 16, 24, 33, 100}) {
			GaussianMixture g = GaussianMixture::Make(dim, 4, 9);
			std::vector<float> rows = g.Sample(2000, 10), q = g.Sample(1, 11);
			SqCodec codec = Train(bits, dim, rows);
			ASSERT_EQ(codec.clusters(), 20u);
			std::vector<uint8_t> code(codec.code_bytes());
			std::vector<float> back(static_cast<size_t>(dim));
			for (size_t i = 0; i < 2000; i += 40) {
				codec.Encode(rows.data() + i * dim, code.data());
				codec.Decode(code.data(), back.data());
				for (Metric m : {Metric::kL2, Metric::kInnerProduct}) {
					float want = Score(m, dim, q.data(), back.data());
					float got = SqDistanceFor(m, bits)(q.data(), code.data(), &codec);
					ASSERT_NEAR(got, want, 1e-3f * (1.0f + std::fabs(want))) << "bits " << bits << " dim " << dim;
				}
			}
		}
	}
	}
	SetSimdLevel(BestSimdLevel());
}

TEST(HnswSq, ConfigNeedsFourOrEightBits) {
	IndexConfig c = testutil::MakeConfig(IndexKind::kHnswSq, Metric::kL2, 16);
	c.nbits = 5;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kInvalidArgument);
	c.nbits = 4;
	EXPECT_TRUE(CreateIndex(c).ok());
	c.metric = Metric::kL1;
	EXPECT_EQ(CreateIndex(c).status().code(), StatusCode::kNotSupported);
}

TEST(HnswSq, StoredFormIsAFractionOfHnsws) {
	Built b = Build(Metric::kL2, 4, 128, 4000, 21);
	IndexConfig hc = b.config;
	hc.kind = IndexKind::kHnsw;
	auto h = CreateIndex(hc);
	ASSERT_TRUE(h.ok());
	ASSERT_TRUE(h.value()->Build(b.rows.data(), b.labels.data(), b.n).ok());
	StringWriter w;
	ASSERT_TRUE(h.value()->Serialize(w).ok());
	double ratio4 = static_cast<double>(b.bytes.size()) / static_cast<double>(w.bytes().size());
	Built b8 = Build(Metric::kL2, 8, 128, 4000, 21);
	double ratio8 = static_cast<double>(b8.bytes.size()) / static_cast<double>(w.bytes().size());
	/* 128 dims, m 16: elements of 4 + 128 + 512 + 8 bytes become 4 + 128 + 64 (or 128) + 8 */
	EXPECT_LT(ratio4, 0.40) << b.bytes.size() << " of " << w.bytes().size();
	EXPECT_LT(ratio8, 0.50);
	EXPECT_GT(ratio8, ratio4);
	EXPECT_EQ(b.row_bytes.size(), b.n * 128 * sizeof(float));
}

// Encoding at Serialize is split over the build's threads (9,000 rows: two
// full chunks of 4,096 and a partial one, each in 3 parts): every row's code
// is right (recall with exact distances through a view), the bytes do not
// depend on scheduling, and a stop request between chunks cancels it.
TEST(HnswSq, EncodingThreadsKeepRecallAndStop) {
	Built b = Build(Metric::kL2, 8, 48, 9000, 31, 3);
	ASSERT_EQ(b.config.threads, 3);
	MemoryRows rows(b.row_bytes, 48);
	Aligned a(b.bytes);
	auto view = OpenIndexView(a.data(), a.size(), true);
	ASSERT_TRUE(view.ok()) << view.status().message();
	ASSERT_TRUE(view.value()->SetRowSource(&rows).ok());
	EXPECT_GE(Recall(b, *view.value(), {}, true, 10), 0.95);
	for (int i = 0; i < 3; i++) {
		StringWriter again;
		ASSERT_TRUE(b.owner->Serialize(again).ok());
		EXPECT_TRUE(again.bytes() == b.bytes) << "serializing again wrote other bytes";
	}
	int calls = 0;
	b.owner->SetBuildControl([](void *arg) noexcept { return ++*static_cast<int *>(arg) > 1; }, &calls);
	StringWriter stopped;
	EXPECT_EQ(b.owner->Serialize(stopped).code(), StatusCode::kCancelled);
	EXPECT_EQ(calls, 2);
}

TEST(HnswSq, ViewAndLoadedCopyRerankToExactDistances) {
	for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
		for (int bits : {4, 8}) {
			SCOPED_TRACE(std::string("metric ") + std::to_string(static_cast<int>(metric)) + " bits " +
						 std::to_string(bits));
			Built b = Build(metric, bits, 48, 6000, 31);
			MemoryRows rows(b.row_bytes, 48);
			Aligned a(b.bytes);
			auto view = OpenIndexView(a.data(), a.size(), true);
			ASSERT_TRUE(view.ok()) << view.status().message();
			EXPECT_EQ(view.value()->kind(), IndexKind::kHnswSq);
			EXPECT_EQ(view.value()->count(), 6000);
			EXPECT_TRUE(view.value()->KeepsRowsApart());
			MemoryReader reader(b.bytes.data(), b.bytes.size());
			auto loaded = DeserializeIndex(reader);
			ASSERT_TRUE(loaded.ok()) << loaded.status().message();
			/* the default depth; 4-bit codes of these tight clusters under cosine
			   rank less well (0.91; 0.51 with one cluster of min/max ranges) and
			   reach 0.95 with a deeper re-rank */
			SearchParams deep;
			deep.rerank = 16;
			for (Index *idx : {view.value().get(), loaded.value().get()}) {
				ASSERT_TRUE(idx->SetRowSource(&rows).ok());
				EXPECT_GE(Recall(b, *idx, {}, true, 10), bits == 4 && metric == Metric::kCosine ? 0.85 : 0.95);
				EXPECT_GE(Recall(b, *idx, {}, true, 10, deep), 0.95);
			}
			EXPECT_GT(rows.reads, 0u);
			/* a loaded copy serializes back to the same bytes */
			StringWriter again;
			ASSERT_TRUE(loaded.value()->Serialize(again).ok());
			EXPECT_EQ(again.bytes(), b.bytes);
		}
	}
}

TEST(HnswSq, FilteredSearchKeepsRecall) {
	Built b = Build(Metric::kL2, 8, 32, 10000, 41);
	MemoryRows rows(b.row_bytes, 32);
	Aligned a(b.bytes);
	auto view = OpenIndexView(a.data(), a.size(), false);
	ASSERT_TRUE(view.ok());
	ASSERT_TRUE(view.value()->SetRowSource(&rows).ok());
	for (double allowed : {0.01, 0.10, 0.50}) {
		Bitset f = Bitset::Random(b.n, 1.0 - allowed, 42);
		SCOPED_TRACE("allowed " + std::to_string(allowed));
		EXPECT_GE(Recall(b, *view.value(), f.View(), true), 0.95);
		/* the brute-force switch off: the graph walk alone */
		SearchParams p;
		p.brute_force_ratio = 0;
		EXPECT_GE(Recall(b, *view.value(), f.View(), false, 10, p), 0.95);
	}
}

TEST(HnswSq, IteratorReturnsEveryAllowedRowOnce) {
	Built b = Build(Metric::kL2, 8, 16, 3000, 51);
	MemoryRows rows(b.row_bytes, 16);
	Aligned a(b.bytes);
	auto view = OpenIndexView(a.data(), a.size(), false);
	ASSERT_TRUE(view.ok());
	ASSERT_TRUE(view.value()->SetRowSource(&rows).ok());
	for (double allowed : {0.02, 0.6, 1.0}) {
		Bitset f = allowed < 1.0 ? Bitset::Random(b.n, 1.0 - allowed, 52) : Bitset(b.n);
		size_t want = 0;
		for (size_t i = 0; i < b.n; i++)
			want += !f.View().test(static_cast<int64_t>(i));
		auto it = view.value()->CreateIterator(b.queries.data(), SearchParams(), f.View());
		ASSERT_TRUE(it.ok());
		std::vector<Neighbor> out;
		for (size_t batch = 7;; batch = batch * 2) {
			size_t before = out.size();
			ASSERT_TRUE(it.value()->Next(batch, &out).ok());
			if (out.size() == before)
				break;
		}
		std::set<int64_t> seen;
		for (const Neighbor &nb : out) {
			EXPECT_FALSE(f.View().test(nb.label));
			EXPECT_TRUE(seen.insert(nb.label).second) << "label " << nb.label << " twice";
		}
		EXPECT_EQ(seen.size(), want) << "allowed " << allowed;
	}
}

TEST(HnswSq, WithoutRowsSearchesCodesAndRefusesWhatNeedsRows) {
	Built b = Build(Metric::kL2, 8, 32, 4000, 61);
	Aligned a(b.bytes);
	auto view = OpenIndexView(a.data(), a.size(), false);
	ASSERT_TRUE(view.ok());
	/* code distances rank well at 8 bits, but are not the exact ones */
	EXPECT_GE(Recall(b, *view.value(), {}, false), 0.85);
	int64_t label = 3;
	std::vector<float> out(32);
	EXPECT_EQ(view.value()->Reconstruct(&label, 1, out.data()).code(), StatusCode::kNotSupported);
	std::vector<Neighbor> found;
	EXPECT_EQ(view.value()->RangeSearch(b.queries.data(), 1.0f, SearchParams(), {}, &found).code(),
			  StatusCode::kNotSupported);
	EXPECT_EQ(view.value()->Add(b.rows.data(), b.labels.data(), 1).code(), StatusCode::kNotSupported);
	StringWriter w;
	EXPECT_EQ(view.value()->SerializeRows(w).code(), StatusCode::kNotSupported);
}

TEST(HnswSq, ReconstructAndRangeSearchReadTheRows) {
	Built b = Build(Metric::kL2, 4, 24, 2000, 71);
	MemoryRows rows(b.row_bytes, 24);
	Aligned a(b.bytes);
	auto view = OpenIndexView(a.data(), a.size(), false);
	ASSERT_TRUE(view.ok());
	ASSERT_TRUE(view.value()->SetRowSource(&rows).ok());
	std::vector<int64_t> labels = {0, 1999, 700};
	std::vector<float> out(3 * 24);
	ASSERT_TRUE(view.value()->Reconstruct(labels.data(), 3, out.data()).ok());
	for (size_t i = 0; i < 3; i++)
		for (size_t d = 0; d < 24; d++)
			EXPECT_EQ(out[i * 24 + d], b.rows[static_cast<size_t>(labels[i]) * 24 + d]);
	int64_t missing = 2000;
	EXPECT_EQ(view.value()->Reconstruct(&missing, 1, out.data()).code(), StatusCode::kInvalidArgument);
	auto truth = testutil::ExactSearch(Metric::kL2, 24, b.rows.data(), b.labels.data(), b.n, b.queries.data(), 1, 0);
	float radius = static_cast<float>(truth[0][30].distance);
	std::vector<Neighbor> found;
	ASSERT_TRUE(view.value()->RangeSearch(b.queries.data(), radius, SearchParams(), {}, &found).ok());
	EXPECT_GE(found.size(), 30u);
	EXPECT_LE(found.size(), 32u);
	StringWriter copy;
	ASSERT_TRUE(view.value()->SerializeRows(copy).ok());
	EXPECT_EQ(copy.bytes(), b.row_bytes);
}

TEST(HnswSq, DamagedBytesAreRefused) {
	Built b = Build(Metric::kL2, 4, 16, 1500, 81);
	/* truncated */
	for (size_t cut : {b.bytes.size() / 3, b.bytes.size() - 9}) {
		std::string t = b.bytes.substr(0, cut);
		MemoryReader reader(t.data(), t.size());
		EXPECT_FALSE(DeserializeIndex(reader).ok());
		Aligned a(t);
		EXPECT_FALSE(OpenIndexView(a.data(), a.size(), true).ok());
	}
	/* a flipped byte fails the checksum; a bad codec is refused even unverified */
	std::string flipped = b.bytes;
	flipped[flipped.size() / 2] ^= 0x40;
	Aligned f(flipped);
	EXPECT_EQ(OpenIndexView(f.data(), f.size(), true).status().code(), StatusCode::kCorrupt);
	std::string bad = b.bytes;
	SqMeta meta;
	std::memcpy(&meta, bad.data() + 64, sizeof(meta));
	meta.bits = 6;
	std::memcpy(bad.data() + 64, &meta, sizeof(meta));
	Aligned c(bad);
	EXPECT_EQ(OpenIndexView(c.data(), c.size(), false).status().code(), StatusCode::kCorrupt);
}

}  // namespace

}  // namespace vecdb::knowhere
