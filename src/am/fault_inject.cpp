// fault_inject.cpp makes the storage layer fail at a named point, for the
// fault-injection tests (docs/decisions.md, "Fault injection").
//
// vecdb.fault_injection = 'point:action[:count]' fires at the count-th pass
// (default 1) of this backend through point since the setting was last set:
//   error  raises an ERROR (SQLSTATE XX000, "vecdb fault injected at ...");
//   sleep  waits, interruptibly, until cancelled or killed (a test kills
//          the server while the backend sits there), or until the
//          postmaster is gone;
//   delay  waits 20 seconds, interruptibly, then goes on (a test does
//          something beside an operation held mid-way);
//   exit   kills the backend with SIGKILL, so the postmaster restarts the
//          server and recovery replays the WAL up to that point;
//   oom    raises the ERROR an allocation failure raises (SQLSTATE 53200,
//          "out of memory", as palloc's), so the caller's cleanup of what it
//          allocated so far (shared memory included) is exercised.
#include <signal.h>
#include <string.h>
#include <unistd.h>

extern "C" {
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
}

#include "am/fault_inject.hpp"

char	   *vecdb_fault_injection = NULL;

// passes counts this backend's passes through the named point.
static int	passes = 0;

// VecdbFaultAssign resets the pass counter when the setting changes.
void
VecdbFaultAssign(const char *newval, void *extra)
{
	passes = 0;
}

// VecdbFaultFire acts on the point name when the setting names it.
void
VecdbFaultFire(const char *name)
{
	const char *spec = vecdb_fault_injection;
	size_t		len = strlen(name);
	const char *action;
	const char *colon;
	size_t		alen;
	int			count = 1;

	if (strncmp(spec, name, len) != 0 || spec[len] != ':')
		return;
	action = spec + len + 1;
	colon = strchr(action, ':');
	alen = colon ? (size_t) (colon - action) : strlen(action);
	if (colon)
		count = Max(atoi(colon + 1), 1);
	if (++passes != count)
		return;
	if (alen == 5 && strncmp(action, "error", 5) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("vecdb fault injected at \"%s\"", name)));
	else if (alen == 3 && strncmp(action, "oom", 3) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("vecdb fault injected at \"%s\".", name)));
	else if (alen == 5 && strncmp(action, "sleep", 5) == 0)
	{
		elog(LOG, "vecdb fault point \"%s\" sleeping", name);
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			/* a killed postmaster sends no signal: an orphan would hold shared memory */
			if (!PostmasterIsAlive())
				proc_exit(1);
			pg_usleep(100000L);
		}
	}
	else if (alen == 5 && strncmp(action, "delay", 5) == 0)
	{
		elog(LOG, "vecdb fault point \"%s\" delaying", name);
		for (int i = 0; i < 200; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (!PostmasterIsAlive())
				proc_exit(1);
			pg_usleep(100000L);
		}
	}
	else if (alen == 4 && strncmp(action, "exit", 4) == 0)
	{
		elog(LOG, "vecdb fault point \"%s\" killing the backend", name);
		kill(getpid(), SIGKILL);
		pause();
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown vecdb fault action in \"%s\"", spec)));
}
