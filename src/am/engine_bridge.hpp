// engine_bridge.hpp is the only door from the PostgreSQL side to the engine
// (src/knowhere): opaque handles and plain structs, no engine headers. Every
// call catches whatever the engine throws, closes the C++ scope, and only
// then raises ereport(ERROR) with the SQLSTATE of the engine's Status.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// VecdbMetric mirrors knowhere::Metric (values are checked to match).
typedef enum VecdbMetric
{
	VECDB_METRIC_L2 = 1,
	VECDB_METRIC_IP = 2,
	VECDB_METRIC_COSINE = 3,
	VECDB_METRIC_L1 = 4,
	VECDB_METRIC_HAMMING = 5,
	VECDB_METRIC_JACCARD = 6
} VecdbMetric;

// VecdbEngineKind mirrors knowhere::IndexKind.
typedef enum VecdbEngineKind
{
	VECDB_ENGINE_FLAT = 1,
	VECDB_ENGINE_HNSW = 2,
	VECDB_ENGINE_IVF_FLAT = 3,
	VECDB_ENGINE_IVF_PQ = 4,
	VECDB_ENGINE_IVF_SQ8 = 5,
	VECDB_ENGINE_BIN_FLAT = 6,
	VECDB_ENGINE_BIN_IVF = 7,
	VECDB_ENGINE_GROWING = 9,	/* in memory only: a growing segment's rows */
	VECDB_ENGINE_SPARSE_INVERTED = 10,	/* sparse rows in inverted lists (packed rows, below) */
	VECDB_ENGINE_HNSW_SQ = 11	/* HNSW holding 4- or 8-bit codes; full rows apart */
} VecdbEngineKind;

// A row of a SPARSE_INVERTED index is packed, 4-byte aligned: uint32 nnz,
// then nnz int32 indices (strictly increasing), then nnz float values.
// Functions that take several rows take them back to back.
static inline size_t
VecdbSparseRowBytes(const void *row)
{
	uint32_t	nnz;

	memcpy(&nnz, row, sizeof(nnz));
	return sizeof(uint32_t) + (size_t) nnz * (sizeof(int32_t) + sizeof(float));
}

// VecdbEngineConfig mirrors knowhere::IndexConfig.
typedef struct VecdbEngineConfig
{
	VecdbEngineKind kind;
	VecdbMetric metric;
	int			dim;
	int			m;
	int			ef_construction;
	int			nlist;
	int			pq_m;
	int			nbits;
	int			threads;
	int			repair_reach;	/* hnsw kinds: link rows their own search misses (1), not (0), or
								   up to 256 dimensions (-1) */
	int			train_device;	/* float IVF kinds' k-means: 0 cpu, 1 gpu, 2 auto (knowhere::TrainDevice) */
} VecdbEngineConfig;

// VecdbEngineSearchParams mirrors knowhere::SearchParams (the stop callback is
// the bridge's: it reads QueryCancelPending and ProcDiePending).
typedef struct VecdbEngineSearchParams
{
	int			ef_search;
	int			nprobe;
	int			rerank;
	double		brute_force_ratio;	/* < 0: the engine's default */
	bool		widen_probes;	/* IVF: an iterator's first batch, not Search's answer (index.hpp) */
} VecdbEngineSearchParams;

// VecdbNeighbor is one search result: a segment label and its score (smaller is closer).
typedef struct VecdbNeighbor
{
	int64_t		label;
	float		distance;
} VecdbNeighbor;

// VecdbEngineIndex is one index of the engine (src/knowhere, namespace
// vecdb::knowhere): a sealed segment's or a growing cache's.
typedef struct VecdbEngineIndex VecdbEngineIndex;
typedef struct VecdbEngineIter VecdbEngineIter;

// VecdbByteSink receives serialized bytes; it may ereport (the bridge guards it).
typedef void (*VecdbByteSink) (void *arg, const void *data, size_t n);
// VecdbByteSource fills n bytes and returns false at the end of the data; it may ereport.
typedef bool (*VecdbByteSource) (void *arg, void *data, size_t n);

// VecdbRowReader writes the full rows ids[0 .. n-1] (dim floats each) of an
// index that keeps them apart to out; it may ereport (the bridge guards it).
typedef void (*VecdbRowReader) (void *arg, const uint64_t *ids, size_t n, float *out);

VecdbEngineIndex *VecdbEngineCreate(const VecdbEngineConfig *config);
void		VecdbEngineFree(VecdbEngineIndex *engine);
void		VecdbEngineBuild(VecdbEngineIndex *engine, const void *rows, const int64_t *labels, size_t n);
void		VecdbEngineAdd(VecdbEngineIndex *engine, const void *rows, const int64_t *labels, size_t n);

// VecdbEngineProgress receives done of total rows of one
// VecdbEngineAddReporting call as they go in, on the calling thread; it must
// not ereport.
typedef void (*VecdbEngineProgress) (void *arg, uint64_t done, uint64_t total);
void		VecdbEngineAddReporting(VecdbEngineIndex *engine, const void *rows, const int64_t *labels, size_t n,
									VecdbEngineProgress progress, void *arg);
// VecdbEngineAddSlice returns how many rows one Add call should take when a
// build adds many (0: all at once).
size_t		VecdbEngineAddSlice(const VecdbEngineIndex *engine);
// VecdbEngineSetRepairReach sets the hnsw reach repair (1, 0, -1 as
// VecdbEngineConfig's) for later adds (a loaded index has it off: merges set
// it from the index's options).
void		VecdbEngineSetRepairReach(VecdbEngineIndex *engine, int mode);
bool		VecdbEngineDropBelow(VecdbEngineIndex *engine, int64_t first);
int64_t		VecdbEngineCount(const VecdbEngineIndex *engine);
int			VecdbEngineDim(const VecdbEngineIndex *engine);
size_t		VecdbEngineMemory(const VecdbEngineIndex *engine);
/* GROWING only: hand a new index the older one's centroids */
void		VecdbEngineAdoptGrowing(const VecdbEngineIndex *from, VecdbEngineIndex *to);
/* GROWING only: lists (0: exact), lists probed with p, and its brute-force ratio */
void		VecdbEngineGrowingPlan(const VecdbEngineIndex *engine, const VecdbEngineSearchParams *p, size_t *lists,
								   size_t *probes, double *ratio);
int			VecdbEngineGetKind(const VecdbEngineIndex *engine);
void		VecdbEngineSerialize(const VecdbEngineIndex *engine, VecdbByteSink sink, void *arg);
VecdbEngineIndex *VecdbEngineDeserialize(VecdbByteSource source, void *arg, int kind);
VecdbEngineIndex *VecdbEngineOpenBytes(const void *data, size_t size, bool *in_place);
void		VecdbEngineVerifyBytes(const void *data, size_t size);
size_t		VecdbEngineReconstructBytes(const VecdbEngineIndex *engine, const int64_t *labels, size_t n);
void		VecdbEngineReconstruct(const VecdbEngineIndex *engine, const int64_t *labels, size_t n, void *out);
size_t		VecdbEngineEstimateMemory(const VecdbEngineConfig *config, size_t n);
bool		VecdbEngineKeepsRowsApart(const VecdbEngineIndex *engine);
void		VecdbEngineSerializeRows(const VecdbEngineIndex *engine, VecdbByteSink sink, void *arg);
void		VecdbEngineSetRowReader(VecdbEngineIndex *engine, VecdbRowReader fn, void *arg);
void		VecdbEngineCheckConfig(const VecdbEngineConfig *config);

VecdbEngineIter *VecdbEngineIterStart(const VecdbEngineIndex *engine, const void *query,
									  const VecdbEngineSearchParams *params,
									  const uint8_t *deleted, size_t nbits);
size_t		VecdbEngineIterNext(VecdbEngineIter *iter, size_t max, VecdbNeighbor *out);

void		VecdbEngineSearch(const VecdbEngineIndex *engine, const void *queries, size_t nq, size_t k,
							  const VecdbEngineSearchParams *params, const uint8_t *deleted, size_t nbits,
							  VecdbNeighbor *out, int *counts);
bool		VecdbEngineGpuProbe(char *out, size_t len);
VecdbEngineIndex *VecdbEngineToGpu(const VecdbEngineIndex *cpu);
bool		VecdbEngineGpuTrainerReady(void);
size_t		VecdbEngineRowBytes(VecdbMetric metric, int dim);
const char *VecdbEngineKindName(int kind);
double		VecdbEngineDefaultBruteForceRatio(int kind, int nlist, int nprobe, int ef_search, uint64_t rows, int dims,
											  int metric);
const char *VecdbMetricName(VecdbMetric metric);

// VecdbEngineOwner frees an engine index when its memory context is reset
// or deleted (an ERROR mid-build or mid-query leaks nothing), unless the
// index was taken back with VecdbEngineOwnerRelease.
typedef struct VecdbEngineOwner VecdbEngineOwner;
// VecdbIterOwner does the same for an iterator.
typedef struct VecdbIterOwner VecdbIterOwner;

void		VecdbEngineTrain(VecdbEngineIndex *engine, const void *rows, size_t n);
bool		VecdbEngineNeedsTraining(const VecdbEngineIndex *engine);
VecdbEngineOwner *VecdbEngineOwn(VecdbEngineIndex *engine);
VecdbEngineIndex *VecdbEngineOwnerRelease(VecdbEngineOwner *owner);
VecdbIterOwner *VecdbIterOwn(VecdbEngineIter *iter);
void		VecdbIterOwnerFree(VecdbIterOwner *owner);
void		VecdbEngineWarmThreads(int threads);
