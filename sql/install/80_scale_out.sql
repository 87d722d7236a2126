
-- Scale-out (docs/scale-out.md): a k-NN search over a table partitioned
-- across servers through postgres_fdw, with the shards queried in parallel
-- and each one asked for its own top k.

-- vecdb_sharded_search answers ORDER BY col <op> query LIMIT k over tbl's
-- row type (a table, usually partitioned with foreign partitions): every leaf
-- partition is asked for its own k nearest (its ORDER BY ... LIMIT k runs on
-- its server, over its index), and the answers are merged by distance
-- (src/shard/sharded_search.cpp). With vecdb.shard_fanout = direct (the
-- default), postgres_fdw partitions are asked over vecdb's own connections,
-- one statement per server, all servers at once; with postgres_fdw, through
-- postgres_fdw inside this transaction. filter is a condition on tbl's
-- columns, sent to the shards as SQL deparsed from its parse tree. With
-- vecdb.shard_partial_results on, a shard that fails is skipped with a WARNING.
CREATE FUNCTION vecdb_sharded_search(tbl anyelement, vector_column name, query anycompatible, k integer,
	filter text DEFAULT NULL, op text DEFAULT '<->')
	RETURNS SETOF anyelement
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vecdb_sharded_search(anyelement, name, anycompatible, integer, text, text) IS 'the k rows of a (partitioned, sharded) table nearest to a query: every leaf partition asked for its own k, the shards all at once, then merged; filter is a condition on the table''s columns';
