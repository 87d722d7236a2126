-- types_sparsevec_io: sparsevec text form, typmod and limits, as pgvector 0.8.
SELECT '{1:1.5,3:2}/5'::sparsevec;
SELECT '{1:-2,3:-4}/5'::sparsevec;
SELECT '{1:2.,3:4.}/5'::sparsevec;
SELECT ' { 1 : 1.5 ,  3  :  3.5  } / 5 '::sparsevec;
SELECT E'\t{\n1:1.5}\n/\t5\n'::sparsevec;
SELECT '{1:1.23456789}/1'::sparsevec;
SELECT '{1:1e-45,2:3.4028235e38}/2'::sparsevec;
SELECT '{1:1.5e38,2:-1.5e38}/2'::sparsevec;
SELECT '{1:1.5e-38,2:-1.5e-38}/2'::sparsevec;
SELECT '{}/5'::sparsevec;
SELECT '{ }/1'::sparsevec;
SELECT '{1:+2,2:-0,3:0.0}/3'::sparsevec;
SELECT '{+1:1,02:2}/3'::sparsevec;
-- zero values are not stored
SELECT '{1:0,2:1,3:0}/3'::sparsevec;
SELECT '{1:0}/1'::sparsevec;
-- indices given in any order are sorted
SELECT '{3:3,1:1,2:2}/3'::sparsevec;
SELECT '{1000000000:7}/1000000000'::sparsevec;
-- malformed literals
SELECT '1:1}/2'::sparsevec;
SELECT '[1,2]'::sparsevec;
SELECT ''::sparsevec;
SELECT '{1:1'::sparsevec;
SELECT '{1:1/2'::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{1:1} 2'::sparsevec;
SELECT '{1:1}/'::sparsevec;
SELECT '{1:1}/a'::sparsevec;
SELECT '{1:1}/2a'::sparsevec;
SELECT '{1:1}/2 }'::sparsevec;
SELECT '{1:1}/2/3'::sparsevec;
SELECT '{1:1}/2.5'::sparsevec;
SELECT '{1:}/3'::sparsevec;
SELECT '{:1}/3'::sparsevec;
SELECT '{1}/3'::sparsevec;
SELECT '{1:1,}/3'::sparsevec;
SELECT '{,1:1}/3'::sparsevec;
SELECT '{1:1,,2:2}/3'::sparsevec;
SELECT '{1:1 2:2}/3'::sparsevec;
SELECT '{a:1}/3'::sparsevec;
SELECT '{1.5:1}/3'::sparsevec;
SELECT '{1:hello}/3'::sparsevec;
SELECT '{1:1x}/3'::sparsevec;
-- NaN, infinity and float4 range
SELECT '{1:NaN}/2'::sparsevec;
SELECT '{1:Infinity}/2'::sparsevec;
SELECT '{1:-inf}/2'::sparsevec;
SELECT '{1:4e38}/2'::sparsevec;
SELECT '{1:-4e38}/2'::sparsevec;
SELECT '{1:1e-46}/2'::sparsevec;
-- duplicate and out-of-range indices
SELECT '{1:1,1:2}/3'::sparsevec;
SELECT '{2:1,1:1,2:2}/3'::sparsevec;
SELECT '{1:0,1:1}/3'::sparsevec;
SELECT '{0:1}/3'::sparsevec;
SELECT '{-1:1}/3'::sparsevec;
SELECT '{4:1}/3'::sparsevec;
SELECT '{2147483647:1}/3'::sparsevec;
SELECT '{2147483648:1}/3'::sparsevec;
SELECT '{-2147483648:1}/3'::sparsevec;
SELECT '{-9223372036854775809:1}/3'::sparsevec;
-- a zero value at a bad index is dropped before the index is checked
SELECT '{0:0,4:0}/3'::sparsevec;
-- dimension limits
SELECT '{}/0'::sparsevec;
SELECT '{}/-1'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{}/2147483648'::sparsevec;
SELECT '{}/-2147483649'::sparsevec;
SELECT '{}/99999999999999999999'::sparsevec;
SELECT '{0:1}/0'::sparsevec;
-- at most 16000 elements, counted before zeros are dropped
SELECT ('{' || string_agg(i || ':1', ',') || '}/16000')::sparsevec = ('{' || string_agg(i || ':1', ',') || '}/16000')::sparsevec AS nnz_16000_ok
FROM generate_series(1, 16000) i;
SELECT l2_norm(('{' || string_agg(i || ':1', ',') || '}/16000')::sparsevec) AS norm_16000 FROM generate_series(1, 16000) i;
SELECT ('{' || string_agg(i || ':1', ',') || '}/16001')::sparsevec FROM generate_series(1, 16001) i;
SELECT ('{' || string_agg(i || ':0', ',') || '}/16001')::sparsevec FROM generate_series(1, 16001) i;
SELECT '{1:1}/1,'::sparsevec;
-- typmod
SELECT '{1:1}/3'::sparsevec(3);
SELECT '{1:1}/3'::sparsevec(2);
SELECT '{5:1}/3'::sparsevec(2);
SELECT '{}/3'::sparsevec(3, 2);
SELECT '{}/3'::sparsevec('a');
SELECT '{}/3'::sparsevec(0);
SELECT '{}/3'::sparsevec(1000000001);
SELECT '{}/1000000000'::sparsevec(1000000000);
SELECT format_type('sparsevec'::regtype, NULL), format_type('sparsevec'::regtype, 5);
CREATE TABLE sparsevec_io_t (v sparsevec(5));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sparsevec_io_t'::regclass AND attname = 'v';
INSERT INTO sparsevec_io_t VALUES ('{1:1,5:5}/5'), (NULL);
INSERT INTO sparsevec_io_t VALUES ('{1:1}/4');
INSERT INTO sparsevec_io_t VALUES ('{1:1}/4'::sparsevec);
SELECT v FROM sparsevec_io_t ORDER BY v NULLS LAST;
SELECT '{1:1}/4'::sparsevec::sparsevec(4), '{1:1}/4'::sparsevec::sparsevec(3);
SELECT sparsevec('{1:1}/4'::sparsevec, 4, false);
SELECT sparsevec('{1:1}/4'::sparsevec, 3, true);
SELECT typname, typlen, typstorage, typalign FROM pg_type WHERE typname = 'sparsevec';
-- STORAGE external: stored uncompressed; a large value round-trips through TOAST
INSERT INTO sparsevec_io_t SELECT ('{' || string_agg(i || ':' || i, ',') || '}/5')::sparsevec FROM generate_series(1, 5) i;
CREATE TABLE sparsevec_io_big (v sparsevec);
INSERT INTO sparsevec_io_big SELECT ('{' || string_agg((i * 3) || ':' || i, ',') || '}/100000')::sparsevec FROM generate_series(1, 10000) i;
SELECT pg_column_size(v) AS stored_bytes, octet_length(v::text) > 100000 AS long_text,
       l2_norm(v) AS norm, v = v::text::sparsevec AS text_round_trip
FROM sparsevec_io_big;
DROP TABLE sparsevec_io_t, sparsevec_io_big;
-- SQLSTATEs of the input errors
CREATE FUNCTION sparsevec_io_sqlstate(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
SELECT q, sparsevec_io_sqlstate(q) FROM (VALUES
	($$SELECT '{1:1}/2'::sparsevec$$), ($$SELECT '[1]'::sparsevec$$), ($$SELECT '{1:1}'::sparsevec$$),
	($$SELECT '{1:1}/2x'::sparsevec$$), ($$SELECT '{1:NaN}/2'::sparsevec$$), ($$SELECT '{1:inf}/2'::sparsevec$$),
	($$SELECT '{1:4e38}/2'::sparsevec$$), ($$SELECT '{1:1,1:1}/2'::sparsevec$$), ($$SELECT '{3:1}/2'::sparsevec$$),
	($$SELECT '{}/0'::sparsevec$$), ($$SELECT '{}/1000000001'::sparsevec$$),
	($$SELECT ('{' || repeat('1:1,', 16000) || '1:1}/1')::sparsevec$$),
	($$SELECT '{}/2'::sparsevec(3)$$), ($$SELECT '{}/2'::sparsevec(0)$$), ($$SELECT '{}/2'::sparsevec(1, 2)$$)) t(q);
DROP FUNCTION sparsevec_io_sqlstate(text);
