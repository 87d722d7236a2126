// vector_cmp.cpp implements vector comparison: the six operators and the
// btree support function, ordering as pgvector's vector_cmp does.
#include "types/vector.h"

// VectorCmp orders vectors element by element, then by dimension count, as
// PostgreSQL orders arrays; -0 equals 0.
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

// VectorCmpArgs compares the two vector arguments of a comparison function.
static int
VectorCmpArgs(FunctionCallInfo fcinfo)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	return VectorCmp(a, b);
}

// vector_lt implements operator <.
VECDB_FUNCTION(vector_lt)
{
	PG_RETURN_BOOL(VectorCmpArgs(fcinfo) < 0);
}

// vector_le implements operator <=.
VECDB_FUNCTION(vector_le)
{
	PG_RETURN_BOOL(VectorCmpArgs(fcinfo) <= 0);
}

// vector_eq implements operator =.
VECDB_FUNCTION(vector_eq)
{
	PG_RETURN_BOOL(VectorCmpArgs(fcinfo) == 0);
}

// vector_ne implements operator <>.
VECDB_FUNCTION(vector_ne)
{
	PG_RETURN_BOOL(VectorCmpArgs(fcinfo) != 0);
}

// vector_ge implements operator >=.
VECDB_FUNCTION(vector_ge)
{
	PG_RETURN_BOOL(VectorCmpArgs(fcinfo) >= 0);
}

// vector_gt implements operator >.
VECDB_FUNCTION(vector_gt)
{
	PG_RETURN_BOOL(VectorCmpArgs(fcinfo) > 0);
}

// vector_cmp is the btree support function: -1, 0 or 1.
VECDB_FUNCTION(vector_cmp)
{
	PG_RETURN_INT32(VectorCmpArgs(fcinfo));
}
