// vector.cpp implements the vector type's I/O: text and binary forms, the
// typmod, and the length-coercion cast, byte-compatible with pgvector.
#include "types/dense_io.h"
#include "types/vector.h"

extern "C" {
#include "libpq/pqformat.h"
#include "utils/array.h"
}

// InitVector allocates a zeroed vector of dim dimensions.
Vector *
InitVector(int dim)
{
	Size		size = VECTOR_SIZE(dim);
	Vector	   *result = (Vector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

// vector_in parses the text form "[1,2,3]".
VECDB_FUNCTION(vector_in)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	float	   *x = (float *) palloc(sizeof(float) * VECTOR_MAX_DIM);
	int			dim;
	Vector	   *result;

	dim = DenseParseLiteral(lit, "vector", VECTOR_MAX_DIM, x,
							[](float v, const char *, int, float *out) { *out = v; });
	DenseCheckDim(dim, VECTOR_MAX_DIM, "vector");
	DenseCheckExpectedDim(typmod, dim);

	result = InitVector(dim);
	memcpy(result->x, x, sizeof(float) * dim);
	pfree(x);
	PG_RETURN_VECTOR_P(result);
}

// vector_out prints the text form with PostgreSQL's shortest float4 digits.
VECDB_FUNCTION(vector_out)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);

	PG_RETURN_CSTRING(DenseFormat(vec->dim, [vec](int i) { return vec->x[i]; }));
}

// vector_typmod_in validates vector(n).
VECDB_FUNCTION(vector_typmod_in)
{
	PG_RETURN_INT32(DenseTypmodIn(PG_GETARG_ARRAYTYPE_P(0), VECTOR_MAX_DIM, "vector"));
}

// vector_recv reads the binary form: int16 dim, int16 unused, dim float4s.
VECDB_FUNCTION(vector_recv)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int16		dim;
	int16		unused;
	Vector	   *result;

	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));
	DenseCheckDim(dim, VECTOR_MAX_DIM, "vector");
	DenseCheckExpectedDim(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected unused to be 0, not %d", unused)));

	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		DenseCheckElement(result->x[i], "vector");
	}
	PG_RETURN_VECTOR_P(result);
}

// vector_send writes the binary form read by vector_recv.
VECDB_FUNCTION(vector_send)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint(&buf, vec->dim, sizeof(int16));
	pq_sendint(&buf, vec->unused, sizeof(int16));
	for (int i = 0; i < vec->dim; i++)
		pq_sendfloat4(&buf, vec->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

// vector applies a typmod: the length-coercion cast vector -> vector(n).
VECDB_FUNCTION(vector)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	DenseCheckExpectedDim(typmod, vec->dim);
	PG_RETURN_VECTOR_P(vec);
}
