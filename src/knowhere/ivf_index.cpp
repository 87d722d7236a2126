// ivf_index.cpp implements the inverted-file index kinds IVF_FLAT, IVF_PQ,
// IVF_SQ8 (FAISS IndexIVF*) and BIN_IVF (FAISS IndexBinaryIVF) behind the
// engine's Index interface.
//
// Design notes.
//
// Storage. FAISS holds the coarse quantizer (an IndexFlatL2/IP or
// IndexBinaryFlat owned by the IVF index), the inverted lists and the codes;
// the caller's int64 labels go into the lists with add_with_ids. Beside it we
// keep every row's exact vector (normalized for cosine) in add order, the
// labels in the same order and a label -> row map. The raw store serves exact
// re-ranking (SearchParams.rerank), brute force over the allowed rows of a
// selective filter, the iterator and range search. Labels must be unique.
//
// Scores. L2: squared L2. IP: FAISS returns similarities, we negate them.
// Cosine: vectors are normalized at add and query, FAISS searches by inner
// product and the score is 1 - similarity (cosine distance); a zero vector is
// InvalidArgument. BIN_IVF: Hamming count; dim must be a multiple of 8.
//
// Filtered search. Let f = allowed rows / rows. When f < brute_force_ratio or
// k >= allowed / 2 the allowed rows are searched exactly (brute force over the
// raw store). Otherwise the search probes nprobe' = min(nlist, ceil(nprobe / f))
// lists (a 10% filter probes ten times as many lists) through a
// faiss::IDSelector over the bitset in SearchParametersIVF. FAISS results are
// re-checked against the bitset, and a query that comes back with fewer than
// k results while at least k rows are allowed is answered by brute force, so
// k allowed rows always give k results. BIN_IVF scans the probed lists itself
// (exact Hamming over the raw store): FAISS 1.7.3's binary IVF does not take a
// selector.
//
// Iterator and range search scan inverted lists in order of centroid
// distance, scoring each list's allowed rows exactly from the raw store. The
// iterator's first batch probes nprobe' lists (all lists when the filter is
// below brute_force_ratio), so with IVF_FLAT its first batch is Search's
// answer; later batches scan further lists until the pool holds a batch, and
// it ends when every list has been scanned and the pool is empty. Range
// search returns the rows within radius among nprobe' lists (all lists when
// the filter is below brute_force_ratio): it is as approximate as Search.
//
// Serialization (after the common header): u64 payload length, u32 FNV-1a of
// the payload, payload = build fields, labels, raw vectors and the FAISS blob
// (faiss::write_index into memory). The checksum is verified before any byte
// reaches faiss::read_index, whose size fields could otherwise make it
// allocate absurdly or assert; the payload is read in 1 MB chunks so a
// corrupt length cannot become one huge allocation.
//
// Training: nlist (and 2^nbits for IVF_PQ) rows at least, else
// InvalidArgument. FAISS' "please provide at least 39 * k points" warning
// (written to stderr, i.e. the server log) is silenced by setting
// min_points_per_centroid to 1; sampling above 256 points per centroid stays.
// A FAISS exception in the middle of Add leaves the index inconsistent: the
// caller drops it (Add is never retried on the same object).
//
// Threads: Train, Add and Search set OpenMP's thread count for the call only
// (config.threads, SearchParams.threads; default 1) and restore it after.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include "knowhere/distance.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::engine {

namespace {

using idx_t = faiss::Index::idx_t;

// kQueryChunk is the number of queries handed to FAISS at once between two
// polls of the stop callback; kPollRows is the brute-force poll interval.
constexpr size_t kQueryChunk = 32;
constexpr size_t kPollRows = 4096;
constexpr size_t kReadChunk = 1 << 20;
constexpr float kInf = std::numeric_limits<float>::infinity();

// OmpThreads sets OpenMP's thread count for one scope and restores it after.
class OmpThreads {
public:
	explicit OmpThreads(int n) noexcept : saved_(omp_get_max_threads()) { omp_set_num_threads(std::max(1, n)); }
	~OmpThreads() { omp_set_num_threads(saved_); }

private:
	int saved_;
};

// BitsetSelector adapts a BitsetView (set bit: filtered out) to FAISS' IDSelector.
struct BitsetSelector final : faiss::IDSelector {
	explicit BitsetSelector(BitsetView v) : view(v) {}
	bool is_member(idx_t id) const override { return !view.test(id); }
	BitsetView view;
};

// Fnv1a returns the 32-bit FNV-1a hash of n bytes.
uint32_t Fnv1a(const uint8_t *p, size_t n) noexcept {
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

// ByDistance orders neighbours by distance, then label (deterministic ties).
bool ByDistance(const Neighbor &a, const Neighbor &b) noexcept {
	return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
}

// WorseFirst orders a max-heap of neighbours by distance (worst on top).
struct WorseFirst {
	bool operator()(const Neighbor &a, const Neighbor &b) const noexcept { return ByDistance(a, b); }
};

// BetterFirst orders a min-heap of neighbours by distance (best on top).
struct BetterFirst {
	bool operator()(const Neighbor &a, const Neighbor &b) const noexcept { return ByDistance(b, a); }
};

// TopK keeps the k smallest neighbours pushed into it.
class TopK {
public:
	explicit TopK(size_t k) : k_(k) {}
	// Push offers one neighbour.
	void Push(Neighbor n) {
		if (heap_.size() < k_) {
			heap_.push(n);
		} else if (ByDistance(n, heap_.top())) {
			heap_.pop();
			heap_.push(n);
		}
	}
	// Sorted drains the kept neighbours in increasing distance.
	std::vector<Neighbor> Sorted() {
		std::vector<Neighbor> out(heap_.size());
		for (size_t i = out.size(); i > 0; i--) {
			out[i - 1] = heap_.top();
			heap_.pop();
		}
		return out;
	}

private:
	size_t k_;
	std::priority_queue<Neighbor, std::vector<Neighbor>, WorseFirst> heap_;
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
};

// IvfIndex is the engine index over a FAISS IVF or binary IVF index.
class IvfIndex final : public Index {
public:
	explicit IvfIndex(const IndexConfig &config) : config_(config), binary_(IsBinaryKind(config.kind)) {}

	// Init creates the empty FAISS index of the configured kind.
	Status Init() noexcept;

	IndexKind kind() const noexcept override { return config_.kind; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return static_cast<int64_t>(labels_.size()); }
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
	Status Serialize(ByteWriter &writer) const noexcept override;

	// Load reads the payload written by Serialize after the common header.
	Status Load(const IndexHeader &header, ByteReader &reader);

	// ScanList pushes the allowed rows of list list_no, scored exactly, to sink.
	template <typename Sink>
	void ScanList(idx_t list_no, const float *qf, const uint8_t *qb, BitsetView filter, Sink &&sink) const;
	// ListOrder returns up to n list numbers in increasing centroid distance.
	std::vector<idx_t> ListOrder(const float *qf, const uint8_t *qb, size_t n) const;
	// Poll reports whether the caller asked to stop.
	static bool Poll(const SearchParams &p) noexcept { return p.should_stop != nullptr && p.should_stop(p.stop_arg); }

private:
	friend class IvfIterator;

	size_t RowBytes() const noexcept { return binary_ ? static_cast<size_t>(config_.dim) / 8 : 0; }
	size_t nlist() const noexcept { return static_cast<size_t>(config_.nlist); }
	const faiss::InvertedLists *Lists() const noexcept { return binary_ ? bin_->invlists : ivf_->invlists; }
	// ScoreRow returns the exact score of stored row r against a prepared query.
	float ScoreRow(size_t r, const float *qf, const uint8_t *qb) const noexcept;
	// FromFaiss converts a FAISS float distance into the kind's score.
	float FromFaiss(float d) const noexcept;
	// PrepareQueries validates queries and returns them ready for searching.
	Status PrepareFloat(const void *in, size_t n, bool is_query, std::vector<float> *out) const;
	// CountAllowed returns the number of stored rows the filter lets through.
	size_t CountAllowed(BitsetView filter) const noexcept;
	// EffectiveProbes returns the widened nprobe for an allowed fraction.
	size_t EffectiveProbes(const SearchParams &p, size_t allowed) const noexcept;
	// BruteForce writes the exact top k allowed rows for one prepared query.
	Status BruteForce(const float *qf, const uint8_t *qb, size_t k, const SearchParams &p, BitsetView filter,
					  int64_t *labels, float *distances) const;
	// ScanProbes writes the top k over the first nprobe lists, scored exactly.
	Status ScanProbes(const float *qf, const uint8_t *qb, size_t k, size_t nprobe, const SearchParams &p,
					  BitsetView filter, int64_t *labels, float *distances) const;
	Status SearchImpl(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
					  int64_t *labels, float *distances) const;
	Status AddImpl(const void *vectors, const int64_t *labels, size_t n);
	Status TrainImpl(const void *vectors, size_t n);
	Status SerializeImpl(ByteWriter &writer) const;

	IndexConfig config_;
	bool binary_;
	bool trained_ = false;
	std::unique_ptr<faiss::IndexIVF> ivf_;
	std::unique_ptr<faiss::IndexBinaryIVF> bin_;
	std::vector<float> raw_f_;
	std::vector<uint8_t> raw_b_;
	std::vector<int64_t> labels_;
	std::unordered_map<int64_t, size_t> rows_;
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
			return Status::Ok();
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
		return Status::Ok();
	});
}

// MemoryUsage adds the raw store, labels, map, centroids and list codes.
size_t IvfIndex::MemoryUsage() const noexcept {
	size_t n = labels_.size();
	size_t bytes = raw_f_.size() * sizeof(float) + raw_b_.size() + n * sizeof(int64_t) + n * 32;
	const faiss::InvertedLists *lists = Lists();
	if (lists != nullptr)
		bytes += n * (lists->code_size + sizeof(idx_t)) + nlist() * 32;
	bytes += binary_ ? nlist() * RowBytes() : nlist() * static_cast<size_t>(config_.dim) * sizeof(float);
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

// ScoreRow computes the kind's exact score of row r.
float IvfIndex::ScoreRow(size_t r, const float *qf, const uint8_t *qb) const noexcept {
	if (binary_)
		return static_cast<float>(HammingBits(qb, raw_b_.data() + r * RowBytes(), RowBytes()));
	const float *v = raw_f_.data() + r * static_cast<size_t>(config_.dim);
	size_t d = static_cast<size_t>(config_.dim);
	switch (config_.metric) {
		case Metric::kL2:
			return L2SqrF32(qf, v, d);
		case Metric::kInnerProduct:
			return -InnerProductF32(qf, v, d);
		default:
			return 1.0f - InnerProductF32(qf, v, d);
	}
}

// PrepareFloat checks that rows are finite (and, for cosine, non-zero) and
// copies them, normalized for cosine.
Status IvfIndex::PrepareFloat(const void *in, size_t n, bool is_query, std::vector<float> *out) const {
	size_t d = static_cast<size_t>(config_.dim);
	const float *x = static_cast<const float *>(in);
	out->assign(x, x + n * d);
	for (size_t i = 0; i < n; i++) {
		float *row = out->data() + i * d;
		double norm = 0;
		for (size_t j = 0; j < d; j++) {
			if (!std::isfinite(row[j]))
				return Status::InvalidArgument(is_query ? "query vector must not contain NaN or infinity"
														: "vector must not contain NaN or infinity");
			norm += static_cast<double>(row[j]) * row[j];
		}
		if (config_.metric == Metric::kCosine) {
			if (norm == 0)
				return Status::InvalidArgument("zero vector has no direction under cosine distance");
			float inv = static_cast<float>(1.0 / std::sqrt(norm));
			for (size_t j = 0; j < d; j++)
				row[j] *= inv;
		}
	}
	return Status::Ok();
}

// CountAllowed counts stored rows whose labels the filter does not exclude.
size_t IvfIndex::CountAllowed(BitsetView filter) const noexcept {
	if (filter.empty())
		return labels_.size();
	size_t n = 0;
	for (int64_t l : labels_)
		n += !filter.test(l);
	return n;
}

// EffectiveProbes widens nprobe by the inverse of the allowed fraction.
size_t IvfIndex::EffectiveProbes(const SearchParams &p, size_t allowed) const noexcept {
	double f = labels_.empty() ? 1.0 : static_cast<double>(allowed) / static_cast<double>(labels_.size());
	double probes = f > 0 ? std::ceil(static_cast<double>(p.nprobe) / f) : static_cast<double>(nlist());
	return static_cast<size_t>(std::clamp(probes, 1.0, static_cast<double>(nlist())));
}

// ListOrder ranks the centroids by distance to the query with the quantizer.
std::vector<idx_t> IvfIndex::ListOrder(const float *qf, const uint8_t *qb, size_t n) const {
	n = std::min(n, nlist());
	std::vector<idx_t> order(n, -1);
	if (binary_) {
		std::vector<int32_t> dist(n);
		bin_->quantizer->search(1, qb, static_cast<idx_t>(n), dist.data(), order.data());
	} else {
		std::vector<float> dist(n);
		ivf_->quantizer->search(1, qf, static_cast<idx_t>(n), dist.data(), order.data());
	}
	order.erase(std::remove_if(order.begin(), order.end(),
							   [&](idx_t l) { return l < 0 || static_cast<size_t>(l) >= nlist(); }),
				order.end());
	return order;
}

// ScanList scores the allowed rows of one inverted list from the raw store.
template <typename Sink>
void IvfIndex::ScanList(idx_t list_no, const float *qf, const uint8_t *qb, BitsetView filter, Sink &&sink) const {
	const faiss::InvertedLists *lists = Lists();
	size_t size = lists->list_size(list_no);
	if (size == 0)
		return;
	faiss::InvertedLists::ScopedIds ids(lists, list_no);
	for (size_t i = 0; i < size; i++) {
		int64_t label = ids[i];
		if (filter.test(label))
			continue;
		auto it = rows_.find(label);
		if (it == rows_.end())
			continue;
		sink(Neighbor{label, ScoreRow(it->second, qf, qb)});
	}
}

// BruteForce scores every allowed stored row exactly.
Status IvfIndex::BruteForce(const float *qf, const uint8_t *qb, size_t k, const SearchParams &p, BitsetView filter,
							int64_t *labels, float *distances) const {
	TopK top(k);
	for (size_t r = 0; r < labels_.size(); r++) {
		if (r % kPollRows == kPollRows - 1 && Poll(p))
			return Status::Cancelled();
		if (filter.test(labels_[r]))
			continue;
		top.Push(Neighbor{labels_[r], ScoreRow(r, qf, qb)});
	}
	std::vector<Neighbor> best = top.Sorted();
	for (size_t i = 0; i < k; i++) {
		labels[i] = i < best.size() ? best[i].label : -1;
		distances[i] = i < best.size() ? best[i].distance : kInf;
	}
	return Status::Ok();
}

// ScanProbes scores the allowed rows of the nprobe nearest lists exactly.
Status IvfIndex::ScanProbes(const float *qf, const uint8_t *qb, size_t k, size_t nprobe, const SearchParams &p,
							BitsetView filter, int64_t *labels, float *distances) const {
	TopK top(k);
	for (idx_t list_no : ListOrder(qf, qb, nprobe)) {
		if (Poll(p))
			return Status::Cancelled();
		ScanList(list_no, qf, qb, filter, [&](Neighbor n) { top.Push(n); });
	}
	std::vector<Neighbor> best = top.Sorted();
	for (size_t i = 0; i < k; i++) {
		labels[i] = i < best.size() ? best[i].label : -1;
		distances[i] = i < best.size() ? best[i].distance : kInf;
	}
	return Status::Ok();
}

// Train validates the training rows and runs FAISS' k-means.
Status IvfIndex::Train(const void *vectors, size_t n) noexcept {
	return Catching("training an IVF index", [&] { return TrainImpl(vectors, n); });
}

// TrainImpl checks row counts up front: FAISS would warn or throw.
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
	if (!labels_.empty())
		return Status::InvalidArgument("cannot train an IVF index that already holds rows");
	OmpThreads threads(config_.threads);
	if (binary_) {
		bin_->train(static_cast<idx_t>(n), static_cast<const uint8_t *>(vectors));
	} else {
		std::vector<float> x;
		VECDB_RETURN_IF_ERROR(PrepareFloat(vectors, n, false, &x));
		ivf_->train(static_cast<idx_t>(n), x.data());
	}
	trained_ = true;
	return Status::Ok();
}

// Add validates labels and rows, then adds them to FAISS and the raw store.
Status IvfIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	return Catching("adding to an IVF index", [&] { return AddImpl(vectors, labels, n); });
}

// AddImpl refuses untrained indexes, negative and duplicate labels.
Status IvfIndex::AddImpl(const void *vectors, const int64_t *labels, size_t n) {
	if (n == 0)
		return Status::Ok();
	if (!trained_)
		return Status::InvalidArgument("IVF index must be trained before rows are added");
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors or labels missing");
	std::unordered_map<int64_t, size_t> fresh;
	fresh.reserve(n);
	for (size_t i = 0; i < n; i++) {
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative");
		if (rows_.count(labels[i]) != 0 || !fresh.emplace(labels[i], labels_.size() + i).second)
			return Status::InvalidArgument("duplicate label " + std::to_string(labels[i]));
	}
	OmpThreads threads(config_.threads);
	if (binary_) {
		const uint8_t *x = static_cast<const uint8_t *>(vectors);
		raw_b_.reserve(raw_b_.size() + n * RowBytes());
		labels_.reserve(labels_.size() + n);
		bin_->add_with_ids(static_cast<idx_t>(n), x, labels);
		raw_b_.insert(raw_b_.end(), x, x + n * RowBytes());
	} else {
		std::vector<float> x;
		VECDB_RETURN_IF_ERROR(PrepareFloat(vectors, n, false, &x));
		raw_f_.reserve(raw_f_.size() + x.size());
		labels_.reserve(labels_.size() + n);
		ivf_->add_with_ids(static_cast<idx_t>(n), x.data(), labels);
		raw_f_.insert(raw_f_.end(), x.begin(), x.end());
	}
	labels_.insert(labels_.end(), labels, labels + n);
	rows_.merge(fresh);
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
	std::vector<float> qf;
	const uint8_t *qb = static_cast<const uint8_t *>(queries);
	size_t d = static_cast<size_t>(config_.dim);
	if (!binary_)
		VECDB_RETURN_IF_ERROR(PrepareFloat(queries, nq, true, &qf));
	size_t allowed = CountAllowed(filter);
	std::fill(labels, labels + nq * k, -1);
	std::fill(distances, distances + nq * k, kInf);
	if (allowed == 0 || !trained_)
		return Status::Ok();
	double f = static_cast<double>(allowed) / static_cast<double>(labels_.size());
	bool brute = f < p.brute_force_ratio || k >= allowed / 2;
	size_t nprobe = EffectiveProbes(p, allowed);
	OmpThreads threads(p.threads);
	if (brute || binary_) {
		for (size_t q = 0; q < nq; q++) {
			if (Poll(p))
				return Status::Cancelled();
			const float *qfq = binary_ ? nullptr : qf.data() + q * d;
			const uint8_t *qbq = binary_ ? qb + q * RowBytes() : nullptr;
			if (brute)
				VECDB_RETURN_IF_ERROR(BruteForce(qfq, qbq, k, p, filter, labels + q * k, distances + q * k));
			else
				VECDB_RETURN_IF_ERROR(
					ScanProbes(qfq, qbq, k, nprobe, p, filter, labels + q * k, distances + q * k));
			if (labels[q * k + std::min(k, allowed) - 1] < 0)
				VECDB_RETURN_IF_ERROR(BruteForce(qfq, qbq, k, p, filter, labels + q * k, distances + q * k));
		}
		return Status::Ok();
	}
	bool lossy = config_.kind != IndexKind::kIvfFlat;
	size_t kk = lossy && p.rerank > 0 ? k * static_cast<size_t>(p.rerank) : k;
	BitsetSelector selector(filter);
	faiss::SearchParametersIVF sp;
	sp.nprobe = nprobe;
	sp.sel = filter.empty() ? nullptr : &selector;
	std::vector<float> fd;
	std::vector<idx_t> fl;
	for (size_t q0 = 0; q0 < nq; q0 += kQueryChunk) {
		if (Poll(p))
			return Status::Cancelled();
		size_t n = std::min(kQueryChunk, nq - q0);
		fd.assign(n * kk, 0);
		fl.assign(n * kk, -1);
		ivf_->search(static_cast<idx_t>(n), qf.data() + q0 * d, static_cast<idx_t>(kk), fd.data(), fl.data(), &sp);
		for (size_t i = 0; i < n; i++) {
			size_t q = q0 + i;
			const float *qq = qf.data() + q * d;
			std::vector<Neighbor> cand;
			for (size_t j = 0; j < kk; j++) {
				int64_t l = fl[i * kk + j];
				if (l < 0 || filter.test(l))
					continue;
				if (kk != k) {
					auto it = rows_.find(l);
					if (it != rows_.end())
						cand.push_back(Neighbor{l, ScoreRow(it->second, qq, nullptr)});
				} else {
					cand.push_back(Neighbor{l, FromFaiss(fd[i * kk + j])});
				}
			}
			std::sort(cand.begin(), cand.end(), ByDistance);
			if (cand.size() < std::min(k, allowed)) {
				VECDB_RETURN_IF_ERROR(BruteForce(qq, nullptr, k, p, filter, labels + q * k, distances + q * k));
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
		std::vector<float> qf;
		const uint8_t *qb = static_cast<const uint8_t *>(query);
		if (!binary_)
			VECDB_RETURN_IF_ERROR(PrepareFloat(query, 1, true, &qf));
		size_t allowed = CountAllowed(filter);
		if (allowed == 0 || !trained_)
			return Status::Ok();
		double f = static_cast<double>(allowed) / static_cast<double>(labels_.size());
		size_t nprobe = f < params.brute_force_ratio ? nlist() : EffectiveProbes(params, allowed);
		std::vector<Neighbor> found;
		for (idx_t list_no : ListOrder(binary_ ? nullptr : qf.data(), qb, nprobe)) {
			if (Poll(params))
				return Status::Cancelled();
			ScanList(list_no, binary_ ? nullptr : qf.data(), qb, filter, [&](Neighbor n) {
				if (n.distance <= radius)
					found.push_back(n);
			});
		}
		std::sort(found.begin(), found.end(), ByDistance);
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
		if (binary_) {
			const uint8_t *b = static_cast<const uint8_t *>(query);
			qb.assign(b, b + RowBytes());
		} else {
			VECDB_RETURN_IF_ERROR(PrepareFloat(query, 1, true, &qf));
		}
		std::vector<idx_t> order;
		size_t first = 0;
		size_t allowed = CountAllowed(filter);
		if (trained_ && allowed > 0) {
			order = ListOrder(qf.data(), qb.data(), nlist());
			double f = static_cast<double>(allowed) / static_cast<double>(labels_.size());
			first = f < params.brute_force_ratio ? nlist() : EffectiveProbes(params, allowed);
		}
		it = std::make_unique<IvfIterator>(this, std::move(qf), std::move(qb), std::move(order), first, params,
										   filter);
		return Status::Ok();
	});
	if (!s.ok())
		return s;
	return it;
}

// Next scans lists until the pool holds a batch (or none are left) and pops it.
Status IvfIterator::Next(size_t max_batch, std::vector<Neighbor> *out) noexcept {
	if (out == nullptr)
		return Status::InvalidArgument("result missing");
	return Catching("iterating an IVF index", [&]() -> Status {
		const float *qf = query_f_.empty() ? nullptr : query_f_.data();
		const uint8_t *qb = query_b_.empty() ? nullptr : query_b_.data();
		auto scan = [&]() -> Status {
			if (IvfIndex::Poll(params_))
				return Status::Cancelled();
			index_->ScanList(list_order_[next_list_++], qf, qb, filter_, [&](Neighbor n) { pool_.push(n); });
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

// SerializeImpl assembles the payload in memory to checksum it.
Status IvfIndex::SerializeImpl(ByteWriter &writer) const {
	StringWriter payload;
	int32_t fields[4] = {config_.nlist, config_.pq_m, config_.nbits, config_.threads};
	VECDB_RETURN_IF_ERROR(payload.Write(fields, sizeof(fields)));
	VECDB_RETURN_IF_ERROR(WritePod(payload, config_.seed));
	VECDB_RETURN_IF_ERROR(WritePod(payload, static_cast<uint8_t>(trained_)));
	VECDB_RETURN_IF_ERROR(WriteArray(payload, labels_.data(), labels_.size()));
	if (binary_)
		VECDB_RETURN_IF_ERROR(WriteArray(payload, raw_b_.data(), raw_b_.size()));
	else
		VECDB_RETURN_IF_ERROR(WriteArray(payload, raw_f_.data(), raw_f_.size()));
	faiss::VectorIOWriter blob;
	if (binary_)
		faiss::write_index_binary(bin_.get(), &blob);
	else
		faiss::write_index(ivf_.get(), &blob);
	VECDB_RETURN_IF_ERROR(WriteArray(payload, blob.data.data(), blob.data.size()));
	const std::string &bytes = payload.bytes();
	VECDB_RETURN_IF_ERROR(WriteHeader(writer, *this));
	VECDB_RETURN_IF_ERROR(WritePod(writer, static_cast<uint64_t>(bytes.size())));
	VECDB_RETURN_IF_ERROR(WritePod(writer, Fnv1a(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size())));
	return writer.Write(bytes.data(), bytes.size());
}

// Load verifies the checksum, then parses and cross-checks every field.
Status IvfIndex::Load(const IndexHeader &h, ByteReader &reader) {
	uint64_t len = 0;
	uint32_t sum = 0;
	VECDB_RETURN_IF_ERROR(ReadPod(reader, &len));
	VECDB_RETURN_IF_ERROR(ReadPod(reader, &sum));
	std::vector<uint8_t> bytes;
	while (bytes.size() < len) {
		size_t chunk = static_cast<size_t>(std::min<uint64_t>(kReadChunk, len - bytes.size()));
		size_t at = bytes.size();
		bytes.resize(at + chunk);
		VECDB_RETURN_IF_ERROR(reader.Read(bytes.data() + at, chunk));
	}
	if (Fnv1a(bytes.data(), bytes.size()) != sum)
		return Status::Corrupt("IVF index checksum mismatch");
	MemoryReader r(bytes.data(), bytes.size());
	int32_t fields[4];
	uint8_t trained = 0;
	VECDB_RETURN_IF_ERROR(r.Read(fields, sizeof(fields)));
	VECDB_RETURN_IF_ERROR(ReadPod(r, &config_.seed));
	VECDB_RETURN_IF_ERROR(ReadPod(r, &trained));
	config_.nlist = fields[0];
	config_.pq_m = fields[1];
	config_.nbits = fields[2];
	config_.threads = fields[3];
	if (!ValidateConfig(config_).ok() || trained > 1)
		return Status::Corrupt("IVF index parameters out of range");
	uint64_t n = static_cast<uint64_t>(h.count);
	size_t row = binary_ ? RowBytes() : static_cast<size_t>(config_.dim);
	VECDB_RETURN_IF_ERROR(ReadArray(r, &labels_, r.remaining() / sizeof(int64_t)));
	if (binary_)
		VECDB_RETURN_IF_ERROR(ReadArray(r, &raw_b_, r.remaining()));
	else
		VECDB_RETURN_IF_ERROR(ReadArray(r, &raw_f_, r.remaining() / sizeof(float)));
	if (labels_.size() != n || (binary_ ? raw_b_.size() : raw_f_.size()) != n * row)
		return Status::Corrupt("IVF index row count mismatch");
	for (size_t i = 0; i < labels_.size(); i++)
		if (labels_[i] < 0 || !rows_.emplace(labels_[i], i).second)
			return Status::Corrupt("IVF index holds a bad or duplicate label");
	faiss::VectorIOReader blob;
	VECDB_RETURN_IF_ERROR(ReadArray(r, &blob.data, r.remaining()));
	if (r.remaining() != 0)
		return Status::Corrupt("IVF index has trailing bytes");
	trained_ = trained != 0;
	const faiss::InvertedLists *lists = nullptr;
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
		lists = b->invlists;
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
		lists = ivf->invlists;
		ntotal = ivf->ntotal;
	}
	if (lists == nullptr || ntotal != h.count || lists->nlist != nlist())
		return Status::Corrupt("IVF index payload does not match its header");
	size_t listed = 0;
	for (size_t l = 0; l < lists->nlist; l++) {
		size_t size = lists->list_size(l);
		listed += size;
		if (size == 0)
			continue;
		faiss::InvertedLists::ScopedIds ids(lists, l);
		for (size_t i = 0; i < size; i++)
			if (rows_.count(ids[i]) == 0)
				return Status::Corrupt("IVF index lists name an unknown label");
	}
	if (listed != n)
		return Status::Corrupt("IVF index lists do not hold every row");
	return Status::Ok();
}

}  // namespace

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
Expected<std::unique_ptr<Index>> LoadIvfIndex(const IndexHeader &header, ByteReader &reader) noexcept {
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

}  // namespace vecdb::engine
