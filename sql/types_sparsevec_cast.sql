-- types_sparsevec_cast: casts between sparsevec, vector and arrays; binary send/recv.
SELECT '[0,1.5,0,-2,0]'::vector::sparsevec AS from_vector, '[0,0,0]'::vector::sparsevec AS all_zeros,
       '[1,2,3]'::vector::sparsevec(3) AS with_typmod;
SELECT '[1,2,3]'::vector::sparsevec(2);
SELECT '{2:1.5,4:-2}/5'::sparsevec::vector AS to_vector, '{}/3'::sparsevec::vector AS zeros,
       '{1:1}/3'::sparsevec::vector(3) AS with_typmod;
SELECT '{1:1}/3'::sparsevec::vector(2);
SELECT '{1:1}/16000'::sparsevec::vector = ('[1' || repeat(',0', 15999) || ']')::vector AS max_dims_ok;
SELECT '{1:1}/16001'::sparsevec::vector;
SELECT '{1:1}/1000000000'::sparsevec::vector;
SELECT ('[' || array_to_string(array_fill(0, ARRAY[15999]), ',') || ',7]')::vector::sparsevec AS last_of_16000;
-- round trips
SELECT '{1:1.23456789,3:-1e-45}/4'::sparsevec::vector::sparsevec AS round_trip,
       '[0,3.4028235e38,0]'::vector::sparsevec::vector AS round_trip_vector;
-- vector -> sparsevec is implicit, sparsevec -> vector on assignment (as pgvector)
SELECT castsource::regtype, casttarget::regtype, castcontext, castfunc::regprocedure FROM pg_cast
WHERE (castsource = 'sparsevec'::regtype OR casttarget = 'sparsevec'::regtype)
  AND 'halfvec' NOT IN (castsource::regtype::text, casttarget::regtype::text) ORDER BY 1::text, 2::text;
SELECT l2_distance('[3,0,0]'::vector, '{2:4}/3'::sparsevec) AS implicit_from_vector;
CREATE TABLE sparsevec_cast_t (s sparsevec(3), v vector(3));
INSERT INTO sparsevec_cast_t (s, v) VALUES ('[1,0,2]'::vector, '{3:5}/3'::sparsevec);
INSERT INTO sparsevec_cast_t (s) VALUES ('[1,2]'::vector);
INSERT INTO sparsevec_cast_t (v) VALUES ('{1:1}/2'::sparsevec);
SELECT s, v FROM sparsevec_cast_t;
DROP TABLE sparsevec_cast_t;
-- arrays (assignment casts)
SELECT '{0,1,0,2}'::int[]::sparsevec AS int_array, '{0,1.5,0}'::real[]::sparsevec AS real_array,
       '{-0.5,0,0}'::float8[]::sparsevec AS float8_array, '{0,0,3.25}'::numeric[]::sparsevec(3) AS numeric_array;
SELECT '{1e-50,1}'::float8[]::sparsevec AS float8_underflow_dropped;
SELECT '{1,2}'::int[]::sparsevec(3);
SELECT '{}'::int[]::sparsevec;
SELECT '{{1,2},{3,4}}'::int[]::sparsevec;
SELECT '{1,NULL}'::int[]::sparsevec;
SELECT '{NaN,1}'::real[]::sparsevec;
SELECT '{Infinity,1}'::float8[]::sparsevec;
SELECT '{1e39,1}'::float8[]::sparsevec;
SELECT '{NaN,1}'::numeric[]::sparsevec;
-- more than 16000 non-zero elements: refused (pgvector 0.8 accepts them from arrays,
-- making a value its own input functions reject)
SELECT array_fill(1, ARRAY[16001])::sparsevec;
SELECT l2_norm(array_fill(1, ARRAY[16000])::sparsevec) AS nnz_16000,
       l2_norm((array_fill(0, ARRAY[100000]) || 1)::sparsevec) AS mostly_zeros;
-- binary form: int32 dim, int32 nnz, int32 unused, 0-based int32 indices, float4 values
SELECT sparsevec_send('{1:1.5,3:2}/5') AS bytes, sparsevec_send('{}/1') AS empty,
       sparsevec_send('{1000000000:-1}/1000000000') AS max_index;
-- binary COPY round trip through sparsevec_recv
CREATE TABLE sparsevec_cast_bin (id int, v sparsevec);
INSERT INTO sparsevec_cast_bin VALUES (1, '{1:1.5,3:2}/5'), (2, '{}/1'), (3, NULL), (4, '{1000000000:-1}/1000000000');
\getenv abs_builddir PG_ABS_BUILDDIR
\set binfile :abs_builddir '/results/types_sparsevec_cast.bin'
COPY sparsevec_cast_bin TO :'binfile' WITH (FORMAT binary);
CREATE TABLE sparsevec_cast_bin2 (id int, v sparsevec);
COPY sparsevec_cast_bin2 FROM :'binfile' WITH (FORMAT binary);
SELECT a.id, b.v, a.v IS NOT DISTINCT FROM b.v AS same FROM sparsevec_cast_bin a JOIN sparsevec_cast_bin2 b USING (id) ORDER BY id;
CREATE TABLE sparsevec_cast_bin3 (id int, v sparsevec(5));
COPY sparsevec_cast_bin3 FROM :'binfile' WITH (FORMAT binary);
-- malformed binary values, written as one-row binary COPY files: the header,
-- then per row a field count, and per field its length and bytes
CREATE FUNCTION sparsevec_cast_recv(payload bytea, path text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	loid oid;
BEGIN
	loid := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
		|| '\x0001'::bytea || int4send(octet_length(payload)) || payload || '\xffff'::bytea);
	PERFORM lo_export(loid, path);
	PERFORM lo_unlink(loid);
	TRUNCATE sparsevec_cast_bin2;
	EXECUTE format('COPY sparsevec_cast_bin2 (v) FROM %L WITH (FORMAT binary)', path);
END $$;
\set VERBOSITY terse
SELECT sparsevec_cast_recv('\x00000005000000020000000000000000000000023fc0000040000000', :'binfile') AS "valid";
SELECT v FROM sparsevec_cast_bin2;
SELECT sparsevec_cast_recv('\x000000000000000000000000', :'binfile') AS "dim 0";
SELECT sparsevec_cast_recv('\x3b9aca010000000000000000', :'binfile') AS "dim 1000000001";
SELECT sparsevec_cast_recv('\x00000005ffffffff00000000', :'binfile') AS "nnz -1";
SELECT sparsevec_cast_recv('\x000000050000000600000000', :'binfile') AS "nnz > dim";
SELECT sparsevec_cast_recv('\x3b9aca0000003e8100000000', :'binfile') AS "nnz 16001";
SELECT sparsevec_cast_recv('\x000000050000000000000001', :'binfile') AS "unused 1";
SELECT sparsevec_cast_recv('\x000000050000000100000000000000053f800000', :'binfile') AS "index 5 of 5";
SELECT sparsevec_cast_recv('\x000000050000000100000000ffffffff3f800000', :'binfile') AS "index -1";
SELECT sparsevec_cast_recv('\x00000005000000020000000000000002000000013f8000003f800000', :'binfile') AS "descending";
SELECT sparsevec_cast_recv('\x00000005000000020000000000000002000000023f8000003f800000', :'binfile') AS "duplicate";
SELECT sparsevec_cast_recv('\x0000000500000001000000000000000000000000', :'binfile') AS "zero value";
SELECT sparsevec_cast_recv('\x0000000500000001000000000000000080000000', :'binfile') AS "minus zero";
SELECT sparsevec_cast_recv('\x000000050000000100000000000000007fc00000', :'binfile') AS "NaN";
SELECT sparsevec_cast_recv('\x000000050000000100000000000000007f800000', :'binfile') AS "infinity";
SELECT sparsevec_cast_recv('\x00000005000000010000000000000000', :'binfile') AS "truncated";
\set VERBOSITY default
-- SQLSTATEs of the cast errors
CREATE FUNCTION sparsevec_cast_sqlstate(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
SELECT q, sparsevec_cast_sqlstate(q) FROM (VALUES
	($$SELECT '{1:1}/16001'::sparsevec::vector$$), ($$SELECT '{1:1}/3'::sparsevec::vector(2)$$),
	($$SELECT '[1,2]'::vector::sparsevec(3)$$), ($$SELECT '{{1}}'::int[]::sparsevec$$),
	($$SELECT '{NULL}'::int[]::sparsevec$$), ($$SELECT '{NaN}'::real[]::sparsevec$$),
	($$SELECT array_fill(1, ARRAY[16001])::sparsevec$$)) t(q);
-- SQLSTATEs of the binary count checks: limits are 54000, as pgvector's
SELECT label, sparsevec_cast_sqlstate(format('SELECT sparsevec_cast_recv(%L, %L)', payload, :'binfile'))
FROM (VALUES ('dim 1000000001', '\x3b9aca010000000000000000'), ('nnz -1', '\x00000005ffffffff00000000'),
	('nnz > dim', '\x000000050000000600000000'), ('nnz 16001', '\x3b9aca0000003e8100000000'),
	('nnz 16001 > dim', '\x0000000500003e8100000000')) t(label, payload);
DROP FUNCTION sparsevec_cast_recv(bytea, text);
DROP TABLE sparsevec_cast_bin, sparsevec_cast_bin2, sparsevec_cast_bin3;
DROP FUNCTION sparsevec_cast_sqlstate(text);
