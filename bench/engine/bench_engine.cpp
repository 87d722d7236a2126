// bench_engine.cpp measures the engine against its own exact search and
// against the raw libraries it wraps, one query per call (as the access
// method calls it), single-threaded search, k = 10:
//
//   switch  filtered HNSW and IVF_FLAT search vs exact search over the
//           allowed rows at allowed fractions 0.1% .. 50%: where brute force
//           stops being faster (SearchParams::brute_force_ratio's default);
//           a 100% row (no filter) is the unfiltered reference, and the
//           one-hop columns run HNSW's filtered walk with two_hop_ratio 0;
//   switch-iter  the same through the iterator, as the access method reads
//           it (am_scan.cpp): CreateIterator with the filter, then Next in
//           batches of max(16, ef_search), doubling up to 4096, until k rows;
//   hnsw    engine HNSW vs hnswlib's HierarchicalNSW::searchKnn on the same
//           graph (the engine's graph copied into a HierarchicalNSW with
//           hnswlib's own L2 space), ef 40/80/160/320; and build wall time,
//           engine vs hnswlib's addPoint, 1 and 2 threads;
//   ivf     engine IVF_FLAT vs faiss::IndexIVFFlat over the same centroids
//           and rows, nprobe 4/8/16/32;
//   sq      HNSW_SQ (4- or 8-bit codes in memory, rows re-ranked from a
//           RowSource over the base rows in memory) vs the float32 graph it
//           was built as (the same graph), through the iterator, ef 10 ..
//           640 (--sq-ef), re-rank depths 1, 2, 4 and 8; stored bytes of
//           each (not part of all; --sq-bits 8[,4]);
//   build   HNSW build time alone (m 16, ef_construction 64): the engine's
//           Build at 1 and 2 threads, wall and CPU seconds, an FNV-1a hash of
//           the serial graph's serialized bytes (two versions of the build
//           code that give the same hash built the same graph) and recall@10
//           of the serial graph at ef 40 and 80 (not part of all);
//   reach   HNSW built with and without HnswBuildOptions::repair_reach, 1
//           and 2 threads: build time, rows a search for their own vector
//           misses, recall@10 and QPS at ef 40 .. 640 (not part of all);
//   filter-sweep  HNSW's filtered walk through the iterator, one hop vs two
//           hops (8/16/32 picks), allowed 5% .. 100%, ef_search 20 .. 320
//           (not part of all);
//   switch-sweep  where the exact scan should take over from HNSW's
//           filtered walk (the default hop choice), through the iterator:
//           allowed 1% .. 30% x ef_search 10 .. 160, the walk's QPS and
//           recall against the exact scan's QPS, and the default switch
//           (DefaultBruteForceRatio) for this row count and dimension
//           (not part of all);
//   layer1  the unfiltered search through the iterator with layer-1 beams
//           of width 8, 16, 32 and 1, 2, 4 x ef_search (the default: 1 x),
//           at each --sweep-ef, on one graph (not part of all);
//   filter-ratio  HNSW built without and with the reach repair: the
//           iterator unfiltered and at 1%, 10%, 50% allowed (default
//           strategy) at each --sweep-ef, then QPS at recall 0.90 / 0.95 and
//           filtered over unfiltered (not part of all);
//   exact-scan  the exact scan (BruteForceSearch, k 10) over rows laid out
//           as in an HNSW m 16 level-0 block (each row followed by its links
//           and label), 1%, 10% and 50% of them allowed: the listed allowed
//           rows (how HnswSearcher::ExactRows hands them over when labels
//           are 0 .. n-1) and the whole block with the filter tested in
//           place (not part of all).
//
// Usage: bench_engine [switch|switch-iter|hnsw|ivf|sq|build|reach|filter-sweep|switch-sweep|exact-scan|layer1|filter-ratio|all ...] [--sq-bits 8,4] [--sq-ef 10,20,...]
//        [--n 100000] [--dim 128]
//        [--queries 1000] [--clusters 100] [--seed 42] [--nlist 316]
//        [--switch-nprobe 16[,32...]] [--switch-kinds hnsw,ivf] [--raw BASE.f32,QUERIES.f32] [--quick]
//        [--sweep-allowed 0.05,...,1] [--sweep-ef 20,...,320] (filter-sweep's grid; layer1's ef_search)
// (--raw: the first --n rows of BASE when --n is given, else all of them;
// --quick: hnsw builds only the engine's serial graph, for search work;
// switch and switch-iter build each index once and print one IVF table per
// --switch-nprobe value).
// Output: markdown tables on stdout. Recall@10 is the share of the exact
// top 10 (of the rows the filter allows) that a search returns. QPS is
// queries per second of the searching thread's CPU time (the machines we
// share move wall time with other people's work); build times are wall time.
// Each table ends with the 1-minute load average.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <hnswlib/hnswlib.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataset.hpp"
#include "knowhere/brute_force.hpp"
#include "knowhere/hnsw_index.hpp"
#include "knowhere/index.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/sq_codec.hpp"

using namespace vecdb::knowhere;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kK = 10;

// Options holds the command line.
struct Options {
	std::vector<std::string> modes;
	size_t n = 100000;
	bool n_given = false;
	int dim = 128;
	size_t queries = 1000;
	int clusters = 100;
	uint64_t seed = 42;
	int nlist = 316;
	std::vector<int> switch_nprobes = {16};
	bool quick = false;
	std::string switch_kinds = "hnsw,ivf";
	std::string raw;
	std::vector<int> sq_bits = {8};
	std::vector<int> sq_efs = {10, 20, 40, 80, 160, 320, 640};
	std::vector<double> sweep_allowed = {0.05, 0.10, 0.20, 0.30, 0.50, 1.0};
	std::vector<int> sweep_efs = {20, 40, 80, 160, 320};
};

// Data is the base rows, queries and labels (0 .. n-1).
struct Data {
	int dim;
	size_t n, nq;
	std::vector<float> base, queries;
	std::vector<int64_t> labels;
};

// Seconds returns the seconds since t0.
double Seconds(Clock::time_point t0) {
	return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ThreadSeconds returns the calling thread's CPU time: on a shared machine it
// moves much less with other people's load than wall time does.
double ThreadSeconds() {
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
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

// MakeData generates (or loads) the data set.
Data MakeData(const Options &o) {
	Data d;
	d.dim = o.dim;
	if (!o.raw.empty()) {
		size_t comma = o.raw.find(',');
		d.base = vecdb::bench::LoadRaw(o.raw.substr(0, comma), o.dim);
		d.queries = vecdb::bench::LoadRaw(o.raw.substr(comma + 1), o.dim);
		if (o.n_given && d.base.size() > o.n * static_cast<size_t>(o.dim))
			d.base.resize(o.n * static_cast<size_t>(o.dim));
	} else {
		vecdb::bench::Mixture m = vecdb::bench::Mixture::Make(o.dim, o.clusters, o.seed);
		d.base = m.Sample(o.n, o.seed + 1);
		d.queries = m.Sample(o.queries, o.seed + 2);
	}
	d.n = d.base.size() / o.dim;
	d.nq = d.queries.size() / o.dim;
	d.labels.resize(d.n);
	std::iota(d.labels.begin(), d.labels.end(), 0);
	return d;
}

// Filter owns a bitset that allows each row with probability fraction.
struct Filter {
	std::vector<uint8_t> bits;
	size_t n = 0;
	size_t allowed = 0;
	BitsetView View() const { return bits.empty() ? BitsetView() : BitsetView(bits.data(), n); }
};

// MakeFilter draws a random filter (a set bit filters a row out).
Filter MakeFilter(size_t n, double fraction, uint64_t seed) {
	Filter f;
	if (fraction >= 1.0) {
		f.allowed = n;
		f.n = n;
		return f;
	}
	f.n = n;
	f.bits.assign((n + 7) / 8, 0);
	vecdb::bench::Normal01 rng(seed);
	for (size_t i = 0; i < n; i++) {
		if (rng.Uniform() < fraction)
			f.allowed++;
		else
			f.bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
	}
	return f;
}

// Truth returns the exact top k labels per query over the allowed rows
// (engine FLAT, two threads: not timed).
std::vector<int64_t> Truth(const Data &d, const Filter &f) {
	IndexConfig c;
	c.kind = IndexKind::kFlat;
	c.dim = d.dim;
	auto flat = std::move(CreateIndex(c)).value();
	Check(flat->Add(d.base.data(), d.labels.data(), d.n), "flat add");
	SearchParams p;
	p.threads = 2;
	std::vector<int64_t> labels(d.nq * kK);
	std::vector<float> dist(d.nq * kK);
	Check(flat->Search(d.queries.data(), d.nq, kK, p, f.View(), labels.data(), dist.data()), "flat search");
	return labels;
}

// Recall returns the share of true neighbours found.
double Recall(const std::vector<int64_t> &truth, const std::vector<int64_t> &got, size_t nq) {
	size_t hit = 0, total = 0;
	for (size_t q = 0; q < nq; q++) {
		std::set<int64_t> t;
		for (size_t j = 0; j < kK; j++)
			if (truth[q * kK + j] >= 0)
				t.insert(truth[q * kK + j]);
		total += t.size();
		for (size_t j = 0; j < kK; j++)
			hit += t.count(got[q * kK + j]);
	}
	return total == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(total);
}

// Run is the timing of one search over the queries.
struct Run {
	double qps;
	double recall;
	bool cut; /* over the queries reached in kMaxPassSeconds only */
};

// SearchFn answers one query: writes k labels.
using SearchFn = std::function<void(const float *, int64_t *)>;

// kRounds is how many timed passes each search gets; passes of the searches
// compared in one table row alternate, and each keeps its fastest pass, so
// other people's load on a shared machine hits all of them alike.
constexpr int kRounds = 3;
// kMaxPassSeconds cuts a pass short (a filtered HNSW search of 0.1% of the
// rows takes ~50 ms a query): such a search gets one pass over the queries
// it reached in that time, its recall over those, marked '*' in the table.
constexpr double kMaxPassSeconds = 5.0;

// TimeQueries runs each search over the queries (after 10 warm-up queries)
// kRounds times, alternating, and returns per search its best QPS (queries
// per second of this thread's CPU time) and recall@10.
std::vector<Run> TimeQueries(const Data &d, const std::vector<int64_t> &truth, const std::vector<SearchFn> &searches) {
	std::vector<Run> runs(searches.size(), Run{0, 0, false});
	std::vector<int64_t> got(d.nq * kK, -1);
	for (const SearchFn &search : searches)
		for (size_t q = 0; q < std::min<size_t>(10, d.nq); q++)
			search(d.queries.data() + q * d.dim, got.data() + q * kK);
	for (int round = 0; round < kRounds; round++) {
		for (size_t i = 0; i < searches.size(); i++) {
			if (runs[i].cut)
				continue;
			double t0 = ThreadSeconds(), secs = 0;
			size_t done = 0;
			while (done < d.nq && secs < kMaxPassSeconds) {
				searches[i](d.queries.data() + done * d.dim, got.data() + done * kK);
				done++;
				secs = ThreadSeconds() - t0;
			}
			runs[i].qps = std::max(runs[i].qps, static_cast<double>(done) / secs);
			runs[i].recall = Recall(truth, got, done);
			runs[i].cut = done < d.nq;
		}
	}
	return runs;
}

// Mark returns "*" for a pass cut short, else "".
const char *Mark(const Run &r) {
	return r.cut ? "*" : "";
}

// PrintRow prints one table row: ef_search, then QPS (recall) of each run.
void PrintRow(int ef, const std::vector<Run> &runs) {
	std::printf("| %d |", ef);
	for (const Run &x : runs)
		std::printf(" %.0f%s (%.4f) |", x.qps, Mark(x), x.recall);
	std::printf("\n");
	std::fflush(stdout);
}

// EngineSearch returns a per-query search function over an engine index.
SearchFn EngineSearch(const Index &index, const SearchParams &p, BitsetView filter) {
	return [&index, p, filter](const float *q, int64_t *out) {
		float dist[kK];
		Check(index.Search(q, 1, kK, p, filter, out, dist), "search");
	};
}

// kFirstBatch and kMaxBatch are the access method's iterator batch bounds
// (am_scan.cpp): its first Next asks for max(kFirstBatch, ef_search) rows,
// each later one for twice as many, at most kMaxBatch.
constexpr size_t kFirstBatch = 16;
constexpr size_t kMaxBatch = 4096;

// IteratorSearch returns a per-query search function that reads k rows the
// way an index scan with LIMIT k does: CreateIterator with the filter, then
// Next in growing batches until k rows came (or none are left).
SearchFn IteratorSearch(const Index &index, const SearchParams &p, BitsetView filter) {
	return [&index, p, filter](const float *q, int64_t *out) {
		auto made = index.CreateIterator(q, p, filter);
		Check(made.status(), "create iterator");
		std::unique_ptr<Iterator> it = std::move(made).value();
		std::vector<Neighbor> batch;
		size_t got = 0, ask = std::max(kFirstBatch, static_cast<size_t>(p.ef_search));
		while (got < kK) {
			batch.clear();
			Check(it->Next(ask, &batch), "iterator next");
			if (batch.empty())
				break;
			for (size_t i = 0; i < batch.size() && got < kK; i++)
				out[got++] = batch[i].label;
			ask = std::min(ask * 2, kMaxBatch);
		}
		for (; got < kK; got++)
			out[got] = -1;
	};
}

// BuildEngine builds an engine index and returns it with its wall time.
std::unique_ptr<Index> BuildEngine(const Data &d, IndexConfig c, double *secs) {
	auto index = std::move(CreateIndex(c)).value();
	Clock::time_point t0 = Clock::now();
	Check(index->Build(d.base.data(), d.labels.data(), d.n), "build");
	*secs = Seconds(t0);
	return index;
}

// Load reads a trivially copyable value from a byte cursor.
template <typename T>
T Load(const uint8_t *&p) {
	T v;
	std::memcpy(&v, p, sizeof(T));
	p += sizeof(T);
	return v;
}

// StoredHnswMeta mirrors the meta section of a serialized HNSW index
// (HnswMeta in hnsw_serialize.cpp).
struct StoredHnswMeta {
	uint32_t m, ef_construction;
	uint64_t seed;
	int32_t max_level;
	uint32_t flags;
	int64_t entry;
	uint64_t count, per_element, offset_data, per_level, upper_bytes;
	int64_t min_label, max_label;
};

// RawGraphFrom copies the graph of a serialized engine HNSW index (sections
// in hnsw_serialize.cpp, framing in serialize.hpp: meta, hnswlib's level-0 block,
// labels, levels, upper-list offsets, label order, upper lists, each 64-byte
// aligned) into a HierarchicalNSW with hnswlib's L2 space (same layout).
std::unique_ptr<hnswlib::HierarchicalNSW<float>> RawGraphFrom(const std::string &bytes, int dim,
																hnswlib::SpaceInterface<float> *space) {
	const uint8_t *base = reinterpret_cast<const uint8_t *>(bytes.data());
	uint64_t at = AlignUp(sizeof(IndexHeader));
	const uint8_t *p = base + at;
	StoredHnswMeta meta = Load<StoredHnswMeta>(p);
	size_t n = static_cast<size_t>(meta.count);
	auto g = std::make_unique<hnswlib::HierarchicalNSW<float>>(space, n, meta.m, meta.ef_construction);
	if (g->size_data_per_element_ != meta.per_element || g->data_size_ != dim * sizeof(float))
		Check(Status::Internal("hnswlib layout differs from the engine's"), "raw graph");
	/* next returns the start of the section after `bytes` more bytes */
	auto next = [&](uint64_t section_bytes) {
		at = AlignUp(at + section_bytes);
		return base + at;
	};
	const uint8_t *level0 = next(sizeof(StoredHnswMeta));
	std::memcpy(g->data_level0_memory_, level0, n * meta.per_element);
	const uint8_t *labels = next(n * meta.per_element);
	const uint8_t *levels = next(n * sizeof(int64_t));
	const uint8_t *offsets = next(n * sizeof(int32_t));
	const uint8_t *by_label = next(n * sizeof(uint64_t));
	const uint8_t *upper = next(n * sizeof(uint32_t));
	(void) labels;
	(void) by_label;
	for (size_t i = 0; i < n; i++) {
		int32_t level;
		uint64_t off;
		std::memcpy(&level, levels + i * sizeof(int32_t), sizeof(level));
		std::memcpy(&off, offsets + i * sizeof(uint64_t), sizeof(off));
		g->element_levels_[i] = level;
		g->linkLists_[i] = nullptr;
		if (level > 0) {
			size_t bytes_needed = g->size_links_per_element_ * level + sizeof(hnswlib::tableint);
			g->linkLists_[i] = static_cast<char *>(std::calloc(1, bytes_needed));
			std::memcpy(g->linkLists_[i], upper + off, g->size_links_per_element_ * level);
		}
		g->label_lookup_[g->getExternalLabel(static_cast<hnswlib::tableint>(i))] = static_cast<hnswlib::tableint>(i);
	}
	g->cur_element_count = n;
	g->enterpoint_node_ = static_cast<hnswlib::tableint>(meta.entry);
	g->maxlevel_ = meta.max_level;
	return g;
}

// RawSearch returns a per-query searchKnn function over a hnswlib graph.
SearchFn RawSearch(hnswlib::HierarchicalNSW<float> &g) {
	return [&g](const float *q, int64_t *out) {
		auto res = g.searchKnn(q, kK);
		size_t i = res.size();
		for (size_t j = i; j < kK; j++)
			out[j] = -1;
		while (!res.empty()) {
			out[--i] = static_cast<int64_t>(res.top().second);
			res.pop();
		}
	};
}

// BuildRawHnsw builds hnswlib's own graph with addPoint on `threads` threads.
std::unique_ptr<hnswlib::HierarchicalNSW<float>> BuildRawHnsw(const Data &d, hnswlib::SpaceInterface<float> *space,
															   int threads, double *secs) {
	auto g = std::make_unique<hnswlib::HierarchicalNSW<float>>(space, d.n, 16, 64, 42);
	std::atomic<size_t> next{0};
	Clock::time_point t0 = Clock::now();
	auto work = [&] {
		for (size_t i; (i = next.fetch_add(1)) < d.n;)
			g->addPoint(d.base.data() + i * d.dim, static_cast<hnswlib::labeltype>(i));
	};
	std::vector<std::thread> pool;
	for (int t = 1; t < threads; t++)
		pool.emplace_back(work);
	work();
	for (std::thread &t : pool)
		t.join();
	*secs = Seconds(t0);
	return g;
}

// BenchHnsw compares engine HNSW with hnswlib on the same graph, and builds
// (quick: only the engine's serial builds, no hnswlib-built graph).
void BenchHnsw(const Data &d, bool quick) {
	std::vector<int64_t> truth = Truth(d, Filter());
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = d.dim;
	c.m = 16;
	c.ef_construction = 64;
	double engine_build[2] = {0, 0}, raw_build[2] = {0, 0}, greedy_build = 0;
	c.threads = 2;
	if (!quick)
		BuildEngine(d, c, &engine_build[1]);
	c.threads = 1;
	std::unique_ptr<Index> engine = BuildEngine(d, c, &engine_build[0]);
	/* the same serial build (it is deterministic) searched without the beam */
	HnswBuildOptions greedy_options;
	greedy_options.layer1_beam = false;
	std::unique_ptr<Index> greedy = std::move(NewHnswIndexWithOptions(c, greedy_options)).value();
	Clock::time_point t0 = Clock::now();
	Check(greedy->Build(d.base.data(), d.labels.data(), d.n), "build");
	greedy_build = Seconds(t0);
	hnswlib::L2Space space(static_cast<size_t>(d.dim));
	std::unique_ptr<hnswlib::HierarchicalNSW<float>> own;
	if (!quick) {
		BuildRawHnsw(d, &space, 2, &raw_build[1]);
		own = BuildRawHnsw(d, &space, 1, &raw_build[0]);
	}
	StringWriter w, w2;
	Check(engine->Serialize(w), "serialize");
	Check(greedy->Serialize(w2), "serialize");
	if (w.bytes() != w2.bytes()) {
		std::fprintf(stderr, "two serial builds gave different graphs\n");
		std::exit(1);
	}
	std::unique_ptr<hnswlib::HierarchicalNSW<float>> same = RawGraphFrom(w.bytes(), d.dim, &space);

	std::printf("\n### HNSW build, m 16, ef_construction 64, %zu x %d (wall seconds)\n\n", d.n, d.dim);
	std::printf("| threads | engine Build | hnswlib addPoint |\n| --- | --- | --- |\n");
	for (int t = 0; t < 2; t++)
		std::printf("| %d | %.1f | %.1f |\n", t + 1, engine_build[t], raw_build[t]);
	std::printf("\n(second engine serial build: %.1f s) load average %.2f\n", greedy_build, LoadAverage());

	std::printf("\n### HNSW search, one query per call, 1 thread, k 10 (%zu queries)\n\n", d.nq);
	std::printf("engine: default search (layer-1 beam of width ef); engine greedy: layer1_beam off, the search "
				"hnswlib's searchKnn does; hnswlib same graph: searchKnn over the engine's graph; hnswlib own graph: "
				"searchKnn over hnswlib's addPoint graph.\n\n");
	std::printf("| ef | engine QPS | engine recall | engine greedy QPS | engine greedy recall | hnswlib same graph "
				"QPS | hnswlib same graph recall | greedy / hnswlib QPS | hnswlib own graph QPS | own graph recall |\n");
	std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (int ef : {40, 80, 160, 320}) {
		SearchParams p;
		p.ef_search = ef;
		same->setEf(static_cast<size_t>(ef));
		std::vector<SearchFn> fns = {EngineSearch(*engine, p, {}), EngineSearch(*greedy, p, {}), RawSearch(*same)};
		if (own) {
			own->setEf(static_cast<size_t>(ef));
			fns.push_back(RawSearch(*own));
		}
		std::vector<Run> r = TimeQueries(d, truth, fns);
		Run o = own ? r[3] : Run{0, 0, false};
		std::printf("| %d | %.0f | %.4f | %.0f | %.4f | %.0f | %.4f | %.2f | %.0f | %.4f |\n", ef, r[0].qps, r[0].recall,
					r[1].qps, r[1].recall, r[2].qps, r[2].recall, r[1].qps / r[2].qps, o.qps, o.recall);
		std::fflush(stdout);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// RawIvfFrom builds a faiss::IndexIVFFlat over the centroids of a serialized
// engine IVF_FLAT index (its FAISS blob ends the payload) and adds the rows.
std::unique_ptr<faiss::IndexIVFFlat> RawIvfFrom(const std::string &bytes, const Data &d, double *add_secs) {
	const uint8_t *p = reinterpret_cast<const uint8_t *>(bytes.data()) + sizeof(IndexHeader) + sizeof(uint64_t) +
		sizeof(uint32_t) + 4 * sizeof(int32_t) + sizeof(uint64_t) + sizeof(uint8_t);
	uint64_t raw_floats = Load<uint64_t>(p);
	p += raw_floats * sizeof(float);
	uint64_t blob_len = Load<uint64_t>(p);
	faiss::VectorIOReader blob;
	blob.data.assign(p, p + blob_len);
	std::unique_ptr<faiss::Index> engine_faiss(faiss::read_index(&blob));
	auto *ivf = dynamic_cast<faiss::IndexIVF *>(engine_faiss.get());
	auto *centroids = dynamic_cast<faiss::IndexFlat *>(ivf->quantizer);
	auto *q = new faiss::IndexFlatL2(d.dim);
	q->add(ivf->nlist, centroids->get_xb());
	auto raw = std::make_unique<faiss::IndexIVFFlat>(q, d.dim, ivf->nlist, faiss::METRIC_L2);
	raw->own_fields = true;
	Clock::time_point t0 = Clock::now();
	raw->add(static_cast<faiss::Index::idx_t>(d.n), d.base.data());
	*add_secs = Seconds(t0);
	return raw;
}

// BenchIvf compares engine IVF_FLAT with faiss::IndexIVFFlat.
void BenchIvf(const Data &d, int nlist) {
	std::vector<int64_t> truth = Truth(d, Filter());
	IndexConfig c;
	c.kind = IndexKind::kIvfFlat;
	c.dim = d.dim;
	c.nlist = nlist;
	double build, raw_add;
	std::unique_ptr<Index> engine = BuildEngine(d, c, &build);
	StringWriter w;
	Check(engine->Serialize(w), "serialize");
	std::unique_ptr<faiss::IndexIVFFlat> raw = RawIvfFrom(w.bytes(), d, &raw_add);
	omp_set_num_threads(1);
	std::printf("\n### IVF_FLAT search, nlist %d, one query per call, 1 thread, k 10 (%zu queries)\n\n", nlist, d.nq);
	std::printf("engine build (train + add) %.1f s; faiss add on the same centroids %.1f s\n\n", build, raw_add);
	std::printf("| nprobe | engine QPS | engine recall | faiss QPS | faiss recall | engine/faiss QPS |\n");
	std::printf("| --- | --- | --- | --- | --- | --- |\n");
	for (int nprobe : {4, 8, 16, 32}) {
		SearchParams p;
		p.nprobe = nprobe;
		faiss::SearchParametersIVF sp;
		sp.nprobe = static_cast<size_t>(nprobe);
		std::vector<Run> runs = TimeQueries(d, truth,
											{EngineSearch(*engine, p, {}), [&](const float *q, int64_t *out) {
												 float dist[kK];
												 raw->search(1, q, kK, dist, out, &sp);
											 }});
		Run e = runs[0], r = runs[1];
		std::printf("| %d | %.0f | %.4f | %.0f | %.4f | %.2f |\n", nprobe, e.qps, e.recall, r.qps, r.recall,
					e.qps / r.qps);
		std::fflush(stdout);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// SwitchPath is how BenchSwitch asks for k rows: Index::Search, or an
// iterator read as the access method reads it.
enum class SwitchPath { kSearch, kIterator };

// BenchSwitch measures filtered search against exact search over the allowed
// rows for HNSW (ef_search 40) and IVF_FLAT (nlist, each of nprobes), through
// each of paths; every index is built once.
void BenchSwitch(const Data &d, int nlist, const std::vector<int> &nprobes, const std::string &which,
				 const std::vector<SwitchPath> &paths) {
	/* 100%: no filter, the unfiltered reference */
	const double fractions[] = {0.001, 0.005, 0.01, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.50, 1.0};
	std::vector<Filter> filters;
	std::vector<std::vector<int64_t>> truths;
	for (double f : fractions) {
		filters.push_back(MakeFilter(d.n, f, 7));
		truths.push_back(Truth(d, filters.back()));
	}
	struct Kind {
		const char *name;
		IndexConfig config;
		std::vector<SearchParams> params; /* one table per entry and path */
	};
	IndexConfig hc;
	hc.kind = IndexKind::kHnsw;
	hc.dim = d.dim;
	hc.threads = 2;
	IndexConfig ic;
	ic.kind = IndexKind::kIvfFlat;
	ic.dim = d.dim;
	ic.nlist = nlist;
	ic.threads = 2;
	std::vector<SearchParams> ips;
	for (int nprobe : nprobes) {
		SearchParams ip;
		ip.nprobe = nprobe;
		ips.push_back(ip);
	}
	Kind kinds[] = {{"HNSW (m 16, ef_construction 64, ef_search 40)", hc, {SearchParams()}},
					{"IVF_FLAT", ic, ips}};
	for (Kind &k : kinds) {
		if (which.find(k.config.kind == IndexKind::kHnsw ? "hnsw" : "ivf") == std::string::npos)
			continue;
		double build;
		std::unique_ptr<Index> index = BuildEngine(d, k.config, &build);
		for (const SearchParams &params : k.params) {
			for (SwitchPath path : paths) {
				bool iter = path == SwitchPath::kIterator;
				std::printf("\n### Filtered search vs brute force, %s: %s, %zu x %d",
							iter ? "iterator (as an index scan, LIMIT 10)" : "Index::Search", k.name, d.n, d.dim);
				if (k.config.kind == IndexKind::kIvfFlat)
					std::printf(", nlist %d, nprobe %d", nlist, params.nprobe);
				std::printf(" (default ratio %.3f)\n\n| allowed | rows | filtered QPS | filtered recall | brute force "
							"QPS | default QPS | default recall | faster | one-hop walk QPS | one-hop recall |\n| --- | "
							"--- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
							DefaultBruteForceRatio(k.config, params));
				auto fn = iter ? IteratorSearch : EngineSearch;
				for (size_t i = 0; i < filters.size(); i++) {
					SearchParams graph = params, exact = params, one_hop = params;
					graph.brute_force_ratio = 0.0;
					exact.brute_force_ratio = 1.0;
					one_hop.brute_force_ratio = 0.0;
					one_hop.two_hop_ratio = 0.0;
					BitsetView view = filters[i].View();
					std::vector<Run> runs =
						TimeQueries(d, truths[i],
									{fn(*index, graph, view), fn(*index, exact, view), fn(*index, params, view),
									 fn(*index, one_hop, view)});
					Run g = runs[0], e = runs[1], a = runs[2], o = runs[3];
					const char *faster = g.recall < 0.95 ? "brute force (filtered recall < 0.95)"
										 : e.qps > g.qps ? "brute force"
														 : "filtered";
					std::printf("| %.1f%% | %zu | %.0f%s | %.4f | %.0f%s | %.0f%s | %.4f | %s | %.0f%s | %.4f |\n",
								fractions[i] * 100, filters[i].allowed, g.qps, Mark(g), g.recall, e.qps, Mark(e), a.qps,
								Mark(a), a.recall, faster, o.qps, Mark(o), o.recall);
					std::fflush(stdout);
				}
				std::printf("\n(* one pass cut at %.0f s of CPU: QPS and recall over the queries it reached) load "
							"average %.2f\n",
							kMaxPassSeconds, LoadAverage());
			}
		}
	}
}

// DoubleList reads a comma-separated list of numbers.
std::vector<double> DoubleList(const std::string &list) {
	std::vector<double> out;
	for (size_t at = 0; at < list.size();) {
		size_t comma = std::min(list.find(',', at), list.size());
		out.push_back(std::stod(list.substr(at, comma - at)));
		at = comma + 1;
	}
	return out;
}

// IntList reads a comma-separated list of integers.
std::vector<int> IntList(const std::string &list) {
	std::vector<int> out;
	for (double v : DoubleList(list))
		out.push_back(static_cast<int>(v));
	return out;
}

// ParseOptions reads the command line.
Options ParseOptions(int argc, char **argv) {
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto next = [&]() -> std::string {
			if (i + 1 >= argc) {
				std::fprintf(stderr, "%s needs a value\n", a.c_str());
				std::exit(2);
			}
			return argv[++i];
		};
		if (a == "--n") {
			o.n = std::stoul(next());
			o.n_given = true;
		}
		else if (a == "--dim")
			o.dim = std::stoi(next());
		else if (a == "--queries")
			o.queries = std::stoul(next());
		else if (a == "--clusters")
			o.clusters = std::stoi(next());
		else if (a == "--seed")
			o.seed = std::stoull(next());
		else if (a == "--nlist")
			o.nlist = std::stoi(next());
		else if (a == "--switch-nprobe")
			o.switch_nprobes = IntList(next());
		else if (a == "--raw")
			o.raw = next();
		else if (a == "--sq-bits")
			o.sq_bits = IntList(next());
		else if (a == "--sq-ef")
			o.sq_efs = IntList(next());
		else if (a == "--quick")
			o.quick = true;
		else if (a == "--sweep-allowed")
			o.sweep_allowed = DoubleList(next());
		else if (a == "--sweep-ef")
			o.sweep_efs = IntList(next());
		else if (a == "--switch-kinds")
			o.switch_kinds = next();
		else if (a == "switch" || a == "switch-iter" || a == "hnsw" || a == "ivf" || a == "sq" || a == "build" ||
				 a == "filter-sweep" || a == "switch-sweep" || a == "exact-scan" || a == "reach" ||
				 a == "layer1" || a == "filter-ratio" || a == "all")
			o.modes.push_back(a);
		else {
			std::fprintf(stderr, "unknown argument %s (see the top of bench/engine/bench_engine.cpp)\n", a.c_str());
			std::exit(2);
		}
	}
	if (o.modes.empty())
		o.modes.push_back("all");
	return o;
}

}  // namespace

// ProcessSeconds returns the CPU time of every thread of this process.
double ProcessSeconds() {
	timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Fnv1a hashes bytes (64-bit FNV-1a).
uint64_t Fnv1a(const std::string &bytes) {
	uint64_t h = 1469598103934665603ull;
	for (unsigned char c : bytes) {
		h ^= c;
		h *= 1099511628211ull;
	}
	return h;
}

// DefaultHnswConfig is HNSW m 16, ef_construction 64 over d's rows.
IndexConfig DefaultHnswConfig(const Data &d) {
	IndexConfig c;
	c.kind = IndexKind::kHnsw;
	c.dim = d.dim;
	c.m = 16;
	c.ef_construction = 64;
	return c;
}

// BenchBuild times the engine's HNSW build alone at 1 and 2 threads, with
// float32, float16 and byte scoring while it links
// (HnswBuildOptions::link_rows), and prints each graph's hash and recall@10
// at ef 40, 80 and 160; the graphs of a thread count are searched in
// alternating passes.
void BenchBuild(const Data &d) {
	IndexConfig c = DefaultHnswConfig(d);
	std::vector<int64_t> truth = Truth(d, Filter());
	std::printf("\n### HNSW build alone, m 16, ef_construction 64, %zu x %d\n\n", d.n, d.dim);
	std::printf("| threads | scores | wall s | CPU s | graph hash (FNV-1a of the serialized index) | recall (QPS) at ef 40 "
				"| 80 | 160 |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
	const LinkRows kinds[3] = {LinkRows::kFloat, LinkRows::kHalf, LinkRows::kByte};
	const char *names[3] = {"float32", "float16", "byte"};
	for (int threads : {1, 2}) {
		std::unique_ptr<Index> graphs[3];
		std::string rows[3];
		for (int k = 0; k < 3; k++) {
			c.threads = threads;
			HnswBuildOptions o;
			o.link_rows = kinds[k];
			graphs[k] = std::move(NewHnswIndexWithOptions(c, o)).value();
			double cpu0 = ProcessSeconds();
			Clock::time_point t0 = Clock::now();
			Check(graphs[k]->Build(d.base.data(), d.labels.data(), d.n), "build");
			double wall = Seconds(t0), cpu = ProcessSeconds() - cpu0;
			StringWriter w;
			Check(graphs[k]->Serialize(w), "serialize");
			char line[256];
			std::snprintf(line, sizeof(line), "| %d | %s | %.1f | %.1f | %016llx |", threads, names[k], wall, cpu,
						  static_cast<unsigned long long>(Fnv1a(w.bytes())));
			rows[k] = line;
		}
		for (int ef : {40, 80, 160}) {
			SearchParams p;
			p.ef_search = ef;
			std::vector<Run> r = TimeQueries(d, truth,
											 {EngineSearch(*graphs[0], p, {}), EngineSearch(*graphs[1], p, {}),
											  EngineSearch(*graphs[2], p, {})});
			for (int k = 0; k < 3; k++) {
				char cell[64];
				std::snprintf(cell, sizeof(cell), " %.4f (%.0f) |", r[k].recall, r[k].qps);
				rows[k] += cell;
			}
		}
		std::printf("%s\n%s\n%s\n", rows[0].c_str(), rows[1].c_str(), rows[2].c_str());
		std::fflush(stdout);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// BenchReach builds the HNSW graph (m 16, ef_construction 64) with and
// without HnswBuildOptions::repair_reach at 1 and 2 threads: build wall and
// CPU seconds, how many of the first 10,000 rows a search for their own
// vector (k 10) does not return at ef 40 and 160, and recall@10 and QPS of
// the held-out queries at ef 40 .. 640.
void BenchReach(const Data &d) {
	IndexConfig c = DefaultHnswConfig(d);
	std::vector<int64_t> truth = Truth(d, Filter());
	size_t probes = std::min<size_t>(d.n, 10000);
	std::printf("\n### HNSW reach repair, m 16, ef_construction 64, %zu x %d\n\n"
				"| threads | repair | wall s | CPU s | own row missed, ef 40 / 160 (of %zu) | recall (QPS) at ef 40 | 80 | 160 | 320 | 640 |\n"
				"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
				d.n, d.dim, probes);
	for (int threads : {1, 2}) {
		for (bool repair : {false, true}) {
			c.threads = threads;
			HnswBuildOptions o;
			o.repair_reach = repair;
			std::unique_ptr<Index> index = std::move(NewHnswIndexWithOptions(c, o)).value();
			double cpu0 = ProcessSeconds();
			Clock::time_point t0 = Clock::now();
			Check(index->Build(d.base.data(), d.labels.data(), d.n), "build");
			double wall = Seconds(t0), cpu = ProcessSeconds() - cpu0;
			size_t missed[2] = {0, 0};
			int self_efs[2] = {40, 160};
			for (int e = 0; e < 2; e++) {
				SearchParams p;
				p.ef_search = self_efs[e];
				int64_t labels[kK];
				float dist[kK];
				for (size_t i = 0; i < probes; i++) {
					Check(index->Search(d.base.data() + i * d.dim, 1, kK, p, {}, labels, dist), "search");
					missed[e] += std::find(labels, labels + kK, d.labels[i]) == labels + kK;
				}
			}
			std::printf("| %d | %s | %.1f | %.1f | %zu / %zu |", threads, repair ? "on" : "off", wall, cpu, missed[0],
						missed[1]);
			for (int ef : {40, 80, 160, 320, 640}) {
				SearchParams p;
				p.ef_search = ef;
				Run r = TimeQueries(d, truth, {EngineSearch(*index, p, {})})[0];
				std::printf(" %.4f (%.0f) |", r.recall, r.qps);
			}
			std::printf("\n");
			std::fflush(stdout);
		}
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// BestAt returns the highest QPS among runs whose recall reaches target, 0
// if none does.
double BestAt(const std::vector<Run> &runs, double target) {
	double best = 0;
	for (const Run &r : runs)
		if (!r.cut && r.recall >= target)
			best = std::max(best, r.qps);
	return best;
}

// BenchFilterRatio builds the HNSW graph (m 16, ef_construction 64, 2
// threads) without and with the reach repair and, on each, times the
// iterator unfiltered and at 1%, 10% and 50% allowed (the engine's default
// strategy) at each ef_search of efs, each filter's passes back to back
// (TimeQueries takes one truth); then the best QPS
// at recall 0.90 and 0.95 per column and the filtered/unfiltered ratios:
// issue 16's "filtered QPS >= 0.8x the unfiltered QPS" on the engine alone.
void BenchFilterRatio(const Data &d, const std::vector<int> &efs) {
	const double fractions[3] = {0.01, 0.10, 0.50};
	std::vector<Filter> filters;
	std::vector<std::vector<int64_t>> truths;
	filters.push_back(Filter());
	truths.push_back(Truth(d, filters[0]));
	for (double f : fractions) {
		filters.push_back(MakeFilter(d.n, f, 7));
		truths.push_back(Truth(d, filters.back()));
	}
	for (bool repair : {false, true}) {
		IndexConfig c = DefaultHnswConfig(d);
		c.threads = 2;
		HnswBuildOptions o;
		o.repair_reach = repair;
		std::unique_ptr<Index> index = std::move(NewHnswIndexWithOptions(c, o)).value();
		Clock::time_point t0 = Clock::now();
		Check(index->Build(d.base.data(), d.labels.data(), d.n), "build");
		double wall = Seconds(t0);
		std::printf("\n### Filtered / unfiltered, iterator (LIMIT 10): HNSW m 16, ef_construction 64, %zu x %d, repair "
					"%s (build %.1f s)\n\n| ef_search | unfiltered | 1%% | 10%% | 50%% |\n| --- | --- | --- | --- | --- |\n",
					d.n, d.dim, repair ? "on" : "off", wall);
		std::vector<std::vector<Run>> cols(filters.size());
		for (int ef : efs) {
			std::vector<Run> row(filters.size());
			/* one TimeQueries a filter: each has its own truth */
			for (size_t i = 0; i < filters.size(); i++) {
				SearchParams p;
				p.ef_search = ef;
				row[i] = TimeQueries(d, truths[i], {IteratorSearch(*index, p, filters[i].View())})[0];
				cols[i].push_back(row[i]);
			}
			PrintRow(ef, row);
		}
		for (double target : {0.90, 0.95}) {
			double base = BestAt(cols[0], target);
			std::printf("| QPS at %.2f | %.0f |", target, base);
			for (size_t i = 1; i < cols.size(); i++) {
				double q = BestAt(cols[i], target);
				std::printf(" %.0f (%.2fx) |", q, base > 0 ? q / base : 0.0);
			}
			std::printf("\n");
		}
		std::fflush(stdout);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// BuildSweepGraph builds the graph the filter sweeps search: HNSW m 16,
// ef_construction 64 (the defaults), 2 threads; *config gets its config.
std::unique_ptr<Index> BuildSweepGraph(const Data &d, IndexConfig *config, double *build) {
	config->kind = IndexKind::kHnsw;
	config->dim = d.dim;
	config->threads = 2;
	return BuildEngine(d, *config, build);
}

// BenchFilterSweep measures HNSW's filtered walk through the iterator at
// allowed fractions 5% .. 100% over ef_search 20 .. 320: one hop (every
// neighbour scored) against two hops with 8, 16 and 32 picks per element,
// QPS and recall each, on one graph; the exact scan is the floor's other
// side (QPS at ef 0 would be meaningless, so it gets its own column).
void BenchFilterSweep(const Data &d, const std::vector<double> &fractions, const std::vector<int> &efs) {
	IndexConfig hc;
	double build;
	std::unique_ptr<Index> index = BuildSweepGraph(d, &hc, &build);
	std::printf("\n### Filtered walk sweep, iterator (LIMIT 10): HNSW m 16, ef_construction 64, %zu x %d (build %.1f s)\n\n"
				"| allowed | ef_search | one hop QPS (recall) | two hops, 8 picks | 16 picks | 32 picks | exact QPS |\n"
				"| --- | --- | --- | --- | --- | --- | --- |\n",
				d.n, d.dim, build);
	for (double fraction : fractions) {
		Filter f = MakeFilter(d.n, fraction, 7);
		std::vector<int64_t> truth = Truth(d, f);
		BitsetView view = f.View();
		for (int ef : efs) {
			std::vector<SearchFn> fns;
			for (int picks : {-1, 8, 16, 32}) {
				SearchParams p;
				p.ef_search = ef;
				p.brute_force_ratio = 0.0;
				p.two_hop_ratio = picks < 0 ? 0.0 : 1.0;
				p.two_hop_picks = std::max(picks, 0);
				fns.push_back(IteratorSearch(*index, p, view));
			}
			SearchParams exact;
			exact.brute_force_ratio = 1.0;
			fns.push_back(IteratorSearch(*index, exact, view));
			std::vector<Run> r = TimeQueries(d, truth, fns);
			std::printf("| %.0f%% | %d | %.0f%s (%.4f) | %.0f%s (%.4f) | %.0f%s (%.4f) | %.0f%s (%.4f) | %.0f%s |\n",
						fraction * 100, ef, r[0].qps, Mark(r[0]), r[0].recall, r[1].qps, Mark(r[1]), r[1].recall,
						r[2].qps, Mark(r[2]), r[2].recall, r[3].qps, Mark(r[3]), r[3].recall, r[4].qps, Mark(r[4]));
			std::fflush(stdout);
		}
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// BenchLayer1 measures, through the iterator, the unfiltered search with
// layer-1 beams of width 8, 16 and 32, and 1, 2 and 4 times ef_search (the
// default is ef_search), at each ef_search of efs, on one graph: QPS
// (recall) each, passes alternating.
void BenchLayer1(const Data &d, const std::vector<int> &efs) {
	IndexConfig hc;
	double build;
	std::unique_ptr<Index> index = BuildSweepGraph(d, &hc, &build);
	/* negative: that many times ef_search */
	const std::vector<int> widths = {8, 16, 32, -1, -2, -4};
	std::printf("\n### Layer-1 beam width, iterator (LIMIT 10): HNSW m 16, ef_construction 64, %zu x %d (build %.1f s)\n\n"
				"| ef_search | width 8 | 16 | 32 | ef_search (default) | 2 x ef_search | 4 x ef_search |\n"
				"| --- | --- | --- | --- | --- | --- | --- |\n",
				d.n, d.dim, build);
	std::vector<int64_t> truth = Truth(d, Filter());
	for (int ef : efs) {
		std::vector<SearchFn> fns;
		for (int w : widths) {
			SearchParams p;
			p.ef_search = ef;
			p.layer1_width = w < 0 ? -w * ef : w;
			fns.push_back(IteratorSearch(*index, p, {}));
		}
		std::vector<Run> r = TimeQueries(d, truth, fns);
		PrintRow(ef, r);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// BenchExactScan times BruteForceSearch (k 10, every query) over d's rows
// copied into a block shaped like HNSW m 16's level 0 (row, 132 bytes of
// links, 8-byte label), at 1%, 10% and 50% allowed: once over the listed
// allowed rows, once over the whole block with the filter tested in place.
void BenchExactScan(const Data &d) {
	size_t row = static_cast<size_t>(d.dim) * sizeof(float);
	size_t stride = row + 132 + 8;
	std::vector<uint8_t> block(d.n * stride);
	std::vector<int64_t> all(d.n);
	for (size_t i = 0; i < d.n; i++) {
		std::memcpy(block.data() + i * stride, &d.base[i * d.dim], row);
		all[i] = static_cast<int64_t>(i);
	}
	std::printf("\n### Exact scan, k 10, rows %zu bytes apart (HNSW m 16 level 0), %zu x %d\n\n"
				"| allowed | listed rows: ms a query | in place, filter tested: ms a query |\n| --- | --- | --- |\n",
				stride, d.n, d.dim);
	for (double fraction : {0.01, 0.10, 0.50}) {
		Filter f = MakeFilter(d.n, fraction, 7);
		std::vector<int64_t> labels;
		std::vector<const void *> rows;
		for (size_t i = 0; i < d.n; i++)
			if (!f.View().test(static_cast<int64_t>(i))) {
				labels.push_back(static_cast<int64_t>(i));
				rows.push_back(block.data() + i * stride);
			}
		RowSet listed;
		listed.labels = labels.data();
		listed.rows = rows.data();
		listed.n = labels.size();
		RowSet in_place;
		in_place.labels = all.data();
		in_place.base = block.data();
		in_place.stride = stride;
		in_place.n = d.n;
		double ms[2];
		for (int way = 0; way < 2; way++) {
			SearchParams p;
			int64_t out_labels[10];
			float out_distances[10];
			Clock::time_point t0 = Clock::now();
			for (size_t qi = 0; qi < d.nq; qi++)
				Check(way == 0 ? BruteForceSearch(Metric::kL2, d.dim, &d.queries[qi * d.dim], listed, 10, BitsetView(), p,
												  out_labels, out_distances)
							   : BruteForceSearch(Metric::kL2, d.dim, &d.queries[qi * d.dim], in_place, 10, f.View(), p,
												  out_labels, out_distances),
					  "exact scan");
			ms[way] = Seconds(t0) * 1000.0 / static_cast<double>(d.nq);
		}
		std::printf("| %.0f%% | %.3f | %.3f |\n", fraction * 100, ms[0], ms[1]);
		std::fflush(stdout);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// BenchSwitchSweep measures, through the iterator, HNSW's filtered walk (the
// default choice between one and two hops) and the exact scan over the
// allowed rows at each allowed fraction and ef_search, with the fraction
// below which the default switch picks the exact scan: the data
// DefaultBruteForceRatio is fitted to (docs/engine.md).
void BenchSwitchSweep(const Data &d) {
	/* the engine's kTwoHopBelow (hnsw_search.cpp), for labelling the forced rows */
	const double kTwoHopDefault = 0.25;
	IndexConfig hc;
	double build;
	std::unique_ptr<Index> index = BuildSweepGraph(d, &hc, &build);
	const std::vector<int> efs = {10, 20, 40, 80, 160};
	std::printf("\n### Walk against exact scan, iterator (LIMIT 10): HNSW m 16, ef_construction 64, %zu x %d "
				"(build %.1f s)\n\nEach cell: walk QPS (recall) / exact QPS; the faster in bold.\n\n| allowed |",
				d.n, d.dim, build);
	for (int ef : efs)
		std::printf(" ef_search %d |", ef);
	std::printf("\n| --- |");
	for (size_t i = 0; i < efs.size(); i++)
		std::printf(" --- |");
	std::printf("\n");
	SearchParams exact;
	exact.brute_force_ratio = 1.0;
	for (double fraction : {0.01, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40}) {
		Filter f = MakeFilter(d.n, fraction, 7);
		std::vector<int64_t> truth = Truth(d, f);
		BitsetView view = f.View();
		Run e = TimeQueries(d, truth, {IteratorSearch(*index, exact, view)})[0];
		/* the default hop choice; from 10% on, a second row forces the other one */
		std::vector<double> hop_rows = {-1.0};
		if (fraction >= 0.1)
			hop_rows.push_back(fraction < kTwoHopDefault ? 0.0 : 1.0);
		for (double hops : hop_rows) {
			std::printf("| %.0f%%%s |", fraction * 100, hops < 0 ? "" : (hops > 0 ? " two hops" : " one hop"));
			for (int ef : efs) {
				SearchParams p;
				p.ef_search = ef;
				p.brute_force_ratio = 0.0;
				p.two_hop_ratio = hops;
				Run w = TimeQueries(d, truth, {IteratorSearch(*index, p, view)})[0];
				bool walk = w.qps > e.qps;
				std::printf(" %s%.0f%s%s (%.4f) / %s%.0f%s%s |", walk ? "**" : "", w.qps, Mark(w), walk ? "**" : "",
							w.recall, walk ? "" : "**", e.qps, Mark(e), walk ? "" : "**");
				std::fflush(stdout);
			}
			std::printf("\n");
		}
	}
	std::printf("| default switch |");
	for (int ef : efs) {
		SearchParams p;
		p.ef_search = ef;
		std::printf(" %.3f |", DefaultBruteForceRatio(hc, p, d.n));
	}
	std::printf("\n\nload average %.2f\n", LoadAverage());
}

// BaseRows is a RowSource over the base rows in memory (label order is the
// HNSW_SQ index's stored order: one Build of labels 0 .. n-1).
class BaseRows final : public RowSource {
public:
	explicit BaseRows(const Data &d) : d_(d) {}
	Status Read(const uint64_t *ids, size_t n, float *out) const noexcept override {
		size_t dim = static_cast<size_t>(d_.dim);
		for (size_t i = 0; i < n; i++)
			std::memcpy(out + i * dim, d_.base.data() + ids[i] * dim, dim * sizeof(float));
		return Status::Ok();
	}

private:
	const Data &d_;
};

// BenchSq builds an HNSW_SQ index per code width (m 16, ef_construction 64,
// 2 threads) and compares its stored form, searched through the iterator and
// re-ranked from the base rows, with the float32 graph it was built as.
void BenchSq(const Data &d, const std::vector<int> &bits_list, const std::vector<int> &efs) {
	std::vector<int64_t> truth = Truth(d, MakeFilter(d.n, 1.0, 1));
	BaseRows rows(d);
	for (int bits : bits_list) {
		IndexConfig c;
		c.kind = IndexKind::kHnswSq;
		c.dim = d.dim;
		c.nbits = bits;
		c.threads = 2;
		double build_secs = 0;
		std::unique_ptr<Index> owner = BuildEngine(d, c, &build_secs);
		StringWriter w;
		auto serialize_start = std::chrono::steady_clock::now();
		Check(owner->Serialize(w), "serialize");
		double serialize_secs =
			std::chrono::duration<double>(std::chrono::steady_clock::now() - serialize_start).count();
		const std::string &bytes = w.bytes();
		size_t code = SqCodeBytes(bits, d.dim), row = static_cast<size_t>(d.dim) * sizeof(float);
		/* the float32 stored form differs only in each element's vector and the codec */
		double float_bytes = static_cast<double>(bytes.size()) + static_cast<double>(d.n) * (row - code) -
			2.0 * static_cast<double>(row);
		void *mem = std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64);
		std::memcpy(mem, bytes.data(), bytes.size());
		auto opened = OpenIndexView(mem, bytes.size(), true);
		Check(opened.status(), "open view");
		std::unique_ptr<Index> view = std::move(opened).value();
		Check(view->SetRowSource(&rows), "row source");
		std::printf("\n### HNSW_SQ %d-bit (m 16, ef_construction 64, built in %.1f s on 2 threads; codec trained, "
					"rows encoded and written in %.1f s)\n\n",
					bits, build_secs, serialize_secs);
		std::printf("stored (what a loaded segment holds): float32 graph %.1f MB, HNSW_SQ %.1f MB (%.3f of it); "
					"rows kept apart on pages %.1f MB\n\n",
					float_bytes / 1e6, static_cast<double>(bytes.size()) / 1e6,
					static_cast<double>(bytes.size()) / float_bytes, static_cast<double>(d.n * row) / 1e6);
		std::printf("| ef_search | float32 QPS (recall) | HNSW_SQ depth 1 | depth 2 | depth 4 | depth 8 |\n"
					"| --- | --- | --- | --- | --- | --- |\n");
		for (int ef : efs) {
			SearchParams p;
			p.ef_search = ef;
			std::vector<SearchFn> fns = {IteratorSearch(*owner, p, {})};
			for (int depth : {1, 2, 4, 8}) {
				SearchParams q = p;
				q.rerank = depth;
				fns.push_back(IteratorSearch(*view, q, {}));
			}
			std::vector<Run> r = TimeQueries(d, truth, fns);
			PrintRow(ef, r);
		}
		view.reset();
		std::free(mem);
	}
	std::printf("\nload average %.2f\n", LoadAverage());
}

// main generates the data once and runs the chosen benchmarks.
int main(int argc, char **argv) {
	Options o = ParseOptions(argc, argv);
	Clock::time_point t0 = Clock::now();
	Data d = MakeData(o);
	std::printf("data: %zu x %d, %zu queries, %d clusters, seed %llu (%.1f s to make)\n", d.n, d.dim, d.nq, o.clusters,
				static_cast<unsigned long long>(o.seed), Seconds(t0));
	auto want = [&](const char *m) {
		return std::find(o.modes.begin(), o.modes.end(), m) != o.modes.end() ||
			std::find(o.modes.begin(), o.modes.end(), "all") != o.modes.end();
	};
	if (want("hnsw"))
		BenchHnsw(d, o.quick);
	if (want("ivf"))
		BenchIvf(d, o.nlist);
	std::vector<SwitchPath> paths;
	if (want("switch"))
		paths.push_back(SwitchPath::kSearch);
	if (want("switch-iter"))
		paths.push_back(SwitchPath::kIterator);
	if (!paths.empty())
		BenchSwitch(d, o.nlist, o.switch_nprobes, o.switch_kinds, paths);
	if (std::find(o.modes.begin(), o.modes.end(), "sq") != o.modes.end())
		BenchSq(d, o.sq_bits, o.sq_efs);
	if (std::find(o.modes.begin(), o.modes.end(), "build") != o.modes.end())
		BenchBuild(d);
	if (std::find(o.modes.begin(), o.modes.end(), "reach") != o.modes.end())
		BenchReach(d);
	/* not part of "all": it rebuilds the graph and runs 30 settings */
	if (std::find(o.modes.begin(), o.modes.end(), "filter-sweep") != o.modes.end())
		BenchFilterSweep(d, o.sweep_allowed, o.sweep_efs);
	if (std::find(o.modes.begin(), o.modes.end(), "switch-sweep") != o.modes.end())
		BenchSwitchSweep(d);
	if (std::find(o.modes.begin(), o.modes.end(), "exact-scan") != o.modes.end())
		BenchExactScan(d);
	if (std::find(o.modes.begin(), o.modes.end(), "layer1") != o.modes.end())
		BenchLayer1(d, o.sweep_efs);
	if (std::find(o.modes.begin(), o.modes.end(), "filter-ratio") != o.modes.end())
		BenchFilterRatio(d, o.sweep_efs);
	return 0;
}
