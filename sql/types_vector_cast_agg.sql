-- types_vector_cast_agg: casts between vector and arrays, avg(vector) and sum(vector).

-- sqlstate_of runs a statement and reports its SQLSTATE and message, or ok.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- arrays to vector
SELECT ARRAY[1,2,3]::vector AS int4, ARRAY[1.5,-2.5]::real[]::vector AS float4,
	ARRAY[1.5,-2.5]::float8[]::vector AS float8, ARRAY[1.5,-2.5]::numeric[]::vector AS numeric;
SELECT '{1,2,3}'::int[]::vector(3), '{0.1,0.2}'::float8[]::vector(2), '{1e-50}'::float8[]::vector AS underflow,
	'{0.333333333333}'::numeric[]::vector AS rounded, '{2147483647}'::int[]::vector AS big_int;
SELECT array_to_vector('{1,2}'::int[], -1, false), array_to_vector('{1,2}'::real[], 2, true);
SELECT vector_dims(array_fill(1.5::real, ARRAY[16000])::vector);
-- the array's lower bound does not matter
SELECT '[5:7]={1,2,3}'::int[]::vector;

-- array errors
SELECT ARRAY[1,NULL,3]::vector;
SELECT ARRAY[NULL]::real[]::vector;
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT '{}'::real[]::vector;
SELECT '{}'::int[]::vector;
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT array_fill(1::numeric, ARRAY[16001])::vector;
SELECT '{1,2,3}'::int[]::vector(2);
SELECT '{1,2}'::float8[]::vector(3);
SELECT '{NaN}'::real[]::vector;
SELECT '{1,NaN}'::float8[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{Infinity}'::real[]::vector;
SELECT '{-Infinity}'::float8[]::vector;
SELECT '{Infinity}'::numeric[]::vector;
SELECT '{1e39}'::float8[]::vector;
SELECT '{1e39}'::numeric[]::vector;
SELECT q, pg_temp.sqlstate_of(q) FROM (VALUES
	('SELECT ARRAY[1,NULL]::vector'),
	('SELECT ARRAY[[1],[2]]::vector'),
	('SELECT ''{}''::real[]::vector'),
	('SELECT array_fill(1, ARRAY[16001])::vector'),
	('SELECT ''{1,2}''::int[]::vector(3)'),
	('SELECT ''{NaN}''::real[]::vector'),
	('SELECT ''{Infinity}''::float8[]::vector')
) t(q);

-- vector to real[]
SELECT '[1,2,3]'::vector::real[], '[-1.5,1e-07]'::vector::real[], ('[4,5]'::vector::real[])[2] AS second;
SELECT array_dims('[1,2,3]'::vector::real[]), pg_typeof('[1]'::vector::real[]);
-- implicit: a vector goes where real[] is expected
CREATE FUNCTION pg_temp.first_elem(real[]) RETURNS real LANGUAGE sql AS 'SELECT $1[1]';
SELECT pg_temp.first_elem('[4,5]'::vector);
-- assignment: arrays store into vector columns; no implicit cast from arrays
CREATE TABLE vector_cast_t (id int, v vector(3), r real[]);
INSERT INTO vector_cast_t VALUES (1, ARRAY[1,2,3], '[1,2,3]'::vector), (2, ARRAY[0.5,1.5,2.5]::float8[], NULL);
INSERT INTO vector_cast_t VALUES (3, ARRAY[1,2], NULL);
SELECT id, v, r FROM vector_cast_t ORDER BY id;
SELECT '[1,2]'::vector <-> ARRAY[1,2];
-- round trips
SELECT '[1.25,-3,1e-07,3.4028235e+38]'::vector::real[]::vector AS round_trip;

SELECT c.castsource::regtype, c.casttarget::regtype, c.castfunc::regprocedure, c.castcontext,
	obj_description(c.oid, 'pg_cast') IS NOT NULL AS commented
FROM pg_cast c
WHERE (c.castsource = 'vector'::regtype AND c.casttarget <> 'vector'::regtype AND c.casttarget = 'real[]'::regtype)
	OR (c.casttarget = 'vector'::regtype AND c.castsource IN ('integer[]'::regtype, 'real[]'::regtype,
		'double precision[]'::regtype, 'numeric[]'::regtype))
ORDER BY c.castsource::regtype::text;

-- avg and sum
CREATE TABLE vector_agg_t (id int, v vector);
SELECT avg(v), sum(v) FROM vector_agg_t;
INSERT INTO vector_agg_t VALUES (1, '[1,2,3]'), (2, '[3,4,5]'), (3, NULL), (4, '[2,0,1]');
SELECT avg(v), sum(v), count(v) FROM vector_agg_t;
SELECT avg(v), sum(v) FROM vector_agg_t WHERE id = 1;
SELECT avg(v), sum(v) FROM vector_agg_t WHERE v IS NULL;
SELECT avg(v) FROM (VALUES ('[1]'::vector), ('[2]'), ('[2]')) t(v);
SELECT id % 2 AS odd, avg(v), sum(v) FROM vector_agg_t GROUP BY id % 2 ORDER BY 1;
-- avg sums in double: no overflow where the float sum would overflow
SELECT avg(v) FROM (VALUES ('[3e38,-3e38]'::vector), ('[3e38,-3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38,-3e38]'::vector), ('[3e38,-3e38]')) t(v);
-- dimension mismatch
INSERT INTO vector_agg_t VALUES (5, '[1,2]');
SELECT avg(v) FROM vector_agg_t;
SELECT sum(v) FROM vector_agg_t;

-- the transition, combine and final functions
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,1,2}', '[3,4]');
SELECT vector_combine('{2,1,2}', '{1,3,4}'), vector_combine('{0}', '{1,3,4}'), vector_combine('{1,3,4}', '{0}'),
	vector_combine('{0}', '{0}');
SELECT vector_avg('{2,4,6}'), vector_avg('{0}') IS NULL AS no_rows, vector_avg('{3,1,1}');
SELECT vector_accum('{1,1,2}', '[3]');
SELECT vector_combine('{2,1,2}', '{1,3}');
SELECT vector_accum('{}', '[1]');
SELECT vector_combine('{1,NULL}', '{1,2}');
SELECT vector_avg('{{1,2}}');
SELECT vector_avg('{1}');
SELECT vector_combine('{1,1e308}', '{1,1e308}');
-- a large but finite double sum is no overflow
SELECT vector_accum('{1,1e308}', '[3e38]');

-- parallel aggregation: partial states meet in vector_combine (small integers
-- keep even the float sums of sum(vector) exact in any order)
CREATE TABLE vector_agg_p (id int, v vector(3));
INSERT INTO vector_agg_p SELECT i, ARRAY[i % 10, -(i % 7), 1] FROM generate_series(1, 10000) i;
ANALYZE vector_agg_p;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vector_agg_p;
SELECT avg(v), sum(v) FROM vector_agg_p;
SELECT avg(v) = '[4.5,-2.9998,1]' AS avg_ok, sum(v) = '[45000,-29998,10000]' AS sum_ok FROM vector_agg_p;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
	a.aggtranstype::regtype, a.agginitval, p.proparallel,
	obj_description(a.aggfnoid, 'pg_proc') IS NOT NULL AS commented
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE a.aggfnoid IN ('avg(vector)'::regprocedure, 'sum(vector)'::regprocedure)
ORDER BY 1;
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
	obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.proname IN ('array_to_vector', 'vector_to_float4', 'vector_accum', 'vector_avg', 'vector_combine')
ORDER BY p.oid::regprocedure::text;

DROP TABLE vector_cast_t, vector_agg_t, vector_agg_p;
