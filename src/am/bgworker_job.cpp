// bgworker_job.cpp runs one job in a dynamic background worker connected to a
// database and waits for it: the prewarm and seal leaders' common step.
#include "am/am.hpp"

extern "C" {
#include "miscadmin.h"
#include "postmaster/bgworker.h"
}

// VecdbRunDatabaseJob starts vecdb's function in a worker connected to
// database, with arg in the worker's bgw_extra, and waits until it ends;
// false when no worker could be started. The caller's process must set its
// latch on SIGUSR1 (procsignal_sigusr1_handler) to hear the postmaster.
bool
VecdbRunDatabaseJob(const char *function, const char *type, const char *name, Oid database, Oid arg)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "vecdb", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(database);
	memcpy(worker.bgw_extra, &arg, sizeof(Oid));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return false;
	if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
		(void) WaitForBackgroundWorkerShutdown(handle);
	return true;
}
