// distance_kernels.hpp declares the per-SIMD-level kernel tables that distance_dispatch.cpp chooses from (engine-internal).
//
// Each SIMD level lives in its own translation unit compiled with its own -m
// flags (see CMakeLists.txt). Those files must not define inline functions or
// templates with external linkage: the linker may keep one copy for all levels,
// and a copy compiled with AVX-512 would then run on CPUs without it. So this
// header holds only declarations and a plain struct, and every helper in a
// level's file sits in an anonymous namespace.
#pragma once

#include <cstddef>
#include <cstdint>

#include "knowhere/distance.hpp"

namespace vecdb::knowhere::kernels {

// CosineSums holds the float sums a cosine distance is made of.
struct CosineSums {
	float dot;
	float norm_a;
	float norm_b;
};

// JaccardCounts holds the popcounts a Jaccard distance is made of.
struct JaccardCounts {
	uint64_t both;
	uint64_t in_a;
	uint64_t in_b;
};

using F32Fn = float (*)(const float *, const float *, size_t) noexcept;
using F32CosFn = CosineSums (*)(const float *, const float *, size_t) noexcept;
using F16Fn = float (*)(const Half *, const Half *, size_t) noexcept;
using F16CosFn = CosineSums (*)(const Half *, const Half *, size_t) noexcept;
using U8Fn = uint32_t (*)(const uint8_t *, const uint8_t *, size_t) noexcept;
using ToHalfFn = void (*)(const float *, float, size_t, Half *) noexcept;
using HammingFn = uint64_t (*)(const uint8_t *, const uint8_t *, size_t) noexcept;
using JaccardFn = JaccardCounts (*)(const uint8_t *, const uint8_t *, size_t) noexcept;

// KernelTable holds one implementation of every dense and bit kernel.
struct KernelTable {
	SimdLevel level;
	F32Fn l2_sqr_f32;
	F32Fn inner_product_f32;
	F32Fn l1_f32;
	F32CosFn cosine_f32;
	F16Fn l2_sqr_f16;
	F16Fn inner_product_f16;
	F16Fn l1_f16;
	F16CosFn cosine_f16;
	ToHalfFn floats_to_halves;
	U8Fn l2_sqr_u8;
	U8Fn l1_u8;
	HammingFn hamming;
	JaccardFn jaccard;
};

// ScalarTable returns the portable kernels (always available).
const KernelTable *ScalarTable() noexcept;
// Avx2Table returns the AVX2+FMA+F16C kernels; call only when the CPU has them.
const KernelTable *Avx2Table() noexcept;
// Avx512Table returns the AVX-512 F/BW/VL/DQ kernels, with the bit kernels
// taken from the VPOPCNTDQ file when vpopcntdq is true; call only when the CPU
// has those features (and AVX2+FMA+F16C, which every AVX-512 CPU has).
const KernelTable *Avx512Table(bool vpopcntdq) noexcept;

// HammingAvx512Vpopcnt and JaccardAvx512Vpopcnt count bits with VPOPCNTQ.
uint64_t HammingAvx512Vpopcnt(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;
JaccardCounts JaccardAvx512Vpopcnt(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;

// CosineFromSums turns dot product and squared norms into pgvector's clamped
// cosine distance: NaN when a norm is zero, cosine clamped to [-1, 1].
double CosineFromSums(CosineSums s) noexcept;

}  // namespace vecdb::knowhere::kernels
