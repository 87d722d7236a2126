// engine_bridge.hpp is the only door from the PostgreSQL side to the engine
// (src/knowhere): opaque handles and plain structs, no engine headers. Every
// call catches whatever the engine throws, closes the C++ scope, and only
// then raises ereport(ERROR) with the SQLSTATE of the engine's Status.
#pragma once

#include <stddef.h>
#include <stdint.h>

// VecdbMetric mirrors engine::Metric (values are checked to match).
typedef enum VecdbMetric
{
	VECDB_METRIC_L2 = 1,
	VECDB_METRIC_IP = 2,
	VECDB_METRIC_COSINE = 3,
	VECDB_METRIC_L1 = 4,
	VECDB_METRIC_HAMMING = 5,
	VECDB_METRIC_JACCARD = 6
} VecdbMetric;

// VecdbEngineKind mirrors engine::IndexKind.
typedef enum VecdbEngineKind
{
	VECDB_ENGINE_FLAT = 1,
	VECDB_ENGINE_HNSW = 2,
	VECDB_ENGINE_IVF_FLAT = 3,
	VECDB_ENGINE_IVF_PQ = 4,
	VECDB_ENGINE_IVF_SQ8 = 5,
	VECDB_ENGINE_BIN_FLAT = 6,
	VECDB_ENGINE_BIN_IVF = 7,
	VECDB_ENGINE_GROWING = 9	/* in memory only: a growing segment's rows */
} VecdbEngineKind;

// VecdbEngineConfig mirrors engine::IndexConfig.
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
} VecdbEngineConfig;

// VecdbEngineSearchParams mirrors engine::SearchParams (the stop callback is
// the bridge's: it reads QueryCancelPending and ProcDiePending).
typedef struct VecdbEngineSearchParams
{
	int			ef_search;
	int			nprobe;
	int			rerank;
	double		brute_force_ratio;	/* < 0: the engine's default */
} VecdbEngineSearchParams;

// VecdbNeighbor is one search result: a segment label and its score (smaller is closer).
typedef struct VecdbNeighbor
{
	int64_t		label;
	float		distance;
} VecdbNeighbor;

typedef struct VecdbEngine VecdbEngine;
typedef struct VecdbEngineIter VecdbEngineIter;

// VecdbByteSink receives serialized bytes; it may ereport (the bridge guards it).
typedef void (*VecdbByteSink) (void *arg, const void *data, size_t n);
// VecdbByteSource fills n bytes and returns false at the end of the data; it may ereport.
typedef bool (*VecdbByteSource) (void *arg, void *data, size_t n);

VecdbEngine *VecdbEngineCreate(const VecdbEngineConfig *config);
void		VecdbEngineFree(VecdbEngine *engine);
void		VecdbEngineBuild(VecdbEngine *engine, const void *rows, const int64_t *labels, size_t n);
void		VecdbEngineAdd(VecdbEngine *engine, const void *rows, const int64_t *labels, size_t n);
int64_t		VecdbEngineCount(const VecdbEngine *engine);
size_t		VecdbEngineMemory(const VecdbEngine *engine);
/* GROWING only: hand a new index the older one's centroids */
void		VecdbEngineAdoptGrowing(const VecdbEngine *from, VecdbEngine *to);
/* GROWING only: lists (0: exact), lists probed with p, and its brute-force ratio */
void		VecdbEngineGrowingPlan(const VecdbEngine *engine, const VecdbEngineSearchParams *p, size_t *lists,
								   size_t *probes, double *ratio);
int			VecdbEngineGetKind(const VecdbEngine *engine);
void		VecdbEngineSerialize(const VecdbEngine *engine, VecdbByteSink sink, void *arg);
VecdbEngine *VecdbEngineDeserialize(VecdbByteSource source, void *arg);
VecdbEngine *VecdbEngineOpenBytes(const void *data, size_t size, bool *in_place);
void		VecdbEngineVerifyBytes(const void *data, size_t size);
void		VecdbEngineReconstruct(const VecdbEngine *engine, const int64_t *labels, size_t n, void *out);
size_t		VecdbEngineEstimateMemory(const VecdbEngineConfig *config, size_t n);
void		VecdbEngineCheckConfig(const VecdbEngineConfig *config);

VecdbEngineIter *VecdbEngineIterStart(const VecdbEngine *engine, const void *query,
									  const VecdbEngineSearchParams *params,
									  const uint8_t *deleted, size_t nbits);
size_t		VecdbEngineIterNext(VecdbEngineIter *iter, size_t max, VecdbNeighbor *out);

size_t		VecdbEngineRowBytes(VecdbMetric metric, int dim);
const char *VecdbEngineKindName(int kind);
double		VecdbEngineDefaultBruteForceRatio(int kind, int nlist, int nprobe);
const char *VecdbMetricName(VecdbMetric metric);

// VecdbEngineOwner frees an engine index when its memory context is reset
// or deleted (an ERROR mid-build or mid-query leaks nothing), unless the
// index was taken back with VecdbEngineOwnerRelease.
typedef struct VecdbEngineOwner VecdbEngineOwner;
// VecdbIterOwner does the same for an iterator.
typedef struct VecdbIterOwner VecdbIterOwner;

void		VecdbEngineTrain(VecdbEngine *engine, const void *rows, size_t n);
bool		VecdbEngineNeedsTraining(const VecdbEngine *engine);
VecdbEngineOwner *VecdbEngineOwn(VecdbEngine *engine);
VecdbEngine *VecdbEngineOwnerRelease(VecdbEngineOwner *owner);
VecdbIterOwner *VecdbIterOwn(VecdbEngineIter *iter);
void		VecdbIterOwnerFree(VecdbIterOwner *owner);
void		VecdbEngineWarmThreads(int threads);
