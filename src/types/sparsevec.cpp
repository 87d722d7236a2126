// sparsevec.cpp implements the sparsevec type's I/O: the "{1:1.5,3:2}/5" text
// form, the binary form, the typmod and the length-coercion cast, with
// pgvector's messages and SQLSTATEs.
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "types/dense_io.h"
#include "types/sparsevec.h"

extern "C" {
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

namespace {

// SparseInputElement is one parsed "index:value" pair, index already 0-based.
struct SparseInputElement
{
	int32		index;
	float		value;
};

// CompareInputIndices orders parsed elements by index for qsort.
int
CompareInputIndices(const void *a, const void *b)
{
	int32		ia = ((const SparseInputElement *) a)->index;
	int32		ib = ((const SparseInputElement *) b)->index;

	return (ia > ib) - (ia < ib);
}

// InvalidSyntax raises pgvector's generic syntax error for a literal.
void
InvalidSyntax(const char *lit)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type sparsevec: \"%s\"", lit)));
}

// ParseInt parses a base-10 integer at pt like int2vectorin does and clamps
// it to [lo, INT_MAX], so an over-long number still gets the range error
// its sign deserves later.
long
ParseInt(const char *lit, const char *pt, char **end, long lo)
{
	long		v;

	errno = 0;
	v = strtol(pt, end, 10);
	if (*end == pt)
		InvalidSyntax(lit);
	if (v > INT_MAX)
		v = INT_MAX;
	else if (v < lo)
		v = lo;
	return v;
}

}  // namespace

// InitSparseVector allocates a zeroed sparsevec with dim dimensions and nnz slots.
SparseVector *
InitSparseVector(int dim, int nnz)
{
	Size		size = SPARSEVEC_SIZE(nnz);
	SparseVector *result = (SparseVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	result->nnz = nnz;
	return result;
}

// sparsevec_in parses the text form "{1:1.5,3:2}/5": 1-based indices in any
// order, zero values dropped, then the dimension count after the slash.
VECDB_FUNCTION(sparsevec_in)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *pt;
	const char *stop;
	char	   *end;
	int			max_nnz = 1;
	int			nnz = 0;
	long		dim;
	SparseInputElement *elements;
	SparseVector *result;
	float	   *values;

	/* every element but the first follows a comma: an upper bound on nnz */
	for (pt = lit; *pt != '\0'; pt++)
		if (*pt == ',')
			max_nnz++;
	stop = pt;
	if (max_nnz > SPARSEVEC_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));
	elements = (SparseInputElement *) palloc(sizeof(SparseInputElement) * max_nnz);

	pt = lit;
	while (DenseIsSpace(*pt))
		pt++;
	if (*pt != '{')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
				 errdetail("Vector contents must start with \"{\".")));
	pt++;
	while (DenseIsSpace(*pt))
		pt++;

	if (*pt == '}')
		pt++;
	else
	{
		for (;;)
		{
			long		index;
			float		value;

			if (nnz == max_nnz)
				elog(ERROR, "sparsevec input ran out of buffer: \"%s\"", lit);
			while (DenseIsSpace(*pt))
				pt++;
			if (*pt == '\0')
				InvalidSyntax(lit);

			/* INT_MIN + 1 keeps index - 1 inside int32; both ends fail the bounds check */
			index = ParseInt(lit, pt, &end, (long) INT_MIN + 1);
			pt = end;
			while (DenseIsSpace(*pt))
				pt++;
			if (*pt != ':')
				InvalidSyntax(lit);
			pt++;
			while (DenseIsSpace(*pt))
				pt++;

			value = DenseStrtof(pt, stop, &end);
			if (end == pt)
				InvalidSyntax(lit);
			if (errno == ERANGE && (value == 0 || std::isinf(value)))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("\"%s\" is out of range for type sparsevec", pnstrdup(pt, end - pt))));
			DenseCheckElement(value, "sparsevec");

			/* zeros are not stored; indices become 0-based */
			if (value != 0)
			{
				elements[nnz].index = (int32) (index - 1);
				elements[nnz].value = value;
				nnz++;
			}

			pt = end;
			while (DenseIsSpace(*pt))
				pt++;
			if (*pt == ',')
				pt++;
			else if (*pt == '}')
			{
				pt++;
				break;
			}
			else
				InvalidSyntax(lit);
		}
	}

	while (DenseIsSpace(*pt))
		pt++;
	if (*pt != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
				 errdetail("Unexpected end of input.")));
	pt++;
	while (DenseIsSpace(*pt))
		pt++;
	dim = ParseInt(lit, pt, &end, INT_MIN);
	pt = end;
	while (DenseIsSpace(*pt))
		pt++;
	if (*pt != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
				 errdetail("Junk after closing.")));

	SparseCheckDim((int) dim);
	DenseCheckExpectedDim(typmod, (int) dim);

	qsort(elements, nnz, sizeof(SparseInputElement), CompareInputIndices);
	result = InitSparseVector((int) dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < nnz; i++)
	{
		result->indices[i] = elements[i].index;
		values[i] = elements[i].value;
		SparseCheckIndex(result->indices, i, (int) dim);
	}
	pfree(elements);
	PG_RETURN_SPARSEVEC_P(result);
}

// sparsevec_out prints "{i:v,...}/dim" with 1-based indices and PostgreSQL's
// shortest float4 digits.
VECDB_FUNCTION(sparsevec_out)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(svec);
	char	   *buf;
	char	   *ptr;

	/*
	 * Per element: up to 11 chars of index, ':', a float of at most
	 * FLOAT_SHORTEST_DECIMAL_LEN - 1 chars and ','; then "{}/", up to 11
	 * chars of dimension count and the terminator.
	 */
	buf = (char *) palloc((Size) (13 + FLOAT_SHORTEST_DECIMAL_LEN) * svec->nnz + 16);
	ptr = buf;
	*ptr++ = '{';
	for (int i = 0; i < svec->nnz; i++)
	{
		if (i > 0)
			*ptr++ = ',';
		ptr += pg_ltoa(svec->indices[i] + 1, ptr);
		*ptr++ = ':';
		ptr += float_to_shortest_decimal_bufn(values[i], ptr);
	}
	*ptr++ = '}';
	*ptr++ = '/';
	ptr += pg_ltoa(svec->dim, ptr);
	*ptr = '\0';
	PG_FREE_IF_COPY(svec, 0);
	PG_RETURN_CSTRING(buf);
}

// sparsevec_typmod_in validates sparsevec(n).
VECDB_FUNCTION(sparsevec_typmod_in)
{
	PG_RETURN_INT32(DenseTypmodIn(PG_GETARG_ARRAYTYPE_P(0), SPARSEVEC_MAX_DIM, "sparsevec"));
}

// sparsevec_recv reads the binary form: int32 dim, int32 nnz, int32 unused,
// nnz int32 0-based indices (strictly ascending), nnz non-zero float4 values.
VECDB_FUNCTION(sparsevec_recv)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim;
	int32		nnz;
	int32		unused;
	SparseVector *result;
	float	   *values;

	dim = (int32) pq_getmsgint(buf, sizeof(int32));
	nnz = (int32) pq_getmsgint(buf, sizeof(int32));
	unused = (int32) pq_getmsgint(buf, sizeof(int32));
	SparseCheckDim(dim);
	SparseCheckNnz(nnz, dim);
	DenseCheckExpectedDim(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected unused to be 0, not %d", unused)));

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < nnz; i++)
	{
		result->indices[i] = (int32) pq_getmsgint(buf, sizeof(int32));
		SparseCheckIndex(result->indices, i, dim);
	}
	for (int i = 0; i < nnz; i++)
	{
		values[i] = pq_getmsgfloat4(buf);
		DenseCheckElement(values[i], "sparsevec");
		if (values[i] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("binary representation of sparsevec cannot contain zero values")));
	}
	PG_RETURN_SPARSEVEC_P(result);
}

// sparsevec_send writes the binary form read by sparsevec_recv.
VECDB_FUNCTION(sparsevec_send)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(svec);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, svec->dim);
	pq_sendint32(&buf, svec->nnz);
	pq_sendint32(&buf, svec->unused);
	for (int i = 0; i < svec->nnz; i++)
		pq_sendint32(&buf, svec->indices[i]);
	for (int i = 0; i < svec->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

// sparsevec applies a typmod: the length-coercion cast sparsevec -> sparsevec(n).
VECDB_FUNCTION(sparsevec)
{
	SparseVector *svec = PG_GETARG_SPARSEVEC_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	DenseCheckExpectedDim(typmod, svec->dim);
	PG_RETURN_SPARSEVEC_P(svec);
}
