// halfvec_cast.cpp implements the casts between halfvec and vector and
// between halfvec and PostgreSQL arrays, as pgvector defines them.
#include "types/dense_io.h"
#include "types/halfvec.h"
#include "types/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

using vecdb::engine::HalfToFloat;

// array_to_halfvec converts a 1-D integer[], real[], double precision[] or
// numeric[] without NULLs; elements beyond binary16 range are errors.
VECDB_FUNCTION(array_to_halfvec)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	int			n;
	HalfVector *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, NULL, &n);

	DenseCheckDim(n, HALFVEC_MAX_DIM, "halfvec");
	DenseCheckExpectedDim(typmod, n);

	result = InitHalfVector(n);
	if (elemtype == INT4OID)
	{
		for (int i = 0; i < n; i++)
			result->x[i] = FloatToHalfChecked((float) DatumGetInt32(elems[i]));
	}
	else if (elemtype == FLOAT8OID)
	{
		for (int i = 0; i < n; i++)
			result->x[i] = FloatToHalfChecked((float) DatumGetFloat8(elems[i]));
	}
	else if (elemtype == FLOAT4OID)
	{
		for (int i = 0; i < n; i++)
			result->x[i] = FloatToHalfChecked(DatumGetFloat4(elems[i]));
	}
	else if (elemtype == NUMERICOID)
	{
		for (int i = 0; i < n; i++)
			result->x[i] = FloatToHalfChecked(DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i])));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("unsupported array type")));

	/* the elements of a by-reference type point into the array: free only the list */
	pfree(elems);

	for (int i = 0; i < n; i++)
		HalfvecCheckElement(result->x[i]);
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_to_float4 converts a halfvec to real[].
VECDB_FUNCTION(halfvec_to_float4)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	Datum	   *datums = (Datum *) palloc(sizeof(Datum) * vec->dim);
	ArrayType  *result;

	for (int i = 0; i < vec->dim; i++)
		datums[i] = Float4GetDatum(HalfToFloat(vec->x[i]));
	result = construct_array(datums, vec->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
	pfree(datums);
	PG_RETURN_POINTER(result);
}

// vector_to_halfvec rounds each float4 to binary16; values beyond +-65504
// (after rounding) are errors.
VECDB_FUNCTION(vector_to_halfvec)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	HalfVector *result;

	DenseCheckDim(vec->dim, HALFVEC_MAX_DIM, "halfvec");
	DenseCheckExpectedDim(typmod, vec->dim);

	result = InitHalfVector(vec->dim);
	for (int i = 0; i < vec->dim; i++)
		result->x[i] = FloatToHalfChecked(vec->x[i]);
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_to_vector widens each element to float4 (exact).
VECDB_FUNCTION(halfvec_to_vector)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Vector	   *result;

	DenseCheckDim(vec->dim, VECTOR_MAX_DIM, "vector");
	DenseCheckExpectedDim(typmod, vec->dim);

	result = InitVector(vec->dim);
	for (int i = 0; i < vec->dim; i++)
		result->x[i] = HalfToFloat(vec->x[i]);
	PG_RETURN_VECTOR_P(result);
}
