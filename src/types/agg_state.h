// agg_state.h declares the avg() transition state that vector and halfvec
// share: a float8 array {n, sum_1, ..., sum_dim}, {0} before the first row
// (pgvector's layout, so states are interchangeable).
#pragma once

#include "vecdb_postgres.h"

extern "C" {
#include "utils/array.h"
}

// AggStateDims returns the number of dimensions a state holds (0 when empty).
#define AGG_STATE_DIMS(a)	(ARR_DIMS(a)[0] - 1)

// AggStateValues validates a state array and returns its float8 values;
// caller names the SQL function in the error.
float8	   *AggStateValues(ArrayType *state, const char *caller);

// AggStateAccum returns state plus one row of dim float values.
ArrayType  *AggStateAccum(ArrayType *state, const float *x, int dim, const char *caller);

// AggStateCombine returns the sum of two states (parallel aggregation) of a
// type of at most max_dim dimensions.
ArrayType  *AggStateCombine(ArrayType *s1, ArrayType *s2, const char *caller, int max_dim, const char *type_name);
