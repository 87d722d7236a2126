// scalar_store.cpp keeps the scalar columns of a vecdb index (attributes after
// the vector): a row's values encoded in one blob (growing records, build
// batches), and column-wise in memory and in a sealed segment's COLS chain,
// so that scans evaluate their conditions in tight loops over one column.
//
// Row blob: a null bitmap (one bit per scalar column, set = NULL), then each
// non-NULL value in column order: fixed-width types as their typlen bytes,
// varlena types as a uint32 length and the (detoasted, 4-byte header) bytes.
// COLS chain, per column: a null bitmap of rows bits, then fixed-width values
// (rows * typlen, NULLs zeroed) or, for varlena, rows + 1 uint64 offsets and
// the data (every value 8-byte aligned).
#include "am/am.hpp"

extern "C" {
#include "access/tupmacs.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// VecdbScalarLayoutFor reads the scalar columns' types from an index's tuple descriptor.
void
VecdbScalarLayoutFor(Relation index, VecdbScalarLayout *l)
{
	TupleDesc	desc = RelationGetDescr(index);
	int			i;

	memset(l, 0, sizeof(*l));
	l->nscalars = desc->natts - 1;
	for (i = 0; i < l->nscalars; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i + 1);

		l->typid[i] = att->atttypid;
		l->typlen[i] = att->attlen;
		l->typbyval[i] = att->attbyval;
	}
}

// NullBytes returns the bytes of a row blob's null bitmap.
static uint32
NullBytes(const VecdbScalarLayout *l)
{
	return (uint32) (l->nscalars + 7) / 8;
}

// VecdbScalarEncodedSize returns the blob size of a row's scalar values
// (values and isnull index the scalar columns; varlena values detoasted).
uint32
VecdbScalarEncodedSize(const VecdbScalarLayout *l, const Datum *values, const bool *isnull)
{
	uint64		size = NullBytes(l);
	int			i;

	for (i = 0; i < l->nscalars; i++)
	{
		if (isnull[i])
			continue;
		if (l->typlen[i] > 0)
			size += l->typlen[i];
		else
			size += sizeof(uint32) + VARSIZE_ANY(DatumGetPointer(values[i]));
	}
	if (size > VECDB_MAX_SCALAR_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("scalar values of an index row need " UINT64_FORMAT " bytes, at most %d are allowed",
						size, VECDB_MAX_SCALAR_BYTES),
				 errhint("Leave long text or large arrays out of the index; filters on them still work.")));
	return (uint32) size;
}

// VecdbScalarEncode writes a row's blob (VecdbScalarEncodedSize bytes) to out.
void
VecdbScalarEncode(const VecdbScalarLayout *l, const Datum *values, const bool *isnull, char *out)
{
	char	   *p = out + NullBytes(l);
	int			i;

	memset(out, 0, NullBytes(l));
	for (i = 0; i < l->nscalars; i++)
	{
		if (isnull[i])
		{
			out[i >> 3] |= (char) (1 << (i & 7));
			continue;
		}
		if (l->typlen[i] > 0)
		{
			if (l->typbyval[i])
				store_att_byval(p, values[i], l->typlen[i]);
			else
				memcpy(p, DatumGetPointer(values[i]), l->typlen[i]);
			p += l->typlen[i];
		}
		else
		{
			struct varlena *v = (struct varlena *) DatumGetPointer(values[i]);
			uint32		len = VARSIZE_ANY(v);

			memcpy(p, &len, sizeof(uint32));
			memcpy(p + sizeof(uint32), v, len);
			p += sizeof(uint32) + len;
		}
	}
}

// VecdbColumnsCreate allocates empty columns for capacity rows in CurrentMemoryContext.
VecdbColumn *
VecdbColumnsCreate(const VecdbScalarLayout *l, uint64 capacity)
{
	VecdbColumn *cols;
	int			i;

	if (l->nscalars == 0)
		return NULL;
	capacity = Max(capacity, (uint64) 16);
	cols = (VecdbColumn *) palloc0(sizeof(VecdbColumn) * l->nscalars);
	for (i = 0; i < l->nscalars; i++)
	{
		VecdbColumn *c = &cols[i];

		c->capacity = capacity;
		c->nulls = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, (capacity + 7) / 8);
		memset(c->nulls, 0, (capacity + 7) / 8);
		if (l->typlen[i] > 0)
			c->values = (char *) MemoryContextAllocHuge(CurrentMemoryContext, capacity * l->typlen[i]);
		else
		{
			c->offsets = (uint64 *) MemoryContextAllocHuge(CurrentMemoryContext, (capacity + 1) * sizeof(uint64));
			c->offsets[0] = 0;
			c->data_cap = 1024;
			c->data = (char *) MemoryContextAllocHuge(CurrentMemoryContext, c->data_cap);
		}
	}
	return cols;
}

// Grow makes room for one more row in column c (in the context that holds it).
static void
Grow(const VecdbScalarLayout *l, int i, VecdbColumn *c)
{
	uint64		cap = c->capacity * 2;
	uint64		old_bytes = (c->capacity + 7) / 8;

	c->nulls = (uint8 *) repalloc_huge(c->nulls, (cap + 7) / 8);
	memset(c->nulls + old_bytes, 0, (cap + 7) / 8 - old_bytes);
	if (l->typlen[i] > 0)
		c->values = (char *) repalloc_huge(c->values, cap * l->typlen[i]);
	else
		c->offsets = (uint64 *) repalloc_huge(c->offsets, (cap + 1) * sizeof(uint64));
	c->capacity = cap;
}

// VecdbColumnsAppend decodes a row blob of len bytes of index onto the end of
// the columns.
void
VecdbColumnsAppend(Relation index, const VecdbScalarLayout *l, VecdbColumn *cols, const char *blob, uint32 len)
{
	const char *p = blob + NullBytes(l);
	const char *end = blob + len;
	int			i;

	if (len < NullBytes(l))
		VecdbCorrupt(index, "has truncated scalar values");
	for (i = 0; i < l->nscalars; i++)
	{
		VecdbColumn *c = &cols[i];
		uint64		row = c->rows;
		bool		isnull = (blob[i >> 3] >> (i & 7)) & 1;

		if (row == c->capacity)
			Grow(l, i, c);
		if (isnull)
			c->nulls[row >> 3] |= (uint8) (1 << (row & 7));
		if (l->typlen[i] > 0)
		{
			if (isnull)
				memset(c->values + row * l->typlen[i], 0, l->typlen[i]);
			else
			{
				if (p + l->typlen[i] > end)
					VecdbCorrupt(index, "has truncated scalar values");
				memcpy(c->values + row * l->typlen[i], p, l->typlen[i]);
				p += l->typlen[i];
			}
		}
		else
		{
			uint32		vlen = 0;

			if (!isnull)
			{
				if (p + sizeof(uint32) > end)
					VecdbCorrupt(index, "has truncated scalar values");
				memcpy(&vlen, p, sizeof(uint32));
				if (vlen < VARHDRSZ || p + sizeof(uint32) + vlen > end)
					VecdbCorrupt(index, "has truncated scalar values");
				if (c->data_len + TYPEALIGN(8, vlen) > c->data_cap)
				{
					c->data_cap = Max(c->data_cap * 2, c->data_len + TYPEALIGN(8, vlen));
					c->data = (char *) repalloc_huge(c->data, c->data_cap);
				}
				memcpy(c->data + c->data_len, p + sizeof(uint32), vlen);
				c->data_len += TYPEALIGN(8, vlen);
				p += sizeof(uint32) + vlen;
			}
			c->offsets[row + 1] = c->data_len;
		}
		c->rows++;
	}
}

// VecdbColumnDatum returns row's value of scalar column col (not NULL).
Datum
VecdbColumnDatum(const VecdbScalarLayout *l, int col, const VecdbColumn *c, uint64 row)
{
	if (l->typlen[col] > 0)
		return fetch_att(c->values + row * l->typlen[col], l->typbyval[col], l->typlen[col]);
	return PointerGetDatum(c->data + c->offsets[row]);
}

// VecdbColumnsRowSize returns the blob size of a stored row.
uint32
VecdbColumnsRowSize(const VecdbScalarLayout *l, const VecdbColumn *cols, uint64 row)
{
	uint32		size = NullBytes(l);
	int			i;

	for (i = 0; i < l->nscalars; i++)
	{
		if (VecdbColumnIsNull(&cols[i], row))
			continue;
		if (l->typlen[i] > 0)
			size += l->typlen[i];
		else
			size += sizeof(uint32) + VARSIZE_ANY(cols[i].data + cols[i].offsets[row]);
	}
	return size;
}

// VecdbColumnsEncodeRow writes a stored row's blob to out.
void
VecdbColumnsEncodeRow(const VecdbScalarLayout *l, const VecdbColumn *cols, uint64 row, char *out)
{
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	int			i;

	for (i = 0; i < l->nscalars; i++)
	{
		isnull[i] = VecdbColumnIsNull(&cols[i], row);
		values[i] = isnull[i] ? (Datum) 0 : VecdbColumnDatum(l, i, &cols[i], row);
	}
	VecdbScalarEncode(l, values, isnull, out);
}

// VecdbColumnsWrite appends the columns to a COLS chain.
void
VecdbColumnsWrite(const VecdbScalarLayout *l, const VecdbColumn *cols, VecdbChainWriter *w)
{
	int			i;

	for (i = 0; i < l->nscalars; i++)
	{
		const VecdbColumn *c = &cols[i];
		uint64		rows = c->rows;
		uint64		header[3];

		header[0] = l->typid[i];
		header[1] = (uint64) (int64) l->typlen[i];
		header[2] = l->typlen[i] > 0 ? rows * l->typlen[i] : c->data_len;
		VecdbChainWrite(w, header, sizeof(header));
		VecdbChainWrite(w, c->nulls, (rows + 7) / 8);
		if (l->typlen[i] > 0)
			VecdbChainWrite(w, c->values, rows * l->typlen[i]);
		else
		{
			VecdbChainWrite(w, c->offsets, (rows + 1) * sizeof(uint64));
			VecdbChainWrite(w, c->data, c->data_len);
		}
	}
}

// ColumnsCorrupt raises the error for a COLS chain that does not match the index.
static void pg_attribute_noreturn()
ColumnsCorrupt(Relation index, const char *what)
{
	VecdbCorrupt(index, "has corrupt scalar columns: %s", what);
}

// VecdbColumnsRead loads rows of every scalar column from a COLS chain into
// CurrentMemoryContext, checking types, lengths and offsets.
VecdbColumn *
VecdbColumnsRead(Relation index, const VecdbScalarLayout *l, uint64 rows, VecdbChainReader *r)
{
	VecdbColumn *cols = (VecdbColumn *) palloc0(sizeof(VecdbColumn) * Max(l->nscalars, 1));
	int			i;
	uint64		k;

	for (i = 0; i < l->nscalars; i++)
	{
		VecdbColumn *c = &cols[i];
		uint64		header[3];

		if (!VecdbChainRead(r, header, sizeof(header)))
			ColumnsCorrupt(index, "a column is missing");
		if (header[0] != l->typid[i] || (int64) header[1] != l->typlen[i])
			ColumnsCorrupt(index, "a column has the wrong type");
		c->rows = c->capacity = rows;
		c->nulls = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, (rows + 8) / 8);
		if (!VecdbChainRead(r, c->nulls, (rows + 7) / 8))
			ColumnsCorrupt(index, "a null bitmap is truncated");
		if (l->typlen[i] > 0)
		{
			if (header[2] != rows * l->typlen[i])
				ColumnsCorrupt(index, "a column has the wrong length");
			c->values = (char *) MemoryContextAllocHuge(CurrentMemoryContext, Max(header[2], 1));
			if (!VecdbChainRead(r, c->values, header[2]))
				ColumnsCorrupt(index, "values are truncated");
		}
		else
		{
			if (header[2] > (uint64) MaxAllocHugeSize)
				ColumnsCorrupt(index, "a column has the wrong length");
			c->offsets = (uint64 *) MemoryContextAllocHuge(CurrentMemoryContext, (rows + 1) * sizeof(uint64));
			if (!VecdbChainRead(r, c->offsets, (rows + 1) * sizeof(uint64)))
				ColumnsCorrupt(index, "offsets are truncated");
			c->data_len = c->data_cap = header[2];
			c->data = (char *) MemoryContextAllocHuge(CurrentMemoryContext, Max(header[2], 8));
			if (!VecdbChainRead(r, c->data, header[2]))
				ColumnsCorrupt(index, "values are truncated");
			/* every value must lie inside the data and carry a sane varlena header */
			if (c->offsets[0] != 0 || c->offsets[rows] != header[2])
				ColumnsCorrupt(index, "offsets are out of range");
			for (k = 0; k < rows; k++)
			{
				uint64		from = c->offsets[k];
				uint64		to = c->offsets[k + 1];

				if (to < from || to > header[2] || from % 8 != 0)
					ColumnsCorrupt(index, "offsets are out of range");
				if (VecdbColumnIsNull(c, k))
				{
					if (to != from)
						ColumnsCorrupt(index, "a NULL has a value");
					continue;
				}
				if (to - from < VARHDRSZ || VARATT_IS_EXTENDED(c->data + from) ||
					TYPEALIGN(8, VARSIZE(c->data + from)) != to - from)
					ColumnsCorrupt(index, "a value has a bad length");
			}
		}
	}
	return cols;
}

// VecdbBitsDropPrefix moves bits [n, total) of bits down to [0, total - n)
// and clears the bits after them.
void
VecdbBitsDropPrefix(uint8 *bits, uint64 total, uint64 n)
{
	uint64		i;

	for (i = 0; i + n < total; i++)
	{
		bool		set = (bits[(i + n) >> 3] >> ((i + n) & 7)) & 1;

		if (set)
			bits[i >> 3] |= (uint8) (1 << (i & 7));
		else
			bits[i >> 3] &= (uint8) ~(1 << (i & 7));
	}
	for (; i < total; i++)
		bits[i >> 3] &= (uint8) ~(1 << (i & 7));
}

// VecdbColumnsDropPrefix removes the columns' first n rows in place (the
// varlena data keeps its 8-byte alignment: every value starts aligned).
void
VecdbColumnsDropPrefix(const VecdbScalarLayout *l, VecdbColumn *cols, uint64 n)
{
	int			i;

	for (i = 0; cols && i < l->nscalars; i++)
	{
		VecdbColumn *c = &cols[i];
		uint64		kept = c->rows - n;
		uint64		j;

		VecdbBitsDropPrefix(c->nulls, c->rows, n);
		if (l->typlen[i] > 0)
			memmove(c->values, c->values + n * l->typlen[i], kept * l->typlen[i]);
		else
		{
			uint64		cut = c->offsets[n];

			memmove(c->data, c->data + cut, c->data_len - cut);
			c->data_len -= cut;
			for (j = 0; j <= kept; j++)
				c->offsets[j] = c->offsets[j + n] - cut;
		}
		c->rows = kept;
	}
}

// VecdbColumnsBytes returns the memory the columns hold.
size_t
VecdbColumnsBytes(const VecdbScalarLayout *l, const VecdbColumn *cols)
{
	size_t		bytes = 0;
	int			i;

	for (i = 0; cols && i < l->nscalars; i++)
	{
		bytes += (cols[i].capacity + 7) / 8;
		if (l->typlen[i] > 0)
			bytes += cols[i].capacity * l->typlen[i];
		else
			bytes += (cols[i].capacity + 1) * sizeof(uint64) + cols[i].data_cap;
	}
	return bytes;
}

// VecdbScalarDetoast sets out[] to values[] with varlena values replaced by
// detoasted copies with a 4-byte header, as the encoding stores them. The
// caller's values[] is left alone: the copies live in the current memory
// context, which the caller frees before the array's owner is done with it.
void
VecdbScalarDetoast(const VecdbScalarLayout *l, const Datum *values, const bool *isnull, Datum *out)
{
	int			i;

	for (i = 0; i < l->nscalars; i++)
		out[i] = !isnull[i] && l->typlen[i] == -1 ? PointerGetDatum(PG_DETOAST_DATUM(values[i])) : values[i];
}
