-- pgvector parity: behaviours pgvector's own test suite expects of an index
SET enable_seqscan = off;

-- scans are counted in pg_stat_user_indexes, as for other access methods
CREATE TABLE p_stat (id int, v vector(3));
INSERT INTO p_stat SELECT i, ARRAY[i, i + 1, i + 2]::real[]::vector FROM generate_series(1, 100) i;
CREATE INDEX p_stat_idx ON p_stat USING hnsw (v vector_l2_ops);
SELECT id FROM p_stat ORDER BY v <-> '[1,2,3]' LIMIT 1;
SELECT id FROM p_stat ORDER BY v <-> '[50,51,52]' LIMIT 3;
SELECT pg_stat_force_next_flush();
SELECT idx_scan, idx_tup_read, idx_tup_fetch FROM pg_stat_user_indexes WHERE indexrelid = 'p_stat_idx'::regclass;
CREATE INDEX p_stat_ivf ON p_stat USING ivfflat (v vector_l2_ops) WITH (lists = 2);
DROP INDEX p_stat_idx;
SELECT count(*) FROM (SELECT id FROM p_stat ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
SELECT pg_stat_force_next_flush();
SELECT idx_scan, idx_tup_read FROM pg_stat_user_indexes WHERE indexrelid = 'p_stat_ivf'::regclass;
DROP TABLE p_stat;

-- ORDER BY cosine distance to a zero vector: every distance is NaN, so the
-- index returns its rows in any order, as a sequential scan does
CREATE TABLE p_cos (id int, v vector(3));
INSERT INTO p_cos VALUES (1, '[1,2,3]'), (2, '[3,2,1]'), (3, '[1,1,1]');
CREATE INDEX ON p_cos USING hnsw (v vector_cosine_ops);
SELECT count(*), bool_and(d = 'NaN') FROM (SELECT v <=> '[0,0,0]' AS d FROM p_cos ORDER BY v <=> '[0,0,0]' LIMIT 2) s;
SELECT id FROM p_cos ORDER BY v <=> '[0,0,0]', id;
SELECT count(*) FROM (SELECT id FROM p_cos ORDER BY v <=> '[0,0,0]'::halfvec::vector LIMIT 10) s;
DROP TABLE p_cos;

-- the avg() combine functions refuse a state over the type's dimensions
SELECT vector_combine(array_fill(1::float8, ARRAY[16002]), '{0}');
SELECT vector_combine('{1,1}', array_fill(1::float8, ARRAY[16002]));
SELECT halfvec_combine(array_fill(1::float8, ARRAY[16002]), '{0}');
SELECT array_length(vector_combine(array_fill(1::float8, ARRAY[16001]), '{0}'), 1);
SELECT vector_combine('{2,1,1}', '{1,3,5}');

-- bit varying columns are refused: the index holds one length
CREATE TABLE p_varbit (v varbit(8));
CREATE INDEX ON p_varbit USING hnsw (v bit_hamming_ops);
CREATE INDEX ON p_varbit USING ivfflat (v bit_hamming_ops);
DROP TABLE p_varbit;

-- ivfflat on bit(n) for any n, on a filled table and on an empty one that
-- VACUUM then compacts
CREATE TABLE p_bit (id int, v bit(52));
INSERT INTO p_bit SELECT i, (hashint4(i)::bigint << 20 # hashint4(-i)::bigint)::bit(64)::bit(52) FROM generate_series(1, 2000) i;
CREATE INDEX p_bit_idx ON p_bit USING ivfflat (v bit_hamming_ops) WITH (lists = 10);
SET ivfflat.probes = 10;
-- every list probed: the index's distances are the exact ones (ties in any order)
SELECT (SELECT array_agg(v <~> q.v) FROM (SELECT v FROM p_bit ORDER BY v <~> q.v LIMIT 20) s)
     = (SELECT array_agg(d) FROM (SELECT (v <~> q.v) + 0 AS d FROM p_bit ORDER BY 1 LIMIT 20) e) AS exact
FROM p_bit q WHERE q.id = 7;
SELECT (SELECT id FROM p_bit ORDER BY v <~> (SELECT v FROM p_bit WHERE id = 7) LIMIT 1) AS nearest;
CREATE TABLE p_bit_empty (id int, v bit(52));
CREATE INDEX p_bit_empty_idx ON p_bit_empty USING ivfflat (v bit_hamming_ops) WITH (lists = 10);
INSERT INTO p_bit_empty SELECT * FROM p_bit;
VACUUM p_bit_empty;
SELECT kind, rows FROM vecdb_index_info('p_bit_empty_idx') ORDER BY kind;
SELECT id FROM p_bit_empty ORDER BY v <~> (SELECT v FROM p_bit WHERE id = 1999) LIMIT 1;
SELECT vecdb_verify('p_bit_empty_idx');
RESET ivfflat.probes;
DROP TABLE p_bit, p_bit_empty;
RESET enable_seqscan;
