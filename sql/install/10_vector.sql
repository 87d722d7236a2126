
-- 10_vector: the vector type (float4 elements, pgvector-compatible).

CREATE TYPE vector;

CREATE FUNCTION vector_in(cstring, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_out(vector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_recv(internal, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_send(vector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE vector (
	INPUT     = vector_in,
	OUTPUT    = vector_out,
	TYPMOD_IN = vector_typmod_in,
	RECEIVE   = vector_recv,
	SEND      = vector_send,
	STORAGE   = main
);
COMMENT ON TYPE vector IS 'vector of float4 elements, up to 16000 dimensions: text form [1,2,3]';

COMMENT ON FUNCTION vector_in(cstring, oid, integer) IS 'input function of type vector';
COMMENT ON FUNCTION vector_out(vector) IS 'output function of type vector';
COMMENT ON FUNCTION vector_typmod_in(cstring[]) IS 'type modifier input function of type vector';
COMMENT ON FUNCTION vector_recv(internal, oid, integer) IS 'binary input function of type vector';
COMMENT ON FUNCTION vector_send(vector) IS 'binary output function of type vector';

CREATE FUNCTION vector(vector, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector(vector, integer, boolean) IS 'applies a dimension typmod to a vector';
CREATE CAST (vector AS vector)
	WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;
COMMENT ON CAST (vector AS vector) IS 'length coercion of vector to vector(n)';
