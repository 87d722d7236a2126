-- am_sparse: sparsevec indexes of any dimension count (native sparse rows,
-- the engine's SPARSE_INVERTED kind) under L2, inner product and cosine:
-- vocabulary-sized dimensions, more non-zeros than pgvector's 1,000, exact
-- answers against a sequential scan, filters, inserts, deletes, VACUUM,
-- compaction and vecdb_verify. L1 stays densified (at most 16,000 dimensions).
SET vecdb.build_threads = 1;
-- a SPLADE-like vocabulary (30,522 terms), term ids skewed towards small
-- ones, 10 to 60 terms a row, deterministic
CREATE TABLE sp (id int PRIMARY KEY, c int, v sparsevec(30522));
CREATE FUNCTION sp_row(i int, terms int) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
	SELECT ('{' || string_agg(t::text || ':' || w::text, ',' ORDER BY t) || '}/30522')::sparsevec
	FROM (SELECT t, max(w) AS w FROM (
		SELECT 1 + floor(30521 * power((hashint8extended(i, j) & 1048575)::float8 / 1048576, 3))::int AS t,
			   round((0.1 + ((hashint8extended(i, j + 100000) & 65535)::float8 / 65536) * 2)::numeric, 3) AS w
		FROM generate_series(1, terms) j) x GROUP BY t) y
$$;
INSERT INTO sp SELECT i, i % 10, sp_row(i, 10 + i % 51) FROM generate_series(1, 2000) i;
-- rows with more non-zeros than pgvector's hnsw limit (1,000)
INSERT INTO sp SELECT i, i % 10, sp_row(i, 2500) FROM generate_series(2001, 2004) i;
SELECT min(n) >= 1 AS some_terms, max(n) > 1000 AS over_1000 FROM (SELECT length(v::text) - length(replace(v::text, ':', '')) AS n FROM sp) s;

-- options and limits
CREATE INDEX sp_bad ON sp USING hnsw (v sparsevec_l2_ops) WITH (sq_bits = 8);
CREATE TABLE sp_l1 (v sparsevec(30522));
CREATE INDEX ON sp_l1 USING hnsw (v sparsevec_l1_ops);
DROP TABLE sp_l1;
CREATE TABLE sp_big (v sparsevec(1000000000));
INSERT INTO sp_big VALUES ('{1:1,999999999:2}/1000000000'), ('{5:1}/1000000000');
CREATE INDEX sp_big_idx ON sp_big USING hnsw (v sparsevec_ip_ops);
SET enable_seqscan = off;
SELECT v FROM sp_big ORDER BY v <#> '{999999999:1}/1000000000' LIMIT 1;
RESET enable_seqscan;
DROP TABLE sp_big;

CREATE INDEX sp_ip ON sp USING hnsw (v sparsevec_ip_ops, c);
CREATE INDEX sp_l2 ON sp USING hnsw (v sparsevec_l2_ops);
CREATE INDEX sp_cos ON sp USING flat (v sparsevec_cosine_ops);
SELECT c.relname, i.metric, i.dims, i.kind, i.rows
FROM pg_class c, vecdb_index_info(c.oid) i WHERE c.relname IN ('sp_ip', 'sp_l2', 'sp_cos')
ORDER BY c.relname, i.segment NULLS LAST;

-- exact answers: the top 10 distances through each index equal a sequential
-- scan's, for 30 queries (distances, not ids: rows may tie)
CREATE TEMP TABLE q AS SELECT id, v FROM sp WHERE id % 67 = 5 OR id = 2002;
CREATE FUNCTION sp_top(op text, qv sparsevec, filter text DEFAULT 'true') RETURNS numeric[] LANGUAGE plpgsql AS $$
DECLARE r numeric[];
BEGIN
	EXECUTE format('SELECT array_agg(round(d::numeric, 3) ORDER BY d) FROM (SELECT v %s $1 AS d FROM sp WHERE %s ORDER BY v %s $1 LIMIT 10) s',
				   op, filter, op) INTO r USING qv;
	RETURN r;
END $$;
CREATE FUNCTION sp_mismatches(filter text DEFAULT 'true') RETURNS TABLE (op text, queries bigint, wrong bigint) LANGUAGE plpgsql AS $$
DECLARE o text;
BEGIN
	FOREACH o IN ARRAY ARRAY['<#>', '<->', '<=>'] LOOP
		SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
		CREATE TEMP TABLE by_index AS SELECT q.id, sp_top(o, q.v, filter) t FROM q;
		SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
		CREATE TEMP TABLE by_scan AS SELECT q.id, sp_top(o, q.v, filter) t FROM q;
		op := o;
		SELECT count(*), count(*) FILTER (WHERE i.t IS DISTINCT FROM s.t) INTO queries, wrong
		FROM by_index i JOIN by_scan s USING (id);
		RETURN NEXT;
		DROP TABLE by_index; DROP TABLE by_scan;
	END LOOP;
END $$;
SELECT * FROM sp_mismatches();
-- the planner picks the index by cost (a sparse score costs about one
-- operator, not dims / 32 of them)
ANALYZE sp;
EXPLAIN (COSTS OFF) SELECT id FROM sp ORDER BY v <#> '{1:1,7:2}/30522' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM sp WHERE c = 3 ORDER BY v <#> '{1:1,7:2}/30522' LIMIT 5;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sp ORDER BY v <#> (SELECT v FROM q LIMIT 1) LIMIT 5;
-- a row's own vector finds it first (inner product of a row with itself is its largest)
SELECT count(*) AS rows, count(*) FILTER (WHERE (SELECT s2.id FROM sp s2 ORDER BY s2.v <=> s.v LIMIT 1) = s.id) AS self_first
FROM sp s WHERE id % 50 = 1;
RESET enable_seqscan;

-- a filter on the column inside the index
SELECT * FROM sp_mismatches('c = 3');
SELECT * FROM sp_mismatches('c IN (1, 2) AND id > 500');

-- inserts go to the growing segment, then compaction seals them
INSERT INTO sp SELECT i, i % 10, sp_row(i, 10 + i % 51) FROM generate_series(2005, 2600) i;
INSERT INTO q SELECT id, v FROM sp WHERE id IN (2100, 2333, 2599);
SELECT i.kind, i.rows FROM vecdb_index_info('sp_ip') i ORDER BY i.segment NULLS LAST;
SELECT * FROM sp_mismatches();
SELECT vecdb_compact('sp_ip'), vecdb_compact('sp_l2'), vecdb_compact('sp_cos');
SELECT i.kind, i.rows FROM vecdb_index_info('sp_ip') i ORDER BY i.segment NULLS LAST;
SELECT * FROM sp_mismatches();

-- a compaction that adds the growing rows onto the sealed segment (its
-- rows and lists kept, dead rows masked) rather than rebuilding it
INSERT INTO sp SELECT i, i % 10, sp_row(i, 10 + i % 51) FROM generate_series(3001, 3400) i;
DELETE FROM sp WHERE id % 97 = 0 AND id NOT IN (SELECT id FROM q);
VACUUM sp;
SET vecdb.compact_growing_rows = 100;
SET vecdb.merge_onto_fraction = 0.5;
SELECT vecdb_compact('sp_ip', false);
RESET vecdb.compact_growing_rows;
RESET vecdb.merge_onto_fraction;
SELECT i.kind, i.rows, i.deleted > 0 AS dead_rows_masked FROM vecdb_index_info('sp_ip') i ORDER BY i.segment NULLS LAST;
SELECT * FROM sp_mismatches();
SELECT vecdb_verify('sp_ip');

-- deletes, VACUUM, a full compaction
DELETE FROM sp WHERE id % 4 = 0 AND id NOT IN (SELECT id FROM q);
INSERT INTO sp SELECT i, i % 10, sp_row(i, 25) FROM generate_series(2601, 2700) i;
VACUUM sp;
SELECT * FROM sp_mismatches('c <> 7');
SELECT vecdb_compact('sp_ip', true);
SELECT i.kind, i.rows, i.deleted FROM vecdb_index_info('sp_ip') i ORDER BY i.segment NULLS LAST;
SELECT * FROM sp_mismatches();
SELECT vecdb_verify('sp_ip'), vecdb_verify('sp_l2'), vecdb_verify('sp_cos');

-- zero vectors: not indexed under cosine (as pgvector), a zero query returns rows
INSERT INTO sp VALUES (9001, 1, '{}/30522');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM sp ORDER BY v <=> '{}/30522' LIMIT 5) s;
SELECT id FROM sp ORDER BY v <-> '{}/30522' LIMIT 1;
SELECT count(*) FROM (SELECT id FROM sp ORDER BY v <#> '{1:1}/30522' LIMIT 3) s;
-- a query of the wrong dimensions
SELECT id FROM sp ORDER BY v <#> '{1:1}/30523' LIMIT 1;
RESET enable_seqscan;

-- a build bounds a segment's sparse rows by their bytes, not only by a row
-- count that assumes 200 non-zeros a row: 300 rows of about 900 non-zeros
-- (2 MB) in 1 MB of maintenance_work_mem make more than one segment
CREATE TABLE sp_wide (id int, v sparsevec(30522));
INSERT INTO sp_wide SELECT i, sp_row(i, 1000) FROM generate_series(1, 300) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX sp_wide_idx ON sp_wide USING hnsw (v sparsevec_ip_ops);
RESET maintenance_work_mem;
SELECT count(*) > 1 AS several_segments, sum(rows) AS rows FROM vecdb_index_info('sp_wide_idx') WHERE segment IS NOT NULL;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM sp_wide ORDER BY v <#> (SELECT v FROM sp_wide WHERE id = 5) LIMIT 5) s;
SELECT id FROM sp_wide ORDER BY v <#> (SELECT v FROM sp_wide WHERE id = 5) LIMIT 1;
RESET enable_seqscan;
-- compaction sizes its merge by the rows' stored bytes too: 1,100 growing
-- rows of ~7 KB in 16 MB of maintenance_work_mem are sealed 1,000 at a time
-- (a 200-non-zero guess would take all of them at once; merges onto a
-- segment are off, so the rest stays a segment of its own)
TRUNCATE sp_wide;
INSERT INTO sp_wide SELECT i, sp_row(i, 1000) FROM generate_series(1, 1100) i;
SET maintenance_work_mem = '16MB';
SET vecdb.merge_onto_fraction = 0;
SELECT vecdb_compact('sp_wide_idx', false);
SELECT kind, rows FROM vecdb_index_info('sp_wide_idx') ORDER BY segment NULLS LAST;
RESET maintenance_work_mem;
RESET vecdb.merge_onto_fraction;
SELECT vecdb_verify('sp_wide_idx');
DROP TABLE sp_wide;

-- REINDEX rebuilds the same answers; a sparse segment has no view, so its
-- loads leave the shared area (when vecdb is preloaded) as it was
REINDEX INDEX sp_ip;
CREATE TEMP TABLE shared_before AS SELECT segments, used FROM vecdb_shared_status();
SELECT * FROM sp_mismatches();
SELECT s.segments IS NOT DISTINCT FROM b.segments AND s.used IS NOT DISTINCT FROM b.used AS shared_area_unchanged
FROM vecdb_shared_status() s, shared_before b;
DROP TABLE sp;
DROP FUNCTION sp_row(int, int);
DROP FUNCTION sp_top(text, sparsevec, text);
DROP FUNCTION sp_mismatches(text);
