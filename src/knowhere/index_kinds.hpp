// index_kinds.hpp declares, for the factory in index.cpp, the constructor and
// loader of each index kind. Internal to the engine.
#pragma once

#include <memory>

#include "knowhere/brute_force.hpp"
#include "knowhere/index.hpp"
#include "knowhere/serialize.hpp"

namespace vecdb::knowhere {

// kHnswSwitchScale and kHnswSwitchRows set DefaultBruteForceRatio's HNSW
// switch point, kHnswSwitchScale * sqrt(max(ef_search, kHnswSwitchMinEf) /
// rows) (index.cpp,
// docs/engine.md); kHnswSwitchRows stands in for an unknown row count.
constexpr double kHnswSwitchScale = 4.0;
constexpr size_t kHnswSwitchRows = 100000;
// kHnswSwitchMinEf is the smallest ef_search the switch point uses: the fit's
// lowest point. Below it the walk hardly gets cheaper (an iterator's first
// batch asks for 16 rows more than ef_search: am_scan.cpp), while the exact
// scan's cost stays; 60,000 x 784, 1% allowed, ef_search 1: the walk 1,481 QPS
// at recall 0.967, the exact scan 2,042-2,312 at ef_search 5-10
// (bench/results/compare_h60k784_s14.md).
constexpr int kHnswSwitchMinEf = 10;
// kHnswSwitchDim is the float row length above which the switch falls as
// cbrt(kHnswSwitchDim / dim).
constexpr int kHnswSwitchDim = 128;

// BruteForceRatio returns params.brute_force_ratio, or the default for the
// index's config and its rows (0: unknown) when it is negative.
double BruteForceRatio(const SearchParams &params, const IndexConfig &config, size_t rows = 0) noexcept;

// NewFlatIndex makes an empty FLAT or BIN_FLAT index; LoadFlatIndex reads its
// sections after the common header (the caller then checks the trailer).
Expected<std::unique_ptr<Index>> NewFlatIndex(const IndexConfig &config) noexcept;
Expected<std::unique_ptr<Index>> LoadFlatIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept;
// OpenFlatView opens a FLAT or BIN_FLAT view over framed bytes.
Expected<std::unique_ptr<Index>> OpenFlatView(const IndexBytes &bytes) noexcept;

// EstimateFlatMemory, EstimateIvfMemory and EstimateHnswMemory back
// EstimateMemory for their kinds (config already validated).
size_t EstimateFlatMemory(const IndexConfig &config, size_t n) noexcept;
size_t EstimateIvfMemory(const IndexConfig &config, size_t n) noexcept;
size_t EstimateHnswMemory(const IndexConfig &config, size_t n) noexcept;

// NewIvfIndex makes an empty IVF_FLAT, IVF_PQ, IVF_SQ8 or BIN_IVF index;
// LoadIvfIndex reads its payload after the common header (ivf_*.cpp).
Expected<std::unique_ptr<Index>> NewIvfIndex(const IndexConfig &config) noexcept;
Expected<std::unique_ptr<Index>> LoadIvfIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept;
// OpenIvfView opens an IVF view over framed bytes.
Expected<std::unique_ptr<Index>> OpenIvfView(const IndexBytes &bytes) noexcept;
// NewTrainedIvfFlat makes an empty IVF_FLAT index (config.kind must be
// kIvfFlat) whose quantizer holds the given config.nlist x dim centroids;
// IvfFloatCentroids returns a trained float IVF index's centroids (nullptr
// for anything else). GROWING moves its rows through these.
Expected<std::unique_ptr<Index>> NewTrainedIvfFlat(const IndexConfig &config, const float *centroids) noexcept;
const float *IvfFloatCentroids(const Index &index) noexcept;
// AddToIvfLists is Add for a trained float IVF index (IVF_FLAT, IVF_PQ,
// IVF_SQ8) whose rows the caller assigned to lists (lists[i] in
// [0, nlist): GPU_IVF_FLAT assigns on its device); a list number out of range
// is InvalidArgument and adds nothing.
Status AddToIvfLists(Index &index, const void *vectors, const int64_t *labels, const int64_t *lists,
					 size_t n) noexcept;
// IvfListCount returns a trained IVF_FLAT index's nlist (0 for anything
// else); IvfListRows returns list l's labels and prepared rows, in list order
// (an owned index or a view), valid until the index changes.
size_t IvfListCount(const Index &index) noexcept;
RowSet IvfListRows(const Index &index, size_t list) noexcept;

// NewHnswIndex makes an empty HNSW index; LoadHnswIndex reads its payload
// after the common header.
Expected<std::unique_ptr<Index>> NewHnswIndex(const IndexConfig &config) noexcept;
Expected<std::unique_ptr<Index>> LoadHnswIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept;
// OpenHnswView opens an HNSW view over framed bytes.
Expected<std::unique_ptr<Index>> OpenHnswView(const IndexBytes &bytes) noexcept;

// NewHnswSqIndex makes an empty HNSW_SQ index (built over floats, stored as
// codes); LoadHnswSqIndex reads its stored form into memory it owns;
// OpenHnswSqView opens a view over framed bytes (hnsw_sq.cpp).
Expected<std::unique_ptr<Index>> NewHnswSqIndex(const IndexConfig &config) noexcept;
Expected<std::unique_ptr<Index>> LoadHnswSqIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept;
Expected<std::unique_ptr<Index>> OpenHnswSqView(const IndexBytes &bytes) noexcept;

// ExternalKindFactory and ExternalKindLoader construct and load an index kind
// that lives outside this library (GPU_FLAT and GPU_IVF_FLAT in src/gpu, which this library
// must not depend on). RegisterExternalKind installs them for kind (nullptr
// removes them); until then CreateIndex and DeserializeIndex answer
// NotSupported for that kind. Registration is process-wide and not
// synchronized: call it once at start-up, before any index is made.
using ExternalKindFactory = Expected<std::unique_ptr<Index>> (*)(const IndexConfig &config) noexcept;
using ExternalKindLoader = Expected<std::unique_ptr<Index>> (*)(const IndexHeader &header,
																IndexStreamReader &reader) noexcept;
void RegisterExternalKind(IndexKind kind, ExternalKindFactory factory, ExternalKindLoader loader) noexcept;

}  // namespace vecdb::knowhere
