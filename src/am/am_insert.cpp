// am_insert.cpp implements aminsert: a new row is appended to the growing
// segment, a stream of records (TID, flags, length, engine row, scalar
// values) over a chain of pages, and is searchable (exactly) by the next scan that can see
// its heap tuple.
//
// WAL and locking: the metapage is locked exclusively for the whole append,
// so appends are serialized and the row count moves only after the record's
// bytes are on their pages. Each Generic WAL record covers the metapage, the
// page written and, when a page is added, the old tail that links to it; a
// record spanning pages takes several WAL records, and a crash between them
// leaves bytes past the row count that the next append overwrites.
#include "am/am.hpp"

extern "C" {
#include "utils/memutils.h"
#include "utils/rel.h"
}

// VecdbGrowingNextRecord returns where a record appended at stream byte pos
// starts: at pos, or at the next page when its header would not fit on pos's.
uint64
VecdbGrowingNextRecord(uint64 pos)
{
	uint64		off = pos % VECDB_PAGE_CAPACITY;

	if (off + sizeof(VecdbGrowingRecordHeader) > VECDB_PAGE_CAPACITY)
		return pos - off + VECDB_PAGE_CAPACITY;
	return pos;
}

StaticAssertDecl(VECDB_PAGE_CAPACITY % 8 == 0, "records are 8-byte multiples on 8-byte-multiple pages");

// GrowingPageBlock returns the block of stream page page_no, which lies
// between the head and the tail: the tail itself, or a page found by walking
// the chain from the head (only after an append spanning pages was cut short
// and left pages past the row count).
static BlockNumber
GrowingPageBlock(Relation index, const VecdbGrowing *g, uint64 page_no)
{
	BlockNumber blkno = g->head;
	uint64		p = g->head_page_no;

	if (page_no == g->tail_page_no)
		return g->tail;
	if (g->head == InvalidBlockNumber || page_no < g->head_page_no)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an inconsistent growing segment", RelationGetRelationName(index)),
				 errhint("Please REINDEX it.")));
	while (p < page_no)
	{
		Buffer		buf = ReadBuffer(index, blkno);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		VecdbCheckPage(index, BufferGetPage(buf), blkno, VECDB_PAGE_GROWING);
		blkno = VecdbPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
		p++;
		if (blkno == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a broken growing segment chain", RelationGetRelationName(index)),
					 errhint("Please REINDEX it.")));
	}
	return blkno;
}

// AppendRecord writes one record at the end of the growing stream; the
// caller holds the metapage buffer exclusively locked. Pages already in the
// chain past the row count (left by a cut-short append) are written over.
static void
AppendRecord(Relation index, Buffer metabuf, const char *record, uint32 size)
{
	uint32		done = 0;

	while (done < size)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		metapage = GenericXLogRegisterBuffer(state, metabuf, 0);
		VecdbGrowing *g = &VecdbPageGetMeta(metapage)->growing;
		uint64		rec_start = VecdbGrowingNextRecord(g->end_pos);
		uint64		pos = rec_start + done;
		uint64		page_no = pos / VECDB_PAGE_CAPACITY;
		uint32		off = (uint32) (pos % VECDB_PAGE_CAPACITY);
		Buffer		buf;
		Buffer		prevbuf = InvalidBuffer;
		Page		page;
		uint32		take;
		PageHeader	ph;

		if (g->tail != InvalidBlockNumber && page_no <= g->tail_page_no)
		{
			BlockNumber blkno = GrowingPageBlock(index, g, page_no);

			buf = ReadBuffer(index, blkno);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			VecdbCheckPage(index, BufferGetPage(buf), blkno, VECDB_PAGE_GROWING);
			page = GenericXLogRegisterBuffer(state, buf, 0);
		}
		else
		{
			BlockNumber blkno;

			if (g->tail != InvalidBlockNumber && page_no != g->tail_page_no + 1)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" has an inconsistent growing segment", RelationGetRelationName(index)),
						 errhint("Please REINDEX it.")));
			buf = VecdbNewBuffer(index, true);
			blkno = BufferGetBlockNumber(buf);
			page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
			VecdbInitPage(page, VECDB_PAGE_GROWING, g->stream_id, (uint32) page_no);
			if (g->tail != InvalidBlockNumber)
			{
				Page		prev;

				prevbuf = ReadBuffer(index, g->tail);
				LockBuffer(prevbuf, BUFFER_LOCK_EXCLUSIVE);
				VecdbCheckPage(index, BufferGetPage(prevbuf), g->tail, VECDB_PAGE_GROWING);
				prev = GenericXLogRegisterBuffer(state, prevbuf, 0);
				VecdbPageGetOpaque(prev)->next = blkno;
			}
			g->tail = blkno;
			g->tail_page_no = page_no;
			if (g->head == InvalidBlockNumber)
			{
				g->head = blkno;
				g->head_page_no = page_no;
			}
		}

		take = Min(size - done, VECDB_PAGE_CAPACITY - off);
		ph = (PageHeader) page;
		memcpy(PageGetContents(page) + off, record + done, take);
		ph->pd_lower = Max(ph->pd_lower, (LocationIndex) (MAXALIGN(SizeOfPageHeaderData) + off + take));
		done += take;
		if (done == size)
		{
			g->end++;
			g->end_pos = rec_start + size;
			VecdbPageGetMeta(metapage)->rows_inserted++;
		}
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		if (BufferIsValid(prevbuf))
			UnlockReleaseBuffer(prevbuf);
	}
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
	uint32		size;
	VecdbScalarLayout layout;
	char	   *record;
	VecdbGrowingRecordHeader *header;
	Buffer		metabuf;
	VecdbMetaPage meta;

	if (isnull[0])
		return false;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);

	VecdbDescribeIndex(index, &desc);
	VecdbScalarLayoutFor(index, &layout);
	dims = VecdbDatumDims(values[0], desc.elem_type);
	if (desc.typmod_dims > 0)
		VecdbCheckDims(index, desc.typmod_dims, dims);
	if (dims < 1 || dims > (desc.elem_type == VECDB_ELEM_BIT ? 64000 : VECDB_MAX_DIM))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot index a vector with %d dimensions in a %s index", dims, VecdbAmName(desc.am_kind))));
	row_bytes = (uint32) VecdbEngineRowBytes(desc.metric, dims);
	if (layout.nscalars > 0)
	{
		VecdbScalarDetoast(&layout, values + 1, isnull + 1);
		bloblen = VecdbScalarEncodedSize(&layout, values + 1, isnull + 1);
	}
	size = (uint32) TYPEALIGN(8, sizeof(VecdbGrowingRecordHeader) + row_bytes + bloblen);
	record = (char *) palloc0(size);
	header = (VecdbGrowingRecordHeader *) record;
	header->tid = *heap_tid;
	header->length = size;
	if (!VecdbDatumToRow(values[0], desc.elem_type, desc.metric, dims, record + sizeof(VecdbGrowingRecordHeader)))
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return false;
	}
	if (layout.nscalars > 0)
		VecdbScalarEncode(&layout, values + 1, isnull + 1, record + sizeof(VecdbGrowingRecordHeader) + row_bytes);

	metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = VecdbMetaFromBuffer(index, metabuf);
	if (meta->dims == 0)
	{
		GenericXLogState *state;

		/* the options could not be checked against the dimensions at CREATE INDEX */
		if (desc.am_kind == VECDB_AM_IVFPQ && desc.params.m > 0 && dims % desc.params.m != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ivfpq option m must divide the number of dimensions"),
					 errdetail("Index \"%s\" has m = %d; the first row has %d dimensions.",
							   RelationGetRelationName(index), desc.params.m, dims)));
		state = GenericXLogStart(index);

		VecdbPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0))->dims = dims;
		GenericXLogFinish(state);
	}
	VecdbCheckDims(index, meta->dims, dims);
	AppendRecord(index, metabuf, record, size);
	UnlockReleaseBuffer(metabuf);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}
