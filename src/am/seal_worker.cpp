// seal_worker.cpp seals growing segments in the background (vecdb in
// shared_preload_libraries): when an insert leaves an index's growing segment
// holding vecdb.seal_growing_rows rows or more, the inserting backend queues
// the index in shared memory and wakes the seal leader, a background worker.
// The leader runs one job at a time (the bound on concurrent seals across all
// databases): a worker connected to the index's database runs a compaction
// (VecdbCompact, the same WAL-logged directory switch as VACUUM's), which
// builds the growing rows into a new sealed segment and merges small sealed
// segments by the usual policy. Queries and inserts go on meanwhile; a
// compaction already running elsewhere makes the job a no-op. Without
// preload, VACUUM and vecdb_compact() seal as before.
#include "am/am.hpp"

extern "C" {
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/procsignal.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/snapmgr.h"
}

#define SEAL_QUEUE_SIZE	64
/* compactions shown besides the seal job (VACUUM, autovacuum, vecdb_compact) */
#define OTHER_COMPACTIONS	16

int			vecdb_seal_growing_rows = 10000;

// SealRequest is one queued index.
typedef struct SealRequest
{
	Oid			database;
	Oid			index;
} SealRequest;

// SealJob is the job a seal worker runs, with its compaction's progress.
typedef struct SealJob
{
	bool		active;
	SealRequest req;
	int			pid;
	TimestampTz started;
	VecdbCompactProgress progress;	/* phase 0: not started yet */
} SealJob;

// SealQueue is the shared queue of indexes to seal.
typedef struct SealQueue
{
	slock_t		mutex;
	int			n;
	Latch	   *leader_latch;	/* NULL while no leader runs */
	uint64		requested;		/* counters, for tests and monitoring */
	uint64		sealed;
	SealJob		running;
	SealJob		others[OTHER_COMPACTIONS];	/* by pid; inactive slots are free */
	SealRequest items[SEAL_QUEUE_SIZE];
} SealQueue;

static SealQueue *queue = NULL;
static bool seal_preloaded = false;

static void PublishOther(const VecdbCompactProgress *p);
static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;

extern "C" {
PGDLLEXPORT void vecdb_seal_leader_main(Datum arg);
PGDLLEXPORT void vecdb_seal_database_main(Datum arg);
}

// SealRequestShmem asks for the queue's memory (shmem_request_hook).
static void
SealRequestShmem(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SealQueue)));
}

// SealStartupShmem creates or finds the queue (shmem_startup_hook).
static void
SealStartupShmem(void)
{
	bool		found;

	if (prev_startup_hook)
		prev_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = (SealQueue *) ShmemInitStruct("vecdb seal queue", sizeof(SealQueue), &found);
	if (!found)
	{
		memset(queue, 0, sizeof(SealQueue));
		SpinLockInit(&queue->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

// VecdbSealInit installs the queue and registers the leader (from _PG_init
// while the library is preloaded).
void
VecdbSealInit(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	seal_preloaded = true;
	/* every backend forked from here shows its compactions */
	vecdb_compact_progress_hook = PublishOther;
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = SealRequestShmem;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = SealStartupShmem;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "vecdb", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "vecdb_seal_leader_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "vecdb seal leader", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "vecdb seal", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

// VecdbSealAfterInsert queues index for a background seal when its growing
// segment holds rows rows (an insert's metapage view) and that reaches
// vecdb.seal_growing_rows; it never waits and never fails the insert.
void
VecdbSealAfterInsert(Relation index, uint64 rows)
{
	Latch	   *wake = NULL;
	bool		queued = false;

	if (!seal_preloaded || queue == NULL || vecdb_seal_growing_rows <= 0 ||
		rows < (uint64) vecdb_seal_growing_rows)
		return;
	SpinLockAcquire(&queue->mutex);
	for (int i = 0; i < queue->n && !queued; i++)
		queued = queue->items[i].database == MyDatabaseId && queue->items[i].index == RelationGetRelid(index);
	if (!queued && queue->n < SEAL_QUEUE_SIZE)
	{
		queue->items[queue->n].database = MyDatabaseId;
		queue->items[queue->n].index = RelationGetRelid(index);
		queue->n++;
		queue->requested++;
		wake = queue->leader_latch;
	}
	SpinLockRelease(&queue->mutex);
	if (wake != NULL)
		SetLatch(wake);
}

// TakeRequest pops the oldest request; false when the queue is empty.
static bool
TakeRequest(SealRequest *out)
{
	bool		have;

	SpinLockAcquire(&queue->mutex);
	have = queue->n > 0;
	if (have)
	{
		*out = queue->items[0];
		memmove(&queue->items[0], &queue->items[1], sizeof(SealRequest) * (queue->n - 1));
		queue->n--;
	}
	SpinLockRelease(&queue->mutex);
	return have;
}

// RunSealJob seals one index in a worker connected to its database and waits
// for it to end.
static void
RunSealJob(const SealRequest *req)
{
	char		name[BGW_MAXLEN];

	SpinLockAcquire(&queue->mutex);
	memset(&queue->running, 0, sizeof(queue->running));
	queue->running.active = true;
	queue->running.req = *req;
	queue->running.started = GetCurrentTimestamp();
	SpinLockRelease(&queue->mutex);
	PG_TRY();
	{
		snprintf(name, sizeof(name), "vecdb seal index %u", req->index);
		if (!VecdbRunDatabaseJob("vecdb_seal_database_main", "vecdb seal", name, req->database, req->index))
			ereport(LOG, (errmsg("vecdb could not start a worker to seal index %u", req->index),
						  errhint("More max_worker_processes may be needed; VACUUM seals it meanwhile.")));
	}
	PG_FINALLY();
	{
		SpinLockAcquire(&queue->mutex);
		queue->running.active = false;
		SpinLockRelease(&queue->mutex);
	}
	PG_END_TRY();
}

// PublishProgress is the seal worker's compaction progress hook (its job's
// end is RunSealJob's to publish).
static void
PublishProgress(const VecdbCompactProgress *p)
{
	if (p->phase == VECDB_COMPACT_DONE)
		return;
	SpinLockAcquire(&queue->mutex);
	queue->running.progress = *p;
	SpinLockRelease(&queue->mutex);
}

// PublishOther is any other backend's compaction progress hook: its slot
// in queue->others (taken at the first report, freed at the end; with every
// slot taken the compaction goes unshown).
static void
PublishOther(const VecdbCompactProgress *p)
{
	SealJob    *slot = NULL;
	TimestampTz now = GetCurrentTimestamp();

	if (queue == NULL)
		return;
	SpinLockAcquire(&queue->mutex);
	for (int i = 0; i < OTHER_COMPACTIONS && slot == NULL; i++)
		if (queue->others[i].active && queue->others[i].pid == MyProcPid)
			slot = &queue->others[i];
	if (slot == NULL && p->phase != VECDB_COMPACT_DONE)
		for (int i = 0; i < OTHER_COMPACTIONS && slot == NULL; i++)
			if (!queue->others[i].active)
			{
				slot = &queue->others[i];
				slot->active = true;
				slot->pid = MyProcPid;
				slot->req.database = MyDatabaseId;
				slot->req.index = p->index;
				slot->started = now;
			}
	if (slot != NULL)
	{
		slot->progress = *p;
		if (p->phase == VECDB_COMPACT_DONE)
			slot->active = false;
	}
	SpinLockRelease(&queue->mutex);
}

// vecdb_seal_leader_main runs queued seal jobs one at a time until shutdown.
void
vecdb_seal_leader_main(Datum arg)
{
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/* the postmaster's notices about our job workers set the latch */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();

	SpinLockAcquire(&queue->mutex);
	queue->leader_latch = MyLatch;
	SpinLockRelease(&queue->mutex);

	while (!ShutdownRequestPending)
	{
		SealRequest req;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (TakeRequest(&req))
		{
			RunSealJob(&req);
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	SpinLockAcquire(&queue->mutex);
	queue->leader_latch = NULL;
	SpinLockRelease(&queue->mutex);
	proc_exit(0);
}

// IgnoredByVacuum flags this worker as lazy VACUUM flags itself: others
// leave its xmin out of their horizons, so a long seal does not keep VACUUM
// from removing rows deleted meanwhile. Sound for the same reason as for
// VACUUM: a compaction reads only the index's own pages and runs no user
// code (no expressions, no predicates), so no heap row it could need goes
// away; the flag clears when the transaction ends.
static void
IgnoredByVacuum()
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	MyProc->statusFlags |= PROC_IN_VACUUM;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

// vecdb_seal_database_main compacts one index: its growing rows (from
// vecdb.seal_growing_rows on) become a sealed segment.
void
vecdb_seal_database_main(Datum arg)
{
	Oid			database = DatumGetObjectId(arg);
	Oid			relid;
	Relation	index;
	char		rows[32];

	memcpy(&relid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
	/* the compaction policy takes the growing segment from the seal size on */
	snprintf(rows, sizeof(rows), "%d", Max(vecdb_seal_growing_rows, 1));
	SetConfigOption("vecdb.compact_growing_rows", rows, PGC_USERSET, PGC_S_SESSION);
	SpinLockAcquire(&queue->mutex);
	queue->running.pid = MyProcPid;
	SpinLockRelease(&queue->mutex);
	vecdb_compact_progress_hook = PublishProgress;
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	IgnoredByVacuum();
	index = try_relation_open(relid, RowExclusiveLock);
	if (index != NULL)
	{
		if (index->rd_rel->relkind == RELKIND_INDEX && index->rd_indam != NULL &&
			index->rd_indam->ambuild == vecdbbuild && VecdbCompact(index, false, false))
		{
			VecdbMetaPageData *meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));

			SpinLockAcquire(&queue->mutex);
			queue->sealed++;
			SpinLockRelease(&queue->mutex);
			/* a backlog over maintenance_work_mem is sealed a part at a time: queue the rest */
			VecdbReadMeta(index, meta);
			VecdbSealAfterInsert(index, meta->growing.end - meta->growing.start - meta->growing.deleted);
			pfree(meta);
		}
		relation_close(index, RowExclusiveLock);
	}
	/* others' snapshots skip a PROC_IN_VACUUM backend's xid: it must have none */
	Assert(!TransactionIdIsValid(GetTopTransactionIdIfAny()));
	PopActiveSnapshot();
	CommitTransactionCommand();
	proc_exit(0);
}

// vecdb_seal_status reports the background seal queue: whether it runs,
// queued indexes, requests and seals since the server started.
VECDB_FUNCTION(vecdb_seal_status)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("return type must be a row type")));
	desc = BlessTupleDesc(desc);
	values[0] = BoolGetDatum(seal_preloaded && queue != NULL && vecdb_seal_growing_rows > 0);
	if (queue == NULL)
		nulls[1] = nulls[2] = nulls[3] = true;
	else
	{
		SpinLockAcquire(&queue->mutex);
		values[1] = Int32GetDatum(queue->n);
		values[2] = Int64GetDatum((int64) queue->requested);
		values[3] = Int64GetDatum((int64) queue->sealed);
		SpinLockRelease(&queue->mutex);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// PhaseName names a compaction phase for vecdb_seal_jobs.
static const char *
PhaseName(int phase)
{
	switch (phase)
	{
		case VECDB_COMPACT_GATHER:
			return "reading rows";
		case VECDB_COMPACT_BUILD:
			return "adding rows";
		case VECDB_COMPACT_WRITE:
			return "writing segment";
		case VECDB_COMPACT_SWITCH:
			return "switching directory";
	}
	return "starting";
}

// PutJob adds a running compaction's row to vecdb_seal_jobs' result.
static void
PutJob(ReturnSetInfo *rsinfo, const SealJob *job, const char *state)
{
	const VecdbCompactProgress *p = &job->progress;
	Datum		values[11];
	bool		nulls[11];

	memset(nulls, 0, sizeof(nulls));
	values[0] = ObjectIdGetDatum(job->req.database);
	values[1] = ObjectIdGetDatum(job->req.index);
	values[2] = CStringGetTextDatum(state);
	values[3] = CStringGetTextDatum(PhaseName(p->phase));
	values[4] = Int32GetDatum((int32) p->inputs);
	values[5] = BoolGetDatum(p->onto);
	values[6] = Int64GetDatum((int64) p->growing_rows);
	values[7] = Int64GetDatum((int64) p->rows_done);
	values[8] = Int64GetDatum((int64) p->rows_total);
	values[9] = TimestampTzGetDatum(job->started);
	values[10] = Int32GetDatum(job->pid);
	nulls[10] = job->pid == 0;
	if (p->phase == 0)
		nulls[4] = nulls[5] = nulls[6] = nulls[7] = nulls[8] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

// vecdb_seal_jobs lists the background seal running now (with its
// progress), the other compactions running (VACUUM, autovacuum,
// vecdb_compact: state "compacting"), then the queued seals, oldest first.
VECDB_FUNCTION(vecdb_seal_jobs)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SealJob		running;
	SealJob		others[OTHER_COMPACTIONS];
	SealRequest items[SEAL_QUEUE_SIZE];
	int			n = 0;
	Datum		values[11];
	bool		nulls[11];

	InitMaterializedSRF(fcinfo, 0);
	if (queue == NULL)
		return (Datum) 0;
	SpinLockAcquire(&queue->mutex);
	running = queue->running;
	memcpy(others, queue->others, sizeof(others));
	n = queue->n;
	memcpy(items, queue->items, sizeof(SealRequest) * n);
	SpinLockRelease(&queue->mutex);

	if (running.active)
		PutJob(rsinfo, &running, "running");
	for (int i = 0; i < OTHER_COMPACTIONS; i++)
		if (others[i].active)
			PutJob(rsinfo, &others[i], "compacting");
	for (int i = 0; i < n; i++)
	{
		memset(nulls, true, sizeof(nulls));
		values[0] = ObjectIdGetDatum(items[i].database);
		values[1] = ObjectIdGetDatum(items[i].index);
		values[2] = CStringGetTextDatum("queued");
		nulls[0] = nulls[1] = nulls[2] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
