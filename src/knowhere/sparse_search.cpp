// sparse_search.cpp implements SPARSE_INVERTED's searches: exact term at a
// time, WAND document at a time, the exact scan of a few allowed rows, and
// the exact iterator.
//
// Design. A row's score is its inner product with the query, summed in
// increasing index order starting from 0 in float, exactly as
// SparseInnerProductF32 sums it; every path (term at a time, WAND, the scan
// of allowed rows, re-scoring) adds the same products in that order, so all
// exact paths return bit-identical distances and the same (distance, label)
// order. Rows sharing no searched term score 0; FillZeros adds them only when
// they can still enter the top k (fewer than k found, or the k-th found
// scores 0 or less), so k results come whenever k rows are allowed.
//
// WAND (Broder et al. 2003) keeps one cursor per searched term, sorted by
// the row it points at. Each term adds at most upper = max(0, w * max,
// w * min) to a row's score. Walking the cursors in row order, the first
// whose accumulated upper reaches the current k-th score is the pivot: rows
// before the pivot's row can only be in the preceding lists and cannot reach
// the threshold, so those cursors jump to it. When the first cursor is at
// the pivot row already, that row is scored and every cursor on it moves on.
// Bounds are compared with a slack of (terms + 2) float roundings of the
// largest products the terms can give, so no row
// that the exact sum would let in (ties by label included) is skipped: WAND
// returns exactly the exact search's top k. L2 ranks by |r|^2 - 2 ip, which
// a row sharing no term still changes, so L2 always runs the exact search.
//
// Filters: a filtered row is skipped at the pivot (never scored, never a
// threshold). When scoring the allowed rows would cost less than walking the
// query's postings (ScanCostPerRow), the allowed rows are scored directly
// from the compressed rows instead (ScanAllowed, RowScorer), as the dense
// kinds switch to exact search below their brute-force ratio.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "knowhere/catching.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/sparse_internal.hpp"

namespace vecdb::knowhere {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr uint32_t kEndRow = std::numeric_limits<uint32_t>::max();
// kEveryRowPostings: the exact search passes every row instead of the rows it
// touched when the query's postings are at least this many times the rows.
constexpr uint64_t kEveryRowPostings = 1;
// kCosineBarSlack relaxes ScoreBar under cosine by many float roundings of 1.
constexpr float kCosineBarSlack = 1e-5f;
// kScanStepPostings: scoring an allowed row from the compressed rows costs
// about this many postings per merge step (bench_sparse, 100,000 rows:
// ~1 ns a posting term at a time, ~4 ns a merge step).
constexpr uint64_t kScanStepPostings = 4;
// kDenseQueryDims: up to this many dimensions an allowed-row scan looks the
// query up in a dense copy of it (RowScorer), so a row costs its own
// non-zeros, about kLookupStepPostings postings each, instead of a merge.
constexpr int kDenseQueryDims = 1 << 18;
constexpr uint64_t kLookupStepPostings = 4;

// RowScorer scores stored rows against a query: by lookup in a dense copy of
// the query when the index has at most kDenseQueryDims dimensions, else by
// merging the two index lists. Both sum q * r in increasing index order.
class RowScorer {
public:
	RowScorer(const SparseRow &query, int dim) : query_(query) {
		if (dim <= kDenseQueryDims) {
			dense_.assign(static_cast<size_t>(dim), 0.0f);
			for (uint32_t i = 0; i < query.nnz; i++)
				dense_[static_cast<size_t>(query.indices[i])] = query.values[i];
		}
	}
	float Score(const SparseRow &row) const noexcept {
		if (dense_.empty())
			return SparseInnerProductF32(query_.indices, query_.values, query_.nnz, row.indices, row.values, row.nnz);
		const float *q = dense_.data();
		float s = 0;
		for (uint32_t i = 0; i < row.nnz; i++)
			s += q[row.indices[i]] * row.values[i];
		return s;
	}

private:
	SparseRow query_;
	std::vector<float> dense_;
};

// ScanCostPerRow returns what scoring one row of nnz_per_row non-zeros from
// the compressed rows costs, in postings, against a query of query_nnz terms.
uint64_t ScanCostPerRow(uint64_t nnz_per_row, uint64_t query_nnz, int dim) noexcept {
	if (dim <= kDenseQueryDims)
		return std::max<uint64_t>(nnz_per_row, 1) * kLookupStepPostings;
	return (nnz_per_row + query_nnz) * kScanStepPostings;
}

// Cursor walks one searched term's posting list for WAND.
struct Cursor {
	const uint32_t *rows;
	const float *values;
	uint32_t pos;
	uint32_t len;
	float weight;
	float upper;
	uint32_t term; /* position among the searched terms: the order of summation */
	uint32_t row;  /* rows[pos], or kEndRow past the end */

	// Settle caches the row at pos.
	void Settle() noexcept { row = pos < len ? rows[pos] : kEndRow; }
	// Next moves to the following posting.
	void Next() noexcept {
		pos++;
		Settle();
	}
	// SeekTo moves to the first posting at or after target (gallop, then binary search).
	void SeekTo(uint32_t target) noexcept {
		uint32_t step = 1, lo = pos, hi = pos;
		while (hi < len && rows[hi] < target) {
			lo = hi;
			hi = step >= len - hi ? len : hi + step;
			step *= 2;
		}
		pos = static_cast<uint32_t>(std::lower_bound(rows + lo, rows + hi, target) - rows);
		Settle();
	}
};

// SortCursors restores row order of the cursor pointers after some cursors
// moved (insertion sort: the order is nearly right).
void SortCursors(std::vector<Cursor *> *order) noexcept {
	std::vector<Cursor *> &c = *order;
	for (size_t i = 1; i < c.size(); i++) {
		Cursor *moving = c[i];
		size_t j = i;
		for (; j > 0 && c[j - 1]->row > moving->row; j--)
			c[j] = c[j - 1];
		c[j] = moving;
	}
}

// SumInTermOrder adds the products of the cursors c[0..n) (all on one row)
// in term order, as the exact search adds them.
float SumInTermOrder(Cursor **c, size_t n) noexcept {
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && c[j - 1]->term > c[j]->term; j--)
			std::swap(c[j - 1], c[j]);
	float ip = 0;
	for (size_t i = 0; i < n; i++)
		ip += c[i]->weight * c[i]->values[c[i]->pos];
	return ip;
}

// SparseExactIterator returns the allowed rows of a scored index in
// (distance, label) order. It holds one distance per row and selects each
// batch in a pass over them (a bounded heap of the batch's size, above the
// last row returned), so a LIMIT 10 scan costs one pass, not a sort of every
// row; (distance, label) is a strict order, so no row comes twice.
class SparseExactIterator final : public Iterator {
public:
	SparseExactIterator(std::vector<float> dist, const std::vector<int64_t> *labels, BitsetView filter,
						size_t allowed) noexcept
		: dist_(std::move(dist)), labels_(labels), filter_(filter), remaining_(allowed) {}
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override {
		if (out == nullptr)
			return Status::InvalidArgument("output must not be null");
		size_t take = std::min(max_batch, remaining_);
		if (take == 0)
			return Status::Ok();
		return Catching("returning iterator results", [&] {
			heap_.clear();
			heap_.reserve(take);
			const int64_t *labels = labels_->data();
			for (size_t r = 0; r < dist_.size(); r++) {
				if (filter_.test(labels[r]))
					continue;
				Neighbor c{labels[r], dist_[r]};
				if (started_ && !NeighborLess(last_, c))
					continue;
				if (heap_.size() < take) {
					heap_.push_back(c);
					std::push_heap(heap_.begin(), heap_.end(), NeighborLess);
				} else if (NeighborLess(c, heap_.front())) {
					std::pop_heap(heap_.begin(), heap_.end(), NeighborLess);
					heap_.back() = c;
					std::push_heap(heap_.begin(), heap_.end(), NeighborLess);
				}
			}
			std::sort_heap(heap_.begin(), heap_.end(), NeighborLess);
			out->insert(out->end(), heap_.begin(), heap_.end());
			if (!heap_.empty()) {
				last_ = heap_.back();
				started_ = true;
			}
			remaining_ = heap_.size() < take ? 0 : remaining_ - heap_.size();
			return Status::Ok();
		});
	}

private:
	std::vector<float> dist_;			  /* by row position */
	const std::vector<int64_t> *labels_;  /* the index's, by row position */
	BitsetView filter_;
	size_t remaining_;
	bool started_ = false;
	Neighbor last_{};
	std::vector<Neighbor> heap_;
};

}  // namespace

// Prepare checks the query, copies it (normalized under cosine) and keeps
// the searched terms: all of them, or all but the drop_ratio fraction of
// smallest |value| (at least one kept), each with its list and bound.
Status SparseInvertedIndex::Prepare(const SparseRow &query, const SparseSearchParams &params, bool all_terms,
									PreparedQuery *out) const noexcept {
	VECDB_RETURN_IF_ERROR(CheckRow(query, "query"));
	return Catching("preparing a sparse query", [&] {
		out->indices.assign(query.indices, query.indices + query.nnz);
		out->values.assign(query.values, query.values + query.nnz);
		double norm_sq = 0;
		for (float v : out->values)
			norm_sq += static_cast<double>(v) * v;
		if (metric_ == Metric::kCosine) {
			float scale = static_cast<float>(1.0 / std::sqrt(norm_sq));
			for (float &v : out->values)
				v *= scale;
		}
		out->norm_sq = 0;
		for (float v : out->values)
			out->norm_sq += v * v;
		size_t drop = all_terms ? 0 : static_cast<size_t>(params.drop_ratio * static_cast<float>(query.nnz));
		drop = std::min(drop, query.nnz > 0 ? query.nnz - size_t{1} : size_t{0});
		std::vector<uint8_t> dropped(query.nnz, 0);
		if (drop > 0) {
			std::vector<uint32_t> order(query.nnz);
			for (uint32_t i = 0; i < query.nnz; i++)
				order[i] = i;
			std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop), order.end(),
							  [&](uint32_t a, uint32_t b) {
								  float fa = std::fabs(out->values[a]), fb = std::fabs(out->values[b]);
								  return fa < fb || (fa == fb && a < b);
							  });
			for (size_t i = 0; i < drop; i++)
				dropped[order[i]] = 1;
		}
		out->terms.clear();
		for (uint32_t i = 0; i < query.nnz; i++) {
			const PostingList *list = FindList(out->indices[i]);
			if (dropped[i] || list == nullptr || list->rows.empty())
				continue;
			float w = out->values[i];
			float upper = std::max({0.0f, w * list->max_value, w * list->min_value});
			out->terms.push_back(QueryTerm{list, w, upper});
		}
		return Status::Ok();
	});
}

// DistanceOf: negative inner product, cosine distance clamped to [0, 2], or
// squared L2 from the norms (never below 0).
float SparseInvertedIndex::DistanceOf(float ip, size_t r, const PreparedQuery &q) const noexcept {
	switch (metric_) {
		case Metric::kInnerProduct:
			return -ip;
		case Metric::kCosine:
			return std::min(2.0f, std::max(0.0f, 1.0f - ip));
		default:
			return std::max(0.0f, q.norm_sq + norms_sq_[r] - 2.0f * ip);
	}
}

// ScoreBar returns, for IP and cosine, an inner product below which no row
// can enter top: -infinity while top is not full, else the k-th one's, for
// cosine relaxed by kCosineBarSlack (1 - (1 - ip) need not give ip back
// exactly; the clamp at 2 bounds nothing).
float SparseInvertedIndex::ScoreBar(const TopK &top) const noexcept {
	if (!top.full())
		return -kInf;
	float d = top.worst().distance;
	if (metric_ == Metric::kInnerProduct)
		return -d;
	return d >= 2.0f ? -kInf : 1.0f - d - kCosineBarSlack;
}

// ZeroDistance is DistanceOf an inner product of 0 for IP and cosine.
float SparseInvertedIndex::ZeroDistance() const noexcept {
	return metric_ == Metric::kCosine ? 1.0f : -0.0f;
}

// AllowedRows counts allowed rows: a popcount when labels are positions.
size_t SparseInvertedIndex::AllowedRows(BitsetView filter) const noexcept {
	size_t n = labels_.size();
	if (filter.empty())
		return n;
	if (identity_labels_)
		return n - CountFilteredBelow(filter, n);
	size_t allowed = 0;
	for (size_t r = 0; r < n; r++)
		allowed += Allowed(filter, r) ? 1 : 0;
	return allowed;
}

// ScanAllowed scores each allowed row against the whole query from the
// compressed rows (the searched terms only matter to the inverted paths).
Status SparseInvertedIndex::ScanAllowed(const PreparedQuery &q, BitsetView filter, StopPoller *poller,
										TopK *top) const noexcept {
	std::unique_ptr<RowScorer> scorer;
	VECDB_RETURN_IF_ERROR(Catching("preparing a sparse row scan", [&] {
		scorer = std::make_unique<RowScorer>(q.Row(), dim_);
		return Status::Ok();
	}));
	for (size_t r = 0; r < labels_.size(); r++) {
		if (!Allowed(filter, r))
			continue;
		top->Push(labels_[r], DistanceOf(scorer->Score(RowAt(r)), r, q));
		if (poller->Tick(1))
			return Status::Cancelled();
	}
	return Status::Ok();
}

// Accumulate adds every searched term's postings into the per-row scores,
// term by term in index order; with mark, it also records each row touched once.
Status SparseInvertedIndex::Accumulate(const PreparedQuery &q, bool mark, StopPoller *poller,
									   SparseScratch *scratch) const noexcept {
	VECDB_RETURN_IF_ERROR(Catching("allocating sparse search buffers", [&] {
		scratch->scores.resize(labels_.size(), 0.0f);
		scratch->marked.resize(labels_.size(), 0);
		return Status::Ok();
	}));
	float *scores = scratch->scores.data();
	uint8_t *marked = scratch->marked.data();
	for (const QueryTerm &t : q.terms) {
		const PostingList &list = *t.list;
		const uint32_t *rows = list.rows.data();
		const float *values = list.values.data();
		size_t len = list.rows.size();
		float w = t.weight;
		Status s = Catching("searching a sparse index", [&] {
			if (!mark) {
				for (size_t i = 0; i < len; i++)
					scores[rows[i]] += w * values[i];
				return Status::Ok();
			}
			for (size_t i = 0; i < len; i++) {
				uint32_t r = rows[i];
				if (!marked[r]) {
					marked[r] = 1;
					scratch->touched.push_back(r);
				}
				scores[r] += w * values[i];
			}
			return Status::Ok();
		});
		if (!s.ok())
			return s;
		if (poller->Tick(list.rows.size()))
			return Status::Cancelled();
	}
	return Status::Ok();
}

// SearchExact accumulates, then pushes rows: every allowed row (clearing the
// scores as it goes) under L2 or when the postings are at least
// kEveryRowPostings of the rows, where marking touched rows would cost more
// than passing them all; else the touched allowed rows, then FillZeros.
Status SparseInvertedIndex::SearchExact(const PreparedQuery &q, uint64_t postings, BitsetView filter,
										StopPoller *poller, SparseScratch *scratch, TopK *top) const noexcept {
	size_t n = labels_.size();
	bool every_row = metric_ == Metric::kL2 || postings >= n * kEveryRowPostings;
	VECDB_RETURN_IF_ERROR(Accumulate(q, !every_row, poller, scratch));
	if (every_row) {
		float *scores = scratch->scores.data();
		float bar = -kInf;
		for (size_t r = 0; r < n; r++) {
			if (scores[r] < bar || !Allowed(filter, r))
				continue;
			top->Push(labels_[r], DistanceOf(scores[r], r, q));
			if (metric_ != Metric::kL2)
				bar = ScoreBar(*top);
		}
		std::fill(scores, scores + n, 0.0f);
		return Status::Ok();
	}
	for (uint32_t r : scratch->touched)
		if (Allowed(filter, r))
			top->Push(labels_[r], DistanceOf(scratch->scores[r], r, q));
	return FillZeros(q, filter, scratch, top);
}

// SearchWand walks the searched terms' lists document at a time, scoring
// only rows whose bound reaches the current k-th score (file comment).
Status SparseInvertedIndex::SearchWand(const PreparedQuery &q, BitsetView filter, StopPoller *poller,
									   TopK *top) const noexcept {
	std::vector<Cursor> cursors;
	std::vector<Cursor *> order; /* the cursors by row */
	float magnitude = 0; /* sum of the largest |product| each term can give: scales the rounding slack */
	VECDB_RETURN_IF_ERROR(Catching("preparing a sparse search", [&] {
		cursors.reserve(q.terms.size());
		for (size_t i = 0; i < q.terms.size(); i++) {
			const PostingList &l = *q.terms[i].list;
			float w = q.terms[i].weight;
			cursors.push_back(Cursor{l.rows.data(), l.values.data(), 0, static_cast<uint32_t>(l.rows.size()), w,
									 q.terms[i].upper, static_cast<uint32_t>(i), 0});
			cursors.back().Settle();
			magnitude += std::max(std::fabs(w * l.max_value), std::fabs(w * l.min_value));
		}
		for (Cursor &c : cursors)
			order.push_back(&c);
		return Status::Ok();
	}));
	std::sort(order.begin(), order.end(), [](const Cursor *a, const Cursor *b) { return a->row < b->row; });
	float slack = static_cast<float>(cursors.size() + 2) * std::numeric_limits<float>::epsilon() * magnitude;
	for (;;) {
		float threshold = ScoreBar(*top);
		size_t pivot = 0;
		float reach = 0;
		for (; pivot < order.size() && order[pivot]->row != kEndRow; pivot++) {
			reach += order[pivot]->upper;
			if (reach + slack >= threshold)
				break;
		}
		if (pivot == order.size() || order[pivot]->row == kEndRow)
			return Status::Ok();
		uint32_t row = order[pivot]->row;
		if (order[0]->row == row) {
			size_t on_row = 0;
			while (on_row < order.size() && order[on_row]->row == row)
				on_row++;
			if (Allowed(filter, row))
				top->Push(labels_[row], DistanceOf(SumInTermOrder(order.data(), on_row), row, q));
			for (size_t i = 0; i < on_row; i++)
				order[i]->Next();
		} else {
			for (size_t i = 0; i < pivot; i++)
				order[i]->SeekTo(row);
		}
		SortCursors(&order);
		if (poller->Tick(1))
			return Status::Cancelled();
	}
}

// FillZeros marks the rows of the searched lists, then pushes every other
// allowed row at ZeroDistance, when such a row could still enter top.
Status SparseInvertedIndex::FillZeros(const PreparedQuery &q, BitsetView filter, SparseScratch *scratch,
									  TopK *top) const noexcept {
	if (metric_ == Metric::kL2 || (top->full() && top->worst().distance < ZeroDistance()))
		return Status::Ok();
	VECDB_RETURN_IF_ERROR(Catching("allocating sparse search buffers", [&] {
		scratch->marked.resize(labels_.size(), 0);
		for (const QueryTerm &t : q.terms)
			for (uint32_t r : t.list->rows)
				if (!scratch->marked[r]) {
					scratch->marked[r] = 1;
					scratch->touched.push_back(r);
				}
		return Status::Ok();
	}));
	for (size_t r = 0; r < labels_.size(); r++)
		if (!scratch->marked[r] && Allowed(filter, r))
			top->Push(labels_[r], ZeroDistance());
	return Status::Ok();
}

// Refine re-scores the candidates with the whole query (their rows read from
// the compressed form) and keeps the best k in top.
// want is the candidates' capacity (Extract pads to it). Throws std::bad_alloc.
void SparseInvertedIndex::Refine(const PreparedQuery &q, size_t want, TopK *candidates, TopK *top) const {
	size_t n = candidates->size();
	std::vector<int64_t> labels(std::max<size_t>(want, 1));
	std::vector<float> distances(labels.size());
	candidates->Extract(want, labels.data(), distances.data());
	SparseRow query = q.Row();
	for (size_t i = 0; i < n; i++) {
		size_t r = RowOf(labels[i]);
		SparseRow row = RowAt(r);
		float ip = SparseInnerProductF32(query.indices, query.values, query.nnz, row.indices, row.values, row.nnz);
		top->Push(labels[i], DistanceOf(ip, r, q));
	}
}

// SearchOne picks the path for one prepared query and fills top.
Status SparseInvertedIndex::SearchOne(const PreparedQuery &q, size_t k, const SparseSearchParams &params,
									  BitsetView filter, StopPoller *poller, SparseScratch *scratch,
									  TopK *top) const noexcept {
	uint64_t postings = 0;
	for (const QueryTerm &t : q.terms)
		postings += t.list->rows.size();
	uint64_t cost = postings + (metric_ == Metric::kL2 ? labels_.size() : 0);
	if (!filter.empty() && labels_.size() > 0) {
		uint64_t allowed = AllowedRows(filter);
		uint64_t per_row = ScanCostPerRow(values_.size() / labels_.size(), q.indices.size(), dim_);
		bool scan = params.brute_force_ratio < 0
			? allowed * per_row < cost
			: static_cast<double>(allowed) <= params.brute_force_ratio * static_cast<double>(labels_.size());
		if (scan)
			return ScanAllowed(q, filter, poller, top);
	}
	bool refining = params.refine > 0 && params.drop_ratio > 0;
	TopK candidates;
	size_t want = refining ? k * static_cast<size_t>(params.refine) : k;
	VECDB_RETURN_IF_ERROR(candidates.Init(want));
	TopK *found = refining ? &candidates : top;
	Status s;
	if (metric_ == Metric::kL2 || params.algorithm == SparseAlgorithm::kExact)
		s = SearchExact(q, postings, filter, poller, scratch, found);
	else
		s = SearchWand(q, filter, poller, found);
	if (s.ok() && params.algorithm == SparseAlgorithm::kWand && metric_ != Metric::kL2)
		s = FillZeros(q, filter, scratch, found);
	for (uint32_t r : scratch->touched) {
		if (r < scratch->scores.size())
			scratch->scores[r] = 0;
		scratch->marked[r] = 0;
	}
	scratch->touched.clear();
	if (s.ok() && refining)
		s = Catching("re-scoring sparse candidates", [&] {
			Refine(q, want, &candidates, top);
			return Status::Ok();
		});
	return s;
}

// Search checks the call, then prepares and searches each query in turn on
// the calling thread.
Status SparseInvertedIndex::Search(const SparseRow *queries, size_t nq, size_t k, const SparseSearchParams &params,
								   BitsetView filter, int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSparseSearch(params, k));
	if (nq == 0)
		return Status::Ok();
	if (queries == nullptr || labels == nullptr || distances == nullptr)
		return Status::InvalidArgument("queries and result buffers must not be null");
	if (k > std::numeric_limits<size_t>::max() / sizeof(int64_t) / nq / kMaxSparseRefine)
		return Status::InvalidArgument("too many queries or too large a k");
	StopPoller poller(params.should_stop, params.stop_arg);
	if (poller.Poll())
		return Status::Cancelled();
	SparseScratch scratch;
	PreparedQuery q;
	TopK top;
	VECDB_RETURN_IF_ERROR(top.Init(std::min(k, labels_.size())));
	for (size_t i = 0; i < nq; i++) {
		VECDB_RETURN_IF_ERROR(Prepare(queries[i], params, false, &q));
		VECDB_RETURN_IF_ERROR(SearchOne(q, k, params, filter, &poller, &scratch, &top));
		top.Extract(k, labels + i * k, distances + i * k);
	}
	return Status::Ok();
}

// CreateIterator scores every allowed row against the whole query: from the
// query's lists (term at a time, zeros for the rest), or, when the allowed
// rows' non-zeros cost less than the lists' postings (SearchOne's rule), from
// the allowed rows themselves; the iterator then selects batch by batch.
Expected<std::unique_ptr<Iterator>> SparseInvertedIndex::CreateIterator(const SparseRow &query,
																		  const SparseSearchParams &params,
																		  BitsetView filter) const noexcept {
	Status s = ValidateSparseSearch(params, 1);
	PreparedQuery q;
	if (s.ok())
		s = Prepare(query, params, true, &q);
	if (!s.ok())
		return s;
	size_t n = labels_.size();
	size_t allowed = AllowedRows(filter);
	uint64_t postings = 0;
	for (const QueryTerm &t : q.terms)
		postings += t.list->rows.size();
	bool scan = false;
	if (!filter.empty() && n > 0) {
		uint64_t cost = postings + (metric_ == Metric::kL2 ? n : 0);
		uint64_t per_row = ScanCostPerRow(values_.size() / n, q.indices.size(), dim_);
		scan = params.brute_force_ratio < 0 ? allowed * per_row < cost
											: static_cast<double>(allowed) <= params.brute_force_ratio * static_cast<double>(n);
	}
	SparseScratch scratch;
	StopPoller poller(params.should_stop, params.stop_arg);
	if (!scan) {
		s = Accumulate(q, false, &poller, &scratch);
		if (!s.ok())
			return s;
	}
	return Catching("creating a sparse iterator", [&]() -> Expected<std::unique_ptr<Iterator>> {
		std::vector<float> dist = std::move(scratch.scores);
		if (scan) {
			RowScorer scorer(q.Row(), dim_);
			dist.assign(n, 0.0f);
			for (size_t r = 0; r < n; r++) {
				if (!Allowed(filter, r))
					continue;
				dist[r] = DistanceOf(scorer.Score(RowAt(r)), r, q);
				if (poller.Tick(1))
					return Status::Cancelled();
			}
		} else {
			dist.resize(n, 0.0f);
			for (size_t r = 0; r < n; r++)
				dist[r] = DistanceOf(dist[r], r, q);
		}
		return std::unique_ptr<Iterator>(new SparseExactIterator(std::move(dist), &labels_, filter, allowed));
	});
}

}  // namespace vecdb::knowhere
