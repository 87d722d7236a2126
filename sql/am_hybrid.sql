-- am_hybrid: scalar columns inside vecdb indexes. Every supported type and
-- operator as an index condition, NULLs, IN lists, combined conditions, empty
-- results, every row filtered out; results equal exact ORDER BY over a
-- sequential scan; plans; rows inserted after the build; compaction;
-- vecdb_last_scan; the planner's choice between this index, a btree and a
-- sequential scan.
SET vecdb.build_threads = 1;
SET vecdb.min_index_rows = 0;
SELECT setseed(0.3);
CREATE TABLE hy (id int PRIMARY KEY, embedding vector(8), i2 int2, i4 int4, i8 int8, f4 real, f8 float8,
	num numeric, flag bool, brand text, name varchar(20), day date, ts timestamp, tstz timestamptz, u uuid,
	tags text[], ids int[]);
INSERT INTO hy
SELECT i, (SELECT array_agg(round(random()::numeric, 4)::real) FROM generate_series(1, 8) WHERE i > 0)::vector,
	(i % 7)::int2, i % 10, i * 1000000000::int8 % 13, (i % 100) / 4.0, (i % 50) * 1.5,
	CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 20)::numeric / 8 END, i % 3 = 0, 'brand' || (i % 4), 'n' || (i % 9),
	date '2024-01-01' + i % 90, timestamp '2024-01-01 00:00' + (i % 48) * interval '1 hour',
	timestamptz '2024-01-01 00:00+00' + (i % 30) * interval '1 day',
	CASE WHEN i % 5 = 0 THEN NULL ELSE md5((i % 40)::text)::uuid END,
	ARRAY['t' || (i % 3), 't' || (i % 5)], ARRAY[i % 6, i % 8]
FROM generate_series(1, 2000) i;
CREATE INDEX hy_idx ON hy USING hnsw (embedding vector_l2_ops, i2, i4, i8, f4, f8, num, flag, brand, name, day, ts, tstz, u, tags, ids);
SELECT kind, rows FROM vecdb_index_info('hy_idx') ORDER BY segment NULLS LAST;
ANALYZE hy;

-- same_as_exact runs a query by index and by sequential scan and reports the
-- row count and whether the ids agree (ties in distance are broken by id)
CREATE FUNCTION same_as_exact(cond text, lim int DEFAULT 10) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; q text; plan text := ''; line text; BEGIN
	q := 'SELECT id FROM hy WHERE ' || cond || ' ORDER BY embedding <-> ''[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]'' LIMIT ' || lim;
	SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || line || ' '; END LOOP;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || q || ') s' INTO a;
	SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || q || ') s' INTO b;
	RETURN coalesce(cardinality(b), 0) || ' rows, ' || CASE WHEN a IS NOT DISTINCT FROM b THEN 'same' ELSE 'DIFFERENT' END ||
		CASE WHEN plan LIKE 'Limit%Index Scan using hy_idx%' THEN '' ELSE ' (no index scan)' END;
END $$;
-- index_cond shows the index conditions of a query's plan
CREATE FUNCTION index_cond(cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; r text := ''; BEGIN
	SET LOCAL enable_seqscan = off;
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM hy WHERE ' || cond ||
		' ORDER BY embedding <-> ''[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]'' LIMIT 10' LOOP
		IF line ~ '(Index Cond|Filter):' THEN r := r || trim(line) || ' '; END IF;
	END LOOP;
	RETURN trim(r);
END $$;

-- every type and operator as an index condition, against exact results
SET hnsw.ef_search = 200;
SELECT cond, same_as_exact(cond) FROM (VALUES
	('i2 = 3'), ('i2 <> 3'), ('i2 < 2'), ('i2 <= 2'), ('i2 > 5'), ('i2 >= 5'),
	('i4 = 7'), ('i4 < 3'), ('i4 >= 8'), ('i4 BETWEEN 2 AND 4'), ('i4 = 7::int8'), ('i4 < 3::int2'),
	('i8 = 5'), ('i8 > 10'), ('i8 <= 2::int4'),
	('f4 < 3.5'), ('f4 >= 20'), ('f4 = 12.25'), ('f4 > 20::real'),
	('f8 = 36'), ('f8 < 10'), ('f8 <> 0'),
	('num > 2'), ('num = 1.5'), ('num <= 0.25'),
	('flag = true'), ('flag <> true'),
	('brand = ''brand2'''), ('brand < ''brand1'''), ('brand >= ''brand3'''), ('brand <> ''brand0'''),
	('name = ''n4'''), ('name > ''n6'''),
	('day = ''2024-02-01'''), ('day < ''2024-01-05'''), ('day BETWEEN ''2024-01-10'' AND ''2024-01-12'''),
	('ts = ''2024-01-01 05:00'''), ('ts > ''2024-01-02 20:00'''),
	('tstz >= ''2024-01-29 00:00+00'''), ('tstz < ''2024-01-02 00:00+00'''),
	('u = ''' || md5('7')::uuid || ''''), ('u > ''f0000000-0000-0000-0000-000000000000'''),
	('tags && ARRAY[''t4'']'), ('tags @> ARRAY[''t1'', ''t2'']'), ('ids && ARRAY[5, 7]'), ('ids @> ARRAY[0]')) t(cond);

-- NULLs, IN lists, combined conditions, nothing matching, everything filtered
SELECT cond, same_as_exact(cond) FROM (VALUES
	('u IS NULL'), ('u IS NOT NULL'), ('num IS NULL'), ('num IS NULL AND i4 = 0'),
	('i4 IN (1, 3)'), ('i4 = ANY(ARRAY[2, 4, 6])'), ('brand IN (''brand1'', ''brand3'')'), ('f8 = ANY(ARRAY[1.5, 3])'),
	('day IN (''2024-01-02'', ''2024-01-03'')'), ('i4 IN (1, 3) AND brand IN (''brand1'', ''brand3'')'),
	('i4 = 2 AND f4 < 10'), ('i4 = 2 AND brand = ''brand2'' AND flag = false'),
	('i2 = 1 AND i4 = 1 AND i8 = 1 AND tags && ARRAY[''t0'']'),
	('i4 = 42'), ('i4 = 1 AND i4 = 2'), ('brand = ''nobody'''), ('i4 = NULL'), ('u = NULL'),
	('i4 < 100')) t(cond);
-- a LIMIT larger than the rows that match returns all of them
SELECT same_as_exact('i4 = 3 AND brand = ''brand3''', 500), same_as_exact('day = ''2024-01-05''', 500);

-- conditions show as index conditions; other columns' conditions stay filters
SELECT index_cond('i4 = 3 AND f4 < 10');
SELECT index_cond('u IS NULL AND tags @> ARRAY[''t1'']');
SELECT index_cond('i4 = 3 AND id > 100');

-- rows inserted after the build are filtered the same way; then compaction
INSERT INTO hy (id, embedding, i4, brand, tags, num)
SELECT 5000 + i, (SELECT array_agg(round(random()::numeric, 4)::real) FROM generate_series(1, 8) WHERE i > 0)::vector,
	i % 10, 'brand' || (i % 4), ARRAY['t' || (i % 3)], CASE WHEN i % 2 = 0 THEN i END
FROM generate_series(1, 300) i;
SELECT segment IS NULL AS growing, rows FROM vecdb_index_info('hy_idx') ORDER BY segment NULLS LAST;
SELECT cond, same_as_exact(cond) FROM (VALUES ('i4 = 3'), ('brand = ''brand2'' AND tags && ARRAY[''t1'']'),
	('num IS NULL'), ('id >= 5000 AND i4 = 4')) t(cond);
DELETE FROM hy WHERE id % 4 = 0;
VACUUM hy;
SELECT vecdb_compact('hy_idx');
SELECT segment IS NULL AS growing, rows FROM vecdb_index_info('hy_idx') ORDER BY segment NULLS LAST;
SELECT cond, same_as_exact(cond) FROM (VALUES ('i4 = 3'), ('brand = ''brand2'' AND tags && ARRAY[''t1'']'),
	('num IS NULL'), ('u IS NOT NULL AND i2 = 3')) t(cond);
SELECT vecdb_verify('hy_idx');

-- what the last scan did
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hy WHERE i4 = 3 AND brand = 'brand3' ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 5) s;
SELECT index, kind, strategy, rows, allowed, returned FROM vecdb_last_scan();
-- 80% allowed: the default switch, 4 * sqrt(ef_search / rows), is 1 for a
-- segment this small at ef_search 200, so the allowed rows are scanned exactly
SELECT count(*) FROM (SELECT id FROM hy WHERE i4 < 8 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 5) s;
SELECT index, kind, strategy, rows, allowed, returned FROM vecdb_last_scan();
SET vecdb.brute_force_ratio = 0.5;
SELECT count(*) FROM (SELECT id FROM hy WHERE i4 < 8 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 5) s;
SELECT strategy FROM vecdb_last_scan();
RESET vecdb.brute_force_ratio;
RESET enable_seqscan;

-- the planner: this index for a selective condition, a btree and a sort for
-- an extremely selective one, a sequential scan for a tiny table
CREATE TABLE hy_big (id int PRIMARY KEY, embedding vector(8), category int, rare int);
INSERT INTO hy_big SELECT i, (SELECT array_agg(round(random()::numeric, 4)::real) FROM generate_series(1, 8) WHERE i > 0)::vector,
	i % 100, CASE WHEN i % 5000 = 0 THEN 1 ELSE 0 END FROM generate_series(1, 20000) i;
CREATE INDEX hy_big_idx ON hy_big USING hnsw (embedding vector_l2_ops, category, rare);
CREATE INDEX hy_big_rare ON hy_big (rare);
ANALYZE hy_big;
EXPLAIN (COSTS OFF) SELECT id FROM hy_big WHERE category = 7 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hy_big WHERE rare = 1 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hy_big ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10;
CREATE TABLE hy_tiny (id int, embedding vector(2), category int);
INSERT INTO hy_tiny VALUES (1, '[1,1]', 1), (2, '[2,2]', 2);
CREATE INDEX ON hy_tiny USING hnsw (embedding, category);
ANALYZE hy_tiny;
EXPLAIN (COSTS OFF) SELECT id FROM hy_tiny WHERE category = 1 ORDER BY embedding <-> '[1,1]' LIMIT 1;

-- every vecdb access method takes scalar columns
CREATE INDEX hy_ivf ON hy_big USING ivfflat (embedding vector_l2_ops, category) WITH (lists = 20);
CREATE INDEX hy_pq ON hy_big USING ivfpq (embedding vector_l2_ops, category) WITH (lists = 20, m = 4);
CREATE INDEX hy_sq8 ON hy_big USING ivfsq8 (embedding vector_l2_ops, category) WITH (lists = 20);
CREATE INDEX hy_flat ON hy_big USING flat (embedding vector_l2_ops, category);
SET ivfflat.probes = 20; SET ivfpq.probes = 20; SET ivfsq8.probes = 20;
SELECT am, (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM hy_big WHERE category = 42
	ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10) s) AS exact_ids,
	(SELECT count(*) FROM pg_index WHERE indrelid = 'hy_big'::regclass) AS indexes
FROM (VALUES ('all')) t(am);
BEGIN;
DROP INDEX hy_big_idx, hy_big_rare, hy_pq, hy_sq8, hy_flat;
SET LOCAL enable_seqscan = off;
SELECT 'ivfflat' AS am, array_agg(id ORDER BY id) FROM (SELECT id FROM hy_big WHERE category = 42 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10) s;
ROLLBACK;
BEGIN;
DROP INDEX hy_big_idx, hy_big_rare, hy_ivf, hy_sq8, hy_flat;
SET LOCAL enable_seqscan = off;
SELECT 'ivfpq' AS am, array_agg(id ORDER BY id) FROM (SELECT id FROM hy_big WHERE category = 42 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10) s;
ROLLBACK;
BEGIN;
DROP INDEX hy_big_idx, hy_big_rare, hy_ivf, hy_pq, hy_flat;
SET LOCAL enable_seqscan = off;
SELECT 'ivfsq8' AS am, array_agg(id ORDER BY id) FROM (SELECT id FROM hy_big WHERE category = 42 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10) s;
ROLLBACK;
BEGIN;
DROP INDEX hy_big_idx, hy_big_rare, hy_ivf, hy_pq, hy_sq8;
SET LOCAL enable_seqscan = off;
SELECT 'flat' AS am, array_agg(id ORDER BY id) FROM (SELECT id FROM hy_big WHERE category = 42 ORDER BY embedding <-> '[0.5,0.4,0.3,0.2,0.1,0.2,0.3,0.4]' LIMIT 10) s;
ROLLBACK;

-- wrong shapes
CREATE INDEX ON hy_big USING hnsw (category, embedding);
CREATE INDEX ON hy_big USING hnsw (embedding, embedding);
CREATE TABLE hy_long (embedding vector(2), t text);
INSERT INTO hy_long VALUES ('[1,1]', repeat('x', 10000));
CREATE INDEX ON hy_long USING hnsw (embedding, t);
DROP TABLE hy_long, hy_tiny, hy_big, hy;
DROP FUNCTION same_as_exact(text, int), index_cond(text);

-- IS [NOT] NULL on the vector column: NULL vectors are not indexed (IS NULL
-- leaves the index out, so the NULL row is found)
CREATE TABLE hy_null (id int, embedding vector(2), c int);
INSERT INTO hy_null VALUES (1, '[1,1]', 1), (2, NULL, 1), (3, '[2,2]', 2);
CREATE INDEX ON hy_null USING hnsw (embedding, c);
SET enable_seqscan = off;
SELECT id FROM hy_null WHERE embedding IS NOT NULL AND c = 1 ORDER BY embedding <-> '[0,0]' LIMIT 5;
SELECT id FROM hy_null WHERE embedding IS NULL ORDER BY embedding <-> '[0,0]' LIMIT 5;
RESET enable_seqscan;
DROP TABLE hy_null;

-- a sealed segment keeps the bits of the last condition it was filtered by:
-- the same condition again, another value, another column, an array, text,
-- two conditions at once in one query, and new delete marks all answer as a
-- sequential scan does
CREATE TABLE hy_fc (id int, embedding vector(4), c int, t text);
INSERT INTO hy_fc SELECT i, ARRAY[i % 7, i % 11, i % 13, i % 17]::vector, i % 5, 'tag' || (i % 3)
FROM generate_series(1, 3000) i;
CREATE INDEX hy_fc_idx ON hy_fc USING hnsw (embedding vector_l2_ops, c, t);
CREATE FUNCTION fc_ids(cond text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; sql text; BEGIN
	sql := 'SELECT id FROM hy_fc WHERE ' || cond || ' ORDER BY embedding <-> ''' || q || ''', id LIMIT 15';
	SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL hnsw.ef_search = 400;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || sql || ') s' INTO a;
	SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || sql || ') s' INTO b;
	RETURN cardinality(b) || CASE WHEN a IS NOT DISTINCT FROM b THEN ' same' ELSE ' DIFFERENT' END;
END $$;
SELECT fc_ids('c = 1', '[1,2,3,4]'), fc_ids('c = 1', '[5,5,5,5]'), fc_ids('c = 2', '[1,2,3,4]'),
	fc_ids('c = 1', '[1,2,3,4]'), fc_ids('t = ''tag1''', '[1,2,3,4]'), fc_ids('t = ''tag2''', '[1,2,3,4]'),
	fc_ids('c = ANY (''{1,3}'')', '[1,2,3,4]'), fc_ids('c = ANY (''{1,4}'')', '[1,2,3,4]'),
	fc_ids('c = 1 AND t = ''tag0''', '[1,2,3,4]');
-- two scans of the index with different conditions in one query
SET enable_seqscan = off;
SELECT a.c, (SELECT count(*) FROM (SELECT id FROM hy_fc b WHERE b.c = a.c ORDER BY b.embedding <-> '[1,2,3,4]' LIMIT 5) s)
FROM (SELECT DISTINCT c FROM hy_fc WHERE c < 3) a ORDER BY 1;
RESET enable_seqscan;
SELECT fc_ids('c = 1', '[1,2,3,4]');
DELETE FROM hy_fc WHERE c = 1 AND id % 2 = 0;
VACUUM hy_fc;
SELECT fc_ids('c = 1', '[1,2,3,4]'), fc_ids('c = 1', '[0,0,0,0]');
DROP TABLE hy_fc;
DROP FUNCTION fc_ids(text, text);
