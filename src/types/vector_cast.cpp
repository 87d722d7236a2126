// vector_cast.cpp implements the casts between vector and PostgreSQL arrays
// (integer[], real[], double precision[], numeric[] -> vector; vector -> real[]).
#include "types/dense_io.h"
#include "types/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

// array_to_vector converts a one-dimensional array without nulls to a vector,
// checking the dimension count, the typmod and every element (pgvector).
VECDB_FUNCTION(array_to_vector)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	int			nelems;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, NULL, &nelems);

	DenseCheckDim(nelems, VECTOR_MAX_DIM, "vector");
	DenseCheckExpectedDim(typmod, nelems);

	result = InitVector(nelems);
	switch (elemtype)
	{
		case INT4OID:
			for (int i = 0; i < nelems; i++)
				result->x[i] = (float) DatumGetInt32(elems[i]);
			break;
		case FLOAT8OID:
			for (int i = 0; i < nelems; i++)
				result->x[i] = (float) DatumGetFloat8(elems[i]);
			break;
		case FLOAT4OID:
			for (int i = 0; i < nelems; i++)
				result->x[i] = DatumGetFloat4(elems[i]);
			break;
		case NUMERICOID:
			for (int i = 0; i < nelems; i++)
				result->x[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("unsupported array type")));
	}

	/* elements of a by-reference type point into the array: free only the index */
	pfree(elems);

	for (int i = 0; i < result->dim; i++)
		DenseCheckElement(result->x[i], "vector");
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
