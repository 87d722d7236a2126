// halfvec.h defines the on-disk layout of the halfvec type (pgvector-compatible).
#pragma once

#include "knowhere/distance.hpp"
#include "vecdb_postgres.h"

#define HALFVEC_MAX_DIM 16000

typedef vecdb::knowhere::Half half;

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

// HalfIsNan reports whether h is a binary16 NaN.
static inline bool
HalfIsNan(half h)
{
	return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
}

// HalfIsInf reports whether h is a binary16 infinity.
static inline bool
HalfIsInf(half h)
{
	return (h & 0x7FFF) == 0x7C00;
}

// HalfIsZero reports whether h is +0 or -0.
static inline bool
HalfIsZero(half h)
{
	return (h & 0x7FFF) == 0x0000;
}

// HalfvecCheckDims rejects two halfvecs of different dimension counts.
static inline void
HalfvecCheckDims(const HalfVector *a, const HalfVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different halfvec dimensions %d and %d", a->dim, b->dim)));
}

// HalfvecCheckElement rejects NaN and infinite halfvec elements.
static inline void
HalfvecCheckElement(half h)
{
	if (HalfIsNan(h))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in halfvec")));
	if (HalfIsInf(h))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in halfvec")));
}

// FloatToHalfChecked converts f to binary16 and raises 22003 when a finite f
// overflows to infinity (pgvector's Float4ToHalf); NaN and infinity pass through.
half		FloatToHalfChecked(float f);
