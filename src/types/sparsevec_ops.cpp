// sparsevec_ops.cpp implements sparsevec's distance functions, norms,
// comparisons (the btree order of pgvector's sparsevec_cmp) and its casts to
// and from vector and arrays. Distances use the engine's sparse kernels.
#include <cmath>

#include "knowhere/distance.hpp"
#include "types/dense_io.h"
#include "types/halfvec.h"
#include "types/sparsevec.h"
#include "types/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

namespace knowhere = vecdb::knowhere;

namespace {

// CheckDims rejects a pair of sparse vectors with different dimension counts.
void
CheckDims(const SparseVector *a, const SparseVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different sparsevec dimensions %d and %d", a->dim, b->dim)));
}

// L2Squared returns the squared Euclidean distance in float, as pgvector sums.
float
L2Squared(const SparseVector *a, const SparseVector *b)
{
	return knowhere::SparseL2SqrF32(a->indices, SPARSEVEC_VALUES(a), (size_t) a->nnz,
								  b->indices, SPARSEVEC_VALUES(b), (size_t) b->nnz);
}

// InnerProduct returns the dot product in float, as pgvector sums.
float
InnerProduct(const SparseVector *a, const SparseVector *b)
{
	return knowhere::SparseInnerProductF32(a->indices, SPARSEVEC_VALUES(a), (size_t) a->nnz,
										 b->indices, SPARSEVEC_VALUES(b), (size_t) b->nnz);
}

// CompareSparse orders sparse vectors as their dense expansions compare
// element by element, a shorter prefix first (pgvector's sparsevec_cmp);
// values are compared before dimensions, like PostgreSQL arrays.
int
CompareSparse(const SparseVector *a, const SparseVector *b)
{
	const float *ax = SPARSEVEC_VALUES(a);
	const float *bx = SPARSEVEC_VALUES(b);
	int			nnz = Min(a->nnz, b->nnz);

	for (int i = 0; i < nnz; i++)
	{
		/* at the smaller index one side holds a value and the other a zero */
		if (a->indices[i] < b->indices[i])
			return ax[i] < 0 ? -1 : 1;
		if (a->indices[i] > b->indices[i])
			return bx[i] < 0 ? 1 : -1;
		if (ax[i] < bx[i])
			return -1;
		if (ax[i] > bx[i])
			return 1;
	}
	if (a->nnz < b->nnz && b->indices[nnz] < a->dim)
		return bx[nnz] < 0 ? 1 : -1;
	if (a->nnz > b->nnz && a->indices[nnz] < b->dim)
		return ax[nnz] < 0 ? -1 : 1;
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

// CompareArgs detoasts the two arguments, compares them and frees the copies.
int
CompareArgs(FunctionCallInfo fcinfo)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);
	int			cmp = CompareSparse(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return cmp;
}

// ArrayElementToFloat converts one array element of a supported type to float4.
float
ArrayElementToFloat(Oid elemtype, Datum d)
{
	switch (elemtype)
	{
		case INT4OID:
			return (float) DatumGetInt32(d);
		case FLOAT8OID:
			return (float) DatumGetFloat8(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		default:
			return DatumGetFloat4(DirectFunctionCall1(numeric_float4, d));
	}
}

}  // namespace

// sparsevec_l2_distance returns the Euclidean distance: l2_distance(sparsevec, sparsevec), <->.
VECDB_FUNCTION(sparsevec_l2_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	CheckDims(a, b);
	PG_RETURN_FLOAT8(std::sqrt((double) L2Squared(a, b)));
}

// sparsevec_l2_squared_distance returns the squared Euclidean distance.
VECDB_FUNCTION(sparsevec_l2_squared_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	CheckDims(a, b);
	PG_RETURN_FLOAT8((double) L2Squared(a, b));
}

// sparsevec_inner_product returns the dot product: inner_product(sparsevec, sparsevec).
VECDB_FUNCTION(sparsevec_inner_product)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	CheckDims(a, b);
	PG_RETURN_FLOAT8((double) InnerProduct(a, b));
}

// sparsevec_negative_inner_product returns minus the dot product, the <#> operator.
VECDB_FUNCTION(sparsevec_negative_inner_product)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	CheckDims(a, b);
	PG_RETURN_FLOAT8((double) -InnerProduct(a, b));
}

// sparsevec_cosine_distance returns 1 - cos(a, b), NaN when a norm is zero: <=>.
VECDB_FUNCTION(sparsevec_cosine_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	CheckDims(a, b);
	PG_RETURN_FLOAT8(knowhere::SparseCosineDistanceF32(a->indices, SPARSEVEC_VALUES(a), (size_t) a->nnz,
													 b->indices, SPARSEVEC_VALUES(b), (size_t) b->nnz));
}

// sparsevec_l1_distance returns the taxicab distance: l1_distance(sparsevec, sparsevec), <+>.
VECDB_FUNCTION(sparsevec_l1_distance)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	CheckDims(a, b);
	PG_RETURN_FLOAT8((double) knowhere::SparseL1F32(a->indices, SPARSEVEC_VALUES(a), (size_t) a->nnz,
												  b->indices, SPARSEVEC_VALUES(b), (size_t) b->nnz));
}

// sparsevec_l2_norm returns the Euclidean norm, summed in double: l2_norm(sparsevec).
VECDB_FUNCTION(sparsevec_l2_norm)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	const float *ax = SPARSEVEC_VALUES(a);
	double		norm = 0.0;

	for (int i = 0; i < a->nnz; i++)
		norm += (double) ax[i] * (double) ax[i];
	PG_RETURN_FLOAT8(std::sqrt(norm));
}

// sparsevec_l2_normalize scales to unit norm; a zero vector stays zero, and
// elements that underflow to zero are dropped: l2_normalize(sparsevec).
VECDB_FUNCTION(sparsevec_l2_normalize)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	const float *ax = SPARSEVEC_VALUES(a);
	double		norm = 0.0;
	int			nnz = 0;
	SparseVector *result;
	float	   *rx;

	for (int i = 0; i < a->nnz; i++)
		norm += (double) ax[i] * (double) ax[i];
	norm = std::sqrt(norm);
	if (norm == 0)
		PG_RETURN_SPARSEVEC_P(InitSparseVector(a->dim, 0));

	for (int i = 0; i < a->nnz; i++)
	{
		float		v = (float) (ax[i] / norm);

		if (std::isinf(v))
			float_overflow_error();
		if (v != 0)
			nnz++;
	}
	result = InitSparseVector(a->dim, nnz);
	rx = SPARSEVEC_VALUES(result);
	for (int i = 0, j = 0; i < a->nnz; i++)
	{
		float		v = (float) (ax[i] / norm);

		if (v == 0)
			continue;
		result->indices[j] = a->indices[i];
		rx[j] = v;
		j++;
	}
	PG_RETURN_SPARSEVEC_P(result);
}

// sparsevec_lt implements <.
VECDB_FUNCTION(sparsevec_lt)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) < 0);
}

// sparsevec_le implements <=.
VECDB_FUNCTION(sparsevec_le)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) <= 0);
}

// sparsevec_eq implements =.
VECDB_FUNCTION(sparsevec_eq)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) == 0);
}

// sparsevec_ne implements <>.
VECDB_FUNCTION(sparsevec_ne)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) != 0);
}

// sparsevec_ge implements >=.
VECDB_FUNCTION(sparsevec_ge)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) >= 0);
}

// sparsevec_gt implements >.
VECDB_FUNCTION(sparsevec_gt)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) > 0);
}

// sparsevec_cmp is the btree support function of sparsevec_ops.
VECDB_FUNCTION(sparsevec_cmp)
{
	PG_RETURN_INT32(CompareArgs(fcinfo));
}

// DenseToSparse checks dim and typmod and builds a sparsevec from the
// non-zero elements that load(i) returns for i < dim.
template <typename Load>
static SparseVector *
DenseToSparse(int dim, int32 typmod, Load load)
{
	int			nnz = 0;
	SparseVector *result;
	float	   *values;

	SparseCheckDim(dim);
	DenseCheckExpectedDim(typmod, dim);
	for (int i = 0; i < dim; i++)
		if (load(i) != 0)
			nnz++;

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0, j = 0; i < dim; i++)
	{
		float		v = load(i);

		if (v == 0)
			continue;
		result->indices[j] = i;
		values[j] = v;
		j++;
	}
	return result;
}

// vector_to_sparsevec casts vector to sparsevec, keeping the non-zero elements.
VECDB_FUNCTION(vector_to_sparsevec)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);

	PG_RETURN_SPARSEVEC_P(DenseToSparse(vec->dim, PG_GETARG_INT32(1), [vec](int i) { return vec->x[i]; }));
}

// sparsevec_to_vector casts sparsevec to vector, which holds at most
// VECTOR_MAX_DIM dimensions.
VECDB_FUNCTION(sparsevec_to_vector)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	const float *values = SPARSEVEC_VALUES(svec);
	Vector	   *result;

	DenseCheckDim(svec->dim, VECTOR_MAX_DIM, "vector");
	DenseCheckExpectedDim(typmod, svec->dim);
	result = InitVector(svec->dim);
	for (int i = 0; i < svec->nnz; i++)
		result->x[svec->indices[i]] = values[i];
	PG_RETURN_VECTOR_P(result);
}

// array_to_sparsevec casts a 1-D integer, real, double precision or numeric
// array to sparsevec, keeping the elements that are non-zero as float4.
VECDB_FUNCTION(array_to_sparsevec)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	int			nelems;
	int			nnz = 0;
	SparseVector *result;
	float	   *values;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));
	if (elemtype != INT4OID && elemtype != FLOAT8OID && elemtype != FLOAT4OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("unsupported array type")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, NULL, &nelems);
	SparseCheckDim(nelems);
	DenseCheckExpectedDim(typmod, nelems);

	for (int i = 0; i < nelems; i++)
		if (ArrayElementToFloat(elemtype, elems[i]) != 0)
			nnz++;
	SparseCheckNnz(nnz, nelems);

	result = InitSparseVector(nelems, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0, j = 0; i < nelems; i++)
	{
		float		v = ArrayElementToFloat(elemtype, elems[i]);

		if (v == 0)
			continue;
		result->indices[j] = i;
		values[j] = v;
		j++;
	}
	for (int i = 0; i < nnz; i++)
		DenseCheckElement(values[i], "sparsevec");
	PG_RETURN_SPARSEVEC_P(result);
}

// halfvec_to_sparsevec casts halfvec to sparsevec, keeping the non-zero elements.
VECDB_FUNCTION(halfvec_to_sparsevec)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_SPARSEVEC_P(DenseToSparse(vec->dim, PG_GETARG_INT32(1),
										[vec](int i) { return vecdb::knowhere::HalfToFloat(vec->x[i]); }));
}

// sparsevec_to_halfvec casts sparsevec to halfvec, rounding each value to
// binary16 (out-of-range values are errors); at most HALFVEC_MAX_DIM dimensions.
VECDB_FUNCTION(sparsevec_to_halfvec)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	const float *values = SPARSEVEC_VALUES(svec);
	HalfVector *result;

	DenseCheckDim(svec->dim, HALFVEC_MAX_DIM, "halfvec");
	DenseCheckExpectedDim(typmod, svec->dim);
	result = InitHalfVector(svec->dim);
	for (int i = 0; i < svec->nnz; i++)
		result->x[svec->indices[i]] = FloatToHalfChecked(values[i]);
	PG_RETURN_HALFVEC_P(result);
}
