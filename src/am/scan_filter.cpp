// scan_filter.cpp turns a scan's keys on scalar columns (=, <>, <, <=, >, >=,
// = ANY(array), IS [NOT] NULL, && and @> on arrays; ANDed) into a bitset per
// segment: a set bit means the row is filtered out, as the engine's
// BitsetView expects, merged with the segment's delete bits.
//
// Integers, dates, timestamps, booleans, floats and uuids are compared in
// tight native loops (integers widened to int64, floats to double with
// PostgreSQL's NaN ordering); every other type and operator calls the
// operator's own function with the key's collation, so results always
// match what the executor would compute.
#include <math.h>

#include "am/am.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"
}

// NativeKind says how a column's values are compared without fmgr.
typedef enum NativeKind
{
	NATIVE_NONE = 0,
	NATIVE_INT,					/* int2, int4, int8, date, timestamp, timestamptz, bool */
	NATIVE_FLOAT,				/* float4, float8 */
	NATIVE_UUID
} NativeKind;

// FilterKey is one prepared scan key.
typedef struct FilterKey
{
	int			col;			/* scalar column: index attribute - 2 */
	int			strategy;
	int			flags;
	NativeKind	native;
	Oid			coltype;
	int64		ival;
	double		fval;
	pg_uuid_t	uval;
	int64	   *iarr;			/* = ANY values, sorted */
	double	   *farr;
	int			narr;
	/* the operator's function, for everything not native */
	FmgrInfo   *fn;
	Oid			collation;
	Datum		arg;
	Datum	   *elems;
	int			nelems;
} FilterKey;

struct VecdbScanFilter
{
	int			nkeys;
	bool		never;			/* a key compares with NULL: nothing matches */
	FilterKey  *keys;
};

// NativeKindOf returns the native comparison kind of a type.
static NativeKind
NativeKindOf(Oid type)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case BOOLOID:
			return NATIVE_INT;
		case FLOAT4OID:
		case FLOAT8OID:
			return NATIVE_FLOAT;
		case UUIDOID:
			return NATIVE_UUID;
		default:
			return NATIVE_NONE;
	}
}

// IntOf widens a Datum of an integer-like type to int64.
static int64
IntOf(Datum d, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
		case DATEOID:
			return DatumGetInt32(d);
		case BOOLOID:
			return DatumGetBool(d) ? 1 : 0;
		default:
			return DatumGetInt64(d);
	}
}

// FloatOf widens a Datum of float4 or float8 to double.
static double
FloatOf(Datum d, Oid type)
{
	return type == FLOAT4OID ? (double) DatumGetFloat4(d) : DatumGetFloat8(d);
}

// FloatCmp orders doubles as PostgreSQL does: NaN equals NaN and sorts above everything.
static inline int
FloatCmp(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return a < b ? -1 : (a > b ? 1 : 0);
}

// IntCmpSort and FloatCmpSort order qsort arrays.
static int
IntCmpSort(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

static int
FloatCmpSort(const void *a, const void *b)
{
	return FloatCmp(*(const double *) a, *(const double *) b);
}

// StrategyHolds reports whether comparison result c satisfies a strategy.
static inline bool
StrategyHolds(int strategy, int c)
{
	switch (strategy)
	{
		case VECDB_STRATEGY_LT:
			return c < 0;
		case VECDB_STRATEGY_LE:
			return c <= 0;
		case VECDB_STRATEGY_EQ:
			return c == 0;
		case VECDB_STRATEGY_GE:
			return c >= 0;
		case VECDB_STRATEGY_GT:
			return c > 0;
		case VECDB_STRATEGY_NE:
			return c != 0;
	}
	return false;
}

// VecdbFilterPrepare prepares a scan's keys on scalar columns; NULL when there are none.
VecdbScanFilter *
VecdbFilterPrepare(Relation index, const VecdbScalarLayout *l, ScanKey keys, int nkeys)
{
	VecdbScanFilter *f;
	int			i;

	if (nkeys <= 0)
		return NULL;
	f = (VecdbScanFilter *) palloc0(sizeof(VecdbScanFilter));
	f->keys = (FilterKey *) palloc0(sizeof(FilterKey) * nkeys);
	for (i = 0; i < nkeys; i++)
	{
		ScanKey		sk = &keys[i];
		FilterKey  *k = &f->keys[f->nkeys];
		Oid			argtype;

		/* IS [NOT] NULL on the vector column: NULL vectors are never indexed */
		if (sk->sk_attno == 1 && (sk->sk_flags & SK_SEARCHNOTNULL))
			continue;
		if (sk->sk_attno == 1 && (sk->sk_flags & SK_SEARCHNULL))
		{
			f->never = true;
			continue;
		}
		if (sk->sk_attno < 2 || sk->sk_attno - 2 >= l->nscalars)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("vecdb indexes take conditions on their scalar columns only")));
		k->col = sk->sk_attno - 2;
		k->strategy = sk->sk_strategy;
		k->flags = sk->sk_flags;
		k->coltype = l->typid[k->col];
		k->fn = &sk->sk_func;
		k->collation = sk->sk_collation;
		k->arg = sk->sk_argument;
		f->nkeys++;
		if (sk->sk_flags & (SK_SEARCHNULL | SK_SEARCHNOTNULL))
			continue;
		if (sk->sk_flags & SK_ISNULL)
		{
			f->never = true;
			continue;
		}
		argtype = OidIsValid(sk->sk_subtype) ? sk->sk_subtype : k->coltype;
		if (sk->sk_flags & SK_SEARCHARRAY)
		{
			ArrayType  *arr = DatumGetArrayTypeP(sk->sk_argument);
			int16		elmlen;
			bool		elmbyval;
			char		elmalign;
			bool	   *elemnulls;
			Datum	   *elems;
			int			n;
			int			j;

			get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval, &elmalign);
			deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval, elmalign, &elems, &elemnulls, &n);
			k->elems = (Datum *) palloc(sizeof(Datum) * Max(n, 1));
			for (j = 0; j < n; j++)
				if (!elemnulls[j])
					k->elems[k->nelems++] = elems[j];
			argtype = ARR_ELEMTYPE(arr);
			k->native = NativeKindOf(k->coltype) == NativeKindOf(argtype) ? NativeKindOf(k->coltype) : NATIVE_NONE;
			if (k->native == NATIVE_UUID)
				k->native = NATIVE_NONE;
			if (k->native == NATIVE_INT)
			{
				k->iarr = (int64 *) palloc(sizeof(int64) * Max(k->nelems, 1));
				for (j = 0; j < k->nelems; j++)
					k->iarr[j] = IntOf(k->elems[j], argtype);
				qsort(k->iarr, k->nelems, sizeof(int64), IntCmpSort);
			}
			else if (k->native == NATIVE_FLOAT)
			{
				k->farr = (double *) palloc(sizeof(double) * Max(k->nelems, 1));
				for (j = 0; j < k->nelems; j++)
					k->farr[j] = FloatOf(k->elems[j], argtype);
				qsort(k->farr, k->nelems, sizeof(double), FloatCmpSort);
			}
			k->narr = k->nelems;
			continue;
		}
		if (k->strategy > VECDB_STRATEGY_NE)
			k->native = NATIVE_NONE;
		else
			k->native = NativeKindOf(k->coltype) == NativeKindOf(argtype) ? NativeKindOf(k->coltype) : NATIVE_NONE;
		/* date and timestamp count in different units: only same-type pairs are native */
		if (k->native == NATIVE_INT && (k->coltype == DATEOID || argtype == DATEOID || k->coltype == TIMESTAMPOID ||
										argtype == TIMESTAMPOID || k->coltype == TIMESTAMPTZOID ||
										argtype == TIMESTAMPTZOID || k->coltype == BOOLOID || argtype == BOOLOID) &&
			k->coltype != argtype)
			k->native = NATIVE_NONE;
		if (k->native == NATIVE_INT)
			k->ival = IntOf(sk->sk_argument, argtype);
		else if (k->native == NATIVE_FLOAT)
			k->fval = FloatOf(sk->sk_argument, argtype);
		else if (k->native == NATIVE_UUID)
			memcpy(&k->uval, DatumGetUUIDP(sk->sk_argument), sizeof(pg_uuid_t));
	}
	return f;
}

// IsOut and SetOut read and set a row's filtered-out bit.
static inline bool
IsOut(const uint8 *out, uint64 r)
{
	return (out[r >> 3] >> (r & 7)) & 1;
}

static inline void
SetOut(uint8 *out, uint64 r)
{
	out[r >> 3] |= (uint8) (1 << (r & 7));
}

// ColumnInt reads row r of an integer-like column as int64.
static inline int64
ColumnInt(const VecdbColumn *c, int16 typlen, uint64 r)
{
	switch (typlen)
	{
		case 1:
			return ((const uint8 *) c->values)[r];
		case 2:
			return ((const int16 *) c->values)[r];
		case 4:
			return ((const int32 *) c->values)[r];
		default:
			return ((const int64 *) c->values)[r];
	}
}

// ColumnFloat reads row r of a float column as double.
static inline double
ColumnFloat(const VecdbColumn *c, int16 typlen, uint64 r)
{
	return typlen == 4 ? (double) ((const float *) c->values)[r] : ((const double *) c->values)[r];
}

// ByteLoop filters out, eight rows (one bitset byte) at a time, the non-NULL
// rows whose value fails keep; NULLs fail every comparison. The inner loop
// has no branches, so the compiler can vectorize it.
template <typename T, typename Keep>
static void __attribute__((optimize("O3")))
ByteLoop(const T *vals, const uint8 *nulls, uint64 rows, uint8 *out, Keep keep)
{
	uint64		full = rows / 8;
	uint64		byte;
	uint64		r;

	for (byte = 0; byte < full; byte++)
	{
		uint8		o = out[byte] | nulls[byte];
		uint8		fail = 0;
		const T    *v = vals + byte * 8;

		if (o == 0xFF)
			continue;
		for (int b = 0; b < 8; b++)
			fail |= (uint8) (!keep(v[b]) << b);
		out[byte] = o | fail;
	}
	for (r = full * 8; r < rows; r++)
		if ((nulls[r >> 3] >> (r & 7)) & 1 || !keep(vals[r]))
			out[r >> 3] |= (uint8) (1 << (r & 7));
}

// IntLoop runs ByteLoop for an integer column of element type T against v.
template <typename T>
static void
IntLoop(const VecdbColumn *c, uint64 rows, uint8 *out, int strategy, int64 v)
{
	const T    *vals = (const T *) c->values;

	switch (strategy)
	{
		case VECDB_STRATEGY_LT:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (int64) x < v; });
			break;
		case VECDB_STRATEGY_LE:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (int64) x <= v; });
			break;
		case VECDB_STRATEGY_EQ:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (int64) x == v; });
			break;
		case VECDB_STRATEGY_GE:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (int64) x >= v; });
			break;
		case VECDB_STRATEGY_GT:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (int64) x > v; });
			break;
		case VECDB_STRATEGY_NE:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (int64) x != v; });
			break;
	}
}

// FloatLoop runs ByteLoop for a float column of element type T against v,
// with PostgreSQL's NaN ordering.
template <typename T>
static void
FloatLoop(const VecdbColumn *c, uint64 rows, uint8 *out, int strategy, double v)
{
	const T    *vals = (const T *) c->values;

	if (isnan(v))
	{
		ByteLoop(vals, c->nulls, rows, out, [strategy, v](T x) { return StrategyHolds(strategy, FloatCmp((double) x, v)); });
		return;
	}
	/* v is not NaN: x NaN sorts above it, and comparisons with NaN are false in C */
	switch (strategy)
	{
		case VECDB_STRATEGY_LT:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (double) x < v; });
			break;
		case VECDB_STRATEGY_LE:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (double) x <= v; });
			break;
		case VECDB_STRATEGY_EQ:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (double) x == v; });
			break;
		case VECDB_STRATEGY_GE:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (double) x >= v || x != x; });
			break;
		case VECDB_STRATEGY_GT:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (double) x > v || x != x; });
			break;
		case VECDB_STRATEGY_NE:
			ByteLoop(vals, c->nulls, rows, out, [v](T x) { return (double) x != v; });
			break;
	}
}

// ApplyFast handles the common keys with the byte loops; false for the rest.
static bool
ApplyFast(const FilterKey *k, const VecdbScalarLayout *l, const VecdbColumn *c, uint64 rows, uint8 *out)
{
	int16		typlen = l->typlen[k->col];
	uint64		nbytes = (rows + 7) / 8;
	uint64		i;

	if (k->flags & (SK_SEARCHNULL | SK_SEARCHNOTNULL))
	{
		bool		want_null = (k->flags & SK_SEARCHNULL) != 0;

		for (i = 0; i < nbytes; i++)
			out[i] |= want_null ? (uint8) ~c->nulls[i] : c->nulls[i];
		return true;
	}
	if (k->flags & SK_SEARCHARRAY)
		return false;
	if (k->native == NATIVE_INT)
	{
		switch (typlen)
		{
			case 1:
				IntLoop<uint8>(c, rows, out, k->strategy, k->ival);
				return true;
			case 2:
				IntLoop<int16>(c, rows, out, k->strategy, k->ival);
				return true;
			case 4:
				IntLoop<int32>(c, rows, out, k->strategy, k->ival);
				return true;
			default:
				IntLoop<int64>(c, rows, out, k->strategy, k->ival);
				return true;
		}
	}
	if (k->native == NATIVE_FLOAT)
	{
		if (typlen == 4)
			FloatLoop<float>(c, rows, out, k->strategy, k->fval);
		else
			FloatLoop<double>(c, rows, out, k->strategy, k->fval);
		return true;
	}
	return false;
}

// ApplyKey filters out the rows of one column that fail key k, for what
// ApplyFast does not take: = ANY lists, uuids, and keys compared by the
// operator's own function.
static void
ApplyKey(const FilterKey *k, const VecdbScalarLayout *l, const VecdbColumn *c, uint64 rows, uint8 *out)
{
	int16		typlen = l->typlen[k->col];
	uint64		r;

	for (r = 0; r < rows; r++)
	{
		bool		keep = false;

		if (IsOut(out, r))
			continue;
		if (VecdbColumnIsNull(c, r))
		{
			SetOut(out, r);
			continue;
		}
		if (k->flags & SK_SEARCHARRAY)
		{
			if (k->native == NATIVE_INT && k->strategy == VECDB_STRATEGY_EQ)
			{
				int64		v = ColumnInt(c, typlen, r);

				keep = bsearch(&v, k->iarr, k->narr, sizeof(int64), IntCmpSort) != NULL;
			}
			else if (k->native == NATIVE_INT && k->narr > 0)
			{
				int64		v = ColumnInt(c, typlen, r);
				int			lo = IntCmpSort(&v, &k->iarr[0]);
				int			hi = IntCmpSort(&v, &k->iarr[k->narr - 1]);

				keep = k->strategy == VECDB_STRATEGY_NE ? (lo != 0 || hi != 0)
					: StrategyHolds(k->strategy, k->strategy <= VECDB_STRATEGY_LE ? hi : lo);
			}
			else if (k->native == NATIVE_FLOAT && k->narr > 0)
			{
				double		v = ColumnFloat(c, typlen, r);
				int			lo = FloatCmp(v, k->farr[0]);
				int			hi = FloatCmp(v, k->farr[k->narr - 1]);

				if (k->strategy == VECDB_STRATEGY_EQ)
					keep = bsearch(&v, k->farr, k->narr, sizeof(double), FloatCmpSort) != NULL;
				else
					keep = k->strategy == VECDB_STRATEGY_NE ? (lo != 0 || hi != 0)
						: StrategyHolds(k->strategy, k->strategy <= VECDB_STRATEGY_LE ? hi : lo);
			}
			else if (k->native == NATIVE_NONE)
			{
				Datum		v = VecdbColumnDatum(l, k->col, c, r);
				int			j;

				for (j = 0; j < k->nelems && !keep; j++)
					keep = DatumGetBool(FunctionCall2Coll(k->fn, k->collation, v, k->elems[j]));
			}
		}
		else
		{
			/* integers and floats took ApplyFast's byte loops */
			if (k->native == NATIVE_UUID)
				keep = StrategyHolds(k->strategy, memcmp(c->values + r * UUID_LEN, k->uval.data, UUID_LEN));
			else
				keep = DatumGetBool(FunctionCall2Coll(k->fn, k->collation, VecdbColumnDatum(l, k->col, c, r),
													  k->arg));
		}
		if (!keep)
			SetOut(out, r);
		if (k->native == NATIVE_NONE && (r & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

// VecdbFilterApply writes to out (rows bits) the rows of a segment that are
// deleted or fail a key, and returns how many rows remain allowed.
uint64
VecdbFilterApply(const VecdbScanFilter *f, const VecdbScalarLayout *l, const VecdbColumn *cols,
				 const uint8 *deleted, uint64 rows, uint8 *out)
{
	uint64		allowed = 0;
	uint64		r;
	int			i;

	memcpy(out, deleted, (rows + 7) / 8);
	if (f->never)
		memset(out, 0xFF, (rows + 7) / 8);
	else
		for (i = 0; i < f->nkeys; i++)
			if (!ApplyFast(&f->keys[i], l, &cols[f->keys[i].col], rows, out))
				ApplyKey(&f->keys[i], l, &cols[f->keys[i].col], rows, out);
	for (r = 0; r < rows / 8; r++)
		allowed += 8 - (uint64) pg_number_of_ones[out[r]];
	for (r = rows / 8 * 8; r < rows; r++)
		allowed += !IsOut(out, r);
	return allowed;
}
