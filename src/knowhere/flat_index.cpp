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
// Serialized sections (serialize.hpp's framing), after the common header:
//   FlatMeta {count, row_bytes, flags}     (count == header.count; flags: labels ascending)
//   int64 labels[count]
//   float or uint8 rows[count * row_bytes] (prepared: normalized under cosine)
// Loading re-checks labels (non-negative), floats (finite) and bit padding.
//
// View (OpenIndexView): FlatView points labels and rows into the bytes and
// runs the same searches (FlatBase) over them; it copies nothing. It trusts
// the stored "ascending" flag for Reconstruct's binary search (a false flag
// gives wrong answers, never a read out of bounds).
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
#include "knowhere/catching.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::knowhere {

namespace {

// FlatMeta is the first section of a FLAT or BIN_FLAT payload.
struct FlatMeta {
	uint64_t count;
	uint32_t row_bytes;
	uint32_t flags;
};
// kFlatAscending: labels are strictly increasing.
constexpr uint32_t kFlatAscending = 1;

// FlatBase is what the owning FLAT index and its view share: every search
// runs over Rows(), wherever the rows live.
class FlatBase : public Index {
public:
	FlatBase(IndexKind kind, Metric metric, int dim) noexcept
		: kind_(kind), metric_(metric), dim_(dim), row_bytes_(RowBytes(metric, dim)) {}

	IndexKind kind() const noexcept override { return kind_; }
	Metric metric() const noexcept override { return metric_; }
	int dim() const noexcept override { return dim_; }
	int64_t count() const noexcept override { return static_cast<int64_t>(Rows().n); }

	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override;
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override;
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override;
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override;

protected:
	bool binary() const noexcept { return IsBinaryMetric(metric_); }
	// Rows returns every row as a strided RowSet.
	virtual RowSet Rows() const noexcept = 0;
	// Ascending reports whether the labels are strictly increasing.
	virtual bool Ascending() const noexcept = 0;

	IndexKind kind_;
	Metric metric_;
	int dim_;
	size_t row_bytes_;
};

// FlatIndex is the exact index over float or bit rows it owns.
class FlatIndex final : public FlatBase {
public:
	using FlatBase::FlatBase;

	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + labels_.capacity() * sizeof(int64_t) + floats_.capacity() * sizeof(float) +
			bits_.capacity();
	}

	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override;
	Status Serialize(ByteWriter &writer) const noexcept override;
	Status DropBelow(int64_t first) noexcept override;

	// Load reads the sections after a header already read and checked.
	Status Load(const IndexHeader &header, IndexStreamReader &reader) noexcept;

private:
	// RowElems returns the array elements per row (floats or bytes).
	size_t RowElems() const noexcept { return binary() ? row_bytes_ : static_cast<size_t>(dim_); }
	RowSet Rows() const noexcept override {
		RowSet r;
		r.labels = labels_.data();
		r.base = binary() ? bits_.data() : reinterpret_cast<const uint8_t *>(floats_.data());
		r.stride = row_bytes_;
		r.n = labels_.size();
		return r;
	}
	bool Ascending() const noexcept override { return ascending_; }
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

	std::vector<int64_t> labels_;
	std::vector<float> floats_;
	std::vector<uint8_t> bits_;
	/* labels_ strictly increasing: Reconstruct finds rows by binary search */
	bool ascending_ = true;
};

// FlatView is a read-only FLAT or BIN_FLAT index over serialized bytes.
class FlatView final : public FlatBase {
public:
	FlatView(const IndexBytes &bytes, const FlatMeta &meta, const int64_t *labels, const uint8_t *rows) noexcept
		: FlatBase(static_cast<IndexKind>(bytes.header.kind), static_cast<Metric>(bytes.header.metric),
				   bytes.header.dim),
		  bytes_(bytes),
		  labels_(labels),
		  rows_(rows),
		  n_(static_cast<size_t>(meta.count)),
		  ascending_((meta.flags & kFlatAscending) != 0) {}

	size_t MemoryUsage() const noexcept override { return sizeof(*this); }
	Status Train(const void *, size_t) noexcept override { return ReadOnly(); }
	Status Add(const void *, const int64_t *, size_t) noexcept override { return ReadOnly(); }
	// Serialize copies the bytes out.
	Status Serialize(ByteWriter &writer) const noexcept override { return writer.Write(bytes_.data, bytes_.size); }

private:
	// ReadOnly is the answer to every change.
	static Status ReadOnly() noexcept { return Status::NotSupported("an index view is read-only"); }
	RowSet Rows() const noexcept override {
		RowSet r;
		r.labels = labels_;
		r.base = rows_;
		r.stride = row_bytes_;
		r.n = n_;
		return r;
	}
	bool Ascending() const noexcept override { return ascending_; }

	IndexBytes bytes_;
	const int64_t *labels_;
	const uint8_t *rows_;
	size_t n_;
	bool ascending_;
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
	Status grown = Catching("adding rows to an index", [&] {
		ResizeRows(old_n + n);
		labels_.reserve(old_n + n);
		return Status::Ok();
	});
	if (!grown.ok()) {
		ResizeRows(old_n);
		return grown;
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
Status FlatBase::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels and output must not be null");
	uint8_t *dst = static_cast<uint8_t *>(out);
	auto missing = [](int64_t label) {
		return Status::InvalidArgument("index holds no row with label " + std::to_string(label));
	};
	RowSet rows = Rows();
	const int64_t *first = rows.labels, *last = rows.labels + rows.n;
	if (Ascending()) {
		for (size_t i = 0; i < n; i++) {
			const int64_t *it = std::lower_bound(first, last, labels[i]);
			if (it == last || *it != labels[i])
				return missing(labels[i]);
			std::memcpy(dst + i * row_bytes_, rows.Row(static_cast<size_t>(it - first)), row_bytes_);
		}
		return Status::Ok();
	}
	constexpr size_t kNone = std::numeric_limits<size_t>::max();
	std::unordered_map<int64_t, size_t> row_of;
	VECDB_RETURN_IF_ERROR(Catching("reading rows of an index", [&] {
		row_of.reserve(n);
		for (size_t i = 0; i < n; i++)
			row_of.emplace(labels[i], kNone);
		return Status::Ok();
	}));
	for (size_t r = 0; r < rows.n; r++) {
		auto it = row_of.find(rows.labels[r]);
		if (it != row_of.end() && it->second == kNone)
			it->second = r;
	}
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
Status FlatBase::Search(const void *queries, size_t nq, size_t k, const SearchParams &params,
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
	VECDB_RETURN_IF_ERROR(Catching("preparing queries", [&] {
		prepared.resize(nq * row_bytes_);
		return Status::Ok();
	}));
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
Status FlatBase::RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
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
	return Catching("returning range search results", [&] {
		out->insert(out->end(), found.begin(), found.end());
		return Status::Ok();
	});
}

// CreateIterator prepares the query and starts an exact iterator over all rows.
Expected<std::unique_ptr<Iterator>> FlatBase::CreateIterator(const void *query, const SearchParams &params,
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

// Serialize writes the meta section, labels and rows in the common framing.
// DropBelow moves the kept rows down over the dropped ones, in order; the
// arrays shrink without reallocating.
Status FlatIndex::DropBelow(int64_t first) noexcept {
	size_t kept = 0;
	for (size_t i = 0; i < labels_.size(); i++) {
		if (labels_[i] < first)
			continue;
		if (kept != i)
			std::memmove(RowPtr(kept), RowPtr(i), row_bytes_);
		labels_[kept++] = labels_[i] - first;
	}
	labels_.resize(kept);
	ResizeRows(kept);
	return Status::Ok();
}

Status FlatIndex::Serialize(ByteWriter &writer) const noexcept {
	return WriteIndexStream(writer, *this, [&](IndexStreamWriter &w) -> Status {
		FlatMeta meta{labels_.size(), static_cast<uint32_t>(row_bytes_), ascending_ ? kFlatAscending : 0};
		VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
		VECDB_RETURN_IF_ERROR(w.Section(labels_.data(), labels_.size() * sizeof(int64_t)));
		return w.Section(binary() ? static_cast<const void *>(bits_.data()) : floats_.data(),
						 labels_.size() * row_bytes_);
	});
}

// CheckFlatMeta checks the meta section against the header.
Status CheckFlatMeta(const IndexHeader &header, const FlatMeta &meta) noexcept {
	if (meta.count != static_cast<uint64_t>(header.count) ||
		meta.row_bytes != RowBytes(static_cast<Metric>(header.metric), header.dim) || (meta.flags & ~kFlatAscending) != 0)
		return Status::Corrupt("flat index sections do not match its header");
	return Status::Ok();
}

// Load reads labels and vectors (growing as bytes arrive) and checks every
// value, returning Corrupt for any inconsistency; the caller checks the trailer.
Status FlatIndex::Load(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	FlatMeta meta;
	VECDB_RETURN_IF_ERROR(reader.Section(&meta, sizeof(meta)));
	VECDB_RETURN_IF_ERROR(CheckFlatMeta(header, meta));
	uint64_t count = meta.count;
	if (count > std::numeric_limits<uint64_t>::max() / row_bytes_)
		return Status::Corrupt("index row count out of range");
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&labels_, count));
	uint64_t elems = count * RowElems();
	if (binary())
		VECDB_RETURN_IF_ERROR(reader.SectionArray(&bits_, elems));
	else
		VECDB_RETURN_IF_ERROR(reader.SectionArray(&floats_, elems));
	bool ascending = true;
	for (size_t i = 0; i < labels_.size(); i++) {
		if (labels_[i] < 0)
			return Status::Corrupt("index holds a negative label");
		ascending = ascending && (i == 0 || labels_[i] > labels_[i - 1]);
	}
	if (ascending != ((meta.flags & kFlatAscending) != 0))
		return Status::Corrupt("flat index label order does not match its flag");
	ascending_ = ascending;
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
	return Catching("creating an index", [&]() -> Expected<std::unique_ptr<Index>> {
		return std::unique_ptr<Index>(new FlatIndex(config.kind, config.metric, config.dim));
	});
}

// LoadFlatIndex reads a FLAT or BIN_FLAT payload after its checked header.
Expected<std::unique_ptr<Index>> LoadFlatIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	IndexKind kind = static_cast<IndexKind>(header.kind);
	Metric metric = static_cast<Metric>(header.metric);
	if ((kind != IndexKind::kFlat && kind != IndexKind::kBinFlat) || IsBinaryKind(kind) != IsBinaryMetric(metric))
		return Status::Corrupt("index header does not describe a flat index");
	std::unique_ptr<FlatIndex> index;
	Status s = Catching("reading an index", [&] {
		index.reset(new FlatIndex(kind, metric, header.dim));
		return Status::Ok();
	});
	if (!s.ok())
		return s;
	s = index->Load(header, reader);
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

// OpenFlatView locates the three sections (O(1)) and points a view at them.
Expected<std::unique_ptr<Index>> OpenFlatView(const IndexBytes &bytes) noexcept {
	const IndexHeader &h = bytes.header;
	IndexKind kind = static_cast<IndexKind>(h.kind);
	if ((kind != IndexKind::kFlat && kind != IndexKind::kBinFlat) ||
		IsBinaryKind(kind) != IsBinaryMetric(static_cast<Metric>(h.metric)))
		return Status::Corrupt("index header does not describe a flat index");
	ViewCursor c(bytes);
	FlatMeta meta;
	const int64_t *labels = nullptr;
	const uint8_t *rows = nullptr;
	Status s = c.TakeCopy(&meta);
	if (s.ok())
		s = CheckFlatMeta(h, meta);
	if (s.ok())
		s = c.Take(meta.count, &labels);
	if (s.ok() && meta.count > std::numeric_limits<uint64_t>::max() / meta.row_bytes)
		s = Status::Corrupt("index row count out of range");
	if (s.ok())
		s = c.Take(meta.count * meta.row_bytes, &rows);
	if (s.ok())
		s = c.Done();
	if (!s.ok())
		return s;
	return Catching("opening an index view", [&]() -> Expected<std::unique_ptr<Index>> {
		return std::unique_ptr<Index>(new FlatView(bytes, meta, labels, rows));
	});
}

}  // namespace vecdb::knowhere
