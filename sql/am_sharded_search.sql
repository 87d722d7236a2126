-- vecdb_sharded_search (docs/scale-out.md) on local tables: the same answers
-- as ORDER BY ... LIMIT, over partitions and plain tables; its errors.
-- Servers and foreign partitions are TAP 025's.
SET client_min_messages = warning;
CREATE TABLE ss_items (id int NOT NULL, tag text NOT NULL, embedding vector(3) NOT NULL) PARTITION BY HASH (id);
CREATE TABLE ss_items_0 PARTITION OF ss_items FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE ss_items_1 PARTITION OF ss_items FOR VALUES WITH (MODULUS 3, REMAINDER 1);
-- a partition whose columns are in another order
CREATE TABLE ss_items_2 (embedding vector(3) NOT NULL, tag text NOT NULL, id int NOT NULL);
ALTER TABLE ss_items ATTACH PARTITION ss_items_2 FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO ss_items SELECT i, CASE WHEN i % 4 = 0 THEN 'a%' ELSE 'b' END,
	ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::vector(3) FROM generate_series(1, 300) i;
CREATE INDEX ON ss_items USING flat (embedding vector_l2_ops);
RESET client_min_messages;
-- the k nearest, as ORDER BY ... LIMIT gives them
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ss_items ORDER BY embedding <-> '[0.5,0.5,0.5]', id LIMIT 7) s) AS same
FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[0.5,0.5,0.5]'::vector, 7);
SELECT count(*) FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[0.5,0.5,0.5]'::vector, 7);
-- every partition's rows come back in the parent's column order
SELECT count(*) FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[0.5,0.5,0.5]'::vector, 300) s
WHERE s.id BETWEEN 1 AND 300 AND s.tag IN ('a%', 'b');
-- a filter (with a % in it), another operator, a query given as text
SELECT array_agg(id ORDER BY id) = (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ss_items WHERE tag LIKE 'a\%%'
	ORDER BY embedding <=> '[1,0,0]' LIMIT 5) s) AS same
FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, $$tag LIKE 'a\%%'$$, '<=>');
SELECT count(*) FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]', 5);
-- a plain table
CREATE TABLE ss_plain AS SELECT * FROM ss_items;
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ss_plain ORDER BY embedding <-> '[0,1,0]', id LIMIT 4) s) AS same
FROM vecdb_sharded_search(NULL::ss_plain, 'embedding', '[0,1,0]'::vector, 4);
-- the filter's names resolve in the caller's search_path; a subquery and a
-- volatile function are fine on local partitions
CREATE SCHEMA ss_funcs;
CREATE FUNCTION ss_funcs.is_a(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t LIKE 'a%' $$;
SET search_path = ss_funcs, public;
SELECT count(*) FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 500, 'is_a(tag)');
RESET search_path;
SELECT count(*) FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 500,
	'id IN (SELECT id FROM ss_plain WHERE id < 50) AND random() < 2');
-- through postgres_fdw's path (vecdb.shard_fanout): the same answer
SET vecdb.shard_fanout = postgres_fdw;
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ss_items ORDER BY embedding <-> '[0.5,0.5,0.5]', id LIMIT 7) s) AS same
FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[0.5,0.5,0.5]'::vector, 7);
RESET vecdb.shard_fanout;
-- a zero vector's cosine distance (NaN) sorts after every number, as ORDER BY does
INSERT INTO ss_items VALUES (999, 'z', '[0,0,0]');
SELECT count(*) FILTER (WHERE id = 999) AS nan_rows, count(*)
FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 300, NULL, '<=>');
SELECT (array_agg(id))[301] AS last FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 301, NULL, '<=>');
DELETE FROM ss_items WHERE id = 999;
-- partial results: the same answer when every partition responds
SET vecdb.shard_partial_results = on;
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ss_items ORDER BY embedding <-> '[0.5,0.5,0.5]', id LIMIT 7) s) AS same
FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[0.5,0.5,0.5]'::vector, 7);
RESET vecdb.shard_partial_results;
-- errors
\set VERBOSITY terse
SELECT * FROM vecdb_sharded_search(NULL::int, 'embedding', '[1,0,0]'::vector, 5);
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 0);
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, NULL, '<');
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'nope', '[1,0,0]'::vector, 5);
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0]'::vector, 5);
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, 'no_such_column > 1');
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', NULL::vector, 5);
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, 'id > 1; DROP TABLE ss_plain');
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, 'id > 1 ORDER BY 1');
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, 'id > 1) OR (true');
SELECT * FROM vecdb_sharded_search(NULL::ss_items, 'embedding', '[1,0,0]'::vector, 5, 'id + 1');
-- privileges: SELECT on the table; row-level security is refused
CREATE ROLE regress_ss_reader;
SET ROLE regress_ss_reader;
SELECT * FROM vecdb_sharded_search(NULL::ss_plain, 'embedding', '[1,0,0]'::vector, 5);
RESET ROLE;
GRANT SELECT ON ss_plain TO regress_ss_reader;
ALTER TABLE ss_plain ENABLE ROW LEVEL SECURITY;
CREATE POLICY ss_only_a ON ss_plain FOR SELECT USING (tag = 'a%');
SET ROLE regress_ss_reader;
SELECT * FROM vecdb_sharded_search(NULL::ss_plain, 'embedding', '[1,0,0]'::vector, 5);
RESET ROLE;
\set VERBOSITY default
DROP TABLE ss_items, ss_plain;
DROP ROLE regress_ss_reader;
DROP SCHEMA ss_funcs CASCADE;
