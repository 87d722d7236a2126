// halfvec_ops.cpp implements halfvec's SQL functions and operators: distances
// (through the engine's float16 kernels), norms, element-wise arithmetic,
// concatenation, btree comparison and the avg/sum aggregate support.
#include <cmath>

#include "knowhere/distance.hpp"
#include "types/agg_state.h"
#include "types/dense_io.h"
#include "types/halfvec.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/varbit.h"
}

using vecdb::knowhere::FloatToHalf;
using vecdb::knowhere::HalfToFloat;

// halfvec_l2_distance returns the Euclidean distance.
VECDB_FUNCTION(halfvec_l2_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	HalfvecCheckDims(a, b);
	PG_RETURN_FLOAT8(sqrt((double) vecdb::knowhere::L2SqrF16(a->x, b->x, a->dim)));
}

// halfvec_l2_squared_distance returns the squared Euclidean distance.
VECDB_FUNCTION(halfvec_l2_squared_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	HalfvecCheckDims(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::L2SqrF16(a->x, b->x, a->dim));
}

// halfvec_inner_product returns the inner product.
VECDB_FUNCTION(halfvec_inner_product)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	HalfvecCheckDims(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::InnerProductF16(a->x, b->x, a->dim));
}

// halfvec_negative_inner_product returns the negated inner product (operator <#>).
VECDB_FUNCTION(halfvec_negative_inner_product)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	HalfvecCheckDims(a, b);
	PG_RETURN_FLOAT8((double) -vecdb::knowhere::InnerProductF16(a->x, b->x, a->dim));
}

// halfvec_cosine_distance returns 1 - cosine similarity, NaN for a zero vector.
VECDB_FUNCTION(halfvec_cosine_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	HalfvecCheckDims(a, b);
	PG_RETURN_FLOAT8(vecdb::knowhere::CosineDistanceF16(a->x, b->x, a->dim));
}

// halfvec_spherical_distance returns acos(inner product) / pi for unit vectors.
VECDB_FUNCTION(halfvec_spherical_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	double		dp;

	HalfvecCheckDims(a, b);
	dp = (double) vecdb::knowhere::InnerProductF16(a->x, b->x, a->dim);
	/* rounding can push the product of unit vectors past +-1, where acos is NaN */
	if (dp > 1)
		dp = 1;
	else if (dp < -1)
		dp = -1;
	PG_RETURN_FLOAT8(acos(dp) / M_PI);
}

// halfvec_l1_distance returns the taxicab distance.
VECDB_FUNCTION(halfvec_l1_distance)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	HalfvecCheckDims(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::L1F16(a->x, b->x, a->dim));
}

// halfvec_vector_dims returns the number of dimensions.
VECDB_FUNCTION(halfvec_vector_dims)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_INT32(a->dim);
}

// HalfvecNorm returns the Euclidean norm, summed in double as pgvector does.
static double
HalfvecNorm(const HalfVector *a)
{
	double		norm = 0.0;

	for (int i = 0; i < a->dim; i++)
	{
		double		v = (double) HalfToFloat(a->x[i]);

		norm += v * v;
	}
	return sqrt(norm);
}

// halfvec_l2_norm returns the Euclidean norm.
VECDB_FUNCTION(halfvec_l2_norm)
{
	PG_RETURN_FLOAT8(HalfvecNorm(PG_GETARG_HALFVEC_P(0)));
}

// halfvec_l2_normalize scales to unit length; a zero vector stays zero.
VECDB_FUNCTION(halfvec_l2_normalize)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	double		norm = HalfvecNorm(a);
	HalfVector *result = InitHalfVector(a->dim);

	if (norm > 0)
	{
		for (int i = 0; i < a->dim; i++)
			result->x[i] = FloatToHalf((float) (HalfToFloat(a->x[i]) / norm));
		for (int i = 0; i < a->dim; i++)
		{
			if (HalfIsInf(result->x[i]))
				float_overflow_error();
		}
	}
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_binary_quantize returns a bit string with a 1 for each positive element.
VECDB_FUNCTION(halfvec_binary_quantize)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	VarBit	   *result = (VarBit *) palloc0(VARBITTOTALLEN(a->dim));
	bits8	   *rx = VARBITS(result);

	SET_VARSIZE(result, VARBITTOTALLEN(a->dim));
	VARBITLEN(result) = a->dim;
	for (int i = 0; i < a->dim; i++)
		rx[i / 8] |= (HalfToFloat(a->x[i]) > 0) << (7 - (i % 8));
	PG_RETURN_VARBIT_P(result);
}

// halfvec_subvector returns count elements from 1-based start, clipped like substring.
VECDB_FUNCTION(halfvec_subvector)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	int32		start = PG_GETARG_INT32(1);
	int32		count = PG_GETARG_INT32(2);
	int32		end;
	int			dim;
	HalfVector *result;

	if (count < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("halfvec must have at least 1 dimension")));

	/* start + count > dim, written so it cannot overflow: dim and count are positive */
	if (start > a->dim - count)
		end = a->dim + 1;
	else
		end = start + count;

	if (start < 1)
		start = 1;
	else if (start > a->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("halfvec must have at least 1 dimension")));

	dim = end - start;
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("halfvec must have at least 1 dimension")));

	result = InitHalfVector(dim);
	memcpy(result->x, a->x + (start - 1), sizeof(half) * dim);
	PG_RETURN_HALFVEC_P(result);
}

// HalfvecCheckOverflow raises 22003 when an element-wise result overflowed.
static void
HalfvecCheckOverflow(const HalfVector *r)
{
	for (int i = 0; i < r->dim; i++)
	{
		if (HalfIsInf(r->x[i]))
			float_overflow_error();
	}
}

// halfvec_add adds element-wise.
VECDB_FUNCTION(halfvec_add)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	HalfvecCheckDims(a, b);
	result = InitHalfVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = FloatToHalf(HalfToFloat(a->x[i]) + HalfToFloat(b->x[i]));
	HalfvecCheckOverflow(result);
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_sub subtracts element-wise.
VECDB_FUNCTION(halfvec_sub)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	HalfvecCheckDims(a, b);
	result = InitHalfVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = FloatToHalf(HalfToFloat(a->x[i]) - HalfToFloat(b->x[i]));
	HalfvecCheckOverflow(result);
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_mul multiplies element-wise, rejecting overflow and underflow to zero.
VECDB_FUNCTION(halfvec_mul)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	HalfvecCheckDims(a, b);
	result = InitHalfVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = FloatToHalf(HalfToFloat(a->x[i]) * HalfToFloat(b->x[i]));
	for (int i = 0; i < a->dim; i++)
	{
		if (HalfIsInf(result->x[i]))
			float_overflow_error();
		if (HalfIsZero(result->x[i]) && !(HalfIsZero(a->x[i]) || HalfIsZero(b->x[i])))
			float_underflow_error();
	}
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_concat appends b's elements to a's.
VECDB_FUNCTION(halfvec_concat)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	int			dim = a->dim + b->dim;
	HalfVector *result;

	if (dim > HALFVEC_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("halfvec cannot have more than %d dimensions", HALFVEC_MAX_DIM)));
	result = InitHalfVector(dim);
	memcpy(result->x, a->x, sizeof(half) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(half) * b->dim);
	PG_RETURN_HALFVEC_P(result);
}

// HalfvecCmp orders by element values first, then by dimension count, as
// PostgreSQL orders arrays; -0 equals 0.
static int
HalfvecCmp(const HalfVector *a, const HalfVector *b)
{
	int			dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++)
	{
		float		av = HalfToFloat(a->x[i]);
		float		bv = HalfToFloat(b->x[i]);

		if (av < bv)
			return -1;
		if (av > bv)
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

// HALFVEC_COMPARE_FUNCTION defines a boolean comparison from HalfvecCmp.
#define HALFVEC_COMPARE_FUNCTION(name, op)                                    \
	VECDB_FUNCTION(name)                                                      \
	{                                                                         \
		HalfVector *a = PG_GETARG_HALFVEC_P(0);                               \
		HalfVector *b = PG_GETARG_HALFVEC_P(1);                               \
		PG_RETURN_BOOL(HalfvecCmp(a, b) op 0);                                \
	}

HALFVEC_COMPARE_FUNCTION(halfvec_lt, <)
HALFVEC_COMPARE_FUNCTION(halfvec_le, <=)
HALFVEC_COMPARE_FUNCTION(halfvec_eq, ==)
HALFVEC_COMPARE_FUNCTION(halfvec_ne, !=)
HALFVEC_COMPARE_FUNCTION(halfvec_ge, >=)
HALFVEC_COMPARE_FUNCTION(halfvec_gt, >)

// halfvec_cmp is the btree support function: -1, 0 or 1.
VECDB_FUNCTION(halfvec_cmp)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	PG_RETURN_INT32(HalfvecCmp(a, b));
}

// halfvec_accum adds one halfvec to the avg state.
VECDB_FUNCTION(halfvec_accum)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	HalfVector *val = PG_GETARG_HALFVEC_P(1);
	float	   *x = (float *) palloc(sizeof(float) * val->dim);
	ArrayType  *result;

	for (int i = 0; i < val->dim; i++)
		x[i] = HalfToFloat(val->x[i]);
	result = AggStateAccum(state, x, val->dim, "halfvec_accum");
	pfree(x);
	PG_RETURN_ARRAYTYPE_P(result);
}

// halfvec_combine merges two avg states (the same state as vector's).
VECDB_FUNCTION(halfvec_combine)
{
	PG_RETURN_ARRAYTYPE_P(AggStateCombine(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1),
										  "halfvec_combine", HALFVEC_MAX_DIM, "halfvec"));
}

// halfvec_avg turns the avg state into the mean halfvec; NULL for no rows.
VECDB_FUNCTION(halfvec_avg)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	float8	   *sv = AggStateValues(state, "halfvec_avg");
	float8		n = sv[0];
	int			dim = AGG_STATE_DIMS(state);
	HalfVector *result;

	if (n == 0.0)
		PG_RETURN_NULL();
	DenseCheckDim(dim, HALFVEC_MAX_DIM, "halfvec");

	result = InitHalfVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = FloatToHalfChecked((float) (sv[i + 1] / n));
		HalfvecCheckElement(result->x[i]);
	}
	PG_RETURN_HALFVEC_P(result);
}
