// sq_codec_avx2.cpp holds the AVX2 + FMA query-to-code kernels of the
// scalar quantizer (sq_codec.hpp); compiled with
// those flags only and called only when the CPU has them (SqDistanceFor).
#include <immintrin.h>

#include <cstring>

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

// Tail4 returns dimension d's 4-bit code as a float.
inline float Tail4(const uint8_t *x, size_t d) noexcept {
	return static_cast<float>(SqCode4(x, d));
}

// Codes8 returns the eight 8-bit codes at x as floats.
inline __m256 Codes8(const uint8_t *x) noexcept {
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x))));
}

// L2Step and IpStep accumulate eight dimensions of query q against the
// decoded values center + c * s: (q - value)^2, or q * value.
inline __m256 L2Step(__m256 acc, __m256 q, __m256 c, __m256 s, __m256 center) noexcept {
	__m256 diff = _mm256_sub_ps(q, _mm256_fmadd_ps(c, s, center));
	return _mm256_fmadd_ps(diff, diff, acc);
}
inline __m256 IpStep(__m256 acc, __m256 q, __m256 c, __m256 s, __m256 center) noexcept {
	return _mm256_fmadd_ps(q, _mm256_fmadd_ps(c, s, center), acc);
}

// ClusterOf returns a code's cluster (its head).
inline uint32_t ClusterOf(const uint8_t *code) noexcept {
	uint32_t j;
	std::memcpy(&j, code, sizeof(j));
	return j;
}

// Run8 sums step over the 8-bit codes' dimensions, then the tail with one.
template <typename Step, typename One>
inline float Run8(const SqCodec &c, const float *q, const uint8_t *code, Step &&step, One &&one) noexcept {
	size_t dim = static_cast<size_t>(c.dim()), d = 0;
	const float *st = c.step(ClusterOf(code)), *cen = c.center(ClusterOf(code));
	const uint8_t *x = code + kSqCodeHead;
	/* two accumulators: one chain of fused multiply-adds would wait on itself */
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	for (; d + 16 <= dim; d += 16) {
		acc0 = step(acc0, _mm256_loadu_ps(q + d), Codes8(x + d), _mm256_loadu_ps(st + d), _mm256_loadu_ps(cen + d));
		acc1 = step(acc1, _mm256_loadu_ps(q + d + 8), Codes8(x + d + 8), _mm256_loadu_ps(st + d + 8),
					_mm256_loadu_ps(cen + d + 8));
	}
	for (; d + 8 <= dim; d += 8)
		acc0 = step(acc0, _mm256_loadu_ps(q + d), Codes8(x + d), _mm256_loadu_ps(st + d), _mm256_loadu_ps(cen + d));
	float sum = Sum(_mm256_add_ps(acc0, acc1));
	for (; d < dim; d++)
		sum += one(q[d], static_cast<float>(x[d]), st[d], cen[d]);
	return sum;
}

// Run4 is Run8 for 4-bit codes: 16 dimensions per 8-byte block.
template <typename Step, typename One>
inline float Run4(const SqCodec &c, const float *q, const uint8_t *code, Step &&step, One &&one) noexcept {
	size_t dim = static_cast<size_t>(c.dim()), d = 0;
	const float *st = c.step(ClusterOf(code)), *cen = c.center(ClusterOf(code));
	const uint8_t *x = code + kSqCodeHead;
	const __m256i low = _mm256_set1_epi32(15);
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	for (; d + 16 <= dim; d += 16) {
		__m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x + d / 2)));
		acc0 = step(acc0, _mm256_loadu_ps(q + d), _mm256_cvtepi32_ps(_mm256_and_si256(bytes, low)),
					_mm256_loadu_ps(st + d), _mm256_loadu_ps(cen + d));
		acc1 = step(acc1, _mm256_loadu_ps(q + d + 8), _mm256_cvtepi32_ps(_mm256_srli_epi32(bytes, 4)),
					_mm256_loadu_ps(st + d + 8), _mm256_loadu_ps(cen + d + 8));
	}
	float sum = Sum(_mm256_add_ps(acc0, acc1));
	for (; d < dim; d++)
		sum += one(q[d], Tail4(x, d), st[d], cen[d]);
	return sum;
}

}  // namespace

float L2x8(const void *query, const void *code, const void *codec) noexcept {
	return Run8(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				static_cast<const uint8_t *>(code), L2Step, SqL2Term);
}

float Ipx8(const void *query, const void *code, const void *codec) noexcept {
	return -Run8(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				 static_cast<const uint8_t *>(code), IpStep, SqIpTerm);
}

float L2x4(const void *query, const void *code, const void *codec) noexcept {
	return Run4(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				static_cast<const uint8_t *>(code), L2Step, SqL2Term);
}

float Ipx4(const void *query, const void *code, const void *codec) noexcept {
	return -Run4(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				 static_cast<const uint8_t *>(code), IpStep, SqIpTerm);
}

}  // namespace vecdb::knowhere::sq_avx2
