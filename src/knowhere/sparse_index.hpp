// sparse_index.hpp declares the engine's interface for sparse vectors (any
// dimension count, any number of non-zeros per row): SPARSE_INVERTED, an
// inverted index searched exactly or with WAND pruning.
//
// Sparse rows have no fixed size, so they do not pass through Index (whose
// Add and Search take rows of dim() floats). SparseIndex is its own small
// interface on the same conventions: caller-chosen non-negative int64
// labels, a BitsetView by label where a set bit means filtered out, Neighbor
// results ordered by (distance, label), Iterator for resumable scans, the
// common serialized framing (serialize.hpp) and noexcept calls returning
// Status / Expected<T>. A row is a SparseRow: pointers to its indices
// (strictly increasing, in [0, dim)) and values (finite), as pgvector's
// sparsevec stores them, so the access method passes datums without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "knowhere/bitset_view.hpp"
#include "knowhere/byte_stream.hpp"
#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// kMaxSparseDim bounds a sparse index's dimensions (pgvector's sparsevec limit).
constexpr int kMaxSparseDim = 1000000000;

// SparseRow is a borrowed sparse vector: nnz indices, strictly increasing in
// [0, dim), and their nnz values. nnz may be 0 (a zero vector).
struct SparseRow {
	const int32_t *indices = nullptr;
	const float *values = nullptr;
	uint32_t nnz = 0;
};

// SparseAlgorithm chooses how Search finds the top k. Both are exact for a
// query whose terms are all kept (drop_ratio 0); L2 always runs kExact.
// kExact is the default: on the SPLADE-like benchmark (bench/README.md) it
// ran 10-35x faster than WAND, whose per-list bounds pruned little there.
enum class SparseAlgorithm : int {
	kExact = 0,  /* term at a time: every posting of every query term is scored */
	kWand = 1,   /* document at a time, WAND: rows whose upper bound cannot enter the top k are skipped */
};

// SparseSearchParams holds a sparse search's per-call knobs.
struct SparseSearchParams {
	SparseAlgorithm algorithm = SparseAlgorithm::kExact;
	// drop_ratio in [0, 1): the fraction of the query's terms, smallest
	// |value| first, that the search ignores (Milvus' drop_ratio_search); at
	// least one term is kept. Above 0 results are approximate.
	float drop_ratio = 0;
	// refine >= 1 with drop_ratio > 0: the top k * refine rows found with the
	// kept terms are re-scored with the whole query (0: no re-scoring).
	int refine = 0;
	// brute_force_ratio in [0, 1]: allowed / total up to which a filtered
	// search scores the allowed rows directly instead of walking lists;
	// < 0: the default, by cost (allowed rows' non-zeros against the postings
	// of the query's lists).
	double brute_force_ratio = -1;
	StopCallback should_stop = nullptr;
	void *stop_arg = nullptr;
};

// kMaxSparseRefine bounds SparseSearchParams::refine.
constexpr int kMaxSparseRefine = 100;

// ValidateSparseSearch checks k and the ranges of a sparse search's parameters.
Status ValidateSparseSearch(const SparseSearchParams &params, size_t k) noexcept;

// SparseIndex is the interface of sparse index kinds. Distances are the
// kind's ordering score, smaller is closer: negative inner product, cosine
// distance (rows and queries normalized, as Index does) or squared L2.
// Search and CreateIterator may run concurrently; Add may not.
class SparseIndex {
public:
	virtual ~SparseIndex() = default;

	// SetBuildControl installs the stop callback Add polls every few thousand
	// rows (nullptr removes it); a cancelled Add keeps no row of its batch.
	void SetBuildControl(StopCallback should_stop, void *stop_arg) noexcept {
		build_stop_ = should_stop;
		build_stop_arg_ = stop_arg;
	}
	// SetBuildProgress installs the callback Add reports rows done of total to.
	void SetBuildProgress(ProgressCallback progress, void *progress_arg) noexcept {
		build_progress_ = progress;
		build_progress_arg_ = progress_arg;
	}

	virtual IndexKind kind() const noexcept = 0;
	virtual Metric metric() const noexcept = 0;
	// dim returns the number of dimensions (indices are below it).
	virtual int dim() const noexcept = 0;
	// count returns the number of rows added.
	virtual int64_t count() const noexcept = 0;
	// nnz returns the number of non-zeros stored over all rows.
	virtual uint64_t nnz() const noexcept = 0;
	// MemoryUsage returns an estimate of the bytes the index holds.
	virtual size_t MemoryUsage() const noexcept = 0;

	// Add appends n rows with their labels; a bad row (indices not strictly
	// increasing or out of range, a value not finite, a zero row under
	// cosine) is InvalidArgument and leaves the index as it was.
	virtual Status Add(const SparseRow *rows, const int64_t *labels, size_t n) noexcept = 0;

	// Search writes, for each of nq queries, k labels and distances in
	// increasing (distance, label) order to labels[q * k ...] and
	// distances[q * k ...]; missing results are label -1 and distance
	// +infinity. When at least k rows are allowed, k results are returned
	// (rows sharing no term with the query score 0 and fill the rest).
	virtual Status Search(const SparseRow *queries, size_t nq, size_t k, const SparseSearchParams &params,
						  BitsetView filter, int64_t *labels, float *distances) const noexcept = 0;

	// CreateIterator starts an exact resumable search for one query (all of
	// its terms): every allowed row is returned once, in increasing
	// (distance, label) order. It scores the query's postings once at
	// creation. The iterator borrows the index; the bitset must outlive it.
	virtual Expected<std::unique_ptr<Iterator>> CreateIterator(const SparseRow &query,
															   const SparseSearchParams &params,
															   BitsetView filter) const noexcept = 0;

	// GetRow points *row at the stored row of label (normalized under
	// cosine), valid until the index changes or is destroyed. A label the
	// index does not hold is InvalidArgument.
	virtual Status GetRow(int64_t label, SparseRow *row) const noexcept = 0;

	// Serialize writes the index in the common framing (serialize.hpp).
	virtual Status Serialize(ByteWriter &writer) const noexcept = 0;

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

// CreateSparseIndex returns an empty sparse index of config.kind
// (SPARSE_INVERTED; metric L2, inner product or cosine; dim up to
// kMaxSparseDim) after ValidateConfig.
Expected<std::unique_ptr<SparseIndex>> CreateSparseIndex(const IndexConfig &config) noexcept;

// DeserializeSparseIndex reads an index written by SparseIndex::Serialize;
// truncated or corrupt bytes return Corrupt, never crash. A stream of a dense
// kind is InvalidArgument (read it with DeserializeIndex).
Expected<std::unique_ptr<SparseIndex>> DeserializeSparseIndex(ByteReader &reader) noexcept;

// EstimateSparseMemory returns about what MemoryUsage says after adding n
// rows holding nnz non-zeros in all, in one Add.
size_t EstimateSparseMemory(size_t n, uint64_t nnz) noexcept;

}  // namespace vecdb::knowhere
