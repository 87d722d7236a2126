// hnsw_build.cpp adds rows to an HNSW index: the batch is stored unlinked,
// then linked by the calling thread and build workers; and makes new indexes.
//
// Build threads (IndexConfig.threads): Add draws every new element's level in
// batch order on the calling thread (so one thread gives exactly the graph of
// a serial build, and two serial builds are byte-identical), stores the
// elements unlinked, then links them from a shared counter on the calling
// thread and threads - 1 workers (ThreadGroup: signals blocked); the graph's
// locks make the concurrent inserts safe (hnsw_graph.cpp). Only the calling
// thread polls the build stop callback (every kBuildPollInserts of its own
// inserts and each millisecond while it waits); on a stop, workers finish the
// element they hold and take no more, so the linked elements are a prefix of
// the batch: the rest are freed and never counted.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "knowhere/catching.hpp"
#include "knowhere/distance.hpp"
#include "knowhere/hnsw_internal.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::knowhere {

namespace hnsw {

namespace {

// kBuildPollInserts is how many of its own inserts the calling thread makes
// between two polls of the build stop callback (about 25 ms at m 16, ef 64).
constexpr size_t kBuildPollInserts = 256;

// kReachCheckWidth is the layer-0 beam of RepairReach's check.
constexpr size_t kReachCheckWidth = 16;

// kCompactRowsMinDim is the fewest dimensions for which a first batch
// scores float16 rows (HnswBuildOptions::link_rows), kByteRowsMinDim the
// fewest for byte rows: below it a row is a few cache lines either way,
// and bytes built no faster (100,000 x 128: 7.0 s against 6.6 s).
constexpr int kCompactRowsMinDim = 64;
constexpr int kByteRowsMinDim = 256;

// kByteRowsMinLevels: byte rows need the median dimension (of those that
// vary) to span at least this many of the 255 steps; a few dimensions far
// wider than the rest would leave the others too few levels, and the
// batch scores float16 rows instead.
constexpr float kByteRowsMinLevels = 32.0f;

// HalfRowScale finds the power of two that puts the largest magnitude of
// the n stored vectors in [2^14, 2^15): below float16's largest finite
// value, with the most room beneath it. False when there is none in float.
bool HalfRowScale(HnswGraph &g, size_t n, size_t dim, float *scale) {
	float largest = 0.0f;
	for (size_t id = 0; id < n; id++) {
		const float *v = g.VectorPtr(static_cast<tableint>(id));
		for (size_t j = 0; j < dim; j++)
			largest = std::max(largest, std::fabs(v[j]));
	}
	if (largest == 0.0f) {
		*scale = 1.0f;
		return true;
	}
	int e;
	std::frexp(largest, &e);
	if (15 - e > 126 || 15 - e < -126)
		return false;
	*scale = std::ldexp(1.0f, 15 - e);
	return true;
}

// ByteRowLevels finds the byte rows' levels for the n stored vectors:
// low[j] is dimension j's smallest value, step the widest dimension's range
// over 255. False when a range is not a finite float or the median varying
// dimension would span fewer than kByteRowsMinLevels steps.
bool ByteRowLevels(HnswGraph &g, size_t n, size_t dim, std::vector<float> *low, float *step) {
	std::vector<float> high(dim, -std::numeric_limits<float>::infinity());
	low->assign(dim, std::numeric_limits<float>::infinity());
	for (size_t id = 0; id < n; id++) {
		const float *v = g.VectorPtr(static_cast<tableint>(id));
		for (size_t j = 0; j < dim; j++) {
			(*low)[j] = std::min((*low)[j], v[j]);
			high[j] = std::max(high[j], v[j]);
		}
	}
	std::vector<float> ranges;
	float widest = 0.0f;
	for (size_t j = 0; j < dim; j++) {
		float range = high[j] - (*low)[j];
		widest = std::max(widest, range);
		if (range > 0.0f)
			ranges.push_back(range);
	}
	if (!std::isfinite(widest))
		return false;
	if (ranges.empty()) {
		*step = 1.0f; /* every row alike: every level 0 */
		return true;
	}
	*step = widest / 255.0f;
	std::nth_element(ranges.begin(), ranges.begin() + ranges.size() / 2, ranges.end());
	return std::isnormal(*step) && ranges[ranges.size() / 2] >= kByteRowsMinLevels * *step;
}

}  // namespace

// Add checks its arguments and runs AddImpl inside Catching.
Status HnswIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors and labels must not be null");
	return Catching("adding to an HNSW index",
					[&] { return AddImpl(static_cast<const float *>(vectors), labels, n); });
}

// AddImpl validates the labels (non-negative, new), stores the prepared rows
// (finite, non-zero for cosine) unlinked, then links them (LinkBatch).
Status HnswIndex::AddImpl(const float *vectors, const int64_t *labels, size_t n) {
	HnswGraph &g = *graph_;
	if (g.count() + n > std::numeric_limits<tableint>::max() / 2)
		return Status::InvalidArgument("too many rows for an HNSW index");
	std::unordered_set<int64_t> batch;
	batch.reserve(n);
	for (size_t i = 0; i < n; i++) {
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative");
		if (!batch.insert(labels[i]).second || g.HasLabel(labels[i]))
			return Status::InvalidArgument("label " + std::to_string(labels[i]) + " added twice");
	}
	if (BuildStopRequested())
		return Status::Cancelled();
	size_t base = g.count();
	g.EnsureCapacity(base + n);
	labels_.reserve(base + n);
	g.ReserveLabels(base + n);
	VECDB_RETURN_IF_ERROR(StoreBatch(vectors, labels, n, base));
	size_t linked = 0;
	Status s;
	{
		/* A first batch may link over float16 or byte rows; the float
		   vectors are written back however LinkBatch ends. */
		size_t dim = static_cast<size_t>(config_.dim);
		bool compact = base == 0 && options_.link_rows != LinkRows::kFloat && config_.dim >= kCompactRowsMinDim;
		std::vector<float> low;
		float step = 0.0f, scale = 0.0f;
		bool bytes = compact && options_.link_rows == LinkRows::kByte && config_.dim >= kByteRowsMinDim &&
			config_.metric != Metric::kInnerProduct && ByteRowLevels(g, n, dim, &low, &step);
		bool halves = compact && !bytes && HalfRowScale(g, n, dim, &scale);
		struct FloatsBack {
			HnswIndex *index;
			const float *vectors;
			size_t n;
			bool on;
			~FloatsBack() {
				if (on)
					index->RestoreRows(vectors, n);
			}
		} floats_back{this, vectors, n, halves || bytes};
		if (bytes)
			g.ScoreAsBytes(n, config_.metric, low.data(), step, vectors);
		else if (halves)
			g.ScoreAsHalves(n, scale, vectors);
		s = LinkBatch(base, n, &linked);
		/* the repairs score as the linking did: a first batch's compact
		   rows, a half or a quarter of the bytes a score reads */
		if (config_.threads > 1)
			g.RepairOrphans(base + linked);
		if (s.ok() && options_.repair_reach)
			s = RepairReach(base, linked);
	}
	for (size_t i = linked; i < n; i++)
		g.FreeElement(static_cast<tableint>(base + i));
	for (size_t i = 0; i < linked; i++)
		g.AddLabel(labels[i], static_cast<tableint>(base + i));
	labels_.insert(labels_.end(), labels, labels + linked);
	span_.Note(labels_.data(), base, linked);
	g.SetCount(base + linked);
	if (s.ok())
		ReportProgress(n, n);
	return s;
}

// StoreBatch prepares each row into its element's vector slot and draws the
// levels in batch order (the serial build's sequence).
Status HnswIndex::StoreBatch(const float *v, const int64_t *labels, size_t n, size_t base) {
	HnswGraph &g = *graph_;
	size_t d = static_cast<size_t>(config_.dim);
	size_t done = 0;
	Status s;
	try {
		for (; done < n; done++) {
			tableint id = static_cast<tableint>(base + done);
			s = PrepareVector(config_.metric, config_.dim, v + done * d, g.VectorPtr(id), "vector");
			if (!s.ok())
				break;
			g.InitElement(id, labels[done], g.DrawLevel());
		}
	} catch (...) {
		/* not a conversion to Status: the stored elements are freed, then the caller's Catching answers */
		for (size_t i = 0; i < done; i++)
			g.FreeElement(static_cast<tableint>(base + i));
		throw;
	}
	if (!s.ok())
		for (size_t i = 0; i < done; i++)
			g.FreeElement(static_cast<tableint>(base + i));
	return s;
}

// RestoreRows makes a first batch of n elements score float rows again and
// writes their prepared vectors back over the float16 or byte rows (PrepareVector
// succeeded on each row before, so it does again).
void HnswIndex::RestoreRows(const float *v, size_t n) noexcept {
	HnswGraph &g = *graph_;
	g.ScoreAsFloats();
	size_t d = static_cast<size_t>(config_.dim);
	for (size_t i = 0; i < n; i++)
		(void) PrepareVector(config_.metric, config_.dim, v + i * d, g.VectorPtr(static_cast<tableint>(i)), "vector");
}

// LinkBatch hands out elements from a shared counter. Workers stop taking
// elements once the shared flag is up; the calling thread raises it on a
// stop request or any failure. Every element taken is linked (or failed
// while linking, still a valid element), so the linked ones are a prefix.
Status HnswIndex::LinkBatch(size_t base, size_t n, size_t *linked) {
	HnswGraph &g = *graph_;
	std::atomic<size_t> next{0};
	std::atomic<size_t> done{0};
	std::atomic<bool> stop{false};
	std::atomic<size_t> workers_done{0};
	g.BeginBatch(base, n, options_.build_memo);
	struct BatchEnd {
		HnswGraph &g;
		~BatchEnd() { g.EndBatch(); }
	} batch_end{g};
	/* link_some links elements until none are left or stop is raised; it
	   polls and reports after every `poll_every` of its own, when asked to.
	   A cancel or failure raises stop for every thread. */
	auto link_some = [&](size_t poll_every, Status *status) noexcept {
		size_t mine = 0;
		Status s = Catching("adding to an HNSW index", [&]() -> Status {
			while (!stop.load(std::memory_order_relaxed)) {
				size_t i = next.fetch_add(1, std::memory_order_relaxed);
				if (i >= n)
					return Status::Ok();
				g.Link(static_cast<tableint>(base + i), options_);
				done.fetch_add(1, std::memory_order_relaxed);
				if (poll_every != 0 && ++mine % poll_every == 0) {
					if (BuildStopRequested())
						return Status::Cancelled();
					ReportProgress(done.load(std::memory_order_relaxed), n);
				}
			}
			return Status::Ok();
		});
		if (!s.ok()) {
			*status = s;
			stop.store(true);
		}
	};

	size_t want = std::min<size_t>(static_cast<size_t>(std::max(config_.threads, 1)), n) - 1;
	std::vector<Status> worker_status(want);
	ThreadGroup group;
	size_t started = group.Start(want, [&](size_t t) noexcept {
		link_some(0, &worker_status[t]);
		workers_done.fetch_add(1, std::memory_order_release);
	});
	Status status;
	link_some(kBuildPollInserts, &status);
	while (workers_done.load(std::memory_order_acquire) < started) {
		if (status.ok() && !stop.load(std::memory_order_relaxed) && BuildStopRequested()) {
			status = Status::Cancelled();
			stop.store(true);
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	group.Join();
	*linked = std::min(next.load(), n);
	/* A real failure outranks the cancel it may have caused. */
	for (size_t t = 0; t < started; t++)
		if (!worker_status[t].ok())
			return worker_status[t];
	return status;
}

// RepairReach runs FindsItself for every new element, and ClosestFound for
// each one it misses, on the calling thread and config.threads - 1 workers
// (both only read the graph); then the calling thread adds the links in id
// order (LinkFound), so the repair of a given graph does not depend on the
// threads. A stop request ends it, with the graph as the links made so far
// left it.
Status HnswIndex::RepairReach(size_t base, size_t n) {
	HnswGraph &g = *graph_;
	if (n == 0)
		return Status::Ok();
	std::atomic<size_t> next{0};
	std::atomic<bool> stop{false};
	size_t threads = std::min<size_t>(static_cast<size_t>(std::max(config_.threads, 1)), n);
	std::vector<std::vector<std::pair<tableint, tableint>>> found(threads);
	std::vector<Status> status(threads);
	auto check_some = [&](size_t t, bool poll) noexcept {
		Status s = Catching("checking an HNSW index's rows", [&]() -> Status {
			size_t mine = 0;
			while (!stop.load(std::memory_order_relaxed)) {
				size_t i = next.fetch_add(1, std::memory_order_relaxed);
				if (i >= n)
					return Status::Ok();
				tableint id = static_cast<tableint>(base + i);
				if (!g.FindsItself(id, kReachCheckWidth))
					found[t].emplace_back(g.ClosestFound(id), id);
				if (poll && ++mine % kBuildPollInserts == 0 && BuildStopRequested())
					return Status::Cancelled();
			}
			return Status::Ok();
		});
		if (!s.ok()) {
			status[t] = s;
			stop.store(true);
		}
	};
	ThreadGroup group;
	size_t started = group.Start(threads - 1, [&](size_t t) noexcept { check_some(t + 1, false); });
	check_some(0, true);
	group.Join();
	for (size_t t = 0; t <= started; t++)
		if (!status[t].ok())
			return status[t];
	std::vector<std::pair<tableint, tableint>> links;
	for (const auto &f : found)
		links.insert(links.end(), f.begin(), f.end());
	std::sort(links.begin(), links.end(),
			  [](const std::pair<tableint, tableint> &a, const std::pair<tableint, tableint> &b) {
				  return a.second < b.second;
			  });
	return Catching("linking an HNSW index's missed rows", [&]() -> Status {
		size_t polls = 0;
		bool stopped = false;
		g.LinkFound(links, base + n, [&] {
			stopped = stopped || (++polls % kBuildPollInserts == 0 && BuildStopRequested());
			return stopped;
		});
		return stopped ? Status::Cancelled() : Status::Ok();
	});
}

}  // namespace hnsw

// NewHnswIndexWithOptions makes an empty HNSW index with the given neighbour selection.
Expected<std::unique_ptr<Index>> NewHnswIndexWithOptions(const IndexConfig &config,
														 const HnswBuildOptions &options) noexcept {
	if (config.kind != IndexKind::kHnsw)
		return Status::InvalidArgument("not an HNSW config");
	Status s = ValidateConfig(config);
	if (!s.ok())
		return s;
	return Catching("creating an HNSW index", [&]() -> Expected<std::unique_ptr<Index>> {
		return std::unique_ptr<Index>(std::make_unique<hnsw::HnswIndex>(config, options, hnsw::kInitialCapacity));
	});
}

// NewHnswIndex makes an empty HNSW index with the default neighbour
// selection and the config's reach repair.
Expected<std::unique_ptr<Index>> NewHnswIndex(const IndexConfig &config) noexcept {
	return NewHnswIndexWithOptions(config, HnswBuildOptionsFor(config));
}

// EstimateHnswMemory mirrors MemoryUsage for one Build of n rows: the graph's
// estimate (HnswGraph::EstimateMemory) and n labels.
size_t EstimateHnswMemory(const IndexConfig &config, size_t n) noexcept {
	return sizeof(hnsw::HnswIndex) + hnsw::HnswGraph::EstimateMemory(config, n) + n * sizeof(int64_t);
}

}  // namespace vecdb::knowhere
