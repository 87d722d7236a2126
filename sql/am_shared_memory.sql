-- am_shared_memory: what a scan reads from index pages. A connection loads a
-- sealed segment once (with vecdb preloaded, once per server: a new
-- connection reads nothing); the growing segment is read once and then only
-- its new rows; vecdb_prewarm loads an index ahead of the first query.
-- (Expected output: shared mode; am_shared_memory_1.out: per-backend mode.)
CREATE TABLE shm_items (id int PRIMARY KEY, embedding vector(4));
INSERT INTO shm_items SELECT i, ARRAY[i % 37, i % 11, i % 5, i % 3]::real[]::vector FROM generate_series(1, 2000) i;
CREATE INDEX shm_idx ON shm_items USING hnsw (embedding vector_l2_ops);
INSERT INTO shm_items SELECT i, ARRAY[i % 37, i % 11, i % 5, i % 3]::real[]::vector FROM generate_series(2001, 2300) i;
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT count(*) FROM (SELECT id FROM shm_items ORDER BY embedding <-> '[1,2,3,1]' LIMIT 5) s;
SELECT kind, memory, rows, read_rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
-- the same connection reads nothing again
SELECT count(*) FROM (SELECT id FROM shm_items ORDER BY embedding <-> '[2,2,3,1]' LIMIT 5) s;
SELECT kind, memory, rows, read_rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
-- new growing rows are read, and only they
INSERT INTO shm_items SELECT i, ARRAY[i % 37, i % 11, i % 5, i % 3]::real[]::vector FROM generate_series(2301, 2307) i;
SELECT count(*) FROM (SELECT id FROM shm_items ORDER BY embedding <-> '[3,2,3,1]' LIMIT 5) s;
SELECT kind, memory, rows, read_rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
-- a new connection: the sealed segment is already in the shared area
\c
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM shm_items ORDER BY embedding <-> '[1,2,3,1]' LIMIT 5) s;
SELECT kind, memory, rows, read_rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
-- compaction makes a new segment (merging into the built one would rewrite it) and
-- loads it into the shared area before queries see it: the query reads no pages
SET vecdb.merge_onto_fraction = 0;
SET vecdb.compact_growing_rows = 100;
SELECT vecdb_compact('shm_idx', false);
SELECT count(*) FROM (SELECT id FROM shm_items ORDER BY embedding <-> '[1,2,3,1]' LIMIT 5) s;
SELECT kind, memory, rows, read_rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
-- prewarm after a rebuild: the first query then reads nothing
REINDEX INDEX shm_idx;
\c
SELECT vecdb_prewarm('shm_idx');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM shm_items ORDER BY embedding <-> '[1,2,3,1]' LIMIT 5) s;
SELECT kind, memory, rows, read_rows FROM vecdb_last_scan() ORDER BY segment NULLS LAST;
-- errors
SELECT vecdb_prewarm('shm_items');
SELECT vecdb_prewarm(0);
CREATE ROLE shm_reader;
SET ROLE shm_reader;
SELECT vecdb_prewarm('shm_idx');
SELECT count(*) FROM vecdb_shared_segments();
RESET ROLE;
DROP ROLE shm_reader;
SELECT enabled, size > 0 AS sized FROM vecdb_shared_status();
DROP TABLE shm_items;
