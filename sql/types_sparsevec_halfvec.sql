-- types_sparsevec_halfvec: casts between sparsevec and halfvec.
SELECT castsource::regtype, casttarget::regtype, castcontext FROM pg_cast
WHERE (castsource, casttarget) IN (('halfvec'::regtype, 'sparsevec'::regtype), ('sparsevec'::regtype, 'halfvec'::regtype))
ORDER BY 1, 2;
SELECT '[0,1.5,0,-2,0]'::halfvec::sparsevec AS to_sparse, '{2:1.5,4:-2}/5'::sparsevec::halfvec AS to_half;
SELECT '[0,0,0]'::halfvec::sparsevec AS all_zero, '{}/3'::sparsevec::halfvec AS empty;
SELECT '{1:0.1}/2'::sparsevec::halfvec AS rounded;
-- round trip is exact for values representable in binary16
SELECT '[0.5,0,-0.25,65504]'::halfvec::sparsevec::halfvec = '[0.5,0,-0.25,65504]'::halfvec AS round_trip;
-- errors: out of range, too many dimensions, typmod
SELECT '{1:65520}/2'::sparsevec::halfvec;
SELECT '{1:1}/16001'::sparsevec::halfvec;
SELECT '{1:1}/3'::sparsevec::halfvec(2);
SELECT '[1,2,3]'::halfvec::sparsevec(2);
-- assignment contexts
CREATE TABLE sparsevec_halfvec_t (h halfvec(3), s sparsevec(3));
INSERT INTO sparsevec_halfvec_t VALUES ('{1:1,3:3}/3'::sparsevec, '[0,2,0]'::halfvec);
SELECT * FROM sparsevec_halfvec_t;
DROP TABLE sparsevec_halfvec_t;
