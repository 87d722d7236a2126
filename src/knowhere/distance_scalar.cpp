// distance_scalar.cpp implements the portable dense and bit kernels that every CPU can run.
#include <cmath>
#include <cstring>

#include "knowhere/distance_kernels.hpp"

namespace vecdb::knowhere::kernels {

namespace {

// L2SqrF32Scalar sums squared differences in one float accumulator, as pgvector does.
float L2SqrF32Scalar(const float *a, const float *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++) {
		float t = a[i] - b[i];
		s += t * t;
	}
	return s;
}

// InnerProductF32Scalar sums products in one float accumulator.
float InnerProductF32Scalar(const float *a, const float *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += a[i] * b[i];
	return s;
}

// L1F32Scalar sums absolute differences in one float accumulator.
float L1F32Scalar(const float *a, const float *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += std::fabs(a[i] - b[i]);
	return s;
}

// CosineF32Scalar sums the dot product and both squared norms in one pass.
CosineSums CosineF32Scalar(const float *a, const float *b, size_t d) noexcept {
	float dot = 0, na = 0, nb = 0;
	for (size_t i = 0; i < d; i++) {
		dot += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	return CosineSums{dot, na, nb};
}

// L2SqrF16Scalar widens each half to float and sums squared differences.
float L2SqrF16Scalar(const Half *a, const Half *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++) {
		float t = HalfToFloat(a[i]) - HalfToFloat(b[i]);
		s += t * t;
	}
	return s;
}

// InnerProductF16Scalar widens each half to float and sums products.
float InnerProductF16Scalar(const Half *a, const Half *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += HalfToFloat(a[i]) * HalfToFloat(b[i]);
	return s;
}

// L1F16Scalar widens each half to float and sums absolute differences.
float L1F16Scalar(const Half *a, const Half *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += std::fabs(HalfToFloat(a[i]) - HalfToFloat(b[i]));
	return s;
}

// CosineF16Scalar widens each half to float and sums dot product and norms.
CosineSums CosineF16Scalar(const Half *a, const Half *b, size_t d) noexcept {
	float dot = 0, na = 0, nb = 0;
	for (size_t i = 0; i < d; i++) {
		float x = HalfToFloat(a[i]), y = HalfToFloat(b[i]);
		dot += x * y;
		na += x * x;
		nb += y * y;
	}
	return CosineSums{dot, na, nb};
}

// LoadWord reads 8 bytes without alignment requirements.
uint64_t LoadWord(const uint8_t *p) noexcept {
	uint64_t w;
	std::memcpy(&w, p, sizeof(w));
	return w;
}

// HammingScalar counts differing bits a 64-bit word at a time, then byte by byte.
uint64_t HammingScalar(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	uint64_t n = 0;
	size_t i = 0;
	for (; i + 8 <= nbytes; i += 8)
		n += static_cast<uint64_t>(__builtin_popcountll(LoadWord(a + i) ^ LoadWord(b + i)));
	for (; i < nbytes; i++)
		n += static_cast<uint64_t>(__builtin_popcount(a[i] ^ b[i]));
	return n;
}

// JaccardScalar counts the bits of a & b, a and b a word at a time, then byte by byte.
JaccardCounts JaccardScalar(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	uint64_t ab = 0, aa = 0, bb = 0;
	size_t i = 0;
	for (; i + 8 <= nbytes; i += 8) {
		uint64_t x = LoadWord(a + i), y = LoadWord(b + i);
		ab += static_cast<uint64_t>(__builtin_popcountll(x & y));
		aa += static_cast<uint64_t>(__builtin_popcountll(x));
		bb += static_cast<uint64_t>(__builtin_popcountll(y));
	}
	for (; i < nbytes; i++) {
		ab += static_cast<uint64_t>(__builtin_popcount(a[i] & b[i]));
		aa += static_cast<uint64_t>(__builtin_popcount(a[i]));
		bb += static_cast<uint64_t>(__builtin_popcount(b[i]));
	}
	return JaccardCounts{ab, aa, bb};
}

// FloatsToHalvesScalar converts with the integer routine (float16.cpp).
void FloatsToHalvesScalar(const float *in, float scale, size_t n, Half *out) noexcept {
	for (size_t i = 0; i < n; i++)
		out[i] = FloatToHalf(in[i] * scale);
}

// L2SqrU8Scalar sums the squared differences of byte codes.
uint32_t L2SqrU8Scalar(const uint8_t *a, const uint8_t *b, size_t d) noexcept {
	uint32_t sum = 0;
	for (size_t i = 0; i < d; i++) {
		int t = static_cast<int>(a[i]) - static_cast<int>(b[i]);
		sum += static_cast<uint32_t>(t * t);
	}
	return sum;
}

// L1U8Scalar sums the absolute differences of byte codes.
uint32_t L1U8Scalar(const uint8_t *a, const uint8_t *b, size_t d) noexcept {
	uint32_t sum = 0;
	for (size_t i = 0; i < d; i++)
		sum += static_cast<uint32_t>(a[i] > b[i] ? a[i] - b[i] : b[i] - a[i]);
	return sum;
}

constexpr KernelTable kScalarTable = {
	SimdLevel::kScalar,
	L2SqrF32Scalar,
	InnerProductF32Scalar,
	L1F32Scalar,
	CosineF32Scalar,
	L2SqrF16Scalar,
	InnerProductF16Scalar,
	L1F16Scalar,
	CosineF16Scalar,
	FloatsToHalvesScalar,
	L2SqrU8Scalar,
	L1U8Scalar,
	HammingScalar,
	JaccardScalar,
};

}  // namespace

// ScalarTable returns the portable kernel table.
const KernelTable *ScalarTable() noexcept {
	return &kScalarTable;
}

// CosineFromSums computes 1 - dot / sqrt(na * nb) in double, as pgvector does.
double CosineFromSums(CosineSums s) noexcept {
	double sim = static_cast<double>(s.dot) /
		std::sqrt(static_cast<double>(s.norm_a) * static_cast<double>(s.norm_b));
	/* A zero vector gives 0/0: pgvector returns NaN rather than an error. */
	if (std::isnan(sim))
		return NAN;
	/* Rounding can push |sim| slightly past 1. */
	if (sim > 1)
		sim = 1;
	else if (sim < -1)
		sim = -1;
	return 1.0 - sim;
}

}  // namespace vecdb::knowhere::kernels
