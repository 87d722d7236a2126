// vector_cast.cpp implements the casts between vector and PostgreSQL arrays.
#include "types/dense_io.h"
#include "types/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

// array_to_vector converts a 1-D integer[], real[], double precision[] or
// numeric[] without NULLs; NaN and infinite elements are errors.
VECDB_FUNCTION(array_to_vector)
{
	int			n;
	float	   *x = DenseArrayToFloats(PG_GETARG_ARRAYTYPE_P(0), VECTOR_MAX_DIM, "vector",
									   PG_GETARG_INT32(1), &n);
	Vector	   *result = InitVector(n);

	for (int i = 0; i < n; i++)
	{
		DenseCheckElement(x[i], "vector");
		result->x[i] = x[i];
	}
	pfree(x);
	PG_RETURN_VECTOR_P(result);
}

// vector_to_float4 converts a vector to real[].
VECDB_FUNCTION(vector_to_float4)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	Datum	   *datums = (Datum *) palloc(sizeof(Datum) * vec->dim);
	ArrayType  *result;

	for (int i = 0; i < vec->dim; i++)
		datums[i] = Float4GetDatum(vec->x[i]);
	result = construct_array(datums, vec->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
	pfree(datums);
	PG_RETURN_POINTER(result);
}
