// distance_avx512.cpp implements the dense kernels with AVX-512 F/BW/VL/DQ (+F16C for widening halves).
//
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c
// (see CMakeLists.txt); reached only through Avx512Table() after
// distance_dispatch.cpp has checked the CPU. Loops run four 16-lane
// accumulators over 64 elements, then single vectors, then one masked load for
// the last d % 16 elements: masked-off lanes are neither read nor faulted on,
// so no access goes past element d-1. The bit kernels come from the VPOPCNTDQ
// file when the CPU has it and from the AVX2 table otherwise.
//
// The byte-code kernels are the AVX2 table's (one build's scores; the
// machines we measure on split zmm integer work in two halves anyway).
// L2 and L1 over halves are taken from the AVX2 table: widening 16 halves
// (VCVTPH2PS zmm) costs two uops on ports 0 and 5, the only ports 512-bit
// arithmetic may use, and with the extra subtraction those kernels ran ~10%
// slower in zmm than the ymm code, which also gets port 1 (Xeon with AVX-512
// FP16/VPOPCNTDQ, bench/kernels.sh: L2F16 d=1536 98 ns ymm vs 107 ns zmm,
// L1F16 114 vs 124). Inner product and cosine have no subtraction and
// gain from zmm (IPF16 d=1536 89 vs 97 ns, CosineF16 136 vs 170).
#include <immintrin.h>

#include "knowhere/distance_kernels.hpp"

namespace vecdb::knowhere::kernels {

namespace {

// TailMask returns a mask with the low n (< 16) bits set.
inline __mmask16 TailMask(size_t n) noexcept {
	return static_cast<__mmask16>((1u << n) - 1);
}

// LoadF32 loads 16 floats.
inline __m512 LoadF32(const float *p) noexcept {
	return _mm512_loadu_ps(p);
}

// MaskLoadF32 loads the floats selected by m, zeroing the other lanes.
inline __m512 MaskLoadF32(const float *p, __mmask16 m) noexcept {
	return _mm512_maskz_loadu_ps(m, p);
}

// LoadF16 loads 16 halves and widens them to floats.
inline __m512 LoadF16(const Half *p) noexcept {
	return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}

// MaskLoadF16 loads the halves selected by m (zeroing the others) and widens them.
inline __m512 MaskLoadF16(const Half *p, __mmask16 m) noexcept {
	return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

// L2Step adds the squared differences of x and y to acc.
inline __m512 L2Step(__m512 acc, __m512 x, __m512 y) noexcept {
	__m512 t = _mm512_sub_ps(x, y);
	return _mm512_fmadd_ps(t, t, acc);
}

// IpStep adds the products of x and y to acc.
inline __m512 IpStep(__m512 acc, __m512 x, __m512 y) noexcept {
	return _mm512_fmadd_ps(x, y, acc);
}

// L1Step adds the absolute differences of x and y to acc.
inline __m512 L1Step(__m512 acc, __m512 x, __m512 y) noexcept {
	return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
}

// Reduce runs Step over d elements of T and sums the lanes.
template <typename T, __m512 (*Load)(const T *), __m512 (*MaskLoad)(const T *, __mmask16),
		  __m512 (*Step)(__m512, __m512, __m512)>
inline float Reduce(const T *a, const T *b, size_t d) noexcept {
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	__m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
	size_t i = 0;
	for (; i + 64 <= d; i += 64) {
		s0 = Step(s0, Load(a + i), Load(b + i));
		s1 = Step(s1, Load(a + i + 16), Load(b + i + 16));
		s2 = Step(s2, Load(a + i + 32), Load(b + i + 32));
		s3 = Step(s3, Load(a + i + 48), Load(b + i + 48));
	}
	for (; i + 16 <= d; i += 16)
		s0 = Step(s0, Load(a + i), Load(b + i));
	if (i < d) {
		__mmask16 m = TailMask(d - i);
		s1 = Step(s1, MaskLoad(a + i, m), MaskLoad(b + i, m));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// ReduceCosine sums dot product and both squared norms over d elements.
template <typename T, __m512 (*Load)(const T *), __m512 (*MaskLoad)(const T *, __mmask16)>
inline CosineSums ReduceCosine(const T *a, const T *b, size_t d) noexcept {
	__m512 dot0 = _mm512_setzero_ps(), dot1 = _mm512_setzero_ps();
	__m512 na0 = _mm512_setzero_ps(), na1 = _mm512_setzero_ps();
	__m512 nb0 = _mm512_setzero_ps(), nb1 = _mm512_setzero_ps();
	size_t i = 0;
	for (; i + 32 <= d; i += 32) {
		__m512 x0 = Load(a + i), y0 = Load(b + i);
		__m512 x1 = Load(a + i + 16), y1 = Load(b + i + 16);
		dot0 = _mm512_fmadd_ps(x0, y0, dot0);
		na0 = _mm512_fmadd_ps(x0, x0, na0);
		nb0 = _mm512_fmadd_ps(y0, y0, nb0);
		dot1 = _mm512_fmadd_ps(x1, y1, dot1);
		na1 = _mm512_fmadd_ps(x1, x1, na1);
		nb1 = _mm512_fmadd_ps(y1, y1, nb1);
	}
	for (; i < d; i += 16) {
		__m512 x, y;
		if (i + 16 <= d) {
			x = Load(a + i);
			y = Load(b + i);
		} else {
			__mmask16 m = TailMask(d - i);
			x = MaskLoad(a + i, m);
			y = MaskLoad(b + i, m);
		}
		dot0 = _mm512_fmadd_ps(x, y, dot0);
		na0 = _mm512_fmadd_ps(x, x, na0);
		nb0 = _mm512_fmadd_ps(y, y, nb0);
	}
	return CosineSums{_mm512_reduce_add_ps(_mm512_add_ps(dot0, dot1)),
					  _mm512_reduce_add_ps(_mm512_add_ps(na0, na1)),
					  _mm512_reduce_add_ps(_mm512_add_ps(nb0, nb1))};
}

// L2SqrF32Avx512 returns the squared Euclidean distance of float vectors.
float L2SqrF32Avx512(const float *a, const float *b, size_t d) noexcept {
	return Reduce<float, LoadF32, MaskLoadF32, L2Step>(a, b, d);
}

// InnerProductF32Avx512 returns the inner product of float vectors.
float InnerProductF32Avx512(const float *a, const float *b, size_t d) noexcept {
	return Reduce<float, LoadF32, MaskLoadF32, IpStep>(a, b, d);
}

// L1F32Avx512 returns the taxicab distance of float vectors.
float L1F32Avx512(const float *a, const float *b, size_t d) noexcept {
	return Reduce<float, LoadF32, MaskLoadF32, L1Step>(a, b, d);
}

// CosineF32Avx512 returns the cosine sums of float vectors.
CosineSums CosineF32Avx512(const float *a, const float *b, size_t d) noexcept {
	return ReduceCosine<float, LoadF32, MaskLoadF32>(a, b, d);
}

// InnerProductF16Avx512 returns the inner product of half vectors.
float InnerProductF16Avx512(const Half *a, const Half *b, size_t d) noexcept {
	return Reduce<Half, LoadF16, MaskLoadF16, IpStep>(a, b, d);
}

// CosineF16Avx512 returns the cosine sums of half vectors.
CosineSums CosineF16Avx512(const Half *a, const Half *b, size_t d) noexcept {
	return ReduceCosine<Half, LoadF16, MaskLoadF16>(a, b, d);
}

// MakeTable builds the AVX-512 table around the given bit kernels, with L2
// and L1 over halves taken from the AVX2 table (see the top of this file).
KernelTable MakeTable(HammingFn hamming, JaccardFn jaccard) noexcept {
	return KernelTable{
		SimdLevel::kAvx512,
		L2SqrF32Avx512,
		InnerProductF32Avx512,
		L1F32Avx512,
		CosineF32Avx512,
		Avx2Table()->l2_sqr_f16,
		InnerProductF16Avx512,
		Avx2Table()->l1_f16,
		CosineF16Avx512,
		Avx2Table()->floats_to_halves,
		Avx2Table()->l2_sqr_u8,
		Avx2Table()->l1_u8,
		hamming,
		jaccard,
	};
}

}  // namespace

// Avx512Table returns the AVX-512 kernel table, with VPOPCNTQ bit kernels
// when vpopcntdq is true and the AVX2 ones otherwise.
const KernelTable *Avx512Table(bool vpopcntdq) noexcept {
	static const KernelTable with_vpopcnt = MakeTable(HammingAvx512Vpopcnt, JaccardAvx512Vpopcnt);
	static const KernelTable without_vpopcnt = MakeTable(Avx2Table()->hamming, Avx2Table()->jaccard);
	return vpopcntdq ? &with_vpopcnt : &without_vpopcnt;
}

}  // namespace vecdb::knowhere::kernels
