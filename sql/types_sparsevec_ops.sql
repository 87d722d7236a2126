-- types_sparsevec_ops: sparsevec distances, norms, comparisons and the btree opclass.
SELECT '{1:1,2:2,4:4}/5'::sparsevec <-> '{2:1,3:3,4:-1}/5' AS l2,
       l2_distance('{1:1,2:2,4:4}/5'::sparsevec, '{2:1,3:3,4:-1}/5') AS l2_fn,
       sparsevec_l2_squared_distance('{1:1,2:2,4:4}/5', '{2:1,3:3,4:-1}/5') AS l2_squared;
SELECT '{1:1,2:2,4:4}/5'::sparsevec <#> '{2:1,3:3,4:-1}/5' AS neg_ip,
       inner_product('{1:1,2:2,4:4}/5'::sparsevec, '{2:1,3:3,4:-1}/5') AS ip,
       sparsevec_negative_inner_product('{1:1,2:2,4:4}/5', '{2:1,3:3,4:-1}/5') AS neg_ip_fn;
SELECT '{1:1,2:2,4:4}/5'::sparsevec <=> '{2:1,3:3,4:-1}/5' AS cosine,
       cosine_distance('{1:1,2:2,4:4}/5'::sparsevec, '{2:1,3:3,4:-1}/5') AS cosine_fn;
SELECT '{1:1,2:2,4:4}/5'::sparsevec <+> '{2:1,3:3,4:-1}/5' AS l1,
       l1_distance('{1:1,2:2,4:4}/5'::sparsevec, '{2:1,3:3,4:-1}/5') AS l1_fn;
-- disjoint supports, one empty side, both empty
SELECT '{1:3}/2'::sparsevec <-> '{2:4}/2' AS l2, '{1:3}/2'::sparsevec <#> '{2:4}/2' AS neg_ip,
       '{1:3}/2'::sparsevec <=> '{2:4}/2' AS cosine, '{1:3}/2'::sparsevec <+> '{2:4}/2' AS l1;
SELECT '{}/3'::sparsevec <-> '{1:3,3:-4}/3' AS l2, '{1:3,3:-4}/3'::sparsevec <-> '{}/3' AS l2_rev,
       '{}/3'::sparsevec <+> '{1:3,3:-4}/3' AS l1, inner_product('{}/3'::sparsevec, '{1:3,3:-4}/3') AS ip;
SELECT '{}/3'::sparsevec <-> '{}/3' AS l2, '{}/3'::sparsevec <#> '{}/3' AS neg_ip, '{}/3'::sparsevec <+> '{}/3' AS l1;
-- cosine: identical, opposite, and zero vectors (NaN)
SELECT '{1:1,3:2}/3'::sparsevec <=> '{1:2,3:4}/3' AS same_direction,
       '{1:1,3:2}/3'::sparsevec <=> '{1:-1,3:-2}/3' AS opposite,
       '{1:1}/2'::sparsevec <=> '{2:1}/2' AS orthogonal;
SELECT '{}/3'::sparsevec <=> '{1:1}/3' AS zero_left, '{1:1}/3'::sparsevec <=> '{}/3' AS zero_right,
       cosine_distance('{}/3'::sparsevec, '{}/3') AS both_zero;
-- float4 accumulation, as pgvector
SELECT '{1:1e38}/2'::sparsevec <#> '{1:1e38}/2' AS ip_overflow, '{1:3e38}/2'::sparsevec <-> '{1:-3e38}/2' AS l2_overflow;
-- dimension mismatch
SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3';
SELECT '{1:1}/2'::sparsevec <#> '{1:1}/3';
SELECT '{1:1}/2'::sparsevec <=> '{1:1}/3';
SELECT '{1:1}/2'::sparsevec <+> '{1:1}/3';
SELECT inner_product('{1:1}/3'::sparsevec, '{1:1}/2');
SELECT sparsevec_l2_squared_distance('{1:1}/3', '{1:1}/2');
-- norms
SELECT l2_norm('{1:1,2:2,4:4}/5'::sparsevec) AS norm, l2_norm('{}/5'::sparsevec) AS zero_norm,
       l2_norm('{1:3e38,2:3e38}/2'::sparsevec) AS no_overflow;
SELECT l2_normalize('{1:3,3:4}/5'::sparsevec), l2_normalize('{1:1,2:2,4:4}/5'::sparsevec);
SELECT l2_normalize('{}/3'::sparsevec) AS zero_stays_zero, l2_normalize('{2:-5}/3'::sparsevec) AS unit;
SELECT l2_normalize('{1:3e38,2:1e-45}/2'::sparsevec) AS drops_underflow;
SELECT l2_norm(l2_normalize('{1:1,2:2,4:4}/5'::sparsevec)) AS unit_norm;
-- comparisons: the order of the dense expansions, shorter prefix first
CREATE TABLE sparsevec_ops_t (id int, v sparsevec);
INSERT INTO sparsevec_ops_t VALUES
	(1, '{1:1}/3'), (2, '{}/3'), (3, '{2:1}/3'), (4, '{1:-1}/3'), (5, '{1:1,3:1}/3'),
	(6, '{1:1}/2'), (7, '{1:1}/4'), (8, '{2:-1}/3'), (9, '{1:1,2:1}/3'), (10, '{}/1'),
	(11, '{1:1}/3'), (12, '{2:1}/2'), (13, '{1:2}/1'), (14, NULL);
SELECT id, v FROM sparsevec_ops_t ORDER BY v, id;
SELECT id, v FROM sparsevec_ops_t ORDER BY v DESC, id;
SELECT DISTINCT v FROM sparsevec_ops_t ORDER BY v;
SELECT v, count(*) FROM sparsevec_ops_t GROUP BY v ORDER BY v;
SELECT a.id, b.id, a.v < b.v AS lt, a.v <= b.v AS le, a.v = b.v AS eq, a.v <> b.v AS ne,
       a.v >= b.v AS ge, a.v > b.v AS gt, sparsevec_cmp(a.v, b.v) AS cmp
FROM sparsevec_ops_t a, sparsevec_ops_t b
WHERE a.id IN (1, 2, 4, 6, 7, 9) AND b.id IN (1, 3, 5, 8, 11) ORDER BY a.id, b.id;
SELECT sparsevec_lt('{1:1}/2', '{1:2}/2'), sparsevec_le('{1:1}/2', '{1:1}/2'), sparsevec_eq('{1:1}/2', '{1:1}/2'),
       sparsevec_ne('{1:1}/2', '{1:1}/3'), sparsevec_ge('{}/2', '{1:-1}/2'), sparsevec_gt('{2:1}/2', '{1:1}/2');
-- btree: index build and scans, UNIQUE
CREATE INDEX sparsevec_ops_t_idx ON sparsevec_ops_t (v);
SET enable_seqscan = off;
SELECT id FROM sparsevec_ops_t WHERE v = '{1:1}/3' ORDER BY id;
SELECT id FROM sparsevec_ops_t WHERE v < '{}/3' ORDER BY v, id;
RESET enable_seqscan;
CREATE TABLE sparsevec_ops_u (v sparsevec UNIQUE);
INSERT INTO sparsevec_ops_u VALUES ('{1:1}/3'), ('{1:1}/4'), ('{}/3');
INSERT INTO sparsevec_ops_u VALUES ('{1:1,2:0}/3');
SELECT v FROM sparsevec_ops_u ORDER BY v;
SELECT opcname, opcdefault, amname FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcintype = 'sparsevec'::regtype AND amname = 'btree' ORDER BY opcname;
-- nearest neighbours by each operator (exact scan)
CREATE TABLE sparsevec_ops_nn (id int, v sparsevec(3));
INSERT INTO sparsevec_ops_nn VALUES (1, '{1:1}/3'), (2, '{2:2}/3'), (3, '{1:1,2:1,3:1}/3'), (4, '{3:-1}/3');
SELECT id, v <-> '{1:1,2:1}/3' AS d FROM sparsevec_ops_nn ORDER BY d, id;
SELECT id, v <#> '{1:1,2:1}/3' AS d FROM sparsevec_ops_nn ORDER BY d, id;
SELECT id, v <=> '{1:1,2:1}/3' AS d FROM sparsevec_ops_nn ORDER BY d, id;
SELECT id, v <+> '{1:1,2:1}/3' AS d FROM sparsevec_ops_nn ORDER BY d, id;
-- operator properties
SELECT oprname, oprcom::regoperator, oprnegate::regoperator, oprcode::oid::regprocedure, oprrest, oprjoin FROM pg_operator
WHERE oprleft = 'sparsevec'::regtype ORDER BY oprname;
SELECT p.oid::regprocedure, provolatile, proisstrict, proparallel FROM pg_proc p
WHERE p.proargtypes[0] = 'sparsevec'::regtype AND (provolatile <> 'i' OR NOT proisstrict OR proparallel <> 's');
DROP TABLE sparsevec_ops_t, sparsevec_ops_u, sparsevec_ops_nn;
-- SQLSTATEs of the errors
CREATE FUNCTION sparsevec_ops_sqlstate(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
SELECT q, sparsevec_ops_sqlstate(q) FROM (VALUES
	($$SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3'$$), ($$SELECT '{1:1}/2'::sparsevec <=> '{1:1}/3'$$),
	($$SELECT l2_normalize('{1:1}/2'::sparsevec)$$), ($$SELECT '{1:1}/2'::sparsevec < '{1:1}/3'$$)) t(q);
DROP FUNCTION sparsevec_ops_sqlstate(text);
