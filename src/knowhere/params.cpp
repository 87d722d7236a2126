// params.cpp holds the table of index parameters: defaults, ranges, phases.
#include "knowhere/params.hpp"

#include <cstring>

namespace vecdb::knowhere {

namespace {

// kParams lists every parameter; IndexConfig and SearchParams defaults match it
// (a unit test checks that).
constexpr ParamSpec kParams[] = {
	{"m", 16, 2, 100, ParamPhase::kBuild, "HNSW: maximum neighbours per node on upper layers"},
	{"ef_construction", 64, 4, 1000, ParamPhase::kBuild, "HNSW: candidate list size while building"},
	{"nlist", 100, 1, 65536, ParamPhase::kBuild, "IVF: number of inverted lists"},
	{"pq_m", 8, 1, 1024, ParamPhase::kBuild, "IVF_PQ: number of sub-quantizers (divides dim)"},
	{"nbits", 8, 1, 16, ParamPhase::kBuild, "IVF_PQ: bits per sub-quantizer code"},
	{"threads", 1, 1, 256, ParamPhase::kBuild, "build threads"},
	{"repair_reach", -1, -1, 1, ParamPhase::kBuild,
	 "HNSW/HNSW_SQ: link the rows a search for their own vector misses (1), not (0), or up to 256 dimensions (-1)"},
	{"train_device", 2, 0, 2, ParamPhase::kBuild,
	 "IVF_FLAT/IVF_PQ/IVF_SQ8: k-means on the CPU (0), the GPU (1) or the GPU when large enough (2)"},
	{"ef_search", 40, 1, 1000, ParamPhase::kSearch, "HNSW: candidate list size while searching"},
	{"nprobe", 1, 1, 65536, ParamPhase::kSearch, "IVF: lists probed per query"},
	{"rerank", 0, 0, 100, ParamPhase::kSearch, "IVF_PQ/IVF_SQ8: candidates re-ranked exactly, as a multiple of k"},
	{"search_threads", 1, 1, 256, ParamPhase::kSearch, "threads for a batch of queries"},
};

}  // namespace

// Params returns the parameter table.
const ParamSpec *Params(size_t *n) noexcept {
	*n = sizeof(kParams) / sizeof(kParams[0]);
	return kParams;
}

// FindParam looks a parameter up by name.
const ParamSpec *FindParam(const char *name) noexcept {
	for (const ParamSpec &p : kParams)
		if (std::strcmp(p.name, name) == 0)
			return &p;
	return nullptr;
}

}  // namespace vecdb::knowhere
