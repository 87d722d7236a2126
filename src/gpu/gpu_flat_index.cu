// gpu_flat_index.cu implements GPU_FLAT: an exact float32 index whose rows
// live on device 0, searched by the kernels of gpu_flat_kernels.cu.
//
// Design. The index keeps a host copy of its prepared rows and labels (what
// FLAT holds: Serialize, Reconstruct, RangeSearch, CreateIterator and k above
// kMaxSelectK run on the CPU through brute_force.hpp, so every answer has a
// CPU twin) and a device copy: rows padded to a multiple of 4 floats
// (16-byte loads), their squared norms, and the labels (read only when they
// are not 0 .. n-1). Add prepares rows like FLAT (finite; normalized under
// cosine), appends them to both copies, growing device buffers by half.
//
// Search holds a mutex (one stream, one cuBLAS handle and scratch buffers
// per index, reused between calls): it copies the prepared queries and the
// filter bitmap (the bytes covering the largest label) to the device, runs
// either the fused scan (up to kGpuFlatFusedQueries queries: one pass over
// the rows per query, direct distances) or, for batches, per tile of
// queries and rows one GEMM (inner products; L2 adds the norms) and a tile
// selection of candidates, merge passes until one list per query remains,
// the direct re-rank, and the mapping to labels.
//
// Batches: the GEMM runs in TF32 by default (tensor cores, about 8x the
// FP32 rate; 2 x 1000 x 1M x 128 = 256 GFLOP per batch is 4-5 ms in FP32)
// or in FP32 (tf32_rerank off), the selection keeps m = k x rerank_factor
// candidates per query by the approximate score, and a re-rank kernel
// re-scores them with direct FP32 distances ((q - x)^2 summed, bit-equal to
// the fused scan's) and keeps the k best. No final distance comes from the
// norm expansion ||q||^2 + ||x||^2 - 2 q.x: its FP32 rounding error is about
// eps (||q||^2 + ||x||^2), not eps times the distance, so near-duplicate
// rows (distances 1e-4 apart relative) come out misordered (seen on the
// H200, 2026-12-04: 200 of 400 labels of the near-copies test). Exactness is
// proved, not hoped for: the GEMM's inner product is off by at most
// ip_rel_error ||q|| ||x|| (TF32: kApproxIpRelError + FP32 accumulation), so
// every row outside the candidates has a true score of at least a_m - B
// (a_m: the m-th candidate's approximate score, B: that bound doubled plus
// the expansion's rounding, with the largest row norm); when that is above
// the k-th exact score the top k is exact, else the query is answered again
// by the fused scan (direct distances over every allowed row; on the CPU
// for rows over 1024 floats). On random data the gap a_m - d_k is several
// units against a B of about 0.3 (1M x 128 uniform), so fallbacks are rare;
// near duplicates and exact ties fall back.
// Filtered rows never enter a selection; fewer allowed rows than k pad with
// -1 / +infinity. Ties order by row, which is label order when labels
// ascend with rows (the AM's row positions); FLAT orders ties by label.
//
// Serialized form: the engine's common framing (serialize.hpp) with two
// sections, int64 labels[n] and float data[n * dim].
#include "gpu/gpu_flat_index.hpp"
#include "gpu/gpu_kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "gpu/cuda_status.cuh"
#include "gpu/device_buffer.cuh"
#include "gpu/gpu_flat_kernels.cuh"
#include "gpu/key_lists.cuh"
#include "knowhere/brute_force.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::gpu {

using knowhere::BitsetView;
using knowhere::ByteReader;
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

// kPartialBytes bounds the per-slice candidate lists of one query tile.
constexpr size_t kPartialBytes = size_t{512} << 20;
// kUploadRows is the rows staged per host-to-device copy in Add.
constexpr size_t kUploadRows = 65536;


// RowNorm returns ||x|| in double.
double RowNorm(const float *x, int dim) noexcept {
	double s = 0;
	for (int j = 0; j < dim; j++)
		s += static_cast<double>(x[j]) * x[j];
	return std::sqrt(s);
}


// GpuFlatIndex is the GPU exact index.
class GpuFlatIndex final : public Index {
public:
	GpuFlatIndex(Metric metric, int dim, int device, int sms) noexcept
		: metric_(metric), dim_(dim), dim_pad_(static_cast<int>(RoundUp(dim, 4))), device_(device), sms_(sms) {}
	~GpuFlatIndex() override {
		if (cublas_ != nullptr)
			cublasDestroy(cublas_);
		if (cublas_tf32_ != nullptr)
			cublasDestroy(cublas_tf32_);
		if (stream_ != nullptr)
			cudaStreamDestroy(stream_);
	}

	IndexKind kind() const noexcept override { return IndexKind::kGpuFlat; }
	Metric metric() const noexcept override { return metric_; }
	int dim() const noexcept override { return dim_; }
	int64_t count() const noexcept override { return static_cast<int64_t>(labels_.size()); }
	size_t MemoryUsage() const noexcept override {
		return sizeof(*this) + labels_.capacity() * sizeof(int64_t) + data_.capacity() * sizeof(float);
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

	// Load reads the payload after the header and uploads the rows.
	Status Load(const knowhere::IndexHeader &header, knowhere::IndexStreamReader &reader) noexcept;

private:
	// Rows returns the host copy as a RowSet for the CPU paths.
	knowhere::RowSet Rows() const noexcept {
		knowhere::RowSet rs;
		rs.labels = labels_.data();
		rs.base = reinterpret_cast<const uint8_t *>(data_.data());
		rs.stride = static_cast<size_t>(dim_) * sizeof(float);
		rs.n = labels_.size();
		return rs;
	}
	// Upload copies host rows [from, labels_.size()) to the device.
	Status Upload(size_t from) noexcept;
	// EnsureContext creates the stream and cuBLAS handle on first use.
	Status EnsureContext() const noexcept;
	// SearchDevice runs a search of prepared, padded queries on the device.
	Status SearchDevice(const float *queries, size_t nq, int k, const SearchParams &params, BitsetView filter,
						int64_t *labels, float *distances) const noexcept;
	// MergeAndFinish merges lists per query down to one and copies nq x k
	// results to the host arrays.
	Status MergeAndFinish(int nq, int lists, int k, int64_t *labels, float *distances) const noexcept;
	// MergeLists merges nq x lists sorted lists of k keys in d_part_a_ down
	// to one per query and returns where they are.
	Expected<uint64_t *> MergeLists(int nq, int lists, int k) const noexcept;
	// GemmSelect writes, for nq device queries dq (squared norms dqn for L2),
	// the kk best keys per query by GEMM scores (TF32 when tf32) to
	// lists[q * kk ...], sorted.
	Status GemmSelect(const float *dq, const float *dqn, size_t nq, int kk, bool tf32, const RowFilter &rf,
					  knowhere::StopPoller &poller, uint64_t *lists) const noexcept;
	// ScanQueries answers nq prepared, padded host queries hq exactly by the
	// fused scan (direct FP32 distances over every allowed row), in chunks.
	Status ScanQueries(const float *hq, size_t nq, int k, const RowFilter &rf, knowhere::StopPoller &poller,
					   int64_t *labels, float *distances) const noexcept;
	// AnswerDirect answers nq prepared, padded host queries exactly with
	// direct distances: the fused scan, or the CPU for rows over 1024 floats.
	Status AnswerDirect(const float *hq, size_t nq, int k, const RowFilter &rf, BitsetView filter,
						const SearchParams &params, knowhere::StopPoller &poller, int64_t *labels,
						float *distances) const noexcept;
	// UploadQueries copies nq padded host queries to dq and, under L2, their
	// squared norms to dqn.
	Status UploadQueries(const float *hq, size_t nq, DeviceBuffer &dq, DeviceBuffer &dqn) const noexcept;
	// FinishKeys maps nq x k device keys to labels and distances on the host
	// (synchronizes the stream).
	Status FinishKeys(const uint64_t *keys, size_t nq, int k, int64_t *labels, float *distances) const noexcept;

public:
	// SetBatchOptions installs batch knobs (validated by the caller).
	void SetBatchOptions(const GpuFlatBatchOptions &o) noexcept {
		std::lock_guard<std::mutex> lock(mu_);
		opts_ = o;
	}
	// BatchStats returns the last batch search's figures.
	GpuFlatBatchStats BatchStats() const noexcept {
		std::lock_guard<std::mutex> lock(mu_);
		return stats_;
	}

private:
	// SearchCpu answers on the CPU from the host copy (k above kMaxSelectK).
	Status SearchCpu(const void *queries, size_t nq, size_t k, const SearchParams &params, BitsetView filter,
					 int64_t *labels, float *distances) const noexcept;

	Metric metric_;
	int dim_;
	int dim_pad_;
	int device_;
	int sms_;
	std::vector<int64_t> labels_;
	std::vector<float> data_;
	bool identity_ = true; /* labels_[i] == i for every row */
	int64_t max_label_ = -1;
	double max_norm_ = 0; /* largest row norm (prepared rows), for the re-rank bound */

	size_t dev_rows_cap_ = 0;
	DeviceBuffer d_base_, d_norms_, d_labels_;

	mutable std::mutex mu_;
	mutable cudaStream_t stream_ = nullptr;
	mutable cublasHandle_t cublas_ = nullptr;
	mutable cublasHandle_t cublas_tf32_ = nullptr;
	mutable DeviceBuffer d_q_, d_qn_, d_bits_, d_ip_, d_part_a_, d_part_b_, d_out_labels_, d_out_dist_;
	mutable DeviceBuffer d_lists_, d_final_, d_cert_, d_q_fb_;
	mutable std::vector<float> h_q_, h_qn_;
	mutable GpuFlatBatchOptions opts_;
	mutable GpuFlatBatchStats stats_;
};

// EnsureContext makes the per-index stream and cuBLAS handle.
Status GpuFlatIndex::EnsureContext() const noexcept {
	VECDB_CUDA_TRY(cudaSetDevice(device_));
	if (stream_ == nullptr)
		VECDB_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
	if (cublas_ == nullptr) {
		VECDB_CUBLAS_TRY(cublasCreate(&cublas_));
		VECDB_CUBLAS_TRY(cublasSetStream(cublas_, stream_));
		VECDB_CUBLAS_TRY(cublasSetMathMode(cublas_, CUBLAS_PEDANTIC_MATH));
	}
	if (cublas_tf32_ == nullptr) {
		VECDB_CUBLAS_TRY(cublasCreate(&cublas_tf32_));
		VECDB_CUBLAS_TRY(cublasSetStream(cublas_tf32_, stream_));
		VECDB_CUBLAS_TRY(cublasSetMathMode(cublas_tf32_, CUBLAS_TF32_TENSOR_OP_MATH));
	}
	return Status::Ok();
}

// Add prepares rows into the host copy, then uploads them; a bad row, a
// cancel or a device failure undoes the whole batch.
Status GpuFlatIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors or labels missing");
	size_t old = labels_.size();
	if (n > kMaxRows - old)
		return Status::InvalidArgument("GPU_FLAT holds at most " + std::to_string(kMaxRows) + " rows");
	for (size_t i = 0; i < n; i++)
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative");
	std::lock_guard<std::mutex> lock(mu_);
	try {
		labels_.insert(labels_.end(), labels, labels + n);
		data_.resize((old + n) * static_cast<size_t>(dim_));
	} catch (...) {
		labels_.resize(old);
		data_.resize(old * static_cast<size_t>(dim_));
		return Status::OutOfMemory("out of memory while adding to a GPU_FLAT index");
	}
	auto undo = [&](Status s) {
		labels_.resize(old);
		data_.resize(old * static_cast<size_t>(dim_));
		return s;
	};
	const float *src = static_cast<const float *>(vectors);
	for (size_t i = 0; i < n; i++) {
		if (i % knowhere::kStopPollRows == 0) {
			if (BuildStopRequested())
				return undo(Status::Cancelled());
			ReportProgress(i, n);
		}
		Status s = knowhere::PrepareVector(metric_, dim_, src + i * dim_, data_.data() + (old + i) * dim_, "vector");
		if (!s.ok())
			return undo(s);
	}
	double max_norm = max_norm_;
	for (size_t i = 0; i < n; i++)
		max_norm = std::max(max_norm, RowNorm(data_.data() + (old + i) * dim_, dim_));
	Status s = Upload(old);
	if (!s.ok())
		return undo(s);
	max_norm_ = max_norm;
	for (size_t i = 0; i < n; i++) {
		identity_ = identity_ && labels[i] == static_cast<int64_t>(old + i);
		max_label_ = std::max(max_label_, labels[i]);
	}
	ReportProgress(n, n);
	return Status::Ok();
}

// Upload grows the device buffers when needed and copies the new rows
// (padded), their labels and norms.
Status GpuFlatIndex::Upload(size_t from) noexcept {
	VECDB_RETURN_IF_ERROR(EnsureContext());
	size_t total = labels_.size();
	size_t row_bytes = static_cast<size_t>(dim_pad_) * sizeof(float);
	if (total > dev_rows_cap_) {
		size_t cap = std::max({total, dev_rows_cap_ + dev_rows_cap_ / 2, size_t{1024}});
		DeviceBuffer base, norms, lab;
		VECDB_RETURN_IF_ERROR(base.Reserve(cap * row_bytes));
		VECDB_RETURN_IF_ERROR(norms.Reserve(cap * sizeof(float)));
		VECDB_RETURN_IF_ERROR(lab.Reserve(cap * sizeof(int64_t)));
		if (from > 0) {
			VECDB_CUDA_TRY(cudaMemcpyAsync(base.ptr, d_base_.ptr, from * row_bytes, cudaMemcpyDeviceToDevice, stream_));
			VECDB_CUDA_TRY(
				cudaMemcpyAsync(norms.ptr, d_norms_.ptr, from * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
			VECDB_CUDA_TRY(
				cudaMemcpyAsync(lab.ptr, d_labels_.ptr, from * sizeof(int64_t), cudaMemcpyDeviceToDevice, stream_));
			VECDB_CUDA_TRY(cudaStreamSynchronize(stream_));
		}
		std::swap(d_base_.ptr, base.ptr);
		std::swap(d_base_.bytes, base.bytes);
		std::swap(d_norms_.ptr, norms.ptr);
		std::swap(d_norms_.bytes, norms.bytes);
		std::swap(d_labels_.ptr, lab.ptr);
		std::swap(d_labels_.bytes, lab.bytes);
		dev_rows_cap_ = cap;
	}
	/* copies go on the stream the norms kernel and the searches use */
	if (dim_pad_ == dim_) {
		VECDB_CUDA_TRY(cudaMemcpyAsync(d_base_.as<float>() + from * dim_pad_, data_.data() + from * dim_,
									   (total - from) * row_bytes, cudaMemcpyHostToDevice, stream_));
	} else {
		std::vector<float> stage;
		try {
			stage.assign(std::min(kUploadRows, total - from) * dim_pad_, 0.0f);
		} catch (...) {
			return Status::OutOfMemory("out of memory while adding to a GPU_FLAT index");
		}
		for (size_t r0 = from; r0 < total; r0 += kUploadRows) {
			size_t m = std::min(kUploadRows, total - r0);
			for (size_t i = 0; i < m; i++)
				std::memcpy(stage.data() + i * dim_pad_, data_.data() + (r0 + i) * dim_, dim_ * sizeof(float));
			VECDB_CUDA_TRY(cudaMemcpyAsync(d_base_.as<float>() + r0 * dim_pad_, stage.data(), m * row_bytes,
										   cudaMemcpyHostToDevice, stream_));
		}
	}
	VECDB_CUDA_TRY(cudaMemcpyAsync(d_labels_.as<int64_t>() + from, labels_.data() + from,
								   (total - from) * sizeof(int64_t), cudaMemcpyHostToDevice, stream_));
	VECDB_CUDA_TRY(LaunchRowNorms(d_base_.as<float>() + from * dim_pad_, total - from, dim_pad_ / 4,
								  d_norms_.as<float>() + from, stream_));
	VECDB_CUDA_TRY(cudaStreamSynchronize(stream_));
	return Status::Ok();
}

// Search validates, prepares the queries and runs them on the device (on the
// CPU for k above kMaxSelectK).
Status GpuFlatIndex::Search(const void *queries, size_t nq, size_t k, const SearchParams &params,
							BitsetView filter, int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(knowhere::ValidateSearch(params, k));
	if (nq == 0)
		return Status::Ok();
	if (queries == nullptr || labels == nullptr || distances == nullptr)
		return Status::InvalidArgument("queries or result arrays missing");
	if (params.should_stop != nullptr && params.should_stop(params.stop_arg))
		return Status::Cancelled();
	if (k > static_cast<size_t>(kMaxSelectK))
		return SearchCpu(queries, nq, k, params, filter, labels, distances);
	size_t n = labels_.size();
	if (n == 0) {
		std::fill(labels, labels + nq * k, int64_t{-1});
		std::fill(distances, distances + nq * k, std::numeric_limits<float>::infinity());
		return Status::Ok();
	}
	std::lock_guard<std::mutex> lock(mu_);
	try {
		h_q_.assign(nq * dim_pad_, 0.0f);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_FLAT index");
	}
	const float *q = static_cast<const float *>(queries);
	for (size_t i = 0; i < nq; i++)
		VECDB_RETURN_IF_ERROR(knowhere::PrepareVector(metric_, dim_, q + i * dim_, h_q_.data() + i * dim_pad_, "query"));
	return SearchDevice(h_q_.data(), nq, static_cast<int>(k), params, filter, labels, distances);
}

// SearchDevice runs the fused scan or the GEMM tiles, then the merges.
Status GpuFlatIndex::SearchDevice(const float *hq, size_t nq, int k, const SearchParams &params, BitsetView filter,
								  int64_t *labels, float *distances) const noexcept {
	VECDB_RETURN_IF_ERROR(EnsureContext());
	const size_t n = labels_.size();
	const int nvec = dim_pad_ / 4;
	const DeviceMetric dm = ToDeviceMetric(metric_);
	RowFilter rf;
	if (!filter.empty()) {
		uint64_t nbits = std::min<uint64_t>(filter.size(), static_cast<uint64_t>(max_label_) + 1);
		size_t bytes = (nbits + 7) / 8;
		if (bytes > 0) {
			VECDB_RETURN_IF_ERROR(d_bits_.Reserve(bytes));
			VECDB_CUDA_TRY(cudaMemcpyAsync(d_bits_.ptr, filter.data(), bytes, cudaMemcpyHostToDevice, stream_));
			rf.bits = d_bits_.as<uint8_t>();
			rf.nbits = nbits;
			rf.labels = identity_ ? nullptr : d_labels_.as<int64_t>();
		}
	}
	knowhere::StopPoller poller(params.should_stop, params.stop_arg);
	if (nq <= static_cast<size_t>(kGpuFlatFusedQueries) && nvec <= kMaxFusedVec4)
		return ScanQueries(hq, nq, k, rf, poller, labels, distances);

	const GpuFlatBatchOptions &o = opts_;
	stats_ = GpuFlatBatchStats();
	stats_.queries = nq;
	const bool tf32 = o.tf32_rerank;
	const int m = std::max(k, std::min(k * o.rerank_factor, kMaxSelectK));

	/* GEMM candidates (TF32, or FP32 SGEMM), direct FP32 re-rank, certification */
	stats_.reranked = tf32 ? nq : 0;
	stats_.candidates = m;
	VECDB_RETURN_IF_ERROR(UploadQueries(hq, nq, d_q_, d_qn_));
	VECDB_RETURN_IF_ERROR(d_lists_.Reserve(nq * static_cast<size_t>(m) * sizeof(uint64_t)));
	VECDB_RETURN_IF_ERROR(d_final_.Reserve(nq * static_cast<size_t>(k) * sizeof(uint64_t)));
	VECDB_RETURN_IF_ERROR(d_cert_.Reserve(nq));
	VECDB_RETURN_IF_ERROR(GemmSelect(d_q_.as<float>(), d_qn_.as<float>(), nq, m, tf32, rf, poller,
									 d_lists_.as<uint64_t>()));
	if ((o.skip & kSkipRerank) == 0) {
		float bound_norm = static_cast<float>(max_norm_ * (1.0 + 1e-6));
		double ip_err = dim_pad_ * kFp32IpRelErrorPerDim + (tf32 ? kApproxIpRelError : 0.0);
		VECDB_CUDA_TRY(LaunchRerank(dm, d_base_.as<float>(), nvec, d_q_.as<float>(), static_cast<int>(nq),
									d_lists_.as<uint64_t>(), m, k, bound_norm, static_cast<float>(ip_err),
									d_final_.as<uint64_t>(), d_cert_.as<uint8_t>(), stream_));
	} else {
		VECDB_CUDA_TRY(cudaMemsetAsync(d_cert_.ptr, 1, nq, stream_));
		VECDB_CUDA_TRY(cudaMemcpy2DAsync(d_final_.ptr, k * sizeof(uint64_t), d_lists_.ptr, m * sizeof(uint64_t),
										 k * sizeof(uint64_t), nq, cudaMemcpyDeviceToDevice, stream_));
	}
	std::vector<uint8_t> cert;
	std::vector<size_t> redo;
	std::vector<float> rq, rd;
	std::vector<int64_t> rl;
	try {
		cert.resize(nq);
		VECDB_CUDA_TRY(cudaMemcpyAsync(cert.data(), d_cert_.ptr, nq, cudaMemcpyDeviceToHost, stream_));
		VECDB_RETURN_IF_ERROR(FinishKeys(d_final_.as<uint64_t>(), nq, k, labels, distances));
		/* queries the bound could not certify: answer them exactly */
		for (size_t i = 0; i < nq; i++)
			if (cert[i] == 0)
				redo.push_back(i);
		rq.resize(redo.size() * dim_pad_);
		rl.resize(redo.size() * k);
		rd.resize(redo.size() * k);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_FLAT index");
	}
	stats_.fallback = redo.size();
	/* the leave-out variants (bench only) return wrong results anyway */
	if (redo.empty() || o.skip != 0)
		return Status::Ok();
	for (size_t i = 0; i < redo.size(); i++)
		std::memcpy(rq.data() + i * dim_pad_, hq + redo[i] * dim_pad_, dim_pad_ * sizeof(float));
	VECDB_RETURN_IF_ERROR(
		AnswerDirect(rq.data(), redo.size(), k, rf, filter, params, poller, rl.data(), rd.data()));
	for (size_t i = 0; i < redo.size(); i++) {
		std::memcpy(labels + redo[i] * k, rl.data() + i * k, k * sizeof(int64_t));
		std::memcpy(distances + redo[i] * k, rd.data() + i * k, k * sizeof(float));
	}
	return Status::Ok();
}

// UploadQueries copies the queries and, under L2, their squared norms (double sums).
Status GpuFlatIndex::UploadQueries(const float *hq, size_t nq, DeviceBuffer &dq, DeviceBuffer &dqn) const noexcept {
	VECDB_RETURN_IF_ERROR(dq.Reserve(nq * dim_pad_ * sizeof(float)));
	VECDB_CUDA_TRY(cudaMemcpyAsync(dq.ptr, hq, nq * dim_pad_ * sizeof(float), cudaMemcpyHostToDevice, stream_));
	if (metric_ != Metric::kL2)
		return Status::Ok();
	/* h_qn_ outlives the copy: every search ends with a stream synchronize */
	try {
		h_qn_.resize(nq);
	} catch (...) {
		return Status::OutOfMemory("out of memory while searching a GPU_FLAT index");
	}
	for (size_t i = 0; i < nq; i++) {
		double s = 0;
		for (int j = 0; j < dim_; j++)
			s += static_cast<double>(hq[i * dim_pad_ + j]) * hq[i * dim_pad_ + j];
		h_qn_[i] = static_cast<float>(s);
	}
	VECDB_RETURN_IF_ERROR(dqn.Reserve(nq * sizeof(float)));
	VECDB_CUDA_TRY(cudaMemcpyAsync(dqn.ptr, h_qn_.data(), nq * sizeof(float), cudaMemcpyHostToDevice, stream_));
	return Status::Ok();
}

// ScanQueries runs the fused scan over chunks of queries whose per-slice
// lists fit kPartialBytes.
Status GpuFlatIndex::ScanQueries(const float *hq, size_t nq, int k, const RowFilter &rf, knowhere::StopPoller &poller,
								 int64_t *labels, float *distances) const noexcept {
	const size_t n = labels_.size();
	const int nvec = dim_pad_ / 4;
	const size_t slice = ScanSliceRows(n, sms_, k);
	const int slices = static_cast<int>((n + slice - 1) / slice);
	const size_t per_query = static_cast<size_t>(slices) * k * sizeof(uint64_t);
	const size_t chunk = std::max<size_t>(1, std::min({nq, kPartialBytes / per_query, kMaxGridQueries}));
	VECDB_RETURN_IF_ERROR(d_q_fb_.Reserve(chunk * dim_pad_ * sizeof(float)));
	VECDB_RETURN_IF_ERROR(d_part_a_.Reserve(chunk * per_query));
	for (size_t q0 = 0; q0 < nq; q0 += chunk) {
		if (q0 > 0 && poller.Poll())
			return Status::Cancelled();
		size_t c = std::min(chunk, nq - q0);
		VECDB_CUDA_TRY(cudaMemcpyAsync(d_q_fb_.ptr, hq + q0 * dim_pad_, c * dim_pad_ * sizeof(float),
									   cudaMemcpyHostToDevice, stream_));
		VECDB_CUDA_TRY(LaunchScanSelect(ToDeviceMetric(metric_), d_base_.as<float>(), n, nvec, d_q_fb_.as<float>(),
										static_cast<int>(c), rf, k, static_cast<int>(slice),
										d_part_a_.as<uint64_t>(), stream_));
		VECDB_RETURN_IF_ERROR(MergeAndFinish(static_cast<int>(c), slices, k, labels + q0 * k, distances + q0 * k));
	}
	return Status::Ok();
}

// AnswerDirect answers queries the GEMM candidates could not certify.
Status GpuFlatIndex::AnswerDirect(const float *hq, size_t nq, int k, const RowFilter &rf, BitsetView filter,
								  const SearchParams &params, knowhere::StopPoller &poller, int64_t *labels,
								  float *distances) const noexcept {
	if (dim_pad_ / 4 <= kMaxFusedVec4)
		return ScanQueries(hq, nq, k, rf, poller, labels, distances);
	for (size_t i = 0; i < nq; i++)
		VECDB_RETURN_IF_ERROR(knowhere::BruteForceSearch(metric_, dim_, reinterpret_cast<const uint8_t *>(hq + i * dim_pad_),
													   Rows(), static_cast<size_t>(k), filter, params, labels + i * k,
													   distances + i * k));
	return Status::Ok();
}

// GemmSelect runs the GEMM tiles and tile selections, merging per query tile.
Status GpuFlatIndex::GemmSelect(const float *dq, const float *dqn, size_t nq, int kk, bool tf32,
								const RowFilter &rf, knowhere::StopPoller &poller, uint64_t *lists) const noexcept {
	const size_t n = labels_.size();
	const DeviceMetric dm = ToDeviceMetric(metric_);
	const GpuFlatBatchOptions &o = opts_;
	const int slice = static_cast<int>(std::min<size_t>(o.slice_rows, RoundUp(n, 1024)));
	const int slices = static_cast<int>((n + slice - 1) / slice);
	size_t qt = std::min<size_t>(nq, 4096);
	qt = std::max<size_t>(1, std::min(qt, kPartialBytes / (static_cast<size_t>(slices) * kk * sizeof(uint64_t))));
	size_t nt = std::max<size_t>(slice, o.tile_floats / qt / slice * slice);
	nt = std::min(nt, RoundUp(n, slice));
	VECDB_RETURN_IF_ERROR(d_ip_.Reserve(qt * nt * sizeof(float)));
	VECDB_RETURN_IF_ERROR(d_part_a_.Reserve(qt * slices * static_cast<size_t>(kk) * sizeof(uint64_t)));
	const float one = 1.0f, zero = 0.0f;
	for (size_t q0 = 0; q0 < nq; q0 += qt) {
		int qm = static_cast<int>(std::min(qt, nq - q0));
		for (size_t r0 = 0; r0 < n; r0 += nt) {
			if (poller.Poll())
				return Status::Cancelled();
			int rm = static_cast<int>(std::min(nt, n - r0));
			const float *a = d_base_.as<float>() + r0 * dim_pad_;
			const float *b = dq + q0 * dim_pad_;
			if ((o.skip & kSkipGemm) == 0) {
				if (tf32)
					VECDB_CUBLAS_TRY(cublasGemmEx(cublas_tf32_, CUBLAS_OP_T, CUBLAS_OP_N, rm, qm, dim_pad_, &one, a,
												  CUDA_R_32F, dim_pad_, b, CUDA_R_32F, dim_pad_, &zero,
												  d_ip_.as<float>(), CUDA_R_32F, rm, CUBLAS_COMPUTE_32F_FAST_TF32,
												  CUBLAS_GEMM_DEFAULT));
				else
					VECDB_CUBLAS_TRY(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, rm, qm, dim_pad_, &one, a,
												 dim_pad_, b, dim_pad_, &zero, d_ip_.as<float>(), rm));
			}
			if ((o.skip & kSkipSelect) == 0)
				VECDB_CUDA_TRY(LaunchTileSelect(dm, d_ip_.as<float>(), static_cast<size_t>(rm), qm, r0,
												static_cast<size_t>(rm), dqn + (metric_ == Metric::kL2 ? q0 : 0),
												d_norms_.as<float>(), rf, kk, slice, slices, o.seed_select,
												d_part_a_.as<uint64_t>(), stream_));
		}
		auto merged = MergeLists(qm, slices, kk);
		if (!merged.ok())
			return merged.status();
		VECDB_CUDA_TRY(cudaMemcpyAsync(lists + q0 * kk, merged.value(), static_cast<size_t>(qm) * kk * sizeof(uint64_t),
									   cudaMemcpyDeviceToDevice, stream_));
	}
	return Status::Ok();
}

// MergeLists merges d_part_a_'s lists in place of d_part_a_ / d_part_b_.
Expected<uint64_t *> GpuFlatIndex::MergeLists(int nq, int lists, int k) const noexcept {
	return MergeKeyLists(d_part_a_, d_part_b_, nq, lists, k, stream_);
}

// FinishKeys maps keys to labels / distances and copies them to the host.
Status GpuFlatIndex::FinishKeys(const uint64_t *keys, size_t nq, int k, int64_t *labels,
								float *distances) const noexcept {
	return CopyOutKeys(keys, nq * static_cast<size_t>(k), d_labels_.as<int64_t>(), d_out_labels_, d_out_dist_,
					   labels, distances, stream_);
}

// MergeAndFinish merges the per-slice lists in d_part_a_ and copies the results out.
Status GpuFlatIndex::MergeAndFinish(int nq, int lists, int k, int64_t *labels, float *distances) const noexcept {
	auto merged = MergeLists(nq, lists, k);
	if (!merged.ok())
		return merged.status();
	return FinishKeys(merged.value(), static_cast<size_t>(nq), k, labels, distances);
}

// SearchCpu answers each query by exact brute force over the host copy.
Status GpuFlatIndex::SearchCpu(const void *queries, size_t nq, size_t k, const SearchParams &params,
							   BitsetView filter, int64_t *labels, float *distances) const noexcept {
	const float *q = static_cast<const float *>(queries);
	std::vector<uint8_t> pq;
	for (size_t i = 0; i < nq; i++) {
		VECDB_RETURN_IF_ERROR(knowhere::PrepareQuery(metric_, dim_, q + i * dim_, &pq));
		VECDB_RETURN_IF_ERROR(knowhere::BruteForceSearch(metric_, dim_, pq.data(), Rows(), k, filter, params,
													   labels + i * k, distances + i * k));
	}
	return Status::Ok();
}

// RangeSearch scans the host copy exactly.
Status GpuFlatIndex::RangeSearch(const void *query, float radius, const SearchParams &params, BitsetView filter,
								 std::vector<Neighbor> *out) const noexcept {
	if (query == nullptr || out == nullptr)
		return Status::InvalidArgument("query or result missing");
	std::vector<uint8_t> pq;
	VECDB_RETURN_IF_ERROR(knowhere::PrepareQuery(metric_, dim_, query, &pq));
	knowhere::StopPoller poller(params.should_stop, params.stop_arg);
	size_t first = out->size();
	VECDB_RETURN_IF_ERROR(knowhere::RangeScan(metric_, dim_, pq.data(), Rows(), radius, filter, &poller, out));
	std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(), knowhere::NeighborLess);
	return Status::Ok();
}

// CreateIterator returns the exact iterator over the host copy.
Expected<std::unique_ptr<Iterator>> GpuFlatIndex::CreateIterator(const void *query, const SearchParams &params,
																 BitsetView filter) const noexcept {
	if (query == nullptr)
		return Status::InvalidArgument("query missing");
	std::vector<uint8_t> pq;
	Status s = knowhere::PrepareQuery(metric_, dim_, query, &pq);
	if (!s.ok())
		return s;
	return knowhere::ExactIterator::Create(metric_, dim_, pq.data(), Rows(), filter, params);
}

// Reconstruct copies rows from the host copy.
Status GpuFlatIndex::Reconstruct(const int64_t *labels, size_t n, void *out) const noexcept {
	if (n == 0)
		return Status::Ok();
	if (labels == nullptr || out == nullptr)
		return Status::InvalidArgument("labels or output missing");
	float *o = static_cast<float *>(out);
	try {
		std::unordered_map<int64_t, size_t> where;
		if (!identity_) {
			where.reserve(labels_.size());
			for (size_t i = 0; i < labels_.size(); i++)
				where.emplace(labels_[i], i);
		}
		for (size_t i = 0; i < n; i++) {
			size_t row;
			if (identity_) {
				if (labels[i] < 0 || static_cast<size_t>(labels[i]) >= labels_.size())
					return Status::InvalidArgument("label " + std::to_string(labels[i]) + " is not in the index");
				row = static_cast<size_t>(labels[i]);
			} else {
				auto it = where.find(labels[i]);
				if (it == where.end())
					return Status::InvalidArgument("label " + std::to_string(labels[i]) + " is not in the index");
				row = it->second;
			}
			std::memcpy(o + i * dim_, data_.data() + row * dim_, dim_ * sizeof(float));
		}
	} catch (...) {
		return Status::OutOfMemory("out of memory while reconstructing rows");
	}
	return Status::Ok();
}

// Serialize writes header, labels, rows and the checksum.
Status GpuFlatIndex::Serialize(ByteWriter &writer) const noexcept {
	return knowhere::WriteIndexStream(writer, *this, [&](knowhere::IndexStreamWriter &w) -> Status {
		VECDB_RETURN_IF_ERROR(w.Section(labels_.data(), labels_.size() * sizeof(int64_t)));
		return w.Section(data_.data(), data_.size() * sizeof(float));
	});
}

// Load reads and checks the sections (the caller checks the trailer), then
// uploads them.
Status GpuFlatIndex::Load(const knowhere::IndexHeader &header, knowhere::IndexStreamReader &reader) noexcept {
	uint64_t count = static_cast<uint64_t>(header.count);
	if (count > kMaxRows)
		return Status::Corrupt("index row count out of range");
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&labels_, count));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&data_, count * dim_));
	identity_ = true;
	for (size_t i = 0; i < labels_.size(); i++) {
		if (labels_[i] < 0)
			return Status::Corrupt("index holds a negative label");
		identity_ = identity_ && labels_[i] == static_cast<int64_t>(i);
		max_label_ = std::max(max_label_, labels_[i]);
	}
	for (float v : data_)
		if (!std::isfinite(v))
			return Status::Corrupt("index holds a non-finite value");
	max_norm_ = 0;
	for (size_t i = 0; i < labels_.size(); i++)
		max_norm_ = std::max(max_norm_, RowNorm(data_.data() + i * dim_, dim_));
	std::lock_guard<std::mutex> lock(mu_);
	return labels_.empty() ? Status::Ok() : Upload(0);
}

// DeviceSms returns device 0's multiprocessor count, or a Status.
Status DeviceSms(int *sms) noexcept {
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess) {
		Status s = CudaStatus(e, "cudaGetDeviceCount");
		return s.code() == knowhere::StatusCode::kNotSupported ? s : Status::NotSupported("no CUDA device: " + s.message());
	}
	if (n == 0)
		return Status::NotSupported("no CUDA device: the CUDA runtime reports 0 devices");
	VECDB_CUDA_TRY(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, 0));
	return Status::Ok();
}

// MakeGpuFlat checks config and device and constructs an empty index.
Expected<std::unique_ptr<GpuFlatIndex>> MakeGpuFlat(Metric metric, int dim) noexcept {
	if (metric != Metric::kL2 && metric != Metric::kInnerProduct && metric != Metric::kCosine)
		return Status::NotSupported("GPU_FLAT supports L2, inner product and cosine");
	int sms = 0;
	Status s = DeviceSms(&sms);
	if (!s.ok())
		return s;
	try {
		return std::unique_ptr<GpuFlatIndex>(new GpuFlatIndex(metric, dim, 0, sms));
	} catch (...) {
		return Status::OutOfMemory("out of memory while creating a GPU_FLAT index");
	}
}

// LoadGpuFlat is GPU_FLAT's DeserializeIndex loader.
Expected<std::unique_ptr<Index>> LoadGpuFlat(const knowhere::IndexHeader &header,
											 knowhere::IndexStreamReader &reader) noexcept {
	auto made = MakeGpuFlat(static_cast<Metric>(header.metric), header.dim);
	if (!made.ok())
		return made.status();
	std::unique_ptr<GpuFlatIndex> index = std::move(made).value();
	Status s = index->Load(header, reader);
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

// NewGpuFlatFactory is GPU_FLAT's CreateIndex factory (config validated).
Expected<std::unique_ptr<Index>> NewGpuFlatFactory(const IndexConfig &config) noexcept {
	return NewGpuFlatIndex(config);
}

}  // namespace

// CheckDevice asks the runtime for a device.
Status CheckDevice() noexcept {
	int sms = 0;
	return DeviceSms(&sms);
}

// NewGpuFlatIndex validates config and makes the index.
Expected<std::unique_ptr<Index>> NewGpuFlatIndex(const IndexConfig &config) noexcept {
	IndexConfig c = config;
	c.kind = IndexKind::kGpuFlat;
	Status s = knowhere::ValidateConfig(c);
	if (!s.ok())
		return s;
	auto made = MakeGpuFlat(c.metric, c.dim);
	if (!made.ok())
		return made.status();
	return std::unique_ptr<Index>(std::move(made).value());
}

// SetGpuFlatBatchOptions checks the knobs and installs them on a GPU_FLAT index.
Status SetGpuFlatBatchOptions(Index &index, const GpuFlatBatchOptions &options) noexcept {
	auto *g = dynamic_cast<GpuFlatIndex *>(&index);
	if (g == nullptr)
		return Status::InvalidArgument("batch options apply to GPU_FLAT indexes only");
	if (options.rerank_factor < 2 || options.rerank_factor > kMaxSelectK)
		return Status::InvalidArgument("rerank_factor must be between 2 and 2048");
	if (options.slice_rows < 1024 || options.slice_rows % 1024 != 0)
		return Status::InvalidArgument("slice_rows must be a positive multiple of 1024");
	if (options.tile_floats < static_cast<size_t>(options.slice_rows))
		return Status::InvalidArgument("tile_floats must hold at least one slice");
	g->SetBatchOptions(options);
	return Status::Ok();
}

// GetGpuFlatBatchStats reads the last batch figures of a GPU_FLAT index.
GpuFlatBatchStats GetGpuFlatBatchStats(const Index &index) noexcept {
	auto *g = dynamic_cast<const GpuFlatIndex *>(&index);
	return g == nullptr ? GpuFlatBatchStats() : g->BatchStats();
}

// RegisterGpuKinds installs GPU_FLAT in the engine's factory and GpuKMeans
// as its IVF centroid trainer.
void RegisterGpuKinds() noexcept {
	knowhere::RegisterExternalKind(IndexKind::kGpuFlat, NewGpuFlatFactory, LoadGpuFlat);
	RegisterGpuCentroidTrainer();
}

}  // namespace vecdb::gpu
