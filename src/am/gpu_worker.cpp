// gpu_worker.cpp is the GPU worker (DESIGN.md 5): the one process of the
// server that owns the device, so backends never make a CUDA context. It
// takes the requests queued since its last round (gpu_queue.cpp), waits
// vecdb.gpu_batch_window for more, answers the requests against the same
// segment, k and bitset with one engine call, and keeps the segments it
// served resident (within vecdb.gpu_memory_size, least recently used first
// out). The device engine is chosen at start: without a usable GPU the worker
// exits for good (state "no device", with the reason), unless
// vecdb.gpu_stand_in is on: it then serves with the CPU engine over the
// segments' shared copies, which is how the tests drive the protocol without
// a device. docs/gpu.md ("The GPU worker").
#include "am/fault_inject.hpp"
#include "am/gpu_protocol.hpp"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PGDLLEXPORT void vecdb_gpu_worker_main(Datum arg);
}

// kIdleDropSeconds: a resident segment unused this long is dropped, so that
// its shared copy (which the worker pins) can be evicted from the area.
static const int kIdleDropSeconds = 60;

// Resident is one segment the worker holds: which shared copy it came from
// (key), its engine, and the pin on that copy while the engine reads it (the
// stand-in searches the copy in place; a device holds its own).
typedef struct Resident
{
	VecdbSharedPin key;
	VecdbSharedPin pin;			/* entry NULL: none held */
	VecdbEngineIndex *engine;
	size_t		bytes;
	TimestampTz last_use;
} Resident;

static Resident *residents = NULL;
static int	nresidents = 0;
static size_t resident_bytes = 0;

// on_device: the worker found a GPU (else it is the CPU stand-in).
static bool on_device = false;

// The requests of the round being served, failed by WorkerExit if the
// worker leaves mid-round.
static dsa_pointer taken[kGpuRingSize];
static int	ntaken = 0;

// Finish moves a request to its final state and wakes its owner, or frees
// it when its owner has left (counted as abandoned).
static void
Finish(dsa_pointer dp, uint32 to, const char *message, int batch_queries)
{
	GpuRequest *r = GpuRequestAt(dp);
	uint32		st = pg_atomic_read_u32(&r->state);
	int			owner = r->owner_procno;	/* the owner may free r once it is final */

	if (st != GPU_REQ_QUEUED && st != GPU_REQ_TAKEN && st != GPU_REQ_ABANDONED)
		return;					/* final already */
	if (message)
		strlcpy(r->message, message, sizeof(r->message));
	r->batch_queries = batch_queries;
	pg_write_barrier();
	while (st == GPU_REQ_QUEUED || st == GPU_REQ_TAKEN)
	{
		if (pg_atomic_compare_exchange_u32(&r->state, &st, to))
		{
			GpuWake(owner);
			return;
		}
	}
	if (st == GPU_REQ_ABANDONED)
	{
		VecdbSharedScratchFree(dp);
		SpinLockAcquire(&vecdb_gpu_queue->mutex);
		vecdb_gpu_queue->abandoned++;
		SpinLockRelease(&vecdb_gpu_queue->mutex);
	}
}

// WorkerExit fails every request the worker holds or has queued, so no
// backend waits for an answer that will not come (before_shmem_exit: a
// FATAL, pg_terminate_backend, an ERROR outside a round).
static void
WorkerExit(int code, Datum arg)
{
	GpuQueue   *q = vecdb_gpu_queue;
	dsa_pointer queued[kGpuRingSize];
	int			nqueued = 0;

	SpinLockAcquire(&q->mutex);
	q->state = GPU_WORKER_ABSENT;
	q->worker_pid = 0;
	q->worker_procno = -1;
	strlcpy(q->device, "exited; restarting", sizeof(q->device));
	while (q->count > 0)
	{
		queued[nqueued++] = q->ring[q->head];
		q->head = (q->head + 1) % kGpuRingSize;
		q->count--;
	}
	q->head = 0;
	q->failed += nqueued;
	q->resident = 0;
	q->resident_bytes = 0;
	SpinLockRelease(&q->mutex);
	for (int i = 0; i < ntaken; i++)
		if (DsaPointerIsValid(taken[i]))
			Finish(taken[i], GPU_REQ_FAILED, "the GPU worker exited while serving the request", 0);
	for (int i = 0; i < nqueued; i++)
		Finish(queued[i], GPU_REQ_FAILED, "the GPU worker exited before serving the request", 0);
	ntaken = 0;
}

// NoDevice publishes why the worker cannot serve and exits for good (exit
// code 0: the postmaster does not restart it).
static void
NoDevice(const char *why)
{
	GpuQueue   *q = vecdb_gpu_queue;

	SpinLockAcquire(&q->mutex);
	q->state = GPU_WORKER_NO_DEVICE;
	strlcpy(q->device, why, sizeof(q->device));
	SpinLockRelease(&q->mutex);
	ereport(LOG, (errmsg("vecdb gpu worker: %s; searches stay on the CPU", why)));
	proc_exit(0);
}

// ProbeDevice names the device the worker serves on; false with the reason
// when there is none (a build without CUDA: make VECDB_CUDA=1 links src/gpu).
static bool
ProbeDevice(char *out, size_t len)
{
	return VecdbEngineGpuProbe(out, len);
}

// DropResident frees resident i (its engine, then its pin).
static void
DropResident(int i)
{
	Resident	r = residents[i];

	residents[i] = residents[--nresidents];
	resident_bytes -= r.bytes;
	VecdbEngineFree(r.engine);
	VecdbSharedUnpin(&r.pin);
}

// PublishResidents copies the resident counts to the queue.
static void
PublishResidents(void)
{
	SpinLockAcquire(&vecdb_gpu_queue->mutex);
	vecdb_gpu_queue->resident = nresidents;
	vecdb_gpu_queue->resident_bytes = resident_bytes;
	SpinLockRelease(&vecdb_gpu_queue->mutex);
}

// DropIdle drops the residents unused for kIdleDropSeconds.
static void
DropIdle(void)
{
	TimestampTz now = GetCurrentTimestamp();

	for (int i = nresidents - 1; i >= 0; i--)
		if (TimestampDifferenceExceeds(residents[i].last_use, now, kIdleDropSeconds * 1000))
			DropResident(i);
	PublishResidents();
}

// Residency returns the resident engine of a request's segment, making it
// resident if needed; NULL with why when the worker declines it.
static Resident *
Residency(const VecdbSharedPin *copy, char *why, size_t whylen)
{
	size_t		budget = (size_t) vecdb_gpu_memory_mb * 1024 * 1024;
	VecdbSharedPin pin;
	const char *bytes;
	size_t		size = 0;
	bool		in_place;
	Resident   *r;

	for (int i = 0; i < nresidents; i++)
		if (residents[i].key.entry == copy->entry && residents[i].key.incarnation == copy->incarnation)
		{
			residents[i].last_use = GetCurrentTimestamp();
			return &residents[i];
		}
	bytes = VecdbSharedPinCopy(copy, &size, &pin);
	if (bytes == NULL)
	{
		strlcpy(why, "the segment's shared copy is gone (evicted or replaced)", whylen);
		return NULL;
	}
	if (size > budget)
	{
		VecdbSharedUnpin(&pin);
		snprintf(why, whylen, "the segment (%zu MB) is larger than vecdb.gpu_memory_size", size >> 20);
		return NULL;
	}
	while (nresidents > 0 && resident_bytes + size > budget)
	{
		int			oldest = 0;

		for (int i = 1; i < nresidents; i++)
			if (residents[i].last_use < residents[oldest].last_use)
				oldest = i;
		DropResident(oldest);
	}
	if (residents == NULL)
		residents = (Resident *) MemoryContextAlloc(TopMemoryContext, sizeof(Resident) * 2 * VECDB_MAX_SEGMENTS);
	if (nresidents == 2 * VECDB_MAX_SEGMENTS)
		DropResident(0);
	r = &residents[nresidents];
	PG_TRY();
	{
		r->engine = VecdbEngineOpenBytes(bytes, size, &in_place);
		if (on_device)
		{
			/* the device keeps its own copy: the view goes at once */
			VecdbEngineIndex *view = r->engine;

			r->engine = NULL;
			PG_TRY();
			{
				r->engine = VecdbEngineToGpu(view);
			}
			PG_FINALLY();
			{
				VecdbEngineFree(view);
			}
			PG_END_TRY();
		}
	}
	PG_CATCH();
	{
		VecdbSharedUnpin(&pin);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (on_device)
	{
		/* the device keeps its own copy: the shared one may go */
		VecdbSharedUnpin(&pin);
		memset(&pin, 0, sizeof(pin));
	}
	r->key = *copy;
	r->pin = pin;
	r->bytes = size;
	r->last_use = GetCurrentTimestamp();
	nresidents++;
	resident_bytes += size;
	PublishResidents();
	return r;
}

// SameGroup says whether two requests can share one engine call: the same
// segment copy, k, query size, search settings and bitset.
static bool
SameGroup(const GpuRequest *a, const GpuRequest *b)
{
	if (a->copy.entry != b->copy.entry || a->copy.incarnation != b->copy.incarnation || a->k != b->k ||
		a->row_bytes != b->row_bytes || a->nbits != b->nbits || a->nprobe != b->nprobe ||
		a->brute_force_ratio != b->brute_force_ratio)
		return false;
	if (a->nbits == 0)
		return true;
	return memcmp((const char *) a + a->bits_off, (const char *) b + b->bits_off, (a->nbits + 7) / 8) == 0;
}

// ServeGroup answers the requests members[0..n) with one engine call.
static void
ServeGroup(dsa_pointer *members, int n)
{
	GpuRequest *lead = GpuRequestAt(members[0]);
	MemoryContext cxt = CurrentMemoryContext;
	char		why[200];
	Resident   *r;
	int			total = 0;
	int			k = lead->k;
	size_t		row_bytes = lead->row_bytes;

	PG_TRY();
	{
		char	   *queries;
		VecdbNeighbor *out;
		int		   *counts;
		VecdbEngineSearchParams params;
		int			at = 0;

		VecdbFaultPoint("gpu_worker_search");
		r = Residency(&lead->copy, why, sizeof(why));
		if (r == NULL)
		{
			for (int i = 0; i < n; i++)
				Finish(members[i], GPU_REQ_DECLINED, why, 0);
			SpinLockAcquire(&vecdb_gpu_queue->mutex);
			vecdb_gpu_queue->declined += n;
			SpinLockRelease(&vecdb_gpu_queue->mutex);
		}
		else
		{
			for (int i = 0; i < n; i++)
				total += GpuRequestAt(members[i])->nq;
			queries = (char *) MemoryContextAllocHuge(cxt, (Size) total * row_bytes);
			out = (VecdbNeighbor *) MemoryContextAllocHuge(cxt, (Size) total * k * sizeof(VecdbNeighbor));
			counts = (int *) palloc((Size) total * sizeof(int));
			for (int i = 0; i < n; i++)
			{
				GpuRequest *m = GpuRequestAt(members[i]);

				memcpy(queries + (Size) at * row_bytes, (char *) m + m->queries_off, (Size) m->nq * row_bytes);
				at += m->nq;
			}
			memset(&params, 0, sizeof(params));
			params.ef_search = 40;
			/* IVF_FLAT: the scan's settings; exact kinds send 1 and ratio 1 (graph segments
			 * come only for searches their engine would run exactly) */
			params.nprobe = lead->nprobe;
			params.brute_force_ratio = lead->brute_force_ratio;
			/* IVF: every request is a scan's first batch, which the iterator would return */
			params.widen_probes = true;
			VecdbEngineSearch(r->engine, queries, total, k, &params,
							  lead->nbits ? (const uint8 *) lead + lead->bits_off : NULL, lead->nbits, out, counts);
			at = 0;
			for (int i = 0; i < n; i++)
			{
				GpuRequest *m = GpuRequestAt(members[i]);

				memcpy((char *) m + m->results_off, out + (Size) at * k, (Size) m->nq * k * sizeof(VecdbNeighbor));
				memcpy((char *) m + m->counts_off, counts + at, (Size) m->nq * sizeof(int));
				at += m->nq;
				Finish(members[i], GPU_REQ_DONE, NULL, total);
			}
			SpinLockAcquire(&vecdb_gpu_queue->mutex);
			vecdb_gpu_queue->batches++;
			vecdb_gpu_queue->max_batch = Max(vecdb_gpu_queue->max_batch, (uint64) total);
			SpinLockRelease(&vecdb_gpu_queue->mutex);
		}
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(cxt);
		ed = CopyErrorData();
		FlushErrorState();
		/* as a backend's abort would: no lock or sleep survives the error */
		LWLockReleaseAll();
		ConditionVariableCancelSleep();
		ereport(LOG, (errmsg("vecdb gpu worker: a search failed: %s", ed->message)));
		for (int i = 0; i < n; i++)
			Finish(members[i], GPU_REQ_FAILED, ed->message, 0);
		SpinLockAcquire(&vecdb_gpu_queue->mutex);
		vecdb_gpu_queue->failed += n;
		SpinLockRelease(&vecdb_gpu_queue->mutex);
		FreeErrorData(ed);
	}
	PG_END_TRY();
}

// TakeQueued moves the queued requests into taken (as TAKEN); requests
// their owners abandoned meanwhile are freed.
static void
TakeQueued(void)
{
	GpuQueue   *q = vecdb_gpu_queue;
	dsa_pointer got[kGpuRingSize];
	int			n = 0;
	int			abandoned = 0;

	SpinLockAcquire(&q->mutex);
	while (q->count > 0)
	{
		got[n++] = q->ring[q->head];
		q->head = (q->head + 1) % kGpuRingSize;
		q->count--;
	}
	SpinLockRelease(&q->mutex);
	ntaken = 0;
	for (int i = 0; i < n; i++)
	{
		GpuRequest *r = GpuRequestAt(got[i]);
		uint32		st = GPU_REQ_QUEUED;

		if (pg_atomic_compare_exchange_u32(&r->state, &st, GPU_REQ_TAKEN))
			taken[ntaken++] = got[i];
		else
		{
			VecdbSharedScratchFree(got[i]);
			abandoned++;
		}
	}
	if (abandoned > 0)
	{
		SpinLockAcquire(&q->mutex);
		q->abandoned += abandoned;
		SpinLockRelease(&q->mutex);
	}
}

// ServeTaken answers the taken requests, grouped.
static void
ServeTaken(MemoryContext round)
{
	bool		served[kGpuRingSize];
	dsa_pointer members[kGpuRingSize];

	memset(served, 0, sizeof(served));
	for (int i = 0; i < ntaken; i++)
	{
		GpuRequest *lead;
		int			n = 0;

		if (served[i])
			continue;
		lead = GpuRequestAt(taken[i]);
		for (int j = i; j < ntaken; j++)
			if (!served[j] && (j == i || SameGroup(lead, GpuRequestAt(taken[j]))))
			{
				members[n++] = taken[j];
				served[j] = true;
			}
		MemoryContextReset(round);
		MemoryContextSwitchTo(round);
		ServeGroup(members, n);
		MemoryContextSwitchTo(TopMemoryContext);
		/* the owners of a finished group may free their requests from now on */
		for (int j = 0; j < n; j++)
			for (int t = 0; t < ntaken; t++)
				if (taken[t] == members[j])
					taken[t] = InvalidDsaPointer;
	}
	ntaken = 0;
}

// vecdb_gpu_worker_main is the worker's entry point.
void
vecdb_gpu_worker_main(Datum arg)
{
	GpuQueue   *q = vecdb_gpu_queue;
	char		device[sizeof(q->device)];
	MemoryContext round;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (q == NULL)
		proc_exit(0);
	if (!VecdbSharedActive())
		NoDevice("the shared segment area is off (vecdb.shared_memory_size = 0)");
	on_device = ProbeDevice(device, sizeof(device));
	if (!on_device)
	{
		if (!vecdb_gpu_stand_in)
			NoDevice(device);
		strlcpy(device, "cpu stand-in", sizeof(device));
	}
	round = AllocSetContextCreate(TopMemoryContext, "vecdb gpu round", ALLOCSET_DEFAULT_SIZES);
	before_shmem_exit(WorkerExit, (Datum) 0);
	SpinLockAcquire(&q->mutex);
	q->state = GPU_WORKER_READY;
	q->worker_pid = MyProcPid;
	q->worker_procno = MyProc->pgprocno;
	q->generation++;
	strlcpy(q->device, device, sizeof(q->device));
	SpinLockRelease(&q->mutex);
	ereport(LOG, (errmsg("vecdb gpu worker serving on %s", device)));

	for (;;)
	{
		bool		have;

		SpinLockAcquire(&q->mutex);
		have = q->count > 0;
		SpinLockRelease(&q->mutex);
		if (!have)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!have)
		{
			DropIdle();
			continue;
		}
		if (vecdb_gpu_batch_window_ms > 0)
			pg_usleep((long) (vecdb_gpu_batch_window_ms * 1000.0));
		TakeQueued();
		ServeTaken(round);
	}
}
