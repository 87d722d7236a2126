// distance_avx2.cpp implements the dense and bit kernels with AVX2, FMA, F16C and POPCNT.
//
// Compiled with -mavx2 -mfma -mf16c -mpopcnt (see CMakeLists.txt); reached only
// through Avx2Table() after distance_dispatch.cpp has checked the CPU. Loops run
// four 8-lane accumulators over 32 elements, then single vectors, then a tail of
// fewer than 8 elements copied into a zeroed local block, so no load ever reads
// past element d-1 (zero padding adds nothing to any of the sums).
#include <immintrin.h>

#include <cstring>

#include "knowhere/distance_kernels.hpp"

namespace vecdb::knowhere::kernels {

namespace {

// HorizontalSum adds the 8 lanes of v.
inline float HorizontalSum(__m256 v) noexcept {
	__m128 lo = _mm256_castps256_ps128(v);
	__m128 hi = _mm256_extractf128_ps(v, 1);
	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
	return _mm_cvtss_f32(lo);
}

// LoadF32 loads 8 floats.
inline __m256 LoadF32(const float *p) noexcept {
	return _mm256_loadu_ps(p);
}

// LoadF16 loads 8 halves and widens them to floats.
inline __m256 LoadF16(const Half *p) noexcept {
	return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

// L2Step adds the squared differences of x and y to acc.
inline __m256 L2Step(__m256 acc, __m256 x, __m256 y) noexcept {
	__m256 t = _mm256_sub_ps(x, y);
	return _mm256_fmadd_ps(t, t, acc);
}

// IpStep adds the products of x and y to acc.
inline __m256 IpStep(__m256 acc, __m256 x, __m256 y) noexcept {
	return _mm256_fmadd_ps(x, y, acc);
}

// L1Step adds the absolute differences of x and y to acc.
inline __m256 L1Step(__m256 acc, __m256 x, __m256 y) noexcept {
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	return _mm256_add_ps(acc, _mm256_and_ps(_mm256_sub_ps(x, y), abs_mask));
}

// Reduce runs Step over d elements of T loaded by Load and sums the lanes.
template <typename T, __m256 (*Load)(const T *), __m256 (*Step)(__m256, __m256, __m256)>
inline float Reduce(const T *a, const T *b, size_t d) noexcept {
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	__m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 32 <= d; i += 32) {
		s0 = Step(s0, Load(a + i), Load(b + i));
		s1 = Step(s1, Load(a + i + 8), Load(b + i + 8));
		s2 = Step(s2, Load(a + i + 16), Load(b + i + 16));
		s3 = Step(s3, Load(a + i + 24), Load(b + i + 24));
	}
	for (; i + 8 <= d; i += 8)
		s0 = Step(s0, Load(a + i), Load(b + i));
	if (i < d) {
		T ta[8] = {}, tb[8] = {};
		std::memcpy(ta, a + i, (d - i) * sizeof(T));
		std::memcpy(tb, b + i, (d - i) * sizeof(T));
		s1 = Step(s1, Load(ta), Load(tb));
	}
	return HorizontalSum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// ReduceCosine sums dot product and both squared norms over d elements.
template <typename T, __m256 (*Load)(const T *)>
inline CosineSums ReduceCosine(const T *a, const T *b, size_t d) noexcept {
	__m256 dot0 = _mm256_setzero_ps(), dot1 = _mm256_setzero_ps();
	__m256 na0 = _mm256_setzero_ps(), na1 = _mm256_setzero_ps();
	__m256 nb0 = _mm256_setzero_ps(), nb1 = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 16 <= d; i += 16) {
		__m256 x0 = Load(a + i), y0 = Load(b + i);
		__m256 x1 = Load(a + i + 8), y1 = Load(b + i + 8);
		dot0 = _mm256_fmadd_ps(x0, y0, dot0);
		na0 = _mm256_fmadd_ps(x0, x0, na0);
		nb0 = _mm256_fmadd_ps(y0, y0, nb0);
		dot1 = _mm256_fmadd_ps(x1, y1, dot1);
		na1 = _mm256_fmadd_ps(x1, x1, na1);
		nb1 = _mm256_fmadd_ps(y1, y1, nb1);
	}
	for (; i < d; i += 8) {
		__m256 x, y;
		if (i + 8 <= d) {
			x = Load(a + i);
			y = Load(b + i);
		} else {
			T ta[8] = {}, tb[8] = {};
			std::memcpy(ta, a + i, (d - i) * sizeof(T));
			std::memcpy(tb, b + i, (d - i) * sizeof(T));
			x = Load(ta);
			y = Load(tb);
		}
		dot0 = _mm256_fmadd_ps(x, y, dot0);
		na0 = _mm256_fmadd_ps(x, x, na0);
		nb0 = _mm256_fmadd_ps(y, y, nb0);
	}
	return CosineSums{HorizontalSum(_mm256_add_ps(dot0, dot1)),
					  HorizontalSum(_mm256_add_ps(na0, na1)),
					  HorizontalSum(_mm256_add_ps(nb0, nb1))};
}

// L2SqrF32Avx2 returns the squared Euclidean distance of float vectors.
float L2SqrF32Avx2(const float *a, const float *b, size_t d) noexcept {
	return Reduce<float, LoadF32, L2Step>(a, b, d);
}

// InnerProductF32Avx2 returns the inner product of float vectors.
float InnerProductF32Avx2(const float *a, const float *b, size_t d) noexcept {
	return Reduce<float, LoadF32, IpStep>(a, b, d);
}

// L1F32Avx2 returns the taxicab distance of float vectors.
float L1F32Avx2(const float *a, const float *b, size_t d) noexcept {
	return Reduce<float, LoadF32, L1Step>(a, b, d);
}

// CosineF32Avx2 returns the cosine sums of float vectors.
CosineSums CosineF32Avx2(const float *a, const float *b, size_t d) noexcept {
	return ReduceCosine<float, LoadF32>(a, b, d);
}

// L2SqrF16Avx2 returns the squared Euclidean distance of half vectors.
float L2SqrF16Avx2(const Half *a, const Half *b, size_t d) noexcept {
	return Reduce<Half, LoadF16, L2Step>(a, b, d);
}

// InnerProductF16Avx2 returns the inner product of half vectors.
float InnerProductF16Avx2(const Half *a, const Half *b, size_t d) noexcept {
	return Reduce<Half, LoadF16, IpStep>(a, b, d);
}

// L1F16Avx2 returns the taxicab distance of half vectors.
float L1F16Avx2(const Half *a, const Half *b, size_t d) noexcept {
	return Reduce<Half, LoadF16, L1Step>(a, b, d);
}

// CosineF16Avx2 returns the cosine sums of half vectors.
CosineSums CosineF16Avx2(const Half *a, const Half *b, size_t d) noexcept {
	return ReduceCosine<Half, LoadF16>(a, b, d);
}

// FloatsToHalvesAvx2 converts 8 floats at a time with VCVTPS2PH (round to
// nearest even, as the scalar routine), the tail one by one.
void FloatsToHalvesAvx2(const float *in, float scale, size_t n, Half *out) noexcept {
	const __m256 s = _mm256_set1_ps(scale);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i h = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(in + i), s), _MM_FROUND_TO_NEAREST_INT);
		_mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), h);
	}
	for (; i < n; i++)
		out[i] = static_cast<Half>(_cvtss_sh(in[i] * scale, _MM_FROUND_TO_NEAREST_INT));
}

// PopcountBytes counts the set bits in each 64-bit lane of v (nibble lookup).
inline __m256i PopcountBytes(__m256i v) noexcept {
	const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
											0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low4 = _mm256_set1_epi8(0x0f);
	__m256i lo = _mm256_and_si256(v, low4);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
	__m256i counts = _mm256_add_epi8(_mm256_shuffle_epi8(lookup, lo), _mm256_shuffle_epi8(lookup, hi));
	return _mm256_sad_epu8(counts, _mm256_setzero_si256());
}

// SumLanes adds the four 64-bit lanes of v.
inline uint64_t SumLanes(__m256i v) noexcept {
	__m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	return static_cast<uint64_t>(_mm_cvtsi128_si64(s)) + static_cast<uint64_t>(_mm_extract_epi64(s, 1));
}

// LoadWord reads 8 bytes without alignment requirements.
inline uint64_t LoadWord(const uint8_t *p) noexcept {
	uint64_t w;
	std::memcpy(&w, p, sizeof(w));
	return w;
}

// Load32 reads 32 bytes without alignment requirements.
inline __m256i Load32(const uint8_t *p) noexcept {
	return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}

// HammingAvx2 counts differing bits 32 bytes at a time (from 64 bytes on, where
// the lookup beats POPCNT), then by words and bytes.
uint64_t HammingAvx2(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	uint64_t n = 0;
	size_t i = 0;
	if (nbytes >= 64) {
		__m256i acc = _mm256_setzero_si256();
		for (; i + 32 <= nbytes; i += 32)
			acc = _mm256_add_epi64(acc, PopcountBytes(_mm256_xor_si256(Load32(a + i), Load32(b + i))));
		n = SumLanes(acc);
	}
	for (; i + 8 <= nbytes; i += 8)
		n += static_cast<uint64_t>(_mm_popcnt_u64(LoadWord(a + i) ^ LoadWord(b + i)));
	for (; i < nbytes; i++)
		n += static_cast<uint64_t>(_mm_popcnt_u32(a[i] ^ b[i]));
	return n;
}

// JaccardAvx2 counts the bits of a & b, a and b.
JaccardCounts JaccardAvx2(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	uint64_t ab = 0, aa = 0, bb = 0;
	size_t i = 0;
	if (nbytes >= 64) {
		__m256i acc_ab = _mm256_setzero_si256();
		__m256i acc_a = _mm256_setzero_si256();
		__m256i acc_b = _mm256_setzero_si256();
		for (; i + 32 <= nbytes; i += 32) {
			__m256i x = Load32(a + i), y = Load32(b + i);
			acc_ab = _mm256_add_epi64(acc_ab, PopcountBytes(_mm256_and_si256(x, y)));
			acc_a = _mm256_add_epi64(acc_a, PopcountBytes(x));
			acc_b = _mm256_add_epi64(acc_b, PopcountBytes(y));
		}
		ab = SumLanes(acc_ab);
		aa = SumLanes(acc_a);
		bb = SumLanes(acc_b);
	}
	for (; i + 8 <= nbytes; i += 8) {
		uint64_t x = LoadWord(a + i), y = LoadWord(b + i);
		ab += static_cast<uint64_t>(_mm_popcnt_u64(x & y));
		aa += static_cast<uint64_t>(_mm_popcnt_u64(x));
		bb += static_cast<uint64_t>(_mm_popcnt_u64(y));
	}
	for (; i < nbytes; i++) {
		ab += static_cast<uint64_t>(_mm_popcnt_u32(a[i] & b[i]));
		aa += static_cast<uint64_t>(_mm_popcnt_u32(a[i]));
		bb += static_cast<uint64_t>(_mm_popcnt_u32(b[i]));
	}
	return JaccardCounts{ab, aa, bb};
}

// L2SqrU8Avx2 sums the squared differences of byte codes: 16 codes at a
// time widened to 16-bit lanes, their differences squared and paired into
// 32-bit lanes (VPMADDWD), two accumulators; the tail one by one.
uint32_t L2SqrU8Avx2(const uint8_t *a, const uint8_t *b, size_t d) noexcept {
	__m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 32 <= d; i += 32) {
		__m256i d0 = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i))),
									  _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b + i))));
		__m256i d1 = _mm256_sub_epi16(
			_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i + 16))),
			_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b + i + 16))));
		acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(d0, d0));
		acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(d1, d1));
	}
	__m256i acc = _mm256_add_epi32(acc0, acc1);
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
	uint32_t sum = static_cast<uint32_t>(_mm_cvtsi128_si32(s));
	for (; i < d; i++) {
		int t = static_cast<int>(a[i]) - static_cast<int>(b[i]);
		sum += static_cast<uint32_t>(t * t);
	}
	return sum;
}

// L1U8Avx2 sums the absolute differences of byte codes: 32 at a time as
// two saturating subtractions ORed, summed by VPSADBW; the tail one by one.
uint32_t L1U8Avx2(const uint8_t *a, const uint8_t *b, size_t d) noexcept {
	__m256i acc = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 32 <= d; i += 32) {
		__m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a + i));
		__m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + i));
		__m256i diff = _mm256_or_si256(_mm256_subs_epu8(x, y), _mm256_subs_epu8(y, x));
		acc = _mm256_add_epi64(acc, _mm256_sad_epu8(diff, _mm256_setzero_si256()));
	}
	uint64_t sum = static_cast<uint64_t>(_mm256_extract_epi64(acc, 0)) +
		static_cast<uint64_t>(_mm256_extract_epi64(acc, 1)) + static_cast<uint64_t>(_mm256_extract_epi64(acc, 2)) +
		static_cast<uint64_t>(_mm256_extract_epi64(acc, 3));
	for (; i < d; i++)
		sum += static_cast<uint64_t>(a[i] > b[i] ? a[i] - b[i] : b[i] - a[i]);
	return static_cast<uint32_t>(sum);
}

constexpr KernelTable kAvx2Table = {
	SimdLevel::kAvx2,
	L2SqrF32Avx2,
	InnerProductF32Avx2,
	L1F32Avx2,
	CosineF32Avx2,
	L2SqrF16Avx2,
	InnerProductF16Avx2,
	L1F16Avx2,
	CosineF16Avx2,
	FloatsToHalvesAvx2,
	L2SqrU8Avx2,
	L1U8Avx2,
	HammingAvx2,
	JaccardAvx2,
};

}  // namespace

// Avx2Table returns the AVX2 kernel table.
const KernelTable *Avx2Table() noexcept {
	return &kAvx2Table;
}

}  // namespace vecdb::knowhere::kernels
