// shard_connections.cpp keeps vecdb_sharded_search's connections to shard
// servers: one per user mapping, in TopMemoryContext, opened with the
// server's and the user mapping's libpq options (the same connection string
// postgres_fdw builds), the same rule for passwords, and fd.c's accounting of
// external file descriptors. A transaction or subtransaction that aborts
// while a query is in flight cancels it and closes the connection, so no
// later call reads a stale answer; a change to any server or user mapping
// closes idle connections at their next use.
#include "shard/shard_connections.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "libpq/libpq-be-fe-helpers.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

#include <cstring>

const char *const kShardSessionSettings =
	"SET search_path = pg_catalog; SET timezone = 'UTC'; SET datestyle = ISO; "
	"SET intervalstyle = postgres; SET extra_float_digits = 3";

// shard_connections points at the cached connections, each allocated on its
// own so that callers' pointers stay valid as the array grows.
static ShardConnection **shard_connections = NULL;
static int	shard_connection_count = 0;
static int	shard_connection_capacity = 0;
static bool shard_callbacks_registered = false;

void
ShardConnectionClose(ShardConnection *shard)
{
	if (shard->conn != NULL)
		libpqsrv_disconnect(shard->conn);
	shard->conn = NULL;
	for (int i = 0; i < shard->statement_count; i++)
		pfree(shard->statements[i]);
	shard->statement_count = 0;
	if (shard->settings != NULL)
		pfree(shard->settings);
	shard->settings = NULL;
	shard->session_ready = false;
	shard->stale = false;
	shard->busy_level = 0;
}

int
ShardStatementFor(ShardConnection *shard, const char *sql, bool *prepared)
{
	for (int i = 0; i < shard->statement_count; i++)
		if (strcmp(shard->statements[i], sql) == 0)
		{
			*prepared = true;
			return i;
		}
	if (shard->statement_count == kShardMaxStatements)
		return -1;
	if (shard->statements == NULL)
		shard->statements = (char **) MemoryContextAllocZero(TopMemoryContext, sizeof(char *) * kShardMaxStatements);
	shard->statements[shard->statement_count] = MemoryContextStrdup(TopMemoryContext, sql);
	*prepared = false;
	return shard->statement_count++;
}

void
ShardStatementName(int number, char *name)
{
	snprintf(name, NAMEDATALEN, "vecdb_sharded_search_%d", number);
}

// CancelAndClose sends a cancel request for shard's query in flight (if the
// connection got that far) and closes the connection.
static void
CancelAndClose(ShardConnection *shard)
{
	if (shard->conn != NULL && shard->session_ready && PQstatus(shard->conn) == CONNECTION_OK &&
		PQtransactionStatus(shard->conn) == PQTRANS_ACTIVE)
	{
		PGcancel   *cancel = PQgetCancel(shard->conn);
		char		message[256];

		if (cancel != NULL)
		{
			if (!PQcancel(cancel, message, sizeof(message)))
				ereport(WARNING,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not cancel the query on server \"%s\": %s", shard->server_name, message)));
			PQfreeCancel(cancel);
		}
	}
	ShardConnectionClose(shard);
}

// AbortBusyAtOrAbove cancels and closes every connection whose query was sent
// at transaction nesting level level or deeper.
static void
AbortBusyAtOrAbove(int level)
{
	for (int i = 0; i < shard_connection_count; i++)
		if (shard_connections[i]->busy_level >= level && shard_connections[i]->busy_level > 0)
			CancelAndClose(shard_connections[i]);
}

static void
ShardXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		AbortBusyAtOrAbove(1);
	// connections of servers or user mappings changed or dropped since they
	// opened: closed here, so that one no longer looked up does not linger
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		for (int i = 0; i < shard_connection_count; i++)
			if (shard_connections[i]->stale && shard_connections[i]->busy_level == 0)
				ShardConnectionClose(shard_connections[i]);
}

static void
ShardSubXactCallback(SubXactEvent event, SubTransactionId subid, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		AbortBusyAtOrAbove(GetCurrentTransactionNestLevel());
}

// MarkStale flags every connection after a change to a server or user
// mapping (options, owner, password): it is reopened at its next use.
static void
MarkStale(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < shard_connection_count; i++)
		shard_connections[i]->stale = true;
}

static void
RegisterCallbacks()
{
	if (shard_callbacks_registered)
		return;
	RegisterXactCallback(ShardXactCallback, NULL);
	RegisterSubXactCallback(ShardSubXactCallback, NULL);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, MarkStale, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, MarkStale, (Datum) 0);
	shard_callbacks_registered = true;
}

// IsConnectionOption tells whether keyword is a libpq option a server-side
// client may pass on (not postgres_fdw's own options such as async_capable,
// not debug options, not the ones set here).
static bool
IsConnectionOption(const char *keyword, const PQconninfoOption *defaults)
{
	if (strcmp(keyword, "client_encoding") == 0 || strcmp(keyword, "fallback_application_name") == 0 ||
		strcmp(keyword, "replication") == 0)
		return false;
	for (const PQconninfoOption *d = defaults; d->keyword != NULL; d++)
		if (strcmp(d->keyword, keyword) == 0)
			return strchr(d->dispchar, 'D') == NULL && libpqsrv_is_valid_proxy_option(keyword);
	return false;
}

// PasswordRequired tells whether the mapping's user must connect with a
// password: every non-superuser, unless a superuser set password_required
// 'false' on the mapping (postgres_fdw's rule).
static bool
PasswordRequired(UserMapping *mapping)
{
	if (superuser_arg(mapping->userid))
		return false;
	ListCell   *cell;

	foreach(cell, mapping->options)
	{
		DefElem    *option = (DefElem *) lfirst(cell);

		if (strcmp(option->defname, "password_required") == 0)
			return defGetBoolean(option);
	}
	return true;
}

// StartConnection starts shard's non-blocking connection.
static void
StartConnection(ShardConnection *shard, ForeignServer *server, UserMapping *mapping)
{
	PQconninfoOption *defaults = PQconndefaults();

	if (defaults == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));

	int			capacity = list_length(server->options) + list_length(mapping->options) + 3;
	const char **keywords = (const char **) palloc0(sizeof(char *) * capacity);
	const char **values = (const char **) palloc0(sizeof(char *) * capacity);
	int			n = 0;
	bool		has_password = false;
	List	   *both = list_concat(list_copy(server->options), mapping->options);
	ListCell   *cell;

	foreach(cell, both)
	{
		DefElem    *option = (DefElem *) lfirst(cell);

		if (!IsConnectionOption(option->defname, defaults))
			continue;
		keywords[n] = option->defname;
		values[n] = defGetString(option);
		if (strcmp(option->defname, "password") == 0 && values[n][0] != '\0')
			has_password = true;
		n++;
	}
	PQconninfoFree(defaults);
	keywords[n] = "fallback_application_name";
	values[n++] = "vecdb_sharded_search";
	keywords[n] = "client_encoding";
	values[n++] = GetDatabaseEncodingName();
	keywords[n] = NULL;
	values[n] = NULL;

	if (PasswordRequired(mapping) && !has_password)
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required to reach server \"%s\"", server->servername),
				 errdetail("A non-superuser's user mapping must name a password.")));

	libpqsrv_connect_prepare();
	shard->conn = PQconnectStartParams(keywords, values, false);
	if (shard->conn == NULL)
	{
		ReleaseExternalFD();
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	shard->session_ready = false;
	shard->stale = false;
	// an abort before the caller's search takes the connection over closes it
	shard->busy_level = GetCurrentTransactionNestLevel();
	pfree(keywords);
	pfree(values);
}

void
ShardConnectionCheckPassword(ShardConnection *shard)
{
	UserMapping *mapping = GetUserMapping(GetUserId(), shard->server);

	if (PasswordRequired(mapping) && !PQconnectionUsedPassword(shard->conn))
	{
		ShardConnectionClose(shard);
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required to reach server \"%s\"", shard->server_name),
				 errdetail("A non-superuser cannot connect if the server does not ask for a password.")));
	}
}

ShardConnection *
ShardConnectionFor(Oid server_oid)
{
	RegisterCallbacks();

	ForeignServer *server = GetForeignServer(server_oid);
	UserMapping *mapping = GetUserMapping(GetUserId(), server_oid);
	ShardConnection *shard = NULL;

	for (int i = 0; i < shard_connection_count; i++)
		if (shard_connections[i]->user_mapping == mapping->umid)
			shard = shard_connections[i];
	if (shard == NULL)
	{
		if (shard_connection_count == shard_connection_capacity)
		{
			int			capacity = shard_connection_capacity == 0 ? 8 : 2 * shard_connection_capacity;
			Size		bytes = sizeof(ShardConnection *) * capacity;

			shard_connections = (ShardConnection **) (shard_connections == NULL
													  ? MemoryContextAllocZero(TopMemoryContext, bytes)
													  : repalloc(shard_connections, bytes));
			shard_connection_capacity = capacity;
		}
		shard = (ShardConnection *) MemoryContextAllocZero(TopMemoryContext, sizeof(ShardConnection));
		shard->user_mapping = mapping->umid;
		shard_connections[shard_connection_count++] = shard;
	}
	shard->server = server_oid;
	strlcpy(shard->server_name, server->servername, NAMEDATALEN);
	// An open connection must be idle; it reads what the server sent since
	// (its end, if it went away). One still opening was started by this call
	// (an abort closes those of an earlier one: they are busy from the start).
	if (shard->conn != NULL &&
		(shard->stale ||
		 (shard->session_ready && (shard->busy_level > 0 || !PQconsumeInput(shard->conn) ||
								   PQstatus(shard->conn) != CONNECTION_OK ||
								   PQtransactionStatus(shard->conn) != PQTRANS_IDLE))))
		CancelAndClose(shard);
	if (shard->conn == NULL)
		StartConnection(shard, server, mapping);
	return shard;
}

// WaitForSocket waits until shard's socket is ready for events (or an
// interrupt, which CHECK_FOR_INTERRUPTS then raises).
static void
WaitForSocket(ShardConnection *shard, int events)
{
	int			rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | events, PQsocket(shard->conn), -1,
									   PG_WAIT_EXTENSION);

	if (rc & WL_LATCH_SET)
		ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

// RaiseShardError raises the error of result (or of the connection when it
// is NULL) and closes the connection.
static void
RaiseShardError(ShardConnection *shard, PGresult *result, const char *sql)
{
	const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : NULL;
	int			sqlstate = state != NULL && strlen(state) == 5
		? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
		: ERRCODE_CONNECTION_FAILURE;
	char	   *message = pstrdup(primary != NULL ? primary : pchomp(PQerrorMessage(shard->conn)));
	char	   *detail_copy = detail != NULL ? pstrdup(detail) : NULL;

	if (result != NULL)
		PQclear(result);
	ShardConnectionClose(shard);
	ereport(ERROR,
			(errcode(sqlstate), errmsg_internal("%s", message), detail_copy ? errdetail_internal("%s", detail_copy) : 0,
			 errcontext("on server \"%s\": %s", shard->server_name, sql)));
}

// LastResult reads shard's results to the end and returns the last (the
// first error, if any, is raised).
static PGresult *
LastResult(ShardConnection *shard, const char *sql)
{
	PGresult   *last = NULL;

	for (;;)
	{
		while (PQisBusy(shard->conn))
		{
			WaitForSocket(shard, WL_SOCKET_READABLE);
			if (!PQconsumeInput(shard->conn))
			{
				if (last != NULL)
					PQclear(last);
				RaiseShardError(shard, NULL, sql);
			}
		}
		PGresult   *result = PQgetResult(shard->conn);

		if (result == NULL)
			return last;
		if (last != NULL)
			PQclear(last);
		last = result;
		ExecStatusType status = PQresultStatus(result);

		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		{
			while ((result = PQgetResult(shard->conn)) != NULL)
				PQclear(result);
			RaiseShardError(shard, last, sql);
		}
	}
}

PGresult *
ShardRun(ShardConnection *shard, const char *sql, int nparams, const char *const *values)
{
	shard->busy_level = GetCurrentTransactionNestLevel();
	if (!shard->session_ready)
	{
		PostgresPollingStatusType poll =
			PQstatus(shard->conn) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;

		while (poll != PGRES_POLLING_OK)
		{
			if (poll == PGRES_POLLING_FAILED)
				ereport(ERROR,
						(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						 errmsg("could not connect to server \"%s\"", shard->server_name),
						 errdetail_internal("%s", pchomp(PQerrorMessage(shard->conn)))));
			WaitForSocket(shard, poll == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE);
			poll = PQconnectPoll(shard->conn);
		}
		ShardConnectionCheckPassword(shard);
		if (!PQsendQuery(shard->conn, kShardSessionSettings))
			RaiseShardError(shard, NULL, kShardSessionSettings);
		PQclear(LastResult(shard, kShardSessionSettings));
		shard->session_ready = true;
	}
	if (!PQsendQueryParams(shard->conn, sql, nparams, NULL, values, NULL, NULL, 0))
		RaiseShardError(shard, NULL, sql);
	PGresult   *result = LastResult(shard, sql);

	shard->busy_level = 0;
	return result;
}
