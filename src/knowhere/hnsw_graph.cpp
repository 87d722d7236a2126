// hnsw_graph.cpp holds the HNSW kind's graph: hnswlib 0.6.2's
// HierarchicalNSW with our insert path (Graph), the distance functions it
// calls, and HnswGraph, through which the rest of the kind reaches it. The only
// translation unit that includes <hnswlib/hnswlib.h> (see hnsw_graph.hpp).
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
// - Copy rings: identical rows tie in the heuristic, so back-link pruning
//   kept the lowest ids and later copies became unreachable. An insert that
//   finds a row with its bytes among its layer-0 candidates joins that
//   twin's ring (JoinRing); a flagged first link (kRingFlagByte) is the ring
//   successor and every list write keeps it (StoreList).
// - Concurrent inserts (hnsw_build.cpp starts the threads). Locking is
//   hnswlib's, with byte locks (list_locks.hpp): `global` guards the entry
//   point and top level (held through an insert that raises the top level),
//   list_locks_[id] guards id's lists
//   (SearchForInsert takes it per expansion, Connect per neighbour written).
//   An element becomes reachable only through a back-link written after its
//   own list, so no thread reads a list being filled; and a thread waits for
//   another's lock only on an element reachable on the level it searches,
//   which that other thread has finished with, so there is no cycle of waits.
//   A descent moves only to elements whose lists are written on every level
//   (Graph::Linked): one still being linked can be reachable on an upper
//   level with an empty list below, and an insert that entered layer 0 there
//   found almost nothing (2 of 4,000 rows unreachable in half of the 4-thread
//   builds of Hnsw.ParallelBuildKeepsEveryRowReachable). A new element's list
//   keeps links other threads already added to it (Connect), and after a
//   parallel Add RepairOrphans links every element from a close neighbour.
// - Half and byte rows: while a new index's first batch links, its rows may
//   be float16 copies or byte levels in place of the float vectors
//   (ScoreAsHalves, ScoreAsBytes; docs/engine.md, "Half rows", "Byte rows"),
//   and every score of the insert path reads those.
#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <queue>
#include <type_traits>
#include <vector>

#include <hnswlib/hnswlib.h>

#include "knowhere/distance.hpp"
#include "knowhere/hnsw_graph.hpp"
#include "knowhere/list_locks.hpp"

namespace vecdb::knowhere::hnsw {

static_assert(std::is_same_v<tableint, hnswlib::tableint> && std::is_same_v<linklistsizeint, hnswlib::linklistsizeint> &&
				  std::is_same_v<labeltype, hnswlib::labeltype>,
			  "hnsw_graph.hpp's types are hnswlib's");
static_assert(std::is_same_v<DistFunc, hnswlib::DISTFUNC<float>>, "hnsw_graph.hpp's DistFunc is hnswlib's");

namespace {

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

// L2HalfDist, NegIpHalfDist and L1HalfDist score float16 rows (a build's
// half rows, Graph::ScoreAsHalves).
float L2HalfDist(const void *a, const void *b, const void *dim) {
	return L2SqrF16(static_cast<const Half *>(a), static_cast<const Half *>(b), *static_cast<const size_t *>(dim));
}

float NegIpHalfDist(const void *a, const void *b, const void *dim) {
	return -InnerProductF16(static_cast<const Half *>(a), static_cast<const Half *>(b),
							*static_cast<const size_t *>(dim));
}

float L1HalfDist(const void *a, const void *b, const void *dim) {
	return L1F16(static_cast<const Half *>(a), static_cast<const Half *>(b), *static_cast<const size_t *>(dim));
}

// ByteRowParam is what a byte row's score needs: its dimensions and the
// factor that turns the integer sum into the float metric's units.
struct ByteRowParam {
	size_t dim;
	float factor;
};

// L2ByteDist and L1ByteDist score byte rows (a build's byte rows,
// Graph::ScoreAsBytes).
float L2ByteDist(const void *a, const void *b, const void *param) {
	const ByteRowParam *p = static_cast<const ByteRowParam *>(param);
	return static_cast<float>(L2SqrU8(static_cast<const uint8_t *>(a), static_cast<const uint8_t *>(b), p->dim)) *
		p->factor;
}

float L1ByteDist(const void *a, const void *b, const void *param) {
	const ByteRowParam *p = static_cast<const ByteRowParam *>(param);
	return static_cast<float>(L1U8(static_cast<const uint8_t *>(a), static_cast<const uint8_t *>(b), p->dim)) *
		p->factor;
}

// HalfDistanceFor returns the half-row function that ranks pairs as a
// metric's float function does: cosine rows are normalized, so 1 - a.b and
// -a.b order pairs alike.
DistFunc HalfDistanceFor(Metric metric) noexcept {
	switch (metric) {
		case Metric::kInnerProduct:
		case Metric::kCosine:
			return NegIpHalfDist;
		case Metric::kL1:
			return L1HalfDist;
		default:
			return L2HalfDist;
	}
}

}  // namespace

// DistanceFor picks the kernel of a metric (L2 for any other).
DistFunc DistanceFor(Metric metric) noexcept {
	switch (metric) {
		case Metric::kInnerProduct:
			return NegIpDist;
		case Metric::kCosine:
			return CosineDist;
		case Metric::kL1:
			return L1Dist;
		default:
			return L2Dist;
	}
}

// KernelSpace is the hnswlib space that routes distances to our SIMD kernels.
class KernelSpace final : public hnswlib::SpaceInterface<float> {
public:
	KernelSpace(Metric metric, size_t dim) : dim_(dim), func_(DistanceFor(metric)), half_(HalfDistanceFor(metric)) {}
	size_t get_data_size() override { return dim_ * sizeof(float); }
	// half_func is the function for the build's half rows.
	hnswlib::DISTFUNC<float> half_func() const { return half_; }
	size_t dim() const { return dim_; }
	hnswlib::DISTFUNC<float> get_dist_func() override { return func_; }
	void *get_dist_func_param() override { return &dim_; }

private:
	size_t dim_;
	hnswlib::DISTFUNC<float> func_;
	hnswlib::DISTFUNC<float> half_;
};

// kInsertPrefetchBytes bounds the bytes of each vector an insertion search
// prefetches (whole float rows up to 256 dimensions), kCompactPrefetchBytes
// the bytes of each float16 or byte row (ScoreAsHalves: whole rows up to
// 768 dimensions; ScoreAsBytes: up to 1,536); kMaxListLength bounds a link list (2 m, m at most 100).
constexpr size_t kInsertPrefetchBytes = 1024;
constexpr size_t kCompactPrefetchBytes = 1536;
constexpr size_t kMaxListLength = 200;

// ListShape is how a layer-0 list's entries (after its ring link) were
// chosen: the first `selected` passed the neighbour heuristic against each
// other (nearest first), the next ones up to `checked` were pruned by one
// of those; any after them were added unchecked.
struct ListShape {
	size_t selected = 0;
	size_t checked = 0;
};

// ListMemo is what a batch build remembers of one element's layer-0 list:
// its first `scored` entries' scores to the element (MemoScores) and its
// shape. It saves the scores a full list's shrink would recompute and,
// when every entry is checked, most of the heuristic's pairwise scores
// (SelectNeighbors with tags; docs/engine.md, "Build memo").
struct ListMemo {
	uint8_t scored = 0;
	uint8_t selected = 0;
	uint8_t checked = 0;
};

// kWasSelected, kWasPruned and kIsNew tag SelectNeighbors' candidates.
constexpr uint8_t kWasSelected = 0;
constexpr uint8_t kWasPruned = 1;
constexpr uint8_t kIsNew = 2;

// kMemoOldPerNew: a batch adding n rows onto more than kMemoOldPerNew * n
// (a merge onto a large segment) keeps a memo of its own elements only; the
// old ones' lists rarely fill twice in a small batch.
constexpr size_t kMemoOldPerNew = 4;

// Graph is hnswlib's HierarchicalNSW with our insert path and read helpers.
class Graph final : public hnswlib::HierarchicalNSW<float> {
public:
	Graph(KernelSpace *space, size_t capacity, size_t m, size_t ef_construction, size_t seed)
		: HierarchicalNSW<float>(space, std::max<size_t>(capacity, 1), m, ef_construction, seed), space_(space),
		  row_bytes_(data_size_) {
		/* hnswlib's 65,536 update locks (2.6 MB) serve only its addPoint and
		   updatePoint, which we never call. */
		std::vector<std::mutex>().swap(link_list_update_locks_);
		DropHnswlibLocks();
	}

	// Dist returns the score of a query against element id.
	float Dist(const void *q, tableint id) const { return fstdistfunc_(q, getDataByInternalId(id), dist_func_param_); }

	// ScoreAsHalves turns the vectors of elements 0 .. n-1 into float16
	// rows, each float times scale (a power of two), in place at the start
	// of their slots, and makes every score of the graph's insert path a
	// float16 one: half the bytes a score reads. source holds the n rows as
	// the caller gave them, for FindTwin. Until ScoreAsFloats, nothing but
	// Link and the repairs (RepairOrphans, the reach repair) may run, and
	// the caller restores the float vectors after it.
	void ScoreAsHalves(size_t n, float scale, const float *source) {
		size_t dim = space_->dim();
		std::vector<Half> half(dim);
		for (size_t id = 0; id < n; id++) {
			float *row = reinterpret_cast<float *>(getDataByInternalId(static_cast<tableint>(id)));
			FloatsToHalves(row, scale, dim, half.data());
			memcpy(row, half.data(), dim * sizeof(Half));
		}
		fstdistfunc_ = space_->half_func();
		row_bytes_ = dim * sizeof(Half);
		twin_source_ = source;
		compact_rows_ = true;
	}
	// ScoreAsBytes turns the vectors of elements 0 .. n-1 into byte rows
	// in place, level (v[j] - low[j]) / step rounded to the nearest of 0 ..
	// 255, and makes every score of the insert path score those: a quarter
	// of the bytes a float score reads, integer arithmetic. One step for
	// every dimension keeps a sum of level differences proportional to the
	// metric (L2, L1; cosine's normalized rows rank as L2). As with
	// ScoreAsHalves, only Link and the repairs may run until ScoreAsFloats.
	void ScoreAsBytes(size_t n, Metric metric, const float *low, float step, const float *source) {
		size_t dim = space_->dim();
		float inv = 1.0f / step;
		std::vector<uint8_t> code(dim);
		for (size_t id = 0; id < n; id++) {
			char *row = getDataByInternalId(static_cast<tableint>(id));
			const float *v = reinterpret_cast<const float *>(row);
			for (size_t j = 0; j < dim; j++) {
				float level = (v[j] - low[j]) * inv + 0.5f;
				code[j] = static_cast<uint8_t>(level <= 0.0f ? 0.0f : level >= 255.0f ? 255.0f : level);
			}
			memcpy(row, code.data(), dim);
		}
		byte_param_.dim = dim;
		if (metric == Metric::kL1) {
			fstdistfunc_ = L1ByteDist;
			byte_param_.factor = step;
		} else {
			fstdistfunc_ = L2ByteDist;
			/* cosine: |a - b|^2 = 2 (1 - a.b) for normalized rows */
			byte_param_.factor = metric == Metric::kCosine ? step * step * 0.5f : step * step;
		}
		dist_func_param_ = &byte_param_;
		row_bytes_ = dim;
		twin_source_ = source;
		compact_rows_ = true;
	}
	// ScoreAsFloats scores float rows again.
	void ScoreAsFloats() {
		fstdistfunc_ = space_->get_dist_func();
		dist_func_param_ = space_->get_dist_func_param();
		row_bytes_ = data_size_;
		twin_source_ = nullptr;
		compact_rows_ = false;
	}

	// Links returns the neighbour list of id on level and its length.
	const tableint *Links(tableint id, int level, size_t *n) const {
		linklistsizeint *ll = get_linklist_at_level(id, level);
		*n = getListCount(ll);
		return reinterpret_cast<const tableint *>(ll + 1);
	}

	// Candidates is an insertion search's result, farthest on top (the type
	// of hnswlib's searchBaseLayer).
	using Candidates = std::priority_queue<std::pair<float, tableint>, std::vector<std::pair<float, tableint>>,
										   CompareByFirst>;

	// SearchForInsert is the ef_construction beam search of an insert on one
	// level, as hnswlib's searchBaseLayer, except that it copies the unvisited
	// ids of a list under the list's lock, releases it, and prefetches all of
	// their vectors (up to kInsertPrefetchBytes each) before scoring the
	// first, so the memory waits overlap instead of following one another.
	Candidates SearchForInsert(tableint ep, const void *v, int level) {
		hnswlib::VisitedList *vl = visited_list_pool_->getFreeVisitedList();
		hnswlib::vl_type *visited = vl->mass, tag = vl->curV;
		Candidates top;
		std::priority_queue<std::pair<float, tableint>> frontier; /* -distance: nearest on top */
		float d = Dist(v, ep);
		top.emplace(d, ep);
		frontier.emplace(-d, ep);
		visited[ep] = tag;
		float bound = d;
		size_t line_bytes =
			std::min(row_bytes_, compact_rows_ ? kCompactPrefetchBytes : kInsertPrefetchBytes);
		tableint fresh[kMaxListLength];
		while (!frontier.empty()) {
			std::pair<float, tableint> c = frontier.top();
			if (-c.first > bound && top.size() >= ef_construction_)
				break;
			frontier.pop();
			size_t m = 0;
			{
				std::lock_guard<ListLock> lock(list_locks_[c.second]);
				size_t n;
				const tableint *links = Links(c.second, level, &n);
				for (size_t j = 0; j < n && m < kMaxListLength; j++)
					if (visited[links[j]] != tag) {
						visited[links[j]] = tag;
						fresh[m++] = links[j];
					}
			}
			for (size_t j = 0; j < m; j++) {
				const char *row = getDataByInternalId(fresh[j]);
				for (size_t b = 0; b < line_bytes; b += 64)
					__builtin_prefetch(row + b);
			}
			for (size_t j = 0; j < m; j++) {
				d = Dist(v, fresh[j]);
				if (top.size() < ef_construction_ || d < bound) {
					frontier.emplace(-d, fresh[j]);
					top.emplace(d, fresh[j]);
					if (top.size() > ef_construction_)
						top.pop();
					bound = top.top().first;
				}
			}
		}
		visited_list_pool_->releaseVisitedList(vl);
		return top;
	}

	// EnsureCapacity grows the element arrays to hold n elements (doubling).
	void EnsureCapacity(size_t n) {
		if (n > max_elements_) {
			resizeIndex(std::max(n, max_elements_ * 2));
			DropHnswlibLocks();
		}
	}

	// DropHnswlibLocks swaps hnswlib's per-element mutexes (40 bytes each,
	// used only by its own insert paths) for our byte locks (list_locks.hpp).
	void DropHnswlibLocks() {
		std::vector<std::mutex>().swap(link_list_locks_);
		list_locks_.Resize(max_elements_);
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
			/* hnswlib's searches read one id past a list to prefetch:
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

	// HasRing reports whether a layer-0 list starts with its element's copy
	// ring successor (kRingFlagByte of the list header is 1).
	bool HasRing(linklistsizeint *ll) const {
		return reinterpret_cast<const unsigned char *>(ll)[kRingFlagByte] != 0 && getListCount(ll) > 0;
	}
	// SetRing sets or clears the ring flag. Byte access: hnswlib writes the
	// count as an unsigned short, which a char may alias and a uint32 may not.
	static void SetRing(linklistsizeint *ll, bool ring) { reinterpret_cast<unsigned char *>(ll)[kRingFlagByte] = ring; }

	// SelectNeighbors runs the HNSW neighbour heuristic over candidates sorted
	// by increasing score and returns at most capacity of them; with
	// keep_pruned the pruned ones fill the list up to capacity (pgvector).
	// *shape (when not null) gets how many of out the heuristic selected and
	// how many it checked (selected, then pruned ones); none when it kept
	// every candidate unchecked.
	//
	// tags (when not null, one per candidate: kWasSelected, kWasPruned or
	// kIsNew) are what a full layer-0 list's memo knows of its entries plus
	// one new candidate; then only the scores the memo does not imply are
	// computed (docs/engine.md, "Build memo"), for the same result. Tagged
	// cands hold no two equal scores: the memo's facts hold in the order its
	// run saw the entries, which is this order only when no two tie.
	void SelectNeighbors(const std::vector<DistPair> &cands, size_t capacity, bool keep_pruned,
						 std::vector<DistPair> *out, ListShape *shape = nullptr,
						 const uint8_t *tags = nullptr) const {
		out->clear();
		/* hnswlib keeps every candidate when there are fewer than capacity. */
		if (cands.size() < capacity) {
			*out = cands;
			if (shape != nullptr)
				*shape = ListShape{};
			return;
		}
		std::vector<DistPair> pruned;
		std::vector<uint8_t> out_tags;
		/* once a formerly selected candidate is dropped, a formerly pruned one
		   may have lost the neighbour that pruned it and is checked again */
		bool dropped = false;
		for (size_t i = 0; i < cands.size(); i++) {
			if (out->size() >= capacity)
				break;
			const DistPair &c = cands[i];
			uint8_t tag = tags != nullptr ? tags[i] : kIsNew;
			bool good;
			if (tag == kWasPruned && !dropped) {
				good = false;
			} else {
				/* formerly selected candidates passed against each other already */
				bool skip_selected = tag == kWasSelected;
				good = true;
				for (size_t j = 0; j < out->size() && good; j++) {
					if (skip_selected && out_tags[j] == kWasSelected)
						continue;
					good = !(fstdistfunc_(getDataByInternalId((*out)[j].second), getDataByInternalId(c.second),
										  dist_func_param_) < c.first);
				}
				if (!good && tag == kWasSelected)
					dropped = true;
			}
			if (good) {
				out->push_back(c);
				out_tags.push_back(tag);
			} else if (keep_pruned) {
				pruned.push_back(c);
			}
		}
		size_t selected = out->size();
		for (size_t i = 0; i < pruned.size() && out->size() < capacity; i++)
			out->push_back(pruned[i]);
		if (shape != nullptr)
			*shape = ListShape{selected, out->size()};
	}

	// Connect links element cur on level to its selected neighbours and each
	// of them back to cur, shrinking full lists with the heuristic. On layer
	// 0 an exact copy of an element found among cands (its twin) also joins
	// the twin's copy ring, and the twin gets no second link to it.
	void Connect(tableint cur, const std::vector<DistPair> &cands, int level, const HnswBuildOptions &opt) {
		size_t pick = (level == 0 && opt.full_layer0) ? maxM0_ : M_;
		std::vector<DistPair> selected;
		ListShape shape;
		SelectNeighbors(cands, pick, opt.keep_pruned, &selected, &shape);
		tableint twin = level == 0 ? FindTwin(cur, cands) : cur;
		if (twin != cur)
			JoinRing(cur, twin, selected, shape, opt);
		else
			WriteOwnList(cur, level, cur, selected, shape, opt);
		for (const DistPair &s : selected)
			if (s.second != twin)
				AddBackLink(s.second, cur, s.first, level, opt);
	}

	// FindTwin returns the nearest candidate whose vector equals cur's, or
	// cur when there is none.
	// With half or byte rows it compares the caller's rows: equal halves or
	// levels need not be equal floats.
	tableint FindTwin(tableint cur, const std::vector<DistPair> &cands) const {
		for (const DistPair &c : cands) {
			if (c.second == cur || memcmp(getDataByInternalId(c.second), getDataByInternalId(cur), row_bytes_) != 0)
				continue;
			if (!compact_rows_ ||
				memcmp(twin_source_ + c.second * space_->dim(), twin_source_ + cur * space_->dim(), data_size_) == 0)
				return c.second;
		}
		return cur;
	}

	// JoinRing puts cur, an exact copy of twin, into twin's copy ring right
	// after twin (a ring of the two when twin has none) and writes cur's
	// list. twin's lock is held throughout, so copies joining one twin at
	// once queue; cur's lock is taken inside it, and no thread holds cur's
	// lock waiting for another, as cur is not reachable on layer 0 yet.
	void JoinRing(tableint cur, tableint twin, const std::vector<DistPair> &selected, const ListShape &shape,
				  const HnswBuildOptions &opt) {
		std::lock_guard<ListLock> lock(list_locks_[twin]);
		linklistsizeint *ll = get_linklist0(twin);
		tableint *links = reinterpret_cast<tableint *>(ll + 1);
		bool ringed = HasRing(ll);
		WriteOwnList(cur, 0, ringed ? links[0] : twin, selected, shape, opt);
		if (ringed) {
			links[0] = cur;
			return;
		}
		std::vector<DistPair> rest;
		for (size_t j = 0; j < getListCount(ll); j++)
			rest.emplace_back(
				fstdistfunc_(getDataByInternalId(links[j]), getDataByInternalId(twin), dist_func_param_), links[j]);
		std::sort(rest.begin(), rest.end());
		StoreList(twin, 0, cur, rest, ListShape{}, opt);
	}

	// WriteOwnList writes cur's list on level: its ring successor first
	// (when ring is not cur), then selected (of the given shape) and the
	// links other build threads already added to it (it was found through a
	// layer above; dropping them could leave that element without a way in).
	void WriteOwnList(tableint cur, int level, tableint ring, const std::vector<DistPair> &selected, ListShape shape,
					  const HnswBuildOptions &opt) {
		std::lock_guard<ListLock> lock(list_locks_[cur]);
		linklistsizeint *ll = get_linklist_at_level(cur, level);
		const tableint *links = reinterpret_cast<tableint *>(ll + 1);
		std::vector<DistPair> entries;
		for (const DistPair &s : selected)
			if (s.second != ring)
				entries.push_back(s);
		if (entries.size() != selected.size())
			shape = ListShape{};
		size_t listed = entries.size();
		for (size_t j = 0; j < getListCount(ll); j++) {
			tableint e = links[j];
			bool dup = e == cur || e == ring;
			for (size_t i = 0; i < listed && !dup; i++)
				dup = entries[i].second == e;
			if (!dup)
				entries.emplace_back(fstdistfunc_(getDataByInternalId(e), getDataByInternalId(cur), dist_func_param_),
									 e);
		}
		if (entries.size() > listed) {
			std::sort(entries.begin(), entries.end());
			shape = ListShape{};
		}
		StoreList(cur, level, ring, entries, shape, opt);
	}

	// AddBackLink adds cur (at score d) to n's list on level, shrinking a
	// full list with the heuristic; n's ring successor stays first. A full
	// layer-0 list whose memo knows its shape is shrunk with its tags.
	void AddBackLink(tableint n, tableint cur, float d, int level, const HnswBuildOptions &opt) {
		std::lock_guard<ListLock> lock(list_locks_[n]);
		linklistsizeint *ll = get_linklist_at_level(n, level);
		size_t sz = getListCount(ll);
		tableint *links = reinterpret_cast<tableint *>(ll + 1);
		size_t first = level == 0 && HasRing(ll) ? 1 : 0;
		ListMemo *memo = level == 0 ? Memo(n) : nullptr;
		const float *known = memo != nullptr ? MemoScores(n) : nullptr;
		if (sz < (level ? maxM_ : maxM0_)) {
			links[sz] = cur;
			setListCount(ll, static_cast<unsigned short>(sz + 1));
			if (memo != nullptr && memo->scored == sz - first) {
				MemoScores(n)[sz - first] = d;
				memo->scored++;
			}
			return;
		}
		size_t count = sz - first;
		size_t scored = memo != nullptr ? memo->scored : 0;
		std::vector<DistPair> others;
		others.reserve(count + 1);
		others.emplace_back(d, cur);
		for (size_t j = 0; j < count; j++)
			others.emplace_back(j < scored ? known[j]
										   : fstdistfunc_(getDataByInternalId(links[first + j]), getDataByInternalId(n),
														  dist_func_param_),
								links[first + j]);
		tableint ring = first ? links[0] : n;
		if (memo != nullptr && count > 0 && memo->scored == count && memo->checked == count) {
			/* others[0] is cur, others[j + 1] the list's entry j */
			std::vector<std::pair<DistPair, uint8_t>> tagged(count + 1);
			tagged[0] = {others[0], kIsNew};
			for (size_t j = 0; j < count; j++)
				tagged[j + 1] = {others[j + 1], j < memo->selected ? kWasSelected : kWasPruned};
			std::sort(tagged.begin(), tagged.end());
			std::vector<DistPair> sorted(count + 1);
			std::vector<uint8_t> tag(count + 1);
			bool tie = false;
			for (size_t j = 0; j <= count; j++) {
				sorted[j] = tagged[j].first;
				tag[j] = tagged[j].second;
				tie = tie || (j > 0 && sorted[j].first == sorted[j - 1].first);
			}
			/* The memo's facts hold in the order the heuristic saw the entries,
			   which ties (copies) can change: then it runs in full. */
			if (tie) {
				StoreList(n, level, ring, sorted, ListShape{}, opt);
				return;
			}
			std::vector<DistPair> kept;
			ListShape shape;
			SelectNeighbors(sorted, maxM0_ - first, opt.keep_pruned, &kept, &shape, tag.data());
			StoreList(n, level, ring, kept, shape, opt);
			return;
		}
		std::sort(others.begin(), others.end());
		StoreList(n, level, ring, others, ListShape{}, opt);
	}

	// StoreList writes owner's list on level: ring first when it is not
	// owner (the copy-ring successor, flagged), then entries (sorted by
	// score to owner, or of the given shape), shrunk with the heuristic to
	// what fits; on layer 0 the memo learns the scores and the shape.
	void StoreList(tableint owner, int level, tableint ring, const std::vector<DistPair> &entries, ListShape shape,
				   const HnswBuildOptions &opt) {
		linklistsizeint *ll = get_linklist_at_level(owner, level);
		tableint *links = reinterpret_cast<tableint *>(ll + 1);
		size_t room = (level ? maxM_ : maxM0_) - (ring != owner);
		std::vector<DistPair> shrunk;
		if (entries.size() > room)
			SelectNeighbors(entries, room, opt.keep_pruned, &shrunk, &shape);
		const std::vector<DistPair> &kept = entries.size() > room ? shrunk : entries;
		size_t n = 0;
		if (ring != owner)
			links[n++] = ring;
		for (const DistPair &e : kept)
			links[n++] = e.second;
		setListCount(ll, static_cast<unsigned short>(n));
		SetRing(ll, ring != owner);
		if (ListMemo *memo = level == 0 ? Memo(owner) : nullptr) {
			float *scores = MemoScores(owner);
			for (size_t j = 0; j < kept.size(); j++)
				scores[j] = kept[j].first;
			memo->scored = static_cast<uint8_t>(kept.size());
			memo->selected = static_cast<uint8_t>(shape.selected);
			memo->checked = static_cast<uint8_t>(shape.checked);
		}
	}

	// Memo returns element id's layer-0 list memo, or null outside a batch
	// (and for an element past it); MemoScores its scores (maxM0_ floats).
	ListMemo *Memo(tableint id) {
		return id >= memo_first_ && id - memo_first_ < memo_.size() ? &memo_[id - memo_first_] : nullptr;
	}
	float *MemoScores(tableint id) { return memo_scores_.data() + (id - memo_first_) * maxM0_; }

	// BeginBatch marks elements base .. base + n - 1 as not yet linked;
	// EndBatch marks every element linked again.
	// With memo the batch also gets an empty layer-0 list memo (ListMemo)
	// for every element up to its last, or for its own elements only when it
	// adds onto more than kMemoOldPerNew times its rows; EndBatch frees it.
	void BeginBatch(size_t base, size_t n, bool memo) {
		batch_base_ = base;
		linked_.assign(n, 0);
		if (memo) {
			memo_first_ = base > kMemoOldPerNew * n ? base : 0;
			memo_.assign(base + n - memo_first_, ListMemo{});
			memo_scores_.resize((base + n - memo_first_) * maxM0_);
		}
	}
	void EndBatch() {
		batch_base_ = std::numeric_limits<size_t>::max();
		std::vector<uint8_t>().swap(linked_);
		std::vector<ListMemo>().swap(memo_);
		std::vector<float>().swap(memo_scores_);
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
		std::vector<uint32_t> in = InLinks(count);
		for (size_t id = 0; id < count; id++) {
			if (static_cast<tableint>(id) == enterpoint_node_)
				continue;
			linklistsizeint *own = get_linklist0(static_cast<tableint>(id));
			size_t own_sz = getListCount(own);
			tableint *own_links = reinterpret_cast<tableint *>(own + 1);
			/* an element on a copy ring is linked from its ring predecessor */
			if (own_sz == 0 || HasRing(own))
				continue;
			bool linked_back = false;
			for (size_t j = 0; j < std::min(own_sz, kRepairNear) && !linked_back; j++)
				linked_back = LinksTo(own_links[j], static_cast<tableint>(id));
			if (!linked_back)
				AddInLink(own_links[0], static_cast<tableint>(id), &in);
		}
	}

	// DescendToward descends greedily from the entry point to layer 0
	// toward element id's own vector, stopping early on id itself; *dist
	// gets the score of the element it returns.
	tableint DescendToward(tableint id, float *dist) {
		const float *v = reinterpret_cast<const float *>(getDataByInternalId(id));
		tableint ep = enterpoint_node_;
		*dist = Dist(v, ep);
		for (int l = maxlevel_; l > 0 && ep != id; l--)
			ep = DescendLocked(v, ep, l, dist);
		return ep;
	}

	// FindsItself says whether a search for element id's own vector reaches
	// it: greedy descent from the entry point to layer 0, then a best-first
	// search of width `width` there that stops as soon as it scores id. Only
	// for a graph no thread is writing.
	bool FindsItself(tableint id, size_t width) {
		const float *v = reinterpret_cast<const float *>(getDataByInternalId(id));
		float d;
		tableint ep = DescendToward(id, &d);
		if (ep == id)
			return true;
		hnswlib::VisitedList *vl = visited_list_pool_->getFreeVisitedList();
		struct Release {
			hnswlib::VisitedListPool *pool;
			hnswlib::VisitedList *vl;
			~Release() { pool->releaseVisitedList(vl); }
		} release{visited_list_pool_, vl};
		hnswlib::vl_type *visited = vl->mass, tag = vl->curV;
		Candidates top;
		std::priority_queue<std::pair<float, tableint>> frontier; /* -distance: nearest on top */
		top.emplace(d, ep);
		frontier.emplace(-d, ep);
		visited[ep] = tag;
		size_t line_bytes = std::min(row_bytes_, compact_rows_ ? kCompactPrefetchBytes : kInsertPrefetchBytes);
		tableint fresh[kMaxListLength];
		while (!frontier.empty()) {
			std::pair<float, tableint> c = frontier.top();
			if (-c.first > top.top().first && top.size() >= width)
				break;
			frontier.pop();
			size_t n, m = 0;
			const tableint *links = Links(c.second, 0, &n);
			for (size_t j = 0; j < n && m < kMaxListLength; j++) {
				tableint e = links[j];
				if (visited[e] == tag)
					continue;
				if (e == id)
					return true;
				visited[e] = tag;
				fresh[m++] = e;
			}
			for (size_t j = 0; j < m; j++) {
				const char *row = getDataByInternalId(fresh[j]);
				for (size_t b = 0; b < line_bytes; b += 64)
					__builtin_prefetch(row + b);
			}
			for (size_t j = 0; j < m; j++) {
				tableint e = fresh[j];
				float de = Dist(v, e);
				if (top.size() < width || de < top.top().first) {
					frontier.emplace(-de, e);
					top.emplace(de, e);
					if (top.size() > width)
						top.pop();
				}
			}
		}
		return false;
	}

	// ClosestFound returns the element other than id closest to id's vector
	// that an ef_construction search for it finds (greedy descent, then
	// layer 0): where such searches end up. id itself when the descent
	// reaches it or the search finds nothing else. Only for a graph no
	// thread is writing.
	tableint ClosestFound(tableint id) {
		float d;
		tableint ep = DescendToward(id, &d);
		if (ep == id)
			return id;
		Candidates found = SearchForInsert(ep, reinterpret_cast<const float *>(getDataByInternalId(id)), 0);
		/* the last other element popped is the closest */
		tableint closest = id;
		for (; !found.empty(); found.pop())
			if (found.top().second != id)
				closest = found.top().second;
		return closest;
	}

	// LinkFound adds each layer-0 link (from, to) of links, in order, unless
	// from links to `to` already (AddInLink); it asks stop() before each and
	// ends when it says yes. Returns how many it added. Only for a graph no
	// thread is writing.
	size_t LinkFound(const std::vector<std::pair<tableint, tableint>> &links, size_t count,
					 const std::function<bool()> &stop) {
		if (links.empty())
			return 0;
		std::vector<uint32_t> in = InLinks(count);
		size_t added = 0;
		for (const std::pair<tableint, tableint> &l : links) {
			if (stop())
				break;
			if (l.first != l.second && !LinksTo(l.first, l.second) && AddInLink(l.first, l.second, &in))
				added++;
		}
		return added;
	}

	// InLinks counts the layer-0 in-links of elements 0 .. count-1.
	std::vector<uint32_t> InLinks(size_t count) {
		std::vector<uint32_t> in(count, 0);
		for (size_t id = 0; id < count; id++) {
			size_t n;
			const tableint *links = Links(static_cast<tableint>(id), 0, &n);
			for (size_t j = 0; j < n; j++)
				if (links[j] < count)
					in[links[j]]++;
		}
		return in;
	}

	// LinksTo says whether from's layer-0 list holds to.
	bool LinksTo(tableint from, tableint to) {
		size_t n;
		const tableint *links = Links(from, 0, &n);
		return std::find(links, links + n, to) != links + n;
	}

	// AddInLink links from -> id on layer 0: in a free slot, else in place
	// of from's farthest link to an element with another in-link (the ring
	// link stays); in counts in-links and follows. False when no slot could
	// be taken.
	bool AddInLink(tableint from, tableint id, std::vector<uint32_t> *in) {
		linklistsizeint *ll = get_linklist0(from);
		size_t sz = getListCount(ll);
		tableint *links = reinterpret_cast<tableint *>(ll + 1);
		if (sz < maxM0_) {
			links[sz] = id;
			setListCount(ll, static_cast<unsigned short>(sz + 1));
			(*in)[id]++;
			return true;
		}
		size_t victim = sz;
		float worst = -1.0f;
		for (size_t j = HasRing(ll); j < sz; j++) {
			if ((*in)[links[j]] < 2)
				continue;
			float d = fstdistfunc_(getDataByInternalId(links[j]), getDataByInternalId(from), dist_func_param_);
			if (d > worst) {
				worst = d;
				victim = j;
			}
		}
		if (victim == sz)
			return false;
		(*in)[links[victim]]--;
		links[victim] = id;
		(*in)[id]++;
		return true;
	}

	// Link inserts element cur (stored by InitElement) into the graph:
	// hnswlib's addPoint with our neighbour selection. Safe to run on several
	// threads at once for different elements (see the design notes).
	void Link(tableint cur, const HnswBuildOptions &opt) {
		const void *v = getDataByInternalId(cur);
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
			Candidates found = SearchForInsert(ep, v, l);
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
	tableint DescendLocked(const void *q, tableint ep, int level, float *dist) {
		bool changed = true;
		while (changed) {
			changed = false;
			std::lock_guard<ListLock> lock(list_locks_[ep]);
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
	KernelSpace *space_;
	/* bytes of a row as scored: data_size_, dim halves (ScoreAsHalves) or
	   dim bytes (ScoreAsBytes) */
	size_t row_bytes_;
	/* scoring float16 or byte rows; the caller's rows, for FindTwin */
	bool compact_rows_ = false;
	ByteRowParam byte_param_{0, 1.0f};
	const float *twin_source_ = nullptr;
	/* elements at or past batch_base_ are linked once linked_[id - batch_base_] is set */
	size_t batch_base_ = std::numeric_limits<size_t>::max();
	std::vector<uint8_t> linked_;
	/* one lock per element of capacity: guards its link lists (and memo) */
	ListLocks list_locks_;
	/* layer-0 list memo of elements memo_first_ .. memo_first_ + memo_.size() - 1
	   while a batch links; an element's entries are guarded by its list_locks_ */
	size_t memo_first_ = 0;
	std::vector<ListMemo> memo_;
	std::vector<float> memo_scores_;
};


HnswGraph::HnswGraph(Metric metric, size_t dim, size_t capacity, size_t m, size_t ef_construction, size_t seed)
	: space_(std::make_unique<KernelSpace>(metric, dim)),
	  graph_(std::make_unique<Graph>(space_.get(), capacity, m, ef_construction, seed)) {}

// ~HnswGraph frees the graph, then the space it points at (member order).
HnswGraph::~HnswGraph() = default;

// Ref points at hnswlib's arrays.
GraphRef HnswGraph::Ref() const noexcept {
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
	r.visited = g.visited_list_pool_;
	r.prefetch_bytes = std::min(g.data_size_, kRowPrefetchBytes);
	return r;
}

// count returns hnswlib's element count.
size_t HnswGraph::count() const noexcept {
	return graph_->cur_element_count;
}

// FindLabel looks the label up in hnswlib's label map.
bool HnswGraph::FindLabel(int64_t label, tableint *id) const {
	auto it = label < 0 ? graph_->label_lookup_.end() : graph_->label_lookup_.find(static_cast<labeltype>(label));
	if (it == graph_->label_lookup_.end())
		return false;
	*id = it->second;
	return true;
}

// HasLabel asks the label map.
bool HnswGraph::HasLabel(int64_t label) const {
	return graph_->label_lookup_.count(static_cast<labeltype>(label)) != 0;
}

// ReserveLabels reserves the label map.
void HnswGraph::ReserveLabels(size_t n) {
	graph_->label_lookup_.reserve(n);
}

// AddLabel inserts into the label map unless the label is there.
bool HnswGraph::AddLabel(int64_t label, tableint id) {
	return graph_->label_lookup_.emplace(static_cast<labeltype>(label), id).second;
}

// EnsureCapacity grows hnswlib's arrays.
void HnswGraph::EnsureCapacity(size_t n) {
	graph_->EnsureCapacity(n);
}

// Level0 returns hnswlib's level-0 block.
char *HnswGraph::Level0() noexcept {
	return graph_->data_level0_memory_;
}

// VectorPtr returns element id's vector slot.
float *HnswGraph::VectorPtr(tableint id) noexcept {
	return graph_->VectorPtr(id);
}

// StoredLabel reads the label in element id's level-0 slot.
int64_t HnswGraph::StoredLabel(tableint id) const noexcept {
	return static_cast<int64_t>(graph_->getExternalLabel(id));
}

// DrawLevel draws from hnswlib's level generator (its seed is the config's).
int HnswGraph::DrawLevel() {
	return graph_->getRandomLevel(graph_->mult_);
}

// InitElement stores an element unlinked.
void HnswGraph::InitElement(tableint id, int64_t label, int level) {
	graph_->InitElement(id, static_cast<labeltype>(label), level);
}

// FreeElement frees an element that was never linked.
void HnswGraph::FreeElement(tableint id) noexcept {
	graph_->FreeElement(id);
}

// AdoptElement copies the upper lists, padded as InitElement pads them for
// hnswlib's prefetch over-read, then sets the level.
void HnswGraph::AdoptElement(tableint id, int level, const char *upper) {
	Graph &g = *graph_;
	g.linkLists_[id] = nullptr;
	if (level > 0) {
		size_t bytes = static_cast<size_t>(level) * g.size_links_per_element_;
		char *lists = static_cast<char *>(calloc(1, bytes + sizeof(tableint)));
		if (lists == nullptr)
			throw std::bad_alloc();
		memcpy(lists, upper, bytes);
		g.linkLists_[id] = lists;
	}
	/* Levels are set after the allocation: the destructor frees by level. */
	g.element_levels_[id] = level;
}

// SetCount sets hnswlib's element count.
void HnswGraph::SetCount(size_t n) noexcept {
	graph_->cur_element_count = n;
}

// SetEntry sets hnswlib's entry point and top level.
void HnswGraph::SetEntry(tableint entry, int max_level) noexcept {
	graph_->enterpoint_node_ = entry;
	graph_->maxlevel_ = max_level;
}

// BeginBatch starts a batch of unlinked elements.
void HnswGraph::BeginBatch(size_t base, size_t n, bool memo) {
	graph_->BeginBatch(base, n, memo);
}

// EndBatch ends it.
void HnswGraph::EndBatch() noexcept {
	graph_->EndBatch();
}

// Link inserts one stored element.
void HnswGraph::Link(tableint cur, const HnswBuildOptions &opt) {
	graph_->Link(cur, opt);
}

// RepairOrphans repairs the in-links of the first count elements.
void HnswGraph::RepairOrphans(size_t count) {
	graph_->RepairOrphans(count);
}

// FindsItself runs the graph's narrow search for element id's own vector.
bool HnswGraph::FindsItself(tableint id, size_t width) {
	return graph_->FindsItself(id, width);
}

// ClosestFound returns where a search for element id's vector ends.
tableint HnswGraph::ClosestFound(tableint id) {
	return graph_->ClosestFound(id);
}

// ScoreAsHalves makes the insert path score float16 rows.
void HnswGraph::ScoreAsHalves(size_t n, float scale, const float *source) {
	graph_->ScoreAsHalves(n, scale, source);
}

// ScoreAsBytes makes the insert path score byte rows.
void HnswGraph::ScoreAsBytes(size_t n, Metric metric, const float *low, float step, const float *source) {
	graph_->ScoreAsBytes(n, metric, low, step, source);
}

// ScoreAsFloats makes it score float rows again.
void HnswGraph::ScoreAsFloats() noexcept {
	graph_->ScoreAsFloats();
}

// LinkFound adds the repair's links.
size_t HnswGraph::LinkFound(const std::vector<std::pair<tableint, tableint>> &links, size_t count,
							const std::function<bool()> &stop) {
	return graph_->LinkFound(links, count, stop);
}

namespace {

// CapacityBytes returns the bytes hnswlib allocates per element of
// capacity: the level-0 block, a link-list pointer, a level, a lock and
// a slot in each visited list (the pool grows to one per build thread).
size_t CapacityBytes(size_t capacity, size_t per_element, int threads) noexcept {
	return capacity * (per_element + sizeof(char *) + sizeof(int) + sizeof(ListLock) +
					   static_cast<size_t>(std::max(threads, 1)) * sizeof(hnswlib::vl_type));
}

// UpperLinkBytes returns the malloc'ed upper-layer lists of one element
// of level > 0 (padding and malloc's header included).
size_t UpperLinkBytes(int level, size_t per_level) noexcept {
	return static_cast<size_t>(level) * per_level + sizeof(tableint) + 16;
}

// LabelMapBytes returns the label map's nodes and buckets.
size_t LabelMapBytes(size_t n, size_t buckets) noexcept {
	return n * 32 + buckets * sizeof(void *);
}

}  // namespace

// MemoryUsage adds hnswlib's per-capacity arrays, the upper-layer lists and
// the label map.
size_t HnswGraph::MemoryUsage(int threads) const noexcept {
	const Graph &g = *graph_;
	size_t bytes = sizeof(*this) + sizeof(KernelSpace) + sizeof(Graph) +
		CapacityBytes(g.max_elements_, g.size_data_per_element_, threads);
	for (size_t i = 0; i < g.cur_element_count; i++)
		if (g.element_levels_[i] > 0)
			bytes += UpperLinkBytes(g.element_levels_[i], g.size_links_per_element_);
	return bytes + LabelMapBytes(g.label_lookup_.size(), g.label_lookup_.bucket_count());
}

// EstimateMemory counts capacity max(n, kInitialCapacity), n / m elements
// with upper layers holding n / (m - 1) upper lists in all (level l is
// reached with probability m^-l), a label map with about one bucket per row,
// and the build memo, which a Build holds until it returns.
size_t HnswGraph::EstimateMemory(const IndexConfig &config, size_t n) noexcept {
	size_t m = static_cast<size_t>(config.m);
	size_t per_element = 2 * m * sizeof(tableint) + sizeof(linklistsizeint) +
		static_cast<size_t>(config.dim) * sizeof(float) + sizeof(labeltype);
	size_t per_level = m * sizeof(tableint) + sizeof(linklistsizeint);
	size_t bytes = sizeof(HnswGraph) + sizeof(KernelSpace) + sizeof(Graph) +
		CapacityBytes(std::max(n, kInitialCapacity), per_element, config.threads);
	bytes += n / (m - 1) * per_level + n / m * (sizeof(tableint) + 16);
	/* the build memo lives while a batch links (ListMemo) */
	bytes += n * (2 * m * sizeof(float) + sizeof(ListMemo));
	return bytes + LabelMapBytes(n, n);
}

}  // namespace vecdb::knowhere::hnsw
