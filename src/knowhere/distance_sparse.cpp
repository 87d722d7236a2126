// distance_sparse.cpp implements the sparse float32 kernels by merging sorted index lists (scalar on every CPU).
#include <cmath>

#include "knowhere/distance_kernels.hpp"

namespace vecdb::knowhere {

// SparseL2SqrF32 sums squared differences over the union of both index sets.
float SparseL2SqrF32(const int32_t *ai, const float *av, size_t an,
					 const int32_t *bi, const float *bv, size_t bn) noexcept {
	float s = 0;
	size_t i = 0, j = 0;
	while (i < an || j < bn) {
		float t;
		if (j >= bn || (i < an && ai[i] < bi[j]))
			t = av[i++];
		else if (i >= an || bi[j] < ai[i])
			t = bv[j++];
		else
			t = av[i++] - bv[j++];
		s += t * t;
	}
	return s;
}

// SparseInnerProductF32 sums products over the indices both vectors hold.
float SparseInnerProductF32(const int32_t *ai, const float *av, size_t an,
							const int32_t *bi, const float *bv, size_t bn) noexcept {
	float s = 0;
	size_t i = 0, j = 0;
	while (i < an && j < bn) {
		if (ai[i] < bi[j])
			i++;
		else if (bi[j] < ai[i])
			j++;
		else
			s += av[i++] * bv[j++];
	}
	return s;
}

// SparseL1F32 sums absolute differences over the union of both index sets.
float SparseL1F32(const int32_t *ai, const float *av, size_t an,
				  const int32_t *bi, const float *bv, size_t bn) noexcept {
	float s = 0;
	size_t i = 0, j = 0;
	while (i < an || j < bn) {
		if (j >= bn || (i < an && ai[i] < bi[j]))
			s += std::fabs(av[i++]);
		else if (i >= an || bi[j] < ai[i])
			s += std::fabs(bv[j++]);
		else {
			s += std::fabs(av[i] - bv[j]);
			i++;
			j++;
		}
	}
	return s;
}

// SparseCosineDistanceF32 returns pgvector's cosine distance of sparse vectors.
double SparseCosineDistanceF32(const int32_t *ai, const float *av, size_t an,
							   const int32_t *bi, const float *bv, size_t bn) noexcept {
	float dot = SparseInnerProductF32(ai, av, an, bi, bv, bn);
	float na = 0, nb = 0;
	for (size_t i = 0; i < an; i++)
		na += av[i] * av[i];
	for (size_t j = 0; j < bn; j++)
		nb += bv[j] * bv[j];
	return kernels::CosineFromSums(kernels::CosineSums{dot, na, nb});
}

}  // namespace vecdb::knowhere
