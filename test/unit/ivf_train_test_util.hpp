// ivf_train_test_util.hpp gives the IVF training tests (CPU hook tests and
// GPU tests) one data set, exact answers and a timed build-and-measure step,
// so "recall within 0.01 of CPU training" means the same thing in both.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "index_test_util.hpp"
#include "knowhere/index.hpp"

namespace vecdb::knowhere::testutil {

// kIvfRecall* is the data set and operating point where IVF training on
// another device is compared with FAISS on the CPU: 50,000 x 32 rows from 500
// overlapping clusters, nlist 256, nprobe 16 (recall@10 about 0.94).
constexpr size_t kIvfRecallRows = 50000;
constexpr int kIvfRecallDim = 32;
constexpr int kIvfRecallClusters = 500;
constexpr int kIvfRecallLists = 256;
constexpr int kIvfRecallProbes = 16;

// IvfRecallData is a clustered base, held-out queries and their exact top k.
struct IvfRecallData {
	Metric metric = Metric::kL2;
	int dim = 0;
	size_t n = 0, nq = 0, k = 0;
	std::vector<float> base, queries;
	std::vector<int64_t> labels, truth;
};

// MakeIvfRecallData draws n rows and nq queries from one Gaussian mixture of
// clusters clusters and finds each query's exact top k with a FLAT index.
inline IvfRecallData MakeIvfRecallData(Metric metric, size_t n, int dim, int clusters, size_t nq, size_t k,
									   uint64_t seed) {
	IvfRecallData d;
	d.metric = metric;
	d.dim = dim;
	d.n = n;
	d.nq = nq;
	d.k = k;
	GaussianMixture g = GaussianMixture::Make(dim, clusters, seed, 0.3, 0.1, 0.5);
	d.base = g.Sample(n, seed + 1);
	d.queries = g.Sample(nq, seed + 2);
	d.labels.resize(n);
	for (size_t i = 0; i < n; i++)
		d.labels[i] = static_cast<int64_t>(i);
	IndexConfig c;
	c.kind = IndexKind::kFlat;
	c.metric = metric;
	c.dim = dim;
	auto flat = CreateIndex(c);
	d.truth.assign(nq * k, -1);
	if (!flat.ok() || !flat.value()->Add(d.base.data(), d.labels.data(), n).ok())
		return d;
	SearchParams p;
	p.threads = 4;
	std::vector<float> dist(nq * k);
	(void) flat.value()->Search(d.queries.data(), nq, k, p, {}, d.truth.data(), dist.data());
	return d;
}

// IvfRecallRun is one index trained and searched over an IvfRecallData.
struct IvfRecallRun {
	Status status;
	double recall = 0;
	double train_seconds = 0;
	std::string serialized;  /* the trained, filled index's bytes */
};

// RunIvfRecall trains an index of config on the base (timed), adds the base,
// searches every query at nprobe and returns recall@k against the truth.
inline IvfRecallRun RunIvfRecall(const IndexConfig &config, const IvfRecallData &d, int nprobe) {
	IvfRecallRun r;
	auto made = CreateIndex(config);
	if (!made.ok()) {
		r.status = made.status();
		return r;
	}
	Index &index = *made.value();
	auto t0 = std::chrono::steady_clock::now();
	r.status = index.Train(d.base.data(), d.n);
	r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	if (!r.status.ok())
		return r;
	r.status = index.Add(d.base.data(), d.labels.data(), d.n);
	if (!r.status.ok())
		return r;
	SearchParams p;
	p.nprobe = nprobe;
	p.threads = 4;
	std::vector<int64_t> got(d.nq * d.k);
	std::vector<float> dist(d.nq * d.k);
	r.status = index.Search(d.queries.data(), d.nq, d.k, p, {}, got.data(), dist.data());
	if (!r.status.ok())
		return r;
	size_t hit = 0;
	for (size_t q = 0; q < d.nq; q++)
		for (size_t i = 0; i < d.k; i++)
			for (size_t j = 0; j < d.k; j++)
				if (d.truth[q * d.k + i] >= 0 && got[q * d.k + j] == d.truth[q * d.k + i]) {
					hit++;
					break;
				}
	r.recall = static_cast<double>(hit) / static_cast<double>(d.nq * d.k);
	StringWriter w;
	r.status = index.Serialize(w);
	r.serialized = w.bytes();
	return r;
}

}  // namespace vecdb::knowhere::testutil
