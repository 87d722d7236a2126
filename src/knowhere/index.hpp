// index.hpp declares the engine's one index interface (Knowhere's IndexNode is
// the model): every index kind trains, builds, adds, searches with a filter
// bitset, range-searches, iterates resumably and serializes to byte streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "knowhere/bitset_view.hpp"
#include "knowhere/byte_stream.hpp"
#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// IndexKind names an index algorithm. Values are stored in serialized indexes:
// never renumber.
enum class IndexKind : uint32_t {
	kFlat = 1,
	kHnsw = 2,
	kIvfFlat = 3,
	kIvfPq = 4,
	kIvfSq8 = 5,
	kBinFlat = 6,
	kBinIvf = 7,
	kGpuFlat = 8,  /* exact float32 search on a CUDA device (src/gpu, registered at run time) */
	kGrowing = 9,  /* in memory only, never serialized: a growing segment's rows (growing_index.hpp) */
	kSparseInverted = 10,  /* sparse rows, inverted lists: a SparseIndex (sparse_index.hpp), not an Index */
	kHnswSq = 11,  /* HNSW whose stored form keeps 4- or 8-bit codes; full rows apart (hnsw_sq.cpp) */
	kGpuIvfFlat = 12,  /* IVF_FLAT trained, assigned and searched on a CUDA device (src/gpu, registered at run time) */
};

// Metric names a distance. Values are stored in serialized indexes.
enum class Metric : uint32_t {
	kL2 = 1,
	kInnerProduct = 2,
	kCosine = 3,
	kL1 = 4,
	kHamming = 5,
	kJaccard = 6,
};

// kMaxFloatDim and kMaxBinaryDim bound the dimensions an index accepts.
constexpr int kMaxFloatDim = 16000;
constexpr int kMaxBinaryDim = 64000;

// IsBinaryKind reports whether an index kind stores packed bit vectors
// (dim bits in (dim + 7) / 8 bytes) rather than float32 vectors.
inline bool IsBinaryKind(IndexKind kind) noexcept {
	return kind == IndexKind::kBinFlat || kind == IndexKind::kBinIvf;
}

// IsSparseKind reports whether an index kind holds sparse rows (SparseIndex,
// sparse_index.hpp) rather than fixed-size rows (Index).
inline bool IsSparseKind(IndexKind kind) noexcept {
	return kind == IndexKind::kSparseInverted;
}

// MaxDim returns the most dimensions an index of kind accepts.
int MaxDim(IndexKind kind) noexcept;

// TrainDevice says where the k-means of a float IVF kind (IVF_FLAT, IVF_PQ,
// IVF_SQ8) runs (IndexConfig::train_device). Values are the parameter's
// values in params.cpp: never renumber.
enum class TrainDevice : int {
	kCpu = 0,   /* FAISS' k-means on the CPU */
	kGpu = 1,   /* the registered centroid trainer (centroid_trainer.hpp) whenever one is usable */
	kAuto = 2,  /* the registered trainer when usable and the training work is large enough */
};

// IndexConfig holds what is fixed when an index is created (build phase).
// Defaults and ranges are declared once, in params.cpp.
struct IndexConfig {
	IndexKind kind = IndexKind::kFlat;
	Metric metric = Metric::kL2;
	int dim = 0;
	int m = 16;                /* HNSW: max neighbours per node on upper layers (2m on layer 0) */
	int ef_construction = 64;  /* HNSW: candidate list size while building */
	int nlist = 100;           /* IVF: number of lists (k-means centroids) */
	int pq_m = 8;              /* IVF_PQ: sub-quantizers; dim must be a multiple */
	int nbits = 8;             /* IVF_PQ: bits per sub-quantizer code; HNSW_SQ: bits per dimension (4 or 8) */
	int threads = 1;           /* build threads (HNSW inserts, FAISS training and adds) */
	int repair_reach = -1;     /* HNSW, HNSW_SQ: 1 links the rows a search for their own vector
								  misses, after each batch (HnswBuildOptions::repair_reach); 0
								  does not; -1 does up to kReachRepairMaxDim dimensions */
	uint64_t seed = 42;        /* k-means and level generation */
	TrainDevice train_device = TrainDevice::kAuto;  /* float IVF kinds: where k-means runs; the
													   CPU whenever the other device fails */
};

// StopCallback reports whether the caller asked to cancel; it is polled in
// long loops (PostgreSQL side: QueryCancelPending || ProcDiePending).
using StopCallback = bool (*)(void *arg) noexcept;

// ProgressCallback receives, on the calling thread, how many of a Build's or
// Add's rows are in the index so far (done of total) (PostgreSQL side:
// pgstat_progress_update_param).
using ProgressCallback = void (*)(void *arg, uint64_t done, uint64_t total) noexcept;

// SearchParams holds per-call knobs (search phase); nothing is global.
struct SearchParams {
	int ef_search = 40;          /* HNSW: candidate list size */
	int nprobe = 1;              /* IVF: lists probed */
	int rerank = 0;              /* IVF_PQ/IVF_SQ8: exactly re-rank k * rerank candidates (0: off);
									HNSW_SQ: re-rank batch * rerank candidates (0: its default) */
	int threads = 1;             /* search threads for batches of queries */
	double brute_force_ratio = -1;  /* allowed/total below which a filtered search is exact;
									   < 0: the measured default, DefaultBruteForceRatio */
	double two_hop_ratio = -1;   /* HNSW: allowed/total below which a filtered walk scores allowed
									rows only, through filtered neighbours; < 0: the default (0.25) */
	int two_hop_picks = 0;       /* HNSW: the walk's picks per element after which the second hop
									stops; 0: the layer-0 capacity (2m) */
	int layer1_width = 0;        /* HNSW: width of the layer-1 beam that seeds layer 0 (when the
									index searches with one); 0: ef_search */
	bool widen_probes = false;   /* float IVF kinds: when the probed lists hold fewer than min(k,
									allowed) allowed rows, probe the next lists in centroid order
									until they do (and never answer exactly because k >= allowed /
									2): the k rows an iterator's first batch of k returns, not
									Search's exact answer (the GPU worker answers scans so) */
	StopCallback should_stop = nullptr;
	void *stop_arg = nullptr;
};

// Neighbor is one result. distance is the kind's ordering score, smaller is
// closer: squared L2, negative inner product, cosine distance, L1, Hamming
// count or Jaccard distance.
struct Neighbor {
	int64_t label;
	float distance;
};

// Iterator returns an index's rows for one query in approximately increasing
// distance, batch by batch, never repeating a label, until every row the
// bitset allows has been returned.
class Iterator {
public:
	virtual ~Iterator() = default;
	// Next appends up to max_batch neighbours to out; appending none means
	// the iterator is exhausted.
	virtual Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept = 0;
};

// RowSource reads the full-precision rows of an index that keeps them apart
// from its own memory (KeepsRowsApart): the PostgreSQL side reads them from
// index pages. Rows are addressed by their position in the index's stored
// order (what SerializeRows wrote) and come back prepared (normalized under
// cosine), dim floats each. Read may be called from searches on several
// threads at once only if the source says so; the PostgreSQL side searches
// on one thread.
class RowSource {
public:
	virtual ~RowSource() = default;
	// Read writes rows ids[0 .. n-1] to out, row i at out + i * dim.
	virtual Status Read(const uint64_t *ids, size_t n, float *out) const noexcept = 0;
};

// Index is the interface of every index kind. Vectors are float32 rows of
// dim() elements, or packed bits for binary kinds. Labels are caller-chosen
// non-negative ids; the BitsetView of a search is indexed by label. Cosine
// indexes normalize at add and at query. Search, RangeSearch and
// CreateIterator may run concurrently on one index; Train, Build and Add may not.
class Index {
public:
	virtual ~Index() = default;

	// SetBuildControl installs the stop callback that Train, Build and Add poll
	// on the calling thread (between k-means steps, every few hundred rows);
	// when it says stop they return Cancelled. A cancelled or failed Train
	// leaves the index untrained; a cancelled Build or Add keeps the rows held
	// before plus a prefix of the batch (count() says how many). nullptr
	// removes the callback.
	virtual void SetBuildControl(StopCallback should_stop, void *stop_arg) noexcept {
		build_stop_ = should_stop;
		build_stop_arg_ = stop_arg;
	}
	// SetBuildProgress installs the callback that Build and Add call on the
	// calling thread as rows go in (at the same points as the stop callback);
	// nullptr removes it.
	virtual void SetBuildProgress(ProgressCallback progress, void *progress_arg) noexcept {
		build_progress_ = progress;
		build_progress_arg_ = progress_arg;
	}
	// SetRepairReach sets IndexConfig::repair_reach (1, 0 or -1) for later
	// Adds: a loaded index has it off (it is not serialized). Only the HNSW
	// kinds use it.
	virtual void SetRepairReach(int) noexcept {}

	virtual IndexKind kind() const noexcept = 0;
	virtual Metric metric() const noexcept = 0;
	virtual int dim() const noexcept = 0;
	// count returns the number of rows added.
	virtual int64_t count() const noexcept = 0;
	// MemoryUsage returns an estimate of the bytes the index holds.
	virtual size_t MemoryUsage() const noexcept = 0;

	// NeedsTraining reports whether Train must run before Add.
	virtual bool NeedsTraining() const noexcept { return false; }
	// Train learns the index's parameters (IVF centroids, PQ codebooks) from n rows.
	virtual Status Train(const void *vectors, size_t n) noexcept;
	// Build trains on the rows when needed, then adds them.
	virtual Status Build(const void *vectors, const int64_t *labels, size_t n) noexcept;
	// Add appends n rows with their labels.
	virtual Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept = 0;
	// AddSlice is how many rows a caller adding many should give one Add
	// (0: all of them): kinds whose Add holds per-call scratch the size of
	// the call (IVF assignment) want slices; HNSW wants one call, since its
	// Add keeps per-call state (the build memo) and polls and reports
	// progress within the call.
	virtual size_t AddSlice() const noexcept { return kDefaultAddSlice; }
	static constexpr size_t kDefaultAddSlice = 5000;

	// Search writes, for each of nq queries, k labels and distances in
	// increasing distance to labels[q * k ...] and distances[q * k ...];
	// missing results are label -1 and distance +infinity. When at least k
	// rows are allowed, k results are returned.
	virtual Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params,
						  BitsetView filter, int64_t *labels, float *distances) const noexcept = 0;
	// RangeSearch appends every allowed row with distance <= radius (the
	// kind's score), in increasing distance.
	virtual Status RangeSearch(const void *query, float radius, const SearchParams &params,
							   BitsetView filter, std::vector<Neighbor> *out) const noexcept = 0;
	// CreateIterator starts a resumable search for one query. The iterator
	// borrows the index, the query copy is its own, and the bitset must
	// outlive it.
	virtual Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
															   BitsetView filter) const noexcept = 0;

	// Reconstruct writes the stored vector of each of the n labels to out, row
	// i at out + i * RowBytes (dim floats, or (dim + 7) / 8 bytes of bits), as
	// the index holds it: normalized under cosine. A label the index does not
	// hold is InvalidArgument (out is then unspecified).
	virtual Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept = 0;

	// Serialize writes the index in the common framing (serialize.hpp: header,
	// the kind's 64-byte aligned sections, trailer with checksum).
	virtual Status Serialize(ByteWriter &writer) const noexcept = 0;

	// KeepsRowsApart reports whether the stored form (Serialize) holds only
	// compact codes, the full rows being written apart by SerializeRows and
	// read back through a RowSource (SetRowSource) to re-rank, Reconstruct
	// and RangeSearch. Only HNSW_SQ does.
	virtual bool KeepsRowsApart() const noexcept { return false; }
	// SerializeRows writes the prepared rows, dim floats each, in the order a
	// RowSource addresses them (NotSupported unless KeepsRowsApart).
	virtual Status SerializeRows(ByteWriter &) const noexcept {
		return Status::NotSupported("this index kind keeps its rows itself");
	}
	// SetRowSource gives a loaded index its rows (nullptr: none; searches then
	// return code distances, not re-ranked). The source must outlive the
	// index's searches and iterators.
	virtual Status SetRowSource(const RowSource *) noexcept {
		return Status::NotSupported("this index kind keeps its rows itself");
	}

	// DropBelow removes the rows labelled below first and relabels the rest
	// label - first, in place (no row is re-assigned or re-inserted). Kinds
	// that cannot answer NotSupported; any other failure leaves the index
	// unusable, to be discarded.
	virtual Status DropBelow(int64_t first) noexcept;

protected:
	// BuildStopRequested polls the build stop callback (calling thread only).
	bool BuildStopRequested() const noexcept { return build_stop_ != nullptr && build_stop_(build_stop_arg_); }
	// ReportProgress passes done of total rows to the progress callback, if any.
	void ReportProgress(uint64_t done, uint64_t total) const noexcept {
		if (build_progress_ != nullptr)
			build_progress_(build_progress_arg_, done, total);
	}

	StopCallback build_stop_ = nullptr;
	void *build_stop_arg_ = nullptr;
	ProgressCallback build_progress_ = nullptr;
	void *build_progress_arg_ = nullptr;
};

// ValidateConfig checks a config against the declared parameter ranges and the
// kind's own rules (metric supported, dim limits, pq_m divides dim).
Status ValidateConfig(const IndexConfig &config) noexcept;

// DefaultBruteForceRatio returns the allowed fraction below which a filtered
// search of an index built with config, holding rows rows (0: unknown), is
// exact when params.brute_force_ratio is negative: where exact search over
// the allowed rows stops being faster than the filtered search (measured
// with bench/engine through the iterator, docs/engine.md). HNSW:
// 4 * sqrt(ef_search / rows), at most 1 (0.08 at 100,000 rows and
// ef_search 40; 0.025 at 1,000,000, 0.072 there at ef_search 320). IVF kinds:
// nprobe / nlist, at most 1 (the filtered search probes nprobe / fraction
// lists, so below that fraction it probes every list anyway; 0.025 at nlist
// 316, nprobe 8). FLAT kinds are always exact: 1.
double DefaultBruteForceRatio(const IndexConfig &config, const SearchParams &params, size_t rows = 0) noexcept;

// ValidateSearch checks search parameters and k.
Status ValidateSearch(const SearchParams &params, size_t k) noexcept;

// EstimateMemory returns a realistic upper estimate of the bytes an index of
// config, built from n rows in one Build, holds (what MemoryUsage will say),
// so a caller can compare it with its memory budget before building. It is 0
// for an invalid config.
size_t EstimateMemory(const IndexConfig &config, size_t n) noexcept;

// CreateIndex returns an empty index of config.kind after ValidateConfig.
Expected<std::unique_ptr<Index>> CreateIndex(const IndexConfig &config) noexcept;

// DeserializeIndex reads an index written by Index::Serialize into the kind's
// own structures, streaming through the reader's chunks; a truncated or
// corrupt stream returns Corrupt, never crashes. Format 2 streams are Corrupt
// ("index format 2 is no longer supported; REINDEX").
Expected<std::unique_ptr<Index>> DeserializeIndex(ByteReader &reader) noexcept;

// kIndexViewAlign is the alignment OpenIndexView requires of its bytes.
constexpr size_t kIndexViewAlign = 64;

// VerifyIndexBytes checks a serialized index's framing and checksum (one pass
// over the bytes).
Status VerifyIndexBytes(const void *data, size_t size) noexcept;

// OpenIndexView returns a read-only Index that searches the serialized bytes
// in place. data must be 64-byte aligned (else InvalidArgument) and stay
// valid and unchanged while the view (and its iterators) live. With verify it
// first runs VerifyIndexBytes; without it only O(1) / O(sections) structural
// checks run (the caller verified the bytes once when it loaded them). A kind
// without a view returns NotSupported (the caller then falls back to
// DeserializeIndex over a MemoryReader). Truncated or inconsistent bytes
// return Corrupt, never crash; a view never reads outside [data, data + size),
// even over checksum-valid but inconsistent bytes. Train, Build and Add of a
// view return NotSupported; Serialize copies the bytes out; MemoryUsage counts
// the view's private memory only. Views are safe for concurrent searches.
Expected<std::unique_ptr<Index>> OpenIndexView(const void *data, size_t size, bool verify) noexcept;

}  // namespace vecdb::knowhere
