-- am_general: what every vecdb access method shares, shown on flat and hnsw:
-- exact flat results, dimensions from the data, bad values, NULL and zero
-- vectors, UNLOGGED tables, REINDEX, CREATE INDEX CONCURRENTLY, TRUNCATE,
-- builds larger than maintenance_work_mem, planner choices, vecdb_* functions.
SET vecdb.build_threads = 1;
SELECT setseed(0.75);
CREATE TABLE g (id int PRIMARY KEY, v vector);
INSERT INTO g SELECT i, (SELECT array_agg(round(random()::numeric, 3)::real) FROM generate_series(1, 4) WHERE i > 0)::vector
FROM generate_series(1, 500) i;

-- a flat index is exact, with ties broken consistently
CREATE INDEX g_flat ON g USING flat (v vector_l2_ops);
SELECT * FROM vecdb_index_info('g_flat');
SET enable_seqscan = off;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM g ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 8) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(id) AS exact FROM (SELECT id FROM g ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 8) s;
RESET enable_indexscan;

-- a value of other dimensions than the index's is refused; dimensions come
-- from the data when the column has no typmod
INSERT INTO g VALUES (1001, '[1,2,3]');
INSERT INTO g VALUES (1002, NULL);
SET enable_seqscan = off;
SELECT id FROM g ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
CREATE TABLE g_empty (id int, v vector);
CREATE INDEX g_empty_idx ON g_empty USING hnsw (v);
SELECT dims, kind, rows FROM vecdb_index_info('g_empty_idx');
INSERT INTO g_empty VALUES (1, '[1,0]'), (2, '[0,1]'), (3, NULL);
INSERT INTO g_empty VALUES (4, '[1,0,0]');
SET enable_seqscan = off;
SELECT id FROM g_empty ORDER BY v <-> '[0.9,0.1]' LIMIT 2;
RESET enable_seqscan;
SELECT dims, kind, rows FROM vecdb_index_info('g_empty_idx');
DROP TABLE g_empty;
CREATE TABLE g_mixed (v vector);
INSERT INTO g_mixed VALUES ('[1,2]'), ('[1,2,3]');
CREATE INDEX ON g_mixed USING hnsw (v);
DROP TABLE g_mixed;

-- dimension limits
CREATE TABLE g_big (v vector(16000), h halfvec(16000), s sparsevec(16001));
CREATE INDEX ON g_big USING hnsw (v);
CREATE INDEX ON g_big USING flat (h);
CREATE INDEX ON g_big USING hnsw (s);
-- sparsevec is held sparse under L2, inner product and cosine (am_sparse), densified under L1
CREATE INDEX ON g_big USING hnsw (s sparsevec_l1_ops);
CREATE INDEX ON g_big USING ivfflat ((s::vector(3)));
INSERT INTO g_big (v) SELECT array_fill(1::real, ARRAY[16000])::vector;
INSERT INTO g_big (v) SELECT array_fill(2::real, ARRAY[16000])::vector;
SET enable_seqscan = off;
SELECT v <-> array_fill(0::real, ARRAY[16000])::vector AS distance FROM g_big ORDER BY v <-> array_fill(0::real, ARRAY[16000])::vector LIMIT 2;
RESET enable_seqscan;
SELECT vecdb_compact('g_big_v_idx');
SELECT kind, rows, pages > 16 AS spans_pages FROM vecdb_index_info('g_big_v_idx');
DROP TABLE g_big;

-- zero vectors under cosine are not indexed (as pgvector); ordering by the
-- distance to one (NaN for every row) returns the indexed rows in any order
CREATE TABLE g_cos (id int, v vector(3));
INSERT INTO g_cos VALUES (1, '[1,0,0]'), (2, '[0,0,0]'), (3, '[0,1,0]');
CREATE INDEX g_cos_idx ON g_cos USING hnsw (v vector_cosine_ops);
INSERT INTO g_cos VALUES (4, '[0,0,0]'), (5, '[1,1,0]');
SELECT kind, rows FROM vecdb_index_info('g_cos_idx');
SET enable_seqscan = off;
SELECT id FROM g_cos ORDER BY v <=> '[1,0.1,0]';
SELECT id FROM g_cos ORDER BY v <=> '[0,0,0]';
RESET enable_seqscan;
DROP TABLE g_cos;

-- UNLOGGED tables
CREATE UNLOGGED TABLE g_unlogged (id int, v vector(2));
CREATE INDEX g_unlogged_idx ON g_unlogged USING hnsw (v);
INSERT INTO g_unlogged VALUES (1, '[1,1]'), (2, '[2,2]');
SET enable_seqscan = off;
SELECT id FROM g_unlogged ORDER BY v <-> '[2,2.1]' LIMIT 1;
RESET enable_seqscan;
SELECT relpersistence FROM pg_class WHERE relname = 'g_unlogged_idx';
DROP TABLE g_unlogged;

-- REINDEX, CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY, TRUNCATE
CREATE INDEX g_hnsw ON g USING hnsw (v vector_l2_ops) WHERE id <= 500;
INSERT INTO g SELECT 2000 + i, '[0.25,0.25,0.25,0.25]' FROM generate_series(1, 3) i;
SELECT kind, rows FROM vecdb_index_info('g_hnsw') ORDER BY segment NULLS LAST;
REINDEX INDEX g_hnsw;
SELECT kind, rows FROM vecdb_index_info('g_hnsw') ORDER BY segment NULLS LAST;
DROP INDEX g_hnsw;
DELETE FROM g WHERE id > 500;
CREATE INDEX CONCURRENTLY g_cic ON g USING hnsw (v vector_l2_ops);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'g_cic'::regclass;
SELECT vecdb_verify('g_cic');
REINDEX INDEX CONCURRENTLY g_cic;
SELECT vecdb_verify('g_cic');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM g ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 20) s;
RESET enable_seqscan;
TRUNCATE g;
SELECT kind, rows FROM vecdb_index_info('g_cic');
INSERT INTO g VALUES (1, '[1,1,1,1]');
SET enable_seqscan = off;
SELECT id FROM g ORDER BY v <-> '[1,1,1,1]' LIMIT 1;
RESET enable_seqscan;
DROP INDEX g_cic;

-- a build larger than maintenance_work_mem is split into segments
CREATE TABLE g_mem (id int, v vector(64));
INSERT INTO g_mem SELECT i, (SELECT array_agg((CASE WHEN j = 1 THEN i ELSE (i * 7 + j * 13) % 101 END)::real) FROM generate_series(1, 64) j)::vector
FROM generate_series(1, 12000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX g_mem_idx ON g_mem USING flat (v);
RESET maintenance_work_mem;
SELECT count(*) > 1 AS several_segments, sum(rows) AS rows FROM vecdb_index_info('g_mem_idx') WHERE segment IS NOT NULL;
SET enable_seqscan = off;
SELECT id FROM g_mem ORDER BY v <-> (SELECT v FROM g_mem WHERE id = 7777) LIMIT 1;
RESET enable_seqscan;
SELECT vecdb_compact('g_mem_idx');
SELECT count(*) AS segments, sum(rows) AS rows FROM vecdb_index_info('g_mem_idx') WHERE segment IS NOT NULL;
DROP TABLE g_mem;

-- the planner: an index for ORDER BY distance LIMIT on a real table, not for
-- other orderings or filters, and a sequential scan for a tiny table
CREATE INDEX g_hnsw ON g USING hnsw (v vector_l2_ops);
INSERT INTO g SELECT i, (SELECT array_agg(round(random()::numeric, 3)::real) FROM generate_series(1, 4) WHERE i > 0)::vector
FROM generate_series(2, 5000) i;
ANALYZE g;
EXPLAIN (COSTS OFF) SELECT id FROM g ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM g ORDER BY v <=> '[0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM g WHERE v = '[0.5,0.5,0.5,0.5]';
CREATE TABLE g_tiny (id int, v vector(2));
INSERT INTO g_tiny VALUES (1, '[1,1]'), (2, '[2,2]'), (3, '[3,3]');
CREATE INDEX ON g_tiny USING hnsw (v);
ANALYZE g_tiny;
EXPLAIN (COSTS OFF) SELECT id FROM g_tiny ORDER BY v <-> '[1,1]' LIMIT 1;
DROP TABLE g_tiny;

-- the vecdb_* functions refuse other relations
SELECT * FROM vecdb_index_info('g');
SELECT * FROM vecdb_index_info('g_pkey');
SELECT vecdb_compact('g_pkey');
SELECT vecdb_verify('g_pkey');
SELECT amvalidate(opc.oid) FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE am.amname IN ('hnsw', 'ivfflat', 'ivfpq', 'ivfsq8', 'flat') GROUP BY 1;
SELECT amname, count(*) AS opclasses FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE am.amname IN ('hnsw', 'ivfflat', 'ivfpq', 'ivfsq8', 'flat') GROUP BY 1 ORDER BY 1;
DROP TABLE g;

-- a backend that cached growing rows does not return them again once a
-- compaction moved them all into a sealed segment
CREATE TABLE g_stale (id int PRIMARY KEY, v vector(2));
CREATE INDEX g_stale_idx ON g_stale USING hnsw (v);
INSERT INTO g_stale SELECT i, ARRAY[i, 0]::real[]::vector FROM generate_series(1, 30) i;
SET enable_seqscan = off;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM g_stale ORDER BY v <-> '[0,0]') s;
SELECT vecdb_compact('g_stale_idx');
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM g_stale ORDER BY v <-> '[0,0]') s;
DELETE FROM g_stale;
VACUUM g_stale;
INSERT INTO g_stale VALUES (100, '[5,5]');
SELECT id FROM g_stale ORDER BY v <-> '[0,0]';
RESET enable_seqscan;
DROP TABLE g_stale;

-- repeated compactions reuse the pages they free (scalar columns included)
CREATE TABLE g_churn (id int PRIMARY KEY, v vector(16), c int, t text);
CREATE INDEX g_churn_idx ON g_churn USING hnsw (v, c, t);
SET vecdb.compact_growing_rows = 10;
CREATE FUNCTION churn() RETURNS void LANGUAGE sql AS $$
	DELETE FROM g_churn;
	INSERT INTO g_churn SELECT i, array_fill((i % 7)::real, ARRAY[16])::vector, i % 3, 'text ' || i FROM generate_series(1, 400) i;
$$;
SELECT churn();
VACUUM g_churn;
SELECT churn();
VACUUM g_churn;
SELECT churn();
VACUUM g_churn;
SELECT pg_relation_size('g_churn_idx') / 8192 AS pages_after_3 \gset
SELECT churn();
VACUUM g_churn;
SELECT churn();
VACUUM g_churn;
SELECT churn();
VACUUM g_churn;
SELECT churn();
VACUUM g_churn;
SELECT pg_relation_size('g_churn_idx') / 8192 <= :pages_after_3 + 2 AS bounded,
	(SELECT sum(rows) FROM vecdb_index_info('g_churn_idx')) AS rows;
DROP FUNCTION churn();
RESET vecdb.compact_growing_rows;
DROP TABLE g_churn;
-- WHERE vector IS NULL: NULL vectors are not indexed, so the planner leaves
-- the index out and a sequential scan finds them (the index returned none)
CREATE TABLE g_nulls (id int, v vector(3));
INSERT INTO g_nulls SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE ARRAY[i, 1, 1]::real[]::vector END
FROM generate_series(1, 200) i;
CREATE INDEX ON g_nulls USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
SELECT count(*), bool_and(id % 10 = 0) FROM (SELECT id FROM g_nulls WHERE v IS NULL ORDER BY v <-> '[1,1,1]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM g_nulls WHERE v IS NOT NULL ORDER BY v <-> '[1,1,1]' LIMIT 500) s;
EXPLAIN (COSTS OFF) SELECT id FROM g_nulls WHERE v IS NOT NULL ORDER BY v <-> '[1,1,1]' LIMIT 5;
RESET enable_seqscan;
DROP TABLE g_nulls;
-- VACUUM merges segments over vecdb.max_segments only while the new segment
-- fits maintenance_work_mem (a build in 1 MB makes segments of ~2,000 rows)
CREATE TABLE g_segs (id int, v vector(64)) WITH (autovacuum_enabled = off);
INSERT INTO g_segs SELECT i, (SELECT array_agg(((i * 31 + j) % 97)::real) FROM generate_series(1, 64) j)::vector
FROM generate_series(1, 30000) i;
SET maintenance_work_mem = '1MB';
SET client_min_messages = warning;
CREATE INDEX g_segs_idx ON g_segs USING flat (v vector_l2_ops);
RESET client_min_messages;
SELECT count(*) AS segments, max(rows) AS max_rows FROM vecdb_index_info('g_segs_idx') WHERE kind <> 'growing';
SET vecdb.max_segments = 4;
VACUUM g_segs;
SELECT count(*) AS segments, max(rows) AS max_rows FROM vecdb_index_info('g_segs_idx') WHERE kind <> 'growing';
RESET maintenance_work_mem;
VACUUM g_segs;
SELECT count(*) AS segments, sum(rows) AS rows FROM vecdb_index_info('g_segs_idx') WHERE kind <> 'growing';
RESET vecdb.max_segments;
DROP TABLE g_segs;
