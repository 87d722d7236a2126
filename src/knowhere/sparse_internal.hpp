// sparse_internal.hpp declares SPARSE_INVERTED's storage for the files that
// implement it: sparse_index.cpp (rows, posting lists, Add, factory),
// sparse_search.cpp (exact and WAND search, iterator) and
// sparse_serialize.cpp (stored form, loading). Internal to the engine.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

#include "knowhere/brute_force.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/sparse_index.hpp"

namespace vecdb::knowhere {

// PostingList holds one dimension's postings (row, value) in increasing row
// order, with the smallest and largest value for WAND's upper bounds.
struct PostingList {
	std::vector<uint32_t> rows;
	std::vector<float> values;
	float max_value = -std::numeric_limits<float>::infinity();
	float min_value = std::numeric_limits<float>::infinity();
};

// QueryTerm is one query term that has a posting list: its weight and the
// most it can add to a row's inner product (never below 0).
struct QueryTerm {
	const PostingList *list;
	float weight;
	float upper;
};

// PreparedQuery is a checked query: every term (normalized under cosine), its
// squared norm, and the terms searched (drop_ratio applied) in index order.
struct PreparedQuery {
	std::vector<int32_t> indices;
	std::vector<float> values;
	float norm_sq = 0;
	std::vector<QueryTerm> terms;

	SparseRow Row() const noexcept {
		return SparseRow{indices.data(), values.data(), static_cast<uint32_t>(indices.size())};
	}
};

// SparseScratch holds one search's per-row buffers, made on first use:
// accumulated inner products and a mark per row, and the rows touched.
struct SparseScratch {
	std::vector<float> scores;
	std::vector<uint8_t> marked;
	std::vector<uint32_t> touched;
};

// SparseInvertedIndex is SPARSE_INVERTED: the rows in compressed form (what
// is stored and what GetRow returns) and one posting list per dimension used.
class SparseInvertedIndex final : public SparseIndex {
public:
	SparseInvertedIndex(Metric metric, int dim) noexcept : metric_(metric), dim_(dim) {}

	IndexKind kind() const noexcept override { return IndexKind::kSparseInverted; }
	Metric metric() const noexcept override { return metric_; }
	int dim() const noexcept override { return dim_; }
	int64_t count() const noexcept override { return static_cast<int64_t>(labels_.size()); }
	uint64_t nnz() const noexcept override { return values_.size(); }
	size_t MemoryUsage() const noexcept override;

	Status Add(const SparseRow *rows, const int64_t *labels, size_t n) noexcept override;
	Status Search(const SparseRow *queries, size_t nq, size_t k, const SparseSearchParams &params,
				  BitsetView filter, int64_t *labels, float *distances) const noexcept override;
	Expected<std::unique_ptr<Iterator>> CreateIterator(const SparseRow &query, const SparseSearchParams &params,
													   BitsetView filter) const noexcept override;
	Status GetRow(int64_t label, SparseRow *row) const noexcept override;
	Status Serialize(ByteWriter &writer) const noexcept override;

	// Load reads the sections after a header already read and checked.
	Status Load(const IndexHeader &header, IndexStreamReader &reader) noexcept;

private:
	/* storage: sparse_index.cpp */

	// CheckRow checks one input row (indices, values, zero under cosine).
	Status CheckRow(const SparseRow &row, const char *what) const noexcept;
	// AppendRows appends n checked rows to the compressed rows (may throw).
	void AppendRows(const SparseRow *rows, const int64_t *labels, size_t n);
	// IndexRows adds rows [first, count) to the posting lists and derived
	// arrays; false when poll is set and the build stop callback said stop
	// (may throw; either way TruncateRows(first) undoes it).
	bool IndexRows(size_t first, bool poll);
	// TruncateRows drops every row from first on, lists included.
	void TruncateRows(size_t first) noexcept;
	// RowOf returns the position of label's row, or count() when none.
	size_t RowOf(int64_t label) const noexcept;
	// FindList returns the posting list of dimension d, or nullptr.
	const PostingList *FindList(int32_t d) const noexcept;
	// RowAt returns stored row r.
	SparseRow RowAt(size_t r) const noexcept {
		return SparseRow{indices_.data() + row_offsets_[r], values_.data() + row_offsets_[r],
						 static_cast<uint32_t>(row_offsets_[r + 1] - row_offsets_[r])};
	}
	// Allowed reports whether the filter lets row r through.
	bool Allowed(BitsetView filter, size_t r) const noexcept { return !filter.test(labels_[r]); }

	/* search: sparse_search.cpp */

	// Prepare checks and normalizes a query and picks its searched terms.
	Status Prepare(const SparseRow &query, const SparseSearchParams &params, bool all_terms,
				   PreparedQuery *out) const noexcept;
	// DistanceOf turns an inner product with row r into the metric's distance.
	float DistanceOf(float ip, size_t r, const PreparedQuery &q) const noexcept;
	// ScoreBar is the inner product a row must reach to enter top (IP, cosine).
	float ScoreBar(const TopK &top) const noexcept;
	// ZeroDistance is the distance of a row sharing no term with the query
	// (inner product and cosine only).
	float ZeroDistance() const noexcept;
	// SearchOne finds one query's top k into top.
	Status SearchOne(const PreparedQuery &q, size_t k, const SparseSearchParams &params, BitsetView filter,
					 StopPoller *poller, SparseScratch *scratch, TopK *top) const noexcept;
	// AllowedRows returns how many rows the filter allows.
	size_t AllowedRows(BitsetView filter) const noexcept;
	// ScanAllowed scores every allowed row from the compressed rows.
	Status ScanAllowed(const PreparedQuery &q, BitsetView filter, StopPoller *poller, TopK *top) const noexcept;
	// Accumulate sums the searched terms' postings into scratch (term at a
	// time), marking the rows touched when mark is set.
	Status Accumulate(const PreparedQuery &q, bool mark, StopPoller *poller, SparseScratch *scratch) const noexcept;
	// SearchExact accumulates and pushes the allowed rows that can enter top.
	Status SearchExact(const PreparedQuery &q, uint64_t postings, BitsetView filter, StopPoller *poller,
					   SparseScratch *scratch, TopK *top) const noexcept;
	// SearchWand runs WAND over the searched terms' lists.
	Status SearchWand(const PreparedQuery &q, BitsetView filter, StopPoller *poller, TopK *top) const noexcept;
	// FillZeros pushes allowed rows sharing no searched term, when they could
	// still enter top (fewer than k found, or the worst found scores <= 0).
	Status FillZeros(const PreparedQuery &q, BitsetView filter, SparseScratch *scratch, TopK *top) const noexcept;
	// Refine re-scores the candidates (a TopK of capacity want) with the
	// whole query into top (may throw).
	void Refine(const PreparedQuery &q, size_t want, TopK *candidates, TopK *top) const;

	Metric metric_;
	int dim_;
	/* rows, compressed: row r is [row_offsets_[r], row_offsets_[r + 1]) of indices_ and values_ */
	std::vector<int64_t> labels_;
	std::vector<uint64_t> row_offsets_{0};
	std::vector<int32_t> indices_;
	std::vector<float> values_;
	std::vector<float> norms_sq_;  /* squared norm of each stored row */
	/* posting lists, one per dimension that some row holds */
	std::unordered_map<int32_t, uint32_t> list_of_dim_;
	std::vector<PostingList> lists_;
	bool ascending_ = true;       /* labels strictly increasing: GetRow binary-searches */
	bool identity_labels_ = true; /* labels_[r] == r: filters counted with a popcount */
};

// kSparseAscending flags stored labels as strictly increasing.
constexpr uint32_t kSparseAscending = 1;

}  // namespace vecdb::knowhere
