// distance_dispatch.cpp detects the CPU once, keeps the active kernel table and implements the public dense and bit kernels.
//
// The active table is an atomic pointer to one of the constant tables of
// distance_kernels.hpp. It starts null; the first kernel call installs the
// table for BestSimdLevel() with a compare-and-swap, so a SetSimdLevel() that
// raced ahead is not overwritten. Tables are immutable, so a reader sees either
// the old or the new one, never a mix. A kernel call costs one relaxed-enough
// acquire load (a plain mov on x86) and an indirect call.
//
// CPU detection uses GCC's __builtin_cpu_supports, which reports AVX, AVX2,
// FMA and F16C only when the OS saves YMM state (XCR0 bits 1-2) and the
// AVX-512 features only when it also saves opmask and ZMM state (XCR0 bits
// 5-7), so a feature it reports is usable. F16C is read from CPUID directly
// (clang 14, which builds the fuzz targets, does not know "f16c" there); it
// is only used together with AVX2, whose check covers the OS state.
#include <cpuid.h>

#include <atomic>

#include "knowhere/distance_kernels.hpp"

namespace vecdb::knowhere {

namespace {

using kernels::KernelTable;

// CpuFeatures holds the features the kernel tables depend on.
struct CpuFeatures {
	bool avx2;
	bool avx512;
	bool vpopcntdq;
};

// HasF16c reports CPUID leaf 1's F16C bit.
bool HasF16c() noexcept {
	unsigned int eax, ebx, ecx, edx;
	return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

// DetectFeatures asks the CPU (through libgcc) which kernel families it runs.
CpuFeatures DetectFeatures() noexcept {
	__builtin_cpu_init();
	CpuFeatures f{};
	f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasF16c() &&
		__builtin_cpu_supports("popcnt");
	f.avx512 = f.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
	f.vpopcntdq = f.avx512 && __builtin_cpu_supports("avx512vpopcntdq");
	return f;
}

// Features returns the CPU features, detected once (thread-safe static init).
const CpuFeatures &Features() noexcept {
	static const CpuFeatures features = DetectFeatures();
	return features;
}

// TableFor returns the table for a level the CPU supports.
const KernelTable *TableFor(SimdLevel level) noexcept {
	switch (level) {
		case SimdLevel::kAvx512:
			return kernels::Avx512Table(Features().vpopcntdq);
		case SimdLevel::kAvx2:
			return kernels::Avx2Table();
		default:
			return kernels::ScalarTable();
	}
}

// Supported reports whether the CPU can run the given level.
bool Supported(SimdLevel level) noexcept {
	switch (level) {
		case SimdLevel::kScalar:
			return true;
		case SimdLevel::kAvx2:
			return Features().avx2;
		case SimdLevel::kAvx512:
			return Features().avx512;
	}
	return false;
}

std::atomic<const KernelTable *> g_active{nullptr};

// InstallBest installs the best table unless another thread installed one first.
const KernelTable *InstallBest() noexcept {
	const KernelTable *expected = nullptr;
	const KernelTable *best = TableFor(BestSimdLevel());
	if (g_active.compare_exchange_strong(expected, best, std::memory_order_acq_rel))
		return best;
	return expected;
}

// Active returns the table the kernels dispatch to, choosing it on first use.
inline const KernelTable *Active() noexcept {
	const KernelTable *t = g_active.load(std::memory_order_acquire);
	if (__builtin_expect(t == nullptr, 0))
		t = InstallBest();
	return t;
}

}  // namespace

// BestSimdLevel returns the widest level whose features the CPU reports.
SimdLevel BestSimdLevel() noexcept {
	if (Features().avx512)
		return SimdLevel::kAvx512;
	if (Features().avx2)
		return SimdLevel::kAvx2;
	return SimdLevel::kScalar;
}

// ActiveSimdLevel returns the level of the installed table.
SimdLevel ActiveSimdLevel() noexcept {
	return Active()->level;
}

// SetSimdLevel installs the table for level if the CPU supports it.
bool SetSimdLevel(SimdLevel level) noexcept {
	if (!Supported(level))
		return false;
	g_active.store(TableFor(level), std::memory_order_release);
	return true;
}

// SimdLevelName returns the lowercase name of a level.
const char *SimdLevelName(SimdLevel level) noexcept {
	switch (level) {
		case SimdLevel::kAvx512:
			return "avx512";
		case SimdLevel::kAvx2:
			return "avx2";
		case SimdLevel::kScalar:
			return "scalar";
	}
	return "unknown";
}

// L2SqrF32 returns the squared Euclidean distance of float vectors.
float L2SqrF32(const float *a, const float *b, size_t d) noexcept {
	return Active()->l2_sqr_f32(a, b, d);
}

// InnerProductF32 returns the inner product of float vectors.
float InnerProductF32(const float *a, const float *b, size_t d) noexcept {
	return Active()->inner_product_f32(a, b, d);
}

// L1F32 returns the taxicab distance of float vectors.
float L1F32(const float *a, const float *b, size_t d) noexcept {
	return Active()->l1_f32(a, b, d);
}

// CosineDistanceF32 returns pgvector's cosine distance of float vectors.
double CosineDistanceF32(const float *a, const float *b, size_t d) noexcept {
	return kernels::CosineFromSums(Active()->cosine_f32(a, b, d));
}

// L2SqrF16 returns the squared Euclidean distance of half vectors.
float L2SqrF16(const Half *a, const Half *b, size_t d) noexcept {
	return Active()->l2_sqr_f16(a, b, d);
}

// InnerProductF16 returns the inner product of half vectors.
float InnerProductF16(const Half *a, const Half *b, size_t d) noexcept {
	return Active()->inner_product_f16(a, b, d);
}

// L1F16 returns the taxicab distance of half vectors.
float L1F16(const Half *a, const Half *b, size_t d) noexcept {
	return Active()->l1_f16(a, b, d);
}

// CosineDistanceF16 returns pgvector's cosine distance of half vectors.
double CosineDistanceF16(const Half *a, const Half *b, size_t d) noexcept {
	return kernels::CosineFromSums(Active()->cosine_f16(a, b, d));
}

// L2SqrU8 returns the sum of squared differences of byte codes.
uint32_t L2SqrU8(const uint8_t *a, const uint8_t *b, size_t d) noexcept {
	return Active()->l2_sqr_u8(a, b, d);
}

// L1U8 returns the sum of absolute differences of byte codes.
uint32_t L1U8(const uint8_t *a, const uint8_t *b, size_t d) noexcept {
	return Active()->l1_u8(a, b, d);
}

// FloatsToHalves converts scaled floats to halves.
void FloatsToHalves(const float *in, float scale, size_t n, Half *out) noexcept {
	Active()->floats_to_halves(in, scale, n, out);
}

// HammingBits returns the number of differing bits.
uint64_t HammingBits(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	return Active()->hamming(a, b, nbytes);
}

// JaccardBits returns 1 - |a & b| / |a | b|, or 1 when a & b is empty.
double JaccardBits(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept {
	kernels::JaccardCounts c = Active()->jaccard(a, b, nbytes);
	if (c.both == 0)
		return 1.0;
	return 1.0 - static_cast<double>(c.both) / static_cast<double>(c.in_a + c.in_b - c.both);
}

}  // namespace vecdb::knowhere
