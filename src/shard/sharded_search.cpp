// sharded_search.cpp holds vecdb_sharded_search (docs/scale-out.md): the k
// rows of a table, usually partitioned with postgres_fdw foreign partitions
// on shard servers, nearest to a query.
//
// Every leaf partition is asked for its own k nearest (ORDER BY the distance,
// LIMIT k, and the filter: an index scan on its server), and the answers are
// merged here by distance. Two ways to ask:
//  - direct (vecdb.shard_fanout = direct, the default): the partitions of
//    postgres_fdw servers are asked over this module's own libpq connections
//    (shard_connections.cpp), one statement per server holding all of its
//    partitions, all servers at once; the wait is one round trip to the
//    slowest shard. Local partitions (and other foreign tables) are read
//    through SPI while the shards work.
//  - postgres_fdw: every partition through SPI, in one UNION ALL that
//    postgres_fdw runs asynchronously. This pays postgres_fdw's remote
//    transaction and cursor round trips (about 2 ms a search with three
//    shards here), but reads the shards inside this transaction's remote
//    transactions, so it sees this transaction's own writes through them.
// With vecdb.shard_partial_results on, a shard or partition that fails is
// skipped with a WARNING; only when all fail does the search fail.
#include "shard/shard_connections.hpp"
#include "shard/shard_filter.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "catalog/catalog.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/rls.h"
#include "utils/typcache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"
}

#include <cmath>
#include <cstdlib>
#include <cstring>

extern bool vecdb_shard_partial_results;
extern int	vecdb_shard_fanout;

// kFanoutDirect and kFanoutPostgresFdw are vecdb.shard_fanout's values (guc.cpp).
enum
{
	kFanoutDirect = 0,
	kFanoutPostgresFdw = 1
};

// Candidates holds the rows every branch answered, with their distances.
struct Candidates
{
	int			count;
	int			capacity;
	double	   *distance;
	HeapTuple  *row;
};

// SearchCall is what one call of vecdb_sharded_search works from.
struct SearchCall
{
	Oid			relid;
	TupleDesc	desc;			// the row type's, dropped columns included
	int			live_count;		// columns not dropped
	AttrNumber *live;			// their attribute numbers, in order
	FmgrInfo   *input;			// their input functions (for shard rows): binary
	Oid		   *input_param;	// receive functions when binary, else text input
	bool		binary;			// shards answer in binary (BinaryColumn of every column)
	int			k;
	const char *distance_sql;	// "col OPERATOR(ext.op) ($1)::coltype"
	const char *filter_sql;		// NULL, or the deparsed filter
	Oid			query_type;
	Datum		query;
	const char *query_text;
	const char *settings;		// the session's changed search settings, as SET statements
	const char *settings_sql;	// RESET of every search setting, then settings
	bool		partial;
	int			failures;
	Candidates	found;
};

// ShardGroup is one server's share of a direct fan-out.
enum ShardGroupState
{
	kConnecting,
	kSettingUp,
	kApplyingSettings,
	kPreparing,
	kQuerying,
	kDone,
	kFailed
};

struct ShardGroup
{
	ShardConnection *shard;
	StringInfoData sql;
	int			branches;
	bool		reused;			// the connection served an earlier call
	bool		took_rows;		// rows of its answer were taken (no retry then)
	ShardGroupState state;
	PostgresPollingStatusType poll;
	bool		socket_ready;
	char	   *failure;		// set when state is kFailed
};

static void
AddCandidate(Candidates *found, double distance, HeapTuple row)
{
	if (found->count == found->capacity)
	{
		found->capacity = found->capacity == 0 ? 64 : 2 * found->capacity;
		found->distance = (double *) (found->distance == NULL
									  ? palloc(sizeof(double) * found->capacity)
									  : repalloc(found->distance, sizeof(double) * found->capacity));
		found->row = (HeapTuple *) (found->row == NULL ? palloc(sizeof(HeapTuple) * found->capacity)
									: repalloc(found->row, sizeof(HeapTuple) * found->capacity));
	}
	found->distance[found->count] = distance;
	found->row[found->count] = row;
	found->count++;
}

// ExtensionSchemaName returns the schema of vecdb (or of vector, its other
// name), whose operators the branches call.
static char *
ExtensionSchemaName()
{
	Oid			vecdb = get_extension_oid("vecdb", true);

	if (!OidIsValid(vecdb))
		vecdb = get_extension_oid("vector", true);
	HeapTuple	row = OidIsValid(vecdb) ? SearchSysCache1(EXTENSIONOID, ObjectIdGetDatum(vecdb)) : NULL;

	if (row == NULL)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("extension vecdb is not installed")));
	char	   *name = get_namespace_name(((Form_pg_extension) GETSTRUCT(row))->extnamespace);

	ReleaseSysCache(row);
	return name;
}

// OptionOr returns option name's value in options, or fallback.
static const char *
OptionOr(List *options, const char *name, const char *fallback)
{
	ListCell   *cell;

	foreach(cell, options)
		if (strcmp(((DefElem *) lfirst(cell))->defname, name) == 0)
			return defGetString((DefElem *) lfirst(cell));
	return fallback;
}

// AppendBranch appends one partition's branch: its columns in the row type's
// order, the distance, the filter, ORDER BY the distance, LIMIT k. from is
// the relation as the server that runs the branch names it.
static void
AppendBranch(StringInfo sql, const SearchCall *call, const char *from)
{
	appendStringInfoString(sql, "SELECT ");
	for (int i = 0; i < call->live_count; i++)
		appendStringInfo(sql, "%s, ", quote_identifier(NameStr(TupleDescAttr(call->desc, call->live[i] - 1)->attname)));
	appendStringInfo(sql, "%s AS vecdb_sharded_distance FROM %s", call->distance_sql, from);
	if (call->filter_sql != NULL)
		appendStringInfo(sql, " WHERE (%s)", call->filter_sql);
	appendStringInfo(sql, " ORDER BY vecdb_sharded_distance LIMIT %d", call->k);
}

// RemoteFrom names a foreign partition as its server knows it, under the
// local partition's name (the filter's column names are the local ones).
static char *
RemoteFrom(Oid leaf, const SearchCall *call)
{
	ForeignTable *table = GetForeignTable(leaf);
	const char *local_name = get_rel_name(leaf);
	const char *schema = OptionOr(table->options, "schema_name", get_namespace_name(get_rel_namespace(leaf)));
	const char *name = OptionOr(table->options, "table_name", local_name);
	char	   *qualified = quote_qualified_identifier(schema, name);
	StringInfoData columns;
	bool		renamed = false;

	initStringInfo(&columns);
	for (int i = 0; i < call->live_count; i++)
	{
		const char *local_column = NameStr(TupleDescAttr(call->desc, call->live[i] - 1)->attname);
		AttrNumber	attnum = get_attnum(leaf, local_column);
		const char *remote_column = OptionOr(GetForeignColumnOptions(leaf, attnum), "column_name", local_column);

		renamed |= strcmp(remote_column, local_column) != 0;
		appendStringInfo(&columns, "%s%s AS %s", i > 0 ? ", " : "", quote_identifier(remote_column),
						 quote_identifier(local_column));
	}
	if (!renamed)
		return psprintf("%s AS %s", qualified, quote_identifier(local_name));
	return psprintf("(SELECT %s FROM %s) AS %s", columns.data, qualified, quote_identifier(local_name));
}

// ListedExtensions returns the OIDs of the extensions a server's extensions
// option names (those installed here), and vecdb's own.
static List *
ListedExtensions(Oid server)
{
	List	   *listed = NIL;
	char	   *names = pstrdup(OptionOr(GetForeignServer(server)->options, "extensions", ""));
	List	   *split = NIL;
	ListCell   *cell;

	(void) SplitIdentifierString(names, ',', &split);
	foreach(cell, split)
		listed = lappend_oid(listed, get_extension_oid((const char *) lfirst(cell), true));
	listed = lappend_oid(listed, get_extension_oid("vecdb", true));
	listed = lappend_oid(listed, get_extension_oid("vector", true));
	return listed;
}

// IsDirectLeaf tells whether leaf is a foreign table of a postgres_fdw server.
static bool
IsDirectLeaf(Oid leaf)
{
	if (get_rel_relkind(leaf) != RELKIND_FOREIGN_TABLE)
		return false;
	ForeignServer *server = GetForeignServer(GetForeignTable(leaf)->serverid);

	return strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "postgres_fdw") == 0;
}

// GroupFailed raises group's error or, with partial results on, warns and
// counts its partitions as failed. Its connection is closed when
// connection_failed.
static void
GroupFailed(SearchCall *call, ShardGroup *group, bool connection_failed, int sqlstate, const char *message,
			const char *detail, const char *hint)
{
	group->state = kFailed;
	if (connection_failed)
		ShardConnectionClose(group->shard);
	group->shard->busy_level = 0;
	if (!call->partial)
		ereport(ERROR,
				(errcode(sqlstate), errmsg_internal("%s", message),
				 detail ? errdetail_internal("%s", detail) : 0, hint ? errhint("%s", hint) : 0,
				 errcontext("vecdb_sharded_search on server \"%s\"", group->shard->server_name)));
	call->failures += group->branches;
	ereport(WARNING,
			(errcode(sqlstate),
			 errmsg("vecdb_sharded_search skips server \"%s\": %s", group->shard->server_name, message),
			 detail ? errdetail_internal("%s", detail) : 0));
}

// ConnectionFailed reports that group's connection failed (to open, or later).
static void
ConnectionFailed(SearchCall *call, ShardGroup *group, bool opening)
{
	char	   *reason = pchomp(PQerrorMessage(group->shard->conn));

	GroupFailed(call, group, true,
				opening ? ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION : ERRCODE_CONNECTION_FAILURE,
				psprintf(opening ? "could not connect to server \"%s\"" : "lost the connection to server \"%s\"",
						 group->shard->server_name),
				reason, NULL);
}

static void StartGroup(SearchCall *call, ShardGroup *group);

// kSearchSettings are the settings that steer a search; those the caller's
// session changed from their reset value travel to the shards.
static const char *const kSearchSettings[] = {
	"hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples", "hnsw.scan_mem_multiplier",
	"ivfflat.probes", "ivfflat.iterative_scan", "ivfflat.max_probes", "ivfpq.probes", "ivfpq.rerank",
	"vecdb.brute_force_ratio"};

// ReadSearchSettings fills call->settings with SET statements for the search
// settings whose value differs from their reset value (a SET in this session
// or transaction), and call->settings_sql with RESET statements for all of
// them followed by those.
static void
ReadSearchSettings(SearchCall *call)
{
	StringInfoData set;
	StringInfoData all;

	initStringInfo(&set);
	initStringInfo(&all);
	for (const char *name : kSearchSettings)
	{
		const char *value = GetConfigOption(name, true, false);
		const char *reset = GetConfigOptionResetString(name);

		appendStringInfo(&all, "RESET %s; ", name);
		if (value != NULL && reset != NULL && strcmp(value, reset) != 0)
			appendStringInfo(&set, "SET %s = %s; ", name, quote_literal_cstr(value));
	}
	appendStringInfoString(&all, set.data);
	call->settings = set.data;
	call->settings_sql = all.data;
}

// Reconnect opens group's connection anew, once: a cached connection the
// server ended since its last use (a restart, pg_terminate_backend) is not an
// error. It returns false when the group had its one retry.
static bool
Reconnect(SearchCall *call, ShardGroup *group)
{
	if (!group->reused || group->took_rows)
		return false;
	ShardConnectionClose(group->shard);
	group->shard = ShardConnectionFor(group->shard->server);
	StartGroup(call, group);
	group->reused = false;
	return true;
}

// SendQuery sends group's statement with the query vector as its parameter:
// as a statement prepared on the connection (prepared first when new; its
// plan is then cached there), or unprepared when the connection keeps enough.
// When the session's search settings differ from those the connection got
// last, it sends them first (and is called again once they are applied).
static void
SendQuery(SearchCall *call, ShardGroup *group)
{
	const char *values[1] = {call->query_text};
	PGconn	   *conn = group->shard->conn;
	int			sent;

	group->shard->busy_level = GetCurrentTransactionNestLevel();
	if (strcmp(call->settings, group->shard->settings != NULL ? group->shard->settings : "") != 0)
	{
		// the session's search settings changed since this connection last got them
		group->state = kApplyingSettings;
		sent = PQsendQuery(conn, call->settings_sql);
	}
	else
	{
		bool		prepared;
		int			number = ShardStatementFor(group->shard, group->sql.data, &prepared);
		char		name[NAMEDATALEN];

		ShardStatementName(number, name);
		group->state = number < 0 || prepared ? kQuerying : kPreparing;
		if (number < 0)
			sent = PQsendQueryParams(conn, group->sql.data, 1, NULL, values, NULL, NULL, call->binary ? 1 : 0);
		else if (prepared)
			sent = PQsendQueryPrepared(conn, name, 1, values, NULL, NULL, call->binary ? 1 : 0);
		else
			sent = PQsendPrepare(conn, name, group->sql.data, 1, NULL);
	}
	if (!sent && !Reconnect(call, group))
		ConnectionFailed(call, group, false);
}

// StartGroup opens group's connection or, when it is open, sends its query.
// reused tells whether it was open.
static void
StartGroup(SearchCall *call, ShardGroup *group)
{
	group->reused = group->shard->session_ready;
	if (group->shard->session_ready)
	{
		SendQuery(call, group);
		return;
	}
	group->shard->busy_level = GetCurrentTransactionNestLevel();
	group->state = PQstatus(group->shard->conn) == CONNECTION_BAD ? kFailed : kConnecting;
	group->poll = PGRES_POLLING_WRITING;
	group->socket_ready = false;
	if (group->state == kFailed)
		ConnectionFailed(call, group, true);
}

// TakeRows adds the rows of a shard's answer to call->found.
static void
TakeRows(SearchCall *call, PGresult *result)
{
	int			rows = PQntuples(result);
	Datum	   *values = (Datum *) palloc(sizeof(Datum) * call->desc->natts);
	bool	   *nulls = (bool *) palloc(sizeof(bool) * call->desc->natts);

	if (PQnfields(result) != call->live_count + 1)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR), errmsg("a shard answered with %d columns, not %d",
													  PQnfields(result), call->live_count + 1)));
	for (int r = 0; r < rows; r++)
	{
		for (int a = 0; a < call->desc->natts; a++)
			nulls[a] = true;
		for (int i = 0; i < call->live_count; i++)
		{
			int			a = call->live[i] - 1;
			bool		null = PQgetisnull(result, r, i);

			int32		typmod = TupleDescAttr(call->desc, a)->atttypmod;

			if (!call->binary)
				values[a] = InputFunctionCall(&call->input[i], null ? NULL : PQgetvalue(result, r, i),
											  call->input_param[i], typmod);
			else if (null)
				values[a] = ReceiveFunctionCall(&call->input[i], NULL, call->input_param[i], typmod);
			else
			{
				// libpq ends every value with a zero byte, as a StringInfo's data
				StringInfoData buffer = {PQgetvalue(result, r, i), PQgetlength(result, r, i),
										 PQgetlength(result, r, i) + 1, 0};

				values[a] = ReceiveFunctionCall(&call->input[i], &buffer, call->input_param[i], typmod);
			}
			nulls[a] = null;
		}
		if (PQgetisnull(result, r, call->live_count))
			continue;			// a NULL distance (a NULL vector) is never among the nearest
		double		distance;

		if (call->binary)
		{
			StringInfoData buffer = {PQgetvalue(result, r, call->live_count),
									 PQgetlength(result, r, call->live_count),
									 PQgetlength(result, r, call->live_count) + 1, 0};

			distance = pq_getmsgfloat8(&buffer);
		}
		else
			distance = strtod(PQgetvalue(result, r, call->live_count), NULL);

		AddCandidate(&call->found, distance, heap_form_tuple(call->desc, values, nulls));
	}
}

// ReadResults reads what group's connection has. It returns true when the
// group waits for more to read; false when it is done, failed, or went back
// to connecting (a cached connection found closed).
static bool
ReadResults(SearchCall *call, ShardGroup *group)
{
	PGconn	   *conn = group->shard->conn;

	if (!PQconsumeInput(conn))
	{
		bool		opening = group->state == kConnecting || group->state == kSettingUp;

		if (opening || !Reconnect(call, group))
			ConnectionFailed(call, group, opening);
		return false;
	}
	while (!PQisBusy(conn))
	{
		PGresult   *result = PQgetResult(conn);

		if (result == NULL)
		{
			if (group->state == kSettingUp || group->state == kApplyingSettings || group->state == kPreparing)
			{
				if (group->state == kApplyingSettings)
				{
					if (group->shard->settings != NULL)
						pfree(group->shard->settings);
					group->shard->settings = MemoryContextStrdup(TopMemoryContext, call->settings);
				}
				group->shard->session_ready = true;
				SendQuery(call, group);
				// a failed send may have reopened the connection (or failed the group)
				if (group->state != kQuerying && group->state != kPreparing && group->state != kApplyingSettings)
					return false;
				conn = group->shard->conn;
				continue;
			}
			group->state = kDone;
			group->shard->busy_level = 0;
			return false;
		}
		ExecStatusType status = PQresultStatus(result);

		if (status == PGRES_TUPLES_OK && group->state == kQuerying)
		{
			group->took_rows = true;
			PG_TRY();
			{
				TakeRows(call, result);
			}
			PG_FINALLY();
			{
				PQclear(result);
			}
			PG_END_TRY();
			continue;
		}
		if (status == PGRES_COMMAND_OK &&
			(group->state == kSettingUp || group->state == kApplyingSettings || group->state == kPreparing))
		{
			PQclear(result);
			continue;
		}
		// a remote error: keep its fields, read the connection to its end, report
		const char *state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
		const char *primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
		const char *hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
		int			sqlstate = state != NULL && strlen(state) == 5
			? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
			: ERRCODE_CONNECTION_FAILURE;
		char	   *message = pstrdup(primary != NULL ? primary : pchomp(PQerrorMessage(conn)));
		char	   *detail_copy = detail != NULL ? pstrdup(detail) : NULL;
		char	   *hint_copy = hint != NULL ? pstrdup(hint) : NULL;

		PQclear(result);
		while ((result = PQgetResult(conn)) != NULL)
			PQclear(result);
		if (PQstatus(conn) != CONNECTION_OK &&
			(group->state == kQuerying || group->state == kPreparing || group->state == kApplyingSettings) &&
			Reconnect(call, group))
			return false;
		// closed even when still open: its prepared statement may be what failed
		GroupFailed(call, group, true, sqlstate, message, detail_copy, hint_copy);
		return false;
	}
	return true;
}

// Advance moves group on as far as it can without waiting; returns the
// socket events it waits for, or 0 when it is finished.
static int
Advance(SearchCall *call, ShardGroup *group)
{
	for (;;)
	{
		switch (group->state)
		{
			case kConnecting:
				if (group->socket_ready)
					group->poll = PQconnectPoll(group->shard->conn);
				group->socket_ready = false;
				if (group->poll == PGRES_POLLING_FAILED)
				{
					ConnectionFailed(call, group, true);
					return 0;
				}
				if (group->poll != PGRES_POLLING_OK)
					return group->poll == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
				ShardConnectionCheckPassword(group->shard);
				group->state = kSettingUp;
				if (!PQsendQuery(group->shard->conn, kShardSessionSettings))
				{
					ConnectionFailed(call, group, true);
					return 0;
				}
				break;
			case kSettingUp:
			case kApplyingSettings:
			case kPreparing:
			case kQuerying:
				if (ReadResults(call, group))
					return WL_SOCKET_READABLE;
				break;
			case kDone:
			case kFailed:
				return 0;
		}
	}
}

// WaitForGroups waits until a socket of groups is ready or the latch is set
// (an interrupt: statement_timeout, a cancel), and marks the ready groups.
static void
WaitForGroups(ShardGroup *groups, const int *events, int count)
{
	WaitEventSet *set = VECDB_CREATE_WAIT_EVENT_SET(count + 2);
	WaitEvent  *occurred = (WaitEvent *) palloc(sizeof(WaitEvent) * (count + 2));

	PG_TRY();
	{
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (int i = 0; i < count; i++)
			if (events[i] != 0)
				AddWaitEventToSet(set, events[i], PQsocket(groups[i].shard->conn), NULL, &groups[i]);
		int			n = WaitEventSetWait(set, -1, occurred, count + 2, PG_WAIT_EXTENSION);

		for (int i = 0; i < n; i++)
			if (occurred[i].events & WL_LATCH_SET)
				ResetLatch(MyLatch);
			else if (occurred[i].user_data != NULL)
				((ShardGroup *) occurred[i].user_data)->socket_ready = true;
	}
	PG_FINALLY();
	{
		FreeWaitEventSet(set);
	}
	PG_END_TRY();
	pfree(occurred);
	CHECK_FOR_INTERRUPTS();
}

// TakeSpiRows adds the rows of the last SPI statement to call->found,
// allocated in context.
static void
TakeSpiRows(SearchCall *call, MemoryContext context)
{
	TupleDesc	got = SPI_tuptable->tupdesc;
	Oid			distance_type = TupleDescAttr(got, call->live_count)->atttypid;
	Datum	   *values = (Datum *) palloc(sizeof(Datum) * call->desc->natts);
	bool	   *nulls = (bool *) palloc(sizeof(bool) * call->desc->natts);

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		bool		null;

		for (int a = 0; a < call->desc->natts; a++)
			nulls[a] = true;
		for (int i = 0; i < call->live_count; i++)
			values[call->live[i] - 1] = SPI_getbinval(tuple, got, i + 1, &nulls[call->live[i] - 1]);
		Datum		distance = SPI_getbinval(tuple, got, call->live_count + 1, &null);

		if (null)
			continue;			// a NULL vector is never among the nearest
		MemoryContext previous = MemoryContextSwitchTo(context);

		AddCandidate(&call->found, distance_type == FLOAT4OID ? DatumGetFloat4(distance) : DatumGetFloat8(distance),
					 heap_form_tuple(call->desc, values, nulls));
		MemoryContextSwitchTo(previous);
	}
	SPI_freetuptable(SPI_tuptable);
}

// RunSpiBranches asks the partitions of branches (their SQL) through SPI: all
// in one UNION ALL, or with partial results each in a subtransaction.
static void
RunSpiBranches(SearchCall *call, List *branches)
{
	if (branches == NIL)
		return;
	MemoryContext outer = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Oid			argtype = call->query_type;
	List	   *statements = branches;
	ListCell   *cell;

	if (!call->partial)
	{
		StringInfoData all;

		initStringInfo(&all);
		foreach(cell, branches)
			appendStringInfo(&all, "%s(%s)", all.len > 0 ? " UNION ALL " : "", (char *) lfirst(cell));
		statements = list_make1(all.data);
	}
	SPI_connect();
	MemoryContext spi = CurrentMemoryContext;

	foreach(cell, statements)
	{
		const char *sql = (const char *) lfirst(cell);

		if (!call->partial)
		{
			if (SPI_execute_with_args(sql, 1, &argtype, &call->query, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "vecdb_sharded_search: a branch is not a SELECT");
			TakeSpiRows(call, outer);
			continue;
		}
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(spi);
		PG_TRY();
		{
			if (SPI_execute_with_args(sql, 1, &argtype, &call->query, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "vecdb_sharded_search: a branch is not a SELECT");
			TakeSpiRows(call, outer);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(spi);
			CurrentResourceOwner = owner;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(outer);
			ErrorData  *error = CopyErrorData();

			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(spi);
			CurrentResourceOwner = owner;
			if (error->sqlerrcode == ERRCODE_QUERY_CANCELED)
				ReThrowError(error);
			call->failures++;
			ereport(WARNING,
					(errcode(error->sqlerrcode),
					 errmsg("vecdb_sharded_search skips a partition: %s", error->message)));
		}
		PG_END_TRY();
	}
	SPI_finish();
	MemoryContextSwitchTo(outer);
}

// BinaryColumn tells whether values of type can come from the shards in
// binary: it has a receive function, and its binary form names no type OID
// that may differ between servers (composites do; arrays name their element
// type, which only PostgreSQL's own types share across servers). The
// binary forms skip printing and parsing every float of every vector.
static bool
BinaryColumn(Oid type)
{
	Oid			base = getBaseType(type);
	HeapTuple	row = SearchSysCache1(TYPEOID, ObjectIdGetDatum(base));

	if (!HeapTupleIsValid(row))
		return false;
	Form_pg_type form = (Form_pg_type) GETSTRUCT(row);
	// the reg* types travel as the shard's OIDs in binary, as names in text
	bool		object_reference = base == REGPROCOID || base == REGPROCEDUREOID || base == REGOPEROID ||
		base == REGOPERATOROID || base == REGCLASSOID || base == REGCOLLATIONOID || base == REGTYPEOID ||
		base == REGROLEOID || base == REGNAMESPACEOID || base == REGCONFIGOID || base == REGDICTIONARYOID;
	bool		binary = OidIsValid(form->typreceive) && form->typtype != TYPTYPE_COMPOSITE &&
		form->typtype != TYPTYPE_PSEUDO && !object_reference &&
		(!OidIsValid(form->typelem) || form->typelem < FirstGenbkiObjectId);

	ReleaseSysCache(row);
	return binary;
}

// PrepareCall checks the arguments and fills call.
static void
PrepareCall(FunctionCallInfo fcinfo, SearchCall *call)
{
	Oid			row_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			relid = OidIsValid(row_type) ? get_typ_typrelid(row_type) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("vecdb_sharded_search needs a table's row type, not %s", format_type_be(row_type)),
				 errhint("Pass NULL::table_name as the first argument.")));
	if (PG_ARGISNULL(3) || PG_GETARG_INT32(3) < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k must be at least 1")));
	const char *op = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	static const char *const kOperators[] = {"<->", "<=>", "<#>", "<+>", "<~>", "<%>"};
	bool		known = false;

	for (const char *candidate : kOperators)
		known |= op != NULL && strcmp(op, candidate) == 0;
	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown distance operator %s", op ? op : "NULL"),
				 errhint("Use one of <->, <=>, <#>, <+>, <~>, <%%>.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the query vector must not be NULL")));

	LockRelationOid(relid, AccessShareLock);
	const char *relname = get_rel_name(relid);

	if (relname == NULL)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation %u does not exist", relid)));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ALL) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(get_rel_relkind(relid)), relname);
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vecdb_sharded_search does not apply the row-level security of %s", relname),
				 errhint("Search the table with ORDER BY ... LIMIT instead.")));
	const char *column = PG_ARGISNULL(1) ? NULL : NameStr(*PG_GETARG_NAME(1));
	AttrNumber	vector_attnum = column != NULL ? get_attnum(relid, column) : InvalidAttrNumber;

	if (vector_attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", column ? column : "NULL", relname)));

	call->relid = relid;
	TupleDesc	cached = lookup_rowtype_tupdesc(row_type, -1);

	call->desc = CreateTupleDescCopy(cached);
	ReleaseTupleDesc(cached);
	call->live = (AttrNumber *) palloc(sizeof(AttrNumber) * call->desc->natts);
	call->input = (FmgrInfo *) palloc(sizeof(FmgrInfo) * call->desc->natts);
	call->input_param = (Oid *) palloc(sizeof(Oid) * call->desc->natts);
	call->live_count = 0;
	// text-like receive functions convert from the client encoding, while the
	// shards send the database's: binary only when the two are the same
	call->binary = pg_get_client_encoding() == GetDatabaseEncoding();
	for (int a = 0; a < call->desc->natts; a++)
		if (!TupleDescAttr(call->desc, a)->attisdropped)
		{
			call->live[call->live_count++] = a + 1;
			call->binary &= BinaryColumn(TupleDescAttr(call->desc, a)->atttypid);
		}
	for (int i = 0; i < call->live_count; i++)
	{
		Oid			type = TupleDescAttr(call->desc, call->live[i] - 1)->atttypid;
		Oid			input;

		if (call->binary)
			getTypeBinaryInputInfo(type, &input, &call->input_param[i]);
		else
			getTypeInputInfo(type, &input, &call->input_param[i]);
		fmgr_info(input, &call->input[i]);
	}
	Oid			column_type;
	int32		column_typmod;
	Oid			collation;

	get_atttypetypmodcoll(relid, vector_attnum, &column_type, &column_typmod, &collation);
	call->k = PG_GETARG_INT32(3);
	call->query_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
	call->query = PG_GETARG_DATUM(2);
	Oid			output;
	bool		varlena;

	getTypeOutputInfo(call->query_type, &output, &varlena);
	call->query_text = OidOutputFunctionCall(output, call->query);
	call->distance_sql = psprintf("%s OPERATOR(%s.%s) ($1)::%s", quote_identifier(column),
								  quote_identifier(ExtensionSchemaName()), op,
								  format_type_extended(column_type, column_typmod,
													   FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
	call->filter_sql = NULL;
	ReadSearchSettings(call);
	call->partial = vecdb_shard_partial_results;
	call->failures = 0;
	memset(&call->found, 0, sizeof(call->found));
}

// CompareDistance orders candidate indexes by distance.
static const double *sort_distances;

static int
CompareDistance(const void *a, const void *b)
{
	double		x = sort_distances[*(const int *) a];
	double		y = sort_distances[*(const int *) b];

	// NaN (a zero vector's cosine distance) after every number, as float8's order
	if (std::isnan(x) || std::isnan(y))
		return std::isnan(x) ? (std::isnan(y) ? 0 : 1) : -1;
	return x < y ? -1 : x > y ? 1 : 0;
}

VECDB_FUNCTION(vecdb_sharded_search)
{
	SearchCall	call;

	PrepareCall(fcinfo, &call);

	List	   *leaves = NIL;

	if (get_rel_relkind(call.relid) == RELKIND_PARTITIONED_TABLE)
	{
		ListCell   *cell;

		foreach(cell, find_all_inheritors(call.relid, AccessShareLock, NULL))
			if (get_rel_relkind(lfirst_oid(cell)) != RELKIND_PARTITIONED_TABLE)
				leaves = lappend_oid(leaves, lfirst_oid(cell));
	}
	else
		leaves = list_make1_oid(call.relid);

	ShardFilter filter = {NULL, NULL, NIL};

	if (!PG_ARGISNULL(4))
	{
		ShardFilterPrepare(call.relid, text_to_cstring(PG_GETARG_TEXT_PP(4)), &filter);
		call.filter_sql = filter.sql;
	}

	// group the direct leaves by connection; the rest go through SPI
	int			leaf_count = list_length(leaves);
	ShardGroup *groups = (ShardGroup *) palloc0(sizeof(ShardGroup) * Max(leaf_count, 1));
	int			group_count = 0;
	List	   *spi_branches = NIL;
	ListCell   *cell;

	foreach(cell, leaves)
	{
		Oid			leaf = lfirst_oid(cell);
		StringInfoData branch;

		initStringInfo(&branch);
		if (vecdb_shard_fanout == kFanoutPostgresFdw || !IsDirectLeaf(leaf))
		{
			AppendBranch(&branch, &call, quote_qualified_identifier(get_namespace_name(get_rel_namespace(leaf)),
																	 get_rel_name(leaf)));
			spi_branches = lappend(spi_branches, branch.data);
			continue;
		}
		Oid			server = GetForeignTable(leaf)->serverid;

		if (filter.unshippable != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the filter cannot be sent to the shards: it calls %s", filter.unshippable),
					 errhint("Set vecdb.shard_fanout to postgres_fdw to evaluate it on this server.")));
		ListCell   *ext;
		// read (a catalog scan per name) only when the filter calls an extension
		List	   *listed = filter.extensions != NIL ? ListedExtensions(server) : NIL;

		foreach(ext, filter.extensions)
			if (!list_member_oid(listed, lfirst_oid(ext)))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("the filter cannot be sent to server \"%s\": it calls extension %s, which the server's extensions option does not list",
								GetForeignServer(server)->servername, get_extension_name(lfirst_oid(ext)))));
		ShardConnection *shard = ShardConnectionFor(server);
		ShardGroup *group = NULL;

		for (int g = 0; g < group_count; g++)
			if (groups[g].shard == shard)
				group = &groups[g];
		if (group == NULL)
		{
			group = &groups[group_count++];
			group->shard = shard;
			initStringInfo(&group->sql);
		}
		AppendBranch(&branch, &call, RemoteFrom(leaf, &call));
		if (group->branches > 0)
			appendStringInfoString(&group->sql, " UNION ALL ");
		appendStringInfo(&group->sql, "(%s)", branch.data);
		group->branches++;
	}

	for (int g = 0; g < group_count; g++)
		StartGroup(&call, &groups[g]);
	// local partitions while the shards work
	RunSpiBranches(&call, spi_branches);

	int		   *events = (int *) palloc0(sizeof(int) * Max(group_count, 1));

	for (;;)
	{
		bool		waiting = false;

		for (int g = 0; g < group_count; g++)
		{
			events[g] = Advance(&call, &groups[g]);
			waiting |= events[g] != 0;
		}
		if (!waiting)
			break;
		WaitForGroups(groups, events, group_count);
	}

	if (call.partial && call.failures > 0 && call.failures == leaf_count)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE), errmsg("every partition of %s failed", get_rel_name(call.relid))));

	// the k nearest of every branch's rows
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	int		   *order = (int *) palloc(sizeof(int) * Max(call.found.count, 1));

	for (int i = 0; i < call.found.count; i++)
		order[i] = i;
	sort_distances = call.found.distance;
	qsort(order, call.found.count, sizeof(int), CompareDistance);
	for (int i = 0; i < call.found.count && i < call.k; i++)
		tuplestore_puttuple(rsinfo->setResult, call.found.row[order[i]]);
	return (Datum) 0;
}
