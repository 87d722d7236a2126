// agg_state.cpp implements the avg() state arithmetic shared by vector and halfvec.
#include <cmath>

#include "types/agg_state.h"
#include "types/dense_io.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/float.h"
}

// AggStateValues rejects anything but a 1-D, NULL-free float8 array.
float8 *
AggStateValues(ArrayType *state, const char *caller)
{
	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 1 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("%s: expected state array", caller)));
	return (float8 *) ARR_DATA_PTR(state);
}

// AggStateBuild makes a state array from dim + 1 datums and frees them.
static ArrayType *
AggStateBuild(Datum *datums, int dim)
{
	ArrayType  *result = construct_array(datums, dim + 1, FLOAT8OID, sizeof(float8),
										 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);

	pfree(datums);
	return result;
}

// AggStateAccum adds one row; a dimension change or an overflowing sum is an error.
ArrayType *
AggStateAccum(ArrayType *state, const float *x, int dim, const char *caller)
{
	float8	   *sv = AggStateValues(state, caller);
	int			sdim = AGG_STATE_DIMS(state);
	bool		first = sdim == 0;
	Datum	   *datums;

	if (!first)
		DenseCheckExpectedDim(sdim, dim);

	datums = (Datum *) palloc(sizeof(Datum) * (dim + 1));
	datums[0] = Float8GetDatum(sv[0] + 1.0);
	for (int i = 0; i < dim; i++)
	{
		double		v = (double) x[i];

		if (!first)
		{
			v += sv[i + 1];
			if (std::isinf(v))
				float_overflow_error();
		}
		datums[i + 1] = Float8GetDatum(v);
	}
	return AggStateBuild(datums, dim);
}

// AggStateCombine adds two states element-wise; an empty side yields the
// other. A state over max_dim dimensions is the type's error, as in avg().
ArrayType *
AggStateCombine(ArrayType *s1, ArrayType *s2, const char *caller, int max_dim, const char *type_name)
{
	float8	   *v1 = AggStateValues(s1, caller);
	float8	   *v2 = AggStateValues(s2, caller);
	int			dim;
	Datum	   *datums;

	if (v1[0] == 0.0 || v2[0] == 0.0)
	{
		float8	   *src = v1[0] == 0.0 ? v2 : v1;

		dim = AGG_STATE_DIMS(v1[0] == 0.0 ? s2 : s1);
		if (dim > 0)
			DenseCheckDim(dim, max_dim, type_name);
		datums = (Datum *) palloc(sizeof(Datum) * (dim + 1));
		for (int i = 0; i <= dim; i++)
			datums[i] = Float8GetDatum(src[i]);
	}
	else
	{
		dim = AGG_STATE_DIMS(s1);
		DenseCheckDim(dim, max_dim, type_name);
		DenseCheckExpectedDim(dim, AGG_STATE_DIMS(s2));
		datums = (Datum *) palloc(sizeof(Datum) * (dim + 1));
		datums[0] = Float8GetDatum(v1[0] + v2[0]);
		for (int i = 1; i <= dim; i++)
		{
			double		v = v1[i] + v2[i];

			if (std::isinf(v))
				float_overflow_error();
			datums[i] = Float8GetDatum(v);
		}
	}
	return AggStateBuild(datums, dim);
}
