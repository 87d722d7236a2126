// ivf_index.cpp implements the inverted-file index kinds IVF_FLAT, IVF_PQ,
// IVF_SQ8 (FAISS IndexIVF*) and BIN_IVF (FAISS IndexBinaryIVF) behind the
// engine's Index interface.
//
// Design notes.
//
// Storage. FAISS holds the coarse quantizer (an IndexFlatL2/IP or
// IndexBinaryFlat owned by the IVF index) and the inverted lists
// (ArrayInvertedLists: per list, the caller's int64 labels and the codes);
// labels go into the lists with add_core. Every row has an exact vector
// (normalized for cosine): for IVF_FLAT and BIN_IVF the list codes are those
// vectors, so nothing else is kept; for IVF_PQ and IVF_SQ8 a raw store keeps
// them per list, in the same order as the list's codes (raw_[list][offset]).
// A label -> (list, offset) map finds any row. A list's rows are thus one
// strided RowSet (labels from FAISS, vectors from the codes or the raw
// store), and every exact path is brute_force.hpp's: brute force over the
// allowed rows of a selective filter (all lists), the probed lists of
// BIN_IVF, the iterator, range search and re-ranking. Labels must be unique.
//
// Scores. L2: squared L2. IP: FAISS returns similarities, we negate them.
// Cosine: vectors are normalized at add and query, FAISS searches by inner
// product and the score is 1 - similarity (cosine distance); a zero vector is
// InvalidArgument. BIN_IVF: Hamming count; dim must be a multiple of 8.
//
// Filtered search. Let f = allowed rows / rows. When f < brute_force_ratio
// (default sqrt(1.8 nprobe / nlist), index.cpp) or k >= allowed / 2 the
// allowed rows are searched exactly: listed from the bitset when the labels
// are 0 .. n-1 and at most half are allowed, else by a pass over all lists. Otherwise the search probes nprobe' = min(nlist, ceil(nprobe /
// f)) lists (a 10% filter probes ten times as many lists) through a
// faiss::IDSelector over the bitset in SearchParametersIVF. FAISS results are
// re-checked against the bitset, and a query that comes back with fewer than
// k results while at least k rows are allowed is answered by brute force, so
// k allowed rows always give k results. BIN_IVF scans the probed lists itself
// (exact Hamming): FAISS 1.7.3's binary IVF does not take a selector.
//
// Iterator and range search scan inverted lists in order of centroid
// distance, scoring each list's allowed rows exactly (from the codes or the
// raw store, so IVF_PQ and IVF_SQ8 return exact distances too), and return
// each batch in exact distance order. The iterator's first batch probes
// nprobe' lists (all lists when the filter is below brute_force_ratio), so
// with IVF_FLAT its first batch is Search's answer; later batches scan
// further lists until the pool holds a batch, and it ends when every list
// has been scanned and the pool is empty. Range search returns the rows
// within radius among nprobe' lists (all lists when the filter is below
// brute_force_ratio): it is as approximate as Search.
//
// Adding. Add assigns the rows to lists with the quantizer, reserves every
// list's exact new size (a Build leaves no slack: IVF_FLAT holds ~1x its
// vectors), then hands FAISS chunks of kAddChunk rows with their assignment
// (add_core), reading back from each touched list the labels FAISS appended
// to place the raw rows and map entries. Between chunks it polls the build
// stop callback and reports progress, so a cancel keeps a prefix of the
// batch; a FAISS exception inside a chunk trims the touched lists back to
// their sizes before it, so the index stays consistent.
//
// Training: nlist (and 2^nbits for IVF_PQ) rows at least, else
// InvalidArgument. FAISS' "please provide at least 39 * k points" warning
// (written to stderr, i.e. the server log) is silenced by setting
// min_points_per_centroid to 1; sampling above 256 points per centroid stays.
// Cancellation inside k-means uses FAISS' InterruptCallback, which FAISS
// 1.7.3 checks after every k-means iteration and every block of distance
// computations, on the thread that called train: one process-wide callback
// asks the stop callback the calling thread registered for the current
// Train (a thread_local), so OpenMP workers never run it. A failed or
// cancelled Train empties the quantizer (FAISS would otherwise take its
// partial centroids as trained on the next Train).
//
// Training elsewhere. When IndexConfig::train_device and the training work
// call for it (centroid_trainer.hpp: kGpu whenever a trainer is registered
// and usable, kAuto from kAutoTrainMinWork per build thread), the float kinds
// hand FAISS' clustering parameters (niter, seed, spherical for inner
// product, 256 points per centroid) to the registered trainer (src/gpu's
// GpuKMeans) and add its centroids to the quantizer; FAISS' train then skips
// its own k-means (a trained quantizer with nlist rows) and trains only the
// rest (IVF_PQ codebooks, IVF_SQ8 ranges, on the CPU). Add, Search and
// Serialize see an ordinary trained quantizer. A trainer that fails for any
// reason but a cancel, or returns a non-finite centroid, is ignored: FAISS
// trains on the CPU and Train succeeds.
//
// Serialization (serialize.hpp's framing): a meta section (build fields,
// trained flag, count, code size, label span), the coarse centroids, IVF_PQ's
// codebooks or IVF_SQ8's ranges, the nlist + 1 list offsets, then every
// list's labels, codes and (IVF_PQ, IVF_SQ8) raw rows, each array in list
// order, and the row positions in label order. No stored byte reaches a
// FAISS parser: Load creates the FAISS index from the build fields (Init),
// adds the centroids to its quantizer, copies codebooks or ranges, and fills
// the lists, checking every size, label and vector.
//
// View (OpenIndexView): the same IvfIndex with view_ set. Its FAISS index
// holds private copies of the trained state (centroids, codebooks or ranges,
// and for IVF_PQ FAISS' precomputed table), and its inverted lists are
// ByteInvertedLists pointing into the bytes, so FAISS' own search runs over
// them; ListRows, RowOf (binary search of the label order) and re-ranking
// read the sections too. Opening checks the list offsets (O(nlist)).
//
// Threads: Train, Add and Search set OpenMP's thread count for the call only
// (config.threads, SearchParams.threads; default 1), warm libgomp's pool with
// signals blocked (WarmOpenMP), and restore the count after.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
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
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include "knowhere/brute_force.hpp"
#include "knowhere/centroid_trainer.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::engine {

namespace {

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
uint64_t PackLoc(size_t list, size_t offset) noexcept {
	return (static_cast<uint64_t>(list) << kOffsetBits) | static_cast<uint64_t>(offset);
}

// LocList and LocOffset unpack a location.
size_t LocList(uint64_t loc) noexcept {
	return static_cast<size_t>(loc >> kOffsetBits);
}
size_t LocOffset(uint64_t loc) noexcept {
	return static_cast<size_t>(loc & ((uint64_t{1} << kOffsetBits) - 1));
}

// OmpThreads sets OpenMP's thread count for one scope (after creating the
// pool with signals blocked) and restores it after.
class OmpThreads {
public:
	explicit OmpThreads(int n) noexcept : saved_(omp_get_max_threads()) {
		int threads = std::max(1, n);
		(void) WarmOpenMP(threads);
		omp_set_num_threads(threads);
	}
	~OmpThreads() { omp_set_num_threads(saved_); }

private:
	int saved_;
};

// CallStop is the stop callback of one Train call and whether it fired.
struct CallStop {
	StopCallback fn = nullptr;
	void *arg = nullptr;
	bool fired = false;
};

// tls_call_stop is the CallStop of the Train running on this thread, if any.
thread_local CallStop *tls_call_stop = nullptr;

// TrainInterrupt is FAISS' process-wide InterruptCallback: it asks only the
// stop callback that the current thread registered, so FAISS' OpenMP workers
// (and threads with no Train running) always get "go on".
class TrainInterrupt final : public faiss::InterruptCallback {
public:
	// want_interrupt polls the calling thread's Train stop callback.
	bool want_interrupt() override {
		CallStop *s = tls_call_stop;
		if (s == nullptr || s->fn == nullptr)
			return false;
		if (!s->fired && s->fn(s->arg))
			s->fired = true;
		return s->fired;
	}
};

// InterruptScope installs TrainInterrupt once per process and registers stop
// for the calling thread for its lifetime.
class InterruptScope {
public:
	explicit InterruptScope(CallStop *stop) : saved_(tls_call_stop) {
		static std::once_flag once;
		std::call_once(once, [] {
			std::lock_guard<std::mutex> guard(faiss::InterruptCallback::lock);
			faiss::InterruptCallback::instance.reset(new TrainInterrupt());
		});
		tls_call_stop = stop;
	}
	~InterruptScope() { tls_call_stop = saved_; }
	InterruptScope(const InterruptScope &) = delete;
	InterruptScope &operator=(const InterruptScope &) = delete;

private:
	CallStop *saved_;
};

// BitsetSelector adapts a BitsetView (set bit: filtered out) to FAISS' IDSelector.
struct BitsetSelector final : faiss::IDSelector {
	explicit BitsetSelector(BitsetView v) : view(v) {}
	bool is_member(idx_t id) const override { return !view.test(id); }
	BitsetView view;
};

// BetterFirst orders a min-heap of neighbours by distance (best on top).
struct BetterFirst {
	bool operator()(const Neighbor &a, const Neighbor &b) const noexcept { return NeighborLess(b, a); }
};

// GrowFor makes room for need elements in v: exactly when v is empty (a
// Build), by half its capacity at least otherwise (many small Adds stay linear).
template <typename T>
void GrowFor(std::vector<T> *v, size_t need) {
	if (need > v->capacity())
		v->reserve(v->empty() ? need : std::max(need, v->capacity() + v->capacity() / 2));
}

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
// design notes at the top of the file).
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
	friend const float *vecdb::engine::IvfFloatCentroids(const Index &index) noexcept;

	size_t RowBytes() const noexcept { return engine::RowBytes(config_.metric, config_.dim); }
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
	Status AddImpl(const void *vectors, const int64_t *labels, size_t n);
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

// Catching runs fn, turning every exception into a Status.
template <typename Fn>
Status Catching(const char *what, Fn &&fn) noexcept {
	try {
		return fn();
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory(std::string("out of memory in ") + what);
	} catch (const faiss::FaissException &e) {
		return Status::Internal(std::string(what) + " failed in FAISS: " + e.what());
	} catch (const std::exception &e) {
		return Status::Internal(std::string(what) + " failed: " + e.what());
	} catch (...) {
		return Status::Internal(std::string(what) + " failed with an unknown exception");
	}
}

// Init creates the quantizer and the FAISS IVF index of the configured kind.
Status IvfIndex::Init() noexcept {
	return Catching("creating an IVF index", [&]() -> Status {
		size_t d = static_cast<size_t>(config_.dim);
		raw_.assign(lists_hold_rows_ ? 0 : nlist(), {});
		if (binary_) {
			if (config_.dim % 8 != 0)
				return Status::InvalidArgument("BIN_IVF dimensions must be a multiple of 8, not " +
											   std::to_string(config_.dim));
			auto q = std::make_unique<faiss::IndexBinaryFlat>(config_.dim);
			bin_ = std::make_unique<faiss::IndexBinaryIVF>(q.get(), d, nlist());
			q.release();
			bin_->own_fields = true;
			bin_->cp.seed = static_cast<int>(config_.seed);
			bin_->cp.min_points_per_centroid = 1;
			return BindLists();
		}
		faiss::MetricType mt = config_.metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
		std::unique_ptr<faiss::Index> q;
		if (mt == faiss::METRIC_L2)
			q = std::make_unique<faiss::IndexFlatL2>(config_.dim);
		else
			q = std::make_unique<faiss::IndexFlatIP>(config_.dim);
		switch (config_.kind) {
			case IndexKind::kIvfFlat:
				ivf_ = std::make_unique<faiss::IndexIVFFlat>(q.get(), d, nlist(), mt);
				break;
			case IndexKind::kIvfPq: {
				auto pq = std::make_unique<faiss::IndexIVFPQ>(q.get(), d, nlist(), config_.pq_m, config_.nbits, mt);
				pq->pq.cp.seed = static_cast<int>(config_.seed);
				pq->pq.cp.min_points_per_centroid = 1;
				ivf_ = std::move(pq);
				break;
			}
			case IndexKind::kIvfSq8:
				ivf_ = std::make_unique<faiss::IndexIVFScalarQuantizer>(q.get(), d, nlist(),
																	   faiss::ScalarQuantizer::QT_8bit, mt, true);
				break;
			default:
				return Status::Internal("not an IVF kind");
		}
		q.release();
		ivf_->own_fields = true;
		ivf_->cp.seed = static_cast<int>(config_.seed);
		ivf_->cp.min_points_per_centroid = 1;
		return BindLists();
	});
}

// BindLists finds FAISS' ArrayInvertedLists (what every IVF index we create
// or read has) and checks its shape.
Status IvfIndex::BindLists() noexcept {
	faiss::InvertedLists *il = binary_ ? (bin_ ? bin_->invlists : nullptr) : (ivf_ ? ivf_->invlists : nullptr);
	lists_ = dynamic_cast<faiss::ArrayInvertedLists *>(il);
	if (lists_ == nullptr || lists_->nlist != nlist() || lists_->ids.size() != nlist() ||
		lists_->codes.size() != nlist())
		return Status::Corrupt("IVF index has no inverted lists of the expected shape");
	if (lists_hold_rows_ && lists_->code_size != RowBytes())
		return Status::Corrupt("IVF index codes do not hold its vectors");
	return Status::Ok();
}

// MemoryUsage adds the lists (codes and labels, by capacity), the raw store,
// the label map, the centroids and the quantizers' tables.
size_t IvfIndex::MemoryUsage() const noexcept {
	size_t bytes = sizeof(*this) + MapBytes(rows_.size(), rows_.bucket_count());
	if (view_)
		bytes += sizeof(ByteInvertedLists);
	if (lists_ != nullptr)
		for (size_t l = 0; l < nlist(); l++)
			bytes += lists_->codes[l].capacity() + lists_->ids[l].capacity() * sizeof(idx_t) +
				2 * sizeof(std::vector<uint8_t>);
	for (const std::vector<float> &r : raw_)
		bytes += r.capacity() * sizeof(float) + sizeof(r);
	bytes += binary_ ? nlist() * RowBytes() : nlist() * static_cast<size_t>(config_.dim) * sizeof(float);
	if (auto *pq = dynamic_cast<const faiss::IndexIVFPQ *>(ivf_.get()))
		bytes += (pq->pq.centroids.capacity() + pq->precomputed_table.size()) * sizeof(float);
	if (auto *sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer *>(ivf_.get()))
		bytes += sq->sq.trained.capacity() * sizeof(float);
	return bytes;
}

// FromFaiss negates inner products and turns cosine similarity into distance.
float IvfIndex::FromFaiss(float d) const noexcept {
	switch (config_.metric) {
		case Metric::kInnerProduct:
			return -d;
		case Metric::kCosine:
			return 1.0f - d;
		default:
			return d;
	}
}

// RowOf finds a label's list and offset and returns its exact vector.
const void *IvfIndex::RowOf(int64_t label) const noexcept {
	if (view_) {
		/* binary search of the label order; positions are checked, labels trusted */
		size_t n = Count(), lo = 0, hi = n;
		const uint64_t *order = sections_.by_label;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (order[mid] >= n)
				return nullptr;
			if (sections_.ids[order[mid]] < label)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n || order[lo] >= n || sections_.ids[order[lo]] != label)
			return nullptr;
		size_t at = static_cast<size_t>(order[lo]);
		return lists_hold_rows_ ? static_cast<const void *>(sections_.codes + at * sections_.meta.code_size)
								: static_cast<const void *>(sections_.raw + at * static_cast<size_t>(config_.dim));
	}
	auto it = rows_.find(label);
	if (it == rows_.end())
		return nullptr;
	return ListRows(LocList(it->second)).Row(LocOffset(it->second));
}

// PrepareRows checks every row (finite, non-zero under cosine; padding for
// bits) and copies it prepared into out.
template <typename T>
Status IvfIndex::PrepareRows(const void *in, size_t n, const char *what, std::vector<T> *out) const {
	size_t rb = RowBytes();
	out->resize(n * rb / sizeof(T));
	const uint8_t *src = static_cast<const uint8_t *>(in);
	uint8_t *dst = reinterpret_cast<uint8_t *>(out->data());
	for (size_t i = 0; i < n; i++)
		VECDB_RETURN_IF_ERROR(PrepareVector(config_.metric, config_.dim, src + i * rb, dst + i * rb, what));
	return Status::Ok();
}

// CountAllowed counts stored rows whose labels the filter does not exclude:
// a popcount when the labels are 0 .. count-1.
size_t IvfIndex::CountAllowed(BitsetView filter) const noexcept {
	if (filter.empty() || (!view_ && lists_ == nullptr))
		return Count();
	if (DenseLabels())
		return Count() - CountFilteredBelow(filter, Count());
	size_t n = 0;
	for (size_t l = 0; l < nlist(); l++) {
		RowSet rows = ListRows(l);
		for (size_t i = 0; i < rows.n; i++)
			n += !filter.test(rows.labels[i]);
	}
	return n;
}

// EffectiveProbes widens nprobe by the inverse of the allowed fraction.
size_t IvfIndex::EffectiveProbes(const SearchParams &p, size_t allowed) const noexcept {
	double f = Count() == 0 ? 1.0 : static_cast<double>(allowed) / static_cast<double>(Count());
	double probes = f > 0 ? std::ceil(static_cast<double>(p.nprobe) / f) : static_cast<double>(nlist());
	return static_cast<size_t>(std::clamp(probes, 1.0, static_cast<double>(nlist())));
}

// ListOrder ranks the centroids by distance to the query with the quantizer.
std::vector<idx_t> IvfIndex::ListOrder(const void *query, size_t n) const {
	n = std::min(n, nlist());
	std::vector<idx_t> order(n, -1);
	if (binary_) {
		std::vector<int32_t> dist(n);
		bin_->quantizer->search(1, static_cast<const uint8_t *>(query), static_cast<idx_t>(n), dist.data(),
								order.data());
	} else {
		std::vector<float> dist(n);
		ivf_->quantizer->search(1, static_cast<const float *>(query), static_cast<idx_t>(n), dist.data(),
								order.data());
	}
	order.erase(std::remove_if(order.begin(), order.end(),
							   [&](idx_t l) { return l < 0 || static_cast<size_t>(l) >= nlist(); }),
				order.end());
	return order;
}

// ScanLists scores the allowed rows of the lists into one top k.
Status IvfIndex::ScanLists(const void *query, const std::vector<idx_t> *lists, size_t k, const SearchParams &p,
						   BitsetView filter, int64_t *labels, float *distances) const {
	TopK top;
	VECDB_RETURN_IF_ERROR(top.Init(k));
	StopPoller poller(p.should_stop, p.stop_arg);
	size_t n = lists != nullptr ? lists->size() : nlist();
	for (size_t i = 0; i < n; i++) {
		size_t l = lists != nullptr ? static_cast<size_t>((*lists)[i]) : i;
		VECDB_RETURN_IF_ERROR(ScanRows(config_.metric, config_.dim, query, ListRows(l), filter, &poller, &top));
	}
	top.Extract(k, labels, distances);
	return Status::Ok();
}

// PrepareExact lists the allowed rows from the bitset when that beats a
// scan of every list.
void IvfIndex::PrepareExact(BitsetView filter, size_t allowed, ExactScan *scan) const {
	if (filter.empty() || !DenseLabels() || allowed * kSparseAllowed > Count())
		return;
	scan->labels.reserve(allowed);
	AllowedBelow(filter, Count(), &scan->labels);
	scan->rows.resize(scan->labels.size());
	size_t kept = 0;
	for (size_t i = 0; i < scan->labels.size(); i++) {
		const void *row = RowOf(scan->labels[i]);
		if (row == nullptr)
			continue;  /* only in a view over inconsistent bytes */
		scan->labels[kept] = scan->labels[i];
		scan->rows[kept++] = row;
	}
	scan->labels.resize(kept);
	scan->rows.resize(kept);
	scan->listed = true;
}

// SearchExact scans the listed rows (no filter left to apply) or every list.
Status IvfIndex::SearchExact(const void *query, const ExactScan &scan, size_t k, const SearchParams &p,
							 BitsetView filter, int64_t *labels, float *distances) const {
	if (!scan.listed)
		return ScanLists(query, nullptr, k, p, filter, labels, distances);
	RowSet rows;
	rows.labels = scan.labels.data();
	rows.rows = scan.rows.data();
	rows.n = scan.labels.size();
	return BruteForceSearch(config_.metric, config_.dim, query, rows, k, BitsetView(), p, labels, distances);
}

// Train validates the training rows and runs FAISS' k-means.
Status IvfIndex::Train(const void *vectors, size_t n) noexcept {
	if (view_)
		return Status::NotSupported("an index view is read-only");
	return Catching("training an IVF index", [&] { return TrainImpl(vectors, n); });
}

// TrainImpl checks row counts up front (FAISS would warn or throw), then
// trains with the build stop callback reachable from FAISS' interrupt checks.
Status IvfIndex::TrainImpl(const void *vectors, size_t n) {
	if (vectors == nullptr && n > 0)
		return Status::InvalidArgument("training vectors missing");
	if (n < nlist())
		return Status::InvalidArgument("IVF training needs at least nlist (" + std::to_string(nlist()) +
									   ") rows, got " + std::to_string(n));
	if (config_.kind == IndexKind::kIvfPq && n < (size_t{1} << config_.nbits))
		return Status::InvalidArgument("IVF_PQ training needs at least 2^nbits (" +
									   std::to_string(size_t{1} << config_.nbits) + ") rows, got " +
									   std::to_string(n));
	if (!rows_.empty())
		return Status::InvalidArgument("cannot train an IVF index that already holds rows");
	std::vector<float> xf;
	if (!binary_)
		VECDB_RETURN_IF_ERROR(PrepareRows(vectors, n, "vector", &xf));
	if (BuildStopRequested())
		return Status::Cancelled();
	if (!binary_)
		VECDB_RETURN_IF_ERROR(TrainCentroidsOutside(xf.data(), n));
	OmpThreads threads(config_.threads);
	CallStop stop{build_stop_, build_stop_arg_, false};
	try {
		InterruptScope scope(&stop);
		if (binary_)
			bin_->train(static_cast<idx_t>(n), static_cast<const uint8_t *>(vectors));
		else
			ivf_->train(static_cast<idx_t>(n), xf.data());
	} catch (...) {
		/* k-means stopped half way leaves centroids FAISS would take as trained */
		if (binary_)
			bin_->quantizer->reset();
		else
			ivf_->quantizer->reset();
		if (stop.fired)
			return Status::Cancelled();
		throw;
	}
	trained_ = true;
	return Status::Ok();
}

// TrainCentroidsOutside asks the registered centroid trainer (a GPU) for the
// coarse centroids when train_device and the work call for it, with FAISS'
// own clustering parameters, and puts them into the quantizer: FAISS' train
// then finds the quantizer trained (nlist rows) and skips its k-means, and
// trains only what follows it (IVF_PQ's codebooks, IVF_SQ8's ranges).
// Cancelled passes through; any other failure, or a centroid with NaN or
// infinity, leaves the quantizer empty and FAISS trains on the CPU.
Status IvfIndex::TrainCentroidsOutside(const float *x, size_t n) {
	CentroidTrainRequest r;
	r.rows = x;
	r.n = n;
	r.dim = config_.dim;
	r.k = config_.nlist;
	r.metric = ivf_->metric_type == faiss::METRIC_L2 ? Metric::kL2 : Metric::kInnerProduct;
	r.spherical = ivf_->cp.spherical;
	r.niter = ivf_->cp.niter;
	r.seed = config_.seed;
	r.max_points_per_centroid = static_cast<size_t>(std::max(0, ivf_->cp.max_points_per_centroid));
	r.should_stop = build_stop_;
	r.stop_arg = build_stop_arg_;
	if (!UseCentroidTrainer(config_.train_device, config_.threads, r))
		return Status::Ok();
	CentroidTrainFn train = RegisteredCentroidTrainer();
	if (train == nullptr)
		return Status::Ok();
	std::vector<float> c(nlist() * static_cast<size_t>(config_.dim));
	Status s = train(r, c.data());
	if (s.code() == StatusCode::kCancelled)
		return s;
	if (!s.ok())
		return Status::Ok();
	for (float v : c)
		if (!std::isfinite(v))
			return Status::Ok();
	ivf_->quantizer->reset();
	ivf_->quantizer->add(static_cast<idx_t>(nlist()), c.data());
	return Status::Ok();
}

// Add validates labels and rows, then adds them to FAISS and the raw store.
Status IvfIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (view_)
		return Status::NotSupported("an index view is read-only");
	return Catching("adding to an IVF index", [&] { return AddImpl(vectors, labels, n); });
}

// AddImpl refuses untrained indexes, negative and duplicate labels, assigns
// lists, reserves them, then adds chunk by chunk (see the design notes).
Status IvfIndex::AddImpl(const void *vectors, const int64_t *labels, size_t n) {
	if (n == 0)
		return Status::Ok();
	if (!trained_)
		return Status::InvalidArgument("IVF index must be trained before rows are added");
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors or labels missing");
	std::unordered_map<int64_t, size_t> batch;
	batch.reserve(n);
	for (size_t i = 0; i < n; i++) {
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative");
		if (rows_.count(labels[i]) != 0 || !batch.emplace(labels[i], i).second)
			return Status::InvalidArgument("duplicate label " + std::to_string(labels[i]));
	}
	std::vector<uint8_t> x;
	VECDB_RETURN_IF_ERROR(PrepareRows(vectors, n, "vector", &x));
	OmpThreads threads(config_.threads);
	size_t rb = RowBytes();
	std::vector<idx_t> assign(n, -1);
	for (size_t c0 = 0; c0 < n; c0 += kAddChunk) {
		if (BuildStopRequested())
			return Status::Cancelled();
		idx_t m = static_cast<idx_t>(std::min(kAddChunk, n - c0));
		if (binary_)
			bin_->quantizer->assign(m, x.data() + c0 * rb, assign.data() + c0);
		else
			ivf_->quantizer->assign(m, reinterpret_cast<const float *>(x.data() + c0 * rb), assign.data() + c0);
	}
	std::vector<size_t> added(nlist(), 0);
	for (idx_t l : assign) {
		if (l < 0 || static_cast<size_t>(l) >= nlist())
			return Status::Internal("IVF quantizer assigned a row to no list");
		added[static_cast<size_t>(l)]++;
	}
	for (size_t l = 0; l < nlist(); l++) {
		if (added[l] == 0)
			continue;
		size_t need = lists_->ids[l].size() + added[l];
		GrowFor(&lists_->ids[l], need);
		GrowFor(&lists_->codes[l], need * lists_->code_size);
		if (!lists_hold_rows_)
			GrowFor(&raw_[l], need * static_cast<size_t>(config_.dim));
	}
	rows_.reserve(rows_.size() + n);
	std::vector<size_t> old_size(nlist(), std::numeric_limits<size_t>::max());
	for (size_t c0 = 0; c0 < n; c0 += kAddChunk) {
		if (c0 > 0 && BuildStopRequested())
			return Status::Cancelled();
		size_t c1 = std::min(n, c0 + kAddChunk);
		VECDB_RETURN_IF_ERROR(AddChunk(x.data(), labels, assign.data(), c0, c1, batch, &old_size));
		ReportProgress(c1, n);
	}
	return Status::Ok();
}

// AddChunk hands one chunk to FAISS, then walks each touched list's new
// entries (FAISS appends in batch order, but we read back rather than rely
// on it) to place raw rows and map labels.
Status IvfIndex::AddChunk(const uint8_t *x, const int64_t *labels, const idx_t *assign, size_t c0, size_t c1,
						  const std::unordered_map<int64_t, size_t> &batch, std::vector<size_t> *old_size) {
	constexpr size_t kUnset = std::numeric_limits<size_t>::max();
	size_t rb = RowBytes();
	std::vector<size_t> touched;
	for (size_t i = c0; i < c1; i++) {
		size_t l = static_cast<size_t>(assign[i]);
		if ((*old_size)[l] == kUnset) {
			(*old_size)[l] = lists_->ids[l].size();
			touched.push_back(l);
		}
	}
	idx_t before = binary_ ? bin_->ntotal : ivf_->ntotal;
	idx_t m = static_cast<idx_t>(c1 - c0);
	try {
		if (binary_)
			bin_->add_core(m, x + c0 * rb, labels + c0, assign + c0);
		else
			ivf_->add_core(m, reinterpret_cast<const float *>(x + c0 * rb), labels + c0, assign + c0);
	} catch (...) {
		for (size_t l : touched) {
			lists_->ids[l].resize((*old_size)[l]);
			lists_->codes[l].resize((*old_size)[l] * lists_->code_size);
			(*old_size)[l] = kUnset;
		}
		(binary_ ? bin_->ntotal : ivf_->ntotal) = before;
		throw;
	}
	size_t d = static_cast<size_t>(config_.dim);
	for (size_t l : touched) {
		const std::vector<idx_t> &ids = lists_->ids[l];
		for (size_t j = (*old_size)[l]; j < ids.size(); j++) {
			auto it = batch.find(ids[j]);
			if (it == batch.end())
				return Status::Internal("FAISS added a label it was not given");
			if (!lists_hold_rows_) {
				const float *row = reinterpret_cast<const float *>(x + it->second * rb);
				raw_[l].insert(raw_[l].end(), row, row + d);
			}
			rows_.emplace(ids[j], PackLoc(l, j));
			NoteLabel(ids[j]);
		}
		(*old_size)[l] = kUnset;
	}
	return Status::Ok();
}

// Reconstruct copies each label's exact vector from the lists or raw store.
Status IvfIndex::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels and output must not be null");
	size_t rb = RowBytes();
	uint8_t *dst = static_cast<uint8_t *>(out);
	for (size_t i = 0; i < n; i++) {
		const void *row = RowOf(labels[i]);
		if (row == nullptr)
			return Status::InvalidArgument("index holds no row with label " + std::to_string(labels[i]));
		std::memcpy(dst + i * rb, row, rb);
	}
	return Status::Ok();
}

// Search validates its inputs and answers each query (see design notes).
Status IvfIndex::Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
						int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, k));
	if (nq > 0 && (queries == nullptr || labels == nullptr || distances == nullptr))
		return Status::InvalidArgument("queries or result buffers missing");
	return Catching("searching an IVF index", [&] { return SearchImpl(queries, nq, k, params, filter, labels, distances); });
}

// SearchImpl picks brute force or a widened, filtered IVF search.
Status IvfIndex::SearchImpl(const void *queries, size_t nq, size_t k, const SearchParams &p, BitsetView filter,
							int64_t *labels, float *distances) const {
	std::vector<uint8_t> qv;
	VECDB_RETURN_IF_ERROR(PrepareRows(queries, nq, "query", &qv));
	size_t rb = RowBytes();
	size_t allowed = CountAllowed(filter);
	std::fill(labels, labels + nq * k, -1);
	std::fill(distances, distances + nq * k, kInf);
	if (allowed == 0 || !trained_)
		return Status::Ok();
	double f = static_cast<double>(allowed) / static_cast<double>(Count());
	bool brute = f < BruteForceRatio(p, config_) || k >= allowed / 2;
	size_t nprobe = EffectiveProbes(p, allowed);
	OmpThreads threads(p.threads);
	ExactScan exact;
	PrepareExact(filter, allowed, &exact);
	if (brute || binary_) {
		for (size_t q = 0; q < nq; q++) {
			if (Poll(p))
				return Status::Cancelled();
			const uint8_t *query = qv.data() + q * rb;
			int64_t *out_labels = labels + q * k;
			float *out_distances = distances + q * k;
			if (brute) {
				VECDB_RETURN_IF_ERROR(SearchExact(query, exact, k, p, filter, out_labels, out_distances));
				continue;
			}
			std::vector<idx_t> probes = ListOrder(query, nprobe);
			VECDB_RETURN_IF_ERROR(ScanLists(query, &probes, k, p, filter, out_labels, out_distances));
			if (out_labels[std::min(k, allowed) - 1] < 0)
				VECDB_RETURN_IF_ERROR(SearchExact(query, exact, k, p, filter, out_labels, out_distances));
		}
		return Status::Ok();
	}
	const float *qf = reinterpret_cast<const float *>(qv.data());
	size_t d = static_cast<size_t>(config_.dim);
	bool lossy = config_.kind != IndexKind::kIvfFlat;
	size_t kk = lossy && p.rerank > 0 ? k * static_cast<size_t>(p.rerank) : k;
	BitsetSelector selector(filter);
	faiss::SearchParametersIVF sp;
	sp.nprobe = nprobe;
	sp.sel = filter.empty() ? nullptr : &selector;
	std::vector<float> fd;
	std::vector<idx_t> fl;
	std::vector<Neighbor> cand;
	for (size_t q0 = 0; q0 < nq; q0 += kQueryChunk) {
		if (Poll(p))
			return Status::Cancelled();
		size_t n = std::min(kQueryChunk, nq - q0);
		fd.assign(n * kk, 0);
		fl.assign(n * kk, -1);
		ivf_->search(static_cast<idx_t>(n), qf + q0 * d, static_cast<idx_t>(kk), fd.data(), fl.data(), &sp);
		for (size_t i = 0; i < n; i++) {
			size_t q = q0 + i;
			const float *qq = qf + q * d;
			cand.clear();
			for (size_t j = 0; j < kk; j++) {
				int64_t l = fl[i * kk + j];
				if (l < 0 || filter.test(l))
					continue;
				if (kk != k) {
					const void *row = RowOf(l);
					if (row != nullptr)
						cand.push_back(Neighbor{l, Score(config_.metric, config_.dim, qq, row)});
				} else {
					cand.push_back(Neighbor{l, FromFaiss(fd[i * kk + j])});
				}
			}
			std::sort(cand.begin(), cand.end(), NeighborLess);
			if (cand.size() < std::min(k, allowed)) {
				VECDB_RETURN_IF_ERROR(SearchExact(qq, exact, k, p, filter, labels + q * k, distances + q * k));
				continue;
			}
			for (size_t j = 0; j < k && j < cand.size(); j++) {
				labels[q * k + j] = cand[j].label;
				distances[q * k + j] = cand[j].distance;
			}
		}
	}
	return Status::Ok();
}

// RangeSearch returns the allowed rows within radius among the probed lists.
Status IvfIndex::RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
							 std::vector<Neighbor> *out) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, 1));
	if (query == nullptr || out == nullptr)
		return Status::InvalidArgument("query or result missing");
	if (std::isnan(radius))
		return Status::InvalidArgument("radius must not be NaN");
	return Catching("range-searching an IVF index", [&]() -> Status {
		std::vector<uint8_t> qv;
		VECDB_RETURN_IF_ERROR(PrepareRows(query, 1, "query", &qv));
		size_t allowed = CountAllowed(filter);
		if (allowed == 0 || !trained_)
			return Status::Ok();
		double f = static_cast<double>(allowed) / static_cast<double>(Count());
		size_t nprobe = f < BruteForceRatio(params, config_) ? nlist() : EffectiveProbes(params, allowed);
		std::vector<Neighbor> found;
		StopPoller poller(params.should_stop, params.stop_arg);
		for (idx_t l : ListOrder(qv.data(), nprobe))
			VECDB_RETURN_IF_ERROR(RangeScan(config_.metric, config_.dim, qv.data(), ListRows(static_cast<size_t>(l)),
											radius, filter, &poller, &found));
		std::sort(found.begin(), found.end(), NeighborLess);
		out->insert(out->end(), found.begin(), found.end());
		return Status::Ok();
	});
}

// CreateIterator copies the query and ranks every list by centroid distance.
Expected<std::unique_ptr<Iterator>> IvfIndex::CreateIterator(const void *query, const SearchParams &params,
															 BitsetView filter) const noexcept {
	Status s = ValidateSearch(params, 1);
	if (!s.ok())
		return s;
	if (query == nullptr)
		return Status::InvalidArgument("query missing");
	std::unique_ptr<Iterator> it;
	s = Catching("starting an IVF iterator", [&]() -> Status {
		std::vector<float> qf;
		std::vector<uint8_t> qb;
		if (binary_)
			VECDB_RETURN_IF_ERROR(PrepareRows(query, 1, "query", &qb));
		else
			VECDB_RETURN_IF_ERROR(PrepareRows(query, 1, "query", &qf));
		std::vector<idx_t> order;
		size_t first = 0;
		size_t allowed = CountAllowed(filter);
		if (trained_ && allowed > 0) {
			order = ListOrder(binary_ ? static_cast<const void *>(qb.data()) : qf.data(), nlist());
			double f = static_cast<double>(allowed) / static_cast<double>(Count());
			first = f < BruteForceRatio(params, config_) ? nlist() : EffectiveProbes(params, allowed);
		}
		it = std::make_unique<IvfIterator>(this, std::move(qf), std::move(qb), std::move(order), first, params,
										   filter);
		return Status::Ok();
	});
	if (!s.ok())
		return s;
	return it;
}

// Next scans lists until the pool holds a batch (or none are left) and pops
// it, closest first by exact distance.
Status IvfIterator::Next(size_t max_batch, std::vector<Neighbor> *out) noexcept {
	if (out == nullptr)
		return Status::InvalidArgument("result missing");
	return Catching("iterating an IVF index", [&]() -> Status {
		const void *query = query_f_.empty() ? static_cast<const void *>(query_b_.data()) : query_f_.data();
		auto scan = [&]() -> Status {
			if (IvfIndex::Poll(params_))
				return Status::Cancelled();
			scanned_.clear();
			RowSet rows = index_->ListRows(static_cast<size_t>(list_order_[next_list_++]));
			VECDB_RETURN_IF_ERROR(
				RangeScan(index_->config_.metric, index_->config_.dim, query, rows, kInf, filter_, nullptr, &scanned_));
			for (const Neighbor &n : scanned_)
				pool_.push(n);
			return Status::Ok();
		};
		while (next_list_ < std::min(first_lists_, list_order_.size()))
			VECDB_RETURN_IF_ERROR(scan());
		while (pool_.size() < max_batch && next_list_ < list_order_.size())
			VECDB_RETURN_IF_ERROR(scan());
		for (size_t i = 0; i < max_batch && !pool_.empty(); i++) {
			out->push_back(pool_.top());
			pool_.pop();
		}
		return Status::Ok();
	});
}

// Serialize writes the sections in the common framing; a view copies its bytes.
Status IvfIndex::Serialize(ByteWriter &writer) const noexcept {
	if (view_)
		return writer.Write(bytes_.data, bytes_.size);
	return Catching("serializing an IVF index", [&] { return SerializeImpl(writer); });
}

// ExpectedAux returns the trained floats besides the centroids: IVF_PQ's
// codebooks (dim x 2^nbits), IVF_SQ8's per-dimension ranges (2 dim), else 0.
size_t IvfIndex::ExpectedAux() const noexcept {
	size_t d = static_cast<size_t>(config_.dim);
	switch (config_.kind) {
		case IndexKind::kIvfPq:
			return d << config_.nbits;
		case IndexKind::kIvfSq8:
			return 2 * d;
		default:
			return 0;
	}
}

// Centroids returns the coarse quantizer's stored rows (nlist when trained).
const uint8_t *IvfIndex::Centroids() const noexcept {
	if (binary_) {
		auto *q = dynamic_cast<const faiss::IndexBinaryFlat *>(bin_->quantizer);
		return q != nullptr ? q->xb.data() : nullptr;
	}
	auto *q = dynamic_cast<const faiss::IndexFlat *>(ivf_->quantizer);
	return q != nullptr ? q->codes.data() : nullptr;
}

// Aux returns IVF_PQ's codebooks or IVF_SQ8's ranges (nullptr otherwise).
const float *IvfIndex::Aux() const noexcept {
	if (auto *pq = dynamic_cast<const faiss::IndexIVFPQ *>(ivf_.get()))
		return pq->pq.centroids.data();
	if (auto *sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer *>(ivf_.get()))
		return sq->sq.trained.data();
	return nullptr;
}

// SerializeImpl writes the meta section, the trained state, the list
// offsets, then every list's labels, codes and (IVF_PQ, IVF_SQ8) raw rows in
// list order, then the row positions in label order.
Status IvfIndex::SerializeImpl(ByteWriter &writer) const {
	size_t n = Count();
	IvfMeta meta{};
	meta.nlist = config_.nlist;
	meta.pq_m = config_.pq_m;
	meta.nbits = config_.nbits;
	meta.threads = config_.threads;
	meta.seed = config_.seed;
	meta.trained = trained_ ? 1 : 0;
	meta.count = n;
	meta.code_size = lists_->code_size;
	meta.centroid_bytes = trained_ ? nlist() * RowBytes() : 0;
	meta.aux_floats = trained_ ? ExpectedAux() : 0;
	meta.min_label = n == 0 ? 0 : min_label_;
	meta.max_label = n == 0 ? -1 : max_label_;
	std::vector<uint64_t> offsets(nlist() + 1, 0);
	std::vector<int64_t> labels;
	labels.reserve(n);
	for (size_t l = 0; l < nlist(); l++) {
		offsets[l + 1] = offsets[l] + lists_->ids[l].size();
		labels.insert(labels.end(), lists_->ids[l].begin(), lists_->ids[l].end());
	}
	std::vector<uint64_t> by_label(n);
	for (size_t i = 0; i < n; i++)
		by_label[i] = i;
	std::sort(by_label.begin(), by_label.end(), [&](uint64_t a, uint64_t b) { return labels[a] < labels[b]; });
	return WriteIndexStream(writer, *this, [&](IndexStreamWriter &w) -> Status {
		VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
		VECDB_RETURN_IF_ERROR(w.Section(Centroids(), meta.centroid_bytes));
		VECDB_RETURN_IF_ERROR(w.Section(Aux(), meta.aux_floats * sizeof(float)));
		VECDB_RETURN_IF_ERROR(w.Section(offsets.data(), offsets.size() * sizeof(uint64_t)));
		VECDB_RETURN_IF_ERROR(w.Section(labels.data(), n * sizeof(int64_t)));
		VECDB_RETURN_IF_ERROR(w.Align());
		for (size_t l = 0; l < nlist(); l++)
			VECDB_RETURN_IF_ERROR(w.Write(lists_->codes[l].data(), lists_->codes[l].size()));
		VECDB_RETURN_IF_ERROR(w.Align());
		for (const std::vector<float> &r : raw_)
			VECDB_RETURN_IF_ERROR(w.Write(r.data(), r.size() * sizeof(float)));
		return w.Section(by_label.data(), n * sizeof(uint64_t));
	});
}

// ApplyMeta takes the build fields of a meta section, creates the FAISS
// index they describe (Init) and checks every size against it.
Status IvfIndex::ApplyMeta(const IndexHeader &h, const IvfMeta &meta) {
	config_.nlist = meta.nlist;
	config_.pq_m = meta.pq_m;
	config_.nbits = meta.nbits;
	config_.threads = meta.threads;
	config_.seed = meta.seed;
	if (!ValidateConfig(config_).ok() || meta.trained > 1 || meta.reserved != 0)
		return Status::Corrupt("IVF index parameters out of range");
	Status s = Init();
	if (!s.ok())
		return s.code() == StatusCode::kOutOfMemory ? s : Status::Corrupt("IVF index parameters out of range");
	bool trained = meta.trained != 0;
	if (meta.count != static_cast<uint64_t>(h.count) || meta.code_size != lists_->code_size ||
		meta.centroid_bytes != (trained ? nlist() * RowBytes() : 0) || meta.aux_floats != (trained ? ExpectedAux() : 0) ||
		(!trained && meta.count != 0) ||
		(meta.count == 0 && (meta.min_label != 0 || meta.max_label != -1)) ||
		meta.count > std::numeric_limits<uint64_t>::max() / std::max<uint64_t>(meta.code_size, RowBytes()))
		return Status::Corrupt("IVF index sections do not match its header");
	min_label_ = meta.count == 0 ? std::numeric_limits<int64_t>::max() : meta.min_label;
	max_label_ = meta.max_label;
	return Status::Ok();
}

// CheckOffsets checks that nlist + 1 list offsets rise from 0 to count.
Status IvfIndex::CheckOffsets(const uint64_t *offsets, uint64_t count) const noexcept {
	if (offsets[0] != 0 || offsets[nlist()] != count)
		return Status::Corrupt("IVF index list sizes do not match");
	for (size_t l = 0; l < nlist(); l++)
		if (offsets[l + 1] < offsets[l])
			return Status::Corrupt("IVF index list sizes do not match");
	return Status::Ok();
}

// RestoreTrained puts the stored centroids and codebooks or ranges back into
// the FAISS index (IVF_PQ also recomputes FAISS' precomputed table).
Status IvfIndex::RestoreTrained(const uint8_t *centroids, const float *aux) {
	if (!binary_) {
		const float *c = reinterpret_cast<const float *>(centroids);
		for (size_t i = 0; i < nlist() * static_cast<size_t>(config_.dim); i++)
			if (!std::isfinite(c[i]))
				return Status::Corrupt("IVF index holds a centroid with NaN or infinity");
		for (size_t i = 0; i < ExpectedAux(); i++)
			if (!std::isfinite(aux[i]))
				return Status::Corrupt("IVF index holds a codebook with NaN or infinity");
	}
	if (binary_) {
		bin_->quantizer->add(static_cast<idx_t>(nlist()), centroids);
		bin_->is_trained = true;
	} else {
		ivf_->quantizer->add(static_cast<idx_t>(nlist()), reinterpret_cast<const float *>(centroids));
		if (auto *pq = dynamic_cast<faiss::IndexIVFPQ *>(ivf_.get())) {
			pq->pq.centroids.assign(aux, aux + ExpectedAux());
			pq->precompute_table();
		}
		if (auto *sq = dynamic_cast<faiss::IndexIVFScalarQuantizer *>(ivf_.get()))
			sq->sq.trained.assign(aux, aux + ExpectedAux());
		ivf_->is_trained = true;
	}
	trained_ = true;
	return Status::Ok();
}

// Load reads the sections (growing as bytes arrive), then fills FAISS'
// lists, the raw store and the label map, checking every label, size and
// vector; no stored byte reaches a FAISS parser.
Status IvfIndex::Load(const IndexHeader &h, IndexStreamReader &reader) {
	IvfMeta meta;
	VECDB_RETURN_IF_ERROR(reader.Section(&meta, sizeof(meta)));
	VECDB_RETURN_IF_ERROR(ApplyMeta(h, meta));
	size_t n = static_cast<size_t>(meta.count), d = static_cast<size_t>(config_.dim), cs = lists_->code_size;
	std::vector<uint8_t> centroids, codes;
	std::vector<float> aux, raw;
	std::vector<uint64_t> offsets, by_label;
	std::vector<int64_t> ids;
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&centroids, meta.centroid_bytes));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&aux, meta.aux_floats));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&offsets, nlist() + 1));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&ids, n));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&codes, n * cs));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&raw, lists_hold_rows_ ? 0 : n * d));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&by_label, n));
	VECDB_RETURN_IF_ERROR(CheckOffsets(offsets.data(), n));
	if (meta.trained != 0)
		VECDB_RETURN_IF_ERROR(RestoreTrained(centroids.data(), aux.data()));
	rows_.reserve(n);
	for (size_t l = 0; l < nlist(); l++) {
		size_t a = static_cast<size_t>(offsets[l]), b = static_cast<size_t>(offsets[l + 1]);
		lists_->ids[l].assign(ids.begin() + static_cast<ptrdiff_t>(a), ids.begin() + static_cast<ptrdiff_t>(b));
		lists_->codes[l].assign(codes.begin() + static_cast<ptrdiff_t>(a * cs),
								codes.begin() + static_cast<ptrdiff_t>(b * cs));
		if (!lists_hold_rows_)
			raw_[l].assign(raw.begin() + static_cast<ptrdiff_t>(a * d), raw.begin() + static_cast<ptrdiff_t>(b * d));
		for (size_t j = a; j < b; j++) {
			if (ids[j] < 0 || !rows_.emplace(ids[j], PackLoc(l, j - a)).second)
				return Status::Corrupt("IVF index holds a bad or duplicate label");
		}
	}
	(binary_ ? bin_->ntotal : ivf_->ntotal) = static_cast<idx_t>(n);
	for (size_t j = 0; j < n; j++)
		if (by_label[j] >= n || (j > 0 && ids[by_label[j]] <= ids[by_label[j - 1]]))
			return Status::Corrupt("IVF index label order inconsistent");
	if (n > 0 && (ids[by_label[0]] != meta.min_label || ids[by_label[n - 1]] != meta.max_label))
		return Status::Corrupt("IVF index label span inconsistent");
	if (!binary_) {
		for (size_t l = 0; l < nlist(); l++) {
			RowSet rows = ListRows(l);
			for (size_t i = 0; i < rows.n * d; i++)
				if (!std::isfinite(reinterpret_cast<const float *>(rows.base)[i]))
					return Status::Corrupt("IVF index holds a vector with NaN or infinity");
		}
	}
	return Status::Ok();
}

// OpenView restores the trained state (small private copies: centroids,
// codebooks or ranges, IVF_PQ's precomputed table) and points FAISS and the
// exact paths at the sections.
Status IvfIndex::OpenView(const IndexBytes &bytes, const IvfSections &s) {
	VECDB_RETURN_IF_ERROR(CheckOffsets(s.offsets, s.meta.count));
	if (s.meta.trained != 0)
		VECDB_RETURN_IF_ERROR(RestoreTrained(s.centroids, s.aux));
	size_t cs = lists_->code_size;
	if (binary_) {
		bin_->ntotal = static_cast<idx_t>(s.meta.count);
	} else {
		ivf_->replace_invlists(new ByteInvertedLists(nlist(), cs, s), true);
		ivf_->ntotal = static_cast<idx_t>(s.meta.count);
	}
	lists_ = nullptr;
	raw_.clear();
	view_ = true;
	bytes_ = bytes;
	sections_ = s;
	return Status::Ok();
}

}  // namespace

// EstimateIvfMemory mirrors MemoryUsage for one Build of n rows: per row its
// code, label, map entry and (IVF_PQ, IVF_SQ8) raw vector; per list the
// centroid and vector headers; the PQ codebooks and, for L2, FAISS' table
// of nlist x pq_m x 2^nbits precomputed terms.
size_t EstimateIvfMemory(const IndexConfig &config, size_t n) noexcept {
	size_t d = static_cast<size_t>(config.dim);
	size_t nlist = static_cast<size_t>(config.nlist);
	size_t row = RowBytes(config.metric, config.dim);
	size_t code = row, raw = 0, tables = 0;
	switch (config.kind) {
		case IndexKind::kIvfPq: {
			size_t ksub = size_t{1} << config.nbits;
			code = (static_cast<size_t>(config.pq_m) * static_cast<size_t>(config.nbits) + 7) / 8;
			raw = row;
			tables = ksub * d * sizeof(float);
			if (config.metric == Metric::kL2)
				tables += nlist * static_cast<size_t>(config.pq_m) * ksub * sizeof(float);
			break;
		}
		case IndexKind::kIvfSq8:
			code = d;
			raw = row;
			tables = 2 * d * sizeof(float);
			break;
		default:
			break;
	}
	size_t per_list = row + 2 * sizeof(std::vector<uint8_t>) + (raw != 0 ? sizeof(std::vector<float>) : 0);
	return sizeof(IvfIndex) + n * (code + sizeof(idx_t) + raw) + IvfIndex::MapBytes(n, n) + nlist * per_list + tables;
}

// NewIvfIndex makes an empty IVF_FLAT, IVF_PQ, IVF_SQ8 or BIN_IVF index.
Expected<std::unique_ptr<Index>> NewIvfIndex(const IndexConfig &config) noexcept {
	Status s = ValidateConfig(config);
	if (!s.ok())
		return s;
	std::unique_ptr<IvfIndex> index;
	try {
		index = std::make_unique<IvfIndex>(config);
	} catch (...) {
		return Status::OutOfMemory("out of memory creating an IVF index");
	}
	s = index->Init();
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

// NewTrainedIvfFlat makes the index, then restores the centroids as Load does.
Expected<std::unique_ptr<Index>> NewTrainedIvfFlat(const IndexConfig &config, const float *centroids) noexcept {
	if (config.kind != IndexKind::kIvfFlat || centroids == nullptr)
		return Status::InvalidArgument("NewTrainedIvfFlat needs IVF_FLAT and centroids");
	auto made = NewIvfIndex(config);
	if (!made.ok())
		return made;
	std::unique_ptr<Index> index = std::move(made).value();
	auto *ivf = static_cast<IvfIndex *>(index.get());
	Status s = Catching("restoring IVF centroids", [&] {
		return ivf->RestoreTrained(reinterpret_cast<const uint8_t *>(centroids), nullptr);
	});
	if (!s.ok())
		return s;
	return index;
}

// IvfFloatCentroids reads the quantizer of a trained float IVF index.
const float *IvfFloatCentroids(const Index &index) noexcept {
	auto *ivf = dynamic_cast<const IvfIndex *>(&index);
	if (ivf == nullptr || ivf->NeedsTraining() || IsBinaryKind(ivf->kind()))
		return nullptr;
	return reinterpret_cast<const float *>(ivf->Centroids());
}

// LoadIvfIndex reads an IVF index's payload after the common header; any
// inconsistency is Corrupt.
Expected<std::unique_ptr<Index>> LoadIvfIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	IndexConfig config;
	config.kind = static_cast<IndexKind>(header.kind);
	config.metric = static_cast<Metric>(header.metric);
	config.dim = header.dim;
	if (IsBinaryKind(config.kind) && config.dim % 8 != 0)
		return Status::Corrupt("BIN_IVF index dimensions not a multiple of 8");
	std::unique_ptr<IvfIndex> index;
	Status s = Catching("loading an IVF index", [&]() -> Status {
		index = std::make_unique<IvfIndex>(config);
		return index->Load(header, reader);
	});
	if (s.code() == StatusCode::kInternal)
		return Status::Corrupt("corrupt IVF index: " + s.message());
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

// OpenIvfView creates the FAISS index the meta section describes, locates
// the sections (O(1)) and makes the index a view of them (O(nlist) checks).
Expected<std::unique_ptr<Index>> OpenIvfView(const IndexBytes &bytes) noexcept {
	const IndexHeader &h = bytes.header;
	IndexConfig config;
	config.kind = static_cast<IndexKind>(h.kind);
	config.metric = static_cast<Metric>(h.metric);
	config.dim = h.dim;
	if (IsBinaryKind(config.kind) && config.dim % 8 != 0)
		return Status::Corrupt("BIN_IVF index dimensions not a multiple of 8");
	std::unique_ptr<IvfIndex> index;
	Status s = Catching("opening an IVF view", [&]() -> Status {
		index = std::make_unique<IvfIndex>(config);
		ViewCursor c(bytes);
		IvfSections sec;
		VECDB_RETURN_IF_ERROR(c.TakeCopy(&sec.meta));
		VECDB_RETURN_IF_ERROR(index->ApplyMeta(h, sec.meta));
		uint64_t n = sec.meta.count;
		size_t d = static_cast<size_t>(config.dim);
		bool hold = config.kind == IndexKind::kIvfFlat || config.kind == IndexKind::kBinIvf;
		VECDB_RETURN_IF_ERROR(c.Take(sec.meta.centroid_bytes, &sec.centroids));
		VECDB_RETURN_IF_ERROR(c.Take(sec.meta.aux_floats, &sec.aux));
		VECDB_RETURN_IF_ERROR(c.Take(static_cast<uint64_t>(sec.meta.nlist) + 1, &sec.offsets));
		VECDB_RETURN_IF_ERROR(c.Take(n, &sec.ids));
		VECDB_RETURN_IF_ERROR(c.Take(n * sec.meta.code_size, &sec.codes));
		VECDB_RETURN_IF_ERROR(c.Take(hold ? 0 : n * d, &sec.raw));
		VECDB_RETURN_IF_ERROR(c.Take(n, &sec.by_label));
		VECDB_RETURN_IF_ERROR(c.Done());
		return index->OpenView(bytes, sec);
	});
	if (s.code() == StatusCode::kInternal)
		return Status::Corrupt("corrupt IVF index: " + s.message());
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

}  // namespace vecdb::engine
