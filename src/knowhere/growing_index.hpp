// growing_index.hpp declares GROWING, the engine's in-memory index for a
// segment that keeps receiving rows: exact while small, then IVF lists over
// its own k-means centroids (growing_index.cpp has the design).
#pragma once

#include <cstddef>
#include <memory>

#include "knowhere/index.hpp"

namespace vecdb::knowhere {

// kGrowingTrainRows is the row count at which a GROWING index trains its
// centroids and leaves exact search; kGrowingRetrainFactor the growth after
// which it trains again with more lists; kGrowingSamplePerList bounds the
// k-means sample per list.
constexpr size_t kGrowingTrainRows = 8192;
constexpr size_t kGrowingRetrainFactor = 4;
constexpr size_t kGrowingSamplePerList = 40;
// A search probes this share of the lists at ef_search kGrowingReferenceEf,
// proportionally more at higher ef_search.
constexpr double kGrowingProbeFraction = 0.1;
constexpr double kGrowingReferenceEf = 40.0;

// NewGrowingIndex makes an empty GROWING index (float kinds of metric L2,
// inner product, cosine or L1; L1 stays exact).
Expected<std::unique_ptr<Index>> NewGrowingIndex(const IndexConfig &config) noexcept;

// AdoptGrowingTraining hands the centroids of GROWING index trained to the
// empty GROWING index to, so it skips k-means; otherwise it does nothing.
void AdoptGrowingTraining(const Index &trained, Index *to) noexcept;

// GrowingIndexLists returns how many lists a GROWING index has (0 while it
// is exact, and for any other kind).
size_t GrowingIndexLists(const Index &index) noexcept;

// GrowingSearchPlan says how a GROWING index searches with params: its
// lists (0: exact), the lists it probes, and the allowed fraction below
// which a filtered search is exact instead.
struct GrowingPlan {
	size_t lists = 0;
	size_t probes = 0;
	double brute_force_ratio = 1.0;
};
GrowingPlan GrowingSearchPlan(const Index &index, const SearchParams &params) noexcept;

}  // namespace vecdb::knowhere
