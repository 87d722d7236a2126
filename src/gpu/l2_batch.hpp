// l2_batch.hpp declares a GPU kernel computing squared L2 distances from one
// query to a batch of vectors: the first brick of GPU flat search.
#pragma once

#include <cstddef>

namespace vecdb::gpu {

// L2SqrBatch writes dist[i] = ||query - base[i]||^2 for i < n (base is n x d,
// row-major, host memory). It returns false and fills err (size err_len) when
// CUDA fails, e.g. when no device is present.
bool L2SqrBatch(const float *query, const float *base, size_t n, size_t d, float *dist,
				char *err, size_t err_len) noexcept;

}  // namespace vecdb::gpu
