// dataset.hpp generates the engine benchmark's data set: a seeded Gaussian
// mixture in the spirit of bench/harness.py (Zipf-like cluster sizes,
// weight 1/i^0.7; per-cluster random rotation and log-uniform axis scales in
// [0.05, 1.5]; centres N(0, 4^2)), with held-out queries from the same
// mixture. It does not reproduce numpy's draws bit for bit; raw float32 files
// (e.g. the harness' arrays) can be loaded instead.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace vecdb::bench {

// Normal01 draws standard normal values from a seeded 64-bit Mersenne twister
// with its own Box-Muller transform (std::normal_distribution differs
// between standard libraries).
class Normal01 {
public:
	explicit Normal01(uint64_t seed) : gen_(seed) {}
	// Uniform returns a double in [0, 1).
	double Uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }
	// Next returns one standard normal draw.
	double Next() {
		double u1 = Uniform(), u2 = Uniform();
		return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
	}

private:
	std::mt19937_64 gen_;
};

// Mixture is the generator: per cluster a centre, a rotation and axis scales.
struct Mixture {
	int dim = 0;
	std::vector<double> weights;                 /* cumulative */
	std::vector<std::vector<float>> centres;     /* dim each */
	std::vector<std::vector<float>> rotations;   /* dim x dim, row-major */
	std::vector<std::vector<float>> scales;      /* dim each */

	// Make draws the mixture's clusters.
	static Mixture Make(int dim, int clusters, uint64_t seed) {
		Mixture m;
		m.dim = dim;
		Normal01 rng(seed);
		double total = 0;
		for (int c = 0; c < clusters; c++) {
			total += 1.0 / std::pow(c + 1.0, 0.7);
			m.weights.push_back(total);
		}
		for (double &w : m.weights)
			w /= total;
		for (int c = 0; c < clusters; c++) {
			std::vector<float> centre(dim), scale(dim);
			for (float &x : centre)
				x = static_cast<float>(4.0 * rng.Next());
			m.centres.push_back(centre);
			m.rotations.push_back(RandomRotation(dim, &rng));
			for (float &s : scale)
				s = static_cast<float>(std::exp(std::log(0.05) + rng.Uniform() * (std::log(1.5) - std::log(0.05))));
			m.scales.push_back(scale);
		}
		return m;
	}

	// Sample draws n rows (row-major float32).
	std::vector<float> Sample(size_t n, uint64_t seed) const {
		Normal01 rng(seed);
		std::vector<float> out(n * static_cast<size_t>(dim));
		std::vector<float> z(dim);
		for (size_t i = 0; i < n; i++) {
			double u = rng.Uniform();
			size_t c = 0;
			while (c + 1 < weights.size() && weights[c] <= u)
				c++;
			for (int j = 0; j < dim; j++)
				z[j] = static_cast<float>(rng.Next()) * scales[c][j];
			float *x = out.data() + i * dim;
			const float *r = rotations[c].data();
			for (int a = 0; a < dim; a++) {
				double s = centres[c][a];
				for (int b = 0; b < dim; b++)
					s += static_cast<double>(r[a * dim + b]) * z[b];
				x[a] = static_cast<float>(s);
			}
		}
		return out;
	}

	// RandomRotation returns a random orthogonal matrix: Gram-Schmidt on a
	// Gaussian matrix (numpy's QR, up to column signs).
	static std::vector<float> RandomRotation(int dim, Normal01 *rng) {
		std::vector<double> q(static_cast<size_t>(dim) * dim);
		for (double &x : q)
			x = rng->Next();
		for (int col = 0; col < dim; col++) {
			for (int prev = 0; prev < col; prev++) {
				double dot = 0;
				for (int r = 0; r < dim; r++)
					dot += q[r * dim + col] * q[r * dim + prev];
				for (int r = 0; r < dim; r++)
					q[r * dim + col] -= dot * q[r * dim + prev];
			}
			double norm = 0;
			for (int r = 0; r < dim; r++)
				norm += q[r * dim + col] * q[r * dim + col];
			norm = std::sqrt(norm);
			for (int r = 0; r < dim; r++)
				q[r * dim + col] /= norm;
		}
		return std::vector<float>(q.begin(), q.end());
	}
};

// LoadRaw reads a file of little-endian float32 rows of dim floats.
inline std::vector<float> LoadRaw(const std::string &path, int dim) {
	FILE *f = std::fopen(path.c_str(), "rb");
	if (f == nullptr)
		throw std::runtime_error("cannot open " + path);
	std::fseek(f, 0, SEEK_END);
	long bytes = std::ftell(f);
	std::fseek(f, 0, SEEK_SET);
	size_t rows = static_cast<size_t>(bytes) / (sizeof(float) * dim);
	std::vector<float> out(rows * dim);
	size_t got = std::fread(out.data(), sizeof(float) * dim, rows, f);
	std::fclose(f);
	if (got != rows)
		throw std::runtime_error("short read from " + path);
	return out;
}

}  // namespace vecdb::bench
