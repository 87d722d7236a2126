// sq_codec.cpp implements the scalar quantizer (sq_codec.hpp): training
// (k-means centroids, each cluster's ranges of its residuals), encoding, decoding, and the
// portable query-to-code distances; the SIMD kernels are in
// sq_codec_avx2.cpp and sq_codec_avx512.cpp, picked when the CPU has them.
#include "knowhere/sq_codec.hpp"
#include "knowhere/thread_util.hpp"

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
	const float *cen = c.center(ClusterOf(x)), *st = c.step(ClusterOf(x));
	x += kSqCodeHead;
	float sum = 0;
	for (size_t d = 0; d < static_cast<size_t>(c.dim()); d++)
		sum += SqL2Term(q[d], static_cast<float>(LevelAt(x, c.bits(), d)), st[d], cen[d]);
	return sum;
}

float ScalarIp(const void *query, const void *code, const void *codec) noexcept {
	const SqCodec &c = *static_cast<const SqCodec *>(codec);
	const float *q = static_cast<const float *>(query);
	const uint8_t *x = static_cast<const uint8_t *>(code);
	const float *cen = c.center(ClusterOf(x)), *st = c.step(ClusterOf(x));
	x += kSqCodeHead;
	float sum = 0;
	for (size_t d = 0; d < static_cast<size_t>(c.dim()); d++)
		sum += SqIpTerm(q[d], static_cast<float>(LevelAt(x, c.bits(), d)), st[d], cen[d]);
	return -sum;
}

// kRangeZ4 is the standard deviations a 4-bit range spans on each side of
// the mean: about the best uniform quantizer of a normal variable.
constexpr double kRangeZ4 = 2.5;

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

void SqCodec::AssignClusters(const std::vector<const float *> &rows, int threads, std::vector<uint32_t> *out) const {
	size_t n = rows.size();
	out->resize(n);
	auto assign = [&](size_t from, size_t to) noexcept {
		for (size_t i = from; i < to; i++)
			(*out)[i] = Cluster(rows[i]);
	};
	size_t parts = std::min(static_cast<size_t>(std::max(threads, 1)), (n + 255) / 256);
	if (parts <= 1) {
		assign(0, n);
		return;
	}
	ThreadGroup group;
	size_t started = group.Start(parts - 1, [&](size_t t) noexcept { assign(n * (t + 1) / parts, n * (t + 2) / parts); });
	/* the calling thread takes the first part and those of threads that did not start */
	assign(0, n / parts);
	for (size_t t = started; t + 1 < parts; t++)
		assign(n * (t + 1) / parts, n * (t + 2) / parts);
	group.Join();
}

void SqCodec::TrainCentroids(const std::vector<const float *> &sample, uint32_t k, int threads) {
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
	std::vector<uint32_t> assigned;
	for (int round = 0; round < kSqKmeansIterations; round++) {
		std::fill(sums.begin(), sums.end(), 0.0);
		std::fill(counts.begin(), counts.end(), 0);
		AssignClusters(sample, threads, &assigned);
		for (size_t s = 0; s < n; s++) {
			const float *row = sample[s];
			uint32_t j = assigned[s];
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

void SqCodec::TrainRanges(const std::vector<const float *> &sample, bool cut_tails, int threads) {
	size_t d = static_cast<size_t>(dim_), k = clusters_;
	/* per cluster and for the whole sample (slot k): count, sums, extremes of the residuals */
	std::vector<size_t> count(k + 1, 0);
	std::vector<double> sum((k + 1) * d, 0.0), squares((k + 1) * d, 0.0);
	std::vector<float> lo((k + 1) * d, std::numeric_limits<float>::infinity());
	std::vector<float> hi((k + 1) * d, -std::numeric_limits<float>::infinity());
	std::vector<uint32_t> assigned;
	AssignClusters(sample, threads, &assigned);
	for (size_t s = 0; s < sample.size(); s++) {
		const float *row = sample[s];
		uint32_t j = assigned[s];
		const float *c = centroids_.data() + j * d;
		for (size_t slot : {static_cast<size_t>(j), k}) {
			count[slot]++;
			for (size_t i = 0; i < d; i++) {
				float r = row[i] - c[i];
				sum[slot * d + i] += r;
				squares[slot * d + i] += static_cast<double>(r) * r;
				lo[slot * d + i] = std::min(lo[slot * d + i], r);
				hi[slot * d + i] = std::max(hi[slot * d + i], r);
			}
		}
	}
	double levels = Levels(bits_);
	step_.assign(k * d, 0.0f);
	centers_.assign(k * d, 0.0f);
	for (size_t j = 0; j < k; j++) {
		/* 8 bits: the whole sample's extremes (a cluster's few sampled rows miss
		   values, and 255 levels leave little to gain from cutting tails) */
		size_t slot = bits_ == 4 && count[j] >= kSqMinClusterSample ? j : k;
		for (size_t i = 0; i < d; i++) {
			size_t at = slot * d + i;
			double a = lo[at], b = hi[at];
			if (count[slot] == 0 || !(a <= b) || !std::isfinite(b - a)) { /* no rows */
				a = 0;
				b = 0;
			} else if (bits_ == 4 && cut_tails) {
				double n = static_cast<double>(count[slot]), mean = sum[at] / n;
				double sd = std::sqrt(std::max(0.0, squares[at] / n - mean * mean));
				a = std::max(a, mean - kRangeZ4 * sd);
				b = std::min(b, mean + kRangeZ4 * sd);
				if (!(a <= b))
					a = b = mean;
			}
			float step = static_cast<float>((b - a) / levels);
			step_[j * d + i] = std::isfinite(step) && step > 0 ? step : 0.0f;
			centers_[j * d + i] = centroids_[j * d + i] + static_cast<float>(a);
		}
	}
}

void SqCodec::Encode(const float *row, uint8_t *code) const noexcept {
	float levels = Levels(bits_);
	std::fill(code, code + code_bytes(), 0);
	uint32_t j = Cluster(row);
	std::memcpy(code, &j, sizeof(j));
	uint8_t *x = code + kSqCodeHead;
	const float *cen = center(j), *st = step(j);
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++) {
		float v = st[d] > 0 ? std::nearbyint((row[d] - cen[d]) / st[d]) : 0.0f;
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
	const float *cen = center(ClusterOf(code)), *st = step(ClusterOf(code));
	for (size_t d = 0; d < static_cast<size_t>(dim_); d++)
		row[d] = cen[d] + static_cast<float>(LevelAt(code + kSqCodeHead, bits_, d)) * st[d];
}

float SqCodec::high(uint32_t j, int d) const noexcept {
	return center(j)[d] + step(j)[d] * Levels(bits_);
}

SqMeta SqCodec::Meta() const noexcept {
	return SqMeta{static_cast<uint32_t>(bits_), static_cast<uint32_t>(dim_), code_bytes(), clusters_, 0};
}

bool SqCodec::Load(const SqMeta &meta, const float *step, const float *centers, bool borrow) {
	if ((meta.bits != 4 && meta.bits != 8) || meta.dim == 0 || meta.clusters == 0 ||
		meta.clusters > kSqMaxClusters || meta.reserved != 0 ||
		meta.code_bytes != SqCodeBytes(static_cast<int>(meta.bits), static_cast<int>(meta.dim)))
		return false;
	size_t n = static_cast<size_t>(meta.clusters) * meta.dim;
	for (size_t i = 0; i < n; i++)
		if (!std::isfinite(step[i]) || step[i] < 0 || !std::isfinite(centers[i]) ||
			!std::isfinite(centers[i] + step[i] * Levels(static_cast<int>(meta.bits))))
			return false;
	bits_ = static_cast<int>(meta.bits);
	dim_ = static_cast<int>(meta.dim);
	clusters_ = meta.clusters;
	centroids_.clear();
	if (borrow) {
		std::vector<float>().swap(step_);
		std::vector<float>().swap(centers_);
		borrowed_step_ = step;
		borrowed_centers_ = centers;
	} else {
		step_.assign(step, step + n);
		centers_.assign(centers, centers + n);
		borrowed_step_ = borrowed_centers_ = nullptr;
	}
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
