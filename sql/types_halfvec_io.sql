-- types_halfvec_io: halfvec text and binary I/O, typmod, float16 range and rounding.

-- text form
SELECT '[1,2,3]'::halfvec;
SELECT '[-1,-2,-3]'::halfvec;
SELECT '[1.,2.,3.]'::halfvec;
SELECT ' [ 1,  2 ,    3  ] '::halfvec;
SELECT E'\t[1,\n2]\r'::halfvec;
SELECT '[-0,+0.5,1e1,-.25]'::halfvec;

-- rounding to binary16: output is the float value of the stored half
SELECT '[1.23456]'::halfvec;
SELECT '[0.1,0.2,0.3]'::halfvec;
SELECT '[1.0009765625]'::halfvec;              -- 1 + 2^-10: exact
SELECT '[1.00048828125]'::halfvec;             -- 1 + 2^-11: tie, to even (1)
SELECT '[1.00146484375]'::halfvec;             -- 1 + 3*2^-11: tie, to even (1 + 2^-9)
SELECT '[1.0005]'::halfvec;                    -- just above the tie: rounds up
SELECT '[2049,4097]'::halfvec;                 -- integers past 2^11 round
SELECT '[3.14159265358979]'::halfvec;

-- range: max 65504; 65519.99 rounds down, 65520 overflows
SELECT '[65504,-65504]'::halfvec;
SELECT '[65519,-65519]'::halfvec;
SELECT '[65520]'::halfvec;
SELECT '[1,-65520]'::halfvec;
SELECT '[1e5]'::halfvec;
SELECT '[4e38,1]'::halfvec;                    -- out of range even for float4
SELECT '[1,-1e39]'::halfvec;

-- subnormals and underflow
SELECT '[6e-08]'::halfvec;                     -- smallest subnormal 2^-24
SELECT '[3e-08,2e-08]'::halfvec;               -- above / below 2^-25
SELECT '[6.103515625e-05,6.1e-05]'::halfvec;   -- smallest normal 2^-14, largest subnormal
SELECT '[1e-8,-1e-8]'::halfvec;
SELECT '[1e-46,1]'::halfvec;

-- NaN and infinity
SELECT '[NaN,1]'::halfvec;
SELECT '[1,nan]'::halfvec;
SELECT '[Infinity,1]'::halfvec;
SELECT '[-Infinity,1]'::halfvec;
SELECT '[inf]'::halfvec;

-- malformed literals
SELECT '[hello,1]'::halfvec;
SELECT '[1,2,3'::halfvec;
SELECT '[1,2,3]9'::halfvec;
SELECT '[1,2,3]]'::halfvec;
SELECT '1,2,3'::halfvec;
SELECT ''::halfvec;
SELECT '   '::halfvec;
SELECT '['::halfvec;
SELECT '[ '::halfvec;
SELECT '[,'::halfvec;
SELECT '[]'::halfvec;
SELECT '[ ]'::halfvec;
SELECT '[,]'::halfvec;
SELECT '[1,]'::halfvec;
SELECT '[1a]'::halfvec;
SELECT '[1 2]'::halfvec;
SELECT '[1,,3]'::halfvec;
SELECT '[1, ,3]'::halfvec;
SELECT '(1,2)'::halfvec;

-- dimension limits
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::halfvec);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;

-- typmod
SELECT '[1,2,3]'::halfvec(3);
SELECT '[1,2,3]'::halfvec(2);
SELECT '[1,2,3]'::halfvec(3, 2);
SELECT '[1,2,3]'::halfvec('a');
SELECT '[1,2,3]'::halfvec(0);
SELECT '[1,2,3]'::halfvec(16001);
SELECT '[1,2]'::halfvec::halfvec(2);
SELECT '[1,2,3]'::halfvec::halfvec(2);
SELECT unnest('{"[1,2,3]", "[4,5,6]"}'::halfvec[]);
SELECT '{"[1,2,3]"}'::halfvec(2)[];
CREATE TABLE halfvec_io_t (id int, v halfvec(3), w halfvec);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
  WHERE attrelid = 'halfvec_io_t'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO halfvec_io_t VALUES (1, '[1,2,3]', '[1]');
INSERT INTO halfvec_io_t VALUES (2, '[1,2]', '[1]');
INSERT INTO halfvec_io_t VALUES (3, '[1,2,3,4]'::halfvec, '[1]');
UPDATE halfvec_io_t SET v = '[4,5]' WHERE id = 1;
SELECT * FROM halfvec_io_t ORDER BY id;
SELECT pg_typeof(v), pg_column_size(v) FROM halfvec_io_t;
SELECT typname, typlen, typstorage, typalign FROM pg_type WHERE typname = 'halfvec';

-- binary form: int16 dim, int16 unused, then each element's bits as int16
SELECT halfvec_send('[1,2,3]'::halfvec);
SELECT halfvec_send('[-0,0.099975586,65504,-6e-08,6.1035156e-05]'::halfvec);
INSERT INTO halfvec_io_t VALUES (4, '[-1.5,0.1,65504]', '[6e-08,-0,1,2,3]'), (5, NULL, NULL);
\getenv abs_builddir PG_ABS_BUILDDIR
\set filename :abs_builddir '/results/types_halfvec_io.bin'
COPY halfvec_io_t TO :'filename' WITH (FORMAT binary);
CREATE TABLE halfvec_io_t2 (LIKE halfvec_io_t);
COPY halfvec_io_t2 FROM :'filename' WITH (FORMAT binary);
SELECT * FROM halfvec_io_t2 ORDER BY id;
SELECT count(*) AS same_bytes FROM halfvec_io_t a JOIN halfvec_io_t2 b USING (id)
  WHERE halfvec_send(a.v) = halfvec_send(b.v) AND halfvec_send(a.w) = halfvec_send(b.w);
-- binary input obeys the column typmod
CREATE TABLE halfvec_io_t3 (id int, v halfvec(2), w halfvec);
COPY halfvec_io_t3 FROM :'filename' WITH (FORMAT binary);

-- binary input is validated: write crafted bytes through a bytea column, read them as halfvec
CREATE TABLE halfvec_io_raw (b bytea);
CREATE TABLE halfvec_io_t4 (v halfvec);
INSERT INTO halfvec_io_raw VALUES ('\x000200003c004000');   -- [1,2]
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);
SELECT v FROM halfvec_io_t4;
TRUNCATE halfvec_io_raw;
INSERT INTO halfvec_io_raw VALUES ('\x000200003c007e00');   -- NaN element
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);
TRUNCATE halfvec_io_raw;
INSERT INTO halfvec_io_raw VALUES ('\x00010000fc00');       -- -Infinity element
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);
TRUNCATE halfvec_io_raw;
INSERT INTO halfvec_io_raw VALUES ('\x000100013c00');       -- unused not zero
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);
TRUNCATE halfvec_io_raw;
INSERT INTO halfvec_io_raw VALUES ('\x00000000');           -- no dimensions
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);
TRUNCATE halfvec_io_raw;
INSERT INTO halfvec_io_raw VALUES ('\x3e810000');           -- 16001 dimensions
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);
TRUNCATE halfvec_io_raw;
INSERT INTO halfvec_io_raw VALUES ('\x000200003c00');       -- truncated
COPY halfvec_io_raw TO :'filename' WITH (FORMAT binary);
COPY halfvec_io_t4 FROM :'filename' WITH (FORMAT binary);

DROP TABLE halfvec_io_t, halfvec_io_t2, halfvec_io_t3, halfvec_io_raw, halfvec_io_t4;
