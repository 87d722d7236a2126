-- am_delete_marks: VACUUM's delete marks in a segment's TID map. A 6-byte
-- entry can straddle two pages; both halves go into one WAL record, so a
-- crash or an interrupted VACUUM never leaves a half-written mark.
CREATE EXTENSION IF NOT EXISTS pg_walinspect;
CREATE TABLE dm (id int, v vector(2)) WITH (autovacuum_enabled = off);
INSERT INTO dm SELECT i, ARRAY[i, -i]::real[]::vector FROM generate_series(1, 3000) i;
CREATE INDEX dm_idx ON dm USING flat (v vector_l2_ops);
-- 3,000 entries of 6 bytes span three TID pages: two entries straddle
SELECT kind, rows, deleted FROM vecdb_index_info('dm_idx') ORDER BY kind;
SET vecdb.compact_deleted_fraction = 1;
DELETE FROM dm WHERE id % 3 <> 0 OR id BETWEEN 1300 AND 1400 OR id BETWEEN 2700 AND 2800;
SELECT pg_current_wal_flush_lsn() AS before_vacuum \gset
VACUUM dm;
-- a commit with a transaction id flushes the WAL up to here
CREATE TABLE dm_flush ();
DROP TABLE dm_flush;
-- the index's WAL records from VACUUM: some register two pages (a straddler's two halves)
SELECT count(*) FILTER (WHERE block_ref LIKE '%blkref #1:%') > 0 AS straddlers_in_one_record
FROM pg_get_wal_records_info(:'before_vacuum', pg_current_wal_flush_lsn())
WHERE block_ref LIKE '%/' || pg_relation_filenode('dm_idx') || ' fork main%';
SELECT kind, rows, deleted FROM vecdb_index_info('dm_idx') ORDER BY kind;
SELECT vecdb_verify('dm_idx');
SET enable_seqscan = off;
SELECT count(*), min(id), max(id), bool_and(id % 3 = 0) FROM (SELECT id FROM dm ORDER BY v <-> '[0,0]' LIMIT 5000) s;
RESET enable_seqscan;
RESET vecdb.compact_deleted_fraction;
DROP TABLE dm;
DROP EXTENSION pg_walinspect;
