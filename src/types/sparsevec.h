// sparsevec.h defines the on-disk layout of the sparsevec type (pgvector-compatible).
#pragma once

#include "vecdb_postgres.h"

#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

// SparseVector stores nnz 0-based indices (strictly increasing) followed by
// nnz float4 values, the same bytes as pgvector's sparsevec.
typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int32		dim;			/* number of dimensions */
	int32		nnz;			/* number of non-zero elements */
	int32		unused;			/* reserved for future use, always zero */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];
	/* values follow indices */
} SparseVector;

#define SPARSEVEC_SIZE(_nnz)		(offsetof(SparseVector, indices) + (_nnz) * (sizeof(int32) + sizeof(float)))
#define SPARSEVEC_VALUES(x)		((float *) (((char *) (x)) + offsetof(SparseVector, indices) + (x)->nnz * sizeof(int32)))
#define DatumGetSparseVector(x)	((SparseVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_SPARSEVEC_P(x)	DatumGetSparseVector(PG_GETARG_DATUM(x))
#define PG_RETURN_SPARSEVEC_P(x)	PG_RETURN_POINTER(x)

// InitSparseVector allocates a zeroed sparsevec with dim dimensions and nnz slots.
SparseVector *InitSparseVector(int dim, int nnz);
