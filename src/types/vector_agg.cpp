// vector_agg.cpp implements avg(vector): a float8[] state {n, sum_1..sum_d}
// accumulated in double, combinable for parallel aggregation (pgvector 0.8).
// sum(vector) needs no code of its own: it folds with vector_add.
#include <cmath>

#include "types/dense_io.h"
#include "types/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"
}

// VECTOR_STATE_DIMS is the vector dimension count an accumulator state holds.
#define VECTOR_STATE_DIMS(a) (ARR_DIMS(a)[0] - 1)

// VectorCheckState validates an accumulator state array and returns its values.
static float8 *
VectorCheckState(ArrayType *state, const char *caller)
{
	if (ARR_NDIM(state) != 1 ||
		ARR_DIMS(state)[0] < 1 ||
		ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("%s: expected state array", caller)));
	return (float8 *) ARR_DATA_PTR(state);
}

// VectorMakeState builds a state array from dim + 1 datums and frees them.
static ArrayType *
VectorMakeState(Datum *datums, int dim)
{
	ArrayType  *result = construct_array(datums, dim + 1, FLOAT8OID, sizeof(float8),
										 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);

	pfree(datums);
	return result;
}

// vector_accum adds one vector to the state; the first fixes the dimension count.
VECDB_FUNCTION(vector_accum)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *val = PG_GETARG_VECTOR_P(1);
	float8	   *values = VectorCheckState(state, "vector_accum");
	int			dim = VECTOR_STATE_DIMS(state);
	bool		first = dim == 0;
	Datum	   *datums;

	if (first)
		dim = val->dim;
	else
		DenseCheckExpectedDim(dim, val->dim);

	datums = (Datum *) palloc(sizeof(Datum) * (dim + 1));
	datums[0] = Float8GetDatum(values[0] + 1.0);
	for (int i = 0; i < dim; i++)
	{
		double		v = first ? (double) val->x[i] : values[i + 1] + val->x[i];

		if (std::isinf(v))
			float_overflow_error();
		datums[i + 1] = Float8GetDatum(v);
	}
	PG_RETURN_ARRAYTYPE_P(VectorMakeState(datums, dim));
}

// vector_combine merges two partial states (parallel aggregation).
VECDB_FUNCTION(vector_combine)
{
	ArrayType  *state1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *state2 = PG_GETARG_ARRAYTYPE_P(1);
	float8	   *values1 = VectorCheckState(state1, "vector_combine");
	float8	   *values2 = VectorCheckState(state2, "vector_combine");
	float8		n1 = values1[0];
	float8		n2 = values2[0];
	int			dim;
	Datum	   *datums;

	if (n1 == 0.0 || n2 == 0.0)
	{
		/* one side is empty: copy the other */
		ArrayType  *from = n1 == 0.0 ? state2 : state1;
		float8	   *values = n1 == 0.0 ? values2 : values1;

		dim = VECTOR_STATE_DIMS(from);
		datums = (Datum *) palloc(sizeof(Datum) * (dim + 1));
		for (int i = 1; i <= dim; i++)
			datums[i] = Float8GetDatum(values[i]);
	}
	else
	{
		dim = VECTOR_STATE_DIMS(state1);
		DenseCheckExpectedDim(dim, VECTOR_STATE_DIMS(state2));
		datums = (Datum *) palloc(sizeof(Datum) * (dim + 1));
		for (int i = 1; i <= dim; i++)
		{
			double		v = values1[i] + values2[i];

			if (std::isinf(v))
				float_overflow_error();
			datums[i] = Float8GetDatum(v);
		}
	}
	datums[0] = Float8GetDatum(n1 + n2);
	PG_RETURN_ARRAYTYPE_P(VectorMakeState(datums, dim));
}

// vector_avg turns the state into the mean vector; no input rows give NULL.
VECDB_FUNCTION(vector_avg)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	float8	   *values = VectorCheckState(state, "vector_avg");
	float8		n = values[0];
	int			dim;
	Vector	   *result;

	if (n == 0.0)
		PG_RETURN_NULL();

	dim = VECTOR_STATE_DIMS(state);
	DenseCheckDim(dim, VECTOR_MAX_DIM, "vector");
	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (float) (values[i + 1] / n);
		DenseCheckElement(result->x[i], "vector");
	}
	PG_RETURN_VECTOR_P(result);
}
