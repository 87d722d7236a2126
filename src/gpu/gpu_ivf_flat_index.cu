// gpu_ivf_flat_index.cu implements GPU_IVF_FLAT: IVF_FLAT whose k-means,
// row assignment and search run on device 0.
//
// Design. The index wraps a host twin, an engine IVF_FLAT index holding the
// same centroids and lists: it is the stored form (Serialize nests the
// twin's bytes), and it answers what the device does not (RangeSearch,
// CreateIterator, Reconstruct, k above kMaxSelectK, rows over 1024 floats),
// so every answer has a CPU twin that returns the same rows. The coarse
// quantizer is a GPU_FLAT index over the centroids (L2, or inner product for
// inner product and cosine, on prepared rows): its exact batch search
// assigns rows in Add (k = 1) and picks the probed lists in Search.
//
// Device copy. The rows in list order (padded to float4), their labels and
// the list offsets. Add only marks the copy stale; the next Search uploads
// every list again (a whole copy: O(rows) per Add-then-Search, fine for
// builds, costly for many small adds between searches).
//
// Search follows IVF_FLAT's rules exactly (ivf_search.cpp): f = allowed /
// rows; when f < brute_force_ratio (default nprobe / nlist) or k >= allowed
// / 2 the query is exact over every allowed row; else nprobe' = min(nlist,
// ceil(nprobe / f)) lists are probed, and a query whose probed lists hold
// fewer than min(k, allowed) allowed rows is answered again exactly; with
// SearchParams::widen_probes (the GPU worker's scans) it probes further lists
// in centroid order until they hold that many, as IVF_FLAT does then. On the
// device each query gets a set of row ranges (its probed lists, cut into
// pieces of at most kRangeRows rows; or slices of all rows when exact), one
// block scores a range with direct FP32 distances and keeps its k best (the
// fused scan of gpu_flat_kernels.cu, reading ranges), and merge passes leave
// one list per query. Filtered rows (the bitset, by label) are never loaded.
#include "gpu/gpu_ivf_flat_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "gpu/cuda_status.cuh"
#include "gpu/device_buffer.cuh"
#include "gpu/gpu_flat_index.hpp"
#include "gpu/gpu_flat_kernels.cuh"
#include "gpu/gpu_kmeans.hpp"
#include "gpu/key_lists.cuh"
#include "knowhere/brute_force.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/params.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::gpu {

using knowhere::BitsetView;
using knowhere::ByteWriter;
using knowhere::Expected;
using knowhere::Index;
using knowhere::IndexConfig;
using knowhere::IndexKind;
using knowhere::Iterator;
using knowhere::Metric;
using knowhere::Neighbor;
using knowhere::SearchParams;
using knowhere::Status;

namespace {

// kRangeRows is the most rows one block scans for one query.
constexpr uint32_t kRangeRows = 8192;
// kPartialBytes bounds the per-range key lists of one chunk of queries.
constexpr size_t kPartialBytes = size_t{256} << 20;
// kAssignRows is the rows assigned to lists per coarse search in Add.
constexpr size_t kAssignRows = 65536;



// GpuIvfFlatIndex is the GPU inverted-file index.
class GpuIvfFlatIndex final : public Index {
public:
	GpuIvfFlatIndex(const IndexConfig &config, int sms, std::unique_ptr<Index> twin) noexcept
		: config_(config), dim_pad_(static_cast<int>(RoundUp(config.dim, 4))), sms_(sms), twin_(std::move(twin)) {
		config_.kind = IndexKind::kGpuIvfFlat;
	}
	~GpuIvfFlatIndex() override {
		if (stream_ != nullptr)
			cudaStreamDestroy(stream_);
	}

	void SetBuildControl(knowhere::StopCallback should_stop, void *stop_arg) noexcept override {
		Index::SetBuildControl(should_stop, stop_arg);
		twin_->SetBuildControl(should_stop, stop_arg);
	}
	void SetBuildProgress(knowhere::ProgressCallback progress, void *progress_arg) noexcept override {
		Index::SetBuildProgress(progress, progress_arg);
		twin_->SetBuildProgress(progress, progress_arg);
	}

	IndexKind kind() const noexcept override { return IndexKind::kGpuIvfFlat; }
	Metric metric() const noexcept override { return config_.metric; }
	int dim() const noexcept override { return config_.dim; }
	int64_t count() const noexcept override { return twin_->count(); }
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + twin_->MemoryUsage() + (coarse_ != nullptr ? coarse_->MemoryUsage() : 0) +
			offsets_.capacity() * sizeof(uint64_t) + h_labels_.capacity() * sizeof(int64_t);
	}
	bool NeedsTraining() const noexcept override { return twin_->NeedsTraining(); }
	size_t AddSlice() const noexcept override { return kAssignRows; }

	Status Train(const void *vectors, size_t n) noexcept override;
	Status Add(const void *vectors, const int64_t *labels, size_t n) noexcept override;
	Status Search(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
				  int64_t *labels, float *distances) const noexcept override;
	Status RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
					   std::vector<Neighbor> *out) const noexcept override {
		return twin_->RangeSearch(query, radius, params, filter, out);
	}
	Expected<std::unique_ptr<Iterator>> CreateIterator(const void *query, const SearchParams &params,
													   BitsetView filter) const noexcept override {
		return twin_->CreateIterator(query, params, filter);
	}
	Status Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept override {
		return twin_->Reconstruct(labels, n, out);
	}
	Status Serialize(ByteWriter &writer) const noexcept override;
	Status DropBelow(int64_t first) noexcept override {
		Status s = twin_->DropBelow(first);
		MarkStale();
		return s;
	}

	// Adopt makes twin (an IVF_FLAT index, trained or not) this index's
	// lists and builds the coarse quantizer from its centroids.
	Status Adopt(std::unique_ptr<Index> twin, bool trained_on_gpu) noexcept;
	// Load reads the nested IVF_FLAT bytes after the header and adopts them.
	Status Load(const knowhere::IndexHeader &header, knowhere::IndexStreamReader &reader) noexcept;
	// Stats returns the search counters.
	GpuIvfFlatStats Stats() const noexcept {
		std::lock_guard<std::mutex> lock(mu_);
		return stats_;
	}

private:
	// TwinConfig is this index's config as an IVF_FLAT one.
	IndexConfig TwinConfig() const noexcept {
		IndexConfig c = config_;
		c.kind = IndexKind::kIvfFlat;
		return c;
	}
	// MarkStale says the device copy must be uploaded again (Add, DropBelow).
	void MarkStale() noexcept {
		std::lock_guard<std::mutex> lock(mu_);
		stale_ = true;
	}
	// Sync uploads the twin's lists when stale (mu_ held).
	Status Sync() const noexcept;
	// CountAllowed returns the rows the filter lets through (mu_ held, synced).
	size_t CountAllowed(BitsetView filter) const noexcept;
	// UploadFilter copies the bitset's bytes up to the largest label.
	Status UploadFilter(BitsetView filter, RowFilter *rf) const noexcept;
	// ExactRanges gives each of nq queries the same slices of every row.
	void ExactRanges(size_t nq, int k, std::vector<uint32_t> *ranges, int *slots) const;
	// KeepListsHolding trims each query's lists to those widen_probes scans.
	void KeepListsHolding(int64_t *lists, size_t nq, size_t probes, size_t nprobe, size_t want,
						  BitsetView filter) const noexcept;
	// ProbeRanges gives each query its probed lists (nq x probes list
	// numbers, -1 for none), cut into pieces of at most kRangeRows.
	void ProbeRanges(const int64_t *lists, size_t nq, size_t probes, std::vector<uint32_t> *ranges,
					 int *slots) const;
	// ScanRanges answers nq padded host queries over their ranges.
	Status ScanRanges(const float *hq, size_t nq, int k, const std::vector<uint32_t> &ranges, int slots,
					  const RowFilter &rf, knowhere::StopPoller &poller, int64_t *labels,
					  float *distances) const noexcept;
	// SearchExactQueries answers nq padded host queries over every allowed row.
	Status SearchExactQueries(const float *hq, size_t nq, int k, const RowFilter &rf, knowhere::StopPoller &poller,
							  int64_t *labels, float *distances) const noexcept;

	IndexConfig config_;
	int dim_pad_;
	int sms_;
	std::unique_ptr<Index> twin_;	/* IVF_FLAT: the lists on the host */
	std::unique_ptr<Index> coarse_; /* GPU_FLAT over the centroids (labels = list numbers); null untrained */

	mutable std::mutex mu_;
	mutable bool stale_ = true;
	mutable cudaStream_t stream_ = nullptr;
	mutable std::vector<uint64_t> offsets_;	 /* nlist + 1 row offsets of the device copy */
	mutable std::vector<int64_t> h_labels_;	 /* labels in list order */
	mutable bool dense_ = false;			 /* labels are exactly 0 .. rows-1 */
	mutable int64_t max_label_ = -1;
	mutable DeviceBuffer d_base_, d_labels_, d_bits_, d_q_, d_ranges_, d_part_a_, d_part_b_, d_out_labels_,
		d_out_dist_;
	mutable std::vector<float> h_q_, h_qp_;
	mutable GpuIvfFlatStats stats_;
};

// Adopt installs the twin and, when trained, a GPU_FLAT over its centroids.
Status GpuIvfFlatIndex::Adopt(std::unique_ptr<Index> twin, bool trained_on_gpu) noexcept {
	std::unique_ptr<Index> coarse;
	const float *centroids = knowhere::IvfFloatCentroids(*twin);
	size_t nlist = knowhere::IvfListCount(*twin);
	if (centroids != nullptr && nlist > 0) {
		config_.nlist = static_cast<int>(nlist);
		IndexConfig cc;
		cc.kind = IndexKind::kGpuFlat;
		cc.metric = config_.metric == Metric::kL2 ? Metric::kL2 : Metric::kInnerProduct;
		cc.dim = config_.dim;
		auto made = NewGpuFlatIndex(cc);
		if (!made.ok())
			return made.status();
		coarse = std::move(made).value();
		std::vector<int64_t> ids;
		try {
			ids.resize(static_cast<size_t>(config_.nlist));
		} catch (...) {
			return Status::OutOfMemory("out of memory while building a GPU_IVF_FLAT quantizer");
		}
		for (size_t i = 0; i < ids.size(); i++)
			ids[i] = static_cast<int64_t>(i);
		VECDB_RETURN_IF_ERROR(coarse->Add(centroids, ids.data(), ids.size()));
	}
	twin->SetBuildControl(build_stop_, build_stop_arg_);
	twin->SetBuildProgress(build_progress_, build_progress_arg_);
	std::lock_guard<std::mutex> lock(mu_);
	twin_ = std::move(twin);
	coarse_ = std::move(coarse);
	stale_ = true;
	stats_.trained_on_gpu = trained_on_gpu;
	return Status::Ok();
}

// Train runs GpuKMeans through the IVF kinds' trainer hook (FAISS on the CPU
// if the device fails) on a fresh twin.
Status GpuIvfFlatIndex::Train(const void *vectors, size_t n) noexcept {
	if (count() > 0)
		return Status::InvalidArgument("GPU_IVF_FLAT holds rows: only an empty index can be trained");
	IndexConfig tc = TwinConfig();
	tc.train_device = knowhere::TrainDevice::kGpu;
	auto made = knowhere::CreateIndex(tc);
	if (!made.ok())
		return made.status();
	std::unique_ptr<Index> twin = std::move(made).value();
	twin->SetBuildControl(build_stop_, build_stop_arg_);
	RegisterGpuCentroidTrainer();
	size_t before = GetGpuTrainStats().trained;
	VECDB_RETURN_IF_ERROR(twin->Train(vectors, n));
	return Adopt(std::move(twin), GetGpuTrainStats().trained > before);
}

// Add prepares every row, assigns them to lists by the device quantizer in
// chunks, then hands the rows and lists to the twin in one call (which
// checks labels and adds all or, on a cancel, a prefix).
Status GpuIvfFlatIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors or labels missing");
	if (coarse_ == nullptr)
		return Status::InvalidArgument("IVF index must be trained before rows are added");
	if (n > kMaxRows - static_cast<size_t>(count()))
		return Status::InvalidArgument("GPU_IVF_FLAT holds at most " + std::to_string(kMaxRows) + " rows");
	const size_t d = static_cast<size_t>(config_.dim);
	const float *src = static_cast<const float *>(vectors);
	std::vector<float> prep, dist;
	std::vector<int64_t> lists;
	try {
		prep.resize(n * d);
		lists.resize(n);
		dist.resize(std::min(n, kAssignRows));
	} catch (...) {
		return Status::OutOfMemory("out of memory while adding to a GPU_IVF_FLAT index");
	}
	for (size_t i = 0; i < n; i++) {
		if (i % knowhere::kStopPollRows == 0 && BuildStopRequested())
			return Status::Cancelled();
		VECDB_RETURN_IF_ERROR(knowhere::PrepareVector(config_.metric, config_.dim, src + i * d, prep.data() + i * d,
													  "vector"));
	}
	SearchParams sp;
	sp.should_stop = build_stop_;
	sp.stop_arg = build_stop_arg_;
	for (size_t c0 = 0; c0 < n; c0 += kAssignRows) {
		size_t m = std::min(kAssignRows, n - c0);
		VECDB_RETURN_IF_ERROR(coarse_->Search(prep.data() + c0 * d, m, 1, sp, BitsetView(), lists.data() + c0,
											  dist.data()));
	}
	Status s = knowhere::AddToIvfLists(*twin_, vectors, labels, lists.data(), n);
	MarkStale();
	return s;
}

// Sync copies every list's rows (padded), labels and offsets to the device.
Status GpuIvfFlatIndex::Sync() const noexcept {
	VECDB_CUDA_TRY(cudaSetDevice(0));
	if (stream_ == nullptr)
		VECDB_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
	if (!stale_)
		return Status::Ok();
	const size_t nlist = knowhere::IvfListCount(*twin_);
	const size_t n = static_cast<size_t>(twin_->count());
	const size_t d = static_cast<size_t>(config_.dim);
	const size_t row_bytes = static_cast<size_t>(dim_pad_) * sizeof(float);
	if (n > kMaxRows)
		return Status::InvalidArgument("GPU_IVF_FLAT holds at most " + std::to_string(kMaxRows) + " rows");
	std::vector<float> stage;
	try {
		offsets_.assign(nlist + 1, 0);
		h_labels_.resize(n);
	} catch (...) {
		return Status::OutOfMemory("out of memory while uploading a GPU_IVF_FLAT index");
	}
	VECDB_RETURN_IF_ERROR(d_base_.Reserve(std::max<size_t>(n, 1) * row_bytes));
	VECDB_RETURN_IF_ERROR(d_labels_.Reserve(std::max<size_t>(n, 1) * sizeof(int64_t)));
	max_label_ = -1;
	int64_t min_label = std::numeric_limits<int64_t>::max();
	for (size_t l = 0; l < nlist; l++) {
		knowhere::RowSet r = knowhere::IvfListRows(*twin_, l);
		size_t at = offsets_[l];
		if (r.n > n - at || (r.n > 0 && r.base == nullptr))
			return Status::Internal("GPU_IVF_FLAT: the host lists changed during an upload");
		offsets_[l + 1] = at + r.n;
		if (r.n == 0)
			continue;
		std::memcpy(h_labels_.data() + at, r.labels, r.n * sizeof(int64_t));
		for (size_t i = 0; i < r.n; i++) {
			max_label_ = std::max(max_label_, r.labels[i]);
			min_label = std::min(min_label, r.labels[i]);
		}
		/* copies go on the search stream (a pageable source is staged before
		 * the call returns, so the host buffers may change afterwards) */
		if (dim_pad_ == config_.dim && r.stride == row_bytes) {
			VECDB_CUDA_TRY(cudaMemcpyAsync(d_base_.as<float>() + at * dim_pad_, r.base, r.n * row_bytes,
										   cudaMemcpyHostToDevice, stream_));
			continue;
		}
		try {
			stage.assign(r.n * dim_pad_, 0.0f);
		} catch (...) {
			return Status::OutOfMemory("out of memory while uploading a GPU_IVF_FLAT index");
		}
		for (size_t i = 0; i < r.n; i++)
			std::memcpy(stage.data() + i * dim_pad_, r.base + i * r.stride, d * sizeof(float));
		VECDB_CUDA_TRY(cudaMemcpyAsync(d_base_.as<float>() + at * dim_pad_, stage.data(), r.n * row_bytes,
									   cudaMemcpyHostToDevice, stream_));
	}
	if (offsets_[nlist] != n)
		return Status::Internal("GPU_IVF_FLAT: the lists do not hold every row");
	if (n > 0)
		VECDB_CUDA_TRY(cudaMemcpyAsync(d_labels_.ptr, h_labels_.data(), n * sizeof(int64_t), cudaMemcpyHostToDevice,
									   stream_));
	VECDB_CUDA_TRY(cudaStreamSynchronize(stream_));
	/* labels are unique (the twin checks), so min 0 and max n - 1 means 0 .. n-1 */
	dense_ = n > 0 && min_label == 0 && max_label_ == static_cast<int64_t>(n - 1);
	stale_ = false;
	stats_.uploads++;
	return Status::Ok();
}

// CountAllowed counts rows whose label the filter keeps.
size_t GpuIvfFlatIndex::CountAllowed(BitsetView filter) const noexcept {
	size_t n = h_labels_.size();
	if (filter.empty())
		return n;
	if (dense_)
		return n - knowhere::CountFilteredBelow(filter, n);
	size_t allowed = 0;
	for (int64_t label : h_labels_)
		allowed += !filter.test(label);
	return allowed;
}

// UploadFilter copies the bytes of the bitset that cover stored labels.
Status GpuIvfFlatIndex::UploadFilter(BitsetView filter, RowFilter *rf) const noexcept {
	*rf = RowFilter();
	if (filter.empty() || max_label_ < 0)
		return Status::Ok();
	uint64_t nbits = std::min<uint64_t>(filter.size(), static_cast<uint64_t>(max_label_) + 1);
	size_t bytes = (nbits + 7) / 8;
	if (bytes == 0)
		return Status::Ok();
	VECDB_RETURN_IF_ERROR(d_bits_.Reserve(bytes));
	VECDB_CUDA_TRY(cudaMemcpyAsync(d_bits_.ptr, filter.data(), bytes, cudaMemcpyHostToDevice, stream_));
	rf->bits = d_bits_.as<uint8_t>();
	rf->nbits = nbits;
	rf->labels = d_labels_.as<int64_t>();
	return Status::Ok();
}

// ExactRanges cuts [0, rows) into about 4 slices per multiprocessor.
void GpuIvfFlatIndex::ExactRanges(size_t nq, int k, std::vector<uint32_t> *ranges, int *slots) const {
	const size_t n = h_labels_.size();
	const size_t slice = ScanSliceRows(n, sms_, k);
	*slots = static_cast<int>((n + slice - 1) / slice);
	ranges->resize(nq * static_cast<size_t>(*slots) * 2);
	for (size_t q = 0; q < nq; q++)
		for (int s = 0; s < *slots; s++) {
			size_t at = (q * *slots + s) * 2;
			(*ranges)[at] = static_cast<uint32_t>(s * slice);
			(*ranges)[at + 1] = static_cast<uint32_t>(std::min(n, (s + 1) * slice));
		}
}

// KeepListsHolding keeps, of each query's lists in centroid order (nq x
// probes), the first nprobe and then as many more as it takes to hold want
// allowed rows, and marks the rest -1 (widen_probes: the iterator's first
// batch).
void GpuIvfFlatIndex::KeepListsHolding(int64_t *lists, size_t nq, size_t probes, size_t nprobe, size_t want,
									   BitsetView filter) const noexcept {
	for (size_t q = 0; q < nq; q++) {
		int64_t *order = lists + q * probes;
		size_t used = 0, held = 0;
		while (used < probes && order[used] >= 0 && (used < nprobe || held < want)) {
			size_t l = static_cast<size_t>(order[used++]);
			if (filter.empty()) {
				held += offsets_[l + 1] - offsets_[l];
				continue;
			}
			for (uint64_t r = offsets_[l]; r < offsets_[l + 1]; r++)
				held += !filter.test(h_labels_[r]);
		}
		for (size_t i = used; i < probes; i++)
			order[i] = -1;
	}
}

// ProbeRanges lists each query's probed lists in pieces; queries with fewer
// pieces than the most are padded with empty ranges.
void GpuIvfFlatIndex::ProbeRanges(const int64_t *lists, size_t nq, size_t probes, std::vector<uint32_t> *ranges,
								  int *slots) const {
	const size_t nlist = offsets_.size() - 1;
	size_t most = 1;
	for (size_t q = 0; q < nq; q++) {
		size_t pieces = 0;
		for (size_t p = 0; p < probes; p++) {
			int64_t l = lists[q * probes + p];
			if (l >= 0 && static_cast<size_t>(l) < nlist)
				pieces += (offsets_[l + 1] - offsets_[l] + kRangeRows - 1) / kRangeRows;
		}
		most = std::max(most, pieces);
	}
	*slots = static_cast<int>(most);
	ranges->assign(nq * most * 2, 0);
	for (size_t q = 0; q < nq; q++) {
		size_t at = q * most * 2;
		for (size_t p = 0; p < probes; p++) {
			int64_t l = lists[q * probes + p];
			if (l < 0 || static_cast<size_t>(l) >= nlist)
				continue;
			for (uint64_t r0 = offsets_[l]; r0 < offsets_[l + 1]; r0 += kRangeRows) {
				(*ranges)[at++] = static_cast<uint32_t>(r0);
				(*ranges)[at++] = static_cast<uint32_t>(std::min<uint64_t>(offsets_[l + 1], r0 + kRangeRows));
			}
		}
	}
}

// ScanRanges runs the range scan and the merges over chunks of queries
// whose key lists fit kPartialBytes.
Status GpuIvfFlatIndex::ScanRanges(const float *hq, size_t nq, int k, const std::vector<uint32_t> &ranges,
								   int slots, const RowFilter &rf, knowhere::StopPoller &poller, int64_t *labels,
								   float *distances) const noexcept {
	const int nvec = dim_pad_ / 4;
	const size_t per_query = static_cast<size_t>(slots) * k * sizeof(uint64_t);
	const size_t chunk = std::max<size_t>(1, std::min({nq, kPartialBytes / per_query, kMaxGridQueries}));
	VECDB_RETURN_IF_ERROR(d_q_.Reserve(chunk * dim_pad_ * sizeof(float)));
	VECDB_RETURN_IF_ERROR(d_ranges_.Reserve(chunk * static_cast<size_t>(slots) * 2 * sizeof(uint32_t)));
	VECDB_RETURN_IF_ERROR(d_part_a_.Reserve(chunk * per_query));
	for (size_t q0 = 0; q0 < nq; q0 += chunk) {
		if (poller.Poll())
			return Status::Cancelled();
		size_t c = std::min(chunk, nq - q0);
		VECDB_CUDA_TRY(cudaMemcpyAsync(d_q_.ptr, hq + q0 * dim_pad_, c * dim_pad_ * sizeof(float),
									   cudaMemcpyHostToDevice, stream_));
		VECDB_CUDA_TRY(cudaMemcpyAsync(d_ranges_.ptr, ranges.data() + q0 * slots * 2,
									   c * static_cast<size_t>(slots) * 2 * sizeof(uint32_t), cudaMemcpyHostToDevice,
									   stream_));
		VECDB_CUDA_TRY(LaunchRangeScanSelect(ToDeviceMetric(config_.metric), d_base_.as<float>(), nvec,
											 d_q_.as<float>(), static_cast<int>(c), d_ranges_.as<uint32_t>(), slots,
											 rf, k, d_part_a_.as<uint64_t>(), stream_));
		auto merged = MergeKeyLists(d_part_a_, d_part_b_, static_cast<int>(c), slots, k, stream_);
		if (!merged.ok())
			return merged.status();
		/* the host copies wait for this chunk, so the next may reuse d_q_ and d_ranges_ */
		VECDB_RETURN_IF_ERROR(CopyOutKeys(merged.value(), c * static_cast<size_t>(k), d_labels_.as<int64_t>(),
										  d_out_labels_, d_out_dist_, labels + q0 * k, distances + q0 * k, stream_));
	}
	return Status::Ok();
}

// SearchExactQueries scans every row for each query.
Status GpuIvfFlatIndex::SearchExactQueries(const float *hq, size_t nq, int k, const RowFilter &rf,
										   knowhere::StopPoller &poller, int64_t *labels,
										   float *distances) const noexcept {
	std::vector<uint32_t> ranges;
	int slots = 0;
	try {
		ExactRanges(nq, k, &ranges, &slots);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_IVF_FLAT index");
	}
	return ScanRanges(hq, nq, k, ranges, slots, rf, poller, labels, distances);
}

// Search applies IVF_FLAT's rules with the lists on the device (see the
// design notes).
Status GpuIvfFlatIndex::Search(const void *queries, size_t nq, size_t k, const SearchParams &params,
							   BitsetView filter, int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(knowhere::ValidateSearch(params, k));
	if (nq == 0)
		return Status::Ok();
	if (queries == nullptr || labels == nullptr || distances == nullptr)
		return Status::InvalidArgument("queries or result arrays missing");
	if (params.should_stop != nullptr && params.should_stop(params.stop_arg))
		return Status::Cancelled();
	if (k > static_cast<size_t>(kMaxSelectK) || dim_pad_ / 4 > kMaxFusedVec4) {
		{
			std::lock_guard<std::mutex> lock(mu_);
			stats_.cpu += nq;
		}
		return twin_->Search(queries, nq, k, params, filter, labels, distances);
	}
	std::lock_guard<std::mutex> lock(mu_);
	const size_t d = static_cast<size_t>(config_.dim);
	try {
		h_q_.resize(nq * d);
		h_qp_.assign(nq * dim_pad_, 0.0f);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_IVF_FLAT index");
	}
	const float *q = static_cast<const float *>(queries);
	for (size_t i = 0; i < nq; i++) {
		VECDB_RETURN_IF_ERROR(knowhere::PrepareVector(config_.metric, config_.dim, q + i * d, h_q_.data() + i * d,
													  "query"));
		std::memcpy(h_qp_.data() + i * dim_pad_, h_q_.data() + i * d, d * sizeof(float));
	}
	std::fill(labels, labels + nq * k, int64_t{-1});
	std::fill(distances, distances + nq * k, std::numeric_limits<float>::infinity());
	if (coarse_ == nullptr || count() == 0)
		return Status::Ok();
	VECDB_RETURN_IF_ERROR(Sync());
	const size_t n = h_labels_.size();
	const size_t allowed = CountAllowed(filter);
	if (allowed == 0)
		return Status::Ok();
	RowFilter rf;
	VECDB_RETURN_IF_ERROR(UploadFilter(filter, &rf));
	knowhere::StopPoller poller(params.should_stop, params.stop_arg);
	const int kk = static_cast<int>(k);
	stats_.queries += nq;
	const double f = static_cast<double>(allowed) / static_cast<double>(n);
	const bool widen = params.widen_probes;
	if (f < knowhere::BruteForceRatio(params, TwinConfig()) || (!widen && k >= allowed / 2)) {
		stats_.exact += nq;
		return SearchExactQueries(h_qp_.data(), nq, kk, rf, poller, labels, distances);
	}
	const size_t nlist = offsets_.size() - 1;
	const double widened = std::ceil(static_cast<double>(params.nprobe) / f);
	const size_t nprobe = static_cast<size_t>(std::clamp(widened, 1.0, static_cast<double>(nlist)));
	/* widen_probes: every list in centroid order, the probed ones chosen below */
	const size_t probes = widen ? nlist : nprobe;
	std::vector<int64_t> lists;
	std::vector<float> list_dist;
	std::vector<uint32_t> ranges;
	std::vector<size_t> redo;
	std::vector<float> rq;
	std::vector<int64_t> rl;
	std::vector<float> rd;
	int slots = 0;
	try {
		lists.resize(nq * probes);
		list_dist.resize(nq * probes);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_IVF_FLAT index");
	}
	SearchParams cp;
	cp.should_stop = params.should_stop;
	cp.stop_arg = params.stop_arg;
	VECDB_RETURN_IF_ERROR(
		coarse_->Search(h_q_.data(), nq, probes, cp, BitsetView(), lists.data(), list_dist.data()));
	const size_t want = std::min(k, allowed);
	if (widen)
		KeepListsHolding(lists.data(), nq, probes, nprobe, want, filter);
	try {
		ProbeRanges(lists.data(), nq, probes, &ranges, &slots);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_IVF_FLAT index");
	}
	stats_.probed += nq;
	VECDB_RETURN_IF_ERROR(ScanRanges(h_qp_.data(), nq, kk, ranges, slots, rf, poller, labels, distances));
	/* widened lists hold enough rows (or are all of them) */
	if (widen)
		return Status::Ok();
	/* probed lists with fewer than min(k, allowed) allowed rows: exact, as IVF_FLAT */
	try {
		for (size_t i = 0; i < nq; i++)
			if (labels[i * k + want - 1] < 0)
				redo.push_back(i);
		rq.resize(redo.size() * dim_pad_);
		rl.resize(redo.size() * k);
		rd.resize(redo.size() * k);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_IVF_FLAT index");
	}
	if (redo.empty())
		return Status::Ok();
	stats_.refilled += redo.size();
	for (size_t i = 0; i < redo.size(); i++)
		std::memcpy(rq.data() + i * dim_pad_, h_qp_.data() + redo[i] * dim_pad_, dim_pad_ * sizeof(float));
	VECDB_RETURN_IF_ERROR(SearchExactQueries(rq.data(), redo.size(), kk, rf, poller, rl.data(), rd.data()));
	for (size_t i = 0; i < redo.size(); i++) {
		std::memcpy(labels + redo[i] * k, rl.data() + i * k, k * sizeof(int64_t));
		std::memcpy(distances + redo[i] * k, rd.data() + i * k, k * sizeof(float));
	}
	return Status::Ok();
}

// GpuIvfMeta is the first section of GPU_IVF_FLAT's payload.
struct GpuIvfMeta {
	uint64_t twin_bytes; /* size of the nested IVF_FLAT stream */
	int32_t nlist;
	int32_t reserved;
};

// Serialize writes the header, the meta section, then the twin's stored
// bytes as one section.
Status GpuIvfFlatIndex::Serialize(ByteWriter &writer) const noexcept {
	knowhere::StringWriter inner;
	VECDB_RETURN_IF_ERROR(twin_->Serialize(inner));
	GpuIvfMeta meta{inner.bytes().size(), config_.nlist, 0};
	return knowhere::WriteIndexStream(writer, *this, [&](knowhere::IndexStreamWriter &w) -> Status {
		VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
		return w.Section(inner.bytes().data(), meta.twin_bytes);
	});
}

// Load reads the nested IVF_FLAT index and checks it against the header.
Status GpuIvfFlatIndex::Load(const knowhere::IndexHeader &header, knowhere::IndexStreamReader &reader) noexcept {
	GpuIvfMeta meta{};
	VECDB_RETURN_IF_ERROR(reader.Section(&meta, sizeof(meta)));
	IndexConfig c = TwinConfig();
	c.nlist = meta.nlist;
	if (meta.reserved != 0 || !knowhere::ValidateConfig(c).ok())
		return Status::Corrupt("GPU_IVF_FLAT parameters out of range");
	config_.nlist = meta.nlist;
	std::vector<uint8_t> bytes;
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&bytes, meta.twin_bytes));
	knowhere::MemoryReader inner(bytes.data(), bytes.size());
	auto twin = knowhere::DeserializeIndex(inner);
	if (!twin.ok())
		return twin.status();
	const Index &t = *twin.value();
	if (t.kind() != IndexKind::kIvfFlat || static_cast<uint32_t>(t.metric()) != header.metric ||
		t.dim() != header.dim || t.count() != header.count)
		return Status::Corrupt("GPU_IVF_FLAT's lists do not match its header");
	return Adopt(std::move(twin).value(), false);
}

// DeviceSms returns device 0's multiprocessor count, or NotSupported.
Status DeviceSms(int *sms) noexcept {
	VECDB_RETURN_IF_ERROR(CheckDevice());
	VECDB_CUDA_TRY(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, 0));
	return Status::Ok();
}

// MakeGpuIvfFlat checks the device and wraps twin (IVF_FLAT, config's nlist).
Expected<std::unique_ptr<GpuIvfFlatIndex>> MakeGpuIvfFlat(const IndexConfig &config,
														  std::unique_ptr<Index> twin) noexcept {
	int sms = 0;
	Status s = DeviceSms(&sms);
	if (!s.ok())
		return s;
	try {
		return std::unique_ptr<GpuIvfFlatIndex>(new GpuIvfFlatIndex(config, sms, std::move(twin)));
	} catch (...) {
		return Status::OutOfMemory("out of memory while creating a GPU_IVF_FLAT index");
	}
}

// NewGpuIvfFlatFactory is GPU_IVF_FLAT's CreateIndex factory.
Expected<std::unique_ptr<Index>> NewGpuIvfFlatFactory(const IndexConfig &config) noexcept {
	return NewGpuIvfFlatIndex(config);
}

// LoadGpuIvfFlat is GPU_IVF_FLAT's DeserializeIndex loader.
Expected<std::unique_ptr<Index>> LoadGpuIvfFlat(const knowhere::IndexHeader &header,
												knowhere::IndexStreamReader &reader) noexcept {
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.metric = static_cast<Metric>(header.metric);
	c.dim = header.dim;
	auto twin = knowhere::CreateIndex(c); /* a placeholder until Load adopts the stored one */
	if (!twin.ok())
		return twin.status();
	auto made = MakeGpuIvfFlat(c, std::move(twin).value());
	if (!made.ok())
		return made.status();
	std::unique_ptr<GpuIvfFlatIndex> index = std::move(made).value();
	Status s = index->Load(header, reader);
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

}  // namespace

// NewGpuIvfFlatIndex validates config and makes an untrained index.
Expected<std::unique_ptr<Index>> NewGpuIvfFlatIndex(const IndexConfig &config) noexcept {
	IndexConfig c = config;
	c.kind = IndexKind::kIvfFlat;
	auto twin = knowhere::CreateIndex(c);
	if (!twin.ok())
		return twin.status();
	auto made = MakeGpuIvfFlat(c, std::move(twin).value());
	if (!made.ok())
		return made.status();
	return std::unique_ptr<Index>(std::move(made).value());
}

// GpuIvfFlatFrom copies a trained IVF_FLAT index (through its stored form,
// so a view works too) and adopts the copy.
Expected<std::unique_ptr<Index>> GpuIvfFlatFrom(const Index &ivf_flat) noexcept {
	if (ivf_flat.kind() != IndexKind::kIvfFlat || ivf_flat.NeedsTraining())
		return Status::InvalidArgument("GpuIvfFlatFrom needs a trained IVF_FLAT index");
	knowhere::StringWriter bytes;
	VECDB_RETURN_IF_ERROR(ivf_flat.Serialize(bytes));
	knowhere::MemoryReader reader(bytes.bytes().data(), bytes.bytes().size());
	auto copy = knowhere::DeserializeIndex(reader);
	if (!copy.ok())
		return copy.status();
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.metric = ivf_flat.metric();
	c.dim = ivf_flat.dim();
	c.nlist = static_cast<int>(knowhere::IvfListCount(*copy.value()));
	IndexConfig placeholder = c;
	auto empty = knowhere::CreateIndex(placeholder);
	if (!empty.ok())
		return empty.status();
	auto made = MakeGpuIvfFlat(c, std::move(empty).value());
	if (!made.ok())
		return made.status();
	std::unique_ptr<GpuIvfFlatIndex> index = std::move(made).value();
	VECDB_RETURN_IF_ERROR(index->Adopt(std::move(copy).value(), false));
	return std::unique_ptr<Index>(std::move(index));
}

// GetGpuIvfFlatStats reads a GPU_IVF_FLAT index's counters.
GpuIvfFlatStats GetGpuIvfFlatStats(const Index &index) noexcept {
	auto *g = dynamic_cast<const GpuIvfFlatIndex *>(&index);
	return g == nullptr ? GpuIvfFlatStats() : g->Stats();
}

// RegisterGpuIvfKinds installs GPU_IVF_FLAT in the engine's factory.
void RegisterGpuIvfKinds() noexcept {
	knowhere::RegisterExternalKind(IndexKind::kGpuIvfFlat, NewGpuIvfFlatFactory, LoadGpuIvfFlat);
	RegisterGpuCentroidTrainer();
}

}  // namespace vecdb::gpu
