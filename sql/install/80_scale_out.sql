
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

-- vecdb_create_shards lays tbl (hash-partitioned, no partitions yet) out over
-- postgres_fdw servers with PostgreSQL's own DDL: on each shard CREATE TABLE
-- with tbl's columns and CREATE INDEX ON it for each of indexes (the text
-- after ON table, read with the caller's search_path), here one foreign
-- partition per shard (tbl_0, tbl_1, ...; MODULUS the number of servers).
CREATE FUNCTION vecdb_create_shards(tbl regclass, servers name[], indexes text[] DEFAULT '{}')
	RETURNS TABLE (server name, shard_table text, partition regclass)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vecdb_create_shards(regclass, name[], text[]) IS 'lays a hash-partitioned table out over postgres_fdw servers: on each shard CREATE TABLE and CREATE INDEX ON it for each index definition, here one foreign partition per shard';
