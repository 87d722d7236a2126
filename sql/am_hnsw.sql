-- am_hnsw: the hnsw access method on every element type: DDL and options, plans,
-- results against exact search, rows inserted after the build, deletes and
-- VACUUM, compaction and vecdb_index_info.
SET vecdb.min_index_rows = 0;
SET vecdb.build_threads = 1;
SELECT setseed(0.25);
CREATE TABLE hn (id int PRIMARY KEY, v vector(8), h halfvec(8), s sparsevec(8), b bit(16));
INSERT INTO hn (id, v, h, s, b) SELECT id, v, v::halfvec, v::sparsevec,
	binary_quantize(v - '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]')::bit(8) || binary_quantize(v - '[0.3,0.6,0.4,0.5,0.7,0.2,0.5,0.5]')::bit(8)
FROM (SELECT i AS id, (SELECT array_agg(round(random()::numeric, 4)::real) FROM generate_series(1, 8) WHERE i > 0)::vector AS v
	FROM generate_series(1, 1500) i) d;

-- exact_ids and index_ids return the ids of a query by a sequential scan and by an index scan
CREATE FUNCTION exact_ids(q text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[]; BEGIN
	SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = on;
	EXECUTE 'SELECT array_agg(id) FROM (' || q || ') s' INTO r; RETURN r;
END $$;
CREATE FUNCTION index_ids(q text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[]; BEGIN
	SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
	EXECUTE 'SELECT array_agg(id) FROM (' || q || ') s' INTO r; RETURN r;
END $$;
-- overlap counts the ids of a that are in b
CREATE FUNCTION overlap(a int[], b int[]) RETURNS int LANGUAGE sql AS $$ SELECT count(*)::int FROM unnest(a) x WHERE x = ANY(b) $$;

-- options: defaults, valid and invalid values
CREATE INDEX hn_v_l2 ON hn USING hnsw (v vector_l2_ops);
CREATE INDEX hn_bad ON hn USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX hn_bad ON hn USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX hn_bad ON hn USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX hn_bad ON hn USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 40);
CREATE INDEX hn_bad ON hn USING hnsw (v vector_l2_ops) WITH (lists = 10);
CREATE INDEX hn_bad ON hn USING hnsw (id);
CREATE INDEX hn_bad ON hn USING hnsw (v, h);
CREATE INDEX hn_v_cos ON hn USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
-- options are checked against each other when they are set, not at first use
ALTER INDEX hn_v_cos SET (m = 20);
ALTER INDEX hn_v_cos SET (m = 16);
SELECT reloptions FROM pg_class WHERE relname = 'hn_v_cos';
ALTER INDEX hn_v_cos RESET (m);
CREATE INDEX hn_v_ip ON hn USING hnsw (v vector_ip_ops);
CREATE INDEX hn_v_l1 ON hn USING hnsw (v vector_l1_ops);
CREATE INDEX hn_h_l2 ON hn USING hnsw (h halfvec_l2_ops);
CREATE INDEX hn_h_cos ON hn USING hnsw (h halfvec_cosine_ops);
CREATE INDEX hn_s_l2 ON hn USING hnsw (s sparsevec_l2_ops);
CREATE INDEX hn_s_ip ON hn USING hnsw (s sparsevec_ip_ops);
CREATE INDEX hn_b_ham ON hn USING hnsw (b bit_hamming_ops);
CREATE INDEX hn_b_jac ON hn USING hnsw (b bit_jaccard_ops);
SELECT c.relname, i.access_method, i.metric, i.dims, i.kind, i.rows, i.deleted
FROM pg_class c, vecdb_index_info(c.oid) i WHERE c.relname LIKE 'hn\_%' AND c.relkind = 'i' AND c.relname <> 'hn_pkey'
ORDER BY c.relname, i.segment NULLS LAST;

-- the index serves ORDER BY distance LIMIT, and nothing else
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hn ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hn ORDER BY v <=> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hn ORDER BY b <~> '1010101010101010' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hn WHERE v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' < 0.5;
RESET enable_seqscan;

-- results: the top 10 agree with exact search
SET hnsw.ef_search = 100;
SELECT q, overlap(index_ids(q), exact_ids(q)) AS found FROM (VALUES
	('SELECT id FROM hn ORDER BY v <-> ''[0.1,0.9,0.2,0.8,0.3,0.7,0.4,0.6]'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY v <=> ''[0.1,0.9,0.2,0.8,0.3,0.7,0.4,0.6]'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY v <#> ''[0.1,0.9,0.2,0.8,0.3,0.7,0.4,0.6]'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY v <+> ''[0.1,0.9,0.2,0.8,0.3,0.7,0.4,0.6]'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY h <-> ''[0.1,0.9,0.2,0.8,0.3,0.7,0.4,0.6]'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY h <=> ''[0.1,0.9,0.2,0.8,0.3,0.7,0.4,0.6]'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY s <-> ''{1:0.1,2:0.9,3:0.2,4:0.8,5:0.3,6:0.7,7:0.4,8:0.6}/8'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY s <#> ''{1:0.1,2:0.9,3:0.2,4:0.8,5:0.3,6:0.7,7:0.4,8:0.6}/8'' LIMIT 10'),
	('SELECT id FROM hn ORDER BY b <~> ''1010101001010101'', id LIMIT 10'),
	('SELECT id FROM hn ORDER BY b <%> ''1010101001010101'', id LIMIT 10')) t(q);
-- the distances come out in order
SELECT bool_and(d >= lag) AS ordered, count(*) FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () FROM (SELECT v <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' AS d FROM hn
	ORDER BY v <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 200) s) t;

-- an unlimited scan returns every indexed row once; NULLs are not indexed
INSERT INTO hn (id) VALUES (9001);
SET enable_seqscan = off;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM hn ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]') s;
-- ORDER BY distance to NULL returns the indexed rows in some order
SELECT count(*) FROM (SELECT id FROM hn ORDER BY v <-> NULL) s;
RESET enable_seqscan;

-- rows inserted after the build are found at once (growing segment)
INSERT INTO hn (id, v) VALUES (9002, '[0.11,0.22,0.33,0.44,0.55,0.66,0.77,0.88]');
UPDATE hn SET h = v::halfvec, s = v::sparsevec WHERE id = 9002;
SELECT index_ids('SELECT id FROM hn ORDER BY v <-> ''[0.11,0.22,0.33,0.44,0.55,0.66,0.77,0.88]'' LIMIT 1') AS v_l2,
	index_ids('SELECT id FROM hn ORDER BY h <=> ''[0.11,0.22,0.33,0.44,0.55,0.66,0.77,0.88]'' LIMIT 1') AS h_cos,
	index_ids('SELECT id FROM hn ORDER BY s <-> ''[0.11,0.22,0.33,0.44,0.55,0.66,0.77,0.88]''::vector::sparsevec LIMIT 1') AS s_l2;
INSERT INTO hn (id, v) SELECT 10000 + i, (SELECT array_agg(round(random()::numeric, 4)::real) FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 300) i;
SELECT segment IS NULL AS growing, kind, rows, deleted FROM vecdb_index_info('hn_v_l2') ORDER BY segment NULLS LAST;
SELECT overlap(index_ids('SELECT id FROM hn ORDER BY v <-> ''[0.9,0.1,0.9,0.1,0.9,0.1,0.9,0.1]'' LIMIT 10'),
	exact_ids('SELECT id FROM hn ORDER BY v <-> ''[0.9,0.1,0.9,0.1,0.9,0.1,0.9,0.1]'' LIMIT 10')) AS found_with_growing;

-- deletes: VACUUM marks them, searches skip them, the LIMIT is still filled
DELETE FROM hn WHERE id % 3 = 0;
VACUUM hn;
SELECT segment IS NULL AS growing, kind, rows, deleted FROM vecdb_index_info('hn_v_l2') ORDER BY segment NULLS LAST;
SELECT count(*) AS returned, bool_and(id % 3 <> 0) AS none_deleted
FROM unnest(index_ids('SELECT id FROM hn ORDER BY v <-> ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'' LIMIT 50')) id;
SELECT overlap(index_ids('SELECT id FROM hn ORDER BY v <-> ''[0.9,0.1,0.9,0.1,0.9,0.1,0.9,0.1]'' LIMIT 10'),
	exact_ids('SELECT id FROM hn ORDER BY v <-> ''[0.9,0.1,0.9,0.1,0.9,0.1,0.9,0.1]'' LIMIT 10')) AS found_after_delete;
SELECT vecdb_verify('hn_v_l2');

-- compaction merges everything into one segment; results stay
SELECT vecdb_compact('hn_v_l2');
SELECT segment IS NULL AS growing, kind, rows, deleted FROM vecdb_index_info('hn_v_l2') ORDER BY segment NULLS LAST;
SELECT vecdb_compact('hn_v_l2');
SELECT overlap(index_ids('SELECT id FROM hn ORDER BY v <-> ''[0.9,0.1,0.9,0.1,0.9,0.1,0.9,0.1]'' LIMIT 10'),
	exact_ids('SELECT id FROM hn ORDER BY v <-> ''[0.9,0.1,0.9,0.1,0.9,0.1,0.9,0.1]'' LIMIT 10')) AS found_after_compact;
SELECT vecdb_verify('hn_v_l2');

-- iterative scan settings
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 7;
SELECT count(*) FROM unnest(index_ids('SELECT id FROM hn ORDER BY v <-> ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'' LIMIT 20')) id;
SET hnsw.iterative_scan = strict_order;
SET hnsw.max_scan_tuples = 20000;
SELECT bool_and(d >= lag) AS ordered, count(*) FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () FROM (SELECT v <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' AS d FROM hn
	ORDER BY v <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 100) s) t;
SET hnsw.iterative_scan = fast;
RESET hnsw.iterative_scan;
RESET hnsw.max_scan_tuples;
SET hnsw.ef_search = 0;
RESET hnsw.ef_search;

-- bad queries
SET enable_seqscan = off;
-- (not a bad query: the distance to a zero vector is NaN for every row, any row is nearest)
SELECT id FROM hn ORDER BY v <=> '[0,0,0,0,0,0,0,0]' LIMIT 1;
SELECT id FROM hn ORDER BY h <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;

DROP TABLE hn;
DROP FUNCTION exact_ids(text), index_ids(text), overlap(int[], int[]);
-- past ef_search rows the graph's later batches can hold a row closer than
-- one already returned: by default it is held back (returned once every
-- stream is done), so rows never go back in distance and LIMIT is still
-- filled; relaxed_order returns rows as found
CREATE TABLE hn_order (id int, v vector(16));
INSERT INTO hn_order SELECT i, ARRAY(SELECT ((hashint4(i * 16 + j) & 65535) / 65536.0)::real FROM generate_series(1, 16) j)
FROM generate_series(1, 5000) i;
CREATE INDEX ON hn_order USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SET enable_seqscan = off;
SET hnsw.ef_search = 10;
CREATE FUNCTION hn_inversions(q int, lim int) RETURNS TABLE (n bigint, inversions bigint) LANGUAGE sql AS $$
	SELECT count(*), count(*) FILTER (WHERE d < prev) FROM (
		SELECT d, lag(d) OVER (ORDER BY rn) AS prev FROM (
			SELECT row_number() OVER () AS rn, d FROM (
				SELECT v <-> (SELECT v FROM hn_order WHERE id = q) AS d FROM hn_order
				ORDER BY v <-> (SELECT v FROM hn_order WHERE id = q) LIMIT lim) a) b) c $$;
SELECT sum(n) AS rows, sum(inversions) AS inversions FROM generate_series(1, 40) q, hn_inversions(q * 97, 200);
SELECT n FROM hn_inversions(7, 6000);
SET hnsw.iterative_scan = relaxed_order;
SELECT sum(n) AS rows, sum(inversions) > 0 AS relaxed_has_inversions FROM generate_series(1, 40) q, hn_inversions(q * 97, 200);
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP FUNCTION hn_inversions(int, int);
DROP TABLE hn_order;
-- repair_reach = 1: after building, each row a search for its own vector
-- misses gets a link from where such a search ends (docs/engine.md, "Rows
-- the walk misses"). 40 clusters whose axis spreads differ by a factor of
-- 30 (the bench harness' shape) leave such rows in a plain build
-- (repair_reach = 0). The default, -1, repairs up to 256 dimensions.
SELECT setseed(0.25);
CREATE TABLE hn_reach_c AS SELECT k,
	ARRAY(SELECT 4 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) FROM generate_series(1, 24) WHERE k >= 0) AS centre,
	ARRAY(SELECT 0.05 * exp(ln(30) * random()) FROM generate_series(1, 24) WHERE k >= 0) AS sigma
FROM generate_series(0, 39) k;
CREATE TABLE hn_reach AS SELECT i AS id,
	ARRAY(SELECT (c.centre[j] + c.sigma[j] * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::real
		  FROM generate_series(1, 24) j)::vector(24) AS v
FROM generate_series(1, 12000) i JOIN hn_reach_c c ON c.k = (hashint4(i) & 65535) % 40;
CREATE TABLE hn_reach2 AS SELECT * FROM hn_reach;
CREATE TABLE hn_reach3 AS SELECT * FROM hn_reach;
CREATE INDEX hn_bad ON hn_reach USING hnsw (v vector_l2_ops) WITH (repair_reach = 2);
CREATE INDEX hn_bad ON hn_reach USING ivfflat (v vector_l2_ops) WITH (repair_reach = 1);
SET vecdb.build_threads = 1;
CREATE INDEX hn_reach_plain ON hn_reach USING hnsw (v vector_l2_ops) WITH (repair_reach = 0);
CREATE INDEX hn_reach_repaired ON hn_reach2 USING hnsw (v vector_l2_ops) WITH (repair_reach = 1);
CREATE INDEX hn_reach_default ON hn_reach3 USING hnsw (v vector_l2_ops);
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'hn_reach_%' AND relkind = 'i' ORDER BY 1;
-- rows of the first 3,000 that a search for their own vector misses
CREATE FUNCTION hn_missed(tbl text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE missed bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM %1$I r WHERE r.id <= 3000 AND r.id NOT IN
		(SELECT h.id FROM %1$I h ORDER BY h.v <-> r.v LIMIT 10)', tbl) INTO missed;
	RETURN missed;
END $$;
SET enable_seqscan = off;
SET hnsw.ef_search = 20;
SELECT hn_missed('hn_reach') AS plain_missed \gset
SELECT hn_missed('hn_reach2') AS repaired_missed \gset
SELECT hn_missed('hn_reach3') AS default_missed \gset
SELECT :plain_missed > 10 AS plain_misses_rows, :repaired_missed * 2 < :plain_missed AS repair_finds_them,
	:default_missed = :repaired_missed AS default_repairs_24_dimensions;
-- rows inserted after the build go through VACUUM's segment build, with the option
INSERT INTO hn_reach2 SELECT i,
	ARRAY(SELECT (c.centre[j] + c.sigma[j] * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::real
		  FROM generate_series(1, 24) j)::vector(24)
FROM generate_series(12001, 14000) i JOIN hn_reach_c c ON c.k = (hashint4(i) & 65535) % 40;
VACUUM hn_reach2;
SELECT count(*) AS segments FROM vecdb_index_info('hn_reach_repaired');
SELECT count(*) <= 20 AS new_rows_found FROM hn_reach2 r WHERE r.id > 12000
	AND r.id NOT IN (SELECT h.id FROM hn_reach2 h ORDER BY h.v <-> r.v LIMIT 10);
RESET hnsw.ef_search;
RESET enable_seqscan;
RESET vecdb.build_threads;
DROP FUNCTION hn_missed(text);
DROP TABLE hn_reach, hn_reach2, hn_reach3, hn_reach_c;

-- A new index links over float16 copies of its rows, scaled by one power of
-- two first (docs/engine.md, "Half rows"): rows far outside float16's range
-- (times 1e6: it ends at 65504; times 1e-6: below its normal numbers) build
-- as good a graph as the same rows unscaled. Recall@10 of 30 searches.
SELECT setseed(0.5);
CREATE TABLE hn_half_c AS SELECT k,
	ARRAY(SELECT 4 * (random() - 0.5) FROM generate_series(1, 64) WHERE k >= 0) AS centre
FROM generate_series(0, 29) k;
CREATE TABLE hn_half_rows AS SELECT i AS id,
	ARRAY(SELECT c.centre[j] + 0.5 * (random() - 0.5) FROM generate_series(1, 64) j) AS x
FROM generate_series(1, 3000) i JOIN hn_half_c c ON c.k = i % 30;
CREATE TABLE hn_half_1 AS SELECT id, x::real[]::vector(64) AS v FROM hn_half_rows;
CREATE TABLE hn_half_big AS SELECT id, ARRAY(SELECT (e * 1e6)::real FROM unnest(x) e)::vector(64) AS v FROM hn_half_rows;
CREATE TABLE hn_half_small AS SELECT id, ARRAY(SELECT (e * 1e-6)::real FROM unnest(x) e)::vector(64) AS v FROM hn_half_rows;
CREATE INDEX ON hn_half_1 USING hnsw (v vector_l2_ops);
CREATE INDEX ON hn_half_big USING hnsw (v vector_l2_ops);
CREATE INDEX ON hn_half_small USING hnsw (v vector_l2_ops);
CREATE FUNCTION hn_half_recall(tbl text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE recall float8;
BEGIN
	EXECUTE format('SELECT avg((SELECT count(*) FROM
		(SELECT h.id FROM %1$I h ORDER BY h.v <-> q.v LIMIT 10) a JOIN
		(SELECT h.id FROM %1$I h ORDER BY (h.v <-> q.v) + 0 LIMIT 10) b USING (id)) / 10.0)
		FROM %1$I q WHERE q.id %% 100 = 7', tbl) INTO recall;
	RETURN recall;
END $$;
SET enable_seqscan = off;
SET hnsw.ef_search = 40;
SELECT t, hn_half_recall(t) >= 0.9 AS recall_ok FROM unnest(ARRAY['hn_half_1', 'hn_half_big', 'hn_half_small']) t;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP FUNCTION hn_half_recall(text);
DROP TABLE hn_half_1, hn_half_big, hn_half_small, hn_half_rows, hn_half_c;
