// sq_codec.cpp implements the scalar quantizer (sq_codec.hpp): ranges,
// encoding, decoding, and the portable query-to-code distances; the AVX2
// kernels are in sq_codec_avx2.cpp and are picked when the CPU has them.
#include "knowhere/sq_codec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "knowhere/distance.hpp"

namespace vecdb::knowhere {

namespace {

// Levels returns the highest code of bits (15 or 255).
inline float Levels(int bits) noexcept {
	return static_cast<float>((1u << bits) - 1);
}

// CodeAt returns dimension d's code.
inline unsigned CodeAt(const uint8_t *code, int bits, size_t d) noexcept {
	return bits == 8 ? code[d] : SqCode4(code, d);
}

// ScalarL2 and ScalarIp are the portable kernels (any bits) over a
// transformed query.
float ScalarL2(const void *query, const void *code, const void *codec) noexcept {
	const SqCodec &c = *static_cast<const SqCodec *>(codec);
	const float *q = static_cast<const float *>(query);
	const uint8_t *x = static_cast<const uint8_t *>(code);
	float sum = 0;
	for (size_t d = 0; d < static_cast<size_t>(c.dim()); d++) {
		float diff = q[d] - static_cast<float>(CodeAt(x, c.bits(), d)) * c.step()[d];
		sum += diff * diff;
	}
	return sum;
}

float ScalarIp(const void *query, const void *code, const void *codec) noexcept {
	const SqCodec &c = *static_cast<const SqCodec *>(codec);
	const float *q = static_cast<const float *>(query);
	const uint8_t *x = static_cast<const uint8_t *>(code);
	float sum = 0;
	for (size_t d = 0; d < static_cast<size_t>(c.dim()); d++)
		sum += q[d] * static_cast<float>(CodeAt(x, c.bits(), d));
	return -sum;
}

}  // namespace

SqCodec::SqCodec(int bits, int dim)
	: bits_(bits),
	  dim_(dim),
	  lo_(static_cast<size_t>(dim), std::numeric_limits<float>::infinity()),
	  step_(static_cast<size_t>(dim), 0.0f),
	  hi_(static_cast<size_t>(dim), -std::numeric_limits<float>::infinity()) {}

void SqCodec::Observe(const float *row) noexcept {
	for (size_t d = 0; d < lo_.size(); d++) {
		lo_[d] = std::min(lo_[d], row[d]);
		hi_[d] = std::max(hi_[d], row[d]);
	}
}

void SqCodec::Finish() noexcept {
	float levels = Levels(bits_);
	for (size_t d = 0; d < lo_.size(); d++) {
		if (!(lo_[d] <= hi_[d])) { /* no row observed */
			lo_[d] = 0;
			hi_[d] = 0;
		}
		step_[d] = (hi_[d] - lo_[d]) / levels;
		if (!std::isfinite(step_[d]))
			step_[d] = 0;
	}
	hi_.clear();
	hi_.shrink_to_fit();
}

void SqCodec::StartHistograms() {
	histogram_.assign(lo_.size() * kSqBins, 0);
}

void SqCodec::Count(const float *row) noexcept {
	for (size_t d = 0; d < lo_.size(); d++) {
		float width = hi_[d] - lo_[d];
		if (!(width > 0) || !std::isfinite(width))
			continue;
		float at = (row[d] - lo_[d]) / width * static_cast<float>(kSqBins);
		size_t bin = at >= 1.0f ? std::min(static_cast<size_t>(at), kSqBins - 1) : 0;
		histogram_[d * kSqBins + bin]++;
	}
}

namespace {

// kTailCuts are the fractions of a dimension's values left below (and,
// separately, above) a candidate range: 0 is the minimum and maximum.
constexpr double kTailCuts[] = {0, 1e-4, 3e-4, 1e-3, 2e-3, 4e-3, 7e-3, 0.01, 0.015, 0.02, 0.03, 0.045, 0.065};

// CodingError estimates the squared coding error of a histogram (bins of
// width w from base) under the range [a, a + step * levels]. A bin's values
// are taken as spread evenly over it: inside the range, a step finer than
// the bin costs step^2 / 12 per value whatever the bin's centre, a coarser
// one the centre's error plus w^2 / 12; outside, the distance to the end.
double CodingError(const uint32_t *bins, double base, double w, double a, double step, double levels) noexcept {
	double sum = 0, spread = std::min(step, w) * std::min(step, w) / 12.0;
	for (size_t k = 0; k < kSqBins; k++) {
		if (bins[k] == 0)
			continue;
		double x = base + (static_cast<double>(k) + 0.5) * w;
		double at = step > 0 ? (x - a) / step : 0.0;
		double err;
		if (at < 0 || at > levels)
			err = (x - (a + std::clamp(at, 0.0, levels) * step)) * (x - (a + std::clamp(at, 0.0, levels) * step)) + spread;
		else if (step <= w)
			err = spread;
		else
			err = (x - (a + std::nearbyint(at) * step)) * (x - (a + std::nearbyint(at) * step)) + spread;
		sum += static_cast<double>(bins[k]) * err;
	}
	return sum;
}

}  // namespace

void SqCodec::FinishTrained() noexcept {
	double levels = Levels(bits_);
	for (size_t d = 0; d < lo_.size(); d++) {
		double lo = lo_[d], hi = hi_[d], width = hi - lo;
		if (!(width > 0) || !std::isfinite(width) || histogram_.empty())
			continue; /* Finish handles empty and constant dimensions */
		const uint32_t *bins = histogram_.data() + d * kSqBins;
		double w = width / static_cast<double>(kSqBins), total = 0;
		for (size_t k = 0; k < kSqBins; k++)
			total += bins[k];
		double best_a = lo, best_b = hi;
		double best = CodingError(bins, lo, w, lo, width / levels, levels);
		for (double cut : kTailCuts) {
			if (cut == 0)
				continue;
			/* a: the lower edge of the bin where the values below pass cut */
			double below = 0, above = 0;
			size_t i = 0, j = kSqBins - 1;
			while (i < kSqBins - 1 && below + bins[i] <= cut * total)
				below += bins[i++];
			while (j > i && above + bins[j] <= cut * total)
				above += bins[j--];
			double a = lo + static_cast<double>(i) * w, b = lo + static_cast<double>(j + 1) * w;
			double err = CodingError(bins, lo, w, a, (b - a) / levels, levels);
			if (err < best) {
				best = err;
				best_a = a;
				best_b = b;
			}
		}
		lo_[d] = static_cast<float>(best_a);
		hi_[d] = static_cast<float>(best_b);
	}
	histogram_.clear();
	histogram_.shrink_to_fit();
	Finish();
}

void SqCodec::Encode(const float *row, uint8_t *code) const noexcept {
	float levels = Levels(bits_);
	size_t n = code_bytes();
	std::fill(code, code + n, 0);
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++) {
		float v = step_[d] > 0 ? std::nearbyint((row[d] - lo_[d]) / step_[d]) : 0.0f;
		unsigned c = static_cast<unsigned>(std::clamp(std::isnan(v) ? 0.0f : v, 0.0f, levels));
		if (bits_ == 8) {
			code[d] = static_cast<uint8_t>(c);
		} else {
			size_t block = d / 16, pos = d % 16;
			code[block * 8 + pos % 8] |= static_cast<uint8_t>(pos < 8 ? c : c << 4);
		}
	}
}

void SqCodec::TransformQuery(Metric metric, const float *q, float *out) const noexcept {
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++)
		out[d] = metric == Metric::kL2 ? q[d] - lo_[d] : q[d] * step_[d];
}

void SqCodec::Decode(const uint8_t *code, float *row) const noexcept {
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++)
		row[d] = lo_[d] + static_cast<float>(CodeAt(code, bits_, d)) * step_[d];
}

bool SqCodec::Load(const SqMeta &meta, const float *lo, const float *step) {
	if ((meta.bits != 4 && meta.bits != 8) || meta.dim == 0 ||
		meta.code_bytes != SqCodeBytes(static_cast<int>(meta.bits), static_cast<int>(meta.dim)))
		return false;
	bits_ = static_cast<int>(meta.bits);
	dim_ = static_cast<int>(meta.dim);
	lo_.assign(lo, lo + meta.dim);
	step_.assign(step, step + meta.dim);
	for (size_t d = 0; d < lo_.size(); d++)
		if (!std::isfinite(lo_[d]) || !std::isfinite(step_[d]) || step_[d] < 0 ||
			!std::isfinite(lo_[d] + step_[d] * Levels(bits_)))
			return false;
	return true;
}

SqDistFunc SqDistanceFor(Metric metric, int bits) noexcept {
	SqDistFunc l2 = ScalarL2, ip = ScalarIp;
	switch (ActiveSimdLevel()) {
		case SimdLevel::kAvx512:
			l2 = bits == 4 ? sq_avx512::L2x4 : sq_avx512::L2x8;
			ip = bits == 4 ? sq_avx512::Ipx4 : sq_avx512::Ipx8;
			break;
		case SimdLevel::kAvx2:
			l2 = bits == 4 ? sq_avx2::L2x4 : sq_avx2::L2x8;
			ip = bits == 4 ? sq_avx2::Ipx4 : sq_avx2::Ipx8;
			break;
		case SimdLevel::kScalar:
			break;
	}
	switch (metric) {
		case Metric::kL2:
			return l2;
		case Metric::kInnerProduct:
		case Metric::kCosine:
			return ip;
		default:
			return nullptr;
	}
}

}  // namespace vecdb::knowhere
