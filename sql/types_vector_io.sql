-- types_vector_io: text and binary forms of vector, typmods, length coercion.

-- sqlstate_of runs a statement and reports its SQLSTATE and message, or ok.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- text input, whitespace accepted around brackets, elements and commas
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , 2 , 3 ] '::vector;
SELECT (E'\t[\n1,\r2\f,' || chr(11) || E'3]\n')::vector AS all_space_kinds;
SELECT '[1.5,-2.25e3,+4,.5,-0]'::vector;
SELECT '[1e-50]'::vector AS underflow_to_zero, '[1e-45]'::vector AS denormal;
SELECT '[3.4028235e38,-3.4028235e38]'::vector AS float4_limits;

-- text output uses the shortest float4 digits
SELECT '[1e-7,-2.5e20,1234567]'::vector;
SELECT '[0.1,123456,1.0000001,0.33333333333]'::vector;

-- malformed literals
SELECT ''::vector;
SELECT ' '::vector;
SELECT '1,2,3'::vector;
SELECT '{1,2,3}'::vector;
SELECT '[1,2,3'::vector;
SELECT '[1,2,'::vector;
SELECT '['::vector;
SELECT '[]'::vector;
SELECT '[ ]'::vector;
SELECT '[1,]'::vector;
SELECT '[,1]'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1 2]'::vector;
SELECT '[a]'::vector;
SELECT '[1a]'::vector;
SELECT '[1,2]x'::vector;
SELECT '[1,2] ]'::vector;
SELECT '[1,2][3]'::vector;

-- NaN, infinity and out-of-range elements
SELECT '[NaN]'::vector;
SELECT '[1,nan]'::vector;
SELECT '[Infinity]'::vector;
SELECT '[-inf,1]'::vector;
SELECT '[1e39]'::vector;
SELECT '[-1e39]'::vector;

-- dimension limits: 16000 is the most
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
SELECT ('[' || repeat('1,', 16000) || '1]')::vector;

-- typmods
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1]'::vector(0);
SELECT '[1]'::vector(-1);
SELECT '[1]'::vector(16001);
SELECT '[1]'::vector(3,2);
SELECT '[1]'::vector(16000);

-- length coercion cast vector -> vector(n)
SELECT '[1,2]'::vector::vector(2);
SELECT '[1,2]'::vector::vector(3);

-- table columns keep their typmod
CREATE TABLE vector_io_t (id int, v vector(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'vector_io_t'::regclass AND attname = 'v';
SELECT format_type('vector'::regtype, NULL), format_type('vector'::regtype, 16000);
INSERT INTO vector_io_t VALUES (1, '[1,2,3]'), (2, NULL), (3, '[-1.5,0,1e-07]');
INSERT INTO vector_io_t VALUES (4, '[1,2]');
INSERT INTO vector_io_t VALUES (4, '[1,2,3,4]');
UPDATE vector_io_t SET v = '[1]' WHERE id = 1;
SELECT id, v FROM vector_io_t ORDER BY id;

-- binary output: int16 dim, int16 unused, then big-endian float4s
SELECT vector_send('[1,2]');
SELECT vector_send('[-0,1e-07,-2.5e20]');
SELECT vector_send(v) FROM vector_io_t ORDER BY id;

-- binary round trip through COPY: vector_send then vector_recv
\getenv abs_builddir PG_ABS_BUILDDIR
\set binfile :abs_builddir '/results/types_vector_io.bin'
COPY vector_io_t TO :'binfile' WITH (FORMAT binary);
CREATE TABLE vector_io_t2 (id int, v vector(3));
COPY vector_io_t2 FROM :'binfile' WITH (FORMAT binary);
SELECT id, v, v = (SELECT v FROM vector_io_t a WHERE a.id = b.id) AS same FROM vector_io_t2 b ORDER BY id;
-- vector_recv applies the column typmod
CREATE TABLE vector_io_t3 (id int, v vector(2));
COPY vector_io_t3 FROM :'binfile' WITH (FORMAT binary);

-- vector_recv rejects bad binary values; write_copy_file stores a binary COPY
-- file holding one vector field with the given payload.
CREATE FUNCTION pg_temp.write_copy_file(payload bytea, path text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	lo oid;
BEGIN
	lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
		|| '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
	PERFORM lo_export(lo, path);
	PERFORM lo_unlink(lo);
END $$;
CREATE TABLE vector_io_t4 (v vector);
SELECT pg_temp.write_copy_file('\x000200003f80000040000000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT v FROM vector_io_t4;
SELECT pg_temp.write_copy_file('\x000200013f80000040000000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.write_copy_file('\x00000000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.write_copy_file('\xffff0000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.write_copy_file('\x3e810000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.write_copy_file('\x000200003f8000007fc00000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.write_copy_file('\x000100007f800000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.write_copy_file('\x000200003f800000', :'binfile');
COPY vector_io_t4 FROM :'binfile' WITH (FORMAT binary);
SELECT v FROM vector_io_t4;

-- SQLSTATEs of the input errors
SELECT q, pg_temp.sqlstate_of(q) FROM (VALUES
	('SELECT ''[1,2''::vector'),
	('SELECT ''[1,2]x''::vector'),
	('SELECT ''[]''::vector'),
	('SELECT ''[NaN]''::vector'),
	('SELECT ''[inf]''::vector'),
	('SELECT ''[1e39]''::vector'),
	('SELECT (''['' || repeat(''1,'', 16000) || ''1]'')::vector'),
	('SELECT ''[1,2]''::vector(3)'),
	('SELECT ''[1]''::vector(0)'),
	('SELECT ''[1]''::vector(3,2)')
) t(q);

-- every element parses to exactly the float4 that float4in (strtof) gives,
-- whichever parser takes it: random values written with 6, 9 and 14
-- significant digits, signs, exponents, subnormals, zeros and hex
SELECT count(*) AS values_checked,
	count(*) FILTER (WHERE ('[' || t || ']')::vector::real[] <> ARRAY[t::real]) AS mismatches,
	count(*) FILTER (WHERE ('{1:' || t || '}/1')::sparsevec::vector::real[] <> ARRAY[t::real]) AS sparse_mismatches
FROM (
	SELECT to_char(x, fmt) AS t
	FROM (SELECT (random() - 0.5) * 10 ^ (random() * 76 - 38) AS x FROM generate_series(1, 3000)) r,
		(VALUES ('9.99999EEEE'), ('9.99999999EEEE'), ('9.9999999999999EEEE')) f(fmt)
	UNION ALL
	SELECT unnest(ARRAY['+1.5', '-0', '0.0', '1e-45', '1.4e-45', '1e-40', '1.17549435e-38', '3.4028235e38',
		'0x1p3', '-0x1.8p-2', '  7', '1.', '.5', '-.5e1', '16777217', '0.1', '1E+2', '123456789012345678901234567890'])
) v;

-- dense vectors stay in the row (storage main): a 784-dimension vector is not
-- moved to the TOAST table, and an 8,000-dimension one (too big for a page) is
CREATE TABLE vector_io_wide (id int, v vector, h halfvec);
SELECT attname, attstorage FROM pg_attribute
WHERE attrelid = 'vector_io_wide'::regclass AND attname IN ('v', 'h') ORDER BY attname;
INSERT INTO vector_io_wide
SELECT i, array_fill(i::real / 7, ARRAY[784])::vector, array_fill(i::real / 7, ARRAY[784])::halfvec
FROM generate_series(1, 20) i;
SELECT pg_relation_size(reltoastrelid) = 0 AS toast_empty FROM pg_class WHERE oid = 'vector_io_wide'::regclass;
INSERT INTO vector_io_wide SELECT 0, array_agg(g::real / 3)::vector FROM generate_series(1, 8000) g;
SELECT pg_relation_size(reltoastrelid) > 0 AS toast_used FROM pg_class WHERE oid = 'vector_io_wide'::regclass;
SELECT id, vector_dims(v), (v::real[])[8000] AS last FROM vector_io_wide WHERE id = 0;
SELECT id, round((v <-> array_fill(1::real / 7, ARRAY[784])::vector)::numeric, 4) AS d, vector_dims(h)
FROM vector_io_wide WHERE id IN (1, 2) ORDER BY id;
DROP TABLE vector_io_wide;

DROP TABLE vector_io_t, vector_io_t2, vector_io_t3, vector_io_t4;
