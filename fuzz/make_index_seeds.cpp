// make_index_seeds.cpp writes the seed corpus of fuzz_index: a small
// serialized index of every kind and metric, filled and empty, one file each.
//
// Usage: make_index_seeds DIR
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "knowhere/index.hpp"
#include "knowhere/sparse_index.hpp"

using namespace vecdb::knowhere;

namespace {

// Seed is one index to write: its file name and config.
struct Seed {
	const char *name;
	IndexKind kind;
	Metric metric;
	int dim;
};

// Rows returns n rows for config: uniform floats in [-1, 1) or random bits
// (padding bits zero).
std::vector<uint8_t> Rows(const IndexConfig &config, size_t n, uint64_t seed) {
	std::mt19937_64 rng(seed);
	if (IsBinaryKind(config.kind)) {
		size_t nbytes = (static_cast<size_t>(config.dim) + 7) / 8;
		/* bit 0 is the high bit of byte 0: the padding is the last byte's low bits */
		uint8_t last = static_cast<uint8_t>(0xff << (nbytes * 8 - config.dim));
		std::vector<uint8_t> out(n * nbytes);
		for (size_t i = 0; i < out.size(); i++)
			out[i] = static_cast<uint8_t>(rng()) & (i % nbytes == nbytes - 1 ? last : 0xff);
		return out;
	}
	std::vector<float> f(n * config.dim);
	for (auto &v : f)
		v = static_cast<float>(static_cast<double>(rng() >> 11) / 4503599627370496.0 - 1.0);
	std::vector<uint8_t> out(f.size() * sizeof(float));
	std::memcpy(out.data(), f.data(), out.size());
	return out;
}

// Write serializes index (an Index or a SparseIndex) to dir/name and reports failures.
template <typename IndexT>
bool Write(const IndexT &index, const std::string &path) {
	StringWriter w;
	Status s = index.Serialize(w);
	if (!s.ok()) {
		std::fprintf(stderr, "%s: %s\n", path.c_str(), s.message().c_str());
		return false;
	}
	FILE *f = std::fopen(path.c_str(), "wb");
	if (f == nullptr || std::fwrite(w.bytes().data(), 1, w.bytes().size(), f) != w.bytes().size()) {
		std::perror(path.c_str());
		return false;
	}
	return std::fclose(f) == 0;
}

// WriteSparseSeeds writes a SPARSE_INVERTED index per metric, filled (30
// rows of a few non-zeros over 50 dimensions) and empty.
int WriteSparseSeeds(const std::string &dir) {
	int failures = 0;
	for (Metric metric : {Metric::kInnerProduct, Metric::kCosine, Metric::kL2}) {
		IndexConfig config;
		config.kind = IndexKind::kSparseInverted;
		config.metric = metric;
		config.dim = 50;
		std::string name = metric == Metric::kL2 ? "sparse_l2" : metric == Metric::kCosine ? "sparse_cosine" : "sparse_ip";
		for (size_t n : {size_t{30}, size_t{0}}) {
			auto made = CreateSparseIndex(config);
			if (!made.ok()) {
				failures++;
				continue;
			}
			std::mt19937_64 rng(n + static_cast<size_t>(metric));
			std::vector<std::vector<int32_t>> idx(n);
			std::vector<std::vector<float>> val(n);
			std::vector<SparseRow> rows(n);
			std::vector<int64_t> labels(n);
			for (size_t i = 0; i < n; i++) {
				for (int32_t d = static_cast<int32_t>(rng() % 7); d < 50; d += 1 + static_cast<int32_t>(rng() % 12))
					idx[i].push_back(d);
				for (size_t j = 0; j < idx[i].size(); j++)
					val[i].push_back(0.1f + static_cast<float>(rng() % 100) / 50.0f);
				rows[i] = SparseRow{idx[i].data(), val[i].data(), static_cast<uint32_t>(idx[i].size())};
				labels[i] = static_cast<int64_t>(i);
			}
			Status s = made.value()->Add(rows.data(), labels.data(), n);
			if (!s.ok() || !Write(*made.value(), dir + "/" + name + (n > 0 ? "" : "_empty"))) {
				std::fprintf(stderr, "%s: %s\n", name.c_str(), s.message().c_str());
				failures++;
			}
		}
	}
	return failures;
}

}  // namespace

// main writes one filled and one empty index of every seed config into argv[1].
int main(int argc, char **argv) {
	if (argc != 2) {
		std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	const Seed seeds[] = {
		{"flat_l2", IndexKind::kFlat, Metric::kL2, 8},
		{"flat_ip", IndexKind::kFlat, Metric::kInnerProduct, 8},
		{"flat_cosine", IndexKind::kFlat, Metric::kCosine, 8},
		{"flat_l1", IndexKind::kFlat, Metric::kL1, 8},
		{"hnsw_l2", IndexKind::kHnsw, Metric::kL2, 8},
		{"hnsw_cosine", IndexKind::kHnsw, Metric::kCosine, 8},
		{"hnsw_ip", IndexKind::kHnsw, Metric::kInnerProduct, 8},
		{"ivf_flat_l2", IndexKind::kIvfFlat, Metric::kL2, 8},
		{"ivf_flat_cosine", IndexKind::kIvfFlat, Metric::kCosine, 8},
		{"ivf_pq_l2", IndexKind::kIvfPq, Metric::kL2, 8},
		{"ivf_pq_ip", IndexKind::kIvfPq, Metric::kInnerProduct, 8},
		{"ivf_sq8_l2", IndexKind::kIvfSq8, Metric::kL2, 8},
		{"ivf_sq8_cosine", IndexKind::kIvfSq8, Metric::kCosine, 8},
		{"bin_flat_hamming", IndexKind::kBinFlat, Metric::kHamming, 20},
		{"bin_flat_jaccard", IndexKind::kBinFlat, Metric::kJaccard, 20},
		{"bin_ivf_hamming", IndexKind::kBinIvf, Metric::kHamming, 20},
	};
	std::string dir = argv[1];
	int failures = 0;
	for (const Seed &seed : seeds) {
		IndexConfig config;
		config.kind = seed.kind;
		config.metric = seed.metric;
		config.dim = seed.dim;
		config.m = 4;
		config.ef_construction = 16;
		config.nlist = 4;
		config.pq_m = 2;
		config.nbits = 4;
		config.train_device = TrainDevice::kCpu;
		for (size_t n : {size_t{40}, size_t{0}}) {
			auto made = CreateIndex(config);
			if (!made.ok()) {
				std::fprintf(stderr, "%s: %s\n", seed.name, made.status().message().c_str());
				failures++;
				continue;
			}
			std::unique_ptr<Index> index = std::move(made).value();
			if (n > 0) {
				std::vector<uint8_t> rows = Rows(config, n, 7);
				std::vector<int64_t> labels(n);
				for (size_t i = 0; i < n; i++)
					labels[i] = static_cast<int64_t>(i * 3 % 50);
				Status s = index->Build(rows.data(), labels.data(), n);
				if (!s.ok()) {
					std::fprintf(stderr, "%s: %s\n", seed.name, s.message().c_str());
					failures++;
					continue;
				}
			}
			if (!Write(*index, dir + "/" + seed.name + (n > 0 ? "" : "_empty")))
				failures++;
		}
	}
	failures += WriteSparseSeeds(dir);
	return failures == 0 ? 0 : 1;
}
