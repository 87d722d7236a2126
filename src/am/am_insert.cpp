// am_insert.cpp implements aminsert: a new row becomes a record (TID, engine
// row, scalar values) appended to the growing segment (growing_segment.cpp),
// and is searchable (exactly) by the next scan that can see its heap tuple.
// Appends are serialized by the metapage's exclusive lock, held only to
// write the record: new pages are taken and the tail page read beforehand
// (VecdbGrowingReserve), so scans and the planner, which read the
// metapage, do not wait for free-space map look-ups or relation extension.
#include "am/am.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// vecdbinsert adds one heap tuple's vector to the growing segment. NULLs and,
// under cosine, zero vectors are not indexed (as in pgvector).
bool
vecdbinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
			IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	VecdbIndexDesc desc;
	MemoryContext cxt;
	MemoryContext old;
	int			dims;
	uint32		row_bytes;
	uint32		bloblen = 0;
	VecdbScalarLayout layout;
	char	   *record;
	char	   *row;
	char	   *scalars;
	Datum		scalar_values[INDEX_MAX_KEYS];	/* detoasted copies: values[] is the executor's */
	Buffer		metabuf;
	VecdbMetaPage meta;
	VecdbElemType row_format;
	uint64		growing_rows;
	VecdbGrowingSpares spares;

	if (isnull[0])
		return false;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);

	VecdbDescribeIndex(index, &desc);
	VecdbScalarLayoutFor(index, &layout);
	/* how rows are stored is the metapage's (it never changes after the build) */
	metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	row_format = (VecdbElemType) VecdbMetaFromBuffer(index, metabuf)->elem_type;
	UnlockReleaseBuffer(metabuf);
	dims = VecdbDatumDims(values[0], row_format);
	if (desc.typmod_dims > 0)
		VecdbCheckDims(index, desc.typmod_dims, dims);
	if (dims < 1 || dims > VecdbMaxDims(row_format))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot index a vector with %d dimensions in a %s index", dims, VecdbAmName(desc.am_kind))));
	row_bytes = VecdbDatumRowBytes(values[0], row_format, desc.metric, dims);
	if (layout.nscalars > 0)
	{
		VecdbScalarDetoast(&layout, values + 1, isnull + 1, scalar_values);
		bloblen = VecdbScalarEncodedSize(&layout, scalar_values, isnull + 1);
	}
	record = VecdbGrowingNewRecord(heap_tid, row_bytes, bloblen, &row, &scalars);
	if (!VecdbDatumToRow(values[0], row_format, desc.metric, dims, row))
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return false;
	}
	if (layout.nscalars > 0)
		VecdbScalarEncode(&layout, scalar_values, isnull + 1, scalars);

	memset(&spares, 0, sizeof(spares));
	spares.tail = InvalidBuffer;
	for (;;)
	{
		VecdbGrowingReserve(index, record, &spares);
		metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		meta = VecdbMetaFromBuffer(index, metabuf);
		if (meta->dims == 0)
		{
			GenericXLogState *state;

			/* the options could not be checked against the dimensions at CREATE INDEX */
			VecdbAmCheckParams(VecdbAmMethodOf(desc.am_kind), &desc.params, dims, RelationGetRelationName(index));
			state = GenericXLogStart(index);

			VecdbPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0))->dims = dims;
			GenericXLogFinish(state);
		}
		VecdbCheckDims(index, meta->dims, dims);
		if (VecdbGrowingAppend(index, metabuf, record, &spares))
			break;
		/* others' appends used up the tail's room meanwhile: take more pages */
		UnlockReleaseBuffer(metabuf);
		CHECK_FOR_INTERRUPTS();
	}
	growing_rows = meta->growing.end - meta->growing.start;
	UnlockReleaseBuffer(metabuf);
	VecdbGrowingSparesRelease(index, &spares);
	VecdbSealAfterInsert(index, growing_rows);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}
