// distance_avx512_vpopcnt.cpp implements the bit kernels with AVX-512 VPOPCNTDQ.
//
// Kept apart from distance_avx512.cpp because VPOPCNTDQ has its own CPUID bit:
// only this file is compiled with -mavx512vpopcntdq, and distance_dispatch.cpp
// installs these kernels only when __builtin_cpu_supports("avx512vpopcntdq").
// Full 64-byte blocks are loaded whole; the last nbytes % 64 bytes with one
// masked byte load (AVX512BW), whose masked-off bytes are never touched.
#include <immintrin.h>

#include "knowhere/distance_kernels.hpp"

namespace vecdb::knowhere::kernels {

namespace {

// TailMask returns a mask with the low n (< 64) bits set.
inline __mmask64 TailMask(size_t n) noexcept {
	return static_cast<__mmask64>((uint64_t{1} << n) - 1);
}

}  // namespace

// HammingAvx512Vpopcnt counts differing bits 64 bytes at a time.
uint64_t HammingAvx512Vpopcnt(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	__m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
	size_t i = 0;
	for (; i + 128 <= nbytes; i += 128) {
		__m512i x0 = _mm512_loadu_si512(a + i), y0 = _mm512_loadu_si512(b + i);
		__m512i x1 = _mm512_loadu_si512(a + i + 64), y1 = _mm512_loadu_si512(b + i + 64);
		acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(x0, y0)));
		acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_xor_si512(x1, y1)));
	}
	for (; i + 64 <= nbytes; i += 64) {
		__m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
		acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
	}
	if (i < nbytes) {
		__mmask64 m = TailMask(nbytes - i);
		__m512i x = _mm512_maskz_loadu_epi8(m, a + i), y = _mm512_maskz_loadu_epi8(m, b + i);
		acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
	}
	return static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)));
}

// JaccardAvx512Vpopcnt counts the bits of a & b, a and b 64 bytes at a time.
JaccardCounts JaccardAvx512Vpopcnt(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	__m512i acc_ab = _mm512_setzero_si512();
	__m512i acc_a = _mm512_setzero_si512();
	__m512i acc_b = _mm512_setzero_si512();
	for (size_t i = 0; i < nbytes; i += 64) {
		__m512i x, y;
		if (i + 64 <= nbytes) {
			x = _mm512_loadu_si512(a + i);
			y = _mm512_loadu_si512(b + i);
		} else {
			__mmask64 m = TailMask(nbytes - i);
			x = _mm512_maskz_loadu_epi8(m, a + i);
			y = _mm512_maskz_loadu_epi8(m, b + i);
		}
		acc_ab = _mm512_add_epi64(acc_ab, _mm512_popcnt_epi64(_mm512_and_si512(x, y)));
		acc_a = _mm512_add_epi64(acc_a, _mm512_popcnt_epi64(x));
		acc_b = _mm512_add_epi64(acc_b, _mm512_popcnt_epi64(y));
	}
	return JaccardCounts{static_cast<uint64_t>(_mm512_reduce_add_epi64(acc_ab)),
						 static_cast<uint64_t>(_mm512_reduce_add_epi64(acc_a)),
						 static_cast<uint64_t>(_mm512_reduce_add_epi64(acc_b))};
}

}  // namespace vecdb::knowhere::kernels
