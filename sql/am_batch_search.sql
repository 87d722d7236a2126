-- am_batch_search: vecdb_search(index, queries vector[], k), the batch form
-- of ORDER BY <distance> LIMIT k (issue 10). Its answers must equal, query
-- by query, an exact ORDER BY over the visible rows: for flat (exact) and
-- for hnsw at an ef_search that finds them, with deleted and not yet
-- vacuumed rows, rows added after the build (growing segment), rows of an
-- aborted transaction, and several sealed segments. Then its errors.
-- vecdb.gpu is off here; TAP 026 runs the same comparison through the GPU
-- worker (its CPU stand-in).
SET enable_seqscan = off;
CREATE FUNCTION bs_vec(i bigint, d int) RETURNS vector IMMUTABLE LANGUAGE sql AS
$$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real
                FROM generate_series(1, d) j)::vector $$;
CREATE TABLE bs (id int PRIMARY KEY, v vector(8));
INSERT INTO bs SELECT i, bs_vec(i, 8) FROM generate_series(1, 1500) i;
SET vecdb.min_index_rows = 10;
CREATE INDEX bs_flat ON bs USING flat (v vector_l2_ops);
CREATE INDEX bs_hnsw ON bs USING hnsw (v vector_cosine_ops);
-- rows deleted (not vacuumed), rows added after the build, an aborted insert
DELETE FROM bs WHERE id % 5 = 0;
INSERT INTO bs SELECT i, bs_vec(i, 8) FROM generate_series(1501, 1700) i;
BEGIN;
INSERT INTO bs SELECT i, bs_vec(i, 8) FROM generate_series(5001, 5100) i;
ROLLBACK;
CREATE TABLE bs_q AS SELECT n, bs_vec(q, 8) AS v FROM generate_series(1, 20) n, LATERAL (SELECT 900000 + n AS q) x;
-- exact answers, by a sequential scan
CREATE FUNCTION bs_exact(op text, k int) RETURNS TABLE (query int, ctid tid) LANGUAGE plpgsql AS $$
BEGIN
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_indexscan = off;
	SET LOCAL enable_bitmapscan = off;
	RETURN QUERY EXECUTE format(
		'SELECT q.n, r.ctid FROM bs_q q, LATERAL (SELECT b.ctid FROM bs b ORDER BY b.v %s q.v, b.id LIMIT $1) r', op)
		USING k;
END $$;
CREATE FUNCTION bs_batch(idx regclass, k int) RETURNS TABLE (query int, ctid tid) LANGUAGE sql AS $$
	SELECT s.query, s.ctid FROM vecdb_search(idx, (SELECT array_agg(v ORDER BY n) FROM bs_q), k) s $$;
-- flat: the same rows for every query, in distance order
SELECT count(*) AS rows, count(*) FILTER (WHERE e.ctid IS NULL) AS missing
FROM bs_batch('bs_flat', 10) b LEFT JOIN bs_exact('<->', 10) e USING (query, ctid);
SELECT bool_and(d = v <-> (SELECT q.v FROM bs_q q WHERE q.n = s.query)) AS distances_exact,
	bool_and(d >= prev) AS ordered
FROM (SELECT s.query, s.distance AS d, b.v,
		lag(s.distance, 1, 0) OVER (PARTITION BY s.query ORDER BY ord) AS prev
	FROM vecdb_search('bs_flat', (SELECT array_agg(v ORDER BY n) FROM bs_q), 10) WITH ORDINALITY s(query, ctid, distance, ord)
	JOIN bs b ON b.ctid = s.ctid) s;
-- hnsw (cosine): an ef_search large enough for the exact answer
SET hnsw.ef_search = 400;
SELECT count(*) AS rows, count(*) FILTER (WHERE e.ctid IS NULL) AS missing
FROM bs_batch('bs_hnsw', 10) b LEFT JOIN bs_exact('<=>', 10) e USING (query, ctid);
-- k larger than the visible rows: every visible row once
SELECT count(*), count(DISTINCT ctid), (SELECT count(*) FROM bs) AS visible
FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 8)], 5000);
-- several sealed segments: the growing rows sealed apart
SET vecdb.compact_growing_rows = 10;
SET vecdb.compact_deleted_fraction = 1;
SET vecdb.merge_onto_fraction = 0;
SELECT vecdb_compact('bs_flat', full => false);
SELECT count(*) AS sealed_segments FROM vecdb_index_info('bs_flat') WHERE segment IS NOT NULL;
SELECT count(*) AS rows, count(*) FILTER (WHERE e.ctid IS NULL) AS missing
FROM bs_batch('bs_flat', 25) b LEFT JOIN bs_exact('<->', 25) e USING (query, ctid);
-- NULL queries give no rows; the numbering follows the array
SELECT query, count(*) FROM vecdb_search('bs_flat', ARRAY[NULL, bs_vec(3, 8), NULL, bs_vec(4, 8)]::vector[], 2)
GROUP BY query ORDER BY query;
SELECT count(*) FROM vecdb_search('bs_flat', '{}'::vector[], 5);
SELECT count(*) FROM vecdb_search('bs_flat', NULL, 5);
-- a k-NN join: the nearest row of bs for each query row
SELECT count(*) FROM bs_q q
	JOIN vecdb_search('bs_flat', (SELECT array_agg(v ORDER BY n) FROM bs_q), 1) s ON s.query = q.n
	JOIN bs b ON b.ctid = s.ctid;
-- errors
\set VERBOSITY terse
SELECT * FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 8)], 0);
SELECT * FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 8)], 100001);
SELECT * FROM vecdb_search('bs_pkey', ARRAY[bs_vec(1, 8)], 1);
SELECT * FROM vecdb_search('bs', ARRAY[bs_vec(1, 8)], 1);
SELECT * FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 4)], 1);
SELECT * FROM vecdb_search('bs_flat', ARRAY[[bs_vec(1, 8)], [bs_vec(2, 8)]], 1);
CREATE TABLE bs_half (id int, h halfvec(3));
CREATE INDEX bs_half_idx ON bs_half USING hnsw (h halfvec_l2_ops);
SELECT * FROM vecdb_search('bs_half_idx', ARRAY['[1,2,3]'::vector], 1);
CREATE TABLE bs_expr (id int, v vector(3));
CREATE INDEX bs_expr_idx ON bs_expr USING hnsw ((l2_normalize(v)) vector_l2_ops);
SELECT * FROM vecdb_search('bs_expr_idx', ARRAY['[1,2,3]'::vector], 1);
-- privileges and row-level security: never rows a plain SELECT would hide
CREATE ROLE bs_reader;
SET ROLE bs_reader;
SELECT * FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 8)], 1);
RESET ROLE;
GRANT SELECT ON bs TO bs_reader;
SET ROLE bs_reader;
SELECT count(*) FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 8)], 3);
RESET ROLE;
ALTER TABLE bs ENABLE ROW LEVEL SECURITY;
CREATE POLICY bs_few ON bs FOR SELECT USING (id < 10);
SET ROLE bs_reader;
SELECT * FROM vecdb_search('bs_flat', ARRAY[bs_vec(1, 8)], 1);
RESET ROLE;
\set VERBOSITY default
DROP TABLE bs, bs_q, bs_half, bs_expr;
DROP ROLE bs_reader;
DROP FUNCTION bs_vec(bigint, int);
DROP FUNCTION bs_exact(text, int);
DROP FUNCTION bs_batch(regclass, int);
