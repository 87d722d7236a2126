// sq_codec_avx2.cpp holds the AVX2 + FMA query-to-code distances of the
// scalar quantizer (sq_codec.hpp); compiled with those flags only and called
// only when the CPU has them (SqDistanceFor).
#include <immintrin.h>

#include "knowhere/sq_codec.hpp"

namespace vecdb::knowhere::sq_avx2 {

namespace {

// Sum adds the eight lanes.
inline float Sum(__m256 v) noexcept {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

// Decoded returns dimensions at .. at + 7 decoded from eight codes.
inline __m256 Decoded(__m256i codes, const float *lo, const float *step, size_t at) noexcept {
	return _mm256_fmadd_ps(_mm256_cvtepi32_ps(codes), _mm256_loadu_ps(step + at), _mm256_loadu_ps(lo + at));
}

// Tail4 returns dimension d's 4-bit code.
inline float Tail4(const uint8_t *x, size_t d) noexcept {
	size_t block = d / 16, pos = d % 16;
	uint8_t b = x[block * 8 + pos % 8];
	return static_cast<float>(pos < 8 ? (b & 15u) : (b >> 4));
}

// Run8 accumulates op over the 8-bit codes' dimensions (8 at a time, then
// one at a time) and returns the sum.
template <typename Vec, typename One>
inline float Run8(const SqCodec &c, const float *q, const uint8_t *x, Vec &&vec, One &&one) noexcept {
	size_t dim = static_cast<size_t>(c.dim()), d = 0;
	__m256 acc = _mm256_setzero_ps();
	for (; d + 8 <= dim; d += 8) {
		__m256i codes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x + d)));
		acc = vec(acc, _mm256_loadu_ps(q + d), Decoded(codes, c.lo(), c.step(), d));
	}
	float sum = Sum(acc);
	for (; d < dim; d++)
		sum += one(q[d], c.lo()[d] + static_cast<float>(x[d]) * c.step()[d]);
	return sum;
}

// Run4 is Run8 for 4-bit codes: 16 dimensions per 8-byte block.
template <typename Vec, typename One>
inline float Run4(const SqCodec &c, const float *q, const uint8_t *x, Vec &&vec, One &&one) noexcept {
	size_t dim = static_cast<size_t>(c.dim()), d = 0;
	const __m256i low = _mm256_set1_epi32(15);
	__m256 acc = _mm256_setzero_ps();
	for (; d + 16 <= dim; d += 16) {
		__m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x + d / 2)));
		acc = vec(acc, _mm256_loadu_ps(q + d), Decoded(_mm256_and_si256(bytes, low), c.lo(), c.step(), d));
		acc = vec(acc, _mm256_loadu_ps(q + d + 8), Decoded(_mm256_srli_epi32(bytes, 4), c.lo(), c.step(), d + 8));
	}
	float sum = Sum(acc);
	for (; d < dim; d++)
		sum += one(q[d], c.lo()[d] + Tail4(x, d) * c.step()[d]);
	return sum;
}

// L2Vec / IpVec accumulate one 8-lane step; L2One / IpOne one dimension.
inline __m256 L2Vec(__m256 acc, __m256 q, __m256 v) noexcept {
	__m256 diff = _mm256_sub_ps(q, v);
	return _mm256_fmadd_ps(diff, diff, acc);
}
inline __m256 IpVec(__m256 acc, __m256 q, __m256 v) noexcept {
	return _mm256_fmadd_ps(q, v, acc);
}
inline float L2One(float q, float v) noexcept {
	return (q - v) * (q - v);
}
inline float IpOne(float q, float v) noexcept {
	return q * v;
}

}  // namespace

float L2x8(const void *query, const void *code, const void *codec) noexcept {
	return Run8(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				static_cast<const uint8_t *>(code), L2Vec, L2One);
}

float Ipx8(const void *query, const void *code, const void *codec) noexcept {
	return -Run8(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				 static_cast<const uint8_t *>(code), IpVec, IpOne);
}

float L2x4(const void *query, const void *code, const void *codec) noexcept {
	return Run4(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				static_cast<const uint8_t *>(code), L2Vec, L2One);
}

float Ipx4(const void *query, const void *code, const void *codec) noexcept {
	return -Run4(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				 static_cast<const uint8_t *>(code), IpVec, IpOne);
}

}  // namespace vecdb::knowhere::sq_avx2
