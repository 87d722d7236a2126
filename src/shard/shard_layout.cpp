// shard_layout.cpp holds vecdb_create_shards (docs/scale-out.md, "Layout"):
// it lays a hash-partitioned table of the coordinator out over postgres_fdw
// servers with PostgreSQL's own DDL only. On every shard, over
// vecdb_sharded_search's connections: CREATE TABLE with the table's columns,
// then CREATE INDEX for each index definition given; here: one CREATE
// FOREIGN TABLE ... PARTITION OF per shard. Every shard is checked (no such
// table yet, vecdb installed) before anything is created, so a refusal
// leaves nothing behind; what runs on a shard commits there on its own.
#include "shard/shard_connections.hpp"

extern "C" {
#include "access/table.h"
#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "partitioning/partdesc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

#include <cstring>

// ColumnsSql returns rel's columns as a CREATE TABLE list: names, types with
// their modifiers, collations other than the type's, NOT NULL.
static char *
ColumnsSql(Relation rel)
{
	StringInfoData sql;
	TupleDesc	desc = RelationGetDescr(rel);

	initStringInfo(&sql);
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, a);

		if (attr->attisdropped)
			continue;
		appendStringInfo(&sql, "%s%s %s", sql.len > 0 ? ", " : "", quote_identifier(NameStr(attr->attname)),
						 format_type_extended(attr->atttypid, attr->atttypmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(attr->attcollation) && attr->attcollation != get_typcollation(attr->atttypid))
		{
			HeapTuple	collation = SearchSysCache1(COLLOID, ObjectIdGetDatum(attr->attcollation));

			if (!HeapTupleIsValid(collation))
				elog(ERROR, "cache lookup failed for collation %u", attr->attcollation);
			Form_pg_collation form = (Form_pg_collation) GETSTRUCT(collation);

			appendStringInfo(&sql, " COLLATE %s",
							 quote_qualified_identifier(get_namespace_name(form->collnamespace),
														NameStr(form->collname)));
			ReleaseSysCache(collation);
		}
		if (attr->attnotnull)
			appendStringInfoString(&sql, " NOT NULL");
	}
	return sql.data;
}

VECDB_FUNCTION(vecdb_create_shards)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the table and the servers must not be NULL")));
	Oid			relid = PG_GETARG_OID(0);
	Datum	   *server_names;
	bool	   *server_nulls;
	int			shard_count;
	Datum	   *indexes = NULL;
	bool	   *index_nulls = NULL;
	int			index_count = 0;

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &server_names,
					  &server_nulls, &shard_count);
	if (!PG_ARGISNULL(2))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT, &indexes, &index_nulls,
						  &index_count);
	if (shard_count < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("name at least one server")));

	// the owner check first: no lock queue for a table the caller may not change
	if (get_rel_name(relid) == NULL)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation %u does not exist", relid)));
	if (!VECDB_RELATION_OWNERCHECK(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	Relation	rel = table_open(relid, AccessExclusiveLock);
	const char *relname = pstrdup(RelationGetRelationName(rel));
	const char *schema = get_namespace_name(RelationGetNamespace(rel));

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE ||
		RelationGetPartitionKey(rel)->strategy != PARTITION_STRATEGY_HASH)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a hash-partitioned table", relname),
				 errhint("Create it with PARTITION BY HASH (column) and no partitions.")));
	if (RelationGetPartitionDesc(rel, false)->nparts > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" already has partitions", relname)));

	const char *qualified = quote_qualified_identifier(schema, relname);
	char	   *columns = ColumnsSql(rel);

	// closed (its lock kept): CREATE ... PARTITION OF refuses a table open here
	table_close(rel, NoLock);
	ShardConnection **shards = (ShardConnection **) palloc(sizeof(ShardConnection *) * shard_count);
	const char *check_values[1] = {qualified};

	// check every shard before changing any
	for (int s = 0; s < shard_count; s++)
	{
		if (server_nulls[s])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("a server name must not be NULL")));
		ForeignServer *server = GetForeignServerByName(NameStr(*DatumGetName(server_names[s])), false);

		AclResult	usage = VECDB_FOREIGN_SERVER_ACLCHECK(server->serverid, GetUserId(), ACL_USAGE);

		if (usage != ACLCHECK_OK)
			aclcheck_error(usage, OBJECT_FOREIGN_SERVER, server->servername);
		if (strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "postgres_fdw") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("server \"%s\" is not a postgres_fdw server", server->servername)));
		for (int t = 0; t < s; t++)
			if (shards[t]->server == server->serverid)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("server \"%s\" is named twice", server->servername)));
		shards[s] = ShardConnectionFor(server->serverid);
		PGresult   *found = ShardRun(shards[s],
									 "SELECT pg_catalog.to_regclass($1) IS NOT NULL, EXISTS (SELECT FROM "
									 "pg_catalog.pg_extension WHERE extname IN ('vecdb', 'vector'))",
									 1, check_values);
		bool		exists = strcmp(PQgetvalue(found, 0, 0), "t") == 0;
		bool		installed = strcmp(PQgetvalue(found, 0, 1), "t") == 0;

		PQclear(found);
		if (exists)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation %s already exists on server \"%s\"", qualified, server->servername)));
		if (!installed)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("extension vecdb is not installed on server \"%s\"", server->servername)));
	}

	// the caller's search_path names the index definitions' operator classes
	const char *path[1] = {GetConfigOption("search_path", false, false)};
	const char *catalog_path[1] = {"pg_catalog"};
	const char *set_path = "SELECT pg_catalog.set_config('search_path', $1, false)";
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	for (int s = 0; s < shard_count; s++)
	{
		CHECK_FOR_INTERRUPTS();
		PQclear(ShardRun(shards[s], psprintf("CREATE TABLE %s (%s)", qualified, columns), 0, NULL));
		if (index_count > 0)
		{
			PQclear(ShardRun(shards[s], set_path, 1, path));
			for (int i = 0; i < index_count; i++)
				if (!index_nulls[i])
					PQclear(ShardRun(shards[s],
									 psprintf("CREATE INDEX ON %s %s", qualified, TextDatumGetCString(indexes[i])), 0,
									 NULL));
			PQclear(ShardRun(shards[s], set_path, 1, catalog_path));
		}
		const char *partition = quote_qualified_identifier(schema, psprintf("%s_%d", relname, s));
		const char *server = quote_identifier(shards[s]->server_name);

		if (SPI_execute(psprintf("CREATE FOREIGN TABLE %s PARTITION OF %s FOR VALUES WITH (MODULUS %d, REMAINDER %d) "
								 "SERVER %s OPTIONS (schema_name %s, table_name %s)",
								 partition, qualified, shard_count, s, server, quote_literal_cstr(schema),
								 quote_literal_cstr(relname)),
						false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "vecdb_create_shards: CREATE FOREIGN TABLE failed");

		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = DirectFunctionCall1(namein, CStringGetDatum(shards[s]->server_name));
		values[1] = CStringGetTextDatum(qualified);
		values[2] = DirectFunctionCall1(regclassin, CStringGetDatum(partition));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
