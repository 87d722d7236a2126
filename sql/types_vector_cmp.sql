-- types_vector_cmp: comparison operators and the default btree opclass of
-- vector (by element, then by dimension count, as pgvector's vector_cmp).

SELECT '[1,2,3]'::vector < '[1,2,4]' AS lt, '[1,2,3]'::vector <= '[1,2,3]' AS le,
	'[1,2,3]'::vector = '[1,2,3]' AS eq, '[1,2,3]'::vector <> '[1,2,3]' AS ne,
	'[1,2,4]'::vector >= '[1,2,3]' AS ge, '[1,2,4]'::vector > '[1,2,3]' AS gt;
-- elements decide before the dimension count; a prefix sorts first
SELECT '[1,2]'::vector < '[1,2,3]' AS prefix_first, '[1,3]'::vector > '[1,2,3]' AS element_first,
	'[2]'::vector > '[1,9,9]' AS first_element, '[1,2]'::vector = '[1,2,0]' AS dims_matter;
-- -0 equals 0; negative before positive
SELECT '[-0]'::vector = '[0]' AS neg_zero_eq, '[-1]'::vector < '[0]' AS neg_lt, '[-1,5]'::vector < '[-0.5]' AS neg_frac;
SELECT vector_cmp('[1,2]'::vector, '[1,3]'), vector_cmp('[1,3]'::vector, '[1,2]'), vector_cmp('[1,2]'::vector, '[1,2]'),
	vector_cmp('[1,2]'::vector, '[1,2,3]'), vector_cmp('[1,2,3]'::vector, '[1,2]'), vector_cmp('[0]'::vector, '[-0]');
SELECT vector_lt('[1]'::vector, '[2]'), vector_le('[2]'::vector, '[2]'), vector_eq('[2]'::vector, '[2]'),
	vector_ne('[1]'::vector, '[2]'), vector_ge('[1]'::vector, '[2]'), vector_gt('[1]'::vector, '[2]');
SELECT ('[1]'::vector < NULL) IS NULL AS strict_lt, vector_cmp(NULL::vector, '[1]') IS NULL AS strict_cmp;

CREATE TABLE vector_cmp_t (id int, v vector);
INSERT INTO vector_cmp_t VALUES
	(1, '[1,2,3]'), (2, '[1,2]'), (3, '[0,5]'), (4, '[1,2,3]'), (5, '[-1,100]'),
	(6, '[1,2,3,0]'), (7, NULL), (8, '[1.5]'), (9, '[-0,5]'), (10, '[1,-2]');

-- ORDER BY, ascending and descending, NULLs where asked
SELECT id, v FROM vector_cmp_t ORDER BY v, id;
SELECT id, v FROM vector_cmp_t ORDER BY v DESC NULLS LAST, id;
-- DISTINCT and GROUP BY (-0 and 0 are one value, so the group's text is shown per row)
SELECT DISTINCT v FROM vector_cmp_t WHERE v IS NOT NULL AND id <> 9 ORDER BY v;
SELECT count(DISTINCT v) AS distinct_with_neg_zero FROM vector_cmp_t;
SELECT count(*), array_agg(id ORDER BY id) AS ids, array_agg(v::text ORDER BY id) AS members
	FROM vector_cmp_t GROUP BY v ORDER BY v;
SELECT min(id) FILTER (WHERE v = '[1,2,3]') AS first_eq, count(*) FILTER (WHERE v > '[1,2]') AS above,
	count(*) FILTER (WHERE v <> '[1,2,3]') AS ne FROM vector_cmp_t;

-- a plain btree index on vector, used for equality and ranges
CREATE INDEX vector_cmp_t_v ON vector_cmp_t (v);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM vector_cmp_t WHERE v = '[1,2,3]';
SELECT id FROM vector_cmp_t WHERE v = '[1,2,3]' ORDER BY id;
SELECT id, v FROM vector_cmp_t WHERE v >= '[0]' AND v < '[1,2,3]' ORDER BY v, id;
EXPLAIN (COSTS OFF) SELECT v FROM vector_cmp_t ORDER BY v LIMIT 3;
SELECT v FROM vector_cmp_t ORDER BY v LIMIT 3;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- a UNIQUE index rejects duplicates, -0 and 0 included
CREATE TABLE vector_cmp_u (v vector(2) UNIQUE);
INSERT INTO vector_cmp_u VALUES ('[1,2]'), ('[0,1]'), ('[2,1]');
INSERT INTO vector_cmp_u VALUES ('[1,2]');
INSERT INTO vector_cmp_u VALUES ('[-0,1]');
-- 2.0000001 rounds to the float 2; 2.0000002 is the next float after 2
INSERT INTO vector_cmp_u VALUES ('[1,2.0000001]');
INSERT INTO vector_cmp_u VALUES ('[1,2.0000002]');
SELECT v FROM vector_cmp_u ORDER BY v;

-- the opclass is the default for btree, and everything is commented
SELECT opcname, opcdefault, obj_description(oid, 'pg_opclass') IS NOT NULL AS commented
	FROM pg_opclass WHERE opcintype = 'vector'::regtype AND opcmethod = (SELECT oid FROM pg_am WHERE amname = 'btree');
SELECT opfname, obj_description(oid, 'pg_opfamily') IS NOT NULL AS commented
	FROM pg_opfamily WHERE opfname = 'vector_ops' AND opfmethod = (SELECT oid FROM pg_am WHERE amname = 'btree');
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
	obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.proname IN ('vector_lt', 'vector_le', 'vector_eq', 'vector_ne', 'vector_ge', 'vector_gt', 'vector_cmp')
ORDER BY p.proname;
SELECT o.oid::regoperator AS operator, oprcom::regoperator AS commutator, oprnegate::regoperator AS negator,
	oprrest, oprjoin FROM pg_operator o
WHERE o.oprleft = 'vector'::regtype AND o.oprright = 'vector'::regtype
	AND o.oprname IN ('<', '<=', '=', '<>', '>=', '>') ORDER BY o.oprname;

DROP TABLE vector_cmp_t, vector_cmp_u;
