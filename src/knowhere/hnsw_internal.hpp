// hnsw_internal.hpp declares what the HNSW kind's files share: the searcher
// that the owning index and its view have in common, the owning index, the
// view and the stored meta section. Internal to the HNSW kind.
//
// The kind by file:
//   hnsw_graph.{hpp,cpp}  the graph: hnswlib's HierarchicalNSW, our insert
//                         path over it, GraphRef (what searches walk)
//   hnsw_build.cpp        Add: the batch stored unlinked, then linked by the
//                         calling thread and workers; the factory
//   hnsw_search.cpp       search, filtered search, range search, the
//                         iterator, Reconstruct: one best-first loop
//   hnsw_serialize.cpp    the stored form, Load, and the view over it
// Every public call runs what may throw inside Catching (catching.hpp).
#pragma once

#include <limits>
#include <memory>
#include <vector>

#include "knowhere/bitset_view.hpp"
#include "knowhere/brute_force.hpp"
#include "knowhere/hnsw_graph.hpp"
#include "knowhere/hnsw_index.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/sq_codec.hpp"

namespace vecdb::knowhere::hnsw {

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
// lookup (FindLabel). Defined in hnsw_search.cpp.
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
	// CreateWalkIterator is the graph iterator (never the exact one) over an
	// already prepared query; a batch of max_batch rows expands the graph as
	// one of max_batch / spare_factor would, the rest coming from rows it
	// scored on the way (HNSW_SQ's re-rank pool).
	Expected<std::unique_ptr<Iterator>> CreateWalkIterator(const float *prepared, const SearchParams &params,
														   BitsetView filter, size_t spare_factor) const noexcept;

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
	// IdsAreLabels reports whether every element's label is its internal id
	// (a filter can then be tested without reading the label).
	bool IdsAreLabels() const { return span_.identity; }
	// AllowedById is Allowed without reading the label when ids are labels:
	// on a large graph the label array is a cache miss per scored element.
	bool AllowedById(const GraphRef &g, BitsetView filter, tableint id) const {
		return filter.empty() || !filter.test(IdsAreLabels() ? static_cast<int64_t>(id) : g.labels[id]);
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
	// SearchGraph runs the filtered best-first search of layer 0 with width
	// ef, through filtered neighbours when two_hop (hnsw_search.cpp).
	Status SearchGraph(const GraphRef &g, const float *q, size_t ef, BitsetView filter, bool two_hop,
					   const SearchParams &params, std::vector<Neighbor> *out) const;
	const HnswBuildOptions &options() const { return options_; }

protected:
	IndexConfig config_;
	HnswBuildOptions options_;
	LabelSpan span_;
};

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

// HnswIndex is the HNSW index kind over a graph it owns.
class HnswIndex final : public HnswSearcher {
public:
	HnswIndex(const IndexConfig &config, const HnswBuildOptions &options, size_t capacity)
		: HnswSearcher(config, options),
		  graph_(std::make_unique<HnswGraph>(config.metric, static_cast<size_t>(config.dim), capacity,
											 static_cast<size_t>(config.m),
											 static_cast<size_t>(config.ef_construction),
											 static_cast<size_t>(config.seed))) {}

	// MemoryUsage adds the graph's memory (HnswGraph::MemoryUsage) and labels_.
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + graph_->MemoryUsage(config_.threads) + labels_.capacity() * sizeof(int64_t);
	}

	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override;
	size_t AddSlice() const noexcept override { return 0; }
	void SetRepairReach(int mode) noexcept override { options_.repair_reach = ReachRepairOn(mode, config_.dim); }
	Status Serialize(ByteWriter &writer) const noexcept override;
	// WriteSections writes the kind's sections (after the header), each
	// vector replaced by its code when codec is not null (HNSW_SQ); may throw.
	Status WriteSections(IndexStreamWriter &w, const SqCodec *codec) const;

	// Load reads the sections after the meta section into this empty index.
	Status Load(const HnswMeta &meta, IndexStreamReader &r);

	// Ref points at the graph's arrays and labels_.
	GraphRef Ref() const noexcept override {
		GraphRef r = graph_->Ref();
		r.labels = labels_.data();
		return r;
	}
	// FindLabel looks the label up in the graph's label map.
	bool FindLabel(int64_t label, tableint *id) const override { return graph_->FindLabel(label, id); }

private:
	// AddImpl is Add inside Catching.
	Status AddImpl(const float *vectors, const int64_t *labels, size_t n);
	// StoreBatch writes the batch's prepared vectors, labels and levels into
	// elements base .. base + n - 1, unlinked; on failure none stays allocated.
	Status StoreBatch(const float *v, const int64_t *labels, size_t n, size_t base);
	// RestoreRows ends a first batch's compact scoring (link_rows) and
	// writes its n rows' prepared vectors back from v.
	void RestoreRows(const float *v, size_t n) noexcept;
	// LinkBatch links elements base .. base + n - 1 on the calling thread and
	// config.threads - 1 workers and returns how many (a prefix) it linked.
	Status LinkBatch(size_t base, size_t n, size_t *linked);
	// RepairReach checks that a search for each of elements base .. base +
	// n - 1 finds it, on the calling thread and config.threads - 1 workers,
	// and links the ones it misses (HnswBuildOptions::repair_reach).
	Status RepairReach(size_t base, size_t n);

	std::unique_ptr<HnswGraph> graph_;
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

// HnswConfigOf checks an HNSW meta section against the header (of kind
// expect) and the element layout for rows of row bytes; config gets kind HNSW.
Status HnswConfigOf(const IndexHeader &h, const HnswMeta &m, IndexConfig *config, IndexKind expect,
					uint64_t row) noexcept;
// TakeSections points s at the HNSW sections under a view cursor, checked by
// HnswConfigOf.
Status TakeSections(ViewCursor &c, const IndexHeader &h, IndexKind expect, uint64_t row, HnswSections *s,
					IndexConfig *config) noexcept;

// HnswView is a read-only HNSW index over serialized bytes: the graph and
// vectors stay in the bytes; it owns only the distance parameter and a pool
// of visited lists (one of count entries per concurrently searching thread,
// made on first use). Defined in hnsw_serialize.cpp.
class HnswView final : public HnswSearcher {
public:
	// dist and dist_param replace the metric's distance and the dim (HNSW_SQ's
	// query-to-code distance and its codec, whose short codes the walk then
	// prefetches whole: GraphRef::prefetch_bytes); bytes may be empty when the
	// sections live elsewhere (Serialize then has nothing to copy).
	HnswView(const IndexBytes &bytes, const IndexConfig &config, const HnswSections &s, DistFunc dist = nullptr,
			 const void *dist_param = nullptr);

	// MemoryUsage counts the view and one visited list (what one searching
	// thread makes; hnswlib's pool does not say how many it holds).
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + sizeof(hnswlib::VisitedList) + sections_.meta.count * sizeof(hnswlib::vl_type);
	}
	Status Train(const void *, size_t) noexcept override { return ReadOnly(); }
	Status Add(const void *, const int64_t *, size_t) noexcept override { return ReadOnly(); }
	// Serialize copies the bytes out.
	Status Serialize(ByteWriter &writer) const noexcept override { return writer.Write(bytes_.data, bytes_.size); }

	GraphRef Ref() const noexcept override;
	bool FindLabel(int64_t label, tableint *id) const override;

private:
	// ReadOnly is the answer to every change.
	static Status ReadOnly() noexcept { return Status::NotSupported("an index view is read-only"); }

	IndexBytes bytes_;
	HnswSections sections_;
	DistFunc dist_;
	bool compact_codes_;  /* rows are the caller's codes (dist given) */
	mutable size_t dim_;  /* the distance parameter (hnswlib passes it as void *) */
	const void *dist_param_;  /* &dim_, or the caller's */
	mutable hnswlib::VisitedListPool visited_;
};

}  // namespace vecdb::knowhere::hnsw
