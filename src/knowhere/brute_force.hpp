// brute_force.hpp declares the exact-search toolkit every index kind shares:
// vector checks and cosine normalization, the per-metric score, a bounded
// top-k, a stop poller, exact scans over row sets and an exact iterator.
//
// How the other kinds use it. FLAT is nothing but these helpers over its own
// arrays. HNSW and IVF call BruteForceSearch (or ScanRows into one TopK over
// several RowSets, e.g. one per inverted list) when the bitset allows only a
// few rows, ExactIterator for the same case in CreateIterator, and Score on
// candidate lists to re-rank exactly. Conventions:
//   - a "prepared" query or row is what PrepareVector produced: finite, and
//     for cosine normalized to unit length (Score is then 1 - inner product);
//   - ordering is by (distance, label), so ties are broken by the smaller
//     label and results are deterministic;
//   - a NaN score (possible only from float overflow of finite inputs, e.g.
//     inf - inf inside an inner product) is ordered as +infinity.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "knowhere/bitset_view.hpp"
#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// kStopPollRows is how many scored rows pass between two polls of should_stop.
constexpr size_t kStopPollRows = 4096;

// IsBinaryMetric reports whether metric compares packed bit vectors.
inline bool IsBinaryMetric(Metric metric) noexcept {
	return metric == Metric::kHamming || metric == Metric::kJaccard;
}

// RowBytes returns the bytes of one row: dim floats, or (dim + 7) / 8 bytes of bits.
inline size_t RowBytes(Metric metric, int dim) noexcept {
	return IsBinaryMetric(metric) ? (static_cast<size_t>(dim) + 7) / 8 : static_cast<size_t>(dim) * sizeof(float);
}

// PrepareVector checks one vector for metric and dim and copies it to out
// (RowBytes bytes), normalized to unit length under cosine. Float vectors
// must be finite and, under cosine, not zero; bit vectors must have zero
// padding bits past dim. what names the vector in messages ("vector",
// "query"). Returns InvalidArgument on a bad vector.
Status PrepareVector(Metric metric, int dim, const void *vector, void *out, const char *what) noexcept;

// PrepareQuery is PrepareVector into a buffer it sizes itself.
Status PrepareQuery(Metric metric, int dim, const void *query, std::vector<uint8_t> *out) noexcept;

// Score returns the ordering score (smaller is closer) of a prepared query and
// a prepared row: squared L2, negative inner product, cosine distance
// (1 - inner product of unit vectors, clamped to [0, 2]), L1, Hamming count or
// Jaccard distance. NaN becomes +infinity.
float Score(Metric metric, int dim, const void *query, const void *row) noexcept;

// NeighborLess orders neighbours by distance, then label.
inline bool NeighborLess(const Neighbor &a, const Neighbor &b) noexcept {
	return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
}

// TopK keeps the k smallest neighbours pushed into it (a max-heap).
class TopK {
public:
	// Init empties the heap and reserves room for k neighbours.
	Status Init(size_t k) noexcept;
	// Push offers a neighbour; it never allocates after Init.
	void Push(int64_t label, float distance) noexcept {
		Neighbor n{label, distance};
		if (heap_.size() < k_) {
			heap_.push_back(n);
			SiftUp(heap_.size() - 1);
		} else if (k_ > 0 && NeighborLess(n, heap_[0])) {
			heap_[0] = n;
			SiftDown(0);
		}
	}
	size_t size() const noexcept { return heap_.size(); }
	// full reports whether the heap holds k neighbours (a push must beat worst()).
	bool full() const noexcept { return k_ > 0 && heap_.size() == k_; }
	// worst returns the farthest neighbour held; only when size() > 0.
	const Neighbor &worst() const noexcept { return heap_[0]; }
	// Extract writes the neighbours in increasing order to labels and
	// distances, pads up to width (at least k) entries with -1 / +infinity,
	// and empties the heap.
	void Extract(size_t width, int64_t *labels, float *distances) noexcept;

private:
	void SiftUp(size_t i) noexcept;
	void SiftDown(size_t i) noexcept;

	size_t k_ = 0;
	std::vector<Neighbor> heap_;
};

// StopPoller polls a search's should_stop every kStopPollRows rows. A poller
// made with a shared flag also stops when another thread raised the flag, and
// raises it when its own callback says stop; worker threads get a poller
// without a callback, so only the calling thread ever runs should_stop.
class StopPoller {
public:
	StopPoller(StopCallback fn, void *arg, std::atomic<bool> *flag = nullptr) noexcept
		: fn_(fn), arg_(arg), flag_(flag) {}
	// Tick counts rows scored and reports whether the search must stop.
	bool Tick(size_t rows) noexcept {
		since_poll_ += rows;
		if (since_poll_ < kStopPollRows)
			return stopped_;
		since_poll_ = 0;
		return Poll();
	}
	// Poll asks the callback and the shared flag now.
	bool Poll() noexcept;
	bool stopped() const noexcept { return stopped_; }

private:
	StopCallback fn_;
	void *arg_;
	std::atomic<bool> *flag_;
	size_t since_poll_ = 0;
	bool stopped_ = false;
};

// RowSet describes n rows to scan: labels[i] with its prepared vector either
// at rows[i] (when rows is not null) or at base + i * stride.
struct RowSet {
	const int64_t *labels = nullptr;
	const void *const *rows = nullptr;
	const uint8_t *base = nullptr;
	size_t stride = 0;
	size_t n = 0;

	// Row returns the vector of row i.
	const void *Row(size_t i) const noexcept {
		return rows != nullptr ? rows[i] : static_cast<const void *>(base + i * stride);
	}
};

// CountFilteredBelow returns how many labels in [0, end) the filter filters
// out (a popcount: labels at or past filter.size() are never filtered).
size_t CountFilteredBelow(BitsetView filter, size_t end) noexcept;

// AllowedBelow appends to out, in increasing order, every label in [0, end)
// the filter allows, skipping filtered labels a 64-bit word at a time. An
// index whose labels are exactly 0 .. n-1 (the AM's row positions) gets its
// allowed rows from it in O(n / 64 + allowed) rather than testing n labels.
// Throws std::bad_alloc.
void AllowedBelow(BitsetView filter, size_t end, std::vector<int64_t> *out);

// kSparseAllowed: an exact scan visits only the allowed rows (found with
// AllowedBelow) when at most 1 / kSparseAllowed of the rows are allowed;
// above that a pass over every row, which reads memory in order and needs no
// label lookups, costs as much. (bench_engine switch, 100,000 x 128, per
// allowed row: listed 42 ns (HNSW) / 68 ns (IVF_FLAT, a map lookup each) at
// 20%; every row passed 62 / 80 ns at 30%, 70 / 70 ns at 50%.)
constexpr size_t kSparseAllowed = 2;

// ScanRows scores every row of rows that filter allows against a prepared
// query and pushes it into top; returns Cancelled when the poller says stop.
Status ScanRows(Metric metric, int dim, const void *query, const RowSet &rows, BitsetView filter,
				StopPoller *poller, TopK *top) noexcept;

// RangeScan appends to out every row of rows that filter allows whose score
// against a prepared query is at most radius, in row order (callers sort);
// returns Cancelled when the poller (may be null) says stop.
Status RangeScan(Metric metric, int dim, const void *query, const RowSet &rows, float radius, BitsetView filter,
				 StopPoller *poller, std::vector<Neighbor> *out) noexcept;

// BruteForceSearch writes the exact k nearest allowed rows of rows to a
// prepared query into labels[0..k) and distances[0..k), padded with -1 /
// +infinity; polls params.should_stop before it starts and every
// kStopPollRows rows.
Status BruteForceSearch(Metric metric, int dim, const void *query, const RowSet &rows, size_t k,
						BitsetView filter, const SearchParams &params, int64_t *labels,
						float *distances) noexcept;

// ExactIterator is an Iterator over rows that scores every allowed row once
// at Create, then returns them in exact increasing (distance, label) order,
// partially sorting only the next batch at each Next.
class ExactIterator final : public Iterator {
public:
	// Create scores the allowed rows of rows against a prepared query (polling
	// params.should_stop). The rows' memory need not outlive the iterator.
	// allowed, when known, is how many rows the filter allows (it sizes the
	// result array; it must not be fewer than the allowed rows).
	static Expected<std::unique_ptr<Iterator>> Create(Metric metric, int dim, const void *query,
													   const RowSet &rows, BitsetView filter,
													   const SearchParams &params,
													   size_t allowed = SIZE_MAX) noexcept;
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override;

private:
	ExactIterator() noexcept = default;

	std::vector<Neighbor> all_;
	size_t next_ = 0;
};

}  // namespace vecdb::knowhere
