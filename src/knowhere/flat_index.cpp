// flat_index.cpp implements FLAT (float32: L2, inner product, cosine, L1) and
// BIN_FLAT (packed bits: Hamming, Jaccard), the exact indexes.
//
// Design. Rows live in two flat arrays, labels_ and the prepared vectors
// (floats, normalized at Add under cosine; or (dim + 7) / 8 bytes of bits),
// so every search is brute_force.hpp's exact scan over one strided RowSet.
// Labels are expected to be unique (the PostgreSQL side uses row ids); FLAT
// does not check, and a duplicated label is simply returned twice.
//
// Zero vectors under cosine: pgvector skips them at insert (their distance is
// NaN). Here Add rejects them with InvalidArgument, and a zero query is
// InvalidArgument too, so the caller decides (the AM can skip such rows).
//
// Search of a batch: queries are checked and prepared up front on the calling
// thread; params.threads - 1 worker threads and the calling thread then take
// queries from a shared counter (threads start with signals blocked,
// thread_util.hpp). Only the calling thread runs should_stop
// (once before any work, every kStopPollRows rows, and every millisecond
// while it waits for the workers); workers see a shared flag, so a cancel
// stops them all.
//
// Add prepares rows into place and polls the build stop callback every
// kStopPollRows rows; a cancel or a bad row undoes the whole batch.
// Reconstruct binary-searches labels_ while labels arrived in increasing
// order (the AM's row positions), else makes one pass over all rows.
//
// Serialized payload, after the common header:
//   uint64 n, int64 labels[n]          (n == header.count)
//   uint64 m, float or uint8 data[m]   (m == count * dim floats, or count * bytes per row)
//   uint64 checksum                    (over the header and both arrays)
// The checksum makes a damaged stream Corrupt instead of a quietly different
// index; loading also re-checks labels (non-negative), floats (finite) and
// bit padding.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "knowhere/brute_force.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::engine {

namespace {

// Checksum is a word-at-a-time 64-bit hash of a byte sequence, used only to
// detect damage (not an adversary).
class Checksum {
public:
	// Update hashes n more bytes.
	void Update(const void *data, size_t n) noexcept {
		const uint8_t *p = static_cast<const uint8_t *>(data);
		size_t i = 0;
		for (; i + 8 <= n; i += 8) {
			uint64_t w;
			std::memcpy(&w, p + i, 8);
			Mix(w);
		}
		for (; i < n; i++)
			Mix(0x100u | p[i]);
		length_ += n;
	}
	// value returns the hash of everything so far.
	uint64_t value() const noexcept {
		uint64_t h = h_ ^ length_;
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
		return h;
	}

private:
	// Mix folds one word into the state.
	void Mix(uint64_t w) noexcept {
		h_ ^= w * 0x87c37b91114253d5ULL;
		h_ = (h_ << 31) | (h_ >> 33);
		h_ = h_ * 0x4cf5ad432745937fULL + 0x52dce729;
	}

	uint64_t h_ = 0x9e3779b97f4a7c15ULL;
	uint64_t length_ = 0;
};

// HashingWriter forwards bytes to a writer and hashes them.
class HashingWriter final : public ByteWriter {
public:
	explicit HashingWriter(ByteWriter &inner) noexcept : inner_(inner) {}
	// Write hashes and forwards a chunk.
	Status Write(const void *data, size_t n) noexcept override {
		sum_.Update(data, n);
		return inner_.Write(data, n);
	}
	Checksum &sum() noexcept { return sum_; }

private:
	ByteWriter &inner_;
	Checksum sum_;
};

// HashingReader reads bytes from a reader and hashes them.
class HashingReader final : public ByteReader {
public:
	explicit HashingReader(ByteReader &inner) noexcept : inner_(inner) {}
	// Read reads and hashes a chunk.
	Status Read(void *data, size_t n) noexcept override {
		VECDB_RETURN_IF_ERROR(inner_.Read(data, n));
		sum_.Update(data, n);
		return Status::Ok();
	}
	Checksum &sum() noexcept { return sum_; }

private:
	ByteReader &inner_;
	Checksum sum_;
};

// FlatIndex is the exact index over float or bit rows.
class FlatIndex final : public Index {
public:
	FlatIndex(IndexKind kind, Metric metric, int dim) noexcept
		: kind_(kind), metric_(metric), dim_(dim), row_bytes_(RowBytes(metric, dim)) {}

	IndexKind kind() const noexcept override { return kind_; }
	Metric metric() const noexcept override { return metric_; }
	int dim() const noexcept override { return dim_; }
	int64_t count() const noexcept override { return static_cast<int64_t>(labels_.size()); }
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + labels_.capacity() * sizeof(int64_t) + floats_.capacity() * sizeof(float) +
			bits_.capacity();
	}

	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override;
	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override;
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override;
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override;
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override;
	Status Serialize(ByteWriter &writer) const noexcept override;

	// Load reads the payload after a header already read and checked.
	Status Load(const IndexHeader &header, ByteReader &reader) noexcept;

private:
	bool binary() const noexcept { return IsBinaryMetric(metric_); }
	// RowElems returns the array elements per row (floats or bytes).
	size_t RowElems() const noexcept { return binary() ? row_bytes_ : static_cast<size_t>(dim_); }
	// Rows returns every row as a strided RowSet.
	RowSet Rows() const noexcept {
		RowSet r;
		r.labels = labels_.data();
		r.base = binary() ? bits_.data() : reinterpret_cast<const uint8_t *>(floats_.data());
		r.stride = row_bytes_;
		r.n = labels_.size();
		return r;
	}
	// RowPtr returns the writable storage of row i.
	void *RowPtr(size_t i) noexcept {
		return binary() ? static_cast<void *>(bits_.data() + i * row_bytes_)
						: static_cast<void *>(floats_.data() + i * static_cast<size_t>(dim_));
	}
	// ResizeRows resizes the vector array to n rows (may throw).
	void ResizeRows(size_t n) {
		if (binary())
			bits_.resize(n * row_bytes_);
		else
			floats_.resize(n * static_cast<size_t>(dim_));
	}

	IndexKind kind_;
	Metric metric_;
	int dim_;
	size_t row_bytes_;
	std::vector<int64_t> labels_;
	std::vector<float> floats_;
	std::vector<uint8_t> bits_;
	/* labels_ strictly increasing: Reconstruct finds rows by binary search */
	bool ascending_ = true;
};

// Add checks every argument and row, then appends the prepared rows; on any
// failure the index is left as it was.
Status FlatIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors and labels must not be null");
	for (size_t i = 0; i < n; i++)
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative, not " + std::to_string(labels[i]));
	size_t old_n = labels_.size();
	size_t max_rows = std::min<size_t>(std::numeric_limits<size_t>::max() / row_bytes_ / 2,
									   static_cast<size_t>(std::numeric_limits<int64_t>::max()));
	if (n > max_rows - old_n)
		return Status::InvalidArgument("too many rows for one index");
	try {
		ResizeRows(old_n + n);
		labels_.reserve(old_n + n);
	} catch (...) {
		ResizeRows(old_n);
		return Status::OutOfMemory("out of memory while adding rows to an index");
	}
	const uint8_t *src = static_cast<const uint8_t *>(vectors);
	for (size_t i = 0; i < n; i++) {
		Status s = PrepareVector(metric_, dim_, src + i * row_bytes_, RowPtr(old_n + i), "vector");
		if (s.ok() && i % kStopPollRows == kStopPollRows - 1) {
			if (BuildStopRequested())
				s = Status::Cancelled();
			else
				ReportProgress(i + 1, n);
		}
		if (!s.ok()) {
			ResizeRows(old_n);
			return s;
		}
	}
	for (size_t i = 0; i < n && ascending_; i++)
		ascending_ = (old_n == 0 && i == 0) || labels[i] > (i == 0 ? labels_.back() : labels[i - 1]);
	labels_.insert(labels_.end(), labels, labels + n);
	ReportProgress(n, n);
	return Status::Ok();
}

// Reconstruct copies the rows of the given labels: by binary search when the
// labels were added in increasing order (the AM's row positions), else by
// one pass over the rows for the whole request.
Status FlatIndex::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels and output must not be null");
	uint8_t *dst = static_cast<uint8_t *>(out);
	auto missing = [](int64_t label) {
		return Status::InvalidArgument("index holds no row with label " + std::to_string(label));
	};
	if (ascending_) {
		for (size_t i = 0; i < n; i++) {
			auto it = std::lower_bound(labels_.begin(), labels_.end(), labels[i]);
			if (it == labels_.end() || *it != labels[i])
				return missing(labels[i]);
			std::memcpy(dst + i * row_bytes_, Rows().Row(static_cast<size_t>(it - labels_.begin())), row_bytes_);
		}
		return Status::Ok();
	}
	constexpr size_t kNone = std::numeric_limits<size_t>::max();
	std::unordered_map<int64_t, size_t> row_of;
	try {
		row_of.reserve(n);
		for (size_t i = 0; i < n; i++)
			row_of.emplace(labels[i], kNone);
	} catch (...) {
		return Status::OutOfMemory("out of memory while reading rows of an index");
	}
	for (size_t r = 0; r < labels_.size(); r++) {
		auto it = row_of.find(labels_[r]);
		if (it != row_of.end() && it->second == kNone)
			it->second = r;
	}
	RowSet rows = Rows();
	for (size_t i = 0; i < n; i++) {
		size_t r = row_of.find(labels[i])->second;
		if (r == kNone)
			return missing(labels[i]);
		std::memcpy(dst + i * row_bytes_, rows.Row(r), row_bytes_);
	}
	return Status::Ok();
}

// Search checks the call, prepares every query, then scans the rows once per
// query on the calling thread and up to params.threads - 1 workers.
Status FlatIndex::Search(const void *queries, size_t nq, size_t k, const SearchParams &params,
						 BitsetView filter, int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, k));
	if (nq == 0)
		return Status::Ok();
	if (queries == nullptr || labels == nullptr || distances == nullptr)
		return Status::InvalidArgument("queries and result buffers must not be null");
	if (k > std::numeric_limits<size_t>::max() / sizeof(int64_t) / nq ||
		nq > std::numeric_limits<size_t>::max() / row_bytes_)
		return Status::InvalidArgument("too many queries or too large a k");

	std::vector<uint8_t> prepared;
	try {
		prepared.resize(nq * row_bytes_);
	} catch (...) {
		return Status::OutOfMemory("out of memory while preparing queries");
	}
	const uint8_t *src = static_cast<const uint8_t *>(queries);
	for (size_t q = 0; q < nq; q++)
		VECDB_RETURN_IF_ERROR(PrepareVector(metric_, dim_, src + q * row_bytes_, prepared.data() + q * row_bytes_,
											"query"));

	std::atomic<size_t> next_query{0};
	std::atomic<bool> stop{false};
	std::atomic<size_t> workers_done{0};

	/* a cancel already pending stops the call before any thread starts */
	StopPoller poller(params.should_stop, params.stop_arg, &stop);
	if (poller.Poll())
		return Status::Cancelled();

	RowSet rows = Rows();
	size_t keep = std::min(k, rows.n);

	/* Work runs queries from the shared counter until none are left or a stop */
	auto work = [&](StopPoller *poller) noexcept -> Status {
		TopK top;
		VECDB_RETURN_IF_ERROR(top.Init(keep));
		for (;;) {
			size_t q = next_query.fetch_add(1, std::memory_order_relaxed);
			if (q >= nq)
				return Status::Ok();
			Status s = ScanRows(metric_, dim_, prepared.data() + q * row_bytes_, rows, filter, poller, &top);
			if (!s.ok()) {
				stop.store(true, std::memory_order_relaxed);
				return s;
			}
			top.Extract(k, labels + q * k, distances + q * k);
		}
	};

	size_t want = std::min(static_cast<size_t>(params.threads), nq) - 1;
	std::vector<Status> worker_status;
	try {
		worker_status.resize(want);
	} catch (...) {
		want = 0;
	}
	/* fewer threads than asked for (or none): the calling thread does the rest */
	ThreadGroup group;
	size_t started = group.Start(want, [&](size_t t) noexcept {
		StopPoller poller(nullptr, nullptr, &stop);
		worker_status[t] = work(&poller);
		workers_done.fetch_add(1, std::memory_order_release);
	});

	Status status = work(&poller);
	while (workers_done.load(std::memory_order_acquire) < started) {
		if (!poller.stopped())
			poller.Poll();
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	group.Join();
	/* a real failure (out of memory) outranks the Cancelled it caused elsewhere */
	bool cancelled = poller.stopped();
	for (size_t t = 0; t <= started; t++) {
		const Status &s = t < started ? worker_status[t] : status;
		if (s.code() == StatusCode::kCancelled)
			cancelled = true;
		else if (!s.ok())
			return s;
	}
	return cancelled ? Status::Cancelled() : Status::Ok();
}

// RangeSearch collects the allowed rows within radius and sorts them.
Status FlatIndex::RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
							  std::vector<Neighbor> *out) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, 1));
	if (out == nullptr)
		return Status::InvalidArgument("result vector must not be null");
	if (std::isnan(radius))
		return Status::InvalidArgument("radius must not be NaN");
	std::vector<uint8_t> q;
	VECDB_RETURN_IF_ERROR(PrepareQuery(metric_, dim_, query, &q));
	StopPoller poller(params.should_stop, params.stop_arg);
	std::vector<Neighbor> found;
	VECDB_RETURN_IF_ERROR(RangeScan(metric_, dim_, q.data(), Rows(), radius, filter, &poller, &found));
	std::sort(found.begin(), found.end(), NeighborLess);
	try {
		out->insert(out->end(), found.begin(), found.end());
	} catch (...) {
		return Status::OutOfMemory("out of memory during a range search");
	}
	return Status::Ok();
}

// CreateIterator prepares the query and starts an exact iterator over all rows.
Expected<std::unique_ptr<Iterator>> FlatIndex::CreateIterator(const void *query, const SearchParams &params,
															  BitsetView filter) const noexcept {
	Status s = ValidateSearch(params, 1);
	if (!s.ok())
		return s;
	std::vector<uint8_t> q;
	s = PrepareQuery(metric_, dim_, query, &q);
	if (!s.ok())
		return s;
	return ExactIterator::Create(metric_, dim_, q.data(), Rows(), filter, params);
}

// Serialize writes the header, labels, vectors and the checksum of all three.
Status FlatIndex::Serialize(ByteWriter &writer) const noexcept {
	HashingWriter w(writer);
	VECDB_RETURN_IF_ERROR(WriteHeader(w, *this));
	VECDB_RETURN_IF_ERROR(WriteArray(w, labels_.data(), labels_.size()));
	if (binary())
		VECDB_RETURN_IF_ERROR(WriteArray(w, bits_.data(), bits_.size()));
	else
		VECDB_RETURN_IF_ERROR(WriteArray(w, floats_.data(), floats_.size()));
	return WritePod(writer, w.sum().value());
}

// Load reads labels and vectors, checks their lengths against the header, the
// checksum, and every value, returning Corrupt for any inconsistency.
Status FlatIndex::Load(const IndexHeader &header, ByteReader &reader) noexcept {
	HashingReader r(reader);
	r.sum().Update(&header, sizeof(header));
	uint64_t count = static_cast<uint64_t>(header.count);
	if (count > std::numeric_limits<uint64_t>::max() / RowElems())
		return Status::Corrupt("index row count out of range");
	VECDB_RETURN_IF_ERROR(ReadArray(r, &labels_, count));
	if (labels_.size() != count)
		return Status::Corrupt("index label count does not match its header");
	uint64_t elems = count * RowElems();
	if (binary())
		VECDB_RETURN_IF_ERROR(ReadArray(r, &bits_, elems));
	else
		VECDB_RETURN_IF_ERROR(ReadArray(r, &floats_, elems));
	if ((binary() ? bits_.size() : floats_.size()) != elems)
		return Status::Corrupt("index vector data does not match its header");
	uint64_t stored = 0;
	VECDB_RETURN_IF_ERROR(ReadPod(reader, &stored));
	if (stored != r.sum().value())
		return Status::Corrupt("index checksum mismatch");
	for (size_t i = 0; i < labels_.size(); i++) {
		if (labels_[i] < 0)
			return Status::Corrupt("index holds a negative label");
		ascending_ = ascending_ && (i == 0 || labels_[i] > labels_[i - 1]);
	}
	int used = dim_ % 8;
	for (size_t i = 0; i < count; i++) {
		if (binary()) {
			if (used != 0 && (bits_[i * row_bytes_ + row_bytes_ - 1] & static_cast<uint8_t>(0xFFu >> used)) != 0)
				return Status::Corrupt("index holds a bit vector with bits set past its length");
		} else {
			const float *v = floats_.data() + i * static_cast<size_t>(dim_);
			for (int j = 0; j < dim_; j++)
				if (!std::isfinite(v[j]))
					return Status::Corrupt("index holds a vector with NaN or infinity");
		}
	}
	return Status::Ok();
}

}  // namespace

// EstimateFlatMemory returns what MemoryUsage reports after one Build of n
// rows: labels and vectors, no slack.
size_t EstimateFlatMemory(const IndexConfig &config, size_t n) noexcept {
	return sizeof(FlatIndex) + n * (sizeof(int64_t) + RowBytes(config.metric, config.dim));
}

// NewFlatIndex makes an empty FLAT or BIN_FLAT index (config already validated).
Expected<std::unique_ptr<Index>> NewFlatIndex(const IndexConfig &config) noexcept {
	if (config.kind != IndexKind::kFlat && config.kind != IndexKind::kBinFlat)
		return Status::Internal("NewFlatIndex called for another index kind");
	if (IsBinaryKind(config.kind) != IsBinaryMetric(config.metric))
		return Status::NotSupported("this index kind does not support this metric");
	try {
		return std::unique_ptr<Index>(new FlatIndex(config.kind, config.metric, config.dim));
	} catch (...) {
		return Status::OutOfMemory("out of memory while creating an index");
	}
}

// LoadFlatIndex reads a FLAT or BIN_FLAT payload after its checked header.
Expected<std::unique_ptr<Index>> LoadFlatIndex(const IndexHeader &header, ByteReader &reader) noexcept {
	IndexKind kind = static_cast<IndexKind>(header.kind);
	Metric metric = static_cast<Metric>(header.metric);
	if ((kind != IndexKind::kFlat && kind != IndexKind::kBinFlat) || IsBinaryKind(kind) != IsBinaryMetric(metric))
		return Status::Corrupt("index header does not describe a flat index");
	std::unique_ptr<FlatIndex> index;
	try {
		index.reset(new FlatIndex(kind, metric, header.dim));
	} catch (...) {
		return Status::OutOfMemory("out of memory while reading an index");
	}
	Status s = index->Load(header, reader);
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

}  // namespace vecdb::engine
