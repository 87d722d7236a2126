-- types_halfvec_ops: halfvec distance functions and operators, norms, subvector,
-- element-wise arithmetic, concatenation and btree comparison.

-- distances (computed on the stored binary16 values)
SELECT l2_distance('[0,0]'::halfvec, '[3,4]');
SELECT '[0,0]'::halfvec <-> '[3,4]';
SELECT l2_distance('[1,1,1]'::halfvec, '[0,0,0]');
SELECT l2_distance('[1,2]'::halfvec, '[1,2]');
SELECT halfvec_l2_squared_distance('[0,0]'::halfvec, '[3,4]');
SELECT inner_product('[1,2]'::halfvec, '[3,4]');
SELECT inner_product('[0.1]'::halfvec, '[10]');
SELECT inner_product('[65504]'::halfvec, '[65504]');
SELECT '[1,2]'::halfvec <#> '[3,4]';
SELECT halfvec_negative_inner_product('[1,2]'::halfvec, '[3,4]');
SELECT cosine_distance('[1,2]'::halfvec, '[2,4]');
SELECT cosine_distance('[1,1]'::halfvec, '[-1,-1]');
SELECT cosine_distance('[1,0]'::halfvec, '[0,2]');
SELECT '[1,2]'::halfvec <=> '[2,4]';
SELECT '[1,2]'::halfvec <=> '[2,1]';
SELECT cosine_distance('[0,0]'::halfvec, '[1,2]');
SELECT '[0,0]'::halfvec <=> '[0,0]';
SELECT l1_distance('[0,0]'::halfvec, '[3,4]');
SELECT '[0,0]'::halfvec <+> '[3,-4]';
SELECT halfvec_spherical_distance('[1,0]'::halfvec, '[0,1]');
SELECT halfvec_spherical_distance('[1,0]'::halfvec, '[-1,0]');
SELECT halfvec_spherical_distance('[1,0]'::halfvec, '[1,0]');
SELECT halfvec_spherical_distance('[2,0]'::halfvec, '[-2,0]');   -- product clamped to -1
SELECT l2_distance(NULL::halfvec, '[1]');

-- dimension mismatch
SELECT l2_distance('[1,2]'::halfvec, '[3]');
SELECT '[1,2]'::halfvec <-> '[3]';
SELECT halfvec_l2_squared_distance('[1,2]'::halfvec, '[3]');
SELECT inner_product('[1,2]'::halfvec, '[3]');
SELECT '[1,2]'::halfvec <#> '[3]';
SELECT cosine_distance('[1,2]'::halfvec, '[3]');
SELECT '[1,2]'::halfvec <=> '[3]';
SELECT l1_distance('[1]'::halfvec, '[3,4]');
SELECT '[1,2]'::halfvec <+> '[3]';
SELECT halfvec_spherical_distance('[1,2]'::halfvec, '[3]');

-- dims, norms, normalization, quantization
SELECT vector_dims('[1,2,3]'::halfvec);
SELECT l2_norm('[3,4]'::halfvec);
SELECT l2_norm('[0,0]'::halfvec);
SELECT l2_norm('[65504,65504]'::halfvec);
SELECT l2_norm('[6e-08]'::halfvec);
SELECT l2_normalize('[3,4]'::halfvec);
SELECT l2_normalize('[3,0]'::halfvec);
SELECT l2_normalize('[0,0]'::halfvec);
SELECT l2_normalize('[65504,65504]'::halfvec);
SELECT l2_normalize('[6e-08,0]'::halfvec);
SELECT binary_quantize('[1,0,-1,2,0.5,-0,3,4,5]'::halfvec);
SELECT binary_quantize('[-1]'::halfvec);
SELECT pg_typeof(binary_quantize('[1]'::halfvec));

-- subvector (1-based, clipped like substring)
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 3);
SELECT subvector('[1,2,3,4,5]'::halfvec, 3, 2);
SELECT subvector('[1,2,3,4,5]'::halfvec, -1, 3);
SELECT subvector('[1,2,3,4,5]'::halfvec, 3, 9);
SELECT subvector('[1,2,3,4,5]'::halfvec, 5, 1);
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 2147483647);
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 0);
SELECT subvector('[1,2,3,4,5]'::halfvec, 3, -1);
SELECT subvector('[1,2,3,4,5]'::halfvec, -1, 2);
SELECT subvector('[1,2,3,4,5]'::halfvec, 6, 1);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2147483647, 10);
SELECT subvector('[1,2,3,4,5]'::halfvec, -2147483648, 2147483647);

-- element-wise arithmetic
SELECT '[1,2,3]'::halfvec + '[4,5,6]';
SELECT '[65504]'::halfvec + '[8]';            -- 65512 rounds to 65504
SELECT '[65504]'::halfvec + '[16]';           -- 65520 overflows
SELECT '[65504]'::halfvec + '[65504]';
SELECT '[1,2]'::halfvec + '[3]';
SELECT '[1,2,3]'::halfvec - '[4,5,6]';
SELECT '[-65504]'::halfvec - '[65504]';
SELECT '[1,2]'::halfvec - '[3]';
SELECT '[1,2,3]'::halfvec * '[4,5,6]';
SELECT '[0.001]'::halfvec * '[0.001]';        -- subnormal result
SELECT '[6e-08,1]'::halfvec * '[0,0]';        -- zero operand: no underflow
SELECT '[6e-08]'::halfvec * '[0.5]';          -- 2^-25 rounds to 0: underflow
SELECT '[65504]'::halfvec * '[2]';
SELECT '[1,2]'::halfvec * '[3]';

-- concatenation
SELECT '[1,2]'::halfvec || '[3]';
SELECT '[0.1]'::halfvec || '[-0]';
SELECT vector_dims(array_fill(1, ARRAY[8000])::halfvec || array_fill(2, ARRAY[8000])::halfvec);
SELECT array_fill(1, ARRAY[8000])::halfvec || array_fill(2, ARRAY[8001])::halfvec;

-- comparison: elements first, then dimension count
SELECT '[1,2,3]'::halfvec < '[1,2,4]', '[1,2,3]'::halfvec < '[1,2]', '[1,2]'::halfvec < '[1,2,3]';
SELECT '[1,2,3]'::halfvec <= '[1,2,3]', '[1,2,4]'::halfvec <= '[1,2,3]';
SELECT '[1,2,3]'::halfvec = '[1,2,3]', '[1,2,3]'::halfvec = '[1,2]', '[-0]'::halfvec = '[0]';
SELECT '[0.1]'::halfvec = '[0.09998]';        -- same binary16 value
SELECT '[1,2,3]'::halfvec <> '[1,2]', '[1]'::halfvec <> '[1]';
SELECT '[2]'::halfvec > '[1,9]', '[1]'::halfvec > '[1]';
SELECT '[1]'::halfvec >= '[1]', '[1]'::halfvec >= '[1,0]';
SELECT halfvec_cmp('[1,2]', '[1,3]'), halfvec_cmp('[1,2]', '[1,2]'), halfvec_cmp('[1,2,0]', '[1,2]');

-- btree operator class: ORDER BY, DISTINCT, UNIQUE
CREATE TABLE halfvec_ops_t (id int, v halfvec);
INSERT INTO halfvec_ops_t VALUES
  (1, '[1,2,3]'), (2, '[1,2]'), (3, '[0.1,5]'), (4, '[1,2,3]'), (5, '[-1]'),
  (6, '[0.09998,5]'), (7, NULL), (8, '[65504]'), (9, '[-0,1]'), (10, '[0,1]');
SELECT id, v FROM halfvec_ops_t ORDER BY v, id;
SELECT id, v FROM halfvec_ops_t ORDER BY v DESC NULLS LAST, id;
SELECT DISTINCT v FROM halfvec_ops_t ORDER BY v;
SELECT count(DISTINCT v) FROM halfvec_ops_t;
SELECT v, count(*) FROM halfvec_ops_t GROUP BY v ORDER BY v;
SELECT min(id), max(id) FROM halfvec_ops_t WHERE v = '[1,2,3]';
CREATE INDEX halfvec_ops_idx ON halfvec_ops_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM halfvec_ops_t WHERE v = '[1,2]';
SELECT id FROM halfvec_ops_t WHERE v = '[1,2]';
SELECT id FROM halfvec_ops_t WHERE v > '[1]' ORDER BY v, id;
RESET enable_seqscan;
DELETE FROM halfvec_ops_t WHERE id IN (4, 10);
CREATE UNIQUE INDEX halfvec_ops_uidx ON halfvec_ops_t (v);      -- ids 3 and 6 hold one binary16 value
DELETE FROM halfvec_ops_t WHERE id = 6;
CREATE UNIQUE INDEX halfvec_ops_uidx ON halfvec_ops_t (v);
INSERT INTO halfvec_ops_t VALUES (11, '[0.1,5]');
INSERT INTO halfvec_ops_t VALUES (11, '[0.1,5,0]');
SELECT opcname, opcdefault FROM pg_opclass
  WHERE opcintype = 'halfvec'::regtype AND opcmethod = (SELECT oid FROM pg_am WHERE amname = 'btree');

-- nearest-neighbour ordering by each distance operator
SELECT id, v <-> '[1,2]' AS d FROM halfvec_ops_t WHERE vector_dims(v) = 2 ORDER BY d, id;
SELECT id, v <#> '[1,2]' AS d FROM halfvec_ops_t WHERE vector_dims(v) = 2 ORDER BY d, id;
SELECT id, v <=> '[1,2]' AS d FROM halfvec_ops_t WHERE vector_dims(v) = 2 ORDER BY d, id;
SELECT id, v <+> '[1,2]' AS d FROM halfvec_ops_t WHERE vector_dims(v) = 2 ORDER BY d, id;
DROP TABLE halfvec_ops_t;

-- every halfvec function of the extension is immutable, strict and parallel safe;
-- everything has a comment (extension members only: tests running beside this one
-- create their own halfvec functions)
SELECT p.oid::regprocedure FROM pg_proc p
  WHERE (p.proargtypes::oid[] && ARRAY['halfvec'::regtype::oid] OR p.prorettype = 'halfvec'::regtype)
    AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    AND p.prokind = 'f' AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's');
SELECT p.oid::regprocedure FROM pg_proc p
  WHERE (p.proargtypes::oid[] && ARRAY['halfvec'::regtype::oid] OR p.prorettype = 'halfvec'::regtype)
    AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT o.oid::regoperator FROM pg_operator o
  WHERE (o.oprleft = 'halfvec'::regtype OR o.oprright = 'halfvec'::regtype)
    AND obj_description(o.oid, 'pg_operator') IS NULL;
SELECT count(*) AS halfvec_operators FROM pg_operator o
  WHERE o.oprleft = 'halfvec'::regtype AND o.oprright = 'halfvec'::regtype;
-- comparison operators carry pgvector's commutators, negators and estimators
SELECT o.oid::regoperator AS operator, oprcom::regoperator AS commutator, oprnegate::regoperator AS negator,
  oprrest, oprjoin FROM pg_operator o
  WHERE o.oprleft = 'halfvec'::regtype AND o.oprright = 'halfvec'::regtype
    AND o.oprname IN ('<', '<=', '=', '<>', '>=', '>') ORDER BY o.oprname;
