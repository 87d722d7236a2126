// shared_prewarm.cpp reloads, after a restart, the indexes whose segments
// were resident in the shared area (vecdb.prewarm_resident = on), as
// pg_prewarm's autoprewarm does for buffers.
//
// A leader background worker starts once the server accepts read-only
// connections. It first reads $PGDATA/vecdb_resident.list (lines "database
// index", written by its predecessor) and, for each database named there,
// runs a worker connected to that database that loads each listed index that
// still exists and is a vecdb index, one transaction each, so a dropped or
// broken index costs only its own line. Then it rewrites the list every
// vecdb.prewarm_interval seconds and when the server shuts down. The list
// names indexes by OID within their database: a rebuilt index keeps its OID
// and is loaded in its new form.
#include <stdio.h>

#include "am/am.hpp"

extern "C" {
#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

#define RESIDENT_FILE		"vecdb_resident.list"
#define RESIDENT_FILE_TMP	"vecdb_resident.list.tmp"

bool		vecdb_prewarm_resident = false;
int			vecdb_prewarm_interval = 300;

extern "C" {
PGDLLEXPORT void vecdb_prewarm_leader_main(Datum arg);
PGDLLEXPORT void vecdb_prewarm_database_main(Datum arg);
}

// VecdbPrewarmRegister registers the leader worker (from _PG_init while the
// library is preloaded).
void
VecdbPrewarmRegister(void)
{
	BackgroundWorker worker;

	if (!vecdb_prewarm_resident)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	/* after a crash restart the area is empty: the leader runs again */
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "vecdb", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "vecdb_prewarm_leader_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "vecdb prewarm leader", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "vecdb prewarm", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

// ResidentLine is one line of the list.
typedef struct ResidentLine
{
	Oid			database;
	Oid			index;
} ResidentLine;

// ReadList returns the list's lines (palloc'd) and their count; none when
// there is no list.
static ResidentLine *
ReadList(int *n)
{
	FILE	   *f = AllocateFile(RESIDENT_FILE, "r");
	int			cap = 64;
	ResidentLine *lines = (ResidentLine *) palloc(cap * sizeof(ResidentLine));
	unsigned int db;
	unsigned int idx;

	*n = 0;
	if (f == NULL)
		return lines;
	while (fscanf(f, "%u %u\n", &db, &idx) == 2)
	{
		if (*n == cap)
		{
			cap *= 2;
			lines = (ResidentLine *) repalloc(lines, cap * sizeof(ResidentLine));
		}
		lines[*n].database = db;
		lines[(*n)++].index = idx;
	}
	FreeFile(f);
	return lines;
}

// WriteList writes the indexes now resident in the shared area, atomically.
static void
WriteList(void)
{
	int			n;
	ResidentLine *lines = (ResidentLine *) VecdbSharedResidentIndexes(&n);
	FILE	   *f = AllocateFile(RESIDENT_FILE_TMP, "w");

	if (f == NULL)
	{
		ereport(LOG, (errcode_for_file_access(), errmsg("could not write \"%s\": %m", RESIDENT_FILE_TMP)));
		return;
	}
	for (int i = 0; i < n; i++)
		fprintf(f, "%u %u\n", lines[i].database, lines[i].index);
	if (FreeFile(f) != 0)
	{
		ereport(LOG, (errcode_for_file_access(), errmsg("could not write \"%s\": %m", RESIDENT_FILE_TMP)));
		return;
	}
	(void) durable_rename(RESIDENT_FILE_TMP, RESIDENT_FILE, LOG);
	pfree(lines);
}

// RunDatabaseWorker prewarms the listed indexes of one database in a worker
// connected to it and waits for that worker to finish.
static void
RunDatabaseWorker(Oid database)
{
	char		name[BGW_MAXLEN];

	snprintf(name, sizeof(name), "vecdb prewarm database %u", database);
	if (!VecdbRunDatabaseJob("vecdb_prewarm_database_main", "vecdb prewarm", name, database, InvalidOid))
		ereport(LOG, (errmsg("vecdb could not start a worker to prewarm the indexes of database %u", database),
					  errhint("More max_worker_processes may be needed.")));
}

// vecdb_prewarm_leader_main prewarms what the list names, then keeps the
// list current until shutdown.
void
vecdb_prewarm_leader_main(Datum arg)
{
	int			n;
	ResidentLine *lines;

	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/* the postmaster's notices about our database workers set the latch */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();

	lines = ReadList(&n);
	for (int i = 0; i < n && !ShutdownRequestPending; i++)
	{
		bool		seen = false;

		for (int j = 0; j < i; j++)
			seen = seen || lines[j].database == lines[i].database;
		if (!seen)
			RunDatabaseWorker(lines[i].database);
	}
	pfree(lines);

	while (!ShutdownRequestPending)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) vecdb_prewarm_interval * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		WriteList();
	}
	proc_exit(0);
}

// vecdb_prewarm_database_main loads the listed indexes of its database.
void
vecdb_prewarm_database_main(Datum arg)
{
	Oid			database = DatumGetObjectId(arg);
	int			n;
	volatile int loaded = 0;
	ResidentLine *lines;

	/* SIGTERM as in a backend: FATAL at the next CHECK_FOR_INTERRUPTS, not inside a lock */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
	lines = ReadList(&n);
	for (int i = 0; i < n; i++)
	{
		Relation	index;

		if (lines[i].database != database)
			continue;
		CHECK_FOR_INTERRUPTS();
		StartTransactionCommand();
		/* one index's ERROR (dropped meanwhile, damaged, 40001) costs only its line */
		PG_TRY();
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			index = try_relation_open(lines[i].index, AccessShareLock);
			if (index != NULL)
			{
				/* an unlogged index is empty on a standby */
				if (index->rd_rel->relkind == RELKIND_INDEX && index->rd_indam != NULL &&
					index->rd_indam->ambuild == vecdbbuild &&
					!(RecoveryInProgress() && index->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED))
				{
					(void) VecdbSharedPrewarm(index);
					loaded++;
				}
				relation_close(index, AccessShareLock);
			}
			PopActiveSnapshot();
			CommitTransactionCommand();
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
	}
	ereport(DEBUG1, (errmsg_internal("vecdb prewarmed %d indexes of database %u", loaded, database)));
	proc_exit(0);
}
