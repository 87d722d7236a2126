// shard_connections.hpp: the libpq connections vecdb_sharded_search keeps to
// the servers of postgres_fdw foreign partitions (docs/scale-out.md), one per
// user mapping and backend, opened without blocking and closed when an error
// or a catalog change leaves them in doubt.
#pragma once

#include "vecdb_postgres.h"

extern "C" {
#include "libpq-fe.h"
}

// ShardConnection is one cached connection. busy_level is the transaction
// nesting level that sent the query now in flight (0: idle); an abort at or
// below that level cancels the query and closes the connection.
struct ShardConnection
{
	Oid			user_mapping;
	Oid			server;
	char		server_name[NAMEDATALEN];
	PGconn	   *conn;
	bool		session_ready;	// the session settings were sent and answered
	bool		stale;			// a server or user mapping changed since it opened
	int			busy_level;
	char	  **statements;		// SQL of the statements prepared on it, named by index
	int			statement_count;
	char	   *settings;		// the search settings SET on it ("" when none)
};

// kShardMaxStatements is how many statements one connection keeps prepared;
// others run unprepared.
constexpr int kShardMaxStatements = 64;

// ShardConnectionFor returns the cached connection for the current user's
// mapping on server, starting a new non-blocking connection (conn in
// CONNECTION_STARTED, session_ready false) when there is none or the cached
// one is broken or stale. It raises an error when the mapping does not allow
// a password-less connection for a non-superuser or libpq cannot start.
ShardConnection *ShardConnectionFor(Oid server);

// ShardConnectionCheckPassword raises an error when a non-superuser's
// connection was made without the server asking for a password (the rule
// postgres_fdw applies), once conn is established.
void		ShardConnectionCheckPassword(ShardConnection *shard);

// ShardStatementFor returns the number of shard's prepared statement for sql
// (its name is ShardStatementName's), adding it to the list with *prepared
// false when it is new, or -1 when the list is full.
int			ShardStatementFor(ShardConnection *shard, const char *sql, bool *prepared);

// ShardStatementName writes statement number's name into name (NAMEDATALEN).
void		ShardStatementName(int number, char *name);

// ShardRun runs sql (with nparams text parameters) on shard and returns its
// result (PQclear it), waiting as long as it takes unless interrupted: it
// finishes opening the connection first. A failure raises the shard's error
// (its SQLSTATE, and the server's name in the context).
PGresult   *ShardRun(ShardConnection *shard, const char *sql, int nparams, const char *const *values);

// ShardConnectionClose closes shard's connection (the cache entry stays, empty).
void		ShardConnectionClose(ShardConnection *shard);

// kShardSessionSettings are sent once on every new connection: the settings
// under which the remote answers are read back exactly (postgres_fdw's).
extern const char *const kShardSessionSettings;
