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
// Serialization (after the common header): u64 payload length, u32 FNV-1a of
// the payload, payload = build fields, the raw store (IVF_PQ, IVF_SQ8: every
// list's rows in list order; empty otherwise) and the FAISS blob
// (faiss::write_index into memory). The checksum is verified before any byte
// reaches faiss::read_index, whose size fields could otherwise make it
// allocate absurdly or assert; the payload is read in 1 MB chunks so a
// corrupt length cannot become one huge allocation. Loading rebuilds the
// label map from the lists and checks every label, list size and vector.
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
	int64_t count() const noexcept override { return static_cast<int64_t>(rows_.size()); }
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

	// ListRows returns list l's rows: FAISS' labels and the exact vectors.
	RowSet ListRows(size_t l) const noexcept {
		RowSet r;
		r.labels = lists_->ids[l].data();
		r.base = lists_hold_rows_ ? lists_->codes[l].data() : reinterpret_cast<const uint8_t *>(raw_[l].data());
		r.stride = RowBytes();
		r.n = lists_->ids[l].size();
		return r;
	}
	// ListOrder returns up to n list numbers in increasing centroid distance.
	std::vector<idx_t> ListOrder(const void *query, size_t n) const;
	// Poll reports whether the caller asked to stop.
	static bool Poll(const SearchParams &p) noexcept { return p.should_stop != nullptr && p.should_stop(p.stop_arg); }

	// MapBytes returns the label map's nodes and buckets, for MemoryUsage
	// and EstimateMemory.
	static size_t MapBytes(size_t n, size_t buckets) noexcept { return n * 32 + buckets * sizeof(void *); }

private:
	friend class IvfIterator;

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
		return !rows_.empty() && min_label_ == 0 && max_label_ == static_cast<int64_t>(rows_.size() - 1);
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
	Status SerializeImpl(ByteWriter &writer) const;
	// BindLists points lists_ at the FAISS index's inverted lists.
	Status BindLists() noexcept;

	IndexConfig config_;
	bool binary_;
	bool lists_hold_rows_;
	bool trained_ = false;
	std::unique_ptr<faiss::IndexIVF> ivf_;
	std::unique_ptr<faiss::IndexBinaryIVF> bin_;
	faiss::ArrayInvertedLists *lists_ = nullptr;
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
	if (filter.empty() || lists_ == nullptr)
		return rows_.size();
	if (DenseLabels())
		return rows_.size() - CountFilteredBelow(filter, rows_.size());
	size_t n = 0;
	for (size_t l = 0; l < nlist(); l++)
		for (idx_t label : lists_->ids[l])
			n += !filter.test(label);
	return n;
}

// EffectiveProbes widens nprobe by the inverse of the allowed fraction.
size_t IvfIndex::EffectiveProbes(const SearchParams &p, size_t allowed) const noexcept {
	double f = rows_.empty() ? 1.0 : static_cast<double>(allowed) / static_cast<double>(rows_.size());
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
	if (filter.empty() || !DenseLabels() || allowed * kSparseAllowed > rows_.size())
		return;
	scan->labels.reserve(allowed);
	AllowedBelow(filter, rows_.size(), &scan->labels);
	scan->rows.resize(scan->labels.size());
	for (size_t i = 0; i < scan->labels.size(); i++)
		scan->rows[i] = RowOf(scan->labels[i]);
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

// Add validates labels and rows, then adds them to FAISS and the raw store.
Status IvfIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
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
	double f = static_cast<double>(allowed) / static_cast<double>(rows_.size());
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
		double f = static_cast<double>(allowed) / static_cast<double>(rows_.size());
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
			double f = static_cast<double>(allowed) / static_cast<double>(rows_.size());
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

// Serialize writes the checksummed payload after the common header.
Status IvfIndex::Serialize(ByteWriter &writer) const noexcept {
	return Catching("serializing an IVF index", [&] { return SerializeImpl(writer); });
}

// IvfMeta is the first section of an IVF payload.
struct IvfMeta {
	int32_t nlist, pq_m, nbits, threads;
	uint64_t seed;
	uint64_t raw_floats;
	uint64_t blob_bytes;
	uint32_t trained;
	uint32_t reserved;
};

// SerializeImpl writes the meta section, the raw store and the FAISS blob.
Status IvfIndex::SerializeImpl(ByteWriter &writer) const {
	faiss::VectorIOWriter blob;
	if (binary_)
		faiss::write_index_binary(bin_.get(), &blob);
	else
		faiss::write_index(ivf_.get(), &blob);
	IvfMeta meta{};
	meta.nlist = config_.nlist;
	meta.pq_m = config_.pq_m;
	meta.nbits = config_.nbits;
	meta.threads = config_.threads;
	meta.seed = config_.seed;
	for (const std::vector<float> &r : raw_)
		meta.raw_floats += r.size();
	meta.blob_bytes = blob.data.size();
	meta.trained = trained_ ? 1 : 0;
	return WriteIndexStream(writer, *this, [&](IndexStreamWriter &w) -> Status {
		VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
		VECDB_RETURN_IF_ERROR(w.Align());
		for (const std::vector<float> &r : raw_)
			VECDB_RETURN_IF_ERROR(w.Write(r.data(), r.size() * sizeof(float)));
		return w.Section(blob.data.data(), blob.data.size());
	});
}

// Load reads the sections and checks the trailer before any byte reaches
// FAISS, then parses and cross-checks every field.
Status IvfIndex::Load(const IndexHeader &h, IndexStreamReader &reader) {
	IvfMeta meta;
	VECDB_RETURN_IF_ERROR(reader.Section(&meta, sizeof(meta)));
	config_.nlist = meta.nlist;
	config_.pq_m = meta.pq_m;
	config_.nbits = meta.nbits;
	config_.threads = meta.threads;
	config_.seed = meta.seed;
	if (!ValidateConfig(config_).ok() || meta.trained > 1)
		return Status::Corrupt("IVF index parameters out of range");
	uint64_t n = static_cast<uint64_t>(h.count);
	size_t d = static_cast<size_t>(config_.dim);
	if (meta.raw_floats != (lists_hold_rows_ ? 0 : n * d))
		return Status::Corrupt("IVF index raw store does not match its row count");
	std::vector<float> raw;
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&raw, meta.raw_floats));
	faiss::VectorIOReader blob;
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&blob.data, meta.blob_bytes));
	VECDB_RETURN_IF_ERROR(reader.Finish());
	trained_ = meta.trained != 0;
	idx_t ntotal = 0;
	if (binary_) {
		std::unique_ptr<faiss::IndexBinary> idx(faiss::read_index_binary(&blob));
		auto *b = dynamic_cast<faiss::IndexBinaryIVF *>(idx.get());
		if (b == nullptr)
			return Status::Corrupt("IVF index payload is not a binary IVF index");
		idx.release();
		bin_.reset(b);
		if (b->d != config_.dim || b->nlist != nlist() || b->is_trained != trained_)
			return Status::Corrupt("IVF index payload does not match its header");
		ntotal = b->ntotal;
	} else {
		std::unique_ptr<faiss::Index> idx(faiss::read_index(&blob));
		auto *ivf = dynamic_cast<faiss::IndexIVF *>(idx.get());
		if (ivf == nullptr)
			return Status::Corrupt("IVF index payload is not an IVF index");
		idx.release();
		ivf_.reset(ivf);
		bool type_ok = config_.kind == IndexKind::kIvfFlat ? dynamic_cast<faiss::IndexIVFFlat *>(ivf) != nullptr
					   : config_.kind == IndexKind::kIvfPq ? dynamic_cast<faiss::IndexIVFPQ *>(ivf) != nullptr
														   : dynamic_cast<faiss::IndexIVFScalarQuantizer *>(ivf) != nullptr;
		faiss::MetricType mt = config_.metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
		if (!type_ok || ivf->d != config_.dim || ivf->nlist != nlist() || ivf->metric_type != mt ||
			ivf->is_trained != trained_ || ivf->quantizer == nullptr || ivf->quantizer->d != config_.dim)
			return Status::Corrupt("IVF index payload does not match its header");
		ntotal = ivf->ntotal;
	}
	VECDB_RETURN_IF_ERROR(BindLists());
	if (ntotal != h.count)
		return Status::Corrupt("IVF index payload does not match its header");
	raw_.assign(lists_hold_rows_ ? 0 : nlist(), {});
	size_t listed = 0;
	rows_.reserve(static_cast<size_t>(n));
	for (size_t l = 0; l < nlist(); l++) {
		const std::vector<idx_t> &ids = lists_->ids[l];
		if (lists_->codes[l].size() != ids.size() * lists_->code_size || ids.size() > n - listed)
			return Status::Corrupt("IVF index list sizes do not match");
		for (size_t j = 0; j < ids.size(); j++)
			if (ids[j] < 0 || !rows_.emplace(ids[j], PackLoc(l, j)).second)
				return Status::Corrupt("IVF index holds a bad or duplicate label");
			else
				NoteLabel(ids[j]);
		if (!lists_hold_rows_) {
			raw_[l].assign(raw.begin() + static_cast<ptrdiff_t>(listed * d),
						   raw.begin() + static_cast<ptrdiff_t>((listed + ids.size()) * d));
		}
		listed += ids.size();
	}
	if (listed != n)
		return Status::Corrupt("IVF index lists do not hold every row");
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

// OpenIvfView has no IVF view yet: the caller deserializes instead.
Expected<std::unique_ptr<Index>> OpenIvfView(const IndexBytes &) noexcept {
	return Status::NotSupported("IVF indexes have no in-place view; deserialize them");
}

}  // namespace vecdb::engine
