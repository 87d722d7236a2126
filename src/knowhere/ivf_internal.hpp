// ivf_internal.hpp declares what the IVF kinds' files share: the index over
// FAISS' IVF and binary IVF, its iterator, the stored meta section and the
// view's sections. Internal to the IVF kinds.
//
// The kinds by file:
//   ivf_index.cpp      storage, training (FAISS' k-means or a registered
//                      trainer), adding, the factory
//   ivf_search.cpp     search, filtered search, range search, the iterator,
//                      Reconstruct
//   ivf_serialize.cpp  the stored form, Load, and the view over it
// Every public call runs what may throw inside Catching (catching.hpp).
//
// Threads: Train, Add and Search set OpenMP's thread count for the call only
// (config.threads, SearchParams.threads; default 1), warm libgomp's pool with
// signals blocked (WarmOpenMP), and restore the count after.
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <queue>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/InvertedLists.h>

#include "knowhere/brute_force.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::knowhere {

// IvfFloatCentroids is befriended by IvfIndex (declared in index_kinds.hpp).
const float *IvfFloatCentroids(const Index &index) noexcept;

namespace ivf {

using idx_t = faiss::Index::idx_t;
static_assert(std::is_same_v<idx_t, int64_t>, "FAISS labels must be our int64 labels");

// kQueryChunk is the number of queries handed to FAISS at once between two
// polls of the stop callback; kAddChunk the rows added between two polls of
// the build stop callback.
constexpr size_t kQueryChunk = 32;
constexpr size_t kAddChunk = 8192;
constexpr float kInf = std::numeric_limits<float>::infinity();
// kOffsetBits is the width of the offset in a packed (list, offset) location.
constexpr int kOffsetBits = 48;

// PackLoc packs a list number and an offset in that list.
inline uint64_t PackLoc(size_t list, size_t offset) noexcept {
	return (static_cast<uint64_t>(list) << kOffsetBits) | static_cast<uint64_t>(offset);
}

// LocList and LocOffset unpack a location.
inline size_t LocList(uint64_t loc) noexcept {
	return static_cast<size_t>(loc >> kOffsetBits);
}
inline size_t LocOffset(uint64_t loc) noexcept {
	return static_cast<size_t>(loc & ((uint64_t{1} << kOffsetBits) - 1));
}

// BetterFirst orders a min-heap of neighbours by distance (best on top).
struct BetterFirst {
	bool operator()(const Neighbor &a, const Neighbor &b) const noexcept { return NeighborLess(b, a); }
};

// IvfMeta is the first section of an IVF payload.
struct IvfMeta {
	int32_t nlist, pq_m, nbits, threads;
	uint64_t seed;
	uint32_t trained;
	uint32_t reserved;
	uint64_t count;
	uint64_t code_size;       /* bytes of one list code */
	uint64_t centroid_bytes;  /* coarse centroids: nlist rows when trained, else 0 */
	uint64_t aux_floats;      /* IVF_PQ codebooks or IVF_SQ8 ranges when trained, else 0 */
	int64_t min_label;        /* label span (max -1 when empty) */
	int64_t max_label;
};

// IvfSections points at an IVF payload's sections in serialized bytes.
struct IvfSections {
	IvfMeta meta{};
	const uint8_t *centroids = nullptr;
	const float *aux = nullptr;
	const uint64_t *offsets = nullptr;  /* nlist + 1 row offsets: list l is rows [offsets[l], offsets[l + 1]) */
	const int64_t *ids = nullptr;       /* labels in list order */
	const uint8_t *codes = nullptr;     /* codes in list order */
	const float *raw = nullptr;         /* IVF_PQ, IVF_SQ8: exact rows in list order */
	const uint64_t *by_label = nullptr; /* row positions in increasing label order */
};

// ByteInvertedLists are FAISS inverted lists over a view's sections: list
// sizes, codes and labels point into the serialized bytes (offsets checked
// when the view opened), and every write throws.
struct ByteInvertedLists final : faiss::ReadOnlyInvertedLists {
	ByteInvertedLists(size_t nlist, size_t code_size, const IvfSections &s)
		: ReadOnlyInvertedLists(nlist, code_size), offsets(s.offsets), ids(s.ids), codes(s.codes) {}
	size_t list_size(size_t l) const override { return static_cast<size_t>(offsets[l + 1] - offsets[l]); }
	const uint8_t *get_codes(size_t l) const override { return codes + offsets[l] * code_size; }
	const idx_t *get_ids(size_t l) const override { return ids + offsets[l]; }

	const uint64_t *offsets;
	const int64_t *ids;
	const uint8_t *codes;
};

class IvfIndex;

// IvfIterator walks one query's inverted lists in centroid order (see the
// design notes in ivf_search.cpp).
class IvfIterator final : public Iterator {
public:
	IvfIterator(const IvfIndex *index, std::vector<float> query_f, std::vector<uint8_t> query_b,
				std::vector<idx_t> list_order, size_t first_lists, SearchParams params, BitsetView filter)
		: index_(index),
		  query_f_(std::move(query_f)),
		  query_b_(std::move(query_b)),
		  list_order_(std::move(list_order)),
		  first_lists_(first_lists),
		  params_(params),
		  filter_(filter) {}
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override;

private:
	const IvfIndex *index_;
	std::vector<float> query_f_;
	std::vector<uint8_t> query_b_;
	std::vector<idx_t> list_order_;
	size_t first_lists_;
	size_t next_list_ = 0;
	SearchParams params_;
	BitsetView filter_;
	std::priority_queue<Neighbor, std::vector<Neighbor>, BetterFirst> pool_;
	std::vector<Neighbor> scanned_;
};

// IvfIndex is the engine index over a FAISS IVF or binary IVF index.
class IvfIndex final : public Index {
public:
	explicit IvfIndex(const IndexConfig &config)
		: config_(config),
		  binary_(IsBinaryKind(config.kind)),
		  lists_hold_rows_(config.kind == IndexKind::kIvfFlat || config.kind == IndexKind::kBinIvf) {}

	// Init creates the empty FAISS index of the configured kind.
	Status Init() noexcept;

	IndexKind kind() const noexcept override { return config_.kind; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return static_cast<int64_t>(Count()); }
	size_t MemoryUsage() const noexcept override;
	bool NeedsTraining() const noexcept override { return !trained_; }
	Status Train(const void *vectors, size_t n) noexcept override;
	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override;
	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override;
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override;
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override;
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override;
	Status Serialize(ByteWriter &writer) const noexcept override;
	Status DropBelow(int64_t first) noexcept override;

	// Load reads the payload written by Serialize after the common header.
	Status Load(const IndexHeader &header, IndexStreamReader &reader);
	// OpenView makes this (Init'ed) index a read-only view of the sections.
	Status OpenView(const IndexBytes &bytes, const IvfSections &sections);
	// ApplyMeta, CheckOffsets and RestoreTrained are the steps Load and
	// OpenView share.
	Status ApplyMeta(const IndexHeader &h, const IvfMeta &meta);
	Status CheckOffsets(const uint64_t *offsets, uint64_t count) const noexcept;
	Status RestoreTrained(const uint8_t *centroids, const float *aux);

	// ListRows returns list l's rows: FAISS' labels and the exact vectors
	// (from the sections in a view).
	RowSet ListRows(size_t l) const noexcept {
		RowSet r;
		r.stride = RowBytes();
		if (view_) {
			size_t at = static_cast<size_t>(sections_.offsets[l]);
			r.labels = sections_.ids + at;
			r.base = lists_hold_rows_ ? sections_.codes + at * sections_.meta.code_size
									  : reinterpret_cast<const uint8_t *>(sections_.raw) + at * r.stride;
			r.n = static_cast<size_t>(sections_.offsets[l + 1]) - at;
			return r;
		}
		r.labels = lists_->ids[l].data();
		r.base = lists_hold_rows_ ? lists_->codes[l].data() : reinterpret_cast<const uint8_t *>(raw_[l].data());
		r.n = lists_->ids[l].size();
		return r;
	}
	// AddAssigned is Add with the caller's list for each row (AddToIvfLists).
	Status AddAssigned(const void *vectors, const int64_t *labels, const idx_t *lists, size_t n) noexcept;
	// ListCount returns nlist.
	size_t ListCount() const noexcept { return nlist(); }
	// Count returns the number of rows.
	size_t Count() const noexcept { return view_ ? static_cast<size_t>(sections_.meta.count) : rows_.size(); }
	// ListOrder returns up to n list numbers in increasing centroid distance.
	std::vector<idx_t> ListOrder(const void *query, size_t n) const;
	// Poll reports whether the caller asked to stop.
	static bool Poll(const SearchParams &p) noexcept { return p.should_stop != nullptr && p.should_stop(p.stop_arg); }

	// MapBytes returns the label map's nodes and buckets, for MemoryUsage
	// and EstimateMemory.
	static size_t MapBytes(size_t n, size_t buckets) noexcept { return n * 32 + buckets * sizeof(void *); }

private:
	friend class IvfIterator;
	friend const float *vecdb::knowhere::IvfFloatCentroids(const Index &index) noexcept;

	size_t RowBytes() const noexcept { return knowhere::RowBytes(config_.metric, config_.dim); }
	size_t nlist() const noexcept { return static_cast<size_t>(config_.nlist); }
	// RowOf returns the exact vector of a label, or nullptr.
	const void *RowOf(int64_t label) const noexcept;
	// FromFaiss converts a FAISS float distance into the kind's score.
	float FromFaiss(float d) const noexcept;
	// PrepareRows validates n rows and returns them ready for FAISS and scoring.
	template <typename T>
	Status PrepareRows(const void *in, size_t n, const char *what, std::vector<T> *out) const;
	// CountAllowed returns the number of stored rows the filter lets through.
	size_t CountAllowed(BitsetView filter) const noexcept;
	// CountAllowedIn returns list l's rows the filter lets through.
	size_t CountAllowedIn(size_t l, BitsetView filter) const noexcept;
	// EffectiveProbes returns the widened nprobe for an allowed fraction.
	size_t EffectiveProbes(const SearchParams &p, size_t allowed) const noexcept;
	// ScanLists writes the exact top k allowed rows of the given lists (all
	// lists when lists is null) for one prepared query.
	Status ScanLists(const void *query, const std::vector<idx_t> *lists, size_t k, const SearchParams &p,
					 BitsetView filter, int64_t *labels, float *distances) const;
	// ExactScan is the exact search over all allowed rows of one call: the
	// allowed rows listed once from the bitset when few of labels 0 .. n-1
	// are allowed, else a scan of every list.
	struct ExactScan {
		bool listed = false;
		std::vector<int64_t> labels;
		std::vector<const void *> rows;
	};
	// PrepareExact fills scan for filter (once per call).
	void PrepareExact(BitsetView filter, size_t allowed, ExactScan *scan) const;
	// SearchExact writes the exact top k allowed rows for one prepared query.
	Status SearchExact(const void *query, const ExactScan &scan, size_t k, const SearchParams &p, BitsetView filter,
					   int64_t *labels, float *distances) const;
	// DenseLabels reports whether the labels are exactly 0 .. count-1.
	bool DenseLabels() const noexcept {
		return Count() > 0 && min_label_ == 0 && max_label_ == static_cast<int64_t>(Count() - 1);
	}
	// NoteLabel folds a stored label into the label span.
	void NoteLabel(int64_t label) noexcept {
		min_label_ = std::min(min_label_, label);
		max_label_ = std::max(max_label_, label);
	}
	Status SearchImpl(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
					  int64_t *labels, float *distances) const;
	// AddImpl adds n rows to the lists assigned (nullptr: the quantizer assigns).
	Status AddImpl(const void *vectors, const int64_t *labels, size_t n, const idx_t *assigned);
	// DropFromList keeps list l's rows labelled first or more, relabelled,
	// entering them in rows (the new label map); returns the rows dropped.
	size_t DropFromList(size_t l, int64_t first, std::unordered_map<int64_t, uint64_t> *rows);
	// AddChunk adds rows [c0, c1) of a prepared batch with their lists and
	// records where FAISS put them; on a FAISS failure it trims the lists back.
	Status AddChunk(const uint8_t *x, const int64_t *labels, const idx_t *assign, size_t c0, size_t c1,
					const std::unordered_map<int64_t, size_t> &batch, std::vector<size_t> *old_size);
	Status TrainImpl(const void *vectors, size_t n);
	Status TrainCentroidsOutside(const float *x, size_t n);
	Status SerializeImpl(ByteWriter &writer) const;
	// BindLists points lists_ at the FAISS index's inverted lists.
	Status BindLists() noexcept;
	// ExpectedAux, Centroids and Aux describe the trained state's storage.
	size_t ExpectedAux() const noexcept;
	const uint8_t *Centroids() const noexcept;
	const float *Aux() const noexcept;

	IndexConfig config_;
	bool binary_;
	bool lists_hold_rows_;
	bool trained_ = false;
	std::unique_ptr<faiss::IndexIVF> ivf_;
	std::unique_ptr<faiss::IndexBinaryIVF> bin_;
	faiss::ArrayInvertedLists *lists_ = nullptr;
	/* a view: lists, raw rows and the label order live in the sections */
	bool view_ = false;
	IndexBytes bytes_;
	IvfSections sections_;
	/* IVF_PQ, IVF_SQ8: exact rows per list, parallel to the list's codes */
	std::vector<std::vector<float>> raw_;
	/* label -> PackLoc(list, offset) */
	std::unordered_map<int64_t, uint64_t> rows_;
	/* span of the (unique) labels: 0 .. count-1 exactly when min 0, max count-1 */
	int64_t min_label_ = std::numeric_limits<int64_t>::max();
	int64_t max_label_ = -1;
};

// PrepareRows checks every row (finite, non-zero under cosine; padding for
// bits) and copies it prepared into out.
template <typename T>
inline Status IvfIndex::PrepareRows(const void *in, size_t n, const char *what, std::vector<T> *out) const {
	size_t rb = RowBytes();
	out->resize(n * rb / sizeof(T));
	const uint8_t *src = static_cast<const uint8_t *>(in);
	uint8_t *dst = reinterpret_cast<uint8_t *>(out->data());
	for (size_t i = 0; i < n; i++)
		VECDB_RETURN_IF_ERROR(PrepareVector(config_.metric, config_.dim, src + i * rb, dst + i * rb, what));
	return Status::Ok();
}

}  // namespace ivf

}  // namespace vecdb::knowhere
