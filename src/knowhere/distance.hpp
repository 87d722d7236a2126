// distance.hpp declares the engine's distance kernels (dense float32/float16/
// uint8, sparse float32, bit strings), dispatched at run time to AVX-512, AVX2+FMA or
// scalar code. The SQL operators and, later, the indexes call these same kernels.
//
// The kernels are noexcept leaf functions over caller-owned buffers: they cannot
// fail, allocate nothing and never throw, so the PostgreSQL side may call them
// directly without the engine bridge (see docs/decisions.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecdb::knowhere {

// Half holds the bits of an IEEE 754 binary16 value.
using Half = uint16_t;

// Dense float32. Sums are accumulated in float, as pgvector does.
float L2SqrF32(const float *a, const float *b, size_t d) noexcept;
float InnerProductF32(const float *a, const float *b, size_t d) noexcept;
float L1F32(const float *a, const float *b, size_t d) noexcept;
// CosineDistanceF32 returns 1 - cos(a, b), the cosine clamped to [-1, 1]; NaN
// when either vector has zero norm (pgvector's result value).
double CosineDistanceF32(const float *a, const float *b, size_t d) noexcept;

// Dense float16: elements are widened to float and summed in float.
float L2SqrF16(const Half *a, const Half *b, size_t d) noexcept;
float InnerProductF16(const Half *a, const Half *b, size_t d) noexcept;
float L1F16(const Half *a, const Half *b, size_t d) noexcept;
double CosineDistanceF16(const Half *a, const Half *b, size_t d) noexcept;

// Dense uint8 codes (a build's byte rows): exact integer sums of the
// differences; d at most 65,536, so neither sum can overflow.
uint32_t L2SqrU8(const uint8_t *a, const uint8_t *b, size_t d) noexcept;
uint32_t L1U8(const uint8_t *a, const uint8_t *b, size_t d) noexcept;

// Sparse float32: indices strictly increasing, values aligned with indices.
float SparseL2SqrF32(const int32_t *ai, const float *av, size_t an,
                     const int32_t *bi, const float *bv, size_t bn) noexcept;
float SparseInnerProductF32(const int32_t *ai, const float *av, size_t an,
                            const int32_t *bi, const float *bv, size_t bn) noexcept;
float SparseL1F32(const int32_t *ai, const float *av, size_t an,
                  const int32_t *bi, const float *bv, size_t bn) noexcept;
double SparseCosineDistanceF32(const int32_t *ai, const float *av, size_t an,
                               const int32_t *bi, const float *bv, size_t bn) noexcept;

// Bit strings of nbytes bytes (bits past the logical length must be zero).
uint64_t HammingBits(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;
// JaccardBits returns 1 - |a & b| / |a | b|, and 1 when a & b is empty (pgvector).
double JaccardBits(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;

// Float16 conversion, round-to-nearest-even; overflow gives +-infinity.
float HalfToFloat(Half h) noexcept;
Half FloatToHalf(float f) noexcept;
// FloatsToHalves writes FloatToHalf(in[i] * scale) for i < n (scale a power
// of two, so the product is exact unless it leaves float's range).
void FloatsToHalves(const float *in, float scale, size_t n, Half *out) noexcept;

// SimdLevel names a kernel implementation family.
enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// BestSimdLevel returns the widest level this CPU supports.
SimdLevel BestSimdLevel() noexcept;
// ActiveSimdLevel returns the level the kernels currently dispatch to.
SimdLevel ActiveSimdLevel() noexcept;
// SetSimdLevel makes the kernels dispatch to the given level (tests and
// benchmarks); a level the CPU lacks is refused and false is returned.
bool SetSimdLevel(SimdLevel level) noexcept;
// SimdLevelName returns "scalar", "avx2" or "avx512".
const char *SimdLevelName(SimdLevel level) noexcept;

}  // namespace vecdb::knowhere
