// sq_codec.cpp implements the scalar quantizer (sq_codec.hpp): training
// (k-means centroids, ranges of the residuals), encoding, decoding, and the
// portable query-to-code distances; the SIMD kernels are in
// sq_codec_avx2.cpp and sq_codec_avx512.cpp, picked when the CPU has them.
#include "knowhere/sq_codec.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "knowhere/distance.hpp"

namespace vecdb::knowhere {

namespace {

// Levels returns the highest code of bits (15 or 255).
inline float Levels(int bits) noexcept {
	return static_cast<float>((1u << bits) - 1);
}

// ClusterOf returns a code's cluster (its head).
inline uint32_t ClusterOf(const uint8_t *code) noexcept {
	uint32_t j;
	std::memcpy(&j, code, sizeof(j));
	return j;
}

// LevelAt returns dimension d's level in the levels at x.
inline unsigned LevelAt(const uint8_t *x, int bits, size_t d) noexcept {
	return bits == 8 ? x[d] : SqCode4(x, d);
}

// ScalarL2 and ScalarIp are the portable kernels (any bits).
float ScalarL2(const void *query, const void *code, const void *codec) noexcept {
	const SqCodec &c = *static_cast<const SqCodec *>(codec);
	const float *q = static_cast<const float *>(query);
	const uint8_t *x = static_cast<const uint8_t *>(code);
	const float *cen = c.center(ClusterOf(x));
	x += kSqCodeHead;
	float sum = 0;
	for (size_t d = 0; d < static_cast<size_t>(c.dim()); d++) {
		float diff = q[d] - (cen[d] + static_cast<float>(LevelAt(x, c.bits(), d)) * c.step()[d]);
		sum += diff * diff;
	}
	return sum;
}

float ScalarIp(const void *query, const void *code, const void *codec) noexcept {
	const SqCodec &c = *static_cast<const SqCodec *>(codec);
	const float *q = static_cast<const float *>(query);
	const uint8_t *x = static_cast<const uint8_t *>(code);
	const float *cen = c.center(ClusterOf(x));
	x += kSqCodeHead;
	float sum = 0;
	for (size_t d = 0; d < static_cast<size_t>(c.dim()); d++)
		sum += q[d] * (cen[d] + static_cast<float>(LevelAt(x, c.bits(), d)) * c.step()[d]);
	return -sum;
}

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
			err = (x - (a + std::clamp(at, 0.0, levels) * step)) * (x - (a + std::clamp(at, 0.0, levels) * step));
		else if (step <= w)
			err = 0;
		else
			err = (x - (a + std::nearbyint(at) * step)) * (x - (a + std::nearbyint(at) * step));
		sum += static_cast<double>(bins[k]) * (err + spread);
	}
	return sum;
}

// BestRange returns the range [*a, *b] of least estimated coding error for a
// dimension whose values span [lo, hi] with histogram bins.
void BestRange(const uint32_t *bins, double lo, double hi, double levels, bool cut_tails, double *a, double *b) {
	double width = hi - lo, w = width / static_cast<double>(kSqBins), total = 0;
	*a = lo;
	*b = hi;
	if (!cut_tails || !(width > 0))
		return;
	for (size_t k = 0; k < kSqBins; k++)
		total += bins[k];
	double best = CodingError(bins, lo, w, lo, width / levels, levels);
	for (double cut : kTailCuts) {
		if (cut == 0)
			continue;
		/* the bins whose values below (above) stay within cut of the total are left out */
		double below = 0, above = 0;
		size_t i = 0, j = kSqBins - 1;
		while (i < kSqBins - 1 && below + bins[i] <= cut * total)
			below += bins[i++];
		while (j > i && above + bins[j] <= cut * total)
			above += bins[j--];
		double ca = lo + static_cast<double>(i) * w, cb = lo + static_cast<double>(j + 1) * w;
		double err = CodingError(bins, lo, w, ca, (cb - ca) / levels, levels);
		if (err < best) {
			best = err;
			*a = ca;
			*b = cb;
		}
	}
}

}  // namespace

SqCodec::SqCodec(int bits, int dim) : bits_(bits), dim_(dim), step_(static_cast<size_t>(dim), 0.0f) {}

uint32_t SqCodec::Cluster(const float *row) const noexcept {
	const std::vector<float> &c = centroids_.empty() ? centers_ : centroids_;
	size_t d = static_cast<size_t>(dim_);
	uint32_t best = 0;
	float best_dist = std::numeric_limits<float>::infinity();
	for (uint32_t j = 0; j < clusters_ && (j + 1) * d <= c.size(); j++) {
		float dist = L2SqrF32(row, c.data() + j * d, d);
		if (dist < best_dist) {
			best_dist = dist;
			best = j;
		}
	}
	return best;
}

void SqCodec::TrainCentroids(const std::vector<const float *> &sample, uint32_t k) {
	size_t d = static_cast<size_t>(dim_), n = sample.size();
	if (n == 0)
		k = 1;
	clusters_ = k;
	centroids_.assign(static_cast<size_t>(k) * d, 0.0f);
	if (n == 0)
		return;
	/* seeds spread evenly over the sample; Lloyd rounds; an empty cluster keeps its centroid */
	for (uint32_t j = 0; j < k; j++)
		std::copy(sample[j * n / k], sample[j * n / k] + d, centroids_.begin() + j * d);
	if (k == 1) {
		std::vector<double> sum(d, 0.0);
		for (const float *row : sample)
			for (size_t i = 0; i < d; i++)
				sum[i] += row[i];
		for (size_t i = 0; i < d; i++)
			centroids_[i] = static_cast<float>(sum[i] / static_cast<double>(n));
		return;
	}
	std::vector<double> sums(static_cast<size_t>(k) * d);
	std::vector<size_t> counts(k);
	for (int round = 0; round < kSqKmeansIterations; round++) {
		std::fill(sums.begin(), sums.end(), 0.0);
		std::fill(counts.begin(), counts.end(), 0);
		for (const float *row : sample) {
			uint32_t j = Cluster(row);
			counts[j]++;
			for (size_t i = 0; i < d; i++)
				sums[j * d + i] += row[i];
		}
		for (uint32_t j = 0; j < k; j++)
			if (counts[j] > 0)
				for (size_t i = 0; i < d; i++)
					centroids_[j * d + i] = static_cast<float>(sums[j * d + i] / static_cast<double>(counts[j]));
	}
}

void SqCodec::TrainRanges(const std::vector<const float *> &sample, bool cut_tails) {
	size_t d = static_cast<size_t>(dim_);
	std::vector<uint32_t> cluster(sample.size());
	std::vector<float> lo(d, std::numeric_limits<float>::infinity()), hi(d, -std::numeric_limits<float>::infinity());
	for (size_t i = 0; i < sample.size(); i++) {
		cluster[i] = Cluster(sample[i]);
		const float *c = centroids_.data() + cluster[i] * d;
		for (size_t k = 0; k < d; k++) {
			float r = sample[i][k] - c[k];
			lo[k] = std::min(lo[k], r);
			hi[k] = std::max(hi[k], r);
		}
	}
	std::vector<uint32_t> histogram(d * kSqBins, 0);
	for (size_t i = 0; i < sample.size(); i++) {
		const float *c = centroids_.data() + cluster[i] * d;
		for (size_t k = 0; k < d; k++) {
			float width = hi[k] - lo[k];
			if (!(width > 0) || !std::isfinite(width))
				continue;
			float at = (sample[i][k] - c[k] - lo[k]) / width * static_cast<float>(kSqBins);
			size_t bin = at >= 1.0f ? std::min(static_cast<size_t>(at), kSqBins - 1) : 0;
			histogram[k * kSqBins + bin]++;
		}
	}
	double levels = Levels(bits_);
	std::vector<float> low(d);
	for (size_t k = 0; k < d; k++) {
		if (!(lo[k] <= hi[k]) || !std::isfinite(hi[k] - lo[k])) { /* no rows */
			low[k] = 0;
			step_[k] = 0;
			continue;
		}
		double a, b;
		BestRange(histogram.data() + k * kSqBins, lo[k], hi[k], levels, cut_tails, &a, &b);
		low[k] = static_cast<float>(a);
		step_[k] = static_cast<float>((b - a) / levels);
		if (!std::isfinite(step_[k]) || step_[k] < 0)
			step_[k] = 0;
	}
	centers_.assign(centroids_.size(), 0.0f);
	for (size_t j = 0; j < clusters_; j++)
		for (size_t k = 0; k < d; k++)
			centers_[j * d + k] = centroids_[j * d + k] + low[k];
}

void SqCodec::Encode(const float *row, uint8_t *code) const noexcept {
	float levels = Levels(bits_);
	std::fill(code, code + code_bytes(), 0);
	uint32_t j = Cluster(row);
	std::memcpy(code, &j, sizeof(j));
	uint8_t *x = code + kSqCodeHead;
	const float *cen = center(j);
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++) {
		float v = step_[d] > 0 ? std::nearbyint((row[d] - cen[d]) / step_[d]) : 0.0f;
		unsigned c = static_cast<unsigned>(std::clamp(std::isnan(v) ? 0.0f : v, 0.0f, levels));
		if (bits_ == 8) {
			x[d] = static_cast<uint8_t>(c);
		} else {
			size_t block = d / 16, pos = d % 16;
			x[block * 8 + pos % 8] |= static_cast<uint8_t>(pos < 8 ? c : c << 4);
		}
	}
}

void SqCodec::Decode(const uint8_t *code, float *row) const noexcept {
	const float *cen = center(ClusterOf(code));
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++)
		row[d] = cen[d] + static_cast<float>(LevelAt(code + kSqCodeHead, bits_, d)) * step_[d];
}

float SqCodec::high(uint32_t j, int d) const noexcept {
	return center(j)[d] + step_[static_cast<size_t>(d)] * Levels(bits_);
}

SqMeta SqCodec::Meta() const noexcept {
	return SqMeta{static_cast<uint32_t>(bits_), static_cast<uint32_t>(dim_), code_bytes(), clusters_, 0};
}

bool SqCodec::Load(const SqMeta &meta, const float *step, const float *centers) {
	if ((meta.bits != 4 && meta.bits != 8) || meta.dim == 0 || meta.clusters == 0 ||
		meta.clusters > kSqMaxClusters || meta.reserved != 0 ||
		meta.code_bytes != SqCodeBytes(static_cast<int>(meta.bits), static_cast<int>(meta.dim)))
		return false;
	bits_ = static_cast<int>(meta.bits);
	dim_ = static_cast<int>(meta.dim);
	clusters_ = meta.clusters;
	step_.assign(step, step + meta.dim);
	centers_.assign(centers, centers + static_cast<size_t>(meta.clusters) * meta.dim);
	centroids_.clear();
	for (size_t d = 0; d < step_.size(); d++)
		if (!std::isfinite(step_[d]) || step_[d] < 0)
			return false;
	for (size_t i = 0; i < centers_.size(); i++)
		if (!std::isfinite(centers_[i]) || !std::isfinite(centers_[i] + step_[i % meta.dim] * Levels(bits_)))
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
