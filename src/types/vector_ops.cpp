// vector_ops.cpp implements vector's SQL functions and operators: distances
// (through the engine's float32 kernels), norms, element-wise arithmetic,
// concatenation, quantization and btree comparison, with pgvector's semantics.
#include <cmath>

#include "knowhere/distance.hpp"
#include "types/dense_io.h"
#include "types/vector.h"

extern "C" {
#include "utils/float.h"
#include "utils/varbit.h"
}

// VectorCheckDims rejects two vectors of different dimension counts.
static inline void
VectorCheckDims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
}

// l2_distance returns the Euclidean distance.
VECDB_FUNCTION(l2_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckDims(a, b);
	PG_RETURN_FLOAT8(sqrt((double) vecdb::knowhere::L2SqrF32(a->x, b->x, a->dim)));
}

// vector_l2_squared_distance returns the squared Euclidean distance.
VECDB_FUNCTION(vector_l2_squared_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckDims(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::L2SqrF32(a->x, b->x, a->dim));
}

// inner_product returns the inner product.
VECDB_FUNCTION(inner_product)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckDims(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::InnerProductF32(a->x, b->x, a->dim));
}

// vector_negative_inner_product returns the negated inner product (operator <#>).
VECDB_FUNCTION(vector_negative_inner_product)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckDims(a, b);
	PG_RETURN_FLOAT8((double) -vecdb::knowhere::InnerProductF32(a->x, b->x, a->dim));
}

// cosine_distance returns 1 - cosine similarity, NaN for a zero vector.
VECDB_FUNCTION(cosine_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckDims(a, b);
	PG_RETURN_FLOAT8(vecdb::knowhere::CosineDistanceF32(a->x, b->x, a->dim));
}

// vector_spherical_distance returns acos(inner product) / pi for unit vectors.
VECDB_FUNCTION(vector_spherical_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	double		dp;

	VectorCheckDims(a, b);
	dp = (double) vecdb::knowhere::InnerProductF32(a->x, b->x, a->dim);
	/* rounding can push the product of unit vectors past +-1, where acos is NaN */
	if (dp > 1)
		dp = 1;
	else if (dp < -1)
		dp = -1;
	PG_RETURN_FLOAT8(acos(dp) / M_PI);
}

// l1_distance returns the taxicab distance.
VECDB_FUNCTION(l1_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckDims(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::L1F32(a->x, b->x, a->dim));
}

// vector_dims returns the number of dimensions.
VECDB_FUNCTION(vector_dims)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

// VectorNorm returns the Euclidean norm, summed in double as pgvector does.
static double
VectorNorm(const Vector *a)
{
	double		norm = 0.0;

	for (int i = 0; i < a->dim; i++)
		norm += (double) a->x[i] * (double) a->x[i];
	return sqrt(norm);
}

// vector_norm returns the Euclidean norm (also SQL l2_norm(vector)).
VECDB_FUNCTION(vector_norm)
{
	PG_RETURN_FLOAT8(VectorNorm(PG_GETARG_VECTOR_P(0)));
}

// l2_normalize scales to unit length; a zero vector stays zero.
VECDB_FUNCTION(l2_normalize)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	double		norm = VectorNorm(a);
	Vector	   *result = InitVector(a->dim);

	if (norm > 0)
	{
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float) (a->x[i] / norm);
		for (int i = 0; i < a->dim; i++)
		{
			if (std::isinf(result->x[i]))
				float_overflow_error();
		}
	}
	PG_RETURN_VECTOR_P(result);
}

// binary_quantize returns a bit string with a 1 for each positive element.
VECDB_FUNCTION(binary_quantize)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	VarBit	   *result = (VarBit *) palloc0(VARBITTOTALLEN(a->dim));
	bits8	   *rx = VARBITS(result);

	SET_VARSIZE(result, VARBITTOTALLEN(a->dim));
	VARBITLEN(result) = a->dim;
	for (int i = 0; i < a->dim; i++)
		rx[i / 8] |= (a->x[i] > 0) << (7 - (i % 8));
	PG_RETURN_VARBIT_P(result);
}

// subvector returns count elements from 1-based start, clipped like substring.
VECDB_FUNCTION(subvector)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int32		start = PG_GETARG_INT32(1);
	int32		count = PG_GETARG_INT32(2);
	int32		end;
	int			dim;
	Vector	   *result;

	if (count < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));

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
				 errmsg("vector must have at least 1 dimension")));

	dim = end - start;
	DenseCheckDim(dim, VECTOR_MAX_DIM, "vector");
	result = InitVector(dim);
	memcpy(result->x, a->x + (start - 1), sizeof(float) * dim);
	PG_RETURN_VECTOR_P(result);
}

// VectorCheckOverflow raises 22003 when an element-wise result overflowed.
static void
VectorCheckOverflow(const Vector *r)
{
	for (int i = 0; i < r->dim; i++)
	{
		if (std::isinf(r->x[i]))
			float_overflow_error();
	}
}

// vector_add adds element-wise.
VECDB_FUNCTION(vector_add)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckDims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	VectorCheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

// vector_sub subtracts element-wise.
VECDB_FUNCTION(vector_sub)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckDims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	VectorCheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

// vector_mul multiplies element-wise, rejecting overflow and underflow to zero.
VECDB_FUNCTION(vector_mul)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckDims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] * b->x[i];
	for (int i = 0; i < a->dim; i++)
	{
		if (std::isinf(result->x[i]))
			float_overflow_error();
		if (result->x[i] == 0 && !(a->x[i] == 0 || b->x[i] == 0))
			float_underflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

// vector_concat appends b's elements to a's.
VECDB_FUNCTION(vector_concat)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	int			dim = a->dim + b->dim;
	Vector	   *result;

	DenseCheckDim(dim, VECTOR_MAX_DIM, "vector");
	result = InitVector(dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

// VectorCmp orders by element values first, then by dimension count; -0 equals 0.
static int
VectorCmp(const Vector *a, const Vector *b)
{
	int			dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

// VECTOR_COMPARE_FUNCTION defines a boolean comparison from VectorCmp.
#define VECTOR_COMPARE_FUNCTION(name, op)                                     \
	VECDB_FUNCTION(name)                                                      \
	{                                                                         \
		Vector	   *a = PG_GETARG_VECTOR_P(0);                                \
		Vector	   *b = PG_GETARG_VECTOR_P(1);                                \
		PG_RETURN_BOOL(VectorCmp(a, b) op 0);                                 \
	}

VECTOR_COMPARE_FUNCTION(vector_lt, <)
VECTOR_COMPARE_FUNCTION(vector_le, <=)
VECTOR_COMPARE_FUNCTION(vector_eq, ==)
VECTOR_COMPARE_FUNCTION(vector_ne, !=)
VECTOR_COMPARE_FUNCTION(vector_ge, >=)
VECTOR_COMPARE_FUNCTION(vector_gt, >)

// vector_cmp is the btree support function: -1, 0 or 1.
VECDB_FUNCTION(vector_cmp)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	PG_RETURN_INT32(VectorCmp(a, b));
}
