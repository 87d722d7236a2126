// hnsw_sq.cpp is the memory-light HNSW kind, HNSW_SQ: the graph is built over
// float rows like HNSW's, but its stored form keeps a 4- or 8-bit code per
// dimension in place of each vector (sq_codec.hpp), so a loaded index holds
// graph and codes only. The full rows are written apart (SerializeRows) and
// read back through a RowSource to re-rank.
//
// - HnswSqIndex, the owning index, is an HNSW index over floats (searches
//   are HNSW's) that serializes as codes: the codec's ranges come from the
//   rows at Serialize.
// - HnswSqView searches the stored form (a view over bytes, or a copy
//   loaded from a stream): HNSW's iterator walks the graph with the
//   query-to-code distance; its brute-force switch is replaced by a scan of
//   the allowed codes; both feed RerankIterator, which pulls rerank times
//   the asked batch of code-ranked candidates (the walk expanding only as
//   for the asked batch: the rest are rows it scored on the way), scores
//   them exactly on rows from the RowSource and returns the best it holds. Search is that
//   iterator; RangeSearch, Reconstruct and SerializeRows read the rows too.
//
// Sections after the header: SqMeta, lo (dim floats), step (dim floats),
// then HNSW's sections with codes in the level-0 elements.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "knowhere/brute_force.hpp"
#include "knowhere/catching.hpp"
#include "knowhere/hnsw_internal.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/sq_codec.hpp"

namespace vecdb::knowhere {

namespace {

using hnsw::GraphRef;
using hnsw::HnswIndex;
using hnsw::HnswMeta;
using hnsw::HnswSections;
using hnsw::HnswView;
using hnsw::tableint;

// kDefaultRerank8 and kDefaultRerank4 are the re-ranking depths when
// SearchParams.rerank is 0: the code-ranked candidates scored exactly per
// row returned, for 8- and 4-bit codes. bench_engine sq, 200,000 x 768
// through the iterator (bench/results/sq_200k_768.md): 8-bit codes rank
// like floats, so depth 1 kept the float32 graph's recall at every
// ef_search; so did 4-bit codes of residuals from centroids with
// per-cluster ranges (depth 2 added 0.0001 at ef_search 40).
constexpr size_t kDefaultRerank8 = 1;
constexpr size_t kDefaultRerank4 = 1;

// kReadChunk is how many rows one RowSource read takes in scans.
constexpr size_t kReadChunk = 256;

// GraphConfig returns the HNSW config of an HNSW_SQ config.
IndexConfig GraphConfig(IndexConfig c) noexcept {
	c.kind = IndexKind::kHnsw;
	return c;
}

// RerankDepth returns the candidates scored exactly per row returned.
size_t RerankDepth(const SearchParams &p, int bits) noexcept {
	if (p.rerank > 0)
		return static_cast<size_t>(p.rerank);
	return bits == 4 ? kDefaultRerank4 : kDefaultRerank8;
}

// WriteCodec writes a codec's sections: SqMeta, the steps, the centers.
Status WriteCodec(IndexStreamWriter &w, const SqCodec &codec) {
	SqMeta meta = codec.Meta();
	size_t d = static_cast<size_t>(codec.dim());
	VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
	VECDB_RETURN_IF_ERROR(w.Section(codec.step(0), static_cast<size_t>(codec.clusters()) * d * sizeof(float)));
	return w.Section(codec.center(0), static_cast<size_t>(codec.clusters()) * d * sizeof(float));
}

// HnswSqIndex is the owning HNSW_SQ index: HNSW over floats, stored as codes.
class HnswSqIndex final : public Index {
public:
	explicit HnswSqIndex(const IndexConfig &config)
		: config_(config), graph_(GraphConfig(config), HnswBuildOptionsFor(config), hnsw::kInitialCapacity) {}

	void SetBuildControl(StopCallback should_stop, void *stop_arg) noexcept override {
		graph_.SetBuildControl(should_stop, stop_arg);
	}
	void SetBuildProgress(ProgressCallback progress, void *progress_arg) noexcept override {
		graph_.SetBuildProgress(progress, progress_arg);
	}
	void SetRepairReach(int mode) noexcept override { graph_.SetRepairReach(mode); }
	IndexKind kind() const noexcept override { return IndexKind::kHnswSq; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return graph_.count(); }
	size_t MemoryUsage() const noexcept override { return sizeof(*this) + graph_.MemoryUsage(); }
	size_t AddSlice() const noexcept override { return graph_.AddSlice(); }
	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override {
		return graph_.Add(vectors, labels, n);
	}
	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override {
		return graph_.Search(queries, nq, k, params, filter, labels, distances);
	}
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override {
		return graph_.RangeSearch(query, radius, params, filter, out);
	}
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override {
		return graph_.CreateIterator(query, params, filter);
	}
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override {
		return graph_.Reconstruct(labels, n, out);
	}
	bool KeepsRowsApart() const noexcept override { return true; }
	// SetRowSource is accepted and ignored: the owning index has its rows.
	Status SetRowSource(const RowSource *) noexcept override { return Status::Ok(); }

	// Serialize trains the codec's ranges on the rows and writes the codes.
	Status Serialize(ByteWriter &out) const noexcept override {
		return Catching("serializing an HNSW_SQ index", [&]() -> Status {
			const GraphRef g = graph_.Ref();
			SqCodec codec(config_.nbits, config_.dim);
			SqTrainOptions train;
			train.threads = config_.threads;
			codec.Train(g.count, [&](size_t i) {
				return static_cast<const float *>(g.Vector(static_cast<tableint>(i)));
			}, train);
			return WriteIndexStream(out, *this, [&](IndexStreamWriter &w) -> Status {
				VECDB_RETURN_IF_ERROR(WriteCodec(w, codec));
				return graph_.WriteSections(w, &codec);
			});
		});
	}

	// SerializeRows writes the prepared rows in internal id order.
	Status SerializeRows(ByteWriter &out) const noexcept override {
		const GraphRef g = graph_.Ref();
		size_t row = static_cast<size_t>(config_.dim) * sizeof(float);
		for (size_t i = 0; i < g.count; i++)
			VECDB_RETURN_IF_ERROR(out.Write(g.Vector(static_cast<tableint>(i)), row));
		return Status::Ok();
	}

private:
	IndexConfig config_;
	HnswIndex graph_;
};

// SqOwned holds the sections of an HNSW_SQ index loaded from a stream.
struct SqOwned {
	std::vector<char> level0;
	std::vector<int64_t> labels;
	std::vector<int32_t> levels;
	std::vector<uint64_t> offsets;
	std::vector<uint32_t> by_label;
	std::vector<char> upper;

	size_t bytes() const noexcept {
		return level0.capacity() + labels.capacity() * sizeof(int64_t) + levels.capacity() * sizeof(int32_t) +
			offsets.capacity() * sizeof(uint64_t) + by_label.capacity() * sizeof(uint32_t) + upper.capacity();
	}
};

class HnswSqView;

// SortedIterator returns a list of neighbours in the order given.
class SortedIterator final : public Iterator {
public:
	explicit SortedIterator(std::vector<Neighbor> sorted) : sorted_(std::move(sorted)) {}
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override {
		return Catching("iterating HNSW_SQ codes", [&]() -> Status {
			size_t n = std::min(max_batch, sorted_.size() - at_);
			out->insert(out->end(), sorted_.begin() + static_cast<ptrdiff_t>(at_),
						sorted_.begin() + static_cast<ptrdiff_t>(at_ + n));
			at_ += n;
			return Status::Ok();
		});
	}

private:
	std::vector<Neighbor> sorted_;
	size_t at_ = 0;
};

// RerankIterator re-ranks an iterator over code distances: each Next pulls
// rerank * max_batch more candidates, scores them exactly and returns the
// max_batch best of all it has scored and not returned.
class RerankIterator final : public Iterator {
public:
	RerankIterator(const HnswSqView *view, std::unique_ptr<Iterator> inner, std::vector<float> query, size_t depth)
		: view_(view), inner_(std::move(inner)), query_(std::move(query)), depth_(depth) {}
	Status Next(size_t max_batch, std::vector<Neighbor> *out) noexcept override;

private:
	const HnswSqView *view_;
	std::unique_ptr<Iterator> inner_;
	std::vector<float> query_;
	size_t depth_;
	bool inner_done_ = false;
	std::vector<Neighbor> pulled_;
	std::vector<Neighbor> pool_;  /* a min-heap by (distance, label) */
};

// HnswSqView is a read-only HNSW_SQ index over its stored form.
class HnswSqView final : public Index {
public:
	// HnswSqView over framed bytes (bytes set) or over owned sections.
	HnswSqView(const IndexConfig &config, const SqCodec &codec, const IndexBytes &bytes, const HnswSections &s,
			   const IndexConfig &graph_config, std::unique_ptr<SqOwned> owned)
		: config_(config), codec_(codec), bytes_(bytes), owned_(std::move(owned)) {
		/* the graph is searched with transformed queries (SqCodec::TransformQuery),
		   which it must not normalize: cosine's codes are ranked as inner products */
		IndexConfig walk = graph_config;
		if (walk.metric == Metric::kCosine)
			walk.metric = Metric::kInnerProduct;
		graph_ = std::make_unique<HnswView>(IndexBytes(), walk, s, SqDistanceFor(config.metric, codec_.bits()),
											&codec_);
		meta_ = s.meta;
	}

	IndexKind kind() const noexcept override { return IndexKind::kHnswSq; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return graph_->count(); }
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + codec_.OwnedBytes() + graph_->MemoryUsage() +
			(owned_ ? owned_->bytes() : 0);
	}
	Status Train(const void *, size_t) noexcept override { return ReadOnly(); }
	Status Add(const void *, const int64_t *, size_t) noexcept override { return ReadOnly(); }
	bool KeepsRowsApart() const noexcept override { return true; }
	Status SetRowSource(const RowSource *rows) noexcept override {
		rows_ = rows;
		return Status::Ok();
	}

	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override;
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override;
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override;
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override;
	Status Serialize(ByteWriter &out) const noexcept override;
	Status SerializeRows(ByteWriter &out) const noexcept override;

	// Rerank replaces the code distances of candidates by exact ones (when a
	// row source is set); may throw.
	Status Rerank(const float *q, std::vector<Neighbor> *candidates) const;

private:
	static Status ReadOnly() noexcept { return Status::NotSupported("an index view is read-only"); }
	// NoRows is the answer of what needs the rows when no source is set.
	static Status NoRows() noexcept {
		return Status::NotSupported("HNSW_SQ keeps only codes: this needs its rows (SetRowSource)");
	}
	// Ids maps labels to internal ids; InvalidArgument for a label not held.
	Status Ids(const int64_t *labels, size_t n, std::vector<uint64_t> *ids) const;
	// ScanCodes scores every allowed row's code against a transformed query and
// returns them sorted.
	Status ScanCodes(const float *q, const SearchParams &params, BitsetView filter,
					 std::vector<Neighbor> *out) const;

	IndexConfig config_;
	SqCodec codec_;
	IndexBytes bytes_;
	std::unique_ptr<SqOwned> owned_;
	std::unique_ptr<HnswView> graph_;
	HnswMeta meta_{};
	const RowSource *rows_ = nullptr;
};

Status HnswSqView::Ids(const int64_t *labels, size_t n, std::vector<uint64_t> *ids) const {
	ids->resize(n);
	for (size_t i = 0; i < n; i++) {
		tableint id;
		if (!graph_->FindLabel(labels[i], &id) || id >= meta_.count)
			return Status::InvalidArgument("index holds no row with label " + std::to_string(labels[i]));
		(*ids)[i] = id;
	}
	return Status::Ok();
}

Status HnswSqView::Rerank(const float *q, std::vector<Neighbor> *candidates) const {
	if (rows_ == nullptr || candidates->empty())
		return Status::Ok();
	size_t n = candidates->size(), d = static_cast<size_t>(config_.dim);
	std::vector<int64_t> labels(n);
	for (size_t i = 0; i < n; i++)
		labels[i] = (*candidates)[i].label;
	std::vector<uint64_t> ids;
	VECDB_RETURN_IF_ERROR(Ids(labels.data(), n, &ids));
	std::vector<float> rows(n * d);
	VECDB_RETURN_IF_ERROR(rows_->Read(ids.data(), n, rows.data()));
	for (size_t i = 0; i < n; i++)
		(*candidates)[i].distance = Score(config_.metric, config_.dim, q, rows.data() + i * d);
	return Status::Ok();
}

Status HnswSqView::ScanCodes(const float *q, const SearchParams &params, BitsetView filter,
							 std::vector<Neighbor> *out) const {
	const GraphRef g = graph_->Ref();
	for (size_t i = 0; i < g.count; i++) {
		if ((i & 4095) == 4095 && params.should_stop != nullptr && params.should_stop(params.stop_arg))
			return Status::Cancelled();
		tableint id = static_cast<tableint>(i);
		if (hnsw::HnswSearcher::Allowed(g, filter, id))
			out->push_back({g.Label(id), g.Dist(q, id)});
	}
	std::sort(out->begin(), out->end(), NeighborLess);
	return Status::Ok();
}

// CreateIterator: a scan of the allowed codes below the brute-force ratio,
// else HNSW's iterator over the codes (its own switch off); both re-ranked.
Expected<std::unique_ptr<Iterator>> HnswSqView::CreateIterator(const void *query, const SearchParams &params,
																BitsetView filter) const noexcept {
	Status s = ValidateSearch(params, 1);
	if (!s.ok())
		return s;
	if (query == nullptr)
		return Status::InvalidArgument("query must not be null");
	return Catching("creating an HNSW_SQ iterator", [&]() -> Expected<std::unique_ptr<Iterator>> {
		std::vector<uint8_t> prepared;
		Status st = PrepareQuery(config_.metric, config_.dim, query, &prepared);
		if (!st.ok())
			return st;
		std::vector<float> q(static_cast<size_t>(config_.dim));
		std::memcpy(q.data(), prepared.data(), q.size() * sizeof(float));
		const GraphRef g = graph_->Ref();
		size_t total = g.count;
		std::unique_ptr<Iterator> inner;
		if (!filter.empty()) {
			size_t allowed = graph_->CountAllowed(g, filter);
			if (static_cast<double>(allowed) < BruteForceRatio(params, config_, total) * static_cast<double>(total)) {
				std::vector<Neighbor> scored;
				scored.reserve(allowed);
				st = ScanCodes(q.data(), params, filter, &scored);
				if (!st.ok())
					return st;
				inner = std::make_unique<SortedIterator>(std::move(scored));
			}
		}
		size_t depth = RerankDepth(params, codec_.bits());
		if (!inner) {
			/* the re-rank pool comes from rows the walk scored anyway: asking
			   for depth x the batch does not widen the walk */
			auto made = graph_->CreateWalkIterator(q.data(), params, filter, depth);
			if (!made.ok())
				return made.status();
			inner = std::move(made).value();
		}
		return std::unique_ptr<Iterator>(std::make_unique<RerankIterator>(this, std::move(inner), std::move(q), depth));
	});
}

Status RerankIterator::Next(size_t max_batch, std::vector<Neighbor> *out) noexcept {
	if (out == nullptr)
		return Status::InvalidArgument("output must not be null");
	return Catching("re-ranking HNSW_SQ candidates", [&]() -> Status {
		auto later = [](const Neighbor &a, const Neighbor &b) { return NeighborLess(b, a); };
		size_t want = max_batch * depth_;
		pulled_.clear();
		while (!inner_done_ && pulled_.size() < want) {
			size_t before = pulled_.size();
			VECDB_RETURN_IF_ERROR(inner_->Next(want - before, &pulled_));
			if (pulled_.size() == before)
				inner_done_ = true;
		}
		VECDB_RETURN_IF_ERROR(view_->Rerank(query_.data(), &pulled_));
		for (const Neighbor &n : pulled_) {
			pool_.push_back(n);
			std::push_heap(pool_.begin(), pool_.end(), later);
		}
		for (size_t i = 0; i < max_batch && !pool_.empty(); i++) {
			std::pop_heap(pool_.begin(), pool_.end(), later);
			out->push_back(pool_.back());
			pool_.pop_back();
		}
		return Status::Ok();
	});
}

// Search runs the iterator per query and keeps its first k rows of a first
// batch of max(k, ef_search), as an index scan reads it.
Status HnswSqView::Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
						  int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, k));
	if (nq != 0 && (queries == nullptr || labels == nullptr || distances == nullptr))
		return Status::InvalidArgument("queries and result buffers must not be null");
	return Catching("searching an HNSW_SQ index", [&]() -> Status {
		const uint8_t *qs = static_cast<const uint8_t *>(queries);
		std::vector<Neighbor> res;
		for (size_t qi = 0; qi < nq; qi++) {
			auto it = CreateIterator(qs + qi * RowBytes(config_.metric, config_.dim), params, filter);
			if (!it.ok())
				return it.status();
			res.clear();
			size_t ask = std::max(k, static_cast<size_t>(params.ef_search));
			while (res.size() < k) {
				size_t before = res.size();
				VECDB_RETURN_IF_ERROR(it.value()->Next(ask, &res));
				if (res.size() == before)
					break;
			}
			for (size_t i = 0; i < k; i++) {
				labels[qi * k + i] = i < res.size() ? res[i].label : -1;
				distances[qi * k + i] = i < res.size() ? res[i].distance : std::numeric_limits<float>::infinity();
			}
		}
		return Status::Ok();
	});
}

// RangeSearch scores every allowed row exactly, from the rows.
Status HnswSqView::RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
							   std::vector<Neighbor> *out) const noexcept {
	if (query == nullptr || out == nullptr)
		return Status::InvalidArgument("query and output must not be null");
	if (std::isnan(radius))
		return Status::InvalidArgument("radius must not be NaN");
	VECDB_RETURN_IF_ERROR(ValidateSearch(params, 1));
	if (rows_ == nullptr)
		return NoRows();
	return Catching("range-searching an HNSW_SQ index", [&]() -> Status {
		std::vector<uint8_t> q;
		VECDB_RETURN_IF_ERROR(PrepareQuery(config_.metric, config_.dim, query, &q));
		const GraphRef g = graph_->Ref();
		size_t d = static_cast<size_t>(config_.dim);
		std::vector<uint64_t> ids;
		std::vector<float> rows(kReadChunk * d);
		std::vector<Neighbor> found;
		for (size_t i = 0; i < g.count;) {
			if (params.should_stop != nullptr && params.should_stop(params.stop_arg))
				return Status::Cancelled();
			ids.clear();
			for (; i < g.count && ids.size() < kReadChunk; i++)
				if (hnsw::HnswSearcher::Allowed(g, filter, static_cast<tableint>(i)))
					ids.push_back(i);
			if (ids.empty())
				continue;
			VECDB_RETURN_IF_ERROR(rows_->Read(ids.data(), ids.size(), rows.data()));
			for (size_t j = 0; j < ids.size(); j++) {
				float s = Score(config_.metric, config_.dim, q.data(), rows.data() + j * d);
				if (s <= radius)
					found.push_back({g.Label(static_cast<tableint>(ids[j])), s});
			}
		}
		std::sort(found.begin(), found.end(), NeighborLess);
		out->insert(out->end(), found.begin(), found.end());
		return Status::Ok();
	});
}

// Reconstruct reads the labels' rows from the row source.
Status HnswSqView::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels and output must not be null");
	if (rows_ == nullptr)
		return NoRows();
	return Catching("reading rows of an HNSW_SQ index", [&]() -> Status {
		std::vector<uint64_t> ids;
		VECDB_RETURN_IF_ERROR(Ids(labels, n, &ids));
		return rows_->Read(ids.data(), n, static_cast<float *>(out));
	});
}

// Serialize copies the bytes out, or writes the owned sections.
Status HnswSqView::Serialize(ByteWriter &out) const noexcept {
	if (bytes_.data != nullptr)
		return out.Write(bytes_.data, bytes_.size);
	return Catching("serializing an HNSW_SQ index", [&]() -> Status {
		const SqOwned &o = *owned_;
		return WriteIndexStream(out, *this, [&](IndexStreamWriter &w) -> Status {
			VECDB_RETURN_IF_ERROR(WriteCodec(w, codec_));
			VECDB_RETURN_IF_ERROR(w.Section(&meta_, sizeof(meta_)));
			VECDB_RETURN_IF_ERROR(w.Section(o.level0.data(), o.level0.size()));
			VECDB_RETURN_IF_ERROR(w.Section(o.labels.data(), o.labels.size() * sizeof(int64_t)));
			VECDB_RETURN_IF_ERROR(w.Section(o.levels.data(), o.levels.size() * sizeof(int32_t)));
			VECDB_RETURN_IF_ERROR(w.Section(o.offsets.data(), o.offsets.size() * sizeof(uint64_t)));
			VECDB_RETURN_IF_ERROR(w.Section(o.by_label.data(), o.by_label.size() * sizeof(uint32_t)));
			return w.Section(o.upper.data(), o.upper.size());
		});
	});
}

// SerializeRows copies the rows from the row source.
Status HnswSqView::SerializeRows(ByteWriter &out) const noexcept {
	if (rows_ == nullptr)
		return NoRows();
	return Catching("copying the rows of an HNSW_SQ index", [&]() -> Status {
		size_t d = static_cast<size_t>(config_.dim), n = static_cast<size_t>(meta_.count);
		std::vector<uint64_t> ids;
		std::vector<float> rows(kReadChunk * d);
		for (size_t i = 0; i < n; i += kReadChunk) {
			size_t c = std::min(kReadChunk, n - i);
			ids.resize(c);
			for (size_t j = 0; j < c; j++)
				ids[j] = i + j;
			VECDB_RETURN_IF_ERROR(rows_->Read(ids.data(), c, rows.data()));
			VECDB_RETURN_IF_ERROR(out.Write(rows.data(), c * d * sizeof(float)));
		}
		return Status::Ok();
	});
}

// SqConfig returns an HNSW_SQ config for the header and codec.
IndexConfig SqConfig(const IndexHeader &h, const IndexConfig &graph, const SqMeta &meta) noexcept {
	IndexConfig c = graph;
	c.kind = IndexKind::kHnswSq;
	c.metric = static_cast<Metric>(h.metric);
	c.dim = h.dim;
	c.nbits = static_cast<int>(meta.bits);
	return c;
}

// LoadCodec checks a stored codec against the header and loads it (borrow:
// reads its arrays in place, for a view over the stored bytes).
Status LoadCodec(const IndexHeader &h, const SqMeta &meta, const float *step, const float *centers, SqCodec *codec,
				 bool borrow) {
	if (meta.dim != static_cast<uint32_t>(h.dim) || !codec->Load(meta, step, centers, borrow))
		return Status::Corrupt("HNSW_SQ codec out of range");
	return Status::Ok();
}

}  // namespace

Expected<std::unique_ptr<Index>> NewHnswSqIndex(const IndexConfig &config) noexcept {
	if (config.kind != IndexKind::kHnswSq)
		return Status::InvalidArgument("not an HNSW_SQ config");
	Status s = ValidateConfig(config);
	if (!s.ok())
		return s;
	return Catching("creating an HNSW_SQ index", [&]() -> Expected<std::unique_ptr<Index>> {
		return std::unique_ptr<Index>(std::make_unique<HnswSqIndex>(config));
	});
}

// LoadHnswSqIndex reads the sections into memory the index owns; every read
// of the graph is bounded as a view's is.
Expected<std::unique_ptr<Index>> LoadHnswSqIndex(const IndexHeader &header, IndexStreamReader &r) noexcept {
	auto loaded = Catching("reading an HNSW_SQ index", [&]() -> Expected<std::unique_ptr<Index>> {
		SqMeta sq;
		VECDB_RETURN_IF_ERROR(r.Section(&sq, sizeof(sq)));
		if (sq.dim != static_cast<uint32_t>(header.dim) || sq.clusters == 0 || sq.clusters > kSqMaxClusters)
			return Status::Corrupt("HNSW_SQ codec out of range");
		std::vector<float> step, centers;
		VECDB_RETURN_IF_ERROR(r.SectionArray(&step, static_cast<size_t>(sq.clusters) * sq.dim));
		VECDB_RETURN_IF_ERROR(r.SectionArray(&centers, static_cast<size_t>(sq.clusters) * sq.dim));
		SqCodec codec;
		VECDB_RETURN_IF_ERROR(LoadCodec(header, sq, step.data(), centers.data(), &codec, false));
		HnswSections s;
		VECDB_RETURN_IF_ERROR(r.Section(&s.meta, sizeof(s.meta)));
		IndexConfig graph_config;
		VECDB_RETURN_IF_ERROR(hnsw::HnswConfigOf(header, s.meta, &graph_config, IndexKind::kHnswSq, sq.code_bytes));
		auto owned = std::make_unique<SqOwned>();
		uint64_t n = s.meta.count;
		VECDB_RETURN_IF_ERROR(r.SectionArray(&owned->level0, n * s.meta.per_element));
		VECDB_RETURN_IF_ERROR(r.SectionArray(&owned->labels, n));
		VECDB_RETURN_IF_ERROR(r.SectionArray(&owned->levels, n));
		VECDB_RETURN_IF_ERROR(r.SectionArray(&owned->offsets, n));
		VECDB_RETURN_IF_ERROR(r.SectionArray(&owned->by_label, n));
		VECDB_RETURN_IF_ERROR(r.SectionArray(&owned->upper, s.meta.upper_bytes));
		s.level0 = owned->level0.data();
		s.labels = owned->labels.data();
		s.levels = owned->levels.data();
		s.upper_offsets = owned->offsets.data();
		s.by_label = owned->by_label.data();
		s.upper = owned->upper.data();
		return std::unique_ptr<Index>(std::make_unique<HnswSqView>(SqConfig(header, graph_config, sq), codec,
																	IndexBytes(), s, graph_config,
																	std::move(owned)));
	});
	if (loaded.status().code() == StatusCode::kInternal)
		return Status::Corrupt("corrupt HNSW_SQ index: " + loaded.status().message());
	return loaded;
}

// OpenHnswSqView locates the codec and the graph's sections (O(1)).
Expected<std::unique_ptr<Index>> OpenHnswSqView(const IndexBytes &bytes) noexcept {
	return Catching("opening an HNSW_SQ view", [&]() -> Expected<std::unique_ptr<Index>> {
		ViewCursor c(bytes);
		SqMeta sq;
		const float *step = nullptr, *centers = nullptr;
		VECDB_RETURN_IF_ERROR(c.TakeCopy(&sq));
		if (sq.dim != static_cast<uint32_t>(bytes.header.dim) || sq.clusters == 0 || sq.clusters > kSqMaxClusters)
			return Status::Corrupt("HNSW_SQ codec out of range");
		VECDB_RETURN_IF_ERROR(c.Take(static_cast<size_t>(sq.clusters) * sq.dim, &step));
		VECDB_RETURN_IF_ERROR(c.Take(static_cast<size_t>(sq.clusters) * sq.dim, &centers));
		SqCodec codec;
		VECDB_RETURN_IF_ERROR(LoadCodec(bytes.header, sq, step, centers, &codec, true));
		HnswSections s;
		IndexConfig graph_config;
		VECDB_RETURN_IF_ERROR(
			hnsw::TakeSections(c, bytes.header, IndexKind::kHnswSq, sq.code_bytes, &s, &graph_config));
		VECDB_RETURN_IF_ERROR(c.Done());
		return std::unique_ptr<Index>(std::make_unique<HnswSqView>(SqConfig(bytes.header, graph_config, sq), codec,
																	bytes, s, graph_config, nullptr));
	});
}

}  // namespace vecdb::knowhere
