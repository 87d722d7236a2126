-- am_streaming: what keeps queries cheap while rows stream in. A growing
-- segment past 8,192 rows is searched through IVF lists on its own
-- centroids (exact below that, every list from hnsw.ef_search 400 on), with
-- filters and delete marks; a compaction whose largest input holds most of
-- the rows adds the others to its graph (its dead rows stay, masked, until a
-- full compaction); results equal exact ORDER BY over a sequential scan.
SET vecdb.build_threads = 1;
SET vecdb.min_index_rows = 0;
SET vecdb.compact_growing_rows = 1000000;
SELECT setseed(0.7);
CREATE TABLE st (id int PRIMARY KEY, embedding vector(8), category int) WITH (autovacuum_enabled = off);
CREATE FUNCTION st_rows(lo int, hi int) RETURNS TABLE (id int, embedding vector(8), category int)
LANGUAGE sql AS $$
	SELECT i, (SELECT array_agg(round((((i * 7 + j * 3) % 17) / 4.0 + random())::numeric, 4)::real)
			   FROM generate_series(1, 8) j WHERE i > 0)::vector, i % 10
	FROM generate_series(lo, hi) i $$;
INSERT INTO st SELECT * FROM st_rows(1, 10000);
CREATE INDEX st_idx ON st USING hnsw (embedding vector_l2_ops, category);
ANALYZE st;

-- same_as_exact runs a query by index and by sequential scan and reports the
-- row count and whether the ids agree
CREATE FUNCTION same_as_exact(cond text, q text, lim int DEFAULT 10) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; sql text; BEGIN
	sql := 'SELECT id FROM st WHERE ' || cond || ' ORDER BY embedding <-> ''' || q || ''' LIMIT ' || lim;
	SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || sql || ') s' INTO a;
	SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || sql || ') s' INTO b;
	RETURN coalesce(cardinality(b), 0) || ' rows, ' || CASE WHEN a IS NOT DISTINCT FROM b THEN 'same' ELSE 'DIFFERENT' END;
END $$;
-- own_vectors_found counts the sampled rows that a search for their own vector returns first
CREATE FUNCTION own_vectors_found(lo int, hi int, step int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n int := 0; found int := 0; r record; got int; BEGIN
	SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
	FOR r IN SELECT id, embedding FROM st WHERE id BETWEEN lo AND hi AND id % step = 0 LOOP
		SELECT id INTO got FROM st ORDER BY embedding <-> r.embedding LIMIT 1;
		n := n + 1; found := found + (got = r.id)::int;
	END LOOP;
	RETURN found || ' of ' || n;
END $$;

-- below 8,192 growing rows the growing segment is searched exactly
INSERT INTO st SELECT * FROM st_rows(10001, 13000);
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]'), same_as_exact('category = 3', '[1,2,3,4,1,2,3,4]');
SELECT kind, strategy, rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;

-- a compaction adds the growing rows to the built segment's graph: its
-- deleted rows stay as dead rows (rows counts them, deleted says how many)
DELETE FROM st WHERE id % 97 = 0 AND id <= 10000;
DELETE FROM st WHERE id % 89 = 0 AND id > 10000;
VACUUM st;
SET vecdb.compact_growing_rows = 1000;
SELECT vecdb_compact('st_idx', false);
SET vecdb.compact_growing_rows = 1000000;
SELECT kind, rows, deleted FROM vecdb_index_info('st_idx') ORDER BY segment NULLS LAST;
SELECT vecdb_verify('st_idx');
SET hnsw.ef_search = 400;
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]', 50), same_as_exact('category = 3', '[4,3,2,1,4,3,2,1]', 50),
	same_as_exact('id % 97 = 0', '[2,2,2,2,2,2,2,2]');
RESET hnsw.ef_search;
SELECT own_vectors_found(1, 13000, 37);

-- past 8,192 growing rows (and below vecdb.seal_growing_rows, 10,000, so no
-- background seal runs): IVF lists over the growing rows
INSERT INTO st SELECT * FROM st_rows(13001, 22000);
DELETE FROM st WHERE id % 83 = 0 AND id > 13000;
VACUUM st;
SELECT own_vectors_found(13001, 22000, 29);
SELECT kind, strategy, rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
SET hnsw.ef_search = 400;
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]', 50), same_as_exact('category = 3', '[4,3,2,1,4,3,2,1]', 50),
	same_as_exact('category IN (1, 2) AND id > 13000', '[0,1,0,1,0,1,0,1]', 20),
	same_as_exact('id % 83 = 0', '[2,2,2,2,2,2,2,2]');
RESET hnsw.ef_search;
-- a LIMIT larger than the rows that match returns all of them
SELECT same_as_exact('category = 7 AND id > 21000', '[1,1,1,1,1,1,1,1]', 500);

-- with vecdb.merge_onto_fraction = 0 every merge builds anew (no dead rows kept)
SET vecdb.merge_onto_fraction = 0;
SET vecdb.compact_growing_rows = 1000;
SELECT vecdb_compact('st_idx', false);
SET vecdb.compact_growing_rows = 1000000;
SELECT kind, rows, deleted FROM vecdb_index_info('st_idx') ORDER BY segment NULLS LAST;
RESET vecdb.merge_onto_fraction;
-- a full compaction drops dead rows
SELECT vecdb_compact('st_idx', true);
SELECT kind, rows, deleted FROM vecdb_index_info('st_idx') ORDER BY segment NULLS LAST;
SELECT vecdb_verify('st_idx');
SET hnsw.ef_search = 400;
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]', 50), same_as_exact('category = 3', '[4,3,2,1,4,3,2,1]', 50);
RESET hnsw.ef_search;

-- a compaction stays within maintenance_work_mem: a larger growing segment
-- (here 1MB: about 3,300 rows) is sealed a part at a time (the rest stays
-- growing; 9,000 rows stay below the background seal), and a backend's
-- growing cache only flags the sealed part, without reading anything again
INSERT INTO st SELECT * FROM st_rows(22001, 31000);
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]', 50);
SET maintenance_work_mem = '1MB';
SET vecdb.compact_growing_rows = 1000;
SELECT vecdb_compact('st_idx', false);
SELECT count(*) AS segments, min(rows) FILTER (WHERE segment IS NOT NULL) < 9000 AS part_sealed,
	sum(rows) FILTER (WHERE segment IS NULL) BETWEEN 1 AND 8999 AS growing_left
FROM vecdb_index_info('st_idx');
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]', 50), same_as_exact('category = 3', '[4,3,2,1,4,3,2,1]', 50);
SELECT read_rows FROM vecdb_last_scan() WHERE segment IS NULL;
-- rows deleted meanwhile, then the rest is sealed part by part
DELETE FROM st WHERE id % 7 = 0 AND id > 28000;
DO $$ BEGIN
	FOR i IN 1..20 LOOP EXIT WHEN NOT vecdb_compact('st_idx', false); END LOOP;
END $$;
SELECT coalesce(sum(rows) FILTER (WHERE segment IS NULL), 0) < 1000 AS growing_sealed,
	count(*) FILTER (WHERE segment IS NOT NULL) > 2 AS several_segments
FROM vecdb_index_info('st_idx');
RESET maintenance_work_mem;
SET vecdb.compact_growing_rows = 1000000;
SELECT vecdb_verify('st_idx');
SET hnsw.ef_search = 400;
SELECT same_as_exact('true', '[1,2,3,4,1,2,3,4]', 50), same_as_exact('category = 3', '[4,3,2,1,4,3,2,1]', 50),
	same_as_exact('id % 7 = 0', '[2,2,2,2,2,2,2,2]', 50);
RESET hnsw.ef_search;
SELECT own_vectors_found(22001, 31000, 31);
DROP TABLE st;
DROP FUNCTION st_rows(int, int), same_as_exact(text, text, int), own_vectors_found(int, int, int);
-- sealed rows that are over half of a backend's growing cache leave it in
-- place (engine index, TIDs, delete flags, scalar columns, text included):
-- the next query reads no growing row again and answers as before
CREATE TABLE sr (id int, v vector(128), tag text) WITH (autovacuum_enabled = off);
CREATE INDEX sr_idx ON sr USING hnsw (v vector_l2_ops, tag);
INSERT INTO sr SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.1))::vector FROM generate_series(1, 128) j WHERE i > 0),
	'tag ' || repeat('x', i % 13) || (i % 5)
FROM generate_series(1, 2000) i;
DELETE FROM sr WHERE id % 7 = 0;
VACUUM sr;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM sr ORDER BY v <-> (SELECT v FROM sr WHERE id = 5) LIMIT 5) s;
SET maintenance_work_mem = '1MB';
SET vecdb.compact_growing_rows = 1000;
SELECT vecdb_compact('sr_idx', false);
RESET maintenance_work_mem;
SET vecdb.compact_growing_rows = 1000000;
-- (the growing rest, deleted rows included, is under half of the 2,000 cached)
SELECT kind, rows BETWEEN 1 AND 999 AS under_half, deleted > 0 AS some_deleted
FROM vecdb_index_info('sr_idx') WHERE segment IS NULL;
SELECT count(*) FROM (SELECT id FROM sr ORDER BY v <-> (SELECT v FROM sr WHERE id = 5) LIMIT 5) s;
SELECT kind, read_rows FROM vecdb_last_scan() WHERE segment IS NULL;
CREATE FUNCTION sr_same(cond text, q int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; sql text; BEGIN
	sql := 'SELECT id FROM sr WHERE ' || cond || ' ORDER BY v <-> (SELECT v FROM sr WHERE id = ' || q || ') LIMIT 20';
	SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL hnsw.ef_search = 400;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || sql || ') s' INTO a;
	SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
	EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || sql || ') s' INTO b;
	RETURN cardinality(b) || CASE WHEN a IS NOT DISTINCT FROM b THEN ' same' ELSE ' DIFFERENT' END;
END $$;
SELECT sr_same('true', 1999), sr_same('tag LIKE ''%3''', 1990), sr_same('id > 1500', 1601),
	sr_same('tag = ''tag xxxx4''', 1999);
-- every live row of the growing rest is found first by its own vector
SELECT count(*) AS not_found_first FROM sr s1
WHERE s1.id > 1500 AND NOT EXISTS (SELECT 1 FROM (SELECT id FROM sr ORDER BY v <-> s1.v LIMIT 1) f WHERE f.id = s1.id);
RESET enable_seqscan;
SELECT vecdb_verify('sr_idx');
DROP TABLE sr;
DROP FUNCTION sr_same(text, int);
-- the background seal jobs: none runs or waits here
SELECT count(*) FROM vecdb_seal_progress WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database());
-- other databases' jobs are for pg_monitor only
CREATE ROLE st_reader;
SET ROLE st_reader;
SELECT count(*) FROM vecdb_seal_progress;
SELECT count(*) FROM vecdb_seal_jobs();
RESET ROLE;
GRANT pg_monitor TO st_reader;
SET ROLE st_reader;
SELECT count(*) FROM vecdb_seal_progress WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database());
RESET ROLE;
DROP ROLE st_reader;
