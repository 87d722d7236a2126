// bench_sparse.cpp measures SPARSE_INVERTED on a SPLADE-like synthetic set:
// build time, memory, and per search setting QPS and recall@k against exact
// search (one query per call, one thread, the thread's CPU time).
//
// Data: dim terms (30,522, BERT's vocabulary); term ids Zipf-distributed
// (exponent --zipf over ranks, ranks mapped to ids by a fixed shuffle); rows
// of about --nnz distinct terms (uniform in [nnz/2, 3nnz/2]), queries of
// [--qmin, --qmax]; values positive, 0.2 + 2.5 u^2 (most small, a few large,
// as SPLADE weights are).
//
// Usage: bench_sparse [--n 100000] [--queries 1000] [--nnz 120] [--qmin 30]
//                     [--qmax 60] [--dim 30522] [--zipf 1.0] [--k 10] [--seed 42]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "knowhere/sparse_index.hpp"

using namespace vecdb::knowhere;

namespace {

// Options holds the command line.
struct Options {
	size_t n = 100000, queries = 1000, k = 10;
	int nnz = 120, qmin = 30, qmax = 60, dim = 30522;
	double zipf = 1.0;
	uint64_t seed = 42;
};

// ParseOptions reads --name value pairs; an unknown one exits.
Options ParseOptions(int argc, char **argv) {
	Options o;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string name = argv[i];
		const char *v = argv[i + 1];
		if (name == "--n")
			o.n = std::strtoull(v, nullptr, 10);
		else if (name == "--queries")
			o.queries = std::strtoull(v, nullptr, 10);
		else if (name == "--k")
			o.k = std::strtoull(v, nullptr, 10);
		else if (name == "--nnz")
			o.nnz = std::atoi(v);
		else if (name == "--qmin")
			o.qmin = std::atoi(v);
		else if (name == "--qmax")
			o.qmax = std::atoi(v);
		else if (name == "--dim")
			o.dim = std::atoi(v);
		else if (name == "--zipf")
			o.zipf = std::atof(v);
		else if (name == "--seed")
			o.seed = std::strtoull(v, nullptr, 10);
		else {
			std::fprintf(stderr, "unknown option %s\n", name.c_str());
			std::exit(2);
		}
	}
	return o;
}

// SparseSet holds rows in compressed form.
struct SparseSet {
	std::vector<uint64_t> offsets{0};
	std::vector<int32_t> indices;
	std::vector<float> values;

	size_t size() const { return offsets.size() - 1; }
	SparseRow Row(size_t i) const {
		return SparseRow{indices.data() + offsets[i], values.data() + offsets[i],
						 static_cast<uint32_t>(offsets[i + 1] - offsets[i])};
	}
};

// ZipfTerms draws term ids: ranks by inverse CDF, mapped through a shuffle.
class ZipfTerms {
public:
	ZipfTerms(int dim, double s, uint64_t seed) : cdf_(static_cast<size_t>(dim)), id_(static_cast<size_t>(dim)) {
		double sum = 0;
		for (int r = 0; r < dim; r++)
			cdf_[static_cast<size_t>(r)] = sum += 1.0 / std::pow(r + 1.0, s);
		for (double &c : cdf_)
			c /= sum;
		for (int r = 0; r < dim; r++)
			id_[static_cast<size_t>(r)] = r;
		std::mt19937_64 rng(seed);
		std::shuffle(id_.begin(), id_.end(), rng);
	}
	int32_t Draw(std::mt19937_64 &rng) const {
		double u = std::uniform_real_distribution<double>(0, 1)(rng);
		size_t r = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
		return id_[std::min(r, id_.size() - 1)];
	}

private:
	std::vector<double> cdf_;
	std::vector<int32_t> id_;
};

// MakeSet draws n rows of [lo, hi] distinct terms.
SparseSet MakeSet(const ZipfTerms &terms, size_t n, int lo, int hi, uint64_t seed) {
	std::mt19937_64 rng(seed);
	SparseSet s;
	std::vector<int32_t> row;
	for (size_t i = 0; i < n; i++) {
		int want = lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
		row.clear();
		while (static_cast<int>(row.size()) < want) {
			for (int t = static_cast<int>(row.size()); t < want; t++)
				row.push_back(terms.Draw(rng));
			std::sort(row.begin(), row.end());
			row.erase(std::unique(row.begin(), row.end()), row.end());
		}
		for (int32_t t : row) {
			double u = std::uniform_real_distribution<double>(0, 1)(rng);
			s.indices.push_back(t);
			s.values.push_back(static_cast<float>(0.2 + 2.5 * u * u));
		}
		s.offsets.push_back(s.indices.size());
	}
	return s;
}

// ThreadSeconds returns the calling thread's CPU time.
double ThreadSeconds() {
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// RssBytes returns the process' resident set size.
size_t RssBytes() {
	long pages = 0, resident = 0;
	if (FILE *f = std::fopen("/proc/self/statm", "r")) {
		if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		std::fclose(f);
	}
	return static_cast<size_t>(resident) * 4096;
}

// LoadAverage returns the 1-minute load average.
double LoadAverage() {
	double load = -1;
	if (FILE *f = std::fopen("/proc/loadavg", "r")) {
		if (std::fscanf(f, "%lf", &load) != 1)
			load = -1;
		std::fclose(f);
	}
	return load;
}

// Check exits with a message when a Status is not ok.
void Check(const Status &s, const char *what) {
	if (!s.ok()) {
		std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
		std::exit(1);
	}
}

// Setting is one row of the results table.
struct Setting {
	const char *name;
	SparseSearchParams params;
	double allowed; /* fraction of rows a random filter allows (1: no filter) */
};

// RunPass searches every query once; returns the CPU seconds and fills labels.
double RunPass(const SparseIndex &index, const SparseSet &queries, size_t k, const SparseSearchParams &p,
			   BitsetView filter, std::vector<int64_t> *labels) {
	labels->resize(queries.size() * k);
	std::vector<float> distances(k);
	double t0 = ThreadSeconds();
	for (size_t q = 0; q < queries.size(); q++) {
		SparseRow row = queries.Row(q);
		Check(index.Search(&row, 1, k, p, filter, labels->data() + q * k, distances.data()), "search");
	}
	return ThreadSeconds() - t0;
}

// Recall returns the fraction of the exact labels found (per query, as sets).
double Recall(const std::vector<int64_t> &got, const std::vector<int64_t> &exact, size_t k) {
	size_t hits = 0, total = 0;
	for (size_t q = 0; q * k < exact.size(); q++)
		for (size_t i = 0; i < k; i++) {
			int64_t want = exact[q * k + i];
			if (want < 0)
				continue;
			total++;
			hits += std::count(got.begin() + static_cast<std::ptrdiff_t>(q * k),
							   got.begin() + static_cast<std::ptrdiff_t>((q + 1) * k), want);
		}
	return total == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(total);
}

// Filter returns a random bitset over n labels allowing about the fraction allowed.
std::vector<uint8_t> Filter(size_t n, double allowed, uint64_t seed) {
	std::mt19937_64 rng(seed);
	std::vector<uint8_t> bits((n + 7) / 8, 0);
	for (size_t i = 0; i < n; i++)
		if (std::uniform_real_distribution<double>(0, 1)(rng) >= allowed)
			bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
	return bits;
}

// Params makes search parameters.
SparseSearchParams Params(SparseAlgorithm algorithm, float drop, int refine, double ratio = -1) {
	SparseSearchParams p;
	p.algorithm = algorithm;
	p.drop_ratio = drop;
	p.refine = refine;
	p.brute_force_ratio = ratio;
	return p;
}

// RunTable measures each setting: best of 3 passes, recall against the exact
// search under the same filter.
void RunTable(const SparseIndex &index, const SparseSet &queries, const Options &o) {
	const SparseAlgorithm kExact = SparseAlgorithm::kExact, kWand = SparseAlgorithm::kWand;
	const Setting settings[] = {
		{"exact (term at a time)", Params(kExact, 0, 0), 1},
		{"exact, drop_ratio 0.2", Params(kExact, 0.2f, 0), 1},
		{"exact, drop_ratio 0.4", Params(kExact, 0.4f, 0), 1},
		{"exact, drop_ratio 0.4, refine 3", Params(kExact, 0.4f, 3), 1},
		{"exact, drop_ratio 0.6, refine 5", Params(kExact, 0.6f, 5), 1},
		{"wand", Params(kWand, 0, 0), 1},
		{"wand, drop_ratio 0.4", Params(kWand, 0.4f, 0), 1},
		{"wand, drop_ratio 0.4, refine 3", Params(kWand, 0.4f, 3), 1},
		{"scan of every row", Params(kExact, 0, 0, 1.0), 1.0},
		{"exact, 10% allowed", Params(kExact, 0, 0), 0.1},
		{"wand, 10% allowed", Params(kWand, 0, 0), 0.1},
		{"scan, 10% allowed", Params(kExact, 0, 0, 1.0), 0.1},
		{"exact, 1% allowed (default: scan)", Params(kExact, 0, 0), 0.01},
		{"exact, 1% allowed, lists forced", Params(kExact, 0, 0, 0.0), 0.01},
		{"exact, 0.1% allowed (default: scan)", Params(kExact, 0, 0), 0.001},
		{"exact, 0.1% allowed, lists forced", Params(kExact, 0, 0, 0.0), 0.001},
	};
	std::printf("| setting | QPS | ms/query | recall@%zu |\n| --- | --- | --- | --- |\n", o.k);
	for (const Setting &s : settings) {
		std::vector<uint8_t> bits;
		BitsetView filter;
		/* "scan of every row" needs a non-empty filter that allows everything */
		if (s.allowed < 1.0 || s.params.brute_force_ratio == 1.0) {
			bits = Filter(index.count(), s.allowed, o.seed + 7);
			filter = BitsetView(bits.data(), static_cast<size_t>(index.count()));
		}
		std::vector<int64_t> exact, got;
		RunPass(index, queries, o.k, Params(kExact, 0, 0), filter, &exact);
		double best = 1e300;
		for (int pass = 0; pass < 3; pass++)
			best = std::min(best, RunPass(index, queries, o.k, s.params, filter, &got));
		double qps = static_cast<double>(queries.size()) / best;
		std::printf("| %s | %.0f | %.3f | %.4f |\n", s.name, qps, 1000.0 / qps, Recall(got, exact, o.k));
		std::fflush(stdout);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

}  // namespace

// main builds the index and prints the build figures and the table.
int main(int argc, char **argv) {
	Options o = ParseOptions(argc, argv);
	ZipfTerms terms(o.dim, o.zipf, o.seed);
	SparseSet rows = MakeSet(terms, o.n, o.nnz / 2, o.nnz + o.nnz / 2, o.seed + 1);
	SparseSet queries = MakeSet(terms, o.queries, o.qmin, o.qmax, o.seed + 2);
	std::printf("rows %zu x dim %d, %.1f non-zeros a row (%zu in all); %zu queries of %d-%d terms; zipf %.2f\n",
				rows.size(), o.dim, static_cast<double>(rows.indices.size()) / static_cast<double>(rows.size()),
				rows.indices.size(), queries.size(), o.qmin, o.qmax, o.zipf);

	IndexConfig c;
	c.kind = IndexKind::kSparseInverted;
	c.metric = Metric::kInnerProduct;
	c.dim = o.dim;
	auto made = CreateSparseIndex(c);
	Check(made.status(), "create");
	std::unique_ptr<SparseIndex> index = std::move(made).value();
	std::vector<SparseRow> batch(rows.size());
	std::vector<int64_t> labels(rows.size());
	for (size_t i = 0; i < rows.size(); i++) {
		batch[i] = rows.Row(i);
		labels[i] = static_cast<int64_t>(i);
	}
	size_t rss0 = RssBytes();
	auto t0 = std::chrono::steady_clock::now();
	double cpu0 = ThreadSeconds();
	Check(index->Add(batch.data(), labels.data(), batch.size()), "add");
	double build_cpu = ThreadSeconds() - cpu0;
	double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	size_t rss1 = RssBytes();
	StringWriter w;
	Check(index->Serialize(w), "serialize");
	auto t1 = std::chrono::steady_clock::now();
	MemoryReader reader(w.bytes().data(), w.bytes().size());
	auto loaded = DeserializeSparseIndex(reader);
	Check(loaded.status(), "deserialize");
	double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
	std::printf("build %.2f s wall, %.2f s CPU (1 thread); MemoryUsage %.1f MB (estimate %.1f MB, RSS growth %.1f MB); "
				"serialized %.1f MB, loaded in %.2f s\n\n",
				build, build_cpu, index->MemoryUsage() / 1e6, EstimateSparseMemory(rows.size(), index->nnz()) / 1e6,
				(static_cast<double>(rss1) - static_cast<double>(rss0)) / 1e6, w.bytes().size() / 1e6, load);
	RunTable(*index, queries, o);
	return 0;
}
