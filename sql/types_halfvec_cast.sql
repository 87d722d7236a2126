-- types_halfvec_cast: casts between halfvec, vector and arrays, and their contexts.

SELECT castsource::regtype, casttarget::regtype, castfunc::regprocedure, castcontext
  FROM pg_cast WHERE castsource = 'halfvec'::regtype OR casttarget = 'halfvec'::regtype
  ORDER BY castsource::regtype::text, casttarget::regtype::text;
SELECT c.castsource::regtype, c.casttarget::regtype FROM pg_cast c
  WHERE (c.castsource = 'halfvec'::regtype OR c.casttarget = 'halfvec'::regtype)
    AND obj_description(c.oid, 'pg_cast') IS NULL;

-- vector -> halfvec rounds to binary16; out-of-range elements are errors
SELECT '[1,2,3]'::vector::halfvec;
SELECT '[0.1,1.23456,-65504,65519]'::vector::halfvec;
SELECT '[1e-8,-1e-8,6e-08]'::vector::halfvec;
SELECT '[65520]'::vector::halfvec;
SELECT '[1,-1e5]'::vector::halfvec;
SELECT '[3.4e38]'::vector::halfvec;
SELECT '[1,2,3]'::vector::halfvec(3);
SELECT '[1,2,3]'::vector::halfvec(2);

-- halfvec -> vector is exact
SELECT '[0.1,65504,6e-08,-0]'::halfvec::vector;
SELECT '[1,2,3]'::halfvec::vector(3);
SELECT '[1,2,3]'::halfvec::vector(2);

-- arrays -> halfvec
SELECT '{1,2,3}'::integer[]::halfvec;
SELECT '{1.5,-2.25,0.1}'::real[]::halfvec;
SELECT '{0.1,1.23456}'::double precision[]::halfvec;
SELECT '{0.1,1.23456,65519}'::numeric[]::halfvec;
SELECT '{1,2,3}'::integer[]::halfvec(3);
SELECT '{1,2,3}'::integer[]::halfvec(2);
SELECT '{65520}'::integer[]::halfvec;
SELECT '{1,100000}'::integer[]::halfvec;
SELECT '{1e5}'::real[]::halfvec;
SELECT '{-70000.5}'::double precision[]::halfvec;
SELECT '{1e300}'::double precision[]::halfvec;          -- infinite once narrowed to float4
SELECT '{65520}'::numeric[]::halfvec;
SELECT '{1e50}'::numeric[]::halfvec;
SELECT '{NaN}'::real[]::halfvec;
SELECT '{1,NaN}'::double precision[]::halfvec;
SELECT '{NaN}'::numeric[]::halfvec;
SELECT '{Infinity}'::real[]::halfvec;
SELECT '{-Infinity}'::double precision[]::halfvec;
SELECT '{{1,2},{3,4}}'::integer[]::halfvec;
SELECT '{1,NULL}'::integer[]::halfvec;
SELECT '{}'::real[]::halfvec;
SELECT vector_dims(array_fill(1, ARRAY[16000])::halfvec);
SELECT array_fill(1, ARRAY[16001])::halfvec;
SELECT '{1,2}'::bigint[]::halfvec;

-- halfvec -> real[]
SELECT '[0.1,2,-65504]'::halfvec::real[];
SELECT '[6e-08,-0]'::halfvec::real[];
SELECT pg_typeof('[1]'::halfvec::real[]);

-- contexts (pgvector 0.8's): vector -> halfvec is implicit; halfvec -> vector,
-- halfvec -> real[] and arrays -> halfvec only on assignment
CREATE FUNCTION halfvec_cast_takes_halfvec(halfvec) RETURNS text
  AS 'SELECT $1::text' LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION halfvec_cast_takes_vector(vector) RETURNS text
  AS 'SELECT $1::text' LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION halfvec_cast_takes_real_array(real[]) RETURNS text
  AS 'SELECT $1::text' LANGUAGE sql IMMUTABLE STRICT;
SELECT halfvec_cast_takes_halfvec('[0.1,2]'::vector);
SELECT halfvec_cast_takes_real_array('[0.1,2]'::halfvec);
SELECT halfvec_cast_takes_vector('[0.1,2]'::halfvec);
SELECT halfvec_cast_takes_halfvec('{1,2}'::integer[]);
DROP FUNCTION halfvec_cast_takes_halfvec(halfvec), halfvec_cast_takes_vector(vector),
  halfvec_cast_takes_real_array(real[]);

CREATE TABLE halfvec_cast_t (id int, h halfvec(3), v vector(3), r real[]);
INSERT INTO halfvec_cast_t (id, h) VALUES (1, '{1,2,3}'::integer[]);
INSERT INTO halfvec_cast_t (id, h) VALUES (2, '{0.1,0.2,0.3}'::real[]);
INSERT INTO halfvec_cast_t (id, h) VALUES (3, '{1,2,3}'::double precision[]);
INSERT INTO halfvec_cast_t (id, h) VALUES (4, '{1.5,2,3}'::numeric[]);
INSERT INTO halfvec_cast_t (id, h) VALUES (5, '[0.1,2,3]'::vector);
INSERT INTO halfvec_cast_t (id, v, r) SELECT 6, h, h FROM halfvec_cast_t WHERE id = 2;
INSERT INTO halfvec_cast_t (id, h) VALUES (7, '{1,2}'::integer[]);
INSERT INTO halfvec_cast_t (id, h) VALUES (7, '[1,2,3,4]'::vector);
INSERT INTO halfvec_cast_t (id, v) VALUES (7, '[1,2]'::halfvec);
INSERT INTO halfvec_cast_t (id, h) VALUES (7, '[1,2,70000]'::vector);
SELECT * FROM halfvec_cast_t ORDER BY id;
DROP TABLE halfvec_cast_t;

-- round trips
SELECT '[0.1,1.23456,65504]'::halfvec::vector::halfvec = '[0.1,1.23456,65504]'::halfvec AS vector_round_trip;
SELECT '[0.1,1.23456,65504]'::halfvec::real[]::halfvec = '[0.1,1.23456,65504]'::halfvec AS array_round_trip;
