// test_distance.cpp checks every distance kernel at every SIMD level the CPU has against double-precision references.
//
// Tolerances. The kernels sum in float (as pgvector), in whatever order their
// accumulators impose. For n terms t_i each computed with at most 3 roundings
// (difference, product, addition; FMA saves one) and summed in any order, the
// standard bound is |computed - exact| <= (n + 2) u sum|t_i| + O(u^2), with
// u = 2^-24 the unit roundoff of float; with n <= 2000, (n u)^2 is below u, so
// (n + 4) u sum|t_i| is a safe bound (SumBound). Subnormal results add at most
// 2^-150 absolute per rounding (the 2n + 8 ulp-of-min term). Cosine: by
// Cauchy-Schwarz the dot error is <= (n + 4) u |a||b| and each norm is within a
// relative (n + 4) u, so the cosine moves by at most ~2 (n + 4) u; we allow
// 3 (n + 4) u. These are worst-case bounds, not fitted slack: a dropped,
// doubled or misplaced element changes a sum by far more. To catch those even
// more sharply, a second family of tests uses small integer inputs for which
// every float sum is exact, and demands bitwise equality.
//
// Every dense and bit buffer is placed so that its last element ends at a
// PROT_NONE guard page: a kernel that reads past element d-1 crashes the test.
#include <gtest/gtest.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "knowhere/distance.hpp"
#include "knowhere/distance_kernels.hpp"

using namespace vecdb::knowhere;

namespace vecdb::knowhere {

// PrintTo names a SimdLevel in test output (found by argument-dependent lookup).
void PrintTo(SimdLevel level, std::ostream *os) {
	*os << SimdLevelName(level);
}

}  // namespace vecdb::knowhere

namespace {

constexpr double kU = 1.0 / 16777216.0;	/* 2^-24, float unit roundoff */
const double kMinSub = std::ldexp(1.0, -149);	/* smallest float subnormal */
constexpr size_t kMaxDim = 2000;

// Dims returns 1..300 and a spread up to 2000 with multiples of 8/16 and their neighbours.
std::vector<size_t> Dims() {
	std::vector<size_t> dims;
	for (size_t d = 1; d <= 300; d++)
		dims.push_back(d);
	for (size_t d : {311, 333, 383, 384, 385, 500, 511, 512, 513, 640, 700, 767, 768, 769, 960, 1000,
					 1023, 1024, 1025, 1031, 1234, 1535, 1536, 1537, 1543, 1777, 1999, 2000})
		dims.push_back(d);
	return dims;
}

// GuardedBuffer maps read-write pages followed by one inaccessible guard page.
class GuardedBuffer {
public:
	// GuardedBuffer maps room for at least bytes bytes before the guard.
	explicit GuardedBuffer(size_t bytes) {
		size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
		data_bytes_ = (bytes + page - 1) / page * page;
		total_ = data_bytes_ + page;
		void *p = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			std::abort();
		base_ = static_cast<uint8_t *>(p);
		if (mprotect(base_ + data_bytes_, page, PROT_NONE) != 0)
			std::abort();
	}
	~GuardedBuffer() { munmap(base_, total_); }
	GuardedBuffer(const GuardedBuffer &) = delete;
	GuardedBuffer &operator=(const GuardedBuffer &) = delete;

	// Tail returns n elements of T whose last one ends at the guard page.
	template <typename T>
	T *Tail(size_t n) {
		return reinterpret_cast<T *>(base_ + data_bytes_ - n * sizeof(T));
	}

private:
	uint8_t *base_ = nullptr;
	size_t data_bytes_ = 0;
	size_t total_ = 0;
};

// CpuHasLevel asks the CPU directly whether a level's features are present.
bool CpuHasLevel(SimdLevel level) {
	__builtin_cpu_init();
	bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		__builtin_cpu_supports("f16c") && __builtin_cpu_supports("popcnt");
	bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
	switch (level) {
		case SimdLevel::kScalar: return true;
		case SimdLevel::kAvx2: return avx2;
		case SimdLevel::kAvx512: return avx512;
	}
	return false;
}

// Ref holds double-precision reference results and their error scales.
struct Ref {
	double l2, ip, l1, cos;
	double l2_abs, ip_abs, l1_abs;	/* sum of |term| for the bounds */
	double na, nb;	/* squared norms */
};

// Reference computes all dense distances of two widened vectors in double.
Ref Reference(const std::vector<double> &x, const std::vector<double> &y) {
	Ref r{};
	double na = 0, nb = 0;
	for (size_t i = 0; i < x.size(); i++) {
		double t = x[i] - y[i];
		r.l2 += t * t;
		r.ip += x[i] * y[i];
		r.ip_abs += std::fabs(x[i] * y[i]);
		r.l1 += std::fabs(t);
		na += x[i] * x[i];
		nb += y[i] * y[i];
	}
	r.l2_abs = r.l2;
	r.l1_abs = r.l1;
	r.na = na;
	r.nb = nb;
	double sim = r.ip / std::sqrt(na * nb);
	if (std::isnan(sim))
		r.cos = NAN;
	else
		r.cos = 1.0 - std::max(-1.0, std::min(1.0, sim));
	return r;
}

// SumBound returns the float-summation error bound for d terms (see top of file).
double SumBound(size_t d, double abs_sum) {
	return static_cast<double>(d + 4) * kU * abs_sum + static_cast<double>(2 * d + 8) * kMinSub;
}

// CosBound returns the cosine-distance error bound (see top of file); the c
// terms cover sums whose terms fall into the subnormal range.
double CosBound(size_t d, const Ref &r) {
	double c = static_cast<double>(2 * d + 8) * kMinSub;
	return 3 * (d + 4) * kU + 1.5 * (c / std::sqrt(r.na * r.nb) + c / r.na + c / r.nb);
}

// Widen converts floats to doubles.
std::vector<double> Widen(const float *p, size_t d) {
	return std::vector<double>(p, p + d);
}

// Widen converts halves to doubles.
std::vector<double> Widen(const Half *p, size_t d) {
	std::vector<double> v(d);
	for (size_t i = 0; i < d; i++)
		v[i] = HalfToFloat(p[i]);
	return v;
}

// ExpectDense checks the four float32 kernels on a and b against the reference.
void ExpectDense(const float *a, const float *b, size_t d) {
	Ref r = Reference(Widen(a, d), Widen(b, d));
	EXPECT_NEAR(L2SqrF32(a, b, d), r.l2, SumBound(d, r.l2_abs)) << "d=" << d;
	EXPECT_NEAR(InnerProductF32(a, b, d), r.ip, SumBound(d, r.ip_abs)) << "d=" << d;
	EXPECT_NEAR(L1F32(a, b, d), r.l1, SumBound(d, r.l1_abs)) << "d=" << d;
	EXPECT_NEAR(CosineDistanceF32(a, b, d), r.cos, CosBound(d, r)) << "d=" << d;
}

// ExpectDense checks the four float16 kernels on a and b against the reference.
void ExpectDense(const Half *a, const Half *b, size_t d) {
	Ref r = Reference(Widen(a, d), Widen(b, d));
	EXPECT_NEAR(L2SqrF16(a, b, d), r.l2, SumBound(d, r.l2_abs)) << "d=" << d;
	EXPECT_NEAR(InnerProductF16(a, b, d), r.ip, SumBound(d, r.ip_abs)) << "d=" << d;
	EXPECT_NEAR(L1F16(a, b, d), r.l1, SumBound(d, r.l1_abs)) << "d=" << d;
	EXPECT_NEAR(CosineDistanceF16(a, b, d), r.cos, CosBound(d, r)) << "d=" << d;
}

// ExpectExact checks that float32 kernels equal the reference bit for bit.
void ExpectExact(const float *a, const float *b, size_t d) {
	Ref r = Reference(Widen(a, d), Widen(b, d));
	ASSERT_EQ(L2SqrF32(a, b, d), static_cast<float>(r.l2)) << "d=" << d;
	ASSERT_EQ(InnerProductF32(a, b, d), static_cast<float>(r.ip)) << "d=" << d;
	ASSERT_EQ(L1F32(a, b, d), static_cast<float>(r.l1)) << "d=" << d;
	double c = CosineDistanceF32(a, b, d);
	if (std::isnan(r.cos))
		ASSERT_TRUE(std::isnan(c)) << "d=" << d;
	else
		ASSERT_EQ(c, r.cos) << "d=" << d;
}

// ExpectExact checks that float16 kernels equal the reference bit for bit.
void ExpectExact(const Half *a, const Half *b, size_t d) {
	Ref r = Reference(Widen(a, d), Widen(b, d));
	ASSERT_EQ(L2SqrF16(a, b, d), static_cast<float>(r.l2)) << "d=" << d;
	ASSERT_EQ(InnerProductF16(a, b, d), static_cast<float>(r.ip)) << "d=" << d;
	ASSERT_EQ(L1F16(a, b, d), static_cast<float>(r.l1)) << "d=" << d;
	double c = CosineDistanceF16(a, b, d);
	if (std::isnan(r.cos))
		ASSERT_TRUE(std::isnan(c)) << "d=" << d;
	else
		ASSERT_EQ(c, r.cos) << "d=" << d;
}

// PopRef counts bits byte by byte.
int PopRef(uint8_t x) {
	int n = 0;
	for (int i = 0; i < 8; i++)
		n += (x >> i) & 1;
	return n;
}

// ExpectBits checks Hamming and Jaccard exactly against a bytewise reference.
void ExpectBits(const uint8_t *a, const uint8_t *b, size_t n) {
	uint64_t ham = 0, ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < n; i++) {
		ham += PopRef(a[i] ^ b[i]);
		ab += PopRef(a[i] & b[i]);
		aa += PopRef(a[i]);
		bb += PopRef(b[i]);
	}
	ASSERT_EQ(HammingBits(a, b, n), ham) << "nbytes=" << n;
	double jac = ab == 0 ? 1.0 : 1.0 - static_cast<double>(ab) / static_cast<double>(aa + bb - ab);
	ASSERT_EQ(JaccardBits(a, b, n), jac) << "nbytes=" << n;
}

// LevelTest runs a test body once per SIMD level, skipping levels the CPU lacks.
class LevelTest : public ::testing::TestWithParam<SimdLevel> {
protected:
	// SetUp switches the kernels to the level under test or skips it.
	void SetUp() override {
		saved_ = ActiveSimdLevel();
		if (!SetSimdLevel(GetParam()))
			GTEST_SKIP() << "CPU lacks the features of SIMD level " << SimdLevelName(GetParam());
		ASSERT_EQ(ActiveSimdLevel(), GetParam());
	}
	// TearDown restores the level active before the test.
	void TearDown() override { ASSERT_TRUE(SetSimdLevel(saved_)); }

	SimdLevel saved_ = SimdLevel::kScalar;
	GuardedBuffer buf_a_{kMaxDim * sizeof(float)};
	GuardedBuffer buf_b_{kMaxDim * sizeof(float)};
};

TEST_P(LevelTest, F32RandomMatchesReference) {
	for (size_t d : Dims()) {
		std::mt19937 rng(static_cast<uint32_t>(1000 + d));
		std::uniform_real_distribution<float> u(-1.0f, 1.0f);
		float *a = buf_a_.Tail<float>(d), *b = buf_b_.Tail<float>(d);
		for (size_t i = 0; i < d; i++) {
			a[i] = u(rng);
			b[i] = u(rng);
		}
		ExpectDense(a, b, d);
		/* Large (no overflow up to d = 2000), tiny (subnormal products) and all-negative inputs. */
		for (size_t i = 0; i < d; i++) {
			a[i] *= 1e17f;
			b[i] *= -1e17f;
		}
		ExpectDense(a, b, d);
		for (size_t i = 0; i < d; i++) {
			a[i] *= 1e-37f;
			b[i] *= 1e-37f;
		}
		ExpectDense(a, b, d);
		for (size_t i = 0; i < d; i++) {
			a[i] = -std::fabs(u(rng)) * 100.0f;
			b[i] = -std::fabs(u(rng));
		}
		ExpectDense(a, b, d);
	}
}

TEST_P(LevelTest, F16RandomMatchesReference) {
	for (size_t d : Dims()) {
		std::mt19937 rng(static_cast<uint32_t>(2000 + d));
		std::uniform_real_distribution<float> u(-2.0f, 2.0f);
		std::uniform_int_distribution<int> sub(1, 0x3ff);
		Half *a = buf_a_.Tail<Half>(d), *b = buf_b_.Tail<Half>(d);
		for (size_t i = 0; i < d; i++) {
			a[i] = FloatToHalf(u(rng));
			b[i] = FloatToHalf(u(rng));
		}
		ExpectDense(a, b, d);
		/* Subnormal halves with random signs against ordinary ones. */
		for (size_t i = 0; i < d; i++)
			a[i] = static_cast<Half>(sub(rng) | ((rng() & 1) << 15));
		ExpectDense(a, b, d);
		/* Large magnitudes near the top of the half range. */
		for (size_t i = 0; i < d; i++) {
			a[i] = FloatToHalf(u(rng) * 30000.0f);
			b[i] = FloatToHalf(u(rng) * 30000.0f);
		}
		ExpectDense(a, b, d);
	}
}

TEST_P(LevelTest, SmallIntegersAreExact) {
	/* Values in [-4, 4]: every partial sum is an integer below 2^24, so any
	 * summation order gives the exact result and equality is required. */
	for (size_t d : Dims()) {
		std::mt19937 rng(static_cast<uint32_t>(3000 + d));
		std::uniform_int_distribution<int> u(-4, 4);
		float *a = buf_a_.Tail<float>(d), *b = buf_b_.Tail<float>(d);
		for (size_t i = 0; i < d; i++) {
			a[i] = static_cast<float>(u(rng));
			b[i] = static_cast<float>(u(rng));
		}
		ExpectExact(a, b, d);
		Half *ha = buf_a_.Tail<Half>(d), *hb = buf_b_.Tail<Half>(d);
		for (size_t i = 0; i < d; i++) {
			ha[i] = FloatToHalf(static_cast<float>(u(rng)));
			hb[i] = FloatToHalf(static_cast<float>(u(rng)));
		}
		ExpectExact(ha, hb, d);
	}
}

TEST_P(LevelTest, OneHotAtEveryPosition) {
	/* A single nonzero at position p must be seen exactly once, whatever lane,
	 * unrolled block or tail p falls into. */
	std::vector<size_t> dims;
	for (size_t d = 1; d <= 100; d++)
		dims.push_back(d);
	for (size_t d : {127, 128, 129, 255, 300, 513})
		dims.push_back(d);
	for (size_t d : dims) {
		float *a = buf_a_.Tail<float>(d), *z = buf_b_.Tail<float>(d);
		std::fill(a, a + d, 0.0f);
		std::fill(z, z + d, 0.0f);
		for (size_t p = 0; p < d; p++) {
			a[p] = -3.0f;
			ASSERT_EQ(L2SqrF32(a, z, d), 9.0f) << "d=" << d << " p=" << p;
			ASSERT_EQ(InnerProductF32(a, a, d), 9.0f) << "d=" << d << " p=" << p;
			ASSERT_EQ(L1F32(z, a, d), 3.0f) << "d=" << d << " p=" << p;
			ASSERT_EQ(CosineDistanceF32(a, a, d), 0.0) << "d=" << d << " p=" << p;
			a[p] = 0.0f;
		}
		Half *ha = buf_a_.Tail<Half>(d), *hz = buf_b_.Tail<Half>(d);
		std::fill(ha, ha + d, Half{0});
		std::fill(hz, hz + d, Half{0});
		for (size_t p = 0; p < d; p++) {
			ha[p] = FloatToHalf(-3.0f);
			ASSERT_EQ(L2SqrF16(ha, hz, d), 9.0f) << "d=" << d << " p=" << p;
			ASSERT_EQ(InnerProductF16(ha, ha, d), 9.0f) << "d=" << d << " p=" << p;
			ASSERT_EQ(L1F16(hz, ha, d), 3.0f) << "d=" << d << " p=" << p;
			ASSERT_EQ(CosineDistanceF16(ha, ha, d), 0.0) << "d=" << d << " p=" << p;
			ha[p] = 0;
		}
	}
}

TEST_P(LevelTest, ZeroVectorsAndCosineEdges) {
	for (size_t d : {1, 7, 8, 15, 16, 17, 33, 128, 1000}) {
		float *a = buf_a_.Tail<float>(d), *z = buf_b_.Tail<float>(d);
		std::fill(z, z + d, 0.0f);
		std::fill(a, a + d, 0.0f);
		EXPECT_EQ(L2SqrF32(a, z, d), 0.0f);
		EXPECT_EQ(InnerProductF32(a, z, d), 0.0f);
		EXPECT_EQ(L1F32(a, z, d), 0.0f);
		EXPECT_TRUE(std::isnan(CosineDistanceF32(a, z, d))) << "zero vs zero, d=" << d;
		for (size_t i = 0; i < d; i++)
			a[i] = static_cast<float>(i % 5) - 1.5f;
		EXPECT_TRUE(std::isnan(CosineDistanceF32(a, z, d))) << "a vs zero, d=" << d;
		EXPECT_TRUE(std::isnan(CosineDistanceF32(z, a, d))) << "zero vs a, d=" << d;
		/* Parallel and antiparallel: exactly 0 and 2 (scaling by 4 is exact). */
		for (size_t i = 0; i < d; i++)
			z[i] = a[i] * 4.0f;
		EXPECT_EQ(CosineDistanceF32(a, z, d), 0.0);
		for (size_t i = 0; i < d; i++)
			z[i] = -a[i];
		EXPECT_EQ(CosineDistanceF32(a, z, d), 2.0);

		Half *ha = buf_a_.Tail<Half>(d), *hz = buf_b_.Tail<Half>(d);
		std::fill(hz, hz + d, Half{0x8000});	/* negative zeros */
		std::fill(ha, ha + d, Half{0});
		EXPECT_EQ(L2SqrF16(ha, hz, d), 0.0f);
		EXPECT_TRUE(std::isnan(CosineDistanceF16(ha, hz, d)));
		ha[d - 1] = FloatToHalf(2.0f);
		EXPECT_TRUE(std::isnan(CosineDistanceF16(ha, hz, d)));
		EXPECT_EQ(CosineDistanceF16(ha, ha, d), 0.0);
	}
	/* Overflow gives infinity, as float arithmetic does. */
	float *a = buf_a_.Tail<float>(3), *b = buf_b_.Tail<float>(3);
	a[0] = a[1] = a[2] = 3e38f;
	b[0] = b[1] = b[2] = -3e38f;
	EXPECT_EQ(L2SqrF32(a, b, 3), std::numeric_limits<float>::infinity());
	EXPECT_EQ(InnerProductF32(a, b, 3), -std::numeric_limits<float>::infinity());
}

TEST_P(LevelTest, CosineStaysClampedOnNearParallelInputs) {
	/* Scaling by 3 rounds, so dot / sqrt(na nb) can land just outside
	 * [-1, 1]; the distance must still lie in [0, 2]. */
	std::mt19937 rng(4242);
	std::uniform_real_distribution<float> u(-1.0f, 1.0f);
	for (size_t d : {1, 2, 3, 5, 16, 17, 100, 768}) {
		float *a = buf_a_.Tail<float>(d), *b = buf_b_.Tail<float>(d);
		for (int rep = 0; rep < 200; rep++) {
			for (size_t i = 0; i < d; i++) {
				a[i] = u(rng);
				b[i] = a[i] * 3.0f;
			}
			double c = CosineDistanceF32(a, b, d);
			EXPECT_GE(c, 0.0);
			EXPECT_LE(c, 3 * (d + 4) * kU);
			for (size_t i = 0; i < d; i++)
				b[i] = a[i] * -3.0f;
			c = CosineDistanceF32(a, b, d);
			EXPECT_LE(c, 2.0);
			EXPECT_GE(c, 2.0 - 3 * (d + 4) * kU);
		}
	}
}

TEST_P(LevelTest, HalfWideningIsExactForEveryHalf) {
	/* Each finite half in each of 16 lanes, picked out with a one-hot vector,
	 * must come back exactly as HalfToFloat gives it (subnormals included). */
	Half *a = buf_a_.Tail<Half>(16), *e = buf_b_.Tail<Half>(16);
	for (uint32_t base = 0; base < 65536; base += 16) {
		for (uint32_t j = 0; j < 16; j++) {
			Half h = static_cast<Half>(base + j);
			a[j] = ((h & 0x7c00) == 0x7c00) ? Half{0} : h;
		}
		for (uint32_t j = 0; j < 16; j++) {
			std::fill(e, e + 16, Half{0});
			e[j] = 0x3c00;	/* 1.0 */
			ASSERT_EQ(InnerProductF16(a, e, 16), HalfToFloat(a[j])) << "half 0x" << std::hex << a[j];
		}
	}
	/* Infinity and NaN survive widening at d = 1 (the tail path). */
	Half *x = buf_a_.Tail<Half>(1), *one = buf_b_.Tail<Half>(1);
	one[0] = 0x3c00;
	x[0] = 0x7c00;
	EXPECT_EQ(InnerProductF16(x, one, 1), std::numeric_limits<float>::infinity());
	x[0] = 0xfe01;
	EXPECT_TRUE(std::isnan(InnerProductF16(x, one, 1)));
}

// FloatsToHalves (the HNSW build's float16 rows) rounds as FloatToHalf
// does at every level: every length's tail, scales, values that round to
// subnormals, zero or infinity.
TEST_P(LevelTest, FloatsToHalvesMatchesTheScalarConversion) {
	std::mt19937 rng(77);
	std::uniform_real_distribution<float> frac(1.0f, 2.0f);
	std::uniform_int_distribution<int> exponent(-30, 20);
	std::vector<float> in(1000);
	std::vector<Half> out(1000);
	for (size_t i = 0; i < in.size(); i++) {
		/* magnitudes from 2^-30 to 2^21, both signs */
		float mag = std::ldexp(frac(rng), exponent(rng));
		in[i] = (i % 2 == 0) ? mag : -mag;
	}
	in[3] = 0.0f;
	in[5] = -0.0f;
	in[7] = 65519.0f; /* rounds down to 65504 */
	in[9] = 65520.0f; /* rounds up to infinity */
	for (float scale : {1.0f, 0x1p-10f, 0x1p14f}) {
		for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{31}, size_t{1000}}) {
			std::fill(out.begin(), out.end(), Half{0x1234});
			FloatsToHalves(in.data(), scale, n, out.data());
			for (size_t i = 0; i < n; i++)
				ASSERT_EQ(out[i], FloatToHalf(in[i] * scale)) << "scale " << scale << " n " << n << " i " << i;
			for (size_t i = n; i < out.size(); i++)
				ASSERT_EQ(out[i], Half{0x1234}) << "wrote past n = " << n;
		}
	}
}

TEST_P(LevelTest, BitsMatchReference) {
	std::vector<size_t> sizes;
	for (size_t n = 0; n <= 300; n++)
		sizes.push_back(n);
	for (size_t n : {383, 384, 385, 511, 512, 513, 1000, 1024, 1031, 2000, 2048})
		sizes.push_back(n);
	for (size_t n : sizes) {
		std::mt19937 rng(static_cast<uint32_t>(5000 + n));
		uint8_t *a = buf_a_.Tail<uint8_t>(n), *b = buf_b_.Tail<uint8_t>(n);
		for (size_t i = 0; i < n; i++) {
			a[i] = static_cast<uint8_t>(rng());
			b[i] = static_cast<uint8_t>(rng());
		}
		ExpectBits(a, b, n);
		/* Sparse bits: most of a & b empty. */
		for (size_t i = 0; i < n; i++) {
			a[i] = (rng() % 16 == 0) ? static_cast<uint8_t>(1u << (rng() % 8)) : 0;
			b[i] = (rng() % 16 == 0) ? static_cast<uint8_t>(1u << (rng() % 8)) : 0;
		}
		ExpectBits(a, b, n);
		/* All zero: Hamming 0 and Jaccard 1 (pgvector's convention). */
		std::fill(a, a + n, uint8_t{0});
		std::fill(b, b + n, uint8_t{0});
		EXPECT_EQ(HammingBits(a, b, n), 0u);
		EXPECT_EQ(JaccardBits(a, b, n), 1.0);
		/* All ones: Hamming 0 and Jaccard 0 against itself, 8n and 1 against zero. */
		std::fill(a, a + n, uint8_t{0xff});
		EXPECT_EQ(HammingBits(a, a, n), 0u);
		EXPECT_EQ(HammingBits(a, b, n), 8 * n);
		if (n > 0)
			EXPECT_EQ(JaccardBits(a, a, n), 0.0);
		EXPECT_EQ(JaccardBits(a, b, n), 1.0);
	}
}

// The byte-code kernels (a build's byte rows) give the exact integer sums
// at every length, for random codes and for the largest differences of the
// longest rows they are for (65,536 codes, 0 against 255: neither sum
// overflows).
TEST_P(LevelTest, ByteCodesMatchReference) {
	std::vector<size_t> sizes;
	for (size_t n = 0; n <= 300; n++)
		sizes.push_back(n);
	for (size_t n : {383, 384, 385, 767, 768, 769, 1536, 2000, 65536})
		sizes.push_back(n);
	GuardedBuffer buf_a{65536}, buf_b{65536};
	for (size_t n : sizes) {
		std::mt19937 rng(static_cast<uint32_t>(9000 + n));
		uint8_t *a = buf_a.Tail<uint8_t>(n), *b = buf_b.Tail<uint8_t>(n);
		for (int round = 0; round < 2; round++) {
			uint64_t l2 = 0, l1 = 0;
			for (size_t i = 0; i < n; i++) {
				a[i] = round == 0 ? static_cast<uint8_t>(rng()) : 0;
				b[i] = round == 0 ? static_cast<uint8_t>(rng()) : 255;
				int64_t t = static_cast<int64_t>(a[i]) - static_cast<int64_t>(b[i]);
				l2 += static_cast<uint64_t>(t * t);
				l1 += static_cast<uint64_t>(t < 0 ? -t : t);
			}
			ASSERT_EQ(L2SqrU8(a, b, n), l2) << "n=" << n << " round " << round;
			ASSERT_EQ(L2SqrU8(b, a, n), l2) << "n=" << n << " round " << round;
			ASSERT_EQ(L1U8(a, b, n), l1) << "n=" << n << " round " << round;
			ASSERT_EQ(L1U8(b, a, n), l1) << "n=" << n << " round " << round;
			ASSERT_EQ(L2SqrU8(a, a, n), 0u);
		}
	}
}

TEST_P(LevelTest, SingleBitAtEveryPosition) {
	for (size_t n : {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200}) {
		uint8_t *a = buf_a_.Tail<uint8_t>(n), *z = buf_b_.Tail<uint8_t>(n);
		std::fill(a, a + n, uint8_t{0});
		std::fill(z, z + n, uint8_t{0});
		for (size_t bit = 0; bit < 8 * n; bit++) {
			a[bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
			ASSERT_EQ(HammingBits(a, z, n), 1u) << "n=" << n << " bit=" << bit;
			ASSERT_EQ(JaccardBits(a, a, n), 0.0) << "n=" << n << " bit=" << bit;
			ASSERT_EQ(JaccardBits(a, z, n), 1.0) << "n=" << n << " bit=" << bit;
			a[bit / 8] = 0;
		}
	}
}

TEST_P(LevelTest, SparseMatchesDenseReference) {
	/* The sparse kernels are scalar on every level; they run here per level
	 * anyway so a future SIMD version is covered. */
	std::mt19937 rng(6000);
	std::uniform_real_distribution<float> u(-1.0f, 1.0f);
	for (int rep = 0; rep < 300; rep++) {
		size_t dim = 1 + rng() % 500;
		std::vector<int32_t> ai, bi;
		std::vector<float> av, bv;
		std::vector<double> da(dim, 0.0), db(dim, 0.0);
		for (size_t k = 0; k < dim; k++) {
			if (rng() % 3 == 0) {
				ai.push_back(static_cast<int32_t>(k));
				av.push_back(u(rng));
				da[k] = av.back();
			}
			if (rng() % 3 == 0) {
				bi.push_back(static_cast<int32_t>(k));
				bv.push_back(u(rng));
				db[k] = bv.back();
			}
		}
		Ref r = Reference(da, db);
		size_t n = dim;
		EXPECT_NEAR(SparseL2SqrF32(ai.data(), av.data(), ai.size(), bi.data(), bv.data(), bi.size()),
					r.l2, SumBound(n, r.l2_abs));
		EXPECT_NEAR(SparseInnerProductF32(ai.data(), av.data(), ai.size(), bi.data(), bv.data(), bi.size()),
					r.ip, SumBound(n, r.ip_abs));
		EXPECT_NEAR(SparseL1F32(ai.data(), av.data(), ai.size(), bi.data(), bv.data(), bi.size()),
					r.l1, SumBound(n, r.l1_abs));
		double c = SparseCosineDistanceF32(ai.data(), av.data(), ai.size(), bi.data(), bv.data(), bi.size());
		if (std::isnan(r.cos))
			EXPECT_TRUE(std::isnan(c));
		else
			EXPECT_NEAR(c, r.cos, CosBound(n, r));
	}
	/* Empty vectors: distances 0, cosine NaN. */
	int32_t i1[] = {3};
	float v1[] = {2.0f};
	EXPECT_EQ(SparseL2SqrF32(nullptr, nullptr, 0, i1, v1, 1), 4.0f);
	EXPECT_EQ(SparseL1F32(i1, v1, 1, nullptr, nullptr, 0), 2.0f);
	EXPECT_EQ(SparseInnerProductF32(i1, v1, 1, nullptr, nullptr, 0), 0.0f);
	EXPECT_TRUE(std::isnan(SparseCosineDistanceF32(i1, v1, 1, nullptr, nullptr, 0)));
	EXPECT_EQ(SparseCosineDistanceF32(i1, v1, 1, i1, v1, 1), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Levels, LevelTest,
						 ::testing::Values(SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512),
						 [](const ::testing::TestParamInfo<SimdLevel> &info) {
							 return std::string(SimdLevelName(info.param));
						 });

TEST(SimdDispatch, BestLevelMatchesCpu) {
	SimdLevel expect = CpuHasLevel(SimdLevel::kAvx512) ? SimdLevel::kAvx512
		: CpuHasLevel(SimdLevel::kAvx2)				  ? SimdLevel::kAvx2
													  : SimdLevel::kScalar;
	EXPECT_EQ(BestSimdLevel(), expect);
	std::printf("best SIMD level on this CPU: %s\n", SimdLevelName(BestSimdLevel()));
}

TEST(SimdDispatch, SetSimdLevelRefusesWhatTheCpuLacks) {
	SimdLevel saved = ActiveSimdLevel();
	for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
		ASSERT_TRUE(SetSimdLevel(SimdLevel::kScalar));
		bool ok = SetSimdLevel(level);
		EXPECT_EQ(ok, CpuHasLevel(level)) << SimdLevelName(level);
		/* A refused level leaves the previous one active. */
		EXPECT_EQ(ActiveSimdLevel(), ok ? level : SimdLevel::kScalar) << SimdLevelName(level);
	}
	/* A value outside the enum is refused on every CPU. */
	ASSERT_TRUE(SetSimdLevel(SimdLevel::kScalar));
	EXPECT_FALSE(SetSimdLevel(static_cast<SimdLevel>(7)));
	EXPECT_EQ(ActiveSimdLevel(), SimdLevel::kScalar);
	EXPECT_STREQ(SimdLevelName(SimdLevel::kScalar), "scalar");
	EXPECT_STREQ(SimdLevelName(SimdLevel::kAvx2), "avx2");
	EXPECT_STREQ(SimdLevelName(SimdLevel::kAvx512), "avx512");
	ASSERT_TRUE(SetSimdLevel(saved));
}

TEST(SimdDispatch, KernelsStayCorrectWhileLevelsSwitch) {
	/* Readers run while another thread flips levels: every result must still
	 * be exact (integer inputs), i.e. no call ever sees a torn table. */
	SimdLevel saved = ActiveSimdLevel();
	std::vector<float> a(1000), b(1000);
	for (size_t i = 0; i < a.size(); i++) {
		a[i] = static_cast<float>(static_cast<int>(i % 7) - 3);
		b[i] = static_cast<float>(static_cast<int>(i % 5) - 2);
	}
	Ref r = Reference(Widen(a.data(), a.size()), Widen(b.data(), b.size()));
	std::atomic<int> running{2};
	std::atomic<int> wrong{0};
	std::vector<std::thread> readers;
	for (int t = 0; t < 2; t++)
		readers.emplace_back([&] {
			for (int k = 0; k < 20000; k++) {
				if (L2SqrF32(a.data(), b.data(), a.size()) != static_cast<float>(r.l2) ||
					InnerProductF32(a.data(), b.data(), a.size()) != static_cast<float>(r.ip))
					wrong++;
			}
			running--;
		});
	for (int k = 0; running.load() > 0; k++)
		SetSimdLevel(static_cast<SimdLevel>(k % 3));
	for (std::thread &t : readers)
		t.join();
	EXPECT_EQ(wrong.load(), 0);
	ASSERT_TRUE(SetSimdLevel(saved));
}

TEST(KernelTables, BitKernelsOfEveryTableMatchReference) {
	/* The public API only reaches the AVX-512 table of this CPU; the one built
	 * for AVX-512 CPUs without VPOPCNTDQ is checked here directly. */
	std::vector<const kernels::KernelTable *> tables = {kernels::ScalarTable()};
	if (CpuHasLevel(SimdLevel::kAvx2))
		tables.push_back(kernels::Avx2Table());
	if (CpuHasLevel(SimdLevel::kAvx512)) {
		tables.push_back(kernels::Avx512Table(false));
		EXPECT_EQ(kernels::Avx512Table(false)->hamming, kernels::Avx2Table()->hamming);
		if (__builtin_cpu_supports("avx512vpopcntdq"))
			tables.push_back(kernels::Avx512Table(true));
		else
			std::printf("CPU lacks AVX512_VPOPCNTDQ: its bit kernels are not tested\n");
	}
	GuardedBuffer ga(4096), gb(4096);
	for (const kernels::KernelTable *t : tables) {
		for (size_t n = 0; n <= 600; n += (n < 260 ? 1 : 17)) {
			std::mt19937 rng(static_cast<uint32_t>(8000 + n));
			uint8_t *a = ga.Tail<uint8_t>(n), *b = gb.Tail<uint8_t>(n);
			uint64_t ham = 0, ab = 0, aa = 0, bb = 0;
			for (size_t i = 0; i < n; i++) {
				a[i] = static_cast<uint8_t>(rng());
				b[i] = static_cast<uint8_t>(rng());
				ham += PopRef(a[i] ^ b[i]);
				ab += PopRef(a[i] & b[i]);
				aa += PopRef(a[i]);
				bb += PopRef(b[i]);
			}
			ASSERT_EQ(t->hamming(a, b, n), ham) << SimdLevelName(t->level) << " n=" << n;
			kernels::JaccardCounts c = t->jaccard(a, b, n);
			ASSERT_EQ(c.both, ab) << SimdLevelName(t->level) << " n=" << n;
			ASSERT_EQ(c.in_a, aa) << SimdLevelName(t->level) << " n=" << n;
			ASSERT_EQ(c.in_b, bb) << SimdLevelName(t->level) << " n=" << n;
		}
	}
}

TEST(CosineFromSums, ClampsAndReturnsNaN) {
	using kernels::CosineFromSums;
	using kernels::CosineSums;
	/* Rounded sums can claim |cos| > 1; the distance is clamped into [0, 2]. */
	EXPECT_EQ(CosineFromSums(CosineSums{1.0f, 1.0f, 0.98f}), 0.0);
	EXPECT_EQ(CosineFromSums(CosineSums{-1.0f, 1.0f, 0.98f}), 2.0);
	EXPECT_DOUBLE_EQ(CosineFromSums(CosineSums{0.5f, 1.0f, 1.0f}), 0.5);
	EXPECT_TRUE(std::isnan(CosineFromSums(CosineSums{0.0f, 0.0f, 1.0f})));
	EXPECT_TRUE(std::isnan(CosineFromSums(CosineSums{0.0f, 1.0f, 0.0f})));
	EXPECT_TRUE(std::isnan(CosineFromSums(CosineSums{NAN, 1.0f, 1.0f})));
}

// RefHalfValue decodes a half by its definition, in double.
double RefHalfValue(uint32_t h) {
	int exp = static_cast<int>((h >> 10) & 0x1f);
	int mant = static_cast<int>(h & 0x3ff);
	double sign = (h & 0x8000) ? -1.0 : 1.0;
	if (exp == 31)
		return mant ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
	if (exp == 0)
		return sign * std::ldexp(mant, -24);
	return sign * std::ldexp(1024 + mant, exp - 25);
}

// RefFloatToHalf rounds by searching the table of all half values: the nearest
// wins, a tie goes to the even code, and 2^16 stands in for infinity (the next
// code, 0x7c00, after 65504).
Half RefFloatToHalf(float f) {
	static const std::vector<double> table = [] {
		std::vector<double> t;
		for (uint32_t h = 0; h < 0x7c00; h++)
			t.push_back(RefHalfValue(h));
		t.push_back(65536.0);
		return t;
	}();
	Half sign = std::signbit(f) ? 0x8000 : 0;
	double x = std::fabs(static_cast<double>(f));
	if (std::isnan(f))
		return static_cast<Half>(0x7e00);	/* payload compared separately */
	if (x >= 65536.0)
		return static_cast<Half>(sign | 0x7c00);
	size_t hi = static_cast<size_t>(std::upper_bound(table.begin(), table.end(), x) - table.begin());
	size_t lo = hi - 1;	/* table[0] = 0 <= x */
	if (table[lo] == x)
		return static_cast<Half>(sign | lo);
	double mid = (table[lo] + table[hi]) / 2;	/* exact: neighbours share a scale */
	size_t code = x < mid ? lo : x > mid ? hi : (lo % 2 == 0 ? lo : hi);
	return static_cast<Half>(sign | code);
}

// HwFloatToHalf converts with the F16C instruction (call only when present).
__attribute__((target("f16c"))) Half HwFloatToHalf(float f) {
	return static_cast<Half>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

// HwHalfToFloat converts with the F16C instruction (call only when present).
__attribute__((target("f16c"))) float HwHalfToFloat(Half h) {
	return _cvtsh_ss(h);
}

// FloatBits returns the bit pattern of f.
uint32_t FloatBits(float f) {
	uint32_t x;
	std::memcpy(&x, &f, sizeof(x));
	return x;
}

// BitsFloat returns the float with bit pattern x.
float BitsFloat(uint32_t x) {
	float f;
	std::memcpy(&f, &x, sizeof(f));
	return f;
}

TEST(Float16, EveryHalfWidensExactlyAndRoundTrips) {
	bool hw = __builtin_cpu_supports("f16c");
	for (uint32_t h = 0; h < 65536; h++) {
		float f = HalfToFloat(static_cast<Half>(h));
		double ref = RefHalfValue(h);
		if (std::isnan(ref)) {
			ASSERT_TRUE(std::isnan(f)) << std::hex << h;
			/* Payload kept; narrowing quietens it (sets bit 9), as F16C does. */
			ASSERT_EQ((FloatBits(f) >> 13) & 0x3ff, h & 0x3ff) << std::hex << h;
			ASSERT_EQ(FloatToHalf(f), static_cast<Half>(h | 0x200)) << std::hex << h;
			continue;
		}
		ASSERT_EQ(static_cast<double>(f), ref) << std::hex << h;
		ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
		ASSERT_EQ(FloatToHalf(f), static_cast<Half>(h)) << std::hex << h;
		if (hw)
			ASSERT_EQ(FloatBits(HwHalfToFloat(static_cast<Half>(h))), FloatBits(f)) << std::hex << h;
	}
}

// CheckNarrowing compares FloatToHalf with the table reference and F16C.
void CheckNarrowing(float f, bool hw) {
	Half got = FloatToHalf(f);
	if (std::isnan(f)) {
		ASSERT_EQ(got & 0x7e00, 0x7e00) << "NaN must stay a (quiet) NaN, bits 0x" << std::hex << FloatBits(f);
	} else {
		ASSERT_EQ(got, RefFloatToHalf(f)) << "f=" << f << " bits 0x" << std::hex << FloatBits(f);
	}
	if (hw)
		ASSERT_EQ(got, HwFloatToHalf(f)) << "f=" << f << " bits 0x" << std::hex << FloatBits(f);
}

TEST(Float16, NarrowingRoundsToNearestEven) {
	bool hw = __builtin_cpu_supports("f16c");
	/* Every halfway point between neighbouring halves (ties), and the floats
	 * just below and above it, for both signs; 0x7bff..0x7c00 is the
	 * 65504 / 65536 midpoint 65520, which must overflow to infinity. */
	for (uint32_t h = 0; h < 0x7c00; h++) {
		double lo = RefHalfValue(h);
		double hi = h + 1 < 0x7c00 ? RefHalfValue(h + 1) : 65536.0;
		float mid = static_cast<float>((lo + hi) / 2);
		ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);	/* the tie is a float */
		for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
			CheckNarrowing(f, hw);
			CheckNarrowing(-f, hw);
		}
	}
	EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
	EXPECT_EQ(FloatToHalf(std::nextafter(65520.0f, 0.0f)), 0x7bff);
	EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);
	EXPECT_EQ(FloatToHalf(-65520.0f), 0xfc00);
	EXPECT_EQ(FloatToHalf(1e30f), 0x7c00);
	EXPECT_EQ(FloatToHalf(-INFINITY), 0xfc00);
	EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);	/* tie to even: zero */
	EXPECT_EQ(FloatToHalf(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
	EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -25)), 0x0002);	/* 1.5 units: tie to even 2 */
	EXPECT_EQ(FloatToHalf(-std::ldexp(1.0f, -30)), 0x8000);
	EXPECT_EQ(FloatToHalf(std::ldexp(1023.5f, -24)), 0x0400);	/* rounds up into the normals */
	EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);	/* tie, even stays */
	EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);	/* tie, odd rounds up */
	for (float f : {NAN, -NAN, BitsFloat(0x7f800001u), BitsFloat(0xffc12345u)})
		CheckNarrowing(f, hw);
	/* Random floats: every bit pattern class, and magnitudes around the half range. */
	std::mt19937 rng(7000);
	for (int i = 0; i < 300000; i++) {
		CheckNarrowing(BitsFloat(static_cast<uint32_t>(rng())), hw);
		uint32_t exp = 127 - 30 + rng() % 48;	/* 2^-30 .. 2^17 */
		CheckNarrowing(BitsFloat((rng() & 0x807fffffu) | (exp << 23)), hw);
	}
}

}  // namespace
