-- types_halfvec_agg: avg(halfvec) and sum(halfvec), serial and parallel.

CREATE TABLE halfvec_agg_t (v halfvec);
SELECT avg(v), sum(v) FROM halfvec_agg_t;                 -- no rows: NULL
INSERT INTO halfvec_agg_t VALUES ('[1,2,3]'), ('[3,5,7]'), (NULL);
SELECT avg(v), sum(v) FROM halfvec_agg_t;
INSERT INTO halfvec_agg_t VALUES ('[0,-2,0.1]');
SELECT avg(v), sum(v) FROM halfvec_agg_t;
SELECT avg(v) FROM (VALUES ('[1]'::halfvec), ('[2]'), ('[2]')) t(v);          -- 5/3 rounds to binary16
SELECT avg(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v);            -- sums in double: no overflow
SELECT sum(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v);            -- sums in halfvec: overflow
SELECT avg(v) FROM (VALUES (NULL::halfvec), (NULL)) t(v);
SELECT sum(v) FROM (VALUES (NULL::halfvec)) t(v);
INSERT INTO halfvec_agg_t VALUES ('[1,2]');
SELECT avg(v) FROM halfvec_agg_t;
SELECT sum(v) FROM halfvec_agg_t;
DROP TABLE halfvec_agg_t;

-- support functions: state is {n, sum_1, ..., sum_dim}
SELECT halfvec_accum('{0}', '[1,2]');
SELECT halfvec_accum('{1,1,2}', '[0.1,-2]');
SELECT halfvec_accum('{1,1,2}', '[1]');
SELECT halfvec_avg('{0}');
SELECT halfvec_avg('{2,2,5}');
SELECT halfvec_avg('{1,70000}');
SELECT halfvec_avg('{}');
SELECT halfvec_avg('{{1,2}}');
SELECT halfvec_avg('{1,NULL}');
SELECT halfvec_combine('{2,4,6}', '{1,1,1}');
SELECT halfvec_combine('{0}', '{1,1,1}');
SELECT halfvec_combine('{1,1,1}', '{0}');
SELECT halfvec_combine('{0}', '{0}');
SELECT halfvec_combine('{1,1}', '{1,1,1}');
SELECT halfvec_combine('{1,1.7976931348623157e308}', '{1,1.7976931348623157e308}');
SELECT halfvec_accum('{}', '[1]');
SELECT aggfnoid::regprocedure, aggtransfn, aggfinalfn, aggcombinefn, aggtranstype::regtype, agginitval
  FROM pg_aggregate WHERE aggfnoid::regprocedure::text IN ('avg(halfvec)', 'sum(halfvec)') ORDER BY 1::text;
SELECT p.oid::regprocedure, p.proparallel FROM pg_proc p
  WHERE p.oid IN ('avg(halfvec)'::regprocedure, 'sum(halfvec)'::regprocedure) ORDER BY 1::text;

-- parallel aggregation goes through the combine functions
CREATE TABLE halfvec_agg_p (i int, v halfvec(2));
INSERT INTO halfvec_agg_p SELECT i, ARRAY[i % 10, 1]::halfvec FROM generate_series(1, 10000) i;
INSERT INTO halfvec_agg_p SELECT i, NULL FROM generate_series(1, 10) i;
ANALYZE halfvec_agg_p;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v) FROM halfvec_agg_p;
SELECT avg(v) FROM halfvec_agg_p;
SELECT sum(CASE WHEN i % 1000 = 0 THEN v ELSE '[0,0]' END) FROM halfvec_agg_p;
SELECT sum(v) FROM halfvec_agg_p WHERE i <= 100;                 -- partial sums stay exact in binary16
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE halfvec_agg_p;
