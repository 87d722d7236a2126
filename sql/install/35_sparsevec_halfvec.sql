
-- 35_sparsevec_halfvec: casts between sparsevec and halfvec (after both types exist).

CREATE FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) IS 'casts halfvec to sparsevec, keeping its non-zero elements';
CREATE FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) IS 'casts sparsevec to halfvec (rounds; out-of-range values are errors)';

CREATE CAST (halfvec AS sparsevec)
	WITH FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) AS IMPLICIT;
COMMENT ON CAST (halfvec AS sparsevec) IS 'sparse vector from the non-zero elements of a halfvec';
CREATE CAST (sparsevec AS halfvec)
	WITH FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) AS ASSIGNMENT;
COMMENT ON CAST (sparsevec AS halfvec) IS 'halfvec from a sparse vector of at most 16000 dimensions';
