-- am_hnsw_sq: hnsw's sq_bits option (the memory-light HNSW_SQ segments):
-- option checks, segment kind, exact distances after re-ranking, recall
-- against exact search, filters, inserts, deletes, VACUUM and compaction,
-- and the memory the segment holds against a float32 hnsw index.
SET vecdb.min_index_rows = 0;
SET vecdb.build_threads = 1;
CREATE TABLE sq (id int PRIMARY KEY, c int, v vector(32));
-- 16 clusters of 250 rows, deterministic
INSERT INTO sq SELECT i, i % 16,
	(SELECT array_agg(((i % 16) * 0.3 + ((hashint8extended(i, j) & 65535)::float4 / 65536) * 0.5)::real)
	 FROM generate_series(1, 32) j)::vector
FROM generate_series(1, 4000) i;

-- options
CREATE INDEX sq_bad ON sq USING hnsw (v vector_l2_ops) WITH (sq_bits = 3);
CREATE INDEX sq_bad ON sq USING hnsw (v vector_l2_ops) WITH (sq_bits = 9);
CREATE INDEX sq_bad ON sq USING ivfflat (v vector_l2_ops) WITH (sq_bits = 8);
CREATE TABLE sq_bits_t (b bit(16));
INSERT INTO sq_bits_t VALUES ('1010101010101010');
CREATE INDEX sq_bad ON sq_bits_t USING hnsw (b bit_hamming_ops) WITH (sq_bits = 8);
DROP TABLE sq_bits_t;

CREATE INDEX sq_l2 ON sq USING hnsw (v vector_l2_ops) WITH (sq_bits = 8);
CREATE INDEX sq_cos ON sq USING hnsw (v vector_cosine_ops) WITH (sq_bits = 4, m = 8);
CREATE INDEX sq_f ON sq USING hnsw (v vector_l2_ops);
SELECT c.relname, i.kind, i.rows, i.pages > 0 AS has_pages
FROM pg_class c, vecdb_index_info(c.oid) i WHERE c.relname IN ('sq_l2', 'sq_cos', 'sq_f')
ORDER BY c.relname, i.segment NULLS LAST;
-- the codes and graph are what a segment holds in memory: less than the
-- float32 graph's (32 dimensions, m 16: 132 bytes of links, 8 of label and
-- 40 of code, its cluster and 32 levels, per row, against 132 + 8 + 128)
SELECT (SELECT bytes FROM vecdb_index_info('sq_l2') WHERE segment IS NOT NULL)::float
     / (SELECT bytes FROM vecdb_index_info('sq_f') WHERE segment IS NOT NULL) < 0.75 AS smaller;
DROP INDEX sq_f;

-- nearest rows with exact distances (re-ranked from the full rows)
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sq ORDER BY v <-> (SELECT v FROM sq WHERE id = 7) LIMIT 5;
CREATE TEMP TABLE q AS SELECT id, v FROM sq WHERE id % 97 = 3;
CREATE TEMP TABLE by_index AS
	SELECT q.id AS qid, a.id, a.d FROM q, LATERAL (SELECT id, v <-> q.v AS d FROM sq ORDER BY v <-> q.v LIMIT 10) a;
SET enable_seqscan = on;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS
	SELECT q.id AS qid, a.id, a.d FROM q, LATERAL (SELECT id, v <-> q.v AS d FROM sq ORDER BY v <-> q.v LIMIT 10) a;
RESET enable_indexscan;
-- every query finds itself first, at distance 0
SELECT count(*) FROM by_index WHERE qid = id AND d = 0;
-- recall@10 by distance, and the distances are the exact ones
SELECT count(*) FILTER (WHERE i.d <= (SELECT max(d) FROM exact e WHERE e.qid = i.qid) + 1e-6)::float / count(*) >= 0.95 AS recall_ok
FROM by_index i;
SELECT count(*) AS wrong_distances FROM by_index i JOIN sq USING (id)
WHERE abs(i.d - (sq.v <-> (SELECT v FROM q WHERE q.id = i.qid))) > 1e-6;

-- cosine at 4 bits: the query row first
SET enable_seqscan = off;
SELECT id FROM sq ORDER BY v <=> (SELECT v FROM sq WHERE id = 1234) LIMIT 1;

-- a filter: only rows of the condition, still nearest first
SELECT count(*) AS other_class FROM (SELECT id, c FROM sq WHERE c = 5 ORDER BY v <-> (SELECT v FROM sq WHERE id = 21) LIMIT 10) s WHERE c <> 5;

-- inserts go to the growing segment, then a compaction builds a new HNSW_SQ segment
INSERT INTO sq SELECT i, i % 16,
	(SELECT array_agg(((i % 16) * 0.3 + ((hashint8extended(i, j) & 65535)::float4 / 65536) * 0.5)::real)
	 FROM generate_series(1, 32) j)::vector
FROM generate_series(4001, 4600) i;
SELECT id FROM sq ORDER BY v <-> (SELECT v FROM sq WHERE id = 4321) LIMIT 1;
SELECT vecdb_compact('sq_l2');
SELECT kind, rows FROM vecdb_index_info('sq_l2') ORDER BY segment NULLS LAST;
SELECT id FROM sq ORDER BY v <-> (SELECT v FROM sq WHERE id = 4321) LIMIT 1;

-- deletes and VACUUM: the compaction reads the full rows back from pages
DELETE FROM sq WHERE id % 3 = 0;
VACUUM sq;
SELECT kind, rows, deleted FROM vecdb_index_info('sq_l2') ORDER BY segment NULLS LAST;
SELECT count(*) AS deleted_found FROM (SELECT id FROM sq ORDER BY v <-> (SELECT v FROM sq WHERE id = 100) LIMIT 50) s WHERE id % 3 = 0;
SELECT id FROM sq ORDER BY v <-> (SELECT v FROM sq WHERE id = 100) LIMIT 1;
SELECT vecdb_verify('sq_l2');
RESET enable_seqscan;
DROP TABLE sq;
