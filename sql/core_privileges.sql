-- core_privileges: who may look into, compact and verify a vecdb index, and
-- as whom vecdb_verify evaluates the index's expressions.
SELECT current_user AS regress_su \gset
CREATE ROLE vecdb_priv_owner;
CREATE ROLE vecdb_priv_other;
CREATE ROLE vecdb_priv_monitor IN ROLE pg_monitor;
CREATE SCHEMA vecdb_priv AUTHORIZATION vecdb_priv_owner;
GRANT USAGE ON SCHEMA vecdb_priv TO vecdb_priv_other, vecdb_priv_monitor;
SET ROLE vecdb_priv_owner;
CREATE TABLE vecdb_priv.items (id int, v vector(3));
INSERT INTO vecdb_priv.items SELECT i, ARRAY[i, i % 7, 1]::real[]::vector FROM generate_series(1, 50) i;
CREATE INDEX items_idx ON vecdb_priv.items USING hnsw (v vector_l2_ops);
-- the owner may do everything
SELECT count(*) > 0 AS has_segments FROM vecdb_index_info('vecdb_priv.items_idx');
SELECT vecdb_compact('vecdb_priv.items_idx') IS NOT NULL AS compacted;
SELECT vecdb_verify('vecdb_priv.items_idx');
-- another role may do nothing (checked before any lock is taken)
SET ROLE vecdb_priv_other;
SELECT * FROM vecdb_index_info('vecdb_priv.items_idx');
SELECT vecdb_compact('vecdb_priv.items_idx');
SELECT vecdb_verify('vecdb_priv.items_idx');
SELECT vecdb_prewarm('vecdb_priv.items_idx');
-- with SELECT on the table it may read the counts and prewarm, not verify or compact
RESET ROLE;
GRANT SELECT ON vecdb_priv.items TO vecdb_priv_other;
SET ROLE vecdb_priv_other;
SELECT count(*) > 0 AS has_segments FROM vecdb_index_info('vecdb_priv.items_idx');
SELECT vecdb_prewarm('vecdb_priv.items_idx') >= 1 AS prewarmed;
SELECT vecdb_verify('vecdb_priv.items_idx');
SELECT vecdb_compact('vecdb_priv.items_idx');
-- pg_monitor (pg_read_all_stats) reads the counts of every index
SET ROLE vecdb_priv_monitor;
SELECT count(*) > 0 AS has_segments FROM vecdb_index_info('vecdb_priv.items_idx');
RESET ROLE;
-- no index, no relation: user errors, not internal ones
\set VERBOSITY terse
SELECT vecdb_verify(0);
SELECT * FROM vecdb_index_info(0);
SELECT vecdb_compact(0);
SELECT vecdb_prewarm(0);
SELECT vecdb_verify('vecdb_priv.items');
SELECT * FROM vecdb_index_info('vecdb_priv.items');
SELECT vecdb_compact('vecdb_priv.items');
\set VERBOSITY default
-- vecdb_verify evaluates an expression index's function as the table's
-- owner, in a security-restricted context, even when a superuser calls it
SET ROLE vecdb_priv_owner;
CREATE FUNCTION vecdb_priv.whoami(v vector) RETURNS vector IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('vecdb_priv.trace', true) = 'on' THEN
		RAISE NOTICE 'index expression runs as %', current_user;
	END IF;
	RETURN v;
END $$;
CREATE TABLE vecdb_priv.expr (id int, v vector(3));
INSERT INTO vecdb_priv.expr VALUES (1, '[1,2,3]');
CREATE INDEX expr_idx ON vecdb_priv.expr USING hnsw ((vecdb_priv.whoami(v)) vector_l2_ops);
RESET ROLE;
SET vecdb_priv.trace = on;
SELECT current_user = :'regress_su' AS caller_is_superuser;
SELECT vecdb_verify('vecdb_priv.expr_idx');
RESET vecdb_priv.trace;
-- settings that size a backend's memory and threads are the superuser's
SET ROLE vecdb_priv_other;
SET vecdb.segment_cache_size = '64GB';
SET vecdb.build_threads = 64;
SET vecdb.backend_memory_kept = '1GB';
RESET ROLE;
SET vecdb.build_threads = 2;
RESET vecdb.build_threads;
SET vecdb.backend_memory_kept = '4MB';
SHOW vecdb.backend_memory_kept;
RESET vecdb.backend_memory_kept;
DROP SCHEMA vecdb_priv CASCADE;
DROP ROLE vecdb_priv_owner, vecdb_priv_other, vecdb_priv_monitor;
