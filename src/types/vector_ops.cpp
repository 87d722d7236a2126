// vector_ops.cpp implements the vector type's arithmetic surface: distances
// (through the engine kernels), norms, normalization, subvector, binary
// quantization, element-wise + - * and || concatenation, as pgvector 0.8.
#include <cmath>

#include "knowhere/distance.hpp"
#include "types/dense_io.h"
#include "types/vector.h"

extern "C" {
#include "utils/float.h"
#include "utils/varbit.h"
}

using vecdb::engine::CosineDistanceF32;
using vecdb::engine::InnerProductF32;
using vecdb::engine::L1F32;
using vecdb::engine::L2SqrF32;

// l2_distance returns the Euclidean distance, sqrt of the float sum (pgvector).
VECDB_FUNCTION(l2_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8(std::sqrt((double) L2SqrF32(a->x, b->x, a->dim)));
}

// vector_l2_squared_distance returns the squared Euclidean distance (index support).
VECDB_FUNCTION(vector_l2_squared_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) L2SqrF32(a->x, b->x, a->dim));
}

// inner_product returns the dot product.
VECDB_FUNCTION(inner_product)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) InnerProductF32(a->x, b->x, a->dim));
}

// vector_negative_inner_product returns minus the dot product (operator <#>).
VECDB_FUNCTION(vector_negative_inner_product)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) -InnerProductF32(a->x, b->x, a->dim));
}

// cosine_distance returns 1 - cos(a, b), NaN when either vector is zero.
VECDB_FUNCTION(cosine_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8(CosineDistanceF32(a->x, b->x, a->dim));
}

// vector_spherical_distance returns acos(a . b) / pi for unit vectors (index support).
VECDB_FUNCTION(vector_spherical_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	double		dot;

	VectorCheckSameDims(a, b);
	dot = (double) InnerProductF32(a->x, b->x, a->dim);
	/* rounding can push the dot product of unit vectors past +-1 */
	if (dot > 1)
		dot = 1;
	else if (dot < -1)
		dot = -1;
	PG_RETURN_FLOAT8(std::acos(dot) / M_PI);
}

// l1_distance returns the taxicab distance.
VECDB_FUNCTION(l1_distance)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) L1F32(a->x, b->x, a->dim));
}

// vector_dims returns the number of dimensions.
VECDB_FUNCTION(vector_dims)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

// VectorNormDouble returns the Euclidean norm accumulated in double (pgvector).
static double
VectorNormDouble(const Vector *a)
{
	double		norm = 0.0;

	for (int i = 0; i < a->dim; i++)
		norm += (double) a->x[i] * (double) a->x[i];
	return std::sqrt(norm);
}

// vector_norm returns the Euclidean norm (also SQL l2_norm(vector)).
VECDB_FUNCTION(vector_norm)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(VectorNormDouble(a));
}

// l2_normalize scales a vector to unit norm; a zero vector stays zero.
VECDB_FUNCTION(l2_normalize)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	double		norm = VectorNormDouble(a);
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

// binary_quantize returns a bit string with 1 where an element is positive.
VECDB_FUNCTION(binary_quantize)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int			size = VARBITTOTALLEN(a->dim);
	VarBit	   *result = (VarBit *) palloc0(size);
	bits8	   *rx;

	SET_VARSIZE(result, size);
	VARBITLEN(result) = a->dim;
	rx = VARBITS(result);
	for (int i = 0; i < a->dim; i++)
		rx[i / 8] |= (a->x[i] > 0) << (7 - (i % 8));
	PG_RETURN_VARBIT_P(result);
}

// subvector returns count elements from 1-based position start, clipped to
// the vector as substring clips, erroring when nothing is left.
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

	/* start + count > dim, written so that it cannot overflow (dim, count > 0) */
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

// vector_add adds element-wise; an infinite sum is an overflow error.
VECDB_FUNCTION(vector_add)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckSameDims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	for (int i = 0; i < a->dim; i++)
	{
		if (std::isinf(result->x[i]))
			float_overflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

// vector_sub subtracts element-wise; an infinite difference is an overflow error.
VECDB_FUNCTION(vector_sub)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckSameDims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	for (int i = 0; i < a->dim; i++)
	{
		if (std::isinf(result->x[i]))
			float_overflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

// vector_mul multiplies element-wise, rejecting overflow and underflow (a zero
// product of non-zero factors).
VECDB_FUNCTION(vector_mul)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckSameDims(a, b);
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

// vector_concat appends b to a (operator ||).
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
