// distance.cpp implements the distance kernels with portable scalar code.
// (Interim: the SIMD-dispatched kernels replace this file.)
#include "knowhere/distance.hpp"

#include <cmath>
#include <cstring>

namespace vecdb::engine {

namespace {

// CosineFromSums turns dot and squared norms into pgvector's clamped distance.
double CosineFromSums(float dot, float na, float nb) {
	double sim = static_cast<double>(dot) / std::sqrt(static_cast<double>(na) * static_cast<double>(nb));
	if (std::isnan(sim))
		return NAN;
	if (sim > 1)
		sim = 1;
	else if (sim < -1)
		sim = -1;
	return 1.0 - sim;
}

}  // namespace

float L2SqrF32(const float *a, const float *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++) {
		float t = a[i] - b[i];
		s += t * t;
	}
	return s;
}

float InnerProductF32(const float *a, const float *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += a[i] * b[i];
	return s;
}

float L1F32(const float *a, const float *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += std::fabs(a[i] - b[i]);
	return s;
}

double CosineDistanceF32(const float *a, const float *b, size_t d) noexcept {
	float dot = 0, na = 0, nb = 0;
	for (size_t i = 0; i < d; i++) {
		dot += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	return CosineFromSums(dot, na, nb);
}

float HalfToFloat(Half h) noexcept {
	uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ff;
	uint32_t bits;
	if (exp == 0) {
		if (mant == 0) {
			bits = sign;
		} else {
			float f = std::ldexp(static_cast<float>(mant), -24);
			std::memcpy(&bits, &f, sizeof(bits));
			bits |= sign;
		}
	} else if (exp == 31) {
		bits = sign | 0x7f800000u | (mant << 13);
	} else {
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	}
	float out;
	std::memcpy(&out, &bits, sizeof(out));
	return out;
}

Half FloatToHalf(float f) noexcept {
	uint32_t x;
	std::memcpy(&x, &f, sizeof(x));
	uint32_t sign = (x >> 16) & 0x8000;
	uint32_t absx = x & 0x7fffffffu;
	if (absx >= 0x7f800000u)	/* inf or NaN */
		return static_cast<Half>(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
	if (absx >= 0x477ff000u)	/* rounds to >= 65520: overflow */
		return static_cast<Half>(sign | 0x7c00);
	if (absx < 0x38800000u) {	/* subnormal half or zero */
		float a;
		std::memcpy(&a, &absx, sizeof(a));
		float scaled = a * 16777216.0f;	/* 2^24: units of the smallest subnormal */
		uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));
		return static_cast<Half>(sign | m);
	}
	uint32_t mant = absx & 0x7fffff;
	uint32_t exp = (absx >> 23) - 112;
	uint32_t h = (exp << 10) | (mant >> 13);
	uint32_t rest = mant & 0x1fff;
	if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
		h++;
	return static_cast<Half>(sign | h);
}

float L2SqrF16(const Half *a, const Half *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++) {
		float t = HalfToFloat(a[i]) - HalfToFloat(b[i]);
		s += t * t;
	}
	return s;
}

float InnerProductF16(const Half *a, const Half *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += HalfToFloat(a[i]) * HalfToFloat(b[i]);
	return s;
}

float L1F16(const Half *a, const Half *b, size_t d) noexcept {
	float s = 0;
	for (size_t i = 0; i < d; i++)
		s += std::fabs(HalfToFloat(a[i]) - HalfToFloat(b[i]));
	return s;
}

double CosineDistanceF16(const Half *a, const Half *b, size_t d) noexcept {
	float dot = 0, na = 0, nb = 0;
	for (size_t i = 0; i < d; i++) {
		float x = HalfToFloat(a[i]), y = HalfToFloat(b[i]);
		dot += x * y;
		na += x * x;
		nb += y * y;
	}
	return CosineFromSums(dot, na, nb);
}

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

double SparseCosineDistanceF32(const int32_t *ai, const float *av, size_t an,
							   const int32_t *bi, const float *bv, size_t bn) noexcept {
	float dot = SparseInnerProductF32(ai, av, an, bi, bv, bn);
	float na = 0, nb = 0;
	for (size_t i = 0; i < an; i++)
		na += av[i] * av[i];
	for (size_t j = 0; j < bn; j++)
		nb += bv[j] * bv[j];
	return CosineFromSums(dot, na, nb);
}

uint64_t HammingBits(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	uint64_t n = 0;
	for (size_t i = 0; i < nbytes; i++)
		n += static_cast<uint64_t>(__builtin_popcount(a[i] ^ b[i]));
	return n;
}

double JaccardBits(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	uint64_t ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < nbytes; i++) {
		ab += static_cast<uint64_t>(__builtin_popcount(a[i] & b[i]));
		aa += static_cast<uint64_t>(__builtin_popcount(a[i]));
		bb += static_cast<uint64_t>(__builtin_popcount(b[i]));
	}
	if (ab == 0)
		return 1.0;
	return 1.0 - static_cast<double>(ab) / static_cast<double>(aa + bb - ab);
}

SimdLevel BestSimdLevel() noexcept { return SimdLevel::kScalar; }
SimdLevel ActiveSimdLevel() noexcept { return SimdLevel::kScalar; }
bool SetSimdLevel(SimdLevel level) noexcept { return level == SimdLevel::kScalar; }

const char *SimdLevelName(SimdLevel level) noexcept {
	switch (level) {
		case SimdLevel::kAvx512: return "avx512";
		case SimdLevel::kAvx2: return "avx2";
		default: return "scalar";
	}
}

}  // namespace vecdb::engine
