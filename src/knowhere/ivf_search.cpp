// ivf_search.cpp answers queries on an IVF index, owned or viewed: search,
// filtered search, range search, the iterator and Reconstruct.
//
// Filtered search. Let f = allowed rows / rows. When f < brute_force_ratio
// (default nprobe / nlist, index.cpp) or k >= allowed / 2 the
// allowed rows are searched exactly: listed from the bitset when the labels
// are 0 .. n-1 and at most half are allowed, else by a pass over all lists. Otherwise the search probes nprobe' = min(nlist, ceil(nprobe /
// f)) lists (a 10% filter probes ten times as many lists) through a
// faiss::IDSelector over the bitset in SearchParametersIVF. FAISS results are
// re-checked against the bitset, and a query that comes back with fewer than
// k results while at least k rows are allowed is answered by brute force, so
// k allowed rows always give k results. SearchParams::widen_probes (the GPU
// worker's scans) instead probes further lists in centroid order until they
// hold min(k, allowed) allowed rows, as the iterator's first batch does, and
// skips the k >= allowed / 2 rule. BIN_IVF scans the probed lists itself
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
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "knowhere/catching.hpp"
#include "knowhere/ivf_internal.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::knowhere::ivf {

namespace {

// BitsetSelector adapts a BitsetView (set bit: filtered out) to FAISS' IDSelector.
struct BitsetSelector final : faiss::IDSelector {
	explicit BitsetSelector(BitsetView v) : view(v) {}
	bool is_member(idx_t id) const override { return !view.test(id); }
	BitsetView view;
};

}  // namespace

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

// CountAllowedIn counts list l's rows the filter lets through.
size_t IvfIndex::CountAllowedIn(size_t l, BitsetView filter) const noexcept {
	RowSet rows = ListRows(l);
	if (filter.empty())
		return rows.n;
	size_t n = 0;
	for (size_t i = 0; i < rows.n; i++)
		n += !filter.test(rows.labels[i]);
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
	bool widen = p.widen_probes && !binary_;
	bool brute = f < BruteForceRatio(p, config_) || (!widen && k >= allowed / 2);
	size_t nprobe = EffectiveProbes(p, allowed);
	OmpThreads threads(p.threads);
	ExactScan exact;
	PrepareExact(filter, allowed, &exact);
	if (widen && !brute) {
		/* the iterator's first batch: nprobe' lists, then more in centroid order until they hold enough */
		size_t want = std::min(k, allowed);
		for (size_t q = 0; q < nq; q++) {
			if (Poll(p))
				return Status::Cancelled();
			const uint8_t *query = qv.data() + q * rb;
			std::vector<idx_t> order = ListOrder(query, nlist());
			size_t used = 0, held = 0;
			while (used < order.size() && (used < nprobe || held < want))
				held += CountAllowedIn(static_cast<size_t>(order[used++]), filter);
			order.resize(used);
			VECDB_RETURN_IF_ERROR(ScanLists(query, &order, k, p, filter, labels + q * k, distances + q * k));
		}
		return Status::Ok();
	}
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

}  // namespace vecdb::knowhere::ivf
