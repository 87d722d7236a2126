// brute_force.cpp implements the shared exact-search toolkit: vector checks,
// scores, the bounded top-k, stop polling, row scans and the exact iterator.
#include "knowhere/brute_force.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "knowhere/catching.hpp"
#include "knowhere/distance.hpp"

namespace vecdb::knowhere {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// kPrefetchBytes bounds how much of a row an exact scan prefetches, and
// kPrefetchAheadRows how many allowed rows ahead of the one it scores
// (docs/engine.md, "Exact scan prefetch").
constexpr size_t kPrefetchBytes = 1024;
constexpr size_t kPrefetchAheadRows = 4;
constexpr size_t kPrefetchRing = 8;
static_assert(kPrefetchAheadRows < kPrefetchRing, "the ring holds the scored row and those prefetched ahead");

// PrefetchRow asks the CPU to start loading the first bytes of a row.
inline void PrefetchRow(const void *row, size_t bytes) noexcept {
	const char *p = static_cast<const char *>(row);
	for (size_t at = 0; at < bytes; at += 64)
		__builtin_prefetch(p + at);
}

// ForEachAllowed scores every row of rows that filter allows against a
// prepared query and hands (label, score) to sink; it returns Cancelled when
// the poller (may be null) says stop. Every exact scan here is this loop.
// While it scores one row it keeps the next kPrefetchAheadRows allowed ones
// prefetched: rows read in place from a graph's level-0 block are hundreds
// of bytes apart, too far for the hardware prefetcher once a filter skips
// most of them.
template <typename Sink>
Status ForEachAllowed(Metric metric, int dim, const void *query, const RowSet &rows, BitsetView filter,
					  StopPoller *poller, Sink &&sink) {
	bool filtered = !filter.empty();
	size_t prefetch = std::min(RowBytes(metric, dim), kPrefetchBytes);
	auto allowed_from = [&](size_t i) {
		while (filtered && i < rows.n && filter.test(rows.labels[i]))
			i++;
		return i;
	};
	/* the allowed rows prefetched and not yet scored, in order (a ring):
	   each label is tested once */
	size_t ring[kPrefetchRing];
	size_t head = 0, queued = 0;
	size_t ahead = allowed_from(0);
	size_t passed = 0;
	for (;;) {
		while (queued <= kPrefetchAheadRows && ahead < rows.n) {
			PrefetchRow(rows.Row(ahead), prefetch);
			ring[(head + queued++) % kPrefetchRing] = ahead;
			ahead = allowed_from(ahead + 1);
		}
		if (queued == 0)
			break;
		size_t i = ring[head];
		head = (head + 1) % kPrefetchRing;
		queued--;
		if (poller != nullptr && poller->Tick(i + 1 - passed))
			return Status::Cancelled();
		passed = i + 1;
		sink(rows.labels[i], Score(metric, dim, query, rows.Row(i)));
	}
	return Status::Ok();
}

// PrepareFloat checks a float vector for finiteness and writes it, unit-length
// under cosine, to out.
Status PrepareFloat(Metric metric, int dim, const float *v, float *out, const char *what) noexcept {
	double norm2 = 0.0;
	for (int i = 0; i < dim; i++) {
		if (!std::isfinite(v[i]))
			return Status::InvalidArgument(std::string(what) + " must not contain NaN or infinity");
		norm2 += static_cast<double>(v[i]) * v[i];
	}
	if (metric != Metric::kCosine) {
		std::memcpy(out, v, static_cast<size_t>(dim) * sizeof(float));
		return Status::Ok();
	}
	if (norm2 == 0.0)
		return Status::InvalidArgument(std::string(what) + " must not be a zero vector under cosine distance");
	double inv = 1.0 / std::sqrt(norm2);
	for (int i = 0; i < dim; i++)
		out[i] = static_cast<float>(v[i] * inv);
	return Status::Ok();
}

}  // namespace

// PrepareVector checks and copies one vector, normalizing it under cosine.
// Bit vectors are PostgreSQL bit strings: bit 0 is the high bit of byte 0, so
// the padding past dim is the low 8 - dim % 8 bits of the last byte.
Status PrepareVector(Metric metric, int dim, const void *vector, void *out, const char *what) noexcept {
	if (vector == nullptr)
		return Status::InvalidArgument(std::string(what) + " must not be null");
	if (!IsBinaryMetric(metric))
		return PrepareFloat(metric, dim, static_cast<const float *>(vector), static_cast<float *>(out), what);
	size_t nbytes = RowBytes(metric, dim);
	const uint8_t *bits = static_cast<const uint8_t *>(vector);
	int used = dim % 8;
	if (used != 0 && (bits[nbytes - 1] & static_cast<uint8_t>(0xFFu >> used)) != 0)
		return Status::InvalidArgument(std::string(what) + " has bits set past its length");
	std::memcpy(out, bits, nbytes);
	return Status::Ok();
}

// PrepareQuery sizes out for one row and prepares the query into it.
Status PrepareQuery(Metric metric, int dim, const void *query, std::vector<uint8_t> *out) noexcept {
	VECDB_RETURN_IF_ERROR(Catching("preparing a query", [&] {
		out->assign(RowBytes(metric, dim), 0);
		return Status::Ok();
	}));
	/* a vector<uint8_t> buffer comes from operator new, aligned for float */
	return PrepareVector(metric, dim, query, out->data(), "query");
}

// Score computes the metric's ordering score with the SIMD kernels.
float Score(Metric metric, int dim, const void *query, const void *row) noexcept {
	const float *a = static_cast<const float *>(query);
	const float *b = static_cast<const float *>(row);
	size_t d = static_cast<size_t>(dim);
	float s;
	switch (metric) {
		case Metric::kL2:
			s = L2SqrF32(a, b, d);
			break;
		case Metric::kInnerProduct:
			s = -InnerProductF32(a, b, d);
			break;
		case Metric::kCosine:
			s = std::min(2.0f, std::max(0.0f, 1.0f - InnerProductF32(a, b, d)));
			break;
		case Metric::kL1:
			s = L1F32(a, b, d);
			break;
		case Metric::kHamming:
			s = static_cast<float>(HammingBits(static_cast<const uint8_t *>(query),
											   static_cast<const uint8_t *>(row), RowBytes(metric, dim)));
			break;
		case Metric::kJaccard:
			s = static_cast<float>(JaccardBits(static_cast<const uint8_t *>(query),
											   static_cast<const uint8_t *>(row), RowBytes(metric, dim)));
			break;
		default:
			s = kInf;
	}
	return std::isnan(s) ? kInf : s;
}

// Init empties the heap and reserves k places.
Status TopK::Init(size_t k) noexcept {
	heap_.clear();
	k_ = k;
	return Catching("making room for search results", [&] {
		heap_.reserve(k);
		return Status::Ok();
	});
}

// SiftUp restores the max-heap property from leaf i upward.
void TopK::SiftUp(size_t i) noexcept {
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!NeighborLess(heap_[parent], heap_[i]))
			break;
		std::swap(heap_[parent], heap_[i]);
		i = parent;
	}
}

// SiftDown restores the max-heap property from node i downward.
void TopK::SiftDown(size_t i) noexcept {
	size_t n = heap_.size();
	for (;;) {
		size_t largest = i, l = 2 * i + 1, r = l + 1;
		if (l < n && NeighborLess(heap_[largest], heap_[l]))
			largest = l;
		if (r < n && NeighborLess(heap_[largest], heap_[r]))
			largest = r;
		if (largest == i)
			return;
		std::swap(heap_[largest], heap_[i]);
		i = largest;
	}
}

// Extract sorts the kept neighbours, writes them and pads to k.
void TopK::Extract(size_t width, int64_t *labels, float *distances) noexcept {
	std::sort(heap_.begin(), heap_.end(), NeighborLess);
	for (size_t i = 0; i < std::max(width, k_); i++) {
		labels[i] = i < heap_.size() ? heap_[i].label : -1;
		distances[i] = i < heap_.size() ? heap_[i].distance : kInf;
	}
	heap_.clear();
}

// Poll runs the callback (if any) and reads the shared flag.
bool StopPoller::Poll() noexcept {
	if (stopped_)
		return true;
	if (fn_ != nullptr && fn_(arg_)) {
		stopped_ = true;
		if (flag_ != nullptr)
			flag_->store(true, std::memory_order_relaxed);
	} else if (flag_ != nullptr && flag_->load(std::memory_order_relaxed)) {
		stopped_ = true;
	}
	return stopped_;
}

// PopcountWords counts the set bits of `words` 64-bit words at bits. The
// engine is built for baseline x86-64, where __builtin_popcountll is a libgcc
// call per word; PopcountWordsPopcnt inlines it into a function compiled for
// the POPCNT instruction (every x86-64 CPU since 2008), used when the CPU
// reports it. A filtered search counts its filter's bits once (a few
// microseconds a query over 100,000 rows in libgcc's loop).
static inline __attribute__((always_inline)) size_t PopcountWords(const uint8_t *bits, size_t words) noexcept {
	size_t n = 0;
	for (size_t w = 0; w < words; w++) {
		uint64_t word;
		std::memcpy(&word, bits + w * 8, 8);
		n += static_cast<size_t>(__builtin_popcountll(word));
	}
	return n;
}

__attribute__((target("popcnt"))) static size_t PopcountWordsPopcnt(const uint8_t *bits, size_t words) noexcept {
	return PopcountWords(bits, words);
}

// CpuHasPopcnt reports whether the CPU has the POPCNT instruction.
static bool CpuHasPopcnt() noexcept {
	static const bool has = (__builtin_cpu_init(), __builtin_cpu_supports("popcnt"));
	return has;
}

// CountFilteredBelow popcounts the bits of labels [0, end).
size_t CountFilteredBelow(BitsetView filter, size_t end) noexcept {
	if (filter.empty())
		return 0;
	end = std::min(end, filter.size());
	const uint8_t *bits = filter.data();
	size_t full = end / 64;
	size_t n = CpuHasPopcnt() ? PopcountWordsPopcnt(bits, full) : PopcountWords(bits, full);
	for (size_t i = full * 64; i < end; i++)
		n += (bits[i >> 3] >> (i & 7)) & 1;
	return n;
}

// AllowedBelow walks the zero bits of [0, end), a word at a time; labels at
// or past filter.size() are all allowed.
void AllowedBelow(BitsetView filter, size_t end, std::vector<int64_t> *out) {
	size_t covered = filter.empty() ? 0 : std::min(end, filter.size());
	const uint8_t *bits = filter.data();
	size_t full = covered / 64;
	for (size_t w = 0; w < full; w++) {
		uint64_t word;
		std::memcpy(&word, bits + w * 8, 8);
		for (uint64_t allowed = ~word; allowed != 0; allowed &= allowed - 1)
			out->push_back(static_cast<int64_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(allowed))));
	}
	for (size_t i = full * 64; i < covered; i++)
		if (((bits[i >> 3] >> (i & 7)) & 1) == 0)
			out->push_back(static_cast<int64_t>(i));
	for (size_t i = covered; i < end; i++)
		out->push_back(static_cast<int64_t>(i));
}

// ScanRows scores the allowed rows into top, polling between rows.
Status ScanRows(Metric metric, int dim, const void *query, const RowSet &rows, BitsetView filter,
				StopPoller *poller, TopK *top) noexcept {
	return ForEachAllowed(metric, dim, query, rows, filter, poller,
						  [top](int64_t label, float d) noexcept { top->Push(label, d); });
}

// RangeScan scores the allowed rows and keeps those within radius.
Status RangeScan(Metric metric, int dim, const void *query, const RowSet &rows, float radius, BitsetView filter,
				 StopPoller *poller, std::vector<Neighbor> *out) noexcept {
	return Catching("range-searching rows", [&] {
		return ForEachAllowed(metric, dim, query, rows, filter, poller, [&](int64_t label, float d) {
			if (d <= radius)
				out->push_back(Neighbor{label, d});
		});
	});
}

// BruteForceSearch runs one exact top-k scan and writes the padded result.
Status BruteForceSearch(Metric metric, int dim, const void *query, const RowSet &rows, size_t k,
						BitsetView filter, const SearchParams &params, int64_t *labels,
						float *distances) noexcept {
	TopK top;
	VECDB_RETURN_IF_ERROR(top.Init(std::min(k, rows.n)));
	StopPoller poller(params.should_stop, params.stop_arg);
	/* a cancel already pending stops even a scan too short to reach a poll */
	if (poller.Poll())
		return Status::Cancelled();
	VECDB_RETURN_IF_ERROR(ScanRows(metric, dim, query, rows, filter, &poller, &top));
	top.Extract(k, labels, distances);
	return Status::Ok();
}

// Create scores every allowed row once and keeps the list for Next.
Expected<std::unique_ptr<Iterator>> ExactIterator::Create(Metric metric, int dim, const void *query,
														  const RowSet &rows, BitsetView filter,
														  const SearchParams &params, size_t allowed) noexcept {
	std::unique_ptr<ExactIterator> it;
	VECDB_RETURN_IF_ERROR(Catching("starting an index scan", [&] {
		it.reset(new ExactIterator());
		it->all_.reserve(filter.empty() ? rows.n : std::min(rows.n, allowed));
		return Status::Ok();
	}));
	StopPoller poller(params.should_stop, params.stop_arg);
	if (poller.Poll())
		return Status::Cancelled();
	/* all_ has room for every allowed row: push_back does not allocate */
	Status s = ForEachAllowed(metric, dim, query, rows, filter, &poller,
							  [&](int64_t label, float d) noexcept { it->all_.push_back(Neighbor{label, d}); });
	if (!s.ok())
		return s;
	return std::unique_ptr<Iterator>(std::move(it));
}

// Next partially sorts the next batch of the remaining rows and appends it.
Status ExactIterator::Next(size_t max_batch, std::vector<Neighbor> *out) noexcept {
	if (out == nullptr || max_batch == 0)
		return Status::InvalidArgument("iterator batch size must be at least 1");
	size_t take = std::min(max_batch, all_.size() - next_);
	if (take == 0)
		return Status::Ok();
	VECDB_RETURN_IF_ERROR(Catching("returning index scan results", [&] {
		out->reserve(out->size() + take);
		return Status::Ok();
	}));
	auto first = all_.begin() + static_cast<std::ptrdiff_t>(next_);
	auto middle = first + static_cast<std::ptrdiff_t>(take);
	std::partial_sort(first, middle, all_.end(), NeighborLess);
	out->insert(out->end(), first, middle);
	next_ += take;
	return Status::Ok();
}

}  // namespace vecdb::knowhere
