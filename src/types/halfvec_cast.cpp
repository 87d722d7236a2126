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

using vecdb::knowhere::HalfToFloat;

// array_to_halfvec converts a 1-D integer[], real[], double precision[] or
// numeric[] without NULLs; elements beyond binary16 range are errors.
VECDB_FUNCTION(array_to_halfvec)
{
	int			n;
	float	   *x = DenseArrayToFloats(PG_GETARG_ARRAYTYPE_P(0), HALFVEC_MAX_DIM, "halfvec",
									   PG_GETARG_INT32(1), &n);
	HalfVector *result = InitHalfVector(n);

	for (int i = 0; i < n; i++)
		result->x[i] = FloatToHalfChecked(x[i]);
	for (int i = 0; i < n; i++)
		HalfvecCheckElement(result->x[i]);
	pfree(x);
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
