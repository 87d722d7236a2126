// gpu_queue.cpp is the backends' side of the GPU worker (DESIGN.md 5): the
// queue in shared memory, the worker's registration, the choice of the
// device per segment (vecdb.gpu), a search request and its wait, and
// vecdb_gpu_status(). The worker itself is gpu_worker.cpp; the protocol is
// gpu_protocol.hpp and docs/gpu.md.
//
// A request lives in the shared segment area's memory (so no DSM segment is
// made per request): the backend writes it, queues it, sets the worker's
// latch and waits on its own latch. Cancellation: a backend leaving the wait
// (cancel, timeout, terminate) marks its request abandoned and the worker
// frees it; a worker that exits fails every request it holds or has queued
// (its exit callback), so no backend waits on a worker that is gone.
#include "am/gpu_protocol.hpp"

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
}

int			vecdb_gpu_mode = VECDB_GPU_OFF;
int			vecdb_train_device = VECDB_TRAIN_CPU;
int			vecdb_gpu_memory_mb = 4096;
double		vecdb_gpu_batch_window_ms = 0.1;
bool		vecdb_gpu_stand_in = false;

GpuQueue   *vecdb_gpu_queue = NULL;

static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;

// kAutoMinWork is the rows x dimensions a segment search scores from which
// vecdb.gpu = auto sends it to a GPU: about 4M multiply-adds, a millisecond
// of one CPU core, against a round trip to the worker of ~0.1-0.2 ms and a
// device scan of 1M x 128 in 0.18 ms (docs/gpu.md).
static const double kAutoMinWork = 4.0 * 1024 * 1024;

// kScratchShare: a request takes at most this fraction of the shared area.
static const Size kScratchShare = 16;

// GpuRequestShmem asks for the queue's shared memory.
static void
GpuRequestShmem(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(GpuQueue)));
}

// GpuStartupShmem creates or finds the queue.
static void
GpuStartupShmem(void)
{
	bool		found;

	if (prev_startup_hook)
		prev_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	vecdb_gpu_queue = (GpuQueue *) ShmemInitStruct("vecdb gpu queue", sizeof(GpuQueue), &found);
	if (!found)
	{
		memset(vecdb_gpu_queue, 0, sizeof(GpuQueue));
		SpinLockInit(&vecdb_gpu_queue->mutex);
		strlcpy(vecdb_gpu_queue->device, "not started", sizeof(vecdb_gpu_queue->device));
	}
	LWLockRelease(AddinShmemInitLock);
}

// VecdbGpuInit sets up the queue and registers the worker when vecdb is
// preloaded, the shared segment area is on, and vecdb.gpu is not off in the
// server's configuration (or vecdb.gpu_stand_in is on).
void
VecdbGpuInit(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress || vecdb_shared_memory_mb == 0)
		return;
	if (vecdb_gpu_mode == VECDB_GPU_OFF && !vecdb_gpu_stand_in)
		return;
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = GpuRequestShmem;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = GpuStartupShmem;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_PostmasterStart;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "vecdb", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "vecdb_gpu_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "vecdb gpu worker", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "vecdb gpu", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

// GpuWake sets the latch of the process with PGPROC number procno.
void
GpuWake(int procno)
{
	if (procno >= 0 && procno < (int) ProcGlobal->allProcCount)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

// VecdbGpuScoredRows estimates the rows one query's search of a segment
// scores: every allowed row for an exact search; for IVF_FLAT above its
// brute-force ratio the rows of the probed lists (nprobe / f lists of about
// rows / nlist rows, f the allowed fraction: allowed x nprobe / (f nlist) =
// rows x nprobe / nlist, at most the allowed rows).
double
VecdbGpuScoredRows(int kind, uint64 rows, uint64 allowed, int lists, int dims, int metric,
				   const VecdbEngineSearchParams *params)
{
	double		ratio;

	if (kind != VECDB_ENGINE_IVF_FLAT || rows == 0)
		return (double) allowed;
	lists = Max(lists, 1);
	ratio = params->brute_force_ratio >= 0 ? params->brute_force_ratio
		: VecdbEngineDefaultBruteForceRatio(kind, lists, params->nprobe, params->ef_search, rows, dims, metric);
	if ((double) allowed < ratio * (double) rows)
		return (double) allowed;
	return Min((double) allowed, (double) rows * Min(1.0, (double) params->nprobe / lists));
}

// VecdbGpuChoose says whether a sealed segment's search goes to the worker:
// searches of float rows, i.e. FLAT and IVF_FLAT segments and HNSW ones
// whose condition allows so few rows that the engine searches them exactly
// (exact_filtered), of segments searched in place in the shared area
// (the worker reads that copy; without the area, under on, to raise the
// error), under vecdb.gpu = on always, under auto when
// the worker is serving and the rows to score (scored: VecdbGpuScoredRows,
// times the queries of a batch) x dims are enough (kAutoMinWork).
// Every other segment stays on this backend's CPU. The CPU stand-in is
// routed as a GPU would be (it exists to test this path), so auto with the
// stand-in is slower than off: docs/gpu.md.
bool
VecdbGpuChoose(int kind, int elem_type, double scored, int dims, bool in_place, bool exact_filtered)
{
	GpuQueue   *q = vecdb_gpu_queue;
	bool		serving = false;

	if (vecdb_gpu_mode == VECDB_GPU_OFF)
		return false;
	if (!(kind == VECDB_ENGINE_FLAT || kind == VECDB_ENGINE_IVF_FLAT || (kind == VECDB_ENGINE_HNSW && exact_filtered)) ||
		(elem_type != VECDB_ELEM_VECTOR && elem_type != VECDB_ELEM_HALFVEC))
		return false;
	/* on, but no worker can exist: the request raises the error that says why */
	if (q == NULL)
		return vecdb_gpu_mode == VECDB_GPU_ON;
	if (!in_place)
		return false;
	if (vecdb_gpu_mode == VECDB_GPU_ON)
		return true;
	SpinLockAcquire(&q->mutex);
	serving = q->state == GPU_WORKER_READY;
	SpinLockRelease(&q->mutex);
	return serving && scored * (double) dims >= kAutoMinWork;
}

// Unavailable handles a request that cannot be sent or served: an ERROR under
// vecdb.gpu = on, otherwise VECDB_GPU_UNAVAILABLE (the caller searches on the CPU).
static VecdbGpuOutcome
Unavailable(VecdbGpuOutcome outcome, const char *why, char *out, size_t outlen)
{
	strlcpy(out, why, outlen);
	if (vecdb_gpu_mode == VECDB_GPU_ON)
		ereport(ERROR,
				(errcode(outcome == VECDB_GPU_FAILED ? ERRCODE_SYSTEM_ERROR : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vecdb GPU worker %s: %s", outcome == VECDB_GPU_FAILED ? "failed" : "is not available", why),
				 errhint("Set vecdb.gpu = auto to search on the CPU when the worker cannot.")));
	return outcome;
}

// WorkerState copies the worker's state and device line.
static int
WorkerState(uint64 *generation, char *device, size_t len)
{
	GpuQueue   *q = vecdb_gpu_queue;
	int			state;

	SpinLockAcquire(&q->mutex);
	state = q->state;
	*generation = q->generation;
	strlcpy(device, q->device, len);
	SpinLockRelease(&q->mutex);
	return state;
}

// Release frees a request the worker no longer holds, or leaves it to the
// worker (abandoned) when it still does.
static void
Release(dsa_pointer dp, GpuRequest *req)
{
	uint32		st = pg_atomic_read_u32(&req->state);

	while (st == GPU_REQ_QUEUED || st == GPU_REQ_TAKEN)
	{
		if (pg_atomic_compare_exchange_u32(&req->state, &st, GPU_REQ_ABANDONED))
			return;				/* the worker frees it */
	}
	VecdbSharedScratchFree(dp);
}

// WaitingRequest is the request a backend waits for, for ReleaseOnExit.
typedef struct WaitingRequest
{
	dsa_pointer dp;
	GpuRequest *req;
} WaitingRequest;

// ReleaseOnExit releases the request waited for when the wait ends with an
// ERROR or FATAL (cancel, statement timeout, pg_terminate_backend).
static void
ReleaseOnExit(int code, Datum arg)
{
	WaitingRequest *w = (WaitingRequest *) DatumGetPointer(arg);

	Release(w->dp, w->req);
}

// WaitFor waits until the worker finishes req; ERRORs and FATALs (cancel,
// timeout, terminate) leave through ReleaseOnExit. A worker that is gone without failing the request
// (it was killed: the postmaster then restarts everyone anyway) ends the
// wait too.
static uint32
WaitFor(GpuRequest *req)
{
	GpuQueue   *q = vecdb_gpu_queue;

	for (;;)
	{
		uint32		st = pg_atomic_read_u32(&req->state);
		bool		gone;

		if (st == GPU_REQ_DONE || st == GPU_REQ_FAILED || st == GPU_REQ_DECLINED)
		{
			pg_read_barrier();	/* the answer was written before the state */
			return st;
		}
		SpinLockAcquire(&q->mutex);
		gone = q->state != GPU_WORKER_READY || q->generation != req->generation;
		SpinLockRelease(&q->mutex);
		if (gone)
		{
			st = pg_atomic_read_u32(&req->state);
			if (st == GPU_REQ_DONE || st == GPU_REQ_FAILED || st == GPU_REQ_DECLINED)
			{
				pg_read_barrier();
				return st;
			}
			return GPU_REQ_ABANDONED;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

// VecdbGpuSearch sends nq queries (engine rows of row_bytes) against the
// shared copy of one sealed segment to the worker and waits: k results per
// query at out + q * k in distance order, counts[q] of them real. ivf holds
// an IVF_FLAT search's nprobe and brute-force ratio (NULL: an exact search).
// bits (set bit = skip, nbits) may be NULL. Under vecdb.gpu = on a worker that is
// missing or fails raises an ERROR; otherwise the outcome says what happened
// and why (the caller then searches on the CPU).
VecdbGpuOutcome
VecdbGpuSearch(const VecdbSharedPin *copy, const void *queries, int nq, size_t row_bytes, int k,
			   const VecdbEngineSearchParams *ivf, const uint8 *bits, uint64 nbits, VecdbNeighbor *out, int *counts,
			   char *why, size_t whylen)
{
	GpuQueue   *q = vecdb_gpu_queue;
	char		device[sizeof(q->device)];
	uint64		generation;
	Size		queries_off = MAXALIGN(sizeof(GpuRequest));
	Size		bits_off = MAXALIGN(queries_off + (Size) nq * row_bytes);
	Size		results_off = MAXALIGN(bits_off + (bits ? (nbits + 7) / 8 : 0));
	Size		counts_off = MAXALIGN(results_off + (Size) nq * k * sizeof(VecdbNeighbor));
	Size		total = counts_off + (Size) nq * sizeof(int);
	dsa_pointer dp;
	GpuRequest *req;
	char	   *base;
	int			procno = -1;
	bool		queued = false;
	uint32		st;

	if (q == NULL)
		return Unavailable(VECDB_GPU_UNAVAILABLE,
						   "vecdb is not in shared_preload_libraries, or vecdb.gpu was off at server start",
						   why, whylen);
	if (WorkerState(&generation, device, sizeof(device)) != GPU_WORKER_READY)
		return Unavailable(VECDB_GPU_UNAVAILABLE, device, why, whylen);
	/* a request may evict cached segments to fit: only small ones may */
	if (total > (Size) vecdb_shared_memory_mb * 1024 * 1024 / kScratchShare)
		return Unavailable(VECDB_GPU_UNAVAILABLE, "the request is larger than 1/16 of vecdb.shared_memory_size", why,
						   whylen);
	dp = VecdbSharedScratchAlloc(total);
	if (!DsaPointerIsValid(dp))
		return Unavailable(VECDB_GPU_UNAVAILABLE, "no room for the request in vecdb.shared_memory_size", why,
						   whylen);
	base = (char *) VecdbSharedScratchAddress(dp);
	req = (GpuRequest *) base;
	memset(req, 0, sizeof(GpuRequest));
	pg_atomic_init_u32(&req->state, GPU_REQ_QUEUED);
	req->owner_procno = MyProc->pgprocno;
	req->copy = *copy;
	req->nq = nq;
	req->row_bytes = (int32) row_bytes;
	req->k = k;
	req->nprobe = ivf ? ivf->nprobe : 1;
	req->brute_force_ratio = ivf ? ivf->brute_force_ratio : 1.0;
	req->nbits = bits ? nbits : 0;
	req->queries_off = queries_off;
	req->bits_off = bits ? bits_off : 0;
	req->results_off = results_off;
	req->counts_off = counts_off;
	memcpy(base + queries_off, queries, (Size) nq * row_bytes);
	if (bits)
		memcpy(base + bits_off, bits, (nbits + 7) / 8);

	SpinLockAcquire(&q->mutex);
	if (q->state == GPU_WORKER_READY && q->count < kGpuRingSize)
	{
		req->generation = q->generation;
		q->ring[(q->head + q->count) % kGpuRingSize] = dp;
		q->count++;
		q->requests++;
		q->queries += nq;
		procno = q->worker_procno;
		queued = true;
	}
	SpinLockRelease(&q->mutex);
	if (!queued)
	{
		VecdbSharedScratchFree(dp);
		return Unavailable(VECDB_GPU_UNAVAILABLE, "the worker's queue is full or the worker left", why, whylen);
	}
	GpuWake(procno);

	{
		WaitingRequest w = {dp, req};

		PG_ENSURE_ERROR_CLEANUP(ReleaseOnExit, PointerGetDatum(&w));
		{
			st = WaitFor(req);
		}
		PG_END_ENSURE_ERROR_CLEANUP(ReleaseOnExit, PointerGetDatum(&w));
	}

	if (st == GPU_REQ_DONE)
	{
		memcpy(out, base + results_off, (Size) nq * k * sizeof(VecdbNeighbor));
		memcpy(counts, base + counts_off, (Size) nq * sizeof(int));
		VecdbSharedScratchFree(dp);
		return VECDB_GPU_SERVED;
	}
	if (st == GPU_REQ_ABANDONED)
	{
		Release(dp, req);
		return Unavailable(VECDB_GPU_FAILED, "the worker exited", why, whylen);
	}
	strlcpy(why, req->message, whylen);
	VecdbSharedScratchFree(dp);
	if (st == GPU_REQ_DECLINED)
		return VECDB_GPU_DECLINED;
	{
		char		msg[sizeof(req->message)];

		strlcpy(msg, why, sizeof(msg));
		return Unavailable(VECDB_GPU_FAILED, msg, why, whylen);
	}
}

// VecdbGpuDeviceName says what the worker runs on ("cpu stand-in", a GPU's
// name), for vecdb_last_scan; "none" without a worker.
void
VecdbGpuDeviceName(char *out, size_t len)
{
	uint64		generation;

	if (vecdb_gpu_queue == NULL || WorkerState(&generation, out, len) != GPU_WORKER_READY)
		strlcpy(out, "none", len);
}

// vecdb_gpu_status describes the GPU worker: the session's vecdb.gpu, the
// worker's state, pid and device (or why there is none), and its counters.
VECDB_FUNCTION(vecdb_gpu_status)
{
	TupleDesc	desc;
	Datum		values[14];
	bool		nulls[14];
	GpuQueue	copy;
	static const char *const modes[] = {"off", "auto", "on"};
	static const char *const states[] = {"absent", "ready", "no device"};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	memset(&copy, 0, sizeof(copy));
	if (vecdb_gpu_queue != NULL)
	{
		SpinLockAcquire(&vecdb_gpu_queue->mutex);
		memcpy(&copy, vecdb_gpu_queue, offsetof(GpuQueue, ring));
		copy.requests = vecdb_gpu_queue->requests;
		copy.queries = vecdb_gpu_queue->queries;
		copy.batches = vecdb_gpu_queue->batches;
		copy.max_batch = vecdb_gpu_queue->max_batch;
		copy.failed = vecdb_gpu_queue->failed;
		copy.declined = vecdb_gpu_queue->declined;
		copy.abandoned = vecdb_gpu_queue->abandoned;
		copy.resident = vecdb_gpu_queue->resident;
		copy.resident_bytes = vecdb_gpu_queue->resident_bytes;
		SpinLockRelease(&vecdb_gpu_queue->mutex);
	}
	else
		strlcpy(copy.device, "no worker: vecdb is not preloaded, or vecdb.gpu was off at server start",
				sizeof(copy.device));
	values[0] = CStringGetTextDatum(modes[vecdb_gpu_mode]);
	values[1] = CStringGetTextDatum(states[copy.state]);
	values[2] = Int32GetDatum(copy.worker_pid);
	nulls[2] = copy.worker_pid == 0;
	values[3] = CStringGetTextDatum(copy.device);
	values[4] = Int64GetDatum((int64) copy.requests);
	values[5] = Int64GetDatum((int64) copy.queries);
	values[6] = Int64GetDatum((int64) copy.batches);
	values[7] = Int64GetDatum((int64) copy.max_batch);
	values[8] = Int64GetDatum((int64) copy.failed);
	values[9] = Int64GetDatum((int64) copy.declined);
	values[10] = Int64GetDatum((int64) copy.abandoned);
	values[11] = Int32GetDatum(copy.count);
	values[12] = Int64GetDatum((int64) copy.resident);
	values[13] = Int64GetDatum((int64) copy.resident_bytes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
