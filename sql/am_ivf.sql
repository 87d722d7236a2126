-- am_ivf: the ivfflat, ivfpq and ivfsq8 access methods: options, plans, results
-- against exact search, probes and re-ranking, inserts, deletes and compaction.
SET vecdb.min_index_rows = 0;
SET vecdb.build_threads = 1;
SELECT setseed(0.5);
CREATE TABLE iv (id int PRIMARY KEY, v vector(16), h halfvec(16), b bit(32));
-- four clusters, so that inverted lists mean something
INSERT INTO iv (id, v, h, b) SELECT id, v, v::halfvec, binary_quantize(v - array_fill(0.45::real, ARRAY[16])::vector)::bit(16) ||
	binary_quantize(v - array_fill(0.6::real, ARRAY[16])::vector)::bit(16)
FROM (SELECT i AS id, (SELECT array_agg(round(((i % 4) * 0.25 + random() * 0.3 + g * 0)::numeric, 4)::real)
	FROM generate_series(1, 16) g)::vector AS v FROM generate_series(1, 2000) i) d;

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
CREATE FUNCTION overlap(a int[], b int[]) RETURNS int LANGUAGE sql AS $$ SELECT count(*)::int FROM unnest(a) x WHERE x = ANY(b) $$;

-- options
CREATE INDEX iv_bad ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 0);
CREATE INDEX iv_bad ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 32769);
CREATE INDEX iv_bad ON iv USING ivfflat (v vector_l1_ops);
CREATE INDEX iv_bad ON iv USING ivfpq (v vector_l2_ops) WITH (m = 5);
CREATE INDEX iv_bad ON iv USING ivfpq (v vector_l2_ops) WITH (nbits = 17);
CREATE INDEX iv_bad ON iv USING ivfsq8 (b bit_hamming_ops);
CREATE INDEX iv_flat_l2 ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX iv_flat_ip ON iv USING ivfflat (v vector_ip_ops) WITH (lists = 8);
CREATE INDEX iv_flat_hcos ON iv USING ivfflat (h halfvec_cosine_ops) WITH (lists = 8);
CREATE INDEX iv_flat_bit ON iv USING ivfflat (b bit_hamming_ops) WITH (lists = 8);
CREATE INDEX iv_pq ON iv USING ivfpq (v vector_l2_ops) WITH (lists = 8, m = 4, nbits = 8, rerank = 10);
CREATE INDEX iv_pq_cos ON iv USING ivfpq (h halfvec_cosine_ops) WITH (lists = 8);
CREATE INDEX iv_sq8 ON iv USING ivfsq8 (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX iv_sq8_ip ON iv USING ivfsq8 (v vector_ip_ops) WITH (lists = 8, rerank = 0);
SELECT c.relname, i.access_method, i.metric, i.dims, i.kind, i.rows
FROM pg_class c, vecdb_index_info(c.oid) i WHERE c.relname LIKE 'iv\_%' AND c.relkind = 'i' AND c.relname <> 'iv_pkey'
	AND i.segment IS NOT NULL ORDER BY c.relname;

SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> array_fill(0.5::real, ARRAY[16])::vector LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY h <=> array_fill(0.5::real, ARRAY[16])::vector::halfvec LIMIT 5;
RESET enable_seqscan;

-- probing every list is exact for ivfflat; PQ and SQ8 re-rank exactly
SET ivfflat.probes = 8;
SET ivfpq.probes = 8;
SET ivfsq8.probes = 8;
DROP INDEX iv_pq, iv_sq8;
SELECT q, overlap(index_ids(q), exact_ids(q)) AS found FROM (VALUES
	('SELECT id FROM iv ORDER BY v <-> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10'),
	('SELECT id FROM iv ORDER BY v <#> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10'),
	('SELECT id FROM iv ORDER BY h <=> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10'),
	('SELECT id FROM iv ORDER BY b <~> ''10101010101010101010101010101010'', id LIMIT 10')) t(q);
DROP INDEX iv_flat_l2, iv_flat_ip, iv_flat_hcos;
CREATE INDEX iv_pq ON iv USING ivfpq (v vector_l2_ops) WITH (lists = 8, m = 4, nbits = 8, rerank = 10);
SELECT overlap(index_ids('SELECT id FROM iv ORDER BY v <-> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10'),
	exact_ids('SELECT id FROM iv ORDER BY v <-> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10')) >= 9 AS pq_reranked;
DROP INDEX iv_pq;
CREATE INDEX iv_sq8 ON iv USING ivfsq8 (v vector_l2_ops) WITH (lists = 8);
SELECT overlap(index_ids('SELECT id FROM iv ORDER BY v <-> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10'),
	exact_ids('SELECT id FROM iv ORDER BY v <-> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 10')) >= 9 AS sq8_reranked;
-- ORDER BY returns exact distances in order, also for the lossy kinds
SELECT bool_and(d >= lag) AS ordered, count(*) FROM (SELECT d, lag(d, 1, 0::float8) OVER () FROM (
	SELECT v <-> array_fill(0.3::real, ARRAY[16])::vector AS d FROM iv ORDER BY v <-> array_fill(0.3::real, ARRAY[16])::vector LIMIT 10) s) t;
-- one probe is approximate but the LIMIT is still filled: the scan widens as it goes
SET ivfsq8.probes = 1;
SELECT count(*) FROM unnest(index_ids('SELECT id FROM iv ORDER BY v <-> ''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'' LIMIT 700')) id;
-- ivfflat.iterative_scan = relaxed_order stops after the rows of max_probes lists
SET ivfflat.iterative_scan = relaxed_order;
SET ivfflat.max_probes = 2;
SET ivfflat.probes = 1;
SELECT count(*) FROM unnest(index_ids('SELECT id FROM iv ORDER BY b <~> ''10101010101010101010101010101010''')) id;
RESET ivfflat.iterative_scan;
SELECT count(*) FROM unnest(index_ids('SELECT id FROM iv ORDER BY b <~> ''10101010101010101010101010101010''')) id;
SET ivfflat.probes = 0;

-- vecdb.train_device: without a usable GPU (or without CUDA in this build) gpu
-- and auto train on the CPU, so the lists, and the answers, are the CPU's
SET ivfflat.probes = 2;
SET vecdb.train_device = cpu;
CREATE INDEX iv_train_cpu ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 8);
SET vecdb.train_device = gpu;
CREATE INDEX iv_train_gpu ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 8);
SET vecdb.train_device = auto;
CREATE INDEX iv_train_auto ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 8);
SELECT count(*) AS rows,
	count(*) FILTER (WHERE g.ctid = c.ctid) AS same_as_gpu, count(*) FILTER (WHERE a.ctid = c.ctid) AS same_as_auto
FROM vecdb_search('iv_train_cpu', (SELECT array_agg(v ORDER BY id) FROM iv WHERE id <= 20), 10) WITH ORDINALITY c
JOIN vecdb_search('iv_train_gpu', (SELECT array_agg(v ORDER BY id) FROM iv WHERE id <= 20), 10) WITH ORDINALITY g
	USING (ordinality)
JOIN vecdb_search('iv_train_auto', (SELECT array_agg(v ORDER BY id) FROM iv WHERE id <= 20), 10) WITH ORDINALITY a
	USING (ordinality);
SET vecdb.train_device = tpu;
RESET vecdb.train_device;
DROP INDEX iv_train_cpu, iv_train_gpu, iv_train_auto;
SET ivfflat.probes = 1;

-- inserts after the build, deletes, VACUUM and compaction
INSERT INTO iv (id, v) SELECT 5000 + i, (SELECT array_agg(round(((i % 4) * 0.25 + random() * 0.3 + g * 0)::numeric, 4)::real)
	FROM generate_series(1, 16) g)::vector FROM generate_series(1, 400) i;
DELETE FROM iv WHERE id % 5 = 0;
VACUUM iv;
SELECT segment IS NULL AS growing, kind, rows, deleted FROM vecdb_index_info('iv_sq8') ORDER BY segment NULLS LAST;
SELECT vecdb_compact('iv_sq8');
SELECT segment IS NULL AS growing, kind, rows, deleted FROM vecdb_index_info('iv_sq8') ORDER BY segment NULLS LAST;
SET ivfsq8.probes = 8;
SELECT overlap(index_ids('SELECT id FROM iv ORDER BY v <-> ''[0.9,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.1]'' LIMIT 10'),
	exact_ids('SELECT id FROM iv ORDER BY v <-> ''[0.9,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.1]'' LIMIT 10')) >= 9 AS found_after_compact;
SELECT vecdb_verify('iv_sq8');
SELECT vecdb_verify('iv_flat_bit');

DROP TABLE iv;
DROP FUNCTION exact_ids(text), index_ids(text), overlap(int[], int[]);
