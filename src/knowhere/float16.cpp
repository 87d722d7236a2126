// float16.cpp converts between IEEE 754 binary16 and float with integer arithmetic (exact, RNE).
#include <cstring>

#include "knowhere/distance.hpp"

namespace vecdb::knowhere {

namespace {

// FloatBits returns the bit pattern of a float.
uint32_t FloatBits(float f) noexcept {
	uint32_t x;
	std::memcpy(&x, &f, sizeof(x));
	return x;
}

// BitsFloat returns the float with the given bit pattern.
float BitsFloat(uint32_t x) noexcept {
	float f;
	std::memcpy(&f, &x, sizeof(f));
	return f;
}

// RoundShift shifts m right by shift (1..31) rounding to nearest, ties to even.
uint32_t RoundShift(uint32_t m, uint32_t shift) noexcept {
	uint32_t q = m >> shift;
	uint32_t rest = m & ((1u << shift) - 1);
	uint32_t half = 1u << (shift - 1);
	if (rest > half || (rest == half && (q & 1)))
		q++;
	return q;
}

}  // namespace

// HalfToFloat widens a half exactly; NaN payloads keep their bits.
float HalfToFloat(Half h) noexcept {
	uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ff;
	if (exp == 31)	/* infinity or NaN */
		return BitsFloat(sign | 0x7f800000u | (mant << 13));
	if (exp != 0)	/* normal: rebias 15 -> 127 */
		return BitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
	if (mant == 0)
		return BitsFloat(sign);
	/* Subnormal half: normalize, mant * 2^-24 becomes 1.f * 2^(e). */
	uint32_t e = 113;	/* biased float exponent of 2^-14 */
	while ((mant & 0x400) == 0) {
		mant <<= 1;
		e--;
	}
	return BitsFloat(sign | (e << 23) | ((mant & 0x3ff) << 13));
}

// FloatToHalf narrows a float rounding to nearest, ties to even, as F16C's
// VCVTPS2PH does: overflow gives infinity, NaN stays NaN (quietened, top
// payload bits kept), tiny values become subnormals or zero.
Half FloatToHalf(float f) noexcept {
	uint32_t x = FloatBits(f);
	uint32_t sign = (x >> 16) & 0x8000;
	uint32_t absx = x & 0x7fffffffu;
	if (absx > 0x7f800000u)	/* NaN */
		return static_cast<Half>(sign | 0x7e00 | ((absx >> 13) & 0x3ff));
	if (absx >= 0x477ff000u)	/* >= 65520 (halfway to 2^16) or inf: infinity */
		return static_cast<Half>(sign | 0x7c00);
	if (absx >= 0x38800000u) {	/* >= 2^-14: normal half */
		/* Rebias the exponent and round the 23-bit mantissa to 10 bits; a
		 * carry out of the mantissa correctly bumps the exponent. */
		uint32_t h = RoundShift(absx - (112u << 23), 13);
		return static_cast<Half>(sign | h);
	}
	if (absx <= 0x33000000u)	/* <= 2^-25, half the smallest subnormal: zero */
		return static_cast<Half>(sign);
	/* Subnormal half: value = m * 2^(e - 150) = (m >> (126 - e)) units of 2^-24. */
	uint32_t e = absx >> 23;
	uint32_t m = (absx & 0x7fffff) | 0x800000;
	return static_cast<Half>(sign | RoundShift(m, 126 - e));
}

}  // namespace vecdb::knowhere
