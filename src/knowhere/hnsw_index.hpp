// hnsw_index.hpp declares the HNSW index's build options, for tests and benchmarks
// that compare pgvector's neighbour selection with hnswlib's own (and the
// engine's search with hnswlib's).
#pragma once

#include <cstdint>
#include <memory>

#include "knowhere/index.hpp"

namespace vecdb::knowhere {

// LinkRows names the rows a build's insert path scores (HnswBuildOptions).
enum class LinkRows : uint8_t {
	kFloat, /* the float32 rows */
	kHalf,	/* float16 copies */
	kByte,	/* byte levels, one step for every dimension */
};

// HnswBuildOptions chooses how neighbours are selected while building. Both
// false reproduces hnswlib 0.6.2's addPoint, both true pgvector's selection.
// The default fills pruned lists but picks at most m neighbours for a new
// element. Recall@10 at ef_search 40/80/160/320, m 16, ef_construction 64, on
// bench/harness.py's 100,000 x 128 set (1000 queries; Hnsw.BenchRecall with
// VECDB_HNSW_BENCH_RAW), all searched the same way (layer-1 beam):
//   hnswlib selection  0.952 0.977 0.989 0.990  (build 5.7 s)
//   keep_pruned        0.963 0.984 0.989 0.992  (build 9.6 s, the default)
//   pgvector (both)    0.960 0.976 0.979 0.983  (build 20.0 s)
// On well-separated clusters (VECDB_HNSW_BENCH=100000,128) all three reach
// 0.995-0.999. The larger gain came from the search's layer-1 beam, not from
// the selection: without it keep_pruned gave 0.944 0.968 0.972 0.977.
struct HnswBuildOptions {
	// keep_pruned fills a neighbour list with the candidates the heuristic
	// pruned, closest first, up to the list's capacity (pgvector's
	// keepPrunedConnections); hnswlib leaves such lists short.
	bool keep_pruned = true;
	// full_layer0 lets a new element pick up to 2m neighbours on layer 0
	// (pgvector: the layer's capacity); hnswlib picks at most m on every layer.
	bool full_layer0 = false;
	// layer1_beam makes a search enter layer 0 through a beam of width ef on
	// layer 1 (see hnsw_search.cpp); false descends greedily, as hnswlib's
	// searchKnn does (benchmarks compare the two on one graph). Not a build
	// option, but kept with them: like them it is per index and not stored.
	bool layer1_beam = true;
	// build_memo remembers, while a batch links, each layer-0 list's scores
	// and how the heuristic chose it, so that shrinking a full list
	// recomputes little (hnsw_graph.cpp, ListMemo). The graph is the same
	// either way: off exists for the test and the benchmark that check it.
	bool build_memo = true;
	// repair_reach checks after each batch that a narrow search (beam
	// kReachCheckWidth) for every new row's own vector finds it, and links
	// each row it misses from where an ef_construction search for it ends
	// (docs/engine.md, "Rows the walk misses").
	bool repair_reach = false;
	// link_rows is what a new index's first batch scores while it links:
	// float16 copies of its rows (64 dimensions and up), half the memory
	// each score reads, or byte levels (256 and up, metrics L2, cosine and
	// L1, dimensions of similar ranges; otherwise float16), a quarter. Short
	// rows, and later batches, score the float rows. The stored rows, and
	// every search, stay float32 (docs/engine.md, "Half rows", "Byte rows").
	LinkRows link_rows = LinkRows::kByte;
};

// kReachRepairMaxDim is the most dimensions for which repair_reach -1 (the
// default) turns the reach repair on: on short rows the build has the room
// for it, and there it lifts recall most (docs/engine.md, "Rows the walk
// misses").
constexpr int kReachRepairMaxDim = 256;

// ReachRepairOn resolves IndexConfig::repair_reach for dim dimensions: 1 on,
// 0 off, -1 on up to kReachRepairMaxDim dimensions.
inline bool ReachRepairOn(int repair_reach, int dim) {
	return repair_reach > 0 || (repair_reach < 0 && dim <= kReachRepairMaxDim);
}

// HnswBuildOptionsFor returns the default options with the config's
// repair_reach.
inline HnswBuildOptions HnswBuildOptionsFor(const IndexConfig &config) {
	HnswBuildOptions o;
	o.repair_reach = ReachRepairOn(config.repair_reach, config.dim);
	return o;
}

// NewHnswIndexWithOptions makes an empty HNSW index built with the given options
// (not serialized: they only shape the graph, which is stored as it is).
Expected<std::unique_ptr<Index>> NewHnswIndexWithOptions(const IndexConfig &config,
														 const HnswBuildOptions &options) noexcept;

}  // namespace vecdb::knowhere
