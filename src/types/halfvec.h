// halfvec.h defines the on-disk layout of the halfvec type (pgvector-compatible).
#pragma once

#include "knowhere/distance.hpp"
#include "vecdb_postgres.h"

#define HALFVEC_MAX_DIM 16000

typedef vecdb::engine::Half half;

// HalfVector is a varlena of IEEE binary16 elements, as pgvector's halfvec.
typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved for future use, always zero */
	half		x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

#define HALFVEC_SIZE(_dim)		(offsetof(HalfVector, x) + sizeof(half) * (_dim))
#define DatumGetHalfVector(x)	((HalfVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_HALFVEC_P(x)	DatumGetHalfVector(PG_GETARG_DATUM(x))
#define PG_RETURN_HALFVEC_P(x)	PG_RETURN_POINTER(x)

// InitHalfVector allocates a zeroed halfvec of dim dimensions.
HalfVector *InitHalfVector(int dim);
