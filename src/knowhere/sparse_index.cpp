// sparse_index.cpp implements SPARSE_INVERTED's storage: checked rows kept in
// compressed form, one posting list per dimension, Add, GetRow and the factory.
//
// Design. A row is stored once in compressed form (offsets, indices, values;
// normalized under cosine), which is what Serialize writes, GetRow returns and
// the exact scan of a few allowed rows reads. Rows get dense positions
// 0 .. count-1 in order of arrival, and every dimension some row holds has a
// posting list of (position, value) in position order, so appending rows
// keeps lists sorted without a sort, and WAND (sparse_search.cpp) can walk
// them document at a time. A list also keeps its smallest and largest value:
// the bound WAND needs. Lists are derived data: loading rebuilds them from
// the rows, so the stored form has no second copy to check.
//
// Add checks every row first (nothing changes on a bad row), appends the
// compressed rows, then the postings (counted first, so one Add reserves each
// list's exact size); a cancel or an allocation failure truncates every array
// back to the rows held before.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "knowhere/catching.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/sparse_internal.hpp"

namespace vecdb::knowhere {

namespace {

// kDenseSlotDims bounds the dimensions for which IndexRows maps dimensions to
// lists through a dense table (4 bytes a dimension) instead of the hash map.
constexpr uint64_t kDenseSlotDims = uint64_t{1} << 22;
constexpr uint32_t kNoList = std::numeric_limits<uint32_t>::max();

}  // namespace

// ValidateSparseSearch checks k, drop_ratio and refine.
Status ValidateSparseSearch(const SparseSearchParams &params, size_t k) noexcept {
	if (k == 0)
		return Status::InvalidArgument("k must be at least 1");
	if (!(params.drop_ratio >= 0.0f && params.drop_ratio < 1.0f))
		return Status::InvalidArgument("drop_ratio must be at least 0 and below 1");
	if (params.refine < 0 || params.refine > kMaxSparseRefine)
		return Status::InvalidArgument("refine must be between 0 and " + std::to_string(kMaxSparseRefine));
	if (!(params.brute_force_ratio < 0.0 || params.brute_force_ratio <= 1.0))
		return Status::InvalidArgument("brute_force_ratio must be between 0 and 1 (negative: the default)");
	if (params.algorithm != SparseAlgorithm::kExact && params.algorithm != SparseAlgorithm::kWand)
		return Status::InvalidArgument("unknown sparse search algorithm");
	return Status::Ok();
}

// CheckRow checks that indices are strictly increasing and below dim, values
// finite, and (cosine) that the row is not zero.
Status SparseInvertedIndex::CheckRow(const SparseRow &row, const char *what) const noexcept {
	if (row.nnz > 0 && (row.indices == nullptr || row.values == nullptr))
		return Status::InvalidArgument(std::string(what) + " has null indices or values");
	double norm_sq = 0;
	for (uint32_t i = 0; i < row.nnz; i++) {
		if (row.indices[i] < 0 || row.indices[i] >= dim_)
			return Status::InvalidArgument(std::string(what) + " has an index out of range: " +
										   std::to_string(row.indices[i]));
		if (i > 0 && row.indices[i] <= row.indices[i - 1])
			return Status::InvalidArgument(std::string(what) + " indices must be strictly increasing");
		if (!std::isfinite(row.values[i]))
			return Status::InvalidArgument(std::string(what) + " has a NaN or infinite value");
		norm_sq += static_cast<double>(row.values[i]) * row.values[i];
	}
	if (metric_ == Metric::kCosine && !(norm_sq > 0))
		return Status::InvalidArgument(std::string(what) + " is zero, which has no cosine distance");
	return Status::Ok();
}

// AppendRows copies n checked rows (normalized under cosine) and their labels.
void SparseInvertedIndex::AppendRows(const SparseRow *rows, const int64_t *labels, size_t n) {
	uint64_t added = 0;
	for (size_t i = 0; i < n; i++)
		added += rows[i].nnz;
	indices_.reserve(indices_.size() + added);
	values_.reserve(values_.size() + added);
	row_offsets_.reserve(row_offsets_.size() + n);
	labels_.reserve(labels_.size() + n);
	for (size_t i = 0; i < n; i++) {
		const SparseRow &row = rows[i];
		double norm_sq = 0;
		for (uint32_t j = 0; j < row.nnz; j++)
			norm_sq += static_cast<double>(row.values[j]) * row.values[j];
		float scale = metric_ == Metric::kCosine ? static_cast<float>(1.0 / std::sqrt(norm_sq)) : 1.0f;
		indices_.insert(indices_.end(), row.indices, row.indices + row.nnz);
		for (uint32_t j = 0; j < row.nnz; j++)
			values_.push_back(row.values[j] * scale);
		row_offsets_.push_back(indices_.size());
		labels_.push_back(labels[i]);
	}
}

// IndexRows counts the new rows' postings per list, reserves, then appends
// them, and fills the derived per-row arrays. With poll it asks the build
// stop callback every kStopPollRows rows and returns false on a stop.
bool SparseInvertedIndex::IndexRows(size_t first, bool poll) {
	size_t n = labels_.size();
	uint64_t postings = row_offsets_[n] - row_offsets_[first];
	std::vector<uint32_t> adding(lists_.size(), 0);
	/*
	 * Many postings over few dimensions (a build or a load): a dense table
	 * dimension -> list replaces two hash look-ups per posting.
	 */
	std::vector<uint32_t> slot;
	if (static_cast<uint64_t>(dim_) <= kDenseSlotDims && postings >= static_cast<uint64_t>(dim_) / 4) {
		slot.assign(static_cast<size_t>(dim_), kNoList);
		for (const auto &entry : list_of_dim_)
			slot[static_cast<size_t>(entry.first)] = entry.second;
	}
	for (uint64_t p = row_offsets_[first]; p < row_offsets_[n]; p++) {
		uint32_t l;
		if (!slot.empty()) {
			l = slot[static_cast<size_t>(indices_[p])];
			if (l == kNoList) {
				l = static_cast<uint32_t>(lists_.size());
				slot[static_cast<size_t>(indices_[p])] = l;
				list_of_dim_.emplace(indices_[p], l);
				lists_.emplace_back();
				adding.push_back(0);
			}
		} else {
			auto found = list_of_dim_.emplace(indices_[p], static_cast<uint32_t>(lists_.size()));
			if (found.second) {
				lists_.emplace_back();
				adding.push_back(0);
			}
			l = found.first->second;
		}
		adding[l]++;
	}
	for (size_t l = 0; l < lists_.size(); l++) {
		PostingList &list = lists_[l];
		size_t need = list.rows.size() + adding[l], cap = list.rows.capacity();
		if (need > cap) {
			size_t want = cap == 0 ? need : std::max(need, cap + cap / 2);
			list.rows.reserve(want);
			list.values.reserve(want);
		}
	}
	for (size_t r = first; r < n; r++) {
		SparseRow row = RowAt(r);
		float norm_sq = 0;
		for (uint32_t j = 0; j < row.nnz; j++) {
			PostingList &list = lists_[slot.empty() ? list_of_dim_.find(row.indices[j])->second
												   : slot[static_cast<size_t>(row.indices[j])]];
			float v = row.values[j];
			list.rows.push_back(static_cast<uint32_t>(r));
			list.values.push_back(v);
			list.max_value = std::max(list.max_value, v);
			list.min_value = std::min(list.min_value, v);
			norm_sq += v * v;
		}
		norms_sq_.push_back(norm_sq);
		if (poll && (r - first) % kStopPollRows == kStopPollRows - 1) {
			if (BuildStopRequested())
				return false;
			ReportProgress(r + 1 - first, n - first);
		}
	}
	for (size_t r = first; r < n; r++) {
		ascending_ = ascending_ && (r == 0 || labels_[r] > labels_[r - 1]);
		identity_labels_ = identity_labels_ && labels_[r] == static_cast<int64_t>(r);
	}
	return true;
}

// TruncateRows cuts rows, postings and derived arrays back to first rows.
// Bounds of trimmed lists stay as they were: still bounds, only looser.
void SparseInvertedIndex::TruncateRows(size_t first) noexcept {
	for (PostingList &list : lists_) {
		size_t keep = static_cast<size_t>(
			std::lower_bound(list.rows.begin(), list.rows.end(), static_cast<uint32_t>(first)) - list.rows.begin());
		list.rows.resize(keep);
		list.values.resize(keep);
	}
	uint64_t end = row_offsets_[first];
	indices_.resize(end);
	values_.resize(end);
	row_offsets_.resize(first + 1);
	labels_.resize(first);
	norms_sq_.resize(std::min(first, norms_sq_.size()));
	ascending_ = identity_labels_ = true;
	for (size_t r = 0; r < first; r++) {
		ascending_ = ascending_ && (r == 0 || labels_[r] > labels_[r - 1]);
		identity_labels_ = identity_labels_ && labels_[r] == static_cast<int64_t>(r);
	}
}

// Add checks the call and every row, then appends rows and postings; a
// failure or cancel leaves the index as it was.
Status SparseInvertedIndex::Add(const SparseRow *rows, const int64_t *labels, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	if (rows == nullptr || labels == nullptr)
		return Status::InvalidArgument("rows and labels must not be null");
	size_t old_n = labels_.size();
	if (n > std::numeric_limits<uint32_t>::max() - old_n)
		return Status::InvalidArgument("a sparse index holds at most 4294967295 rows");
	for (size_t i = 0; i < n; i++) {
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative, not " + std::to_string(labels[i]));
		VECDB_RETURN_IF_ERROR(CheckRow(rows[i], "sparse vector"));
		if (i % kStopPollRows == kStopPollRows - 1 && BuildStopRequested())
			return Status::Cancelled();
	}
	Status s = Catching("adding rows to a sparse index", [&] {
		AppendRows(rows, labels, n);
		if (BuildStopRequested() || !IndexRows(old_n, true))
			return Status::Cancelled();
		return Status::Ok();
	});
	if (!s.ok()) {
		TruncateRows(old_n);
		return s;
	}
	ReportProgress(n, n);
	return Status::Ok();
}

// FindList looks a dimension's posting list up.
const PostingList *SparseInvertedIndex::FindList(int32_t d) const noexcept {
	auto it = list_of_dim_.find(d);
	return it == list_of_dim_.end() ? nullptr : &lists_[it->second];
}

// RowOf finds label by binary search when labels ascend, else by one pass.
size_t SparseInvertedIndex::RowOf(int64_t label) const noexcept {
	if (!ascending_)
		return static_cast<size_t>(std::find(labels_.begin(), labels_.end(), label) - labels_.begin());
	auto it = std::lower_bound(labels_.begin(), labels_.end(), label);
	return it != labels_.end() && *it == label ? static_cast<size_t>(it - labels_.begin()) : labels_.size();
}

// GetRow returns the stored row of label.
Status SparseInvertedIndex::GetRow(int64_t label, SparseRow *row) const noexcept {
	if (row == nullptr)
		return Status::InvalidArgument("row must not be null");
	size_t r = RowOf(label);
	if (r == labels_.size())
		return Status::InvalidArgument("index holds no row with label " + std::to_string(label));
	*row = RowAt(r);
	return Status::Ok();
}

// MemoryUsage adds up the arrays' capacities and the list map's nodes.
size_t SparseInvertedIndex::MemoryUsage() const noexcept {
	size_t bytes = sizeof(*this) + labels_.capacity() * sizeof(int64_t) + row_offsets_.capacity() * sizeof(uint64_t) +
		indices_.capacity() * sizeof(int32_t) + values_.capacity() * sizeof(float) +
		norms_sq_.capacity() * sizeof(float) + lists_.capacity() * sizeof(PostingList) +
		list_of_dim_.bucket_count() * sizeof(void *) + list_of_dim_.size() * 32;
	for (const PostingList &list : lists_)
		bytes += list.rows.capacity() * sizeof(uint32_t) + list.values.capacity() * sizeof(float);
	return bytes;
}

// EstimateSparseMemory counts per row a label, an offset and a norm, and per
// non-zero its stored index and value plus its posting (row, value).
size_t EstimateSparseMemory(size_t n, uint64_t nnz) noexcept {
	return sizeof(SparseInvertedIndex) + n * (sizeof(int64_t) + sizeof(uint64_t) + sizeof(float)) +
		static_cast<size_t>(nnz) * 16;
}

// CreateSparseIndex validates the config and makes an empty index.
Expected<std::unique_ptr<SparseIndex>> CreateSparseIndex(const IndexConfig &config) noexcept {
	Status s = ValidateConfig(config);
	if (!s.ok())
		return s;
	if (!IsSparseKind(config.kind))
		return Status::InvalidArgument("CreateSparseIndex makes sparse kinds only; use CreateIndex");
	return Catching("creating a sparse index", [&]() -> Expected<std::unique_ptr<SparseIndex>> {
		return std::unique_ptr<SparseIndex>(new SparseInvertedIndex(config.metric, config.dim));
	});
}

}  // namespace vecdb::knowhere
