// halfvec.cpp implements the halfvec type's I/O: text and binary forms, the
// typmod, and the length-coercion cast, byte-compatible with pgvector.
#include <cmath>

#include "types/dense_io.h"
#include "types/halfvec.h"

extern "C" {
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
}

using vecdb::knowhere::FloatToHalf;
using vecdb::knowhere::HalfToFloat;

// InitHalfVector allocates a zeroed halfvec of dim dimensions.
HalfVector *
InitHalfVector(int dim)
{
	Size		size = HALFVEC_SIZE(dim);
	HalfVector *result = (HalfVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

// FloatToHalfChecked converts f to binary16, rejecting finite values that overflow.
half
FloatToHalfChecked(float f)
{
	half		h = FloatToHalf(f);

	if (HalfIsInf(h) && !std::isinf(f))
	{
		char	   *buf = (char *) palloc(FLOAT_SHORTEST_DECIMAL_LEN);

		float_to_shortest_decimal_buf(f, buf);
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type halfvec", buf)));
	}
	return h;
}

// HalfvecStoreParsed converts one parsed literal element to binary16 and
// reports the literal's token when a finite value overflows.
static void
HalfvecStoreParsed(float value, const char *token, int token_len, half *out)
{
	*out = FloatToHalf(value);
	if (HalfIsInf(*out) && !std::isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type halfvec", pnstrdup(token, token_len))));
}

// halfvec_in parses the text form "[1,2,3]" into binary16 elements.
VECDB_FUNCTION(halfvec_in)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	half	   *x = (half *) palloc(sizeof(half) * HALFVEC_MAX_DIM);
	int			dim;
	HalfVector *result;

	dim = DenseParseLiteral(lit, "halfvec", HALFVEC_MAX_DIM, x, HalfvecStoreParsed);
	DenseCheckDim(dim, HALFVEC_MAX_DIM, "halfvec");
	DenseCheckExpectedDim(typmod, dim);

	result = InitHalfVector(dim);
	memcpy(result->x, x, sizeof(half) * dim);
	pfree(x);
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_out prints each element's float value in PostgreSQL's shortest float4 form.
VECDB_FUNCTION(halfvec_out)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_CSTRING(DenseFormat(vec->dim, [vec](int i) { return HalfToFloat(vec->x[i]); }));
}

// halfvec_typmod_in validates halfvec(n).
VECDB_FUNCTION(halfvec_typmod_in)
{
	PG_RETURN_INT32(DenseTypmodIn(PG_GETARG_ARRAYTYPE_P(0), HALFVEC_MAX_DIM, "halfvec"));
}

// halfvec_recv reads the binary form: int16 dim, int16 unused, then each
// element's 16 bits as an int16.
VECDB_FUNCTION(halfvec_recv)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int16		dim;
	int16		unused;
	HalfVector *result;

	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));
	DenseCheckDim(dim, HALFVEC_MAX_DIM, "halfvec");
	DenseCheckExpectedDim(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected unused to be 0, not %d", unused)));

	result = InitHalfVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (half) pq_getmsgint(buf, sizeof(half));
		HalfvecCheckElement(result->x[i]);
	}
	PG_RETURN_HALFVEC_P(result);
}

// halfvec_send writes the binary form read by halfvec_recv.
VECDB_FUNCTION(halfvec_send)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint(&buf, vec->dim, sizeof(int16));
	pq_sendint(&buf, vec->unused, sizeof(int16));
	for (int i = 0; i < vec->dim; i++)
		pq_sendint16(&buf, vec->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

// halfvec applies a typmod: the length-coercion cast halfvec -> halfvec(n).
VECDB_FUNCTION(halfvec)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	DenseCheckExpectedDim(typmod, vec->dim);
	PG_RETURN_HALFVEC_P(vec);
}
