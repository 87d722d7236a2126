// filter_cache.cpp keeps, per sealed segment of a backend's segment cache,
// the bitset of the last scan condition applied to it, so that queries that
// repeat a condition (the same WHERE with another query vector: a prepared
// statement, an application's usual filters) do not evaluate it over every
// row again. The condition is compared by a canonical encoding of the scan
// keys (column, strategy, flags, types, collation, argument bytes): equal
// encodings filter every row the same way; an unequal encoding of an equal
// condition only costs a miss.
//
// Lifetime: the bits live in the segment's context. A scan uses them while
// it pins the segment; they are replaced only by a scan that holds the only
// pin besides the cache's own (refcount 2), so no other scan can be reading
// them. A segment whose delete marks changed (tid_version) recomputes.
#include "am/am.hpp"

extern "C" {
#include "fmgr.h"
#include "utils/lsyscache.h"
}

// AppendBytes adds n bytes to the encoding buffer.
static void
AppendBytes(StringInfo buf, const void *p, Size n)
{
	appendBinaryStringInfo(buf, (const char *) p, (int) n);
}

// AppendArgument adds a key's argument: its bytes, by value or not.
static void
AppendArgument(StringInfo buf, ScanKey sk, Oid argtype)
{
	int16		typlen;
	bool		byval;

	if (sk->sk_flags & SK_SEARCHARRAY)
	{
		/* an array: a varlena, whatever its element type */
		typlen = -1;
		byval = false;
	}
	else
		get_typlenbyval(argtype, &typlen, &byval);
	if (byval)
		AppendBytes(buf, &sk->sk_argument, sizeof(Datum));
	else if (typlen == -1)
	{
		struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(sk->sk_argument));
		uint32		len = VARSIZE_ANY(v);

		AppendBytes(buf, &len, sizeof(len));
		AppendBytes(buf, v, len);
	}
	else if (typlen > 0)
		AppendBytes(buf, DatumGetPointer(sk->sk_argument), typlen);
	else
	{
		/* cstring and the like: no canonical bytes here, never cached */
		buf->len = 0;
	}
}

// VecdbFilterKeyBytes returns the canonical encoding of a scan's keys on
// scalar columns (*len bytes), or NULL when it has none or one it cannot
// encode.
char *
VecdbFilterKeyBytes(const VecdbScalarLayout *l, ScanKey keys, int nkeys, Size *len)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < nkeys; i++)
	{
		ScanKey		sk = &keys[i];
		Oid			argtype;

		AppendBytes(&buf, &sk->sk_attno, sizeof(sk->sk_attno));
		AppendBytes(&buf, &sk->sk_strategy, sizeof(sk->sk_strategy));
		AppendBytes(&buf, &sk->sk_flags, sizeof(sk->sk_flags));
		AppendBytes(&buf, &sk->sk_subtype, sizeof(sk->sk_subtype));
		AppendBytes(&buf, &sk->sk_collation, sizeof(sk->sk_collation));
		if (sk->sk_flags & (SK_ISNULL | SK_SEARCHNULL | SK_SEARCHNOTNULL))
			continue;
		if (sk->sk_attno < 2 || sk->sk_attno - 2 >= l->nscalars)
			break;
		argtype = OidIsValid(sk->sk_subtype) ? sk->sk_subtype : l->typid[sk->sk_attno - 2];
		AppendArgument(&buf, sk, argtype);
		if (buf.len == 0)
			break;
	}
	if (i < nkeys || buf.len == 0)
	{
		pfree(buf.data);
		return NULL;
	}
	*len = (Size) buf.len;
	return buf.data;
}

// VecdbSegmentFilterBits returns the bits (filtered out: deleted or failing
// filter) of a pinned sealed segment for a scan whose keys encode as key,
// from the segment's cache when they match, else computed (and kept when
// the scan is the segment's only user); *allowed is set to the rows left.
// The bits are the caller's to read, not to change or free.
const uint8 *
VecdbSegmentFilterBits(VecdbSegment *seg, const VecdbScanFilter *filter, const VecdbScalarLayout *l,
					   const char *key, Size key_len, uint64 *allowed)
{
	VecdbFilterBits *c = &seg->filter_cache;
	uint8	   *bits;
	bool		keep = key != NULL && seg->refcount == 2;

	if (c->bits && key && c->tid_version == seg->tid_version && c->key_len == key_len &&
		memcmp(c->key, key, key_len) == 0)
	{
		*allowed = c->allowed;
		return c->bits;
	}
	bits = (uint8 *) MemoryContextAllocHuge(keep ? seg->cxt : CurrentMemoryContext, (seg->rows + 8) / 8);
	*allowed = VecdbFilterApply(filter, l, seg->cols, seg->deleted, seg->rows, bits);
	if (!keep)
		return bits;
	if (c->bits)
	{
		pfree(c->bits);
		pfree(c->key);
		seg->bytes -= (seg->rows + 8) / 8;
	}
	c->key = (char *) MemoryContextAlloc(seg->cxt, key_len);
	memcpy(c->key, key, key_len);
	c->key_len = key_len;
	c->bits = bits;
	c->allowed = *allowed;
	c->tid_version = seg->tid_version;
	seg->bytes += (seg->rows + 8) / 8;
	return bits;
}
