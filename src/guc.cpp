// guc.cpp registers every vecdb setting in one place: pgvector's hnsw.* and
// ivfflat.* names, the ivfpq.* / ivfsq8.* twins, and vecdb.* for the rest.
#include <malloc.h>
#include <unistd.h>

#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

int			vecdb_hnsw_ef_search = 40;
int			vecdb_hnsw_iterative_scan = VECDB_ITERATIVE_OFF;
int			vecdb_hnsw_max_scan_tuples = 20000;
static int	vecdb_hnsw_scan_mem_multiplier = 1;
int			vecdb_ivfflat_probes = 1;
int			vecdb_ivfflat_iterative_scan = VECDB_ITERATIVE_OFF;
int			vecdb_ivfflat_max_probes = 32768;
int			vecdb_ivfpq_probes = 1;
int			vecdb_ivfpq_rerank = -1;
int			vecdb_ivfsq8_probes = 1;
int			vecdb_ivfsq8_rerank = -1;
int			vecdb_build_threads = 0;
double		vecdb_brute_force_ratio = -1;
int			vecdb_segment_cache_mb = 1024;
int			vecdb_min_index_rows = 1000;
int			vecdb_compact_growing_rows = 1000;
double		vecdb_compact_deleted_fraction = 0.2;
int			vecdb_max_segments = 16;
double		vecdb_merge_onto_fraction = 0.5;
static int	vecdb_backend_memory_kept_kb = 16 * 1024;
bool		vecdb_shard_partial_results = false;
int			vecdb_shard_fanout = 0;

// kShardFanoutOptions are vecdb.shard_fanout's values (src/shard/sharded_search.cpp).
static const struct config_enum_entry kShardFanoutOptions[] = {
	{"direct", 0, false}, {"postgres_fdw", 1, false}, {NULL, 0, false}};

// kGpuModes are vecdb.gpu's values.
static const struct config_enum_entry kGpuModes[] = {
	{"off", VECDB_GPU_OFF, false}, {"auto", VECDB_GPU_AUTO, false}, {"on", VECDB_GPU_ON, false},
	{NULL, 0, false}};

// kTrainDevices are vecdb.train_device's values.
static const struct config_enum_entry kTrainDevices[] = {
	{"cpu", VECDB_TRAIN_CPU, false}, {"gpu", VECDB_TRAIN_GPU, false}, {"auto", VECDB_TRAIN_AUTO, false},
	{NULL, 0, false}};

// kMaxMmapThreshold is glibc's largest M_MMAP_THRESHOLD on 64-bit systems.
static const int kMaxMmapThreshold = 32 * 1024 * 1024;

// AssignBackendMemoryKept tells glibc to keep up to kb of freed heap memory
// (and to serve allocations below it from the heap, not fresh mappings):
// the engine's per-query buffers (candidate lists, exact-scan rows, 100 KB
// to a few MB) were handed back to the kernel after each query and faulted
// in again by the next (docs/decisions.md, "Per-query buffers").
static void
AssignBackendMemoryKept(int kb, void *extra)
{
	size_t		bytes = (size_t) kb * 1024;

	if (kb == 0)
		return;
	mallopt(M_TRIM_THRESHOLD, (int) Min(bytes, (size_t) INT_MAX));
	mallopt(M_MMAP_THRESHOLD, (int) Min(bytes, (size_t) kMaxMmapThreshold));
}

static const struct config_enum_entry hnsw_iterative_options[] = {
	{"off", VECDB_ITERATIVE_OFF, false},
	{"relaxed_order", VECDB_ITERATIVE_RELAXED, false},
	{"strict_order", VECDB_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

static const struct config_enum_entry ivfflat_iterative_options[] = {
	{"off", VECDB_ITERATIVE_OFF, false},
	{"relaxed_order", VECDB_ITERATIVE_RELAXED, false},
	{NULL, 0, false}
};

// VecdbRegisterGucs defines the settings (from _PG_init).
void
VecdbRegisterGucs(void)
{
	DefineCustomIntVariable("hnsw.ef_search", "Sets the size of the dynamic candidate list for search",
							"Larger values give better recall and slower searches.",
							&vecdb_hnsw_ef_search, 40, 1, 1000, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan", "Sets the mode for iterative scans",
							 "vecdb scans always continue until the query has its rows; relaxed_order and "
							 "strict_order also stop after hnsw.max_scan_tuples rows. off and strict_order return "
							 "rows in distance order (a row found after a farther one comes at the end); "
							 "relaxed_order returns them as found.",
							 &vecdb_hnsw_iterative_scan, VECDB_ITERATIVE_OFF, hnsw_iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples", "Sets the max number of tuples to visit for iterative scans",
							"Applies when hnsw.iterative_scan is relaxed_order or strict_order.",
							&vecdb_hnsw_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.scan_mem_multiplier",
							"Sets the multiple of work_mem to use for iterative scans",
							"Accepted for pgvector compatibility; vecdb's scans do not use it.",
							&vecdb_hnsw_scan_mem_multiplier, 1, 1, 1000, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("hnsw");

	DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes",
							"Valid range is 1..lists.", &vecdb_ivfflat_probes, 1, 1, 32768, PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans",
							 "vecdb scans always continue until the query has its rows; relaxed_order also "
							 "stops after the rows of ivfflat.max_probes lists.",
							 &vecdb_ivfflat_iterative_scan, VECDB_ITERATIVE_OFF, ivfflat_iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.max_probes", "Sets the max number of probes for iterative scans",
							NULL, &vecdb_ivfflat_max_probes, 32768, 1, 32768, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfflat");

	DefineCustomIntVariable("ivfpq.probes", "Sets the number of inverted lists an ivfpq scan probes",
							NULL, &vecdb_ivfpq_probes, 1, 1, 32768, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfpq.rerank",
							"Sets how many candidates, as a multiple of the rows asked for, are re-ranked exactly",
							"-1 uses the index's rerank option.", &vecdb_ivfpq_rerank, -1, -1, 100, PGC_USERSET,
							0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfpq");
	DefineCustomIntVariable("ivfsq8.probes", "Sets the number of inverted lists an ivfsq8 scan probes",
							NULL, &vecdb_ivfsq8_probes, 1, 1, 32768, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfsq8.rerank",
							"Sets how many candidates, as a multiple of the rows asked for, are re-ranked exactly",
							"-1 uses the index's rerank option.", &vecdb_ivfsq8_rerank, -1, -1, 100,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfsq8");

	DefineCustomIntVariable("vecdb.build_threads", "Sets the number of threads an index build uses",
							"0 means min(CPUs, max_parallel_maintenance_workers + 1). Only superusers can change it.", &vecdb_build_threads, 0,
							0, 64, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vecdb.brute_force_ratio",
							 "Sets the fraction of allowed rows below which a filtered search is exact",
							 "-1 uses the engine's measured default.", &vecdb_brute_force_ratio, -1, -1, 1,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vecdb.backend_memory_kept",
							"Sets the freed memory each backend keeps for its next queries",
							"Freed heap memory up to this size stays in the process instead of going back to the "
							"kernel, so per-query search buffers are reused without page faults. 0 leaves the C "
							"library's own behaviour in connections that have not set another value. Only "
							"superusers can change it.",
							&vecdb_backend_memory_kept_kb, 16 * 1024, 0, 1024 * 1024, PGC_SUSET, GUC_UNIT_KB, NULL,
							AssignBackendMemoryKept, NULL);
	DefineCustomIntVariable("vecdb.segment_cache_size",
							"Sets the memory each backend may use for loaded index segments",
							"Segments of indexes not in use are evicted beyond it. Only superusers can change it.", &vecdb_segment_cache_mb,
							1024, 0, INT_MAX / 2, PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
	/* a server-start setting can only be defined while the library is preloaded */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("vecdb.shared_memory_size",
								"Sets the shared memory that holds one copy of each index segment for all connections",
								"Takes effect when vecdb is in shared_preload_libraries; 0 keeps a private copy per "
								"connection. Segments not in use are evicted, least recently used first.",
								&vecdb_shared_memory_mb, 256, 0, INT_MAX / 2, PGC_POSTMASTER, GUC_UNIT_MB, NULL, NULL,
								NULL);
		DefineCustomIntVariable("vecdb.seal_growing_rows",
								"Sets the growing-segment rows at which a background worker seals them into an "
								"indexed segment",
								"Needs vecdb in shared_preload_libraries; 0 leaves sealing to VACUUM and "
								"vecdb_compact(). A backlog larger than a segment built in maintenance_work_mem "
								"is sealed a part at a time.", &vecdb_seal_growing_rows, 10000, 0, INT_MAX, PGC_SIGHUP, 0, NULL,
								NULL, NULL);
		DefineCustomBoolVariable("vecdb.prewarm_resident",
								 "Reloads after a restart the indexes that were in the shared area before it",
								 "A background worker keeps a list of them in vecdb_resident.list in the data "
								 "directory.", &vecdb_prewarm_resident, false, PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("vecdb.prewarm_interval",
								"Sets how often the list of indexes resident in the shared area is saved",
								"It is also saved at shutdown.", &vecdb_prewarm_interval, 300, 1, 86400, PGC_SIGHUP,
								GUC_UNIT_S, NULL, NULL, NULL);
	}
	DefineCustomEnumVariable("vecdb.gpu", "Sets where exact and ivfflat searches of sealed segments run: this backend's CPU or the GPU worker",
							 "off: the CPU. on: the GPU worker for every segment it can serve (exact and ivfflat "
							 "segments of vector or halfvec rows in the shared area), an ERROR when it is not available. auto: the "
							 "worker where the cost model expects it to be faster, the CPU otherwise and whenever the "
							 "worker cannot answer. The worker runs only when this is not off in the server's "
							 "configuration at start.", &vecdb_gpu_mode, VECDB_GPU_OFF, kGpuModes, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("vecdb.gpu_memory_size",
								"Sets the device memory the GPU worker may hold segments in",
								"Segments beyond it are dropped from the device least recently used first; a "
								"segment larger than it is searched on the CPU.", &vecdb_gpu_memory_mb, 4096, 1,
								INT_MAX / 2, PGC_POSTMASTER, GUC_UNIT_MB, NULL, NULL, NULL);
		DefineCustomBoolVariable("vecdb.gpu_stand_in",
								 "Runs the GPU worker with the CPU engine when no GPU is usable (tests only)",
								 "The worker then serves requests exactly as with a device, on its CPU, and "
								 "reports its device as 'cpu stand-in': the queue, batching, cancellation and "
								 "crash handling can be tested without a GPU.", &vecdb_gpu_stand_in, false,
								 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	}
	DefineCustomEnumVariable("vecdb.train_device",
							 "Sets where index builds train the k-means of ivfflat, ivfpq and ivfsq8 segments",
							 "cpu: FAISS on the CPU. gpu: the GPU k-means whenever this build has CUDA "
							 "(make VECDB_CUDA=1) and a device is usable, in the building backend. auto: the GPU "
							 "when the training is large enough. Whatever fails trains on the CPU.",
							 &vecdb_train_device, VECDB_TRAIN_CPU, kTrainDevices, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vecdb.gpu_batch_window",
							 "Sets how long the GPU worker waits for more requests to search in one batch",
							 "Requests that arrive within it after the first are answered by one engine call.",
							 &vecdb_gpu_batch_window_ms, 0.1, 0.0, 100.0, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("vecdb.min_index_rows",
							"Sets the rows below which a segment is stored for exact search",
							"Smaller segments are searched exactly (flat) instead of through a graph or lists.",
							&vecdb_min_index_rows, 1000, 0, INT_MAX, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vecdb.compact_growing_rows",
							"Sets the rows the growing segment holds before VACUUM compacts it",
							"A compaction's new segment stays within maintenance_work_mem: a larger growing "
							"segment is sealed a part at a time.", &vecdb_compact_growing_rows, 1000, 1, INT_MAX, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vecdb.compact_deleted_fraction",
							 "Sets the fraction of deleted rows at which VACUUM rewrites a segment", NULL,
							 &vecdb_compact_deleted_fraction, 0.2, 0.0, 1.0, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vecdb.max_segments",
							"Sets the sealed segments an index keeps before VACUUM merges the smallest", NULL,
							&vecdb_max_segments, 16, 1, VECDB_MAX_SEGMENTS, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vecdb.merge_onto_fraction",
							 "Sets the share of a merge's rows one segment must hold for the others to be added to it",
							 "A merge then keeps that segment's graph or lists and adds only the other rows, "
							 "instead of building every row anew; 0 always builds anew.",
							 &vecdb_merge_onto_fraction, 0.5, 0.0, 1.0, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("vecdb.shard_partial_results",
							 "Lets vecdb_sharded_search answer from the partitions that respond",
							 "Off: a partition that fails fails the search. On: it is skipped with a warning "
							 "(partitions read through postgres_fdw are then queried one after another).",
							 &vecdb_shard_partial_results, false, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("vecdb.shard_fanout",
							 "How vecdb_sharded_search reaches postgres_fdw partitions",
							 "direct: its own connections, one statement per server, all at once. postgres_fdw: "
							 "through postgres_fdw in this transaction (sees its own writes; more round trips).",
							 &vecdb_shard_fanout, 0, kShardFanoutOptions, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("vecdb.fault_injection",
							   "Makes the storage layer fail at a named point (tests only)",
							   "'point:action[:count]': action error, oom, sleep, delay (20 s, then on) or exit at the count-th pass.",
							   &vecdb_fault_injection, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL,
							   VecdbFaultAssign, NULL);
	MarkGUCPrefixReserved("vecdb");
}

// VecdbBuildThreads returns the threads a build may use.
int
VecdbBuildThreads(void)
{
	long		cpus;
	int			n;

	if (vecdb_build_threads > 0)
		return vecdb_build_threads;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	n = max_parallel_maintenance_workers + 1;
	if (cpus > 0 && cpus < n)
		n = (int) cpus;
	return Max(n, 1);
}
