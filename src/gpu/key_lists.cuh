// key_lists.cuh holds the two steps every GPU search ends with: merging a
// query's sorted per-block key lists down to one (LaunchMerge passes) and
// turning the final keys into labels and distances on the host
// (LaunchFinalize, copies, one stream synchronize). Internal to src/gpu.
#pragma once

#include <algorithm>
#include <cstdint>

#include <cuda_runtime.h>

#include "gpu/cuda_status.cuh"
#include "gpu/device_buffer.cuh"
#include "gpu/gpu_flat_kernels.cuh"
#include "knowhere/status.hpp"

namespace vecdb::gpu {

// kMergeKeys is about how many keys one merge block reads.
constexpr int kMergeKeys = 16384;

// MergeKeyLists merges, for each of nq queries, lists sorted lists of k keys
// held in a down to one, using b as the other half of each pass, and returns
// where the merged lists are (a or b).
inline knowhere::Expected<uint64_t *> MergeKeyLists(DeviceBuffer &a, DeviceBuffer &b, int nq, int lists, int k,
													cudaStream_t stream) noexcept {
	uint64_t *in = a.as<uint64_t>();
	if (lists > 1) {
		const int group = std::max(2, kMergeKeys / k);
		knowhere::Status s =
			b.Reserve(static_cast<size_t>(nq) * ((lists + group - 1) / group) * k * sizeof(uint64_t));
		if (!s.ok())
			return s;
		uint64_t *out = b.as<uint64_t>();
		while (lists > 1) {
			cudaError_t e = LaunchMerge(in, nq, lists, k, group, out, stream);
			if (e != cudaSuccess)
				return CudaStatus(e, "LaunchMerge");
			lists = (lists + group - 1) / group;
			std::swap(in, out);
		}
	}
	return in;
}

// CopyOutKeys maps count device keys to labels (through row_labels, or the
// row itself when null) and distances, copies them to the host arrays and
// synchronizes the stream; out_labels and out_dist are device scratch.
inline knowhere::Status CopyOutKeys(const uint64_t *keys, size_t count, const int64_t *row_labels,
									DeviceBuffer &out_labels, DeviceBuffer &out_dist, int64_t *labels,
									float *distances, cudaStream_t stream) noexcept {
	VECDB_RETURN_IF_ERROR(out_labels.Reserve(count * sizeof(int64_t)));
	VECDB_RETURN_IF_ERROR(out_dist.Reserve(count * sizeof(float)));
	VECDB_CUDA_TRY(LaunchFinalize(keys, count, row_labels, out_labels.as<int64_t>(), out_dist.as<float>(), stream));
	VECDB_CUDA_TRY(cudaMemcpyAsync(labels, out_labels.ptr, count * sizeof(int64_t), cudaMemcpyDeviceToHost, stream));
	VECDB_CUDA_TRY(cudaMemcpyAsync(distances, out_dist.ptr, count * sizeof(float), cudaMemcpyDeviceToHost, stream));
	VECDB_CUDA_TRY(cudaStreamSynchronize(stream));
	return knowhere::Status::Ok();
}

}  // namespace vecdb::gpu
