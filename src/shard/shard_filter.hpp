// shard_filter.hpp: vecdb_sharded_search's filter, read as SQL against the
// searched table and written back as SQL text that means the same on every
// shard (docs/scale-out.md, "Filters").
#pragma once

#include "vecdb_postgres.h"

extern "C" {
#include "nodes/pg_list.h"
}

// ShardFilter is a filter ready to send: sql is the condition deparsed from
// its parse tree, with every name outside pg_catalog schema-qualified and
// stable functions of constants (now(), ...) already evaluated here.
// unshippable names the first thing a shard must not be asked to run (a
// subquery, a volatile or stable function, a function outside PostgreSQL and
// its extensions), or is NULL; extensions lists the OIDs of the extensions
// whose functions it calls, which the shard's server must name in its
// extensions option.
struct ShardFilter
{
	char	   *sql;
	const char *unshippable;
	List	   *extensions;
};

// ShardFilterPrepare parses filter as a boolean condition on the columns of
// relid (under the caller's search_path) and fills *out. It raises the
// parser's errors, and 42601 when filter is more than one condition.
void		ShardFilterPrepare(Oid relid, const char *filter, ShardFilter *out);
