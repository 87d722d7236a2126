// dense_io.cpp holds the non-template parts of the dense text form helpers.
#include "types/dense_io.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
}

// DenseTypmodIn validates the "(n)" modifier of vector(n) and halfvec(n).
int32
DenseTypmodIn(ArrayType *ta, int max_dim, const char *type_name)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier")));
	if (*tl < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", type_name)));
	if (*tl > max_dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", type_name, max_dim)));
	return *tl;
}

// DenseArrayToFloats validates an array cast's input and widens its elements to float.
float *
DenseArrayToFloats(ArrayType *array, int max_dim, const char *type_name, int32 typmod, int *n)
{
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	float	   *out;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, NULL, n);
	DenseCheckDim(*n, max_dim, type_name);
	DenseCheckExpectedDim(typmod, *n);

	out = (float *) palloc(sizeof(float) * *n);
	for (int i = 0; i < *n; i++)
	{
		switch (elemtype)
		{
			case INT4OID:
				out[i] = (float) DatumGetInt32(elems[i]);
				break;
			case FLOAT8OID:
				out[i] = (float) DatumGetFloat8(elems[i]);
				break;
			case FLOAT4OID:
				out[i] = DatumGetFloat4(elems[i]);
				break;
			case NUMERICOID:
				out[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("unsupported array type")));
		}
	}
	/* the elements of a by-reference type point into the array: free only the list */
	pfree(elems);
	return out;
}
