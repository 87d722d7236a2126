// hnsw_index.cpp implements the HNSW index kind on hnswlib 0.6.2's graph.
//
// Design. hnswlib's HierarchicalNSW holds the graph: the level-0 block (links,
// vector, label per element), the upper-layer link lists, levels and the label
// map, all public members. We keep its data structures and its search for
// insertion candidates (searchBaseLayer), and write the rest ourselves:
//
// - Insert: our own version of addPoint, so that neighbour selection can
//   follow pgvector (HnswBuildOptions): pruned candidates fill a list up to
//   its capacity (default on), and optionally a new element takes up to 2m
//   neighbours on layer 0. hnswlib's getNeighborsByHeuristic2 and
//   mutuallyConnectNewElement are not virtual, so SelectNeighbors and Connect
//   below replace them.
// - Build threads (IndexConfig.threads): Add draws every new element's level
//   in batch order on the calling thread (so one thread gives exactly the
//   graph of a serial build), stores the elements unlinked, then links them
//   from a shared counter on the calling thread and threads - 1 workers
//   (ThreadGroup: signals blocked). Locking is hnswlib's: `global` guards the
//   entry point and top level (held through an insert that raises the top
//   level), link_list_locks_[id] guards id's lists (searchBaseLayer takes it
//   per expansion, Connect per neighbour written). An element becomes
//   reachable only through a back-link written after its own list, so no
//   thread reads a list being filled; and a thread waits for another's lock
//   only on an element reachable on the level it searches, which that other
//   thread has finished with, so there is no cycle of waits. A descent moves
//   only to elements whose lists are written on every level (Graph::Linked):
//   one still being linked can be reachable on an upper level with an empty
//   list below, and an insert that entered layer 0 there found almost
//   nothing (2 of 4,000 rows unreachable in half of the 4-thread builds of
//   Hnsw.ParallelBuildKeepsEveryRowReachable). Only the calling
//   thread polls the build stop callback (every kBuildPollInserts of its own
//   inserts and each millisecond while it waits); on a stop, workers finish
//   the element they hold and take no more, so the linked elements are a
//   prefix of the batch: the rest are freed and never counted.
// - Search: greedy descent through the upper layers down to layer 1, a beam
//   search of layer 1 whose results seed layer 0 (LayerEntries), then a
//   best-first search of layer 0 that walks through filtered nodes but admits
//   only allowed ones into the result set, with ef widened as the allowed
//   fraction falls. Few allowed rows (below brute_force_ratio, default 0.2,
//   or k at least half of them) are searched exactly, and so is any graph
//   search that came up short of k; with labels 0 .. n-1 the exact scan
//   lists the allowed rows from the bitset instead of testing every element.
//   Every neighbour loop prefetches the next neighbour's vector (hnswlib's
//   trick; without it the same search ran slower than searchKnn).
// - Iterator: the layer-0 best-first expansion kept alive between batches
//   (frontier heap, visited set, heap of found-but-unreturned allowed rows);
//   when the frontier is empty, rows never reached are added by brute force.
//   Below brute_force_ratio it is brute_force.hpp's ExactIterator.
// - RangeSearch: exact, over the allowed rows (no graph search can promise
//   every row within a radius).
// - Exact paths (few rows allowed, fallback, range search, iterator below
//   the ratio) are brute_force.hpp's, over a RowSet that reads vectors and
//   labels in place from hnswlib's level-0 block.
// - Batches of queries run one after another on the calling thread
//   (SearchParams.threads is not used yet); concurrent callers are safe, as
//   searches only read the graph and borrow visited lists from hnswlib's
//   locked pool.
// - One search code for two graphs: every search path above runs in
//   HnswSearcher over a GraphRef (level-0 block, levels, upper lists, labels,
//   distance function, visited pool), which HnswIndex fills from hnswlib's
//   members and HnswView from serialized bytes. GraphRef bounds every read
//   (list lengths capped, upper lists only up to an element's level and
//   inside the upper block, neighbour ids >= count skipped), so a view over
//   inconsistent bytes cannot read outside them.
// - Serialization (serialize.hpp's framing): a meta section (build
//   parameters, entry point, max level, hnswlib's element layout, label
//   span), hnswlib's level-0 block as it is, labels, levels, each element's
//   offset in the upper-list block, internal ids in label order (the view's
//   label lookup), the upper-list block. Load reads the level-0 block
//   straight into hnswlib's and checks every level, label, list and
//   neighbour id; a view checks only the layout (O(1)).
//
// hnswlib throws std::runtime_error and std::bad_alloc: every public call
// catches everything and returns a Status.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <hnswlib/hnswlib.h>

#include "knowhere/brute_force.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/hnsw_index.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::engine {

namespace {

using hnswlib::labeltype;
using hnswlib::linklistsizeint;
using hnswlib::tableint;

// DistPair is a score and an internal id.
using DistPair = std::pair<float, tableint>;
// MinHeap pops the smallest score first; MaxHeap the largest.
using MinHeap = std::priority_queue<DistPair, std::vector<DistPair>, std::greater<DistPair>>;
using MaxHeap = std::priority_queue<DistPair>;

// kMaxLevel bounds element levels on load (a level above it means corruption:
// with m >= 2 reaching it needs far more rows than an index can hold).
constexpr int kMaxLevel = 48;
// kStopPollInterval is how many expansions pass between should_stop polls.
constexpr int kStopPollInterval = 64;
// kMaxEfWiden caps the factor by which a filter widens ef.
constexpr double kMaxEfWiden = 20.0;
// kMaxFilteredEf caps the widened ef.
constexpr size_t kMaxFilteredEf = 4000;
// kInitialCapacity is the element capacity of a new HNSW index.
constexpr size_t kInitialCapacity = 1024;

// L2Dist returns the squared L2 distance of two dim-float rows.
float L2Dist(const void *a, const void *b, const void *dim) {
	return L2SqrF32(static_cast<const float *>(a), static_cast<const float *>(b), *static_cast<const size_t *>(dim));
}

// NegIpDist returns the negative inner product (smaller is closer).
float NegIpDist(const void *a, const void *b, const void *dim) {
	return -InnerProductF32(static_cast<const float *>(a), static_cast<const float *>(b),
							*static_cast<const size_t *>(dim));
}

// CosineDist returns 1 - a.b for rows normalized at add and at query.
float CosineDist(const void *a, const void *b, const void *dim) {
	return 1.0f - InnerProductF32(static_cast<const float *>(a), static_cast<const float *>(b),
								  *static_cast<const size_t *>(dim));
}

// L1Dist returns the L1 (taxicab) distance.
float L1Dist(const void *a, const void *b, const void *dim) {
	return L1F32(static_cast<const float *>(a), static_cast<const float *>(b), *static_cast<const size_t *>(dim));
}

// KernelSpace is the hnswlib space that routes distances to our SIMD kernels.
class KernelSpace final : public hnswlib::SpaceInterface<float> {
public:
	KernelSpace(Metric metric, size_t dim) : dim_(dim) {
		switch (metric) {
			case Metric::kInnerProduct:
				func_ = NegIpDist;
				break;
			case Metric::kCosine:
				func_ = CosineDist;
				break;
			case Metric::kL1:
				func_ = L1Dist;
				break;
			default:
				func_ = L2Dist;
				break;
		}
	}
	size_t get_data_size() override { return dim_ * sizeof(float); }
	hnswlib::DISTFUNC<float> get_dist_func() override { return func_; }
	void *get_dist_func_param() override { return &dim_; }

private:
	size_t dim_;
	hnswlib::DISTFUNC<float> func_;
};

// Graph is hnswlib's HierarchicalNSW with our insert path and read helpers.
class Graph final : public hnswlib::HierarchicalNSW<float> {
public:
	Graph(KernelSpace *space, size_t capacity, size_t m, size_t ef_construction, size_t seed)
		: HierarchicalNSW<float>(space, std::max<size_t>(capacity, 1), m, ef_construction, seed) {
		/* hnswlib's 65,536 update locks (2.6 MB) serve only its addPoint and
		   updatePoint, which we never call. */
		std::vector<std::mutex>().swap(link_list_update_locks_);
	}

	// Dist returns the score of a query against element id.
	float Dist(const float *q, tableint id) const { return fstdistfunc_(q, getDataByInternalId(id), dist_func_param_); }

	// Prefetch asks the CPU to start loading element id's vector.
	void Prefetch(tableint id) const { __builtin_prefetch(getDataByInternalId(id)); }

	// Links returns the neighbour list of id on level and its length.
	const tableint *Links(tableint id, int level, size_t *n) const {
		linklistsizeint *ll = get_linklist_at_level(id, level);
		*n = getListCount(ll);
		return reinterpret_cast<const tableint *>(ll + 1);
	}

	// EnsureCapacity grows the element arrays to hold n elements (doubling).
	void EnsureCapacity(size_t n) {
		if (n > max_elements_)
			resizeIndex(std::max(n, max_elements_ * 2));
	}

	// InitElement stores element id's prepared vector (already written at
	// VectorPtr(id)), label and level with empty link lists; it leaves the
	// graph, the label map and cur_element_count to the caller.
	void InitElement(tableint id, labeltype label, int level) {
		char *block = data_level0_memory_ + id * size_data_per_element_ + offsetLevel0_;
		memset(block, 0, size_links_level0_);
		setExternalLabel(id, label);
		linkLists_[id] = nullptr;
		if (level > 0) {
			/* hnswlib's searchBaseLayer reads one id past a list to prefetch:
			   pad so that read stays inside the block (hnswlib allocates + 1). */
			size_t bytes = size_links_per_element_ * level + sizeof(tableint);
			linkLists_[id] = static_cast<char *>(malloc(bytes));
			if (linkLists_[id] == nullptr)
				throw std::bad_alloc();
			memset(linkLists_[id], 0, bytes);
		}
		/* Levels are set after the allocation: FreeElement and the destructor free by level. */
		element_levels_[id] = level;
	}

	// FreeElement releases what InitElement allocated, for an element that
	// was never linked (it stays past cur_element_count).
	void FreeElement(tableint id) {
		if (element_levels_[id] > 0)
			free(linkLists_[id]);
		linkLists_[id] = nullptr;
		element_levels_[id] = 0;
	}

	// VectorPtr returns the writable vector of element id.
	float *VectorPtr(tableint id) { return reinterpret_cast<float *>(getDataByInternalId(id)); }

	// AppendElement stores a new element with its level and empty link lists
	// and returns its internal id; the graph is left to the caller (Load).
	tableint AppendElement(const float *v, labeltype label, int level) {
		EnsureCapacity(cur_element_count + 1);
		tableint id = static_cast<tableint>(cur_element_count);
		memcpy(VectorPtr(id), v, data_size_);
		InitElement(id, label, level);
		label_lookup_[label] = id;
		cur_element_count++;
		return id;
	}

	// SelectNeighbors runs the HNSW neighbour heuristic over candidates sorted
	// by increasing score and returns at most capacity of them; with
	// keep_pruned the pruned ones fill the list up to capacity (pgvector).
	void SelectNeighbors(const std::vector<DistPair> &cands, size_t capacity, bool keep_pruned,
						 std::vector<DistPair> *out) const {
		out->clear();
		/* hnswlib keeps every candidate when there are fewer than capacity. */
		if (cands.size() < capacity) {
			*out = cands;
			return;
		}
		std::vector<DistPair> pruned;
		for (const DistPair &c : cands) {
			if (out->size() >= capacity)
				break;
			bool good = true;
			for (const DistPair &s : *out) {
				if (fstdistfunc_(getDataByInternalId(s.second), getDataByInternalId(c.second), dist_func_param_) <
					c.first) {
					good = false;
					break;
				}
			}
			if (good)
				out->push_back(c);
			else if (keep_pruned)
				pruned.push_back(c);
		}
		for (size_t i = 0; i < pruned.size() && out->size() < capacity; i++)
			out->push_back(pruned[i]);
	}

	// Connect links element cur on level to its selected neighbours and each
	// of them back to cur, shrinking full lists with the heuristic. Each list
	// is written under its element's lock.
	void Connect(tableint cur, const std::vector<DistPair> &cands, int level, const HnswBuildOptions &opt) {
		size_t capacity = level ? maxM_ : maxM0_;
		size_t pick = (level == 0 && opt.full_layer0) ? maxM0_ : M_;
		std::vector<DistPair> selected, shrunk, others;
		SelectNeighbors(cands, pick, opt.keep_pruned, &selected);
		{
			/* Another build thread may already have linked itself into cur's
			   list (it found cur through a layer above): keep those links,
			   shrinking with the heuristic when the list overflows, or that
			   element could lose its only way in. */
			std::lock_guard<std::mutex> lock(link_list_locks_[cur]);
			linklistsizeint *ll_cur = get_linklist_at_level(cur, level);
			tableint *cur_links = reinterpret_cast<tableint *>(ll_cur + 1);
			size_t existing = getListCount(ll_cur);
			if (existing == 0) {
				for (size_t i = 0; i < selected.size(); i++)
					cur_links[i] = selected[i].second;
				setListCount(ll_cur, static_cast<unsigned short>(selected.size()));
			} else {
				others.assign(selected.begin(), selected.end());
				for (size_t j = 0; j < existing; j++) {
					tableint e = cur_links[j];
					bool dup = e == cur;
					for (const DistPair &o : others)
						dup = dup || o.second == e;
					if (!dup)
						others.emplace_back(fstdistfunc_(getDataByInternalId(e), getDataByInternalId(cur), dist_func_param_),
											e);
				}
				std::sort(others.begin(), others.end());
				if (others.size() > capacity)
					SelectNeighbors(others, capacity, opt.keep_pruned, &shrunk);
				else
					shrunk.assign(others.begin(), others.end());
				for (size_t i = 0; i < shrunk.size(); i++)
					cur_links[i] = shrunk[i].second;
				setListCount(ll_cur, static_cast<unsigned short>(shrunk.size()));
			}
		}

		for (const DistPair &s : selected) {
			tableint n = s.second;
			std::lock_guard<std::mutex> lock(link_list_locks_[n]);
			linklistsizeint *ll = get_linklist_at_level(n, level);
			size_t sz = getListCount(ll);
			tableint *links = reinterpret_cast<tableint *>(ll + 1);
			if (sz < capacity) {
				links[sz] = cur;
				setListCount(ll, static_cast<unsigned short>(sz + 1));
				continue;
			}
			others.clear();
			others.emplace_back(s.first, cur);
			for (size_t j = 0; j < sz; j++)
				others.emplace_back(fstdistfunc_(getDataByInternalId(links[j]), getDataByInternalId(n), dist_func_param_),
									links[j]);
			std::sort(others.begin(), others.end());
			SelectNeighbors(others, capacity, opt.keep_pruned, &shrunk);
			for (size_t j = 0; j < shrunk.size(); j++)
				links[j] = shrunk[j].second;
			setListCount(ll, static_cast<unsigned short>(shrunk.size()));
		}
	}

	// BeginBatch marks elements base .. base + n - 1 as not yet linked;
	// EndBatch marks every element linked again.
	void BeginBatch(size_t base, size_t n) {
		batch_base_ = base;
		linked_.assign(n, 0);
	}
	void EndBatch() {
		batch_base_ = std::numeric_limits<size_t>::max();
		std::vector<uint8_t>().swap(linked_);
	}

	// Linked says whether element id has written its lists on every level
	// (a build thread may still be linking it). Only such an element may
	// lead a descent to a lower level: another one is reachable on the
	// levels it has written but may still have an empty list below them, and
	// an insert entering a level there finds almost nothing.
	bool Linked(tableint id) const {
		return id < batch_base_ || __atomic_load_n(&linked_[id - batch_base_], __ATOMIC_ACQUIRE) != 0;
	}

	// RepairOrphans makes sure every element of 0 .. count-1 but the entry
	// point is linked from one of its kRepairNear closest neighbours on layer
	// 0: otherwise it gets a link from its closest one, in a free slot or in
	// place of that neighbour's farthest link to an element with other
	// in-links. Concurrent inserts can leave an element linked only from far
	// away (its neighbours were inserted at the same time and pruned it), or
	// not at all; a search for it then finds it late or never. Runs after the
	// build threads have finished.
	void RepairOrphans(size_t count) {
		constexpr size_t kRepairNear = 3;
		std::vector<uint32_t> in(count, 0);
		for (size_t id = 0; id < count; id++) {
			linklistsizeint *ll = get_linklist0(static_cast<tableint>(id));
			size_t sz = getListCount(ll);
			tableint *links = reinterpret_cast<tableint *>(ll + 1);
			for (size_t j = 0; j < sz; j++)
				if (links[j] < count)
					in[links[j]]++;
		}
		for (size_t id = 0; id < count; id++) {
			if (static_cast<tableint>(id) == enterpoint_node_)
				continue;
			linklistsizeint *own = get_linklist0(static_cast<tableint>(id));
			size_t own_sz = getListCount(own);
			tableint *own_links = reinterpret_cast<tableint *>(own + 1);
			if (own_sz == 0)
				continue;
			bool linked_back = false;
			for (size_t j = 0; j < std::min(own_sz, kRepairNear) && !linked_back; j++) {
				linklistsizeint *ll = get_linklist0(own_links[j]);
				size_t sz = getListCount(ll);
				tableint *links = reinterpret_cast<tableint *>(ll + 1);
				for (size_t t = 0; t < sz && !linked_back; t++)
					linked_back = links[t] == static_cast<tableint>(id);
			}
			if (linked_back)
				continue;
			tableint nb = own_links[0];
			linklistsizeint *ll = get_linklist0(nb);
			size_t sz = getListCount(ll);
			tableint *links = reinterpret_cast<tableint *>(ll + 1);
			if (sz < maxM0_) {
				links[sz] = static_cast<tableint>(id);
				setListCount(ll, static_cast<unsigned short>(sz + 1));
				in[id]++;
				continue;
			}
			size_t victim = sz;
			float worst = -1.0f;
			for (size_t j = 0; j < sz; j++) {
				if (in[links[j]] < 2)
					continue;
				float d = fstdistfunc_(getDataByInternalId(links[j]), getDataByInternalId(nb), dist_func_param_);
				if (d > worst) {
					worst = d;
					victim = j;
				}
			}
			if (victim == sz)
				continue;
			in[links[victim]]--;
			links[victim] = static_cast<tableint>(id);
			in[id]++;
		}
	}

	// Link inserts element cur (stored by InitElement) into the graph:
	// hnswlib's addPoint with our neighbour selection. Safe to run on several
	// threads at once for different elements (see the design notes).
	void Link(tableint cur, const HnswBuildOptions &opt) {
		const float *v = VectorPtr(cur);
		int level = element_levels_[cur];
		std::unique_lock<std::mutex> top(global);
		int maxlevel = maxlevel_;
		tableint ep = enterpoint_node_;
		if (maxlevel < 0) {
			enterpoint_node_ = cur;
			maxlevel_ = level;
			MarkLinked(cur);
			return;
		}
		/* An insert that raises the top level keeps `global` until it is done. */
		if (level <= maxlevel)
			top.unlock();
		float ep_dist = Dist(v, ep);
		for (int l = maxlevel; l > level; l--)
			ep = DescendLocked(v, ep, l, &ep_dist);
		std::vector<DistPair> cands;
		for (int l = std::min(level, maxlevel); l >= 0; l--) {
			auto found = searchBaseLayer(ep, v, l);
			cands.resize(found.size());
			for (size_t i = found.size(); i > 0; i--) {
				cands[i - 1] = found.top();
				found.pop();
			}
			Connect(cur, cands, l, opt);
			/* cands is sorted nearest first; keep ep when none is linked yet */
			for (const DistPair &c : cands)
				if (Linked(c.second)) {
					ep = c.second;
					break;
				}
		}
		MarkLinked(cur);
		if (level > maxlevel) {
			enterpoint_node_ = cur;
			maxlevel_ = level;
		}
	}

	// MarkLinked publishes that cur's lists are all written (Linked).
	void MarkLinked(tableint cur) {
		if (cur >= batch_base_)
			__atomic_store_n(&linked_[cur - batch_base_], 1, __ATOMIC_RELEASE);
	}

	// DescendLocked is Descend for a graph other threads are writing: each
	// list is read under its element's lock.
	tableint DescendLocked(const float *q, tableint ep, int level, float *dist) {
		bool changed = true;
		while (changed) {
			changed = false;
			std::lock_guard<std::mutex> lock(link_list_locks_[ep]);
			size_t n;
			const tableint *links = Links(ep, level, &n);
			tableint next = ep;
			for (size_t i = 0; i < n; i++) {
				if (!Linked(links[i]))
					continue;
				float d = Dist(q, links[i]);
				if (d < *dist) {
					*dist = d;
					next = links[i];
					changed = true;
				}
			}
			ep = next;
		}
		return ep;
	}

private:
	/* elements at or past batch_base_ are linked once linked_[id - batch_base_] is set */
	size_t batch_base_ = std::numeric_limits<size_t>::max();
	std::vector<uint8_t> linked_;
};

// GraphRef is the read-only graph that search, filtered search and the
// iterator walk: hnswlib's arrays for the owning index (HnswIndex::Ref), the
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
	hnswlib::DISTFUNC<float> dist = nullptr;
	void *dist_param = nullptr;
	const int64_t *labels = nullptr;      /* labels by internal id */
	hnswlib::VisitedListPool *visited = nullptr;

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
				if (off > upper_bytes || upper_bytes - off < at + per_level)
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

private:
	hnswlib::VisitedListPool *pool_;
	hnswlib::VisitedList *vl_;
};

// WidenEf scales ef by total/allowed for a filtered search, at most
// kMaxEfWiden times and to no more than kMaxFilteredEf (unless ef already is).
size_t WidenEf(size_t ef, size_t allowed, size_t total) noexcept {
	if (allowed == 0 || total == 0)
		return ef;
	double fraction = static_cast<double>(allowed) / static_cast<double>(total);
	size_t widened = static_cast<size_t>(static_cast<double>(ef) / std::max(fraction, 1.0 / kMaxEfWiden));
	return std::max(ef, std::min(widened, kMaxFilteredEf));
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
	while (!frontier.empty()) {
		DistPair c = frontier.top();
		if (c.first > top.top().first && top.size() >= width)
			break;
		frontier.pop();
		size_t n;
		const tableint *links = g.Links(c.second, 1, &n);
		if (n > 0)
			g.Prefetch(links[0]);
		for (size_t j = 0; j < n; j++) {
			if (j + 1 < n)
				g.Prefetch(links[j + 1]);
			if (links[j] >= g.count || visited.Visit(links[j]))
				continue;
			float dj = g.Dist(q, links[j]);
			if (top.size() < width || dj < top.top().first) {
				frontier.emplace(dj, links[j]);
				top.emplace(dj, links[j]);
				if (top.size() > width)
					top.pop();
			}
		}
	}
	std::vector<DistPair> out(top.size());
	for (size_t i = top.size(); i > 0; i--) {
		out[i - 1] = top.top();
		top.pop();
	}
	return out;
}

// StopRequested polls the caller's stop callback.
bool StopRequested(const SearchParams &p) noexcept {
	return p.should_stop != nullptr && p.should_stop(p.stop_arg);
}

// LabelSpan is what searches need to know about the labels: their span and
// whether label == internal id for every element.
struct LabelSpan {
	int64_t min_label = std::numeric_limits<int64_t>::max();
	int64_t max_label = -1;
	bool identity = true;

	// Note folds the labels of elements first .. first + n - 1 into the span.
	void Note(const int64_t *labels, size_t first, size_t n) noexcept {
		for (size_t i = first; i < first + n; i++) {
			min_label = std::min(min_label, labels[i]);
			max_label = std::max(max_label, labels[i]);
			identity = identity && labels[i] == static_cast<int64_t>(i);
		}
	}
	// Dense reports whether the count (unique) labels are exactly 0 .. count-1.
	bool Dense(size_t count) const noexcept {
		return count > 0 && min_label == 0 && max_label == static_cast<int64_t>(count - 1);
	}
};

// HnswSearcher is what the owning HNSW index and its view share: every search
// path, written once over the GraphRef the kind gives (Ref) and its label
// lookup (FindLabel).
class HnswSearcher : public Index {
public:
	HnswSearcher(const IndexConfig &config, const HnswBuildOptions &options) : config_(config), options_(options) {}

	IndexKind kind() const noexcept override { return IndexKind::kHnsw; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return static_cast<int64_t>(Ref().count); }

	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override;
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override;
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override;
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override;

	// Ref returns the graph as it is now.
	virtual GraphRef Ref() const noexcept = 0;
	// FindLabel finds the internal id of a label.
	virtual bool FindLabel(int64_t label, tableint *id) const = 0;

	// Prepare checks a query (finite, non-zero for cosine) and copies it,
	// normalized for cosine, to out.
	Status Prepare(const void *q, std::vector<float> *out) const;
	// Allowed reports whether element id passes the filter.
	static bool Allowed(const GraphRef &g, BitsetView filter, tableint id) {
		return filter.empty() || !filter.test(g.labels[id]);
	}
	// Rows returns every element as a RowSet: vectors in place in the
	// level-0 block, labels from the label array.
	static RowSet Rows(const GraphRef &g) noexcept {
		RowSet r;
		r.labels = g.labels;
		r.base = reinterpret_cast<const uint8_t *>(g.level0 + g.offset_data);
		r.stride = g.per_element;
		r.n = g.count;
		return r;
	}
	// CountAllowed returns how many elements the filter allows.
	size_t CountAllowed(const GraphRef &g, BitsetView filter) const;
	// ExactRows returns the rows an exact scan under filter must visit and,
	// in *scan_filter, the filter it must still apply: just the allowed rows
	// (then no filter) when few of labels 0 .. count-1 are allowed, else
	// every row under filter. The vectors keep the row lists alive.
	RowSet ExactRows(const GraphRef &g, BitsetView filter, size_t allowed, std::vector<int64_t> *labels,
					 std::vector<const void *> *rows, BitsetView *scan_filter) const;
	// SearchGraph runs the filtered best-first search of layer 0 with width ef.
	Status SearchGraph(const GraphRef &g, const float *q, size_t ef, BitsetView filter, const SearchParams &params,
					   std::vector<Neighbor> *out) const;
	const HnswBuildOptions &options() const { return options_; }

protected:
	IndexConfig config_;
	HnswBuildOptions options_;
	LabelSpan span_;
};

// HnswIterator is the resumable layer-0 search of one query.
class HnswIterator final : public Iterator {
public:
	HnswIterator(const HnswSearcher *index, std::vector<float> query, const SearchParams &params, BitsetView filter)
		: index_(index), query_(std::move(query)), params_(params), filter_(filter) {}
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override;

private:
	// Start seeds the frontier from the graph.
	Status Start(const GraphRef &g);
	// Admit records a newly scored element: frontier, and results if allowed.
	bool Admit(const GraphRef &g, tableint id, float d);

	const HnswSearcher *index_;
	std::vector<float> query_;
	SearchParams params_;
	BitsetView filter_;
	bool started_ = false;
	bool exhausted_ = false;
	size_t ef_ = 0;
	std::vector<uint8_t> visited_;
	MinHeap frontier_;
	MinHeap ready_;
};

// kBuildPollInserts is how many of its own inserts the calling thread makes
// between two polls of the build stop callback (about 25 ms at m 16, ef 64).
constexpr size_t kBuildPollInserts = 256;

// HnswMeta is the first section of an HNSW payload: build parameters, the
// graph's entry, and hnswlib's element layout (checked against m and dim).
struct HnswMeta {
	uint32_t m;
	uint32_t ef_construction;
	uint64_t seed;
	int32_t max_level;
	uint32_t flags;        /* kHnswIdentity */
	int64_t entry;         /* -1 when empty */
	uint64_t count;
	uint64_t per_element;  /* level-0 element bytes: link count, 2m links, vector, label */
	uint64_t offset_data;  /* vector offset in an element */
	uint64_t per_level;    /* upper-layer list bytes: link count, m links */
	uint64_t upper_bytes;  /* upper-layer block */
	int64_t min_label;     /* label span (max -1 when empty) */
	int64_t max_label;
};
// kHnswIdentity flags labels equal to internal ids for every element.
constexpr uint32_t kHnswIdentity = 1;

// HnswIndex is the HNSW index kind over an hnswlib graph it owns.
class HnswIndex final : public HnswSearcher {
public:
	HnswIndex(const IndexConfig &config, const HnswBuildOptions &options, size_t capacity)
		: HnswSearcher(config, options),
		  space_(std::make_unique<KernelSpace>(config.metric, static_cast<size_t>(config.dim))),
		  graph_(std::make_unique<Graph>(space_.get(), capacity, static_cast<size_t>(config.m),
										 static_cast<size_t>(config.ef_construction), static_cast<size_t>(config.seed))) {}

	// MemoryUsage adds hnswlib's per-capacity arrays (level-0 block, link
	// list pointers, levels, locks, visited lists), the upper-layer link
	// lists, the label map and labels_.
	size_t MemoryUsage() const noexcept override {
		const Graph &g = *graph_;
		size_t bytes =
			sizeof(*this) + sizeof(Graph) + CapacityBytes(g.max_elements_, g.size_data_per_element_, config_.threads);
		for (size_t i = 0; i < g.cur_element_count; i++)
			if (g.element_levels_[i] > 0)
				bytes += UpperLinkBytes(g.element_levels_[i], g.size_links_per_element_);
		bytes += labels_.capacity() * sizeof(int64_t);
		return bytes + LabelMapBytes(g.label_lookup_.size(), g.label_lookup_.bucket_count());
	}

	// CapacityBytes returns the bytes hnswlib allocates per element of
	// capacity: the level-0 block, a link-list pointer, a level, a lock and
	// a slot in each visited list (the pool grows to one per build thread).
	static size_t CapacityBytes(size_t capacity, size_t per_element, int threads) noexcept {
		return capacity * (per_element + sizeof(char *) + sizeof(int) + sizeof(std::mutex) +
						   static_cast<size_t>(std::max(threads, 1)) * sizeof(hnswlib::vl_type));
	}
	// UpperLinkBytes returns the malloc'ed upper-layer lists of one element
	// of level > 0 (padding and malloc's header included).
	static size_t UpperLinkBytes(int level, size_t per_level) noexcept {
		return static_cast<size_t>(level) * per_level + sizeof(tableint) + 16;
	}
	// LabelMapBytes returns the label map's nodes and buckets.
	static size_t LabelMapBytes(size_t n, size_t buckets) noexcept { return n * 32 + buckets * sizeof(void *); }

	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override;
	Status Serialize(ByteWriter &writer) const noexcept override;

	// Load reads the sections after the common header into this empty index.
	Status Load(const IndexHeader &h, const HnswMeta &meta, IndexStreamReader &r);

	// Ref points at hnswlib's arrays.
	GraphRef Ref() const noexcept override {
		const Graph &g = *graph_;
		GraphRef r;
		r.level0 = g.data_level0_memory_;
		r.per_element = g.size_data_per_element_;
		r.offset_data = g.offsetData_;
		r.count = g.cur_element_count;
		r.max_m0 = g.maxM0_;
		r.max_m = g.maxM_;
		r.per_level = g.size_links_per_element_;
		r.levels = g.element_levels_.data();
		r.upper_ptrs = g.linkLists_;
		r.max_level = g.maxlevel_;
		r.entry = g.enterpoint_node_;
		r.dist = g.fstdistfunc_;
		r.dist_param = g.dist_func_param_;
		r.labels = labels_.data();
		r.visited = g.visited_list_pool_;
		return r;
	}
	// FindLabel looks the label up in hnswlib's label map.
	bool FindLabel(int64_t label, tableint *id) const override {
		auto it = label < 0 ? graph_->label_lookup_.end() : graph_->label_lookup_.find(static_cast<labeltype>(label));
		if (it == graph_->label_lookup_.end())
			return false;
		*id = it->second;
		return true;
	}

private:
	// StoreBatch writes the batch's prepared vectors, labels and levels into
	// elements base .. base + n - 1, unlinked; on failure none stays allocated.
	Status StoreBatch(const float *v, const int64_t *labels, size_t n, size_t base);
	// LinkBatch links elements base .. base + n - 1 on the calling thread and
	// config.threads - 1 workers and returns how many (a prefix) it linked.
	Status LinkBatch(size_t base, size_t n, size_t *linked);

	std::unique_ptr<KernelSpace> space_;
	std::unique_ptr<Graph> graph_;
	/* labels by internal id, contiguous for filter tests and exact scans */
	std::vector<int64_t> labels_;
};

// HnswSections points at an HNSW payload's sections in serialized bytes.
struct HnswSections {
	HnswMeta meta{};
	const char *level0 = nullptr;
	const int64_t *labels = nullptr;
	const int32_t *levels = nullptr;
	const uint64_t *upper_offsets = nullptr;
	const uint32_t *by_label = nullptr;   /* internal ids in increasing label order */
	const char *upper = nullptr;
};

// HnswView is a read-only HNSW index over serialized bytes: the graph and
// vectors stay in the bytes; it owns only the distance function and a pool
// of visited lists (one of count entries per concurrently searching thread,
// made on first use).
class HnswView final : public HnswSearcher {
public:
	HnswView(const IndexBytes &bytes, const IndexConfig &config, const HnswSections &s)
		: HnswSearcher(config, HnswBuildOptions()),
		  bytes_(bytes),
		  sections_(s),
		  space_(config.metric, static_cast<size_t>(config.dim)),
		  visited_(0, static_cast<int>(s.meta.count)) {
		span_.identity = (s.meta.flags & kHnswIdentity) != 0;
		span_.min_label = s.meta.min_label;
		span_.max_label = s.meta.max_label;
	}

	// MemoryUsage counts the view and one visited list (what one searching
	// thread makes; hnswlib's pool does not say how many it holds).
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + sizeof(hnswlib::VisitedList) + sections_.meta.count * sizeof(hnswlib::vl_type);
	}
	Status Train(const void *, size_t) noexcept override { return ReadOnly(); }
	Status Add(const void *, const int64_t *, size_t) noexcept override { return ReadOnly(); }
	// Serialize copies the bytes out.
	Status Serialize(ByteWriter &writer) const noexcept override { return writer.Write(bytes_.data, bytes_.size); }

	// Ref points into the bytes.
	GraphRef Ref() const noexcept override {
		const HnswMeta &m = sections_.meta;
		GraphRef r;
		r.level0 = sections_.level0;
		r.per_element = m.per_element;
		r.offset_data = m.offset_data;
		r.count = m.count;
		r.max_m0 = 2 * static_cast<size_t>(m.m);
		r.max_m = m.m;
		r.per_level = m.per_level;
		r.levels = sections_.levels;
		r.upper_base = sections_.upper;
		r.upper_offsets = sections_.upper_offsets;
		r.upper_bytes = m.upper_bytes;
		r.max_level = m.max_level;
		r.entry = m.count > 0 ? static_cast<tableint>(m.entry) : 0;
		r.dist = const_cast<KernelSpace &>(space_).get_dist_func();
		r.dist_param = const_cast<KernelSpace &>(space_).get_dist_func_param();
		r.labels = sections_.labels;
		r.visited = &visited_;
		return r;
	}
	// FindLabel is the identity, or a binary search of the label order.
	bool FindLabel(int64_t label, tableint *id) const override {
		size_t n = sections_.meta.count;
		if (span_.identity) {
			if (label < 0 || static_cast<uint64_t>(label) >= n)
				return false;
			*id = static_cast<tableint>(label);
			return true;
		}
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			uint32_t at = sections_.by_label[mid];
			if (at >= n)
				return false;
			if (sections_.labels[at] < label)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n || sections_.by_label[lo] >= n || sections_.labels[sections_.by_label[lo]] != label)
			return false;
		*id = sections_.by_label[lo];
		return true;
	}

private:
	// ReadOnly is the answer to every change.
	static Status ReadOnly() noexcept { return Status::NotSupported("an index view is read-only"); }

	IndexBytes bytes_;
	HnswSections sections_;
	KernelSpace space_;
	mutable hnswlib::VisitedListPool visited_;
};

// Prepare validates and copies a query, normalizing it for cosine.
Status HnswSearcher::Prepare(const void *q, std::vector<float> *out) const {
	out->resize(static_cast<size_t>(config_.dim));
	return PrepareVector(config_.metric, config_.dim, q, out->data(), "query");
}

// Add validates the labels (non-negative, new), stores the prepared rows
// (finite, non-zero for cosine) unlinked, then links them (LinkBatch).
Status HnswIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors and labels must not be null");
	try {
		Graph &g = *graph_;
		if (g.cur_element_count + n > std::numeric_limits<tableint>::max() / 2)
			return Status::InvalidArgument("too many rows for an HNSW index");
		std::unordered_set<int64_t> batch;
		batch.reserve(n);
		for (size_t i = 0; i < n; i++) {
			if (labels[i] < 0)
				return Status::InvalidArgument("labels must not be negative");
			if (!batch.insert(labels[i]).second || g.label_lookup_.count(static_cast<labeltype>(labels[i])) != 0)
				return Status::InvalidArgument("label " + std::to_string(labels[i]) + " added twice");
		}
		if (BuildStopRequested())
			return Status::Cancelled();
		size_t base = g.cur_element_count;
		g.EnsureCapacity(base + n);
		labels_.reserve(base + n);
		g.label_lookup_.reserve(base + n);
		VECDB_RETURN_IF_ERROR(StoreBatch(static_cast<const float *>(vectors), labels, n, base));
		size_t linked = 0;
		Status s = LinkBatch(base, n, &linked);
		for (size_t i = linked; i < n; i++)
			g.FreeElement(static_cast<tableint>(base + i));
		for (size_t i = 0; i < linked; i++)
			g.label_lookup_[static_cast<labeltype>(labels[i])] = static_cast<tableint>(base + i);
		labels_.insert(labels_.end(), labels, labels + linked);
		span_.Note(labels_.data(), base, linked);
		g.cur_element_count = base + linked;
		if (config_.threads > 1)
			g.RepairOrphans(g.cur_element_count);
		if (s.ok())
			ReportProgress(n, n);
		return s;
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while adding to an HNSW index");
	} catch (const std::exception &e) {
		return Status::Internal(std::string("hnsw add failed: ") + e.what());
	} catch (...) {
		return Status::Internal("hnsw add failed");
	}
}

// StoreBatch prepares each row into its element's vector slot and draws the
// levels in batch order (the serial build's sequence).
Status HnswIndex::StoreBatch(const float *v, const int64_t *labels, size_t n, size_t base) {
	Graph &g = *graph_;
	size_t d = static_cast<size_t>(config_.dim);
	size_t done = 0;
	Status s;
	try {
		for (; done < n; done++) {
			tableint id = static_cast<tableint>(base + done);
			s = PrepareVector(config_.metric, config_.dim, v + done * d, g.VectorPtr(id), "vector");
			if (!s.ok())
				break;
			g.InitElement(id, static_cast<labeltype>(labels[done]), g.getRandomLevel(g.mult_));
		}
	} catch (...) {
		for (size_t i = 0; i < done; i++)
			g.FreeElement(static_cast<tableint>(base + i));
		throw;
	}
	if (!s.ok())
		for (size_t i = 0; i < done; i++)
			g.FreeElement(static_cast<tableint>(base + i));
	return s;
}

// LinkBatch hands out elements from a shared counter. Workers stop taking
// elements once the shared flag is up; the calling thread raises it on a
// stop request or any failure. Every element taken is linked (or failed
// while linking, still a valid element), so the linked ones are a prefix.
Status HnswIndex::LinkBatch(size_t base, size_t n, size_t *linked) {
	Graph &g = *graph_;
	std::atomic<size_t> next{0};
	std::atomic<size_t> done{0};
	std::atomic<bool> stop{false};
	std::atomic<size_t> workers_done{0};
	g.BeginBatch(base, n);
	struct BatchEnd {
		Graph &g;
		~BatchEnd() { g.EndBatch(); }
	} batch_end{g};
	/* LinkSome links elements until none are left or stop is raised; it
	   reports after every `poll_every` of its own, when asked to. */
	auto link_some = [&](size_t poll_every, Status *status) noexcept {
		size_t mine = 0;
		try {
			while (!stop.load(std::memory_order_relaxed)) {
				size_t i = next.fetch_add(1, std::memory_order_relaxed);
				if (i >= n)
					return;
				g.Link(static_cast<tableint>(base + i), options_);
				done.fetch_add(1, std::memory_order_relaxed);
				if (poll_every != 0 && ++mine % poll_every == 0) {
					if (BuildStopRequested()) {
						*status = Status::Cancelled();
						stop.store(true);
						return;
					}
					ReportProgress(done.load(std::memory_order_relaxed), n);
				}
			}
		} catch (const std::bad_alloc &) {
			*status = Status::OutOfMemory("out of memory while adding to an HNSW index");
		} catch (const std::exception &e) {
			*status = Status::Internal(std::string("hnsw add failed: ") + e.what());
		} catch (...) {
			*status = Status::Internal("hnsw add failed");
		}
		stop.store(true);
	};

	size_t want = std::min<size_t>(static_cast<size_t>(std::max(config_.threads, 1)), n) - 1;
	std::vector<Status> worker_status(want);
	ThreadGroup group;
	size_t started = group.Start(want, [&](size_t t) noexcept {
		link_some(0, &worker_status[t]);
		workers_done.fetch_add(1, std::memory_order_release);
	});
	Status status;
	link_some(kBuildPollInserts, &status);
	while (workers_done.load(std::memory_order_acquire) < started) {
		if (status.ok() && !stop.load(std::memory_order_relaxed) && BuildStopRequested()) {
			status = Status::Cancelled();
			stop.store(true);
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	group.Join();
	*linked = std::min(next.load(), n);
	/* A real failure outranks the cancel it may have caused. */
	for (size_t t = 0; t < started; t++)
		if (!worker_status[t].ok())
			return worker_status[t];
	return status;
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

// SearchGraph walks layer 0 best-first from the descended entry point; filtered
// nodes are expanded but never enter the ef best results.
Status HnswSearcher::SearchGraph(const GraphRef &ref, const float *q, size_t ef, BitsetView filter,
								 const SearchParams &params, std::vector<Neighbor> *out) const {
	/* a local copy the compiler can keep in registers across the distance calls */
	const GraphRef g = ref;
	out->clear();
	std::vector<DistPair> entries = LayerEntries(g, q, options_.layer1_beam ? ef : 1);
	VisitedGuard visited(g.visited);
	MinHeap frontier;
	MaxHeap top;
	for (const DistPair &e : entries) {
		visited.Visit(e.second);
		frontier.push(e);
		if (Allowed(g, filter, e.second)) {
			top.push(e);
			if (top.size() > ef)
				top.pop();
		}
	}
	float bound = top.empty() ? std::numeric_limits<float>::infinity() : top.top().first;
	int polls = 0;
	while (!frontier.empty()) {
		DistPair c = frontier.top();
		if (c.first > bound && top.size() >= ef)
			break;
		frontier.pop();
		if (++polls % kStopPollInterval == 0 && StopRequested(params))
			return Status::Cancelled();
		size_t n;
		const tableint *links = g.Links(c.second, 0, &n);
		if (n > 0)
			g.Prefetch(links[0]);
		for (size_t j = 0; j < n; j++) {
			tableint id = links[j];
			/* as hnswlib: fetch the next neighbour's vector while scoring this one */
			if (j + 1 < n)
				g.Prefetch(links[j + 1]);
			if (id >= g.count || visited.Visit(id))
				continue;
			float d = g.Dist(q, id);
			if (top.size() < ef || d < bound) {
				frontier.emplace(d, id);
				if (Allowed(g, filter, id)) {
					top.emplace(d, id);
					if (top.size() > ef)
						top.pop();
					bound = top.top().first;
				}
			}
		}
	}
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
// filtered graph search with ef widened by 1/selectivity, falling back to
// brute force when the graph search found fewer than k allowed rows.
Status HnswSearcher::Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
							int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, k));
	if (nq != 0 && (queries == nullptr || labels == nullptr || distances == nullptr))
		return Status::InvalidArgument("queries and result buffers must not be null");
	try {
		GraphRef g = Ref();
		size_t total = g.count;
		size_t allowed = CountAllowed(g, filter);
		double fraction = total == 0 ? 0.0 : static_cast<double>(allowed) / static_cast<double>(total);
		bool exact = allowed > 0 && (fraction < BruteForceRatio(params, config_) || k * 2 >= allowed);
		size_t ef = std::max(static_cast<size_t>(params.ef_search), k);
		if (!filter.empty())
			ef = WidenEf(ef, allowed, total);
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
				VECDB_RETURN_IF_ERROR(SearchGraph(g, q.data(), ef, filter, params, &res));
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
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while searching an HNSW index");
	} catch (const std::exception &e) {
		return Status::Internal(std::string("hnsw search failed: ") + e.what());
	} catch (...) {
		return Status::Internal("hnsw search failed");
	}
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
	try {
		std::vector<float> q;
		VECDB_RETURN_IF_ERROR(Prepare(query, &q));
		std::vector<Neighbor> found;
		StopPoller poller(params.should_stop, params.stop_arg);
		VECDB_RETURN_IF_ERROR(
			RangeScan(config_.metric, config_.dim, q.data(), Rows(Ref()), radius, filter, &poller, &found));
		std::sort(found.begin(), found.end(), NeighborLess);
		out->insert(out->end(), found.begin(), found.end());
		return Status::Ok();
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory during an HNSW range search");
	} catch (const std::exception &e) {
		return Status::Internal(std::string("hnsw range search failed: ") + e.what());
	} catch (...) {
		return Status::Internal("hnsw range search failed");
	}
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
	try {
		std::vector<float> q;
		s = Prepare(query, &q);
		if (!s.ok())
			return s;
		GraphRef g = Ref();
		size_t total = g.count;
		size_t allowed = filter.empty() ? total : CountAllowed(g, filter);
		if (!filter.empty() &&
			static_cast<double>(allowed) < BruteForceRatio(params, config_) * static_cast<double>(total)) {
			std::vector<int64_t> labels;
			std::vector<const void *> rows;
			BitsetView scan_filter;
			RowSet set = ExactRows(g, filter, allowed, &labels, &rows, &scan_filter);
			return ExactIterator::Create(config_.metric, config_.dim, q.data(), set, scan_filter, params);
		}
		return std::unique_ptr<Iterator>(std::make_unique<HnswIterator>(this, std::move(q), params, filter));
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while creating an HNSW iterator");
	} catch (...) {
		return Status::Internal("hnsw iterator creation failed");
	}
}

// Reconstruct copies each label's stored (prepared) vector.
Status HnswSearcher::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels and output must not be null");
	try {
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
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while reading rows of an HNSW index");
	} catch (...) {
		return Status::Internal("hnsw reconstruct failed");
	}
}

// Admit marks id visited, queues it for expansion and, when allowed, for
// return; it reports whether id is allowed.
bool HnswIterator::Admit(const GraphRef &g, tableint id, float d) {
	visited_[id] = 1;
	frontier_.emplace(d, id);
	if (!HnswSearcher::Allowed(g, filter_, id))
		return false;
	ready_.emplace(d, id);
	return true;
}

// Start seeds the search from the layer-0 entry points of the graph, with ef
// widened by the allowed fraction.
Status HnswIterator::Start(const GraphRef &g) {
	size_t total = g.count;
	started_ = true;
	visited_.assign(total, 0);
	if (total == 0) {
		exhausted_ = true;
		return Status::Ok();
	}
	ef_ = static_cast<size_t>(params_.ef_search);
	if (!filter_.empty())
		ef_ = WidenEf(ef_, index_->CountAllowed(g, filter_), total);
	for (const DistPair &e : LayerEntries(g, query_.data(), index_->options().layer1_beam ? ef_ : 1))
		Admit(g, e.second, e.first);
	return Status::Ok();
}

// Next continues the best-first expansion until the closest unexpanded node is
// farther than the (max_batch + ef)-th closest allowed row found and not yet
// returned (hnswlib's stopping rule with ef = max_batch + ef), or the graph is
// exhausted, when rows it never reached are scored exactly; it then returns
// the closest max_batch found rows. The frontier keeps every visited node, so
// later batches resume where this one stopped.
Status HnswIterator::Next(size_t max_batch, std::vector<Neighbor> *out) noexcept {
	if (out == nullptr)
		return Status::InvalidArgument("output must not be null");
	try {
		GraphRef g = index_->Ref();
		if (!started_)
			VECDB_RETURN_IF_ERROR(Start(g));
		size_t want = max_batch + ef_;
		/* top holds the want closest found-but-unreturned rows (max on top). */
		std::vector<DistPair> best;
		while (!ready_.empty() && best.size() < want) {
			best.push_back(ready_.top());
			ready_.pop();
		}
		for (const DistPair &b : best)
			ready_.push(b);
		MaxHeap top(std::less<DistPair>(), std::move(best));
		int polls = 0;
		while (!exhausted_) {
			if (++polls % kStopPollInterval == 0 && StopRequested(params_))
				return Status::Cancelled();
			if (frontier_.empty()) {
				/* The graph is exhausted: rows it never reached are scored exactly. */
				for (size_t i = 0; i < visited_.size(); i++) {
					if ((i & 4095) == 0 && StopRequested(params_))
						return Status::Cancelled();
					if (!visited_[i]) {
						visited_[i] = 1;
						if (HnswSearcher::Allowed(g, filter_, static_cast<tableint>(i)))
							ready_.emplace(g.Dist(query_.data(), static_cast<tableint>(i)), static_cast<tableint>(i));
					}
				}
				exhausted_ = true;
				break;
			}
			if (top.size() >= want && frontier_.top().first > top.top().first)
				break;
			DistPair c = frontier_.top();
			frontier_.pop();
			size_t n;
			const tableint *links = g.Links(c.second, 0, &n);
			if (n > 0)
				g.Prefetch(links[0]);
			for (size_t j = 0; j < n; j++) {
				tableint id = links[j];
				if (j + 1 < n)
					g.Prefetch(links[j + 1]);
				/* Rows added after the iterator started are not part of its search. */
				if (id >= visited_.size() || visited_[id])
					continue;
				float d = g.Dist(query_.data(), id);
				if (Admit(g, id, d) && (top.size() < want || d < top.top().first)) {
					top.emplace(d, id);
					if (top.size() > want)
						top.pop();
				}
			}
		}
		for (size_t i = 0; i < max_batch && !ready_.empty(); i++) {
			out->push_back({g.Label(ready_.top().second), ready_.top().first});
			ready_.pop();
		}
		return Status::Ok();
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory in an HNSW iterator");
	} catch (const std::exception &e) {
		return Status::Internal(std::string("hnsw iterator failed: ") + e.what());
	} catch (...) {
		return Status::Internal("hnsw iterator failed");
	}
}

// HnswConfigOf checks an HNSW meta section against the header and hnswlib's
// element layout for its m and dim, and returns the index's config.
Status HnswConfigOf(const IndexHeader &h, const HnswMeta &m, IndexConfig *config) noexcept {
	config->kind = IndexKind::kHnsw;
	config->metric = static_cast<Metric>(h.metric);
	config->dim = h.dim;
	config->m = static_cast<int>(std::min<uint32_t>(m.m, 1u << 20));
	config->ef_construction = static_cast<int>(std::min<uint32_t>(m.ef_construction, 1u << 20));
	config->seed = m.seed;
	if (h.kind != static_cast<uint32_t>(IndexKind::kHnsw) || !ValidateConfig(*config).ok())
		return Status::Corrupt("hnsw build parameters out of range");
	uint64_t links0 = sizeof(linklistsizeint) + 2 * uint64_t{m.m} * sizeof(tableint);
	uint64_t row = static_cast<uint64_t>(h.dim) * sizeof(float);
	if (m.count != static_cast<uint64_t>(h.count) || m.offset_data != links0 ||
		m.per_element != links0 + row + sizeof(labeltype) ||
		m.per_level != sizeof(linklistsizeint) + uint64_t{m.m} * sizeof(tableint) || (m.flags & ~kHnswIdentity) != 0)
		return Status::Corrupt("hnsw sections do not match the index header");
	if (m.count > std::numeric_limits<tableint>::max() / 2)
		return Status::Corrupt("hnsw element count out of range");
	if (m.count == 0) {
		if (m.max_level != -1 || m.entry != -1 || m.upper_bytes != 0)
			return Status::Corrupt("empty hnsw index with an entry point");
		return Status::Ok();
	}
	if (m.max_level < 0 || m.max_level > kMaxLevel || m.entry < 0 || static_cast<uint64_t>(m.entry) >= m.count)
		return Status::Corrupt("hnsw entry point out of range");
	return Status::Ok();
}

// Serialize writes the meta section, hnswlib's level-0 block as it is, the
// labels, levels, upper-list offsets, the label order and the upper lists.
Status HnswIndex::Serialize(ByteWriter &out) const noexcept {
	static_assert(sizeof(int) == sizeof(int32_t), "element levels are stored as int32");
	try {
		const Graph &g = *graph_;
		size_t n = g.cur_element_count;
		HnswMeta meta{};
		meta.m = static_cast<uint32_t>(config_.m);
		meta.ef_construction = static_cast<uint32_t>(config_.ef_construction);
		meta.seed = config_.seed;
		meta.max_level = n == 0 ? -1 : g.maxlevel_;
		meta.flags = span_.identity ? kHnswIdentity : 0;
		meta.entry = n == 0 ? -1 : static_cast<int64_t>(g.enterpoint_node_);
		meta.count = n;
		meta.per_element = g.size_data_per_element_;
		meta.offset_data = g.offsetData_;
		meta.per_level = g.size_links_per_element_;
		meta.min_label = n == 0 ? 0 : span_.min_label;
		meta.max_label = n == 0 ? -1 : span_.max_label;
		std::vector<uint64_t> offsets(n, 0);
		for (size_t i = 0; i < n; i++) {
			offsets[i] = meta.upper_bytes;
			meta.upper_bytes += static_cast<uint64_t>(g.element_levels_[i]) * g.size_links_per_element_;
		}
		std::vector<uint32_t> by_label(n);
		for (size_t i = 0; i < n; i++)
			by_label[i] = static_cast<uint32_t>(i);
		std::sort(by_label.begin(), by_label.end(), [&](uint32_t a, uint32_t b) { return labels_[a] < labels_[b]; });
		return WriteIndexStream(out, *this, [&](IndexStreamWriter &w) -> Status {
			VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
			VECDB_RETURN_IF_ERROR(w.Section(g.data_level0_memory_, n * g.size_data_per_element_));
			VECDB_RETURN_IF_ERROR(w.Section(labels_.data(), n * sizeof(int64_t)));
			VECDB_RETURN_IF_ERROR(w.Section(g.element_levels_.data(), n * sizeof(int32_t)));
			VECDB_RETURN_IF_ERROR(w.Section(offsets.data(), n * sizeof(uint64_t)));
			VECDB_RETURN_IF_ERROR(w.Section(by_label.data(), n * sizeof(uint32_t)));
			VECDB_RETURN_IF_ERROR(w.Align());
			for (size_t i = 0; i < n; i++)
				if (g.element_levels_[i] > 0)
					VECDB_RETURN_IF_ERROR(
						w.Write(g.linkLists_[i], static_cast<size_t>(g.element_levels_[i]) * g.size_links_per_element_));
			return Status::Ok();
		});
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while serializing an HNSW index");
	} catch (...) {
		return Status::Internal("hnsw serialization failed");
	}
}

// CheckList checks one stored neighbour list of element id: length within
// capacity, neighbours existing elements other than id.
Status CheckList(const char *ll, size_t capacity, size_t total, size_t id) noexcept {
	unsigned short n;
	std::memcpy(&n, ll, sizeof(n));
	if (n > capacity)
		return Status::Corrupt("hnsw neighbour list too long");
	for (size_t j = 0; j < n; j++) {
		tableint nb;
		std::memcpy(&nb, ll + sizeof(linklistsizeint) + j * sizeof(tableint), sizeof(nb));
		if (nb >= total || nb == id)
			return Status::Corrupt("hnsw neighbour id out of range");
	}
	return Status::Ok();
}

// Load reads the sections (the level-0 block straight into hnswlib's, growing
// as bytes arrive) and checks every label, level, list and neighbour id
// before the graph is used.
Status HnswIndex::Load(const IndexHeader &h, const HnswMeta &meta, IndexStreamReader &r) {
	(void) h;
	Graph &g = *graph_;
	size_t total = static_cast<size_t>(meta.count);
	size_t per = g.size_data_per_element_;
	constexpr size_t kLoadChunk = 4096;
	VECDB_RETURN_IF_ERROR(r.Align());
	for (size_t i = 0; i < total; i += kLoadChunk) {
		size_t c = std::min(kLoadChunk, total - i);
		g.EnsureCapacity(i + c);
		VECDB_RETURN_IF_ERROR(r.Read(g.data_level0_memory_ + i * per, c * per));
	}
	std::vector<int32_t> levels;
	std::vector<uint64_t> offsets;
	std::vector<uint32_t> by_label;
	std::vector<char> upper;
	VECDB_RETURN_IF_ERROR(r.SectionArray(&labels_, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&levels, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&offsets, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&by_label, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&upper, meta.upper_bytes));
	if (total == 0)
		return Status::Ok();
	size_t d = static_cast<size_t>(config_.dim);
	int seen_max = -1;
	g.label_lookup_.reserve(total);
	for (size_t i = 0; i < total; i++) {
		tableint id = static_cast<tableint>(i);
		int64_t label = labels_[i];
		int level = levels[i];
		if (label < 0 || level < 0 || level > meta.max_level ||
			g.getExternalLabel(id) != static_cast<labeltype>(label))
			return Status::Corrupt("hnsw element label or level out of range");
		if (!g.label_lookup_.emplace(static_cast<labeltype>(label), id).second)
			return Status::Corrupt("hnsw label stored twice");
		const float *v = g.VectorPtr(id);
		for (size_t j = 0; j < d; j++)
			if (!std::isfinite(v[j]))
				return Status::Corrupt("hnsw vector contains NaN or infinity");
		VECDB_RETURN_IF_ERROR(CheckList(g.data_level0_memory_ + i * per, g.maxM0_, total, i));
		g.linkLists_[i] = nullptr;
		if (level > 0) {
			uint64_t bytes = static_cast<uint64_t>(level) * g.size_links_per_element_;
			if (offsets[i] > upper.size() || upper.size() - offsets[i] < bytes)
				return Status::Corrupt("hnsw upper-layer lists out of range");
			for (int l = 0; l < level; l++)
				VECDB_RETURN_IF_ERROR(
					CheckList(upper.data() + offsets[i] + l * g.size_links_per_element_, g.maxM_, total, i));
			/* padded as InitElement pads, for hnswlib's prefetch over-read */
			char *lists = static_cast<char *>(calloc(1, bytes + sizeof(tableint)));
			if (lists == nullptr)
				throw std::bad_alloc();
			memcpy(lists, upper.data() + offsets[i], bytes);
			g.linkLists_[i] = lists;
		}
		/* Levels are set after the allocation: the destructor frees by level. */
		g.element_levels_[i] = level;
		g.cur_element_count = i + 1;
		seen_max = std::max(seen_max, level);
	}
	if (seen_max != meta.max_level || g.element_levels_[static_cast<size_t>(meta.entry)] != meta.max_level)
		return Status::Corrupt("hnsw entry point level inconsistent");
	/* Upper-layer links must point at elements that exist on that layer. */
	for (size_t i = 0; i < total; i++) {
		for (int l = 1; l <= g.element_levels_[i]; l++) {
			size_t n;
			const tableint *nb = g.Links(static_cast<tableint>(i), l, &n);
			for (size_t j = 0; j < n; j++)
				if (g.element_levels_[nb[j]] < l)
					return Status::Corrupt("hnsw link to a missing layer");
		}
	}
	for (size_t j = 0; j < total; j++)
		if (by_label[j] >= total || (j > 0 && labels_[by_label[j]] <= labels_[by_label[j - 1]]))
			return Status::Corrupt("hnsw label order inconsistent");
	span_.Note(labels_.data(), 0, total);
	if (span_.identity != ((meta.flags & kHnswIdentity) != 0) || span_.min_label != meta.min_label ||
		span_.max_label != meta.max_label)
		return Status::Corrupt("hnsw label span inconsistent");
	g.enterpoint_node_ = static_cast<tableint>(meta.entry);
	g.maxlevel_ = meta.max_level;
	return Status::Ok();
}

// ValidateHnswConfig checks what CreateIndex also checks, for direct callers.
Status ValidateHnswConfig(const IndexConfig &config) noexcept {
	if (config.kind != IndexKind::kHnsw)
		return Status::InvalidArgument("not an HNSW config");
	return ValidateConfig(config);
}

}  // namespace

// NewHnswIndexWithOptions makes an empty HNSW index with the given neighbour selection.
Expected<std::unique_ptr<Index>> NewHnswIndexWithOptions(const IndexConfig &config,
														 const HnswBuildOptions &options) noexcept {
	Status s = ValidateHnswConfig(config);
	if (!s.ok())
		return s;
	try {
		return std::unique_ptr<Index>(std::make_unique<HnswIndex>(config, options, kInitialCapacity));
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while creating an HNSW index");
	} catch (const std::exception &e) {
		return Status::Internal(std::string("hnsw creation failed: ") + e.what());
	} catch (...) {
		return Status::Internal("hnsw creation failed");
	}
}

// EstimateHnswMemory mirrors MemoryUsage for one Build of n rows: capacity
// max(n, kInitialCapacity), n / m elements with upper layers holding n / (m
// - 1) upper lists in all (level l is reached with probability m^-l), a
// label map with about one bucket per row.
size_t EstimateHnswMemory(const IndexConfig &config, size_t n) noexcept {
	size_t m = static_cast<size_t>(config.m);
	size_t per_element = 2 * m * sizeof(tableint) + sizeof(linklistsizeint) +
		static_cast<size_t>(config.dim) * sizeof(float) + sizeof(labeltype);
	size_t per_level = m * sizeof(tableint) + sizeof(linklistsizeint);
	size_t bytes = sizeof(HnswIndex) + sizeof(Graph) +
		HnswIndex::CapacityBytes(std::max(n, kInitialCapacity), per_element, config.threads);
	bytes += n / (m - 1) * per_level + n / m * (sizeof(tableint) + 16);
	return bytes + n * sizeof(int64_t) + HnswIndex::LabelMapBytes(n, n);
}

// NewHnswIndex makes an empty HNSW index with the default neighbour selection.
Expected<std::unique_ptr<Index>> NewHnswIndex(const IndexConfig &config) noexcept {
	return NewHnswIndexWithOptions(config, HnswBuildOptions());
}

// LoadHnswIndex reads the meta section, makes the index its build parameters
// describe and reads the graph into it (DeserializeIndex checks the trailer).
Expected<std::unique_ptr<Index>> LoadHnswIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	try {
		HnswMeta meta;
		Status s = reader.Section(&meta, sizeof(meta));
		if (!s.ok())
			return s;
		IndexConfig config;
		s = HnswConfigOf(header, meta, &config);
		if (!s.ok())
			return s;
		auto index = std::make_unique<HnswIndex>(config, HnswBuildOptions(),
												 std::min<size_t>(static_cast<size_t>(meta.count), kInitialCapacity));
		s = index->Load(header, meta, reader);
		if (!s.ok())
			return s;
		return std::unique_ptr<Index>(std::move(index));
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while reading an HNSW index");
	} catch (const std::exception &e) {
		return Status::Corrupt(std::string("hnsw index unreadable: ") + e.what());
	} catch (...) {
		return Status::Corrupt("hnsw index unreadable");
	}
}

// OpenHnswView locates the sections (O(1)) and points a view at them; every
// read through the view is bounded (GraphRef).
Expected<std::unique_ptr<Index>> OpenHnswView(const IndexBytes &bytes) noexcept {
	try {
		ViewCursor c(bytes);
		HnswSections s;
		IndexConfig config;
		Status st = c.TakeCopy(&s.meta);
		if (st.ok())
			st = HnswConfigOf(bytes.header, s.meta, &config);
		uint64_t n = s.meta.count;
		if (st.ok())
			st = c.Take(n * s.meta.per_element, &s.level0);
		if (st.ok())
			st = c.Take(n, &s.labels);
		if (st.ok())
			st = c.Take(n, &s.levels);
		if (st.ok())
			st = c.Take(n, &s.upper_offsets);
		if (st.ok())
			st = c.Take(n, &s.by_label);
		if (st.ok())
			st = c.Take(s.meta.upper_bytes, &s.upper);
		if (st.ok())
			st = c.Done();
		if (!st.ok())
			return st;
		return std::unique_ptr<Index>(std::make_unique<HnswView>(bytes, config, s));
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory("out of memory while opening an HNSW view");
	} catch (...) {
		return Status::Internal("hnsw view failed to open");
	}
}

}  // namespace vecdb::engine
