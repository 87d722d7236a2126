// vector_agg.cpp implements the support functions of avg(vector); sum(vector)
// is vector_add (pgvector's definition).
#include "types/agg_state.h"
#include "types/dense_io.h"
#include "types/vector.h"

// vector_accum adds one vector to the avg state.
VECDB_FUNCTION(vector_accum)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *val = PG_GETARG_VECTOR_P(1);

	PG_RETURN_ARRAYTYPE_P(AggStateAccum(state, val->x, val->dim, "vector_accum"));
}

// vector_combine merges two avg states (parallel aggregation).
VECDB_FUNCTION(vector_combine)
{
	PG_RETURN_ARRAYTYPE_P(AggStateCombine(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1),
										  "vector_combine", VECTOR_MAX_DIM, "vector"));
}

// vector_avg turns the avg state into the mean vector; NULL for no rows.
VECDB_FUNCTION(vector_avg)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	float8	   *sv = AggStateValues(state, "vector_avg");
	float8		n = sv[0];
	int			dim = AGG_STATE_DIMS(state);
	Vector	   *result;

	if (n == 0.0)
		PG_RETURN_NULL();
	DenseCheckDim(dim, VECTOR_MAX_DIM, "vector");

	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (float) (sv[i + 1] / n);
		DenseCheckElement(result->x[i], "vector");
	}
	PG_RETURN_VECTOR_P(result);
}
