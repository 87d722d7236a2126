// growing_index.cpp implements GROWING, the in-memory index over rows that
// keep arriving (a growing segment): Milvus' interim index, so that a large
// backlog of unsealed rows does not cost an exact scan per query.
//
// Design (docs/engine.md, "Growing index"):
// - Below kGrowingTrainRows rows it is an exact FLAT index.
// - At kGrowingTrainRows it trains k-means centroids (nlist = sqrt(rows), on
//   an evenly strided sample of at most kGrowingSamplePerList rows per list)
//   and moves every row into IVF_FLAT lists; later rows are assigned to their
//   nearest centroid as they are added (nlist distances per row). When the
//   rows reach kGrowingRetrainFactor times the count it trained at, it trains
//   again with more lists.
// - A search probes ceil(nlist * kGrowingProbeFraction * ef_search / 40)
//   lists (all of them from ef_search 400 on), so the settings that raise a
//   graph's recall raise this one's too; the IVF kind's own rules widen it
//   for filters and fall back to exact search when the probed lists come up
//   short of k. Iterators walk the rest of the lists in centroid order after
//   the probed ones, so every row is eventually returned.
// - AdoptTraining hands a new growing index the centroids of an older one
//   (the growing segment after a seal holds rows from the same stream): it
//   then switches to lists at kGrowingTrainRows without running k-means.
// - Nothing is serialized: Serialize answers NotSupported.
// - Metrics IVF_FLAT lacks (L1) stay exact at every size.
#include "knowhere/growing_index.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "knowhere/catching.hpp"
#include "knowhere/index_kinds.hpp"

namespace vecdb::knowhere {

namespace {

// kReconstructChunk is how many rows one move between structures copies.
constexpr size_t kReconstructChunk = 8192;

// GrowingIndex holds its rows in exact_ (FLAT) or, once trained, in ivf_
// (IVF_FLAT); labels_ lists every label added, in order.
class GrowingIndex final : public Index {
public:
	explicit GrowingIndex(const IndexConfig &config) : config_(config) {}

	// Init makes the empty exact store.
	Status Init() noexcept {
		IndexConfig flat = config_;
		flat.kind = IndexKind::kFlat;
		auto made = NewFlatIndex(flat);
		if (!made.ok())
			return made.status();
		exact_ = std::move(made).value();
		return Status::Ok();
	}

	IndexKind kind() const noexcept override { return IndexKind::kGrowing; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return static_cast<int64_t>(labels_.size()); }
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + Current().MemoryUsage() + labels_.capacity() * sizeof(int64_t) +
			centroids_.capacity() * sizeof(float);
	}

	// Add appends to the current structure, then switches to lists or
	// retrains when the row count says so (a failed switch keeps the rows
	// where they were, still searchable).
	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override {
		if (n == 0)
			return Status::Ok();
		VECDB_RETURN_IF_ERROR(Catching("growing a growing index", [&] {
			labels_.reserve(labels_.size() + n);
			return Status::Ok();
		}));
		Status s = Current().Add(vectors, labels, n);
		if (!s.ok())
			return s;
		labels_.insert(labels_.end(), labels, labels + n);
		if (!Clusterable())
			return Status::Ok();
		bool first = ivf_ == nullptr && labels_.size() >= kGrowingTrainRows;
		bool again = ivf_ != nullptr && labels_.size() >= kGrowingRetrainFactor * trained_rows_;
		if (gave_up_ || !(first || again))
			return Status::Ok();
		s = Rebuild(again || centroids_.empty() || adopted_lists_ == 0);
		/* the rows are in: a switch that failed for any reason but a cancel is not tried again */
		if (!s.ok() && s.code() != StatusCode::kCancelled) {
			gave_up_ = true;
			return Status::Ok();
		}
		return s;
	}

	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override {
		return Current().Search(queries, nq, k, Probed(params), filter, labels, distances);
	}
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override {
		return Current().RangeSearch(query, radius, Probed(params), filter, out);
	}
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override {
		return Current().CreateIterator(query, Probed(params), filter);
	}
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override {
		return Current().Reconstruct(labels, n, out);
	}
	Status Serialize(ByteWriter &) const noexcept override {
		return Status::NotSupported("a GROWING index lives in memory only");
	}
	// DropBelow keeps the structure (exact rows or lists) and its training.
	Status DropBelow(int64_t first) noexcept override {
		VECDB_RETURN_IF_ERROR(Current().DropBelow(first));
		size_t kept = 0;
		for (int64_t label : labels_)
			if (label >= first)
				labels_[kept++] = label - first;
		labels_.resize(kept);
		return Status::Ok();
	}

	// Lists returns the number of IVF lists searched (0 while exact).
	size_t Lists() const noexcept { return ivf_ != nullptr ? static_cast<size_t>(lists_) : 0; }
	// Plan reports Lists, the probes for params and the IVF kind's ratio.
	GrowingPlan Plan(const SearchParams &params) const noexcept {
		GrowingPlan plan;
		plan.lists = Lists();
		if (plan.lists == 0)
			return plan;
		SearchParams p = Probed(params);
		IndexConfig ivf = config_;
		ivf.kind = IndexKind::kIvfFlat;
		ivf.nlist = lists_;
		plan.probes = static_cast<size_t>(p.nprobe);
		plan.brute_force_ratio = BruteForceRatio(p, ivf);
		return plan;
	}
	// Adopt takes another growing index's centroids for its first switch.
	void Adopt(const GrowingIndex &from) {
		if (from.centroids_.empty() || from.config_.dim != config_.dim || from.config_.metric != config_.metric)
			return;
		centroids_ = from.centroids_;
		adopted_lists_ = from.lists_;
		trained_rows_ = from.trained_rows_;
	}

private:
	Index &Current() const noexcept { return ivf_ != nullptr ? *ivf_ : *exact_; }

	// Clusterable says whether the metric has an IVF_FLAT form.
	bool Clusterable() const noexcept {
		return config_.metric == Metric::kL2 || config_.metric == Metric::kInnerProduct ||
			config_.metric == Metric::kCosine;
	}

	// Probed returns params with nprobe set from ef_search (design notes).
	SearchParams Probed(const SearchParams &params) const noexcept {
		SearchParams p = params;
		if (ivf_ != nullptr) {
			double share = kGrowingProbeFraction * std::max(1, params.ef_search) / kGrowingReferenceEf;
			double probes = std::ceil(static_cast<double>(lists_) * std::min(1.0, share));
			p.nprobe = static_cast<int>(std::clamp(probes, 1.0, static_cast<double>(lists_)));
		}
		return p;
	}

	// Rebuild moves every row into a new IVF_FLAT index, training new
	// centroids (train) or using the adopted ones.
	Status Rebuild(bool train) noexcept {
		return Catching("moving a growing index into lists", [&]() -> Status {
			size_t n = labels_.size();
			size_t row = static_cast<size_t>(config_.dim);
			IndexConfig ivf_config = config_;
			ivf_config.kind = IndexKind::kIvfFlat;
			ivf_config.nlist =
				train ? static_cast<int>(std::max<double>(1.0, std::floor(std::sqrt(static_cast<double>(n)))))
					  : adopted_lists_;
			std::unique_ptr<Index> next;
			if (train) {
				auto made = NewIvfIndex(ivf_config);
				if (!made.ok())
					return made.status();
				next = std::move(made).value();
				size_t want = std::min(n, kGrowingSamplePerList * static_cast<size_t>(ivf_config.nlist));
				std::vector<int64_t> picks(want);
				for (size_t i = 0; i < want; i++)
					picks[i] = labels_[i * n / want];
				std::vector<float> sample(want * row);
				VECDB_RETURN_IF_ERROR(Current().Reconstruct(picks.data(), want, sample.data()));
				next->SetBuildControl(build_stop_, build_stop_arg_);
				VECDB_RETURN_IF_ERROR(next->Train(sample.data(), want));
			} else {
				auto made = NewTrainedIvfFlat(ivf_config, centroids_.data());
				if (!made.ok())
					return made.status();
				next = std::move(made).value();
			}
			std::vector<float> chunk(std::min(n, kReconstructChunk) * row);
			for (size_t at = 0; at < n; at += kReconstructChunk) {
				size_t m = std::min(kReconstructChunk, n - at);
				VECDB_RETURN_IF_ERROR(Current().Reconstruct(labels_.data() + at, m, chunk.data()));
				VECDB_RETURN_IF_ERROR(next->Add(chunk.data(), labels_.data() + at, m));
			}
			if (train) {
				const float *c = IvfFloatCentroids(*next);
				if (c == nullptr)
					return Status::Internal("a trained IVF_FLAT index has no centroids");
				centroids_.assign(c, c + static_cast<size_t>(ivf_config.nlist) * row);
				trained_rows_ = n;
			}
			lists_ = ivf_config.nlist;
			adopted_lists_ = lists_;
			ivf_ = std::move(next);
			exact_.reset();
			return Status::Ok();
		});
	}

	IndexConfig config_;
	std::unique_ptr<Index> exact_;
	std::unique_ptr<Index> ivf_;
	std::vector<int64_t> labels_;
	std::vector<float> centroids_;  /* lists_ x dim, kept for Adopt */
	int lists_ = 0;
	int adopted_lists_ = 0;
	size_t trained_rows_ = 0;
	bool gave_up_ = false;
};

}  // namespace

// NewGrowingIndex makes an empty GROWING index.
Expected<std::unique_ptr<Index>> NewGrowingIndex(const IndexConfig &config) noexcept {
	return Catching("creating a growing index", [&]() -> Expected<std::unique_ptr<Index>> {
		auto index = std::make_unique<GrowingIndex>(config);
		VECDB_RETURN_IF_ERROR(index->Init());
		return std::unique_ptr<Index>(std::move(index));
	});
}

// AdoptGrowingTraining gives to (a new GROWING index) the centroids from
// trained; anything else is left alone.
void AdoptGrowingTraining(const Index &trained, Index *to) noexcept {
	auto *src = dynamic_cast<const GrowingIndex *>(&trained);
	auto *dst = dynamic_cast<GrowingIndex *>(to);
	if (src == nullptr || dst == nullptr || dst->count() > 0)
		return;
	/* on failure, without the centroids, it trains its own */
	(void) Catching("adopting a growing index's training", [&] {
		dst->Adopt(*src);
		return Status::Ok();
	});
}

// GrowingIndexLists returns the lists a GROWING index searches (0: exact).
size_t GrowingIndexLists(const Index &index) noexcept {
	auto *g = dynamic_cast<const GrowingIndex *>(&index);
	return g != nullptr ? g->Lists() : 0;
}

// GrowingSearchPlan asks a GROWING index (an empty plan for other kinds).
GrowingPlan GrowingSearchPlan(const Index &index, const SearchParams &params) noexcept {
	auto *g = dynamic_cast<const GrowingIndex *>(&index);
	return g != nullptr ? g->Plan(params) : GrowingPlan();
}

}  // namespace vecdb::knowhere
