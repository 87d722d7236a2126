// dense_io.h parses and prints the "[x,y,z]" text form that vector and halfvec
// share, with pgvector's error messages parameterized by the type name.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fast_float/fast_float.h>

#include "vecdb_postgres.h"

extern "C" {
#include "common/shortest_dec.h"
#include "utils/array.h"
}

// DenseIsSpace reports whether ch is whitespace in a vector literal.
static inline bool
DenseIsSpace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

// DenseStrtof is strtof(pt, end) for one element of a literal whose text
// ends at stop. A plain decimal (normal float, then a delimiter) is parsed by
// fast_float, which rounds correctly as strtof does but several times faster;
// anything else (a '+' sign, hex, inf, nan, zero, underflow, overflow) goes
// to strtof itself, so the text accepted, the values and errno stay strtof's.
static inline float
DenseStrtof(const char *pt, const char *stop, char **end)
{
	float		val = 0;
	fast_float::from_chars_result r = fast_float::from_chars(pt, stop, val);

	errno = 0;
	if (r.ec == std::errc() && r.ptr > pt && std::isnormal(val) &&
		(*r.ptr == ',' || *r.ptr == ']' || *r.ptr == '}' || *r.ptr == '\0' || DenseIsSpace(*r.ptr)))
	{
		*end = const_cast<char *>(r.ptr);
		return val;
	}
	/* strtof, like float4in, avoids double rounding; LC_NUMERIC is C in a backend */
	return strtof(pt, end);
}

// DenseCheckElement rejects NaN and infinite elements.
static inline void
DenseCheckElement(float value, const char *type_name)
{
	if (std::isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", type_name)));
	if (std::isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in %s", type_name)));
}

// DenseCheckDim rejects empty and over-long vectors.
static inline void
DenseCheckDim(int dim, int max_dim, const char *type_name)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", type_name)));
	if (dim > max_dim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions", type_name, max_dim)));
}

// DenseCheckExpectedDim rejects a dimension count that differs from the typmod.
static inline void
DenseCheckExpectedDim(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

// DenseCheckTypmod validates a typmod array for a dense type and returns it.
int32		DenseTypmodIn(ArrayType *ta, int max_dim, const char *type_name);

// DenseParseLiteral parses lit into out (room for max_dim elements) and returns
// the dimension count. store(value, token, token_len, &out[i]) converts one
// parsed float (already checked for float4 range) into the element type,
// raising its own errors; elements are then checked for NaN and infinity.
template <typename Elem, typename Store>
int
DenseParseLiteral(const char *lit, const char *type_name, int max_dim, Elem *out, Store store)
{
	const char *pt = lit;
	const char *stop = lit + strlen(lit);
	int			dim = 0;

	while (DenseIsSpace(*pt))
		pt++;
	if (*pt != '[')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit),
				 errdetail("Vector contents must start with \"[\".")));
	pt++;
	while (DenseIsSpace(*pt))
		pt++;
	if (*pt == ']')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", type_name)));

	for (;;)
	{
		float		val;
		char	   *end;

		if (dim == max_dim)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s cannot have more than %d dimensions", type_name, max_dim)));
		while (DenseIsSpace(*pt))
			pt++;
		if (*pt == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit)));

		val = DenseStrtof(pt, stop, &end);
		if (end == pt)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit)));
		if (errno == ERANGE && std::isinf(val))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type %s", pnstrdup(pt, end - pt), type_name)));
		store(val, pt, (int) (end - pt), &out[dim]);
		DenseCheckElement(val, type_name);
		dim++;

		pt = end;
		while (DenseIsSpace(*pt))
			pt++;
		if (*pt == ',')
			pt++;
		else if (*pt == ']')
		{
			pt++;
			break;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit)));
	}

	while (DenseIsSpace(*pt))
		pt++;
	if (*pt != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit),
				 errdetail("Junk after closing right brace.")));
	return dim;
}

// DenseFormat prints dim elements as "[x,y,z]" in PostgreSQL's shortest float4
// form; load(i) returns element i as a float.
template <typename Load>
char *
DenseFormat(int dim, Load load)
{
	/* each element needs at most FLOAT_SHORTEST_DECIMAL_LEN - 1 chars, plus a comma */
	char	   *buf = (char *) palloc((Size) FLOAT_SHORTEST_DECIMAL_LEN * dim + 2);
	char	   *ptr = buf;

	*ptr++ = '[';
	for (int i = 0; i < dim; i++)
	{
		if (i > 0)
			*ptr++ = ',';
		ptr += float_to_shortest_decimal_bufn(load(i), ptr);
	}
	*ptr++ = ']';
	*ptr = '\0';
	return buf;
}

// DenseArrayToFloats converts a 1-D integer[], real[], double precision[] or
// numeric[] without NULLs to a palloc'd float array of *n elements, checking
// the dimension limits of type_name and the typmod (pgvector's errors).
float	   *DenseArrayToFloats(ArrayType *array, int max_dim, const char *type_name, int32 typmod, int *n);
