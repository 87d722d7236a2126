// sq_codec_avx512.cpp holds the AVX-512 query-to-code kernels of the scalar
// quantizer (sq_codec.hpp): 16 dimensions a step;
// compiled with AVX-512 flags only and called only when the CPU has them
// (SqDistanceFor).
#include <immintrin.h>

#include <cstring>

#include "knowhere/sq_codec.hpp"

namespace vecdb::knowhere::sq_avx512 {

namespace {

// Tail4 returns dimension d's 4-bit code as a float.
inline float Tail4(const uint8_t *x, size_t d) noexcept {
	return static_cast<float>(SqCode4(x, d));
}

// Codes8 returns the sixteen 8-bit codes at x as floats.
inline __m512 Codes8(const uint8_t *x) noexcept {
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x))));
}

// Nibbles returns the sixteen 4-bit codes of the 8-byte block at x as bytes
// in dimension order (low nibbles, then high nibbles); Codes4 as floats.
inline __m128i Nibbles(const uint8_t *x) noexcept {
	const __m128i mask = _mm_set1_epi8(15);
	__m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(x));
	return _mm_unpacklo_epi64(_mm_and_si128(b, mask), _mm_and_si128(_mm_srli_epi16(b, 4), mask));
}
inline __m512 Codes4(const uint8_t *x) noexcept {
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(Nibbles(x)));
}

// L2Step and IpStep accumulate sixteen dimensions of query q against the
// decoded values center + c * s: (q - value)^2, or q * value.
inline __m512 L2Step(__m512 acc, __m512 q, __m512 c, __m512 s, __m512 center) noexcept {
	__m512 diff = _mm512_sub_ps(q, _mm512_fmadd_ps(c, s, center));
	return _mm512_fmadd_ps(diff, diff, acc);
}
inline __m512 IpStep(__m512 acc, __m512 q, __m512 c, __m512 s, __m512 center) noexcept {
	return _mm512_fmadd_ps(q, _mm512_fmadd_ps(c, s, center), acc);
}

// Run sums step over 16-dimension groups (levels from Codes(x, d)), two
// groups a round, then the tail dimensions with one (level from Tail(x, d)),
// against the center of the code's cluster.
template <typename Codes, typename Tail, typename Step, typename One>
inline float Run(const SqCodec &c, const float *q, const uint8_t *code, Codes &&codes, Tail &&tail, Step &&step,
				 One &&one) noexcept {
	size_t dim = static_cast<size_t>(c.dim()), d = 0;
	uint32_t j;
	std::memcpy(&j, code, sizeof(j));
	const float *st = c.step(j), *cen = c.center(j);
	const uint8_t *x = code + kSqCodeHead;
	/* two accumulators: one chain of fused multiply-adds would wait on itself */
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	for (; d + 32 <= dim; d += 32) {
		acc0 = step(acc0, _mm512_loadu_ps(q + d), codes(x, d), _mm512_loadu_ps(st + d), _mm512_loadu_ps(cen + d));
		acc1 = step(acc1, _mm512_loadu_ps(q + d + 16), codes(x, d + 16), _mm512_loadu_ps(st + d + 16),
					_mm512_loadu_ps(cen + d + 16));
	}
	for (; d + 16 <= dim; d += 16)
		acc0 = step(acc0, _mm512_loadu_ps(q + d), codes(x, d), _mm512_loadu_ps(st + d), _mm512_loadu_ps(cen + d));
	float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; d < dim; d++)
		sum += one(q[d], tail(x, d), st[d], cen[d]);
	return sum;
}

inline __m512 At8(const uint8_t *x, size_t d) noexcept {
	return Codes8(x + d);
}
inline float Tail8(const uint8_t *x, size_t d) noexcept {
	return static_cast<float>(x[d]);
}
inline __m512 At4(const uint8_t *x, size_t d) noexcept {
	return Codes4(x + d / 2);
}

}  // namespace

float L2x8(const void *query, const void *code, const void *codec) noexcept {
	return Run(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
			   static_cast<const uint8_t *>(code), At8, Tail8, L2Step, SqL2Term);
}

float Ipx8(const void *query, const void *code, const void *codec) noexcept {
	return -Run(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				static_cast<const uint8_t *>(code), At8, Tail8, IpStep, SqIpTerm);
}

float L2x4(const void *query, const void *code, const void *codec) noexcept {
	return Run(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
			   static_cast<const uint8_t *>(code), At4, Tail4, L2Step, SqL2Term);
}

float Ipx4(const void *query, const void *code, const void *codec) noexcept {
	return -Run(*static_cast<const SqCodec *>(codec), static_cast<const float *>(query),
				static_cast<const uint8_t *>(code), At4, Tail4, IpStep, SqIpTerm);
}

}  // namespace vecdb::knowhere::sq_avx512
