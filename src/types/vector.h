// vector.h defines the on-disk layout of the vector type (pgvector-compatible)
// and the helpers other types and access methods share.
#pragma once

#include "vecdb_postgres.h"

#define VECTOR_MAX_DIM 16000

// Vector is a varlena of float4 elements: the same bytes as pgvector's vector.
typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved for future use, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(_dim)		(offsetof(Vector, x) + sizeof(float) * (_dim))
#define DatumGetVector(x)		((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(x)	DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)

// InitVector allocates a zeroed vector of dim dimensions in CurrentMemoryContext.
Vector	   *InitVector(int dim);
