// index_test_util.hpp gives the index tests seeded clustered data, exact
// double-precision ground truth and recall@k, shared by FLAT, HNSW and IVF tests.
//
// Everything is deterministic for a seed: the generator is std::mt19937_64
// (fully specified by the standard) with our own Box-Muller transform
// (std::normal_distribution differs between standard libraries).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "knowhere/bitset_view.hpp"
#include "knowhere/index.hpp"

namespace vecdb::knowhere::testutil {

// Rng wraps mt19937_64 with portable uniform and normal draws.
class Rng {
public:
	explicit Rng(uint64_t seed) : gen_(seed) {}
	// Uniform returns a double in [0, 1).
	double Uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }
	// Normal returns a standard normal draw (Box-Muller, one value per call).
	double Normal() {
		double u1 = Uniform(), u2 = Uniform();
		return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
	}
	// Below returns an integer in [0, n).
	uint64_t Below(uint64_t n) { return gen_() % n; }

private:
	std::mt19937_64 gen_;
};

// GaussianMixture is a set of anisotropic Gaussian clusters: each cluster has
// a centre and its own standard deviation per dimension (log-uniform between
// min_sigma and max_sigma), so clusters are elongated along random axes.
struct GaussianMixture {
	int dim = 0;
	std::vector<std::vector<double>> centers;
	std::vector<std::vector<double>> sigmas;

	// Make draws nclusters centres (N(0, spread^2) per coordinate) and their shapes.
	static GaussianMixture Make(int dim, int nclusters, uint64_t seed, double spread = 1.0,
								double min_sigma = 0.02, double max_sigma = 0.3) {
		GaussianMixture g;
		g.dim = dim;
		Rng rng(seed);
		for (int c = 0; c < nclusters; c++) {
			std::vector<double> center(dim), sigma(dim);
			for (int j = 0; j < dim; j++) {
				center[j] = spread * rng.Normal();
				sigma[j] = min_sigma * std::pow(max_sigma / min_sigma, rng.Uniform());
			}
			g.centers.push_back(std::move(center));
			g.sigmas.push_back(std::move(sigma));
		}
		return g;
	}

	// Sample returns n rows (row-major float32), each from a random cluster.
	std::vector<float> Sample(size_t n, uint64_t seed) const {
		Rng rng(seed);
		std::vector<float> out(n * static_cast<size_t>(dim));
		for (size_t i = 0; i < n; i++) {
			size_t c = rng.Below(centers.size());
			for (int j = 0; j < dim; j++)
				out[i * dim + j] = static_cast<float>(centers[c][j] + sigmas[c][j] * rng.Normal());
		}
		return out;
	}
};

// ClusteredBits returns n packed bit vectors of dim bits (PostgreSQL bit
// order: bit 0 is the high bit of byte 0; padding bits zero), each a random
// one of nclusters prototypes with every bit flipped with probability flip.
inline std::vector<uint8_t> ClusteredBits(size_t n, int dim, int nclusters, uint64_t seed, double flip = 0.1) {
	Rng rng(seed);
	size_t nbytes = (static_cast<size_t>(dim) + 7) / 8;
	std::vector<std::vector<bool>> protos(nclusters, std::vector<bool>(dim));
	for (auto &p : protos)
		for (int j = 0; j < dim; j++)
			p[j] = rng.Uniform() < 0.5;
	std::vector<uint8_t> out(n * nbytes, 0);
	for (size_t i = 0; i < n; i++) {
		const auto &p = protos[rng.Below(protos.size())];
		for (int j = 0; j < dim; j++) {
			bool bit = p[j] != (rng.Uniform() < flip);
			if (bit)
				out[i * nbytes + j / 8] |= static_cast<uint8_t>(0x80u >> (j % 8));
		}
	}
	return out;
}

// ReferenceDistance computes the index score of a and b in double precision
// straight from the definitions (cosine from the unnormalized vectors).
inline double ReferenceDistance(Metric metric, int dim, const void *a, const void *b) {
	if (metric == Metric::kHamming || metric == Metric::kJaccard) {
		const uint8_t *x = static_cast<const uint8_t *>(a), *y = static_cast<const uint8_t *>(b);
		size_t nbytes = (static_cast<size_t>(dim) + 7) / 8;
		uint64_t diff = 0, both = 0, either = 0;
		for (size_t i = 0; i < nbytes; i++) {
			diff += __builtin_popcount(x[i] ^ y[i]);
			both += __builtin_popcount(x[i] & y[i]);
			either += __builtin_popcount(x[i] | y[i]);
		}
		if (metric == Metric::kHamming)
			return static_cast<double>(diff);
		return both == 0 ? 1.0 : 1.0 - static_cast<double>(both) / static_cast<double>(either);
	}
	const float *x = static_cast<const float *>(a), *y = static_cast<const float *>(b);
	double s = 0, nx = 0, ny = 0;
	for (int i = 0; i < dim; i++) {
		double u = x[i], v = y[i];
		switch (metric) {
			case Metric::kL2:
				s += (u - v) * (u - v);
				break;
			case Metric::kL1:
				s += std::fabs(u - v);
				break;
			default:
				s += u * v;
				nx += u * u;
				ny += v * v;
		}
	}
	if (metric == Metric::kInnerProduct)
		return -s;
	if (metric == Metric::kCosine)
		return 1.0 - s / std::sqrt(nx * ny);
	return s;
}

// RowBytesOf returns the bytes of one row for metric and dim.
inline size_t RowBytesOf(Metric metric, int dim) {
	return (metric == Metric::kHamming || metric == Metric::kJaccard) ? (static_cast<size_t>(dim) + 7) / 8
																	   : static_cast<size_t>(dim) * sizeof(float);
}

// RefNeighbor is one exact result with its double distance.
struct RefNeighbor {
	int64_t label;
	double distance;
};

// ExactSearch returns, for each query, every row the filter allows sorted by
// (double distance, label), cut to k when k > 0.
inline std::vector<std::vector<RefNeighbor>> ExactSearch(Metric metric, int dim, const void *data,
														  const int64_t *labels, size_t n, const void *queries,
														  size_t nq, size_t k, BitsetView filter = {}) {
	size_t rb = RowBytesOf(metric, dim);
	std::vector<std::vector<RefNeighbor>> out(nq);
	for (size_t q = 0; q < nq; q++) {
		const uint8_t *qv = static_cast<const uint8_t *>(queries) + q * rb;
		auto &res = out[q];
		for (size_t i = 0; i < n; i++)
			if (!filter.test(labels[i]))
				res.push_back({labels[i],
							   ReferenceDistance(metric, dim, qv, static_cast<const uint8_t *>(data) + i * rb)});
		std::sort(res.begin(), res.end(), [](const RefNeighbor &a, const RefNeighbor &b) {
			return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
		});
		if (k > 0 && res.size() > k)
			res.resize(k);
	}
	return out;
}

// RecallAtK returns the fraction of true neighbours (label >= 0) found in the
// results: labels holds nq rows of k labels.
inline double RecallAtK(const std::vector<std::vector<RefNeighbor>> &truth, const int64_t *labels, size_t k) {
	size_t hit = 0, total = 0;
	for (size_t q = 0; q < truth.size(); q++) {
		for (size_t i = 0; i < std::min(k, truth[q].size()); i++) {
			total++;
			for (size_t j = 0; j < k; j++)
				if (labels[q * k + j] == truth[q][i].label) {
					hit++;
					break;
				}
		}
	}
	return total == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(total);
}

// MakeConfig returns the config of an index of kind and metric over dim, with
// nlist and pq_m set when positive (else their defaults).
inline IndexConfig MakeConfig(IndexKind kind, Metric metric, int dim, int nlist = 0, int pq_m = 0) {
	IndexConfig c;
	c.kind = kind;
	c.metric = metric;
	c.dim = dim;
	if (nlist > 0)
		c.nlist = nlist;
	if (pq_m > 0)
		c.pq_m = pq_m;
	return c;
}

// Bitset owns filter bits for a BitsetView (set bit = filtered out).
class Bitset {
public:
	explicit Bitset(size_t nbits) : bits_((nbits + 7) / 8, 0), nbits_(nbits) {}
	// Set filters label out.
	void Set(size_t label) { bits_[label / 8] |= static_cast<uint8_t>(1u << (label % 8)); }
	// View returns a non-owning view of the bits.
	BitsetView View() const { return BitsetView(bits_.data(), nbits_); }

	// Random filters out each label below nbits with probability p.
	static Bitset Random(size_t nbits, double p, uint64_t seed) {
		Bitset b(nbits);
		Rng rng(seed);
		for (size_t i = 0; i < nbits; i++)
			if (rng.Uniform() < p)
				b.Set(i);
		return b;
	}

private:
	std::vector<uint8_t> bits_;
	size_t nbits_;
};

}  // namespace vecdb::knowhere::testutil
