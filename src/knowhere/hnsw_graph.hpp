// hnsw_graph.hpp declares the HNSW kind's graph: HnswGraph, which owns
// hnswlib's HierarchicalNSW and our insert path over it (hnsw_graph.cpp), and
// GraphRef, the read-only picture of a graph that every search walks.
// Internal to the HNSW kind (hnsw_*.cpp).
//
// hnswlib's main header defines global variables and functions, so it may be
// included in one translation unit only: hnsw_graph.cpp. Everything else sees
// the graph through HnswGraph's methods and GraphRef's plain arrays; only
// hnswlib's self-contained visited_list_pool.h is included here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include <hnswlib/visited_list_pool.h>

#include "knowhere/hnsw_index.hpp"
#include "knowhere/index.hpp"

namespace vecdb::knowhere::hnsw {

// tableint, linklistsizeint and labeltype are hnswlib's internal id, list
// header and label types (hnsw_graph.cpp checks that they match).
using tableint = uint32_t;
using linklistsizeint = uint32_t;
using labeltype = size_t;

// DistFunc is hnswlib's distance signature: two rows and a parameter (the dim).
using DistFunc = float (*)(const void *, const void *, const void *);

// DistPair is a score and an internal id.
using DistPair = std::pair<float, tableint>;
// MinHeap pops the smallest score first; MaxHeap the largest.
using MinHeap = std::priority_queue<DistPair, std::vector<DistPair>, std::greater<DistPair>>;
using MaxHeap = std::priority_queue<DistPair>;

// kInitialCapacity is the element capacity of a new HNSW index.
constexpr size_t kInitialCapacity = 1024;

// kRingFlagByte is the byte of a layer-0 list header that is 1 when the
// list's first link is the element's successor on its copy ring (every
// exact copy of a vector links to the next, so reaching one reaches all).
// hnswlib keeps the count in bytes 0-1 and its delete mark (never set here)
// in byte 2; byte 3 it never reads.
constexpr size_t kRingFlagByte = 3;

// DistanceFor returns the distance function of a metric (our SIMD kernels;
// cosine expects rows normalized at add and at query).
DistFunc DistanceFor(Metric metric) noexcept;

// kRowPrefetchBytes bounds how much of each unseen neighbour's float row a
// search prefetches before it scores a list: whole rows up to 128
// dimensions, the first 512 bytes of longer ones (docs/engine.md, "Prefetch").
constexpr size_t kRowPrefetchBytes = 512;

// GraphRef is the read-only graph that search, filtered search and the
// iterator walk: hnswlib's arrays for the owning index (HnswGraph::Ref), the
// serialized sections for a view (HnswView::Ref). Every read is bounded by
// the element count: list lengths are capped at the layer's capacity, upper
// lists are read only up to an element's level (and, in a view, inside the
// upper block), and callers skip neighbour ids >= count, so a view over
// checksum-valid but inconsistent bytes never reads outside them.
struct GraphRef {
	const char *level0 = nullptr;         /* per element: link count, links, vector, label */
	size_t per_element = 0;               /* hnswlib's size_data_per_element_ */
	size_t offset_data = 0;               /* hnswlib's offsetData_ */
	size_t count = 0;
	size_t max_m0 = 0;
	size_t max_m = 0;
	size_t per_level = 0;                 /* hnswlib's size_links_per_element_ */
	const int *levels = nullptr;          /* element levels */
	char *const *upper_ptrs = nullptr;    /* owning: hnswlib's linkLists_ */
	const char *upper_base = nullptr;     /* view: the upper-layer block ... */
	const uint64_t *upper_offsets = nullptr;  /* ... and each element's offset in it */
	uint64_t upper_bytes = 0;
	int max_level = -1;
	tableint entry = 0;
	DistFunc dist = nullptr;
	void *dist_param = nullptr;
	const int64_t *labels = nullptr;      /* labels by internal id */
	hnswlib::VisitedListPool *visited = nullptr;
	size_t prefetch_bytes = 0;            /* > 0: each unseen neighbour's first bytes are prefetched, a list at a time */

	// Vector returns element id's stored vector.
	const void *Vector(tableint id) const { return level0 + id * per_element + offset_data; }
	// Dist returns the score of a query against element id.
	float Dist(const float *q, tableint id) const { return dist(q, Vector(id), dist_param); }
	// Prefetch asks the CPU to start loading element id's vector (a hint:
	// it never faults, so an id out of range needs no check here).
	void Prefetch(tableint id) const {
		__builtin_prefetch(reinterpret_cast<const void *>(reinterpret_cast<uintptr_t>(level0) +
														  id * per_element + offset_data));
	}
	// PrefetchWhole asks the CPU to start loading the first prefetch_bytes
	// of element id's vector (a hint, like Prefetch).
	void PrefetchWhole(tableint id) const {
		uintptr_t at = reinterpret_cast<uintptr_t>(level0) + id * per_element + offset_data;
		for (size_t b = 0; b < prefetch_bytes; b += 64)
			__builtin_prefetch(reinterpret_cast<const void *>(at + b));
	}
	// PrefetchLinks asks the CPU to start loading element id's whole layer-0
	// neighbour list (a hint, like Prefetch).
	void PrefetchLinks(tableint id) const {
		uintptr_t at = reinterpret_cast<uintptr_t>(level0) + id * per_element;
		for (size_t b = 0; b < offset_data; b += 64)
			__builtin_prefetch(reinterpret_cast<const void *>(at + b));
	}
	// Links returns the neighbour list of id on level and its length (0 for
	// a level above the element's own, or a list outside the upper block).
	const tableint *Links(tableint id, int level, size_t *n) const {
		const char *ll;
		size_t cap;
		if (level == 0) {
			ll = level0 + id * per_element;
			cap = max_m0;
		} else {
			*n = 0;
			if (level > levels[id])
				return nullptr;
			uint64_t at = static_cast<uint64_t>(level - 1) * per_level;
			if (upper_ptrs != nullptr) {
				ll = upper_ptrs[id] + at;
			} else {
				uint64_t off = upper_offsets[id];
				/* a list must also be aligned for its tableints (the writer's always are) */
				if (off % alignof(tableint) != 0 || off > upper_bytes || upper_bytes - off < at + per_level)
					return nullptr;
				ll = upper_base + off + at;
			}
			cap = max_m;
		}
		unsigned short stored;
		std::memcpy(&stored, ll, sizeof(stored));
		*n = std::min<size_t>(stored, cap);
		return reinterpret_cast<const tableint *>(ll + sizeof(linklistsizeint));
	}
	// Label returns the caller's label of id.
	int64_t Label(tableint id) const { return labels[id]; }

	// Descend moves greedily towards q on one upper level and returns the
	// closest element found (its score in *dist).
	tableint Descend(const float *q, tableint ep, int level, float *d) const {
		bool changed = true;
		while (changed) {
			changed = false;
			size_t n;
			const tableint *links = Links(ep, level, &n);
			for (size_t i = 0; i < n; i++) {
				if (links[i] >= count)
					continue;
				float di = Dist(q, links[i]);
				if (di < *d) {
					*d = di;
					ep = links[i];
					changed = true;
				}
			}
		}
		return ep;
	}
};

class KernelSpace;
class Graph;

// HnswGraph owns an hnswlib graph (its level-0 block, upper-layer lists,
// levels and label map) and builds it with our insert path. Methods that
// allocate may throw std::bad_alloc; callers run them inside Catching.
class HnswGraph {
public:
	HnswGraph(Metric metric, size_t dim, size_t capacity, size_t m, size_t ef_construction, size_t seed);
	~HnswGraph();
	HnswGraph(const HnswGraph &) = delete;
	HnswGraph &operator=(const HnswGraph &) = delete;

	// Ref points at hnswlib's arrays; labels and nothing else is left unset
	// (the index keeps them).
	GraphRef Ref() const noexcept;
	// count returns the number of linked elements.
	size_t count() const noexcept;

	// FindLabel finds the internal id of a label in the label map.
	bool FindLabel(int64_t label, tableint *id) const;
	// HasLabel reports whether the label map holds label.
	bool HasLabel(int64_t label) const;
	// ReserveLabels makes room for n labels in the label map.
	void ReserveLabels(size_t n);
	// AddLabel maps label to id; false when label is mapped already.
	bool AddLabel(int64_t label, tableint id);

	// EnsureCapacity grows the element arrays to hold n elements (doubling).
	void EnsureCapacity(size_t n);
	// Level0 returns the writable level-0 block (valid until the capacity grows).
	char *Level0() noexcept;
	// VectorPtr returns the writable vector of element id.
	float *VectorPtr(tableint id) noexcept;
	// StoredLabel returns the label hnswlib keeps in element id's level-0 slot.
	int64_t StoredLabel(tableint id) const noexcept;
	// DrawLevel draws a new element's level from the graph's generator.
	int DrawLevel();
	// InitElement stores element id's prepared vector (already written at
	// VectorPtr(id)), label and level with empty link lists; it leaves the
	// graph, the label map and the count to the caller.
	void InitElement(tableint id, int64_t label, int level);
	// FreeElement releases what InitElement allocated, for an element that
	// was never linked (it stays past the count).
	void FreeElement(tableint id) noexcept;
	// AdoptElement gives element id (whose level-0 slot is already filled)
	// its level and a copy of its level * per_level bytes of upper lists.
	void AdoptElement(tableint id, int level, const char *upper);
	// SetCount sets the number of elements in use.
	void SetCount(size_t n) noexcept;
	// SetEntry sets the entry point and the top level.
	void SetEntry(tableint entry, int max_level) noexcept;

	// BeginBatch marks elements base .. base + n - 1 as not yet linked (and
	// with memo starts the build memo, HnswBuildOptions::build_memo);
	// EndBatch marks every element linked again and drops the memo.
	void BeginBatch(size_t base, size_t n, bool memo);
	void EndBatch() noexcept;
	// Link inserts element cur (stored by InitElement) into the graph; safe
	// to run on several threads at once for different elements.
	void Link(tableint cur, const HnswBuildOptions &opt);
	// ScoreAsHalves turns the vectors of elements 0 .. n-1 into float16
	// rows (each float times scale, a power of two) in place and makes the
	// insert path score those; source holds the rows as the caller gave
	// them (FindTwin compares them). Only Link may run until ScoreAsFloats,
	// after which the caller writes the float vectors back.
	void ScoreAsHalves(size_t n, float scale, const float *source);
	// ScoreAsBytes turns them into byte rows instead: dimension j of a row
	// v is the nearest level of low[j] + level * step, level 0 .. 255
	// (metric L2, cosine or L1).
	void ScoreAsBytes(size_t n, Metric metric, const float *low, float step, const float *source);
	void ScoreAsFloats() noexcept;
	// RepairOrphans links every element of 0 .. count-1 from one of its
	// closest neighbours (after the build threads have finished).
	void RepairOrphans(size_t count);
	// FindsItself says whether a search for element id's own vector (greedy
	// descent, then a layer-0 beam of width `width`) scores it;
	// ClosestFound returns the closest other element an ef_construction
	// search for it finds (id when none); LinkFound adds layer-0 links
	// (from, to) in order, each unless present, in a free slot or in place
	// of from's farthest link to an element with another in-link, asking
	// stop() before each, and returns how many it added. All three only
	// while no thread writes the graph.
	bool FindsItself(tableint id, size_t width);
	tableint ClosestFound(tableint id);
	size_t LinkFound(const std::vector<std::pair<tableint, tableint>> &links, size_t count,
					 const std::function<bool()> &stop);

	// MemoryUsage returns hnswlib's per-capacity arrays (level-0 block, link
	// list pointers, levels, locks, visited lists for `threads` build
	// threads), the upper-layer lists and the label map.
	size_t MemoryUsage(int threads) const noexcept;
	// EstimateMemory mirrors MemoryUsage for n elements built at capacity
	// max(n, kInitialCapacity) with the config's m, dim and threads, plus
	// the build memo a Build holds while it links.
	static size_t EstimateMemory(const IndexConfig &config, size_t n) noexcept;

private:
	std::unique_ptr<KernelSpace> space_;
	std::unique_ptr<Graph> graph_;
};

// VisitedGuard borrows a visited list from a graph's pool and returns it.
class VisitedGuard {
public:
	explicit VisitedGuard(hnswlib::VisitedListPool *pool) : pool_(pool), vl_(pool->getFreeVisitedList()) {}
	~VisitedGuard() { pool_->releaseVisitedList(vl_); }
	VisitedGuard(const VisitedGuard &) = delete;
	VisitedGuard &operator=(const VisitedGuard &) = delete;
	// Visit marks id and reports whether it was already marked.
	bool Visit(tableint id) {
		if (vl_->mass[id] == vl_->curV)
			return true;
		vl_->mass[id] = vl_->curV;
		return false;
	}
	// Marked reports whether id is marked, without marking it.
	bool Marked(tableint id) const { return vl_->mass[id] == vl_->curV; }

private:
	hnswlib::VisitedListPool *pool_;
	hnswlib::VisitedList *vl_;
};

}  // namespace vecdb::knowhere::hnsw
