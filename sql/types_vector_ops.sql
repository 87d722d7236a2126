-- types_vector_ops: distances, norms, normalization, subvector, binary
-- quantization, element-wise arithmetic and concatenation on vector.

-- sqlstate_of runs a statement and reports its SQLSTATE and message, or ok.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- distance operators and their functions
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2, '[1,2,3]'::vector <#> '[3,2,1]' AS neg_ip,
	'[1,2,3]'::vector <=> '[3,2,1]' AS cosine, '[1,2,3]'::vector <+> '[3,2,1]' AS l1;
SELECT l2_distance('[1,2,3]'::vector, '[3,2,1]'), inner_product('[1,2,3]'::vector, '[3,2,1]'),
	cosine_distance('[1,2,3]'::vector, '[3,2,1]'), l1_distance('[1,2,3]'::vector, '[3,2,1]');
SELECT l2_distance('[0,0]'::vector, '[3,4]'), vector_l2_squared_distance('[0,0]'::vector, '[3,4]'),
	inner_product('[1,2]'::vector, '[3,4]'), vector_negative_inner_product('[1,2]'::vector, '[3,4]'),
	l1_distance('[1,2]'::vector, '[-1,5]');
SELECT l2_distance('[1.5,-2]'::vector, '[1.5,-2]') AS same_l2, l1_distance('[1.5,-2]'::vector, '[1.5,-2]') AS same_l1;
-- l2 is the square root of the float sum, taken in double
SELECT l2_distance('[0,0]'::vector, '[1,1]') AS sqrt2, l2_distance('[0]'::vector, '[0.1]') AS tenth;
-- the float sum overflows to infinity, as in pgvector
SELECT l2_distance('[3e38]'::vector, '[-3e38]') AS l2_inf, inner_product('[3e38,3e38]'::vector, '[3e38,3e38]') AS ip_inf,
	l1_distance('[3e38,3e38]'::vector, '[0,0]') AS l1_inf;

-- cosine: parallel, opposite, orthogonal, zero vectors give NaN
SELECT cosine_distance('[1,2]'::vector, '[2,4]') AS parallel, cosine_distance('[1,1]'::vector, '[-1,-1]') AS opposite,
	cosine_distance('[1,0]'::vector, '[0,1]') AS orthogonal;
SELECT cosine_distance('[0,0]'::vector, '[1,2]') AS zero_a, cosine_distance('[1,2]'::vector, '[0,0]') AS zero_b,
	'[0,0]'::vector <=> '[0,0]' AS both_zero;

-- spherical distance (index support): acos(a.b)/pi, clamped to [-1, 1]
SELECT vector_spherical_distance('[1,0]'::vector, '[0,1]') AS quarter, vector_spherical_distance('[1,0]'::vector, '[-1,0]') AS half,
	vector_spherical_distance('[1,0]'::vector, '[1,0]') AS same, vector_spherical_distance('[1,1]'::vector, '[1,1]') AS clamped,
	vector_spherical_distance('[-1,-1]'::vector, '[1,1]') AS clamped_neg;

-- operators commute
SELECT oprname, oprcode::regprocedure AS function, oprcom::regoperator AS commutator FROM pg_operator
	WHERE oprleft = 'vector'::regtype AND oprright = 'vector'::regtype
	AND oprname IN ('<->', '<#>', '<=>', '<+>', '+', '-', '*', '||') ORDER BY oprname;
SELECT '[1,2]'::vector <-> '[4,6]' = '[4,6]'::vector <-> '[1,2]' AS l2_commutes,
	'[1,2]'::vector <#> '[4,6]' = '[4,6]'::vector <#> '[1,2]' AS ip_commutes;

-- dimension mismatch in every binary operation
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,2]'::vector <#> '[1,2,3]';
SELECT '[1,2]'::vector <=> '[1,2,3]';
SELECT '[1,2]'::vector <+> '[1,2,3]';
SELECT '[1,2]'::vector + '[1,2,3]';
SELECT '[1,2]'::vector - '[1,2,3]';
SELECT '[1,2]'::vector * '[1,2,3]';
SELECT q, pg_temp.sqlstate_of(q) FROM (VALUES
	('SELECT l2_distance(''[1]''::vector, ''[1,2]'')'),
	('SELECT inner_product(''[1]''::vector, ''[1,2]'')'),
	('SELECT cosine_distance(''[1]''::vector, ''[1,2]'')'),
	('SELECT l1_distance(''[1]''::vector, ''[1,2]'')'),
	('SELECT vector_l2_squared_distance(''[1]''::vector, ''[1,2]'')'),
	('SELECT vector_negative_inner_product(''[1]''::vector, ''[1,2]'')'),
	('SELECT vector_spherical_distance(''[1]''::vector, ''[1,2]'')'),
	('SELECT vector_add(''[1]''::vector, ''[1,2]'')'),
	('SELECT vector_sub(''[1]''::vector, ''[1,2]'')'),
	('SELECT vector_mul(''[1]''::vector, ''[1,2]'')')
) t(q);

-- dims and norms (norm accumulated in double: no float overflow)
SELECT vector_dims('[1,2,3]'::vector), vector_dims('[0]'::vector);
SELECT vector_norm('[3,4]'::vector), l2_norm('[3,4]'::vector), vector_norm('[1,1]'::vector), vector_norm('[0,0]'::vector), vector_norm('[-2]'::vector);
SELECT vector_norm('[3e38,3e38]'::vector) = sqrt(2 * (3e38::real::float8) ^ 2) AS norm_in_double;

-- l2_normalize: unit norm, zero vector stays zero
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), l2_normalize('[-2]'::vector), l2_normalize('[1,1]'::vector);
SELECT l2_normalize('[3e38,3e38]'::vector) AS large, l2_normalize('[1e-45,0]'::vector) AS denormal;

-- binary_quantize: 1 where the element is positive
SELECT binary_quantize('[1,-2,0,3,1,1,1,1,1]'::vector), binary_quantize('[-0]'::vector), binary_quantize('[0.1]'::vector);
SELECT pg_typeof(binary_quantize('[1]'::vector)), length(binary_quantize('[1,2,3]'::vector));

-- subvector(v, start, count): 1-based, clipped like substring
SELECT subvector('[1,2,3,4,5]'::vector, 2, 2), subvector('[1,2,3,4,5]'::vector, 1, 5), subvector('[1,2,3,4,5]'::vector, 3, 10);
SELECT subvector('[1,2,3,4,5]'::vector, 0, 2), subvector('[1,2,3,4,5]'::vector, -1, 3), subvector('[1,2,3,4,5]'::vector, 5, 1);
SELECT subvector('[1,2,3,4,5]'::vector, 1, 2147483647), subvector('[1,2,3,4,5]'::vector, -2, 5), subvector('[1,2,3,4,5]'::vector, 4, 2147483647);
SELECT subvector('[1,2,3,4,5]'::vector, 6, 1);
SELECT subvector('[1,2,3,4,5]'::vector, 1, 0);
SELECT subvector('[1,2,3,4,5]'::vector, 1, -1);
SELECT subvector('[1,2,3,4,5]'::vector, -5, 2);
SELECT subvector('[1,2,3,4,5]'::vector, 2147483647, 1);
SELECT subvector('[1,2,3,4,5]'::vector, -2147483648, 2147483647);

-- element-wise arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]' AS add, '[1,2,3]'::vector - '[4,5,6]' AS sub,
	'[1,2,3]'::vector * '[4,5,6]' AS mul;
SELECT '[1.5,-0.25]'::vector + '[-1.5,0.25]' AS add_zero, '[0,1e-30]'::vector * '[5,0]' AS mul_zero;
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector + '[-3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e38]'::vector * '[10]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[1,1e-30]'::vector * '[1,-1e-30]';
SELECT q, pg_temp.sqlstate_of(q) FROM (VALUES
	('SELECT ''[3e38]''::vector + ''[3e38]'''),
	('SELECT ''[-3e38]''::vector - ''[3e38]'''),
	('SELECT ''[1e38]''::vector * ''[10]'''),
	('SELECT ''[1e-30]''::vector * ''[1e-30]''')
) t(q);

-- concatenation, up to 16000 dimensions
SELECT '[1,2]'::vector || '[3]', '[1]'::vector || '[1]', vector_concat('[-1.5]'::vector, '[2,3]');
SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);
SELECT array_fill(1, ARRAY[16000])::vector || '[1]'::vector;
SELECT pg_temp.sqlstate_of('SELECT array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8001])::vector');

-- NULL in, NULL out (STRICT)
SELECT l2_distance(NULL::vector, '[1]') IS NULL AS l2, ('[1]'::vector <=> NULL) IS NULL AS cosine,
	subvector('[1,2]'::vector, NULL, 1) IS NULL AS sub, ('[1]'::vector + NULL) IS NULL AS add;

-- every function is commented, IMMUTABLE, STRICT and PARALLEL SAFE
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
	obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.proname IN ('l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
		'vector_l2_squared_distance', 'vector_negative_inner_product', 'vector_spherical_distance',
		'vector_dims', 'vector_norm', 'l2_norm', 'l2_normalize', 'binary_quantize', 'subvector',
		'vector_add', 'vector_sub', 'vector_mul', 'vector_concat')
	AND p.proargtypes[0] = 'vector'::regtype
ORDER BY p.proname;
SELECT o.oid::regoperator AS operator, obj_description(o.oid, 'pg_operator') IS NOT NULL AS commented
FROM pg_operator o
WHERE o.oprleft = 'vector'::regtype AND o.oprright = 'vector'::regtype
ORDER BY o.oprname;
