// hnsw_search.cpp answers queries on an HNSW graph, owned or viewed: search,
// filtered search, range search, the iterator and Reconstruct.
//
// - Search: greedy descent through the upper layers down to layer 1, a beam
//   search of layer 1 (ef_search wide: Layer1Width) whose results seed
//   layer 0 (LayerEntries), then a
//   best-first search of layer 0 that walks through filtered nodes but admits
//   only allowed ones into the result set, so a filter makes it expand more
//   nodes without widening ef (widening by 1/selectivity cost 3-12x at 5-50%
//   allowed for no recall that mattered, docs/engine.md). Below
//   kTwoHopBelow (25%) allowed, the walk scores allowed elements only and reaches
//   them through filtered neighbours too (TwoHop, after ACORN-1), so it
//   stops paying for distances to rows the filter drops. Few allowed rows
//   (below brute_force_ratio, by default 4 * sqrt(max(ef_search, 10) / rows), or k at
//   least half of them) are searched exactly, and so is any graph
//   search that came up short of k; with labels 0 .. n-1 the exact scan
//   lists the allowed rows from the bitset instead of testing every element.
// - Iterator: the layer-0 best-first expansion kept alive between batches
//   (frontier heap, visited set, heap of found-but-unreturned allowed rows);
//   when the frontier is empty, rows never reached are added by brute force.
//   Below brute_force_ratio it is brute_force.hpp's ExactIterator.
// - One loop: the layer-1 beam, the layer-0 search and the iterator all run
//   BestFirst; they differ only in what a scored neighbour does. Every
//   neighbour loop first prefetches every unseen neighbour's row
//   (GraphRef::prefetch_bytes: whole compact codes, float rows up to
//   kRowPrefetchBytes), so the memory waits overlap, then scores them;
//   without any prefetch the search ran slower than hnswlib's searchKnn,
//   which prefetches only the next neighbour.
// - RangeSearch: exact, over the allowed rows (no graph search can promise
//   every row within a radius).
// - Exact paths (few rows allowed, fallback, range search, iterator below
//   the ratio) are brute_force.hpp's, over a RowSet that reads vectors and
//   labels in place from the level-0 block.
// - Batches of queries run one after another on the calling thread
//   (SearchParams.threads is not used yet); concurrent callers are safe, as
//   searches only read the graph and borrow visited lists from hnswlib's
//   locked pool.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "knowhere/catching.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/hnsw_internal.hpp"
#include "knowhere/index_kinds.hpp"

namespace vecdb::knowhere::hnsw {

namespace {

// kStopPollInterval is how many expansions pass between should_stop polls.
constexpr int kStopPollInterval = 64;

// StopRequested polls the caller's stop callback.
bool StopRequested(const SearchParams &p) noexcept {
	return p.should_stop != nullptr && p.should_stop(p.stop_arg);
}

// kMaxLinks0 bounds a layer-0 list (2 m, m at most 100).
constexpr size_t kMaxLinks0 = 200;

// BestFirst is the one best-first expansion of a layer: it takes the closest
// element off the frontier until the frontier is empty or, once top holds
// width rows, that element is farther than the farthest of them; it scores
// every neighbour of the element that seen(id) does not reject (seen marks
// as it tests) and hands it to scored(id, distance), which decides what
// enters the frontier and top. With params it polls the stop callback every
// kStopPollInterval expansions (Cancelled).
template <typename Seen, typename Scored>
Status BestFirst(const GraphRef &ref, const float *q, int level, size_t width, const SearchParams *params,
				 MinHeap *frontier, const MaxHeap &top, Seen &&seen, Scored &&scored) {
	/* a local copy the compiler can keep in registers across the distance calls */
	const GraphRef g = ref;
	int polls = 0;
	while (!frontier->empty()) {
		DistPair c = frontier->top();
		if (!top.empty() && top.size() >= width && c.first > top.top().first)
			break;
		frontier->pop();
		if (params != nullptr && ++polls % kStopPollInterval == 0 && StopRequested(*params))
			return Status::Cancelled();
		size_t n;
		const tableint *links = g.Links(c.second, level, &n);
		if (g.prefetch_bytes > 0) {
			/* load every unseen neighbour's row at once, so the memory waits
			   overlap, then score them */
			tableint fresh[kMaxLinks0];
			size_t m = 0;
			for (size_t j = 0; j < n && j < kMaxLinks0; j++)
				if (!seen(links[j]))
					fresh[m++] = links[j];
			for (size_t j = 0; j < m; j++)
				g.PrefetchWhole(fresh[j]);
			for (size_t j = 0; j < m; j++)
				scored(fresh[j], g.Dist(q, fresh[j]));
			continue;
		}
		if (n > 0)
			g.Prefetch(links[0]);
		for (size_t j = 0; j < n; j++) {
			tableint id = links[j];
			/* as hnswlib: fetch the next neighbour's vector while scoring this one */
			if (j + 1 < n)
				g.Prefetch(links[j + 1]);
			if (seen(id))
				continue;
			scored(id, g.Dist(q, id));
		}
	}
	return Status::Ok();
}

// kTwoHopBelow is the allowed fraction below which a filtered layer-0 walk
// expands through filtered neighbours instead of scoring them (TwoHop),
// unless SearchParams::two_hop_ratio says otherwise. With each filtered
// neighbour's list read once per query (TwoHop), the two-hop walk at equal
// ef_search and recall ran 1.2-1.3x the one-hop QPS at 20% allowed and about
// the same at 30% (100,000 x 128, bench_engine filter-sweep); at 1M x 128
// even at 15% and 20% and behind at 30% (switch-sweep). Capping its picks
// below the layer's capacity was faster but lost recall (docs/engine.md,
// "Two-hop walk").
constexpr double kTwoHopBelow = 0.25;

// TwoHop picks the elements BestFirstTwoHop scores from element c: its
// allowed neighbours, then the allowed neighbours of its filtered ones, in
// link order, up to the layer's capacity (the second hop up to cap). seen(id)
// marks as it tests (as in BestFirst, or only tests: picked holds no element
// twice either way) and allowed(id) is the filter. Filtered elements are
// never scored; one whose whole list the second hop read is marked in
// visited, and later expansions skip it: every allowed element of its list
// was seen then, so reading it again picks nothing (same results, a third to
// half fewer lists read at 10% allowed). Every such list is prefetched
// before the second hop reads any: reading them one miss after another was a
// quarter of a filtered query's time (docs/engine.md, "Two-hop walk").
template <typename Seen, typename IsAllowed>
void TwoHop(const GraphRef &g, tableint c, size_t cap, Seen &&seen, IsAllowed &&allowed, VisitedGuard *visited,
			std::vector<tableint> *picked) {
	size_t n;
	const tableint *links = g.Links(c, 0, &n);
	picked->clear();
	for (size_t j = 0; j < n && picked->size() < g.max_m0; j++)
		if (links[j] < g.count && allowed(links[j]) && !seen(links[j]))
			picked->push_back(links[j]);
	tableint hop[kMaxLinks0];
	size_t nh = 0;
	for (size_t j = 0; j < n && nh < kMaxLinks0; j++)
		if (links[j] < g.count && !allowed(links[j]) && !visited->Marked(links[j]))
			hop[nh++] = links[j];
	for (size_t f = 0; f < nh; f++)
		g.PrefetchLinks(hop[f]);
	for (size_t f = 0; f < nh && picked->size() < cap; f++) {
		size_t n2;
		const tableint *links2 = g.Links(hop[f], 0, &n2);
		size_t i = 0;
		for (; i < n2 && picked->size() < cap; i++)
			if (links2[i] < g.count && allowed(links2[i]) && !seen(links2[i]) &&
				std::find(picked->begin(), picked->end(), links2[i]) == picked->end())
				picked->push_back(links2[i]);
		if (i == n2)
			visited->Visit(hop[f]);
	}
}

// UseTwoHop says whether a filtered walk with allowed of total rows allowed
// goes through filtered neighbours.
bool UseTwoHop(const SearchParams &p, BitsetView filter, size_t allowed, size_t total) {
	double below = p.two_hop_ratio < 0 ? kTwoHopBelow : p.two_hop_ratio;
	return !filter.empty() && static_cast<double>(allowed) < below * static_cast<double>(total);
}

// AllowedTest returns the filter test TwoHop runs on element ids: the
// filter bit of the id itself when ids are labels, else of its label.
inline auto AllowedTest(const GraphRef &g, BitsetView filter, bool ids_are_labels) {
	return [&g, filter, ids_are_labels](tableint id) {
		return !filter.test(ids_are_labels ? static_cast<int64_t>(id) : g.labels[id]);
	};
}

// BestFirstTwoHop is BestFirst on layer 0 over the allowed elements only,
// for selective filters (ACORN-1's compressed neighbourhoods): expanding an
// element scores what TwoHop picks, so the walk stops computing distances to
// rows the filter drops. Entry points are expanded whatever their filter.
template <typename Seen, typename IsAllowed, typename Scored>
Status BestFirstTwoHop(const GraphRef &ref, const float *q, size_t width, const SearchParams *params,
					   MinHeap *frontier, const MaxHeap &top, VisitedGuard *visited, Seen &&seen, IsAllowed &&allowed,
					   Scored &&scored) {
	const GraphRef g = ref;
	std::vector<tableint> picked;
	picked.reserve(g.max_m0);
	size_t cap = params != nullptr && params->two_hop_picks > 0
		? std::min(static_cast<size_t>(params->two_hop_picks), g.max_m0)
		: g.max_m0;
	int polls = 0;
	while (!frontier->empty()) {
		DistPair c = frontier->top();
		if (!top.empty() && top.size() >= width && c.first > top.top().first)
			break;
		frontier->pop();
		if (params != nullptr && ++polls % kStopPollInterval == 0 && StopRequested(*params))
			return Status::Cancelled();
		TwoHop(g, c.second, cap, seen, allowed, visited, &picked);
		if (g.prefetch_bytes > 0) {
			for (tableint id : picked)
				g.PrefetchWhole(id);
			for (tableint id : picked)
				scored(id, g.Dist(q, id));
			continue;
		}
		if (!picked.empty())
			g.Prefetch(picked[0]);
		for (size_t j = 0; j < picked.size(); j++) {
			if (j + 1 < picked.size())
				g.Prefetch(picked[j + 1]);
			scored(picked[j], g.Dist(q, picked[j]));
		}
	}
	return Status::Ok();
}

// Layer1Width is the width of the layer-1 beam a search of ef enters layer 0
// through: SearchParams::layer1_width when set, else ef; 1 (greedy descent)
// when the index searches without the beam. Capping it for long rows kept
// the recall on one 768-d set and lost 0.018 at ef_search 160 on another
// (docs/engine.md, "Layer-1 beam width").
size_t Layer1Width(const HnswBuildOptions &o, const SearchParams &p, size_t ef) {
	if (!o.layer1_beam)
		return 1;
	return p.layer1_width > 0 ? static_cast<size_t>(p.layer1_width) : ef;
}

// LayerEntries returns the entry points of a layer-0 search: greedy descent
// to layer 1, then a beam search of width `width` on layer 1 (a single greedy
// path there often ends in the wrong cluster when clusters are far apart, and
// no ef at layer 0 recovers from that), closest first. Width 1 is hnswlib's
// search: greedy descent down to layer 0, one entry point. The graph must
// hold an element.
std::vector<DistPair> LayerEntries(const GraphRef &g, const float *q, size_t width) {
	tableint ep = g.entry;
	float d = g.Dist(q, ep);
	for (int l = g.max_level; l > 1; l--)
		ep = g.Descend(q, ep, l, &d);
	if (g.max_level >= 1 && width <= 1)
		ep = g.Descend(q, ep, 1, &d);
	if (g.max_level < 1 || width <= 1)
		return {{d, ep}};
	VisitedGuard visited(g.visited);
	MinHeap frontier;
	MaxHeap top;
	visited.Visit(ep);
	frontier.emplace(d, ep);
	top.emplace(d, ep);
	(void) BestFirst(
		g, q, 1, width, nullptr, &frontier, top, [&](tableint id) { return id >= g.count || visited.Visit(id); },
		[&](tableint id, float dj) {
			if (top.size() < width || dj < top.top().first) {
				frontier.emplace(dj, id);
				top.emplace(dj, id);
				if (top.size() > width)
					top.pop();
			}
		});
	std::vector<DistPair> out(top.size());
	for (size_t i = top.size(); i > 0; i--) {
		out[i - 1] = top.top();
		top.pop();
	}
	return out;
}

// HnswIterator is the resumable layer-0 search of one query.
class HnswIterator final : public Iterator {
public:
	HnswIterator(const HnswSearcher *index, std::vector<float> query, const SearchParams &params, BitsetView filter,
				 bool two_hop, size_t spare_factor = 1)
		: index_(index),
		  query_(std::move(query)),
		  params_(params),
		  filter_(filter),
		  two_hop_(two_hop),
		  spare_factor_(std::max<size_t>(spare_factor, 1)) {}
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override;

private:
	// Start seeds the frontier from the graph.
	void Start(const GraphRef &g);
	// Admit records a newly scored element: frontier, and results if allowed;
	// near says whether this batch may still expand it (else it waits in the
	// deferred lists until the next batch). It reports whether id is allowed.
	bool Admit(const GraphRef &g, tableint id, float d, bool near);
	// Undefer moves the deferred elements into the heaps.
	void Undefer();
	// NextBatch is Next inside Catching.
	Status NextBatch(size_t max_batch, std::vector<Neighbor> *out);

	const HnswSearcher *index_;
	std::vector<float> query_;
	SearchParams params_;
	BitsetView filter_;
	/* expand through filtered neighbours (BestFirstTwoHop) */
	bool two_hop_;
	/* a batch of max_batch rows expands the graph for max_batch / spare_factor
	   (the rest come from rows scored on the way: HNSW_SQ's re-rank pool) */
	size_t spare_factor_;
	bool started_ = false;
	bool exhausted_ = false;
	size_t ef_ = 0;
	/* elements present when the search started; later ones are not searched */
	size_t count_ = 0;
	/* borrowed from the graph's pool for the iterator's life: no per-query
	   array the size of the graph */
	std::unique_ptr<VisitedGuard> visited_;
	MinHeap frontier_;
	MinHeap ready_;
	/* scored elements farther than the current batch's bound: a heap push
	   each would be wasted work when the scan stops after one batch */
	std::vector<DistPair> deferred_frontier_;
	std::vector<DistPair> deferred_ready_;
};

}  // namespace

// Prepare validates and copies a query, normalizing it for cosine.
Status HnswSearcher::Prepare(const void *q, std::vector<float> *out) const {
	out->resize(static_cast<size_t>(config_.dim));
	return PrepareVector(config_.metric, config_.dim, q, out->data(), "query");
}

// CountAllowed counts the elements whose labels pass the filter: a popcount
// when the labels are 0 .. count-1.
size_t HnswSearcher::CountAllowed(const GraphRef &g, BitsetView filter) const {
	size_t n = g.count;
	if (filter.empty())
		return n;
	if (span_.Dense(n))
		return n - CountFilteredBelow(filter, n);
	size_t allowed = 0;
	for (size_t i = 0; i < n; i++)
		allowed += Allowed(g, filter, static_cast<tableint>(i));
	return allowed;
}

// SearchGraph walks layer 0 best-first from the layer entries; filtered
// nodes are expanded but never enter the ef best results.
Status HnswSearcher::SearchGraph(const GraphRef &ref, const float *q, size_t ef, BitsetView filter, bool two_hop,
								 const SearchParams &params, std::vector<Neighbor> *out) const {
	const GraphRef g = ref;
	out->clear();
	std::vector<DistPair> entries = LayerEntries(g, q, Layer1Width(options_, params, ef));
	VisitedGuard visited(g.visited);
	MinHeap frontier;
	MaxHeap top;
	for (const DistPair &e : entries) {
		visited.Visit(e.second);
		frontier.push(e);
		if (AllowedById(g, filter, e.second)) {
			top.push(e);
			if (top.size() > ef)
				top.pop();
		}
	}
	float bound = top.empty() ? std::numeric_limits<float>::infinity() : top.top().first;
	auto seen = [&](tableint id) { return id >= g.count || visited.Visit(id); };
	auto scored = [&](tableint id, float d) {
		if (top.size() < ef || d < bound) {
			frontier.emplace(d, id);
			if (AllowedById(g, filter, id)) {
				top.emplace(d, id);
				if (top.size() > ef)
					top.pop();
				bound = top.top().first;
			}
		}
	};
	if (two_hop)
		VECDB_RETURN_IF_ERROR(BestFirstTwoHop(g, q, ef, &params, &frontier, top, &visited, seen,
											  AllowedTest(g, filter, IdsAreLabels()), scored));
	else
		VECDB_RETURN_IF_ERROR(BestFirst(g, q, 0, ef, &params, &frontier, top, seen, scored));
	out->resize(top.size());
	for (size_t i = top.size(); i > 0; i--) {
		out->at(i - 1) = {g.Label(top.top().second), top.top().first};
		top.pop();
	}
	std::sort(out->begin(), out->end(), NeighborLess);
	return Status::Ok();
}

// ExactRows lists the allowed rows from the bitset when that is cheaper than
// testing every row's label.
RowSet HnswSearcher::ExactRows(const GraphRef &g, BitsetView filter, size_t allowed, std::vector<int64_t> *labels,
							   std::vector<const void *> *rows, BitsetView *scan_filter) const {
	size_t n = g.count;
	*scan_filter = filter;
	if (filter.empty() || !span_.Dense(n) || allowed * kSparseAllowed > n)
		return Rows(g);
	labels->clear();
	labels->reserve(allowed);
	AllowedBelow(filter, n, labels);
	rows->clear();
	rows->reserve(labels->size());
	size_t kept = 0;
	for (size_t i = 0; i < labels->size(); i++) {
		tableint id = static_cast<tableint>((*labels)[i]);
		if (!span_.identity && !FindLabel((*labels)[i], &id))
			continue;
		if (id >= n)
			continue;
		(*labels)[kept++] = (*labels)[i];
		rows->push_back(g.Vector(id));
	}
	labels->resize(kept);
	*scan_filter = BitsetView();
	RowSet r;
	r.labels = labels->data();
	r.rows = rows->data();
	r.n = labels->size();
	return r;
}

// Search answers each query: exactly when few rows are allowed, else by the
// filtered graph search, falling back to
// brute force when the graph search found fewer than k allowed rows.
Status HnswSearcher::Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
							int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, k));
	if (nq != 0 && (queries == nullptr || labels == nullptr || distances == nullptr))
		return Status::InvalidArgument("queries and result buffers must not be null");
	return Catching("searching an HNSW index", [&]() -> Status {
		GraphRef g = Ref();
		size_t total = g.count;
		size_t allowed = CountAllowed(g, filter);
		double fraction = total == 0 ? 0.0 : static_cast<double>(allowed) / static_cast<double>(total);
		bool exact = allowed > 0 && (fraction < BruteForceRatio(params, config_, total) || k * 2 >= allowed);
		bool two_hop = UseTwoHop(params, filter, allowed, total);
		size_t ef = std::max(static_cast<size_t>(params.ef_search), k);
		std::vector<float> q;
		std::vector<Neighbor> res;
		std::vector<int64_t> exact_labels;
		std::vector<const void *> exact_rows;
		BitsetView exact_filter;
		RowSet exact_set;
		bool have_exact_set = false;
		const uint8_t *qs = static_cast<const uint8_t *>(queries);
		for (size_t qi = 0; qi < nq; qi++) {
			VECDB_RETURN_IF_ERROR(Prepare(qs + qi * RowBytes(config_.metric, config_.dim), &q));
			int64_t *out_labels = labels + qi * k;
			float *out_distances = distances + qi * k;
			res.clear();
			if (allowed > 0 && !exact)
				VECDB_RETURN_IF_ERROR(SearchGraph(g, q.data(), ef, filter, two_hop, params, &res));
			if (allowed > 0 && (exact || res.size() < std::min(k, allowed))) {
				if (!have_exact_set) {
					exact_set = ExactRows(g, filter, allowed, &exact_labels, &exact_rows, &exact_filter);
					have_exact_set = true;
				}
				VECDB_RETURN_IF_ERROR(BruteForceSearch(config_.metric, config_.dim, q.data(), exact_set, k,
													   exact_filter, params, out_labels, out_distances));
				continue;
			}
			for (size_t i = 0; i < k; i++) {
				out_labels[i] = i < res.size() ? res[i].label : -1;
				out_distances[i] = i < res.size() ? res[i].distance : std::numeric_limits<float>::infinity();
			}
		}
		return Status::Ok();
	});
}

// RangeSearch scores every allowed row exactly and keeps those within radius:
// exact by design, since a graph search cannot promise every row in range.
Status HnswSearcher::RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
								 std::vector<Neighbor> *out) const noexcept {
	if (query == nullptr || out == nullptr)
		return Status::InvalidArgument("query and output must not be null");
	if (std::isnan(radius))
		return Status::InvalidArgument("radius must not be NaN");
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, 1));
	return Catching("range-searching an HNSW index", [&]() -> Status {
		std::vector<float> q;
		VECDB_RETURN_IF_ERROR(Prepare(query, &q));
		std::vector<Neighbor> found;
		StopPoller poller(params.should_stop, params.stop_arg);
		VECDB_RETURN_IF_ERROR(
			RangeScan(config_.metric, config_.dim, q.data(), Rows(Ref()), radius, filter, &poller, &found));
		std::sort(found.begin(), found.end(), NeighborLess);
		out->insert(out->end(), found.begin(), found.end());
		return Status::Ok();
	});
}

// CreateIterator validates the query; below brute_force_ratio it returns an
// exact iterator over the allowed rows, else a graph iterator that starts on
// its first Next.
Expected<std::unique_ptr<Iterator>> HnswSearcher::CreateIterator(const void *query, const SearchParams &params,
																 BitsetView filter) const noexcept {
	Status s = ValidateSearch(params, 1);
	if (!s.ok())
		return s;
	if (query == nullptr)
		return Status::InvalidArgument("query must not be null");
	return Catching("creating an HNSW iterator", [&]() -> Expected<std::unique_ptr<Iterator>> {
		std::vector<float> q;
		Status st = Prepare(query, &q);
		if (!st.ok())
			return st;
		GraphRef g = Ref();
		size_t total = g.count;
		size_t allowed = filter.empty() ? total : CountAllowed(g, filter);
		if (!filter.empty() &&
			static_cast<double>(allowed) < BruteForceRatio(params, config_, total) * static_cast<double>(total)) {
			std::vector<int64_t> labels;
			std::vector<const void *> rows;
			BitsetView scan_filter;
			RowSet set = ExactRows(g, filter, allowed, &labels, &rows, &scan_filter);
			return ExactIterator::Create(config_.metric, config_.dim, q.data(), set, scan_filter, params, allowed);
		}
		bool two_hop = UseTwoHop(params, filter, allowed, total);
		return std::unique_ptr<Iterator>(std::make_unique<HnswIterator>(this, std::move(q), params, filter, two_hop));
	});
}

// CreateWalkIterator returns the graph iterator over an already prepared
// query, whose batches of max_batch rows expand the graph only as far as a
// batch of max_batch / spare_factor would (HNSW_SQ, hnsw_sq.cpp).
Expected<std::unique_ptr<Iterator>> HnswSearcher::CreateWalkIterator(const float *prepared, const SearchParams &params,
																	 BitsetView filter, size_t spare_factor) const noexcept {
	Status s = ValidateSearch(params, 1);
	if (!s.ok())
		return s;
	return Catching("creating an HNSW iterator", [&]() -> Expected<std::unique_ptr<Iterator>> {
		GraphRef g = Ref();
		size_t total = g.count;
		size_t allowed = filter.empty() ? total : CountAllowed(g, filter);
		bool two_hop = UseTwoHop(params, filter, allowed, total);
		std::vector<float> q(prepared, prepared + config_.dim);
		return std::unique_ptr<Iterator>(
			std::make_unique<HnswIterator>(this, std::move(q), params, filter, two_hop, spare_factor));
	});
}

// Reconstruct copies each label's stored (prepared) vector.
Status HnswSearcher::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels and output must not be null");
	return Catching("reading rows of an HNSW index", [&]() -> Status {
		GraphRef g = Ref();
		size_t row = RowBytes(config_.metric, config_.dim);
		uint8_t *dst = static_cast<uint8_t *>(out);
		for (size_t i = 0; i < n; i++) {
			tableint id;
			if (!FindLabel(labels[i], &id) || id >= g.count)
				return Status::InvalidArgument("index holds no row with label " + std::to_string(labels[i]));
			std::memcpy(dst + i * row, g.Vector(id), row);
		}
		return Status::Ok();
	});
}

namespace {

// Admit marks id visited, queues it for expansion and, when allowed, for
// return (now, or after this batch when it is not near); it reports whether
// id is allowed.
bool HnswIterator::Admit(const GraphRef &g, tableint id, float d, bool near) {
	visited_->Visit(id);
	bool allowed = index_->AllowedById(g, filter_, id);
	if (near) {
		frontier_.emplace(d, id);
		if (allowed)
			ready_.emplace(d, id);
	} else {
		deferred_frontier_.emplace_back(d, id);
		if (allowed)
			deferred_ready_.emplace_back(d, id);
	}
	return allowed;
}

// Undefer moves the deferred elements into the heaps (a later batch may
// expand or return them).
void HnswIterator::Undefer() {
	for (const DistPair &p : deferred_frontier_)
		frontier_.push(p);
	for (const DistPair &p : deferred_ready_)
		ready_.push(p);
	deferred_frontier_.clear();
	deferred_ready_.clear();
}

// Start seeds the search from the layer-0 entry points of the graph.
void HnswIterator::Start(const GraphRef &g) {
	started_ = true;
	count_ = g.count;
	if (count_ == 0) {
		exhausted_ = true;
		return;
	}
	visited_ = std::make_unique<VisitedGuard>(g.visited);
	ef_ = static_cast<size_t>(params_.ef_search);
	for (const DistPair &e : LayerEntries(g, query_.data(), Layer1Width(index_->options(), params_, ef_)))
		Admit(g, e.second, e.first, true);
}

// Next checks its output and runs NextBatch inside Catching.
Status HnswIterator::Next(size_t max_batch, std::vector<Neighbor> *out) noexcept {
	if (out == nullptr)
		return Status::InvalidArgument("output must not be null");
	return Catching("iterating an HNSW index", [&] { return NextBatch(max_batch, out); });
}

// NextBatch continues the best-first expansion until the closest unexpanded
// node is farther than the (max_batch + ef)-th closest allowed row found and
// not yet returned (hnswlib's stopping rule with ef = max_batch + ef), or the
// graph is exhausted, when rows it never reached are scored exactly; it then
// returns the closest max_batch found rows. Every scored node is kept (in
// the heaps, or deferred when farther than the batch's bound), so later
// batches resume where this one stopped.
Status HnswIterator::NextBatch(size_t max_batch, std::vector<Neighbor> *out) {
	GraphRef g = index_->Ref();
	if (!started_)
		Start(g);
	Undefer();
	size_t want = (max_batch + spare_factor_ - 1) / spare_factor_ + ef_;
	/* top holds the want closest found-but-unreturned rows (max on top). */
	std::vector<DistPair> best;
	while (!ready_.empty() && best.size() < want) {
		best.push_back(ready_.top());
		ready_.pop();
	}
	for (const DistPair &b : best)
		ready_.push(b);
	MaxHeap top(std::less<DistPair>(), std::move(best));
	if (!exhausted_) {
		/* Rows added after the iterator started are not part of its search. */
		/* marks as it tests, as the search does (Admit marks again) */
		auto seen = [&](tableint id) { return id >= count_ || visited_->Visit(id); };
		auto scored = [&](tableint id, float d) {
			/* BestFirst expands nothing farther than top's worst once top is full */
			bool near = top.size() < want || d <= top.top().first;
			if (Admit(g, id, d, near) && near) {
				top.emplace(d, id);
				if (top.size() > want)
					top.pop();
			}
		};
		if (two_hop_)
			VECDB_RETURN_IF_ERROR(BestFirstTwoHop(g, query_.data(), want, &params_, &frontier_, top, visited_.get(), seen,
												  AllowedTest(g, filter_, index_->IdsAreLabels()), scored));
		else
			VECDB_RETURN_IF_ERROR(BestFirst(g, query_.data(), 0, want, &params_, &frontier_, top, seen, scored));
		if (frontier_.empty()) {
			/* The graph is exhausted: rows it never reached are scored exactly. */
			Undefer();
			for (size_t i = 0; i < count_; i++) {
				if ((i & 4095) == 0 && StopRequested(params_))
					return Status::Cancelled();
				if (!visited_->Visit(static_cast<tableint>(i)) &&
					HnswSearcher::Allowed(g, filter_, static_cast<tableint>(i)))
					ready_.emplace(g.Dist(query_.data(), static_cast<tableint>(i)), static_cast<tableint>(i));
			}
			exhausted_ = true;
		}
	}
	/* whatever is deferred is farther than top's want rows, all in ready_ */
	for (size_t i = 0; i < max_batch && !ready_.empty(); i++) {
		out->push_back({g.Label(ready_.top().second), ready_.top().first});
		ready_.pop();
	}
	return Status::Ok();
}

}  // namespace

}  // namespace vecdb::knowhere::hnsw
