// growing_segment.cpp reads and writes the growing segment, the append-only
// stream of records that aminsert adds rows to until a compaction moves them
// into a sealed segment.
//
// Format: a record is a VecdbGrowingRecordHeader (heap TID, flags, length),
// the engine row and the encoded scalar values, padded to a multiple of 8.
// Stream byte b lives on stream page b / VECDB_PAGE_CAPACITY of a chain of
// GROWING pages (a page's seq is the low 32 bits of its stream page number).
// A header never straddles pages: a record whose header would not fit in
// what is left of a page starts on the next one (NextRecord). The metapage's
// VecdbGrowing holds the live rows [start, end), their bytes [start_pos,
// end_pos), and the head and tail blocks with their stream page numbers.
// Every walk along the chain goes through one reader (SeekPage).
//
// WAL and locking: appends hold the metapage exclusively, so they are
// serialized and the row count moves only after the record's bytes are on
// their pages; new pages are taken before that lock (VecdbGrowingReserve). Each Generic WAL record covers the metapage, the page written
// and, when a page is added, the old tail that links to it; a record spanning
// pages takes several WAL records, and a crash between them leaves bytes past
// the row count that the next append overwrites. Delete marks flip a flag in
// place, one WAL record per page, under the marks lock. Readers copy the
// metapage, then read pages under their share lock and only up to the row
// count they copied; a page that no longer holds its stream page was recycled
// by a compaction, which is a retryable error for them. Lock order: the
// metapage, then data pages.
#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "utils/rel.h"
}

StaticAssertDecl(VECDB_PAGE_CAPACITY % 8 == 0, "records are 8-byte multiples on 8-byte-multiple pages");

// NextRecord returns where a record appended at stream byte pos starts: at
// pos, or at the next page when its header would not fit on pos's.
static uint64
NextRecord(uint64 pos)
{
	uint64		off = pos % VECDB_PAGE_CAPACITY;

	if (off + sizeof(VecdbGrowingRecordHeader) > VECDB_PAGE_CAPACITY)
		return pos - off + VECDB_PAGE_CAPACITY;
	return pos;
}

// WalkerInit sets r up on block blkno, stream page page_no of stream_id, for
// a caller holding a lock that keeps compaction away (the metapage's or the
// marks lock), so pages from the head on stay in the chain.
static void
WalkerInit(VecdbGrowingReader *r, Relation index, uint32 stream_id, BlockNumber blkno, uint64 page_no)
{
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->stream_id = stream_id;
	r->at.blkno = blkno;
	r->at.page_no = page_no;
	r->at.pos = page_no * VECDB_PAGE_CAPACITY;
}

// GrowingBuffer returns block blkno of the growing chain, locked in mode and
// checked. racing is a reader that runs beside compactions and stands on
// blkno: the page must still hold its stream page, else a compaction
// recycled it and the reader's caller should retry.
static Buffer
GrowingBuffer(Relation index, BlockNumber blkno, int mode, const VecdbGrowingReader *racing)
{
	Buffer		buf;
	Page		page;

	if (blkno == InvalidBlockNumber || blkno >= RelationGetNumberOfBlocks(index))
		VecdbCorrupt(index, "has a broken growing segment chain");
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, mode);
	page = BufferGetPage(buf);
	if (racing && VecdbPageLooksValid(page) &&
		(VecdbPageGetOpaque(page)->owner != racing->stream_id || VecdbPageGetOpaque(page)->kind == VECDB_PAGE_FREE ||
		 VecdbPageGetOpaque(page)->seq != (uint32) racing->at.page_no))
	{
		UnlockReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not read the growing segment of index \"%s\": it was compacted concurrently",
						RelationGetRelationName(index)),
				 errhint("Retry the query.")));
	}
	VecdbCheckPage(index, page, blkno, VECDB_PAGE_GROWING);
	return buf;
}

// ReadPage reads the page r stands on and returns its next link; with copy,
// it also keeps a copy of the page's payload in r. A walker that compactions
// cannot race checks the page's owner and seq too: there, a page that does
// not hold its stream page means a broken chain (one looping back on itself
// would otherwise be walked up to 2^64 pages), so a walk ends within the
// relation's blocks.
static BlockNumber
ReadPage(VecdbGrowingReader *r, bool copy)
{
	Buffer		buf = GrowingBuffer(r->index, r->at.blkno, BUFFER_LOCK_SHARE, r->concurrent ? r : NULL);
	Page		page = BufferGetPage(buf);
	BlockNumber next = VecdbPageGetOpaque(page)->next;

	if (!r->concurrent &&
		(VecdbPageGetOpaque(page)->owner != r->stream_id || VecdbPageGetOpaque(page)->seq != (uint32) r->at.page_no))
	{
		UnlockReleaseBuffer(buf);
		VecdbCorrupt(r->index, "has a broken growing segment chain");
	}

	if (copy)
	{
		if (r->copy == NULL)
			r->copy = (char *) palloc(VECDB_PAGE_CAPACITY);
		memcpy(r->copy, PageGetContents(page), VECDB_PAGE_CAPACITY);
		r->copy_next = next;
		r->copied = true;
	}
	UnlockReleaseBuffer(buf);
	return next;
}

// SeekPage moves r along the chain to stream page page_no.
static void
SeekPage(VecdbGrowingReader *r, uint64 page_no)
{
	if (r->at.page_no > page_no)
		VecdbCorrupt(r->index, "has a growing segment whose head is past its start");
	while (r->at.page_no < page_no)
	{
		BlockNumber next = r->copied ? r->copy_next : ReadPage(r, false);

		if (next == InvalidBlockNumber)
			VecdbCorrupt(r->index, "has a broken growing segment chain");
		r->copied = false;
		r->at.blkno = next;
		r->at.page_no++;
		CHECK_FOR_INTERRUPTS();
	}
}

// PageBlock returns the block of stream page page_no, which lies between g's
// head and its tail: the tail itself, or a page found by walking the chain
// from the head (for an append, only after an append spanning pages was cut
// short and left pages past the row count).
static BlockNumber
PageBlock(Relation index, const VecdbGrowing *g, uint64 page_no)
{
	VecdbGrowingReader r;

	if (page_no == g->tail_page_no)
		return g->tail;
	if (g->head == InvalidBlockNumber || page_no < g->head_page_no)
		VecdbCorrupt(index, "has an inconsistent growing segment");
	WalkerInit(&r, index, g->stream_id, g->head, g->head_page_no);
	SeekPage(&r, page_no);
	return r.at.blkno;
}

/* ---- append ---- */

// VecdbGrowingNewRecord returns a zeroed record for heap TID tid with room for
// an engine row of row_bytes and scalar_bytes of encoded scalar values, and
// points *row and *scalars at where they go.
char *
VecdbGrowingNewRecord(ItemPointer tid, uint32 row_bytes, uint32 scalar_bytes, char **row, char **scalars)
{
	uint32		size = (uint32) TYPEALIGN(8, sizeof(VecdbGrowingRecordHeader) + row_bytes + scalar_bytes);
	char	   *record = (char *) palloc0(size);
	VecdbGrowingRecordHeader *h = (VecdbGrowingRecordHeader *) record;

	h->tid = *tid;
	h->length = size;
	*row = record + sizeof(VecdbGrowingRecordHeader);
	*scalars = *row + row_bytes;
	return record;
}

// PagesNeeded returns how many new pages appending a record of size bytes
// to g adds to its chain.
static uint64
PagesNeeded(const VecdbGrowing *g, uint32 size)
{
	uint64		rec_start = NextRecord(g->end_pos);
	uint64		last = (rec_start + size - 1) / VECDB_PAGE_CAPACITY;

	if (g->tail == InvalidBlockNumber)
		return last - rec_start / VECDB_PAGE_CAPACITY + 1;
	return last > g->tail_page_no ? last - g->tail_page_no : 0;
}

// VecdbGrowingReserve prepares the append of record without holding the
// metapage lock: it takes the new pages the record needs past the tail the
// metapage shows now (from the free-space map, else by extending the
// relation) and pins the tail page, so that VecdbGrowingAppend, under the
// metapage lock, finds every page in shared buffers. The new pages stay
// exclusively locked while the caller waits for the metapage: nobody can
// wait for them meanwhile (no chain references them, other takers from the
// map only try a conditional lock, and VACUUM's sweep holds no metapage
// lock). spares keeps what an earlier try left over.
void
VecdbGrowingReserve(Relation index, const char *record, VecdbGrowingSpares *spares)
{
	uint32		size = ((const VecdbGrowingRecordHeader *) record)->length;
	Buffer		metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	VecdbGrowing g;
	uint64		need;

	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	g = VecdbMetaFromBuffer(index, metabuf)->growing;
	UnlockReleaseBuffer(metabuf);
	need = PagesNeeded(&g, size);
	if ((uint64) spares->cap < need)
	{
		int			cap = (int) Max(need, (uint64) 4);

		spares->bufs = spares->bufs ? (Buffer *) repalloc(spares->bufs, sizeof(Buffer) * cap)
			: (Buffer *) palloc(sizeof(Buffer) * cap);
		spares->cap = cap;
	}
	while ((uint64) spares->n < need)
	{
		/* about to look in the free-space map or extend the relation, holding no metapage lock */
		VecdbFaultPoint("growing_extend");
		spares->bufs[spares->n++] = VecdbNewBuffer(index, true);
	}
	if (g.tail != InvalidBlockNumber &&
		!(BufferIsValid(spares->tail) && BufferGetBlockNumber(spares->tail) == g.tail))
	{
		if (BufferIsValid(spares->tail))
			ReleaseBuffer(spares->tail);
		spares->tail = InvalidBuffer;
		/* only a pin: the block may be retired meanwhile, the append checks what it locks */
		if (g.tail < RelationGetNumberOfBlocks(index))
			spares->tail = ReadBuffer(index, g.tail);
	}
}

// VecdbGrowingAppend writes a record at the end of the growing stream; the
// caller holds the metapage buffer exclusively locked and prepared spares
// (VecdbGrowingReserve). It returns false, having written nothing, when
// other appends moved the tail since and the record needs more new pages
// than spares holds: the caller unlocks the metapage and reserves again.
// Pages already in the chain past the row count (left by a cut-short
// append) are written over.
bool
VecdbGrowingAppend(Relation index, Buffer metabuf, const char *record, VecdbGrowingSpares *spares)
{
	uint32		size = ((const VecdbGrowingRecordHeader *) record)->length;
	uint32		done = 0;

	if (PagesNeeded(&VecdbPageGetMeta(BufferGetPage(metabuf))->growing, size) > (uint64) spares->n)
		return false;

	while (done < size)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		metapage = GenericXLogRegisterBuffer(state, metabuf, 0);
		VecdbGrowing *g = &VecdbPageGetMeta(metapage)->growing;
		uint64		rec_start = NextRecord(g->end_pos);
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
			buf = GrowingBuffer(index, PageBlock(index, g, page_no), BUFFER_LOCK_EXCLUSIVE, NULL);
			page = GenericXLogRegisterBuffer(state, buf, 0);
		}
		else
		{
			BlockNumber blkno;

			if (g->tail != InvalidBlockNumber && page_no != g->tail_page_no + 1)
				VecdbCorrupt(index, "has an inconsistent growing segment");
			Assert(spares->n > 0);	/* PagesNeeded counted this page */
			buf = spares->bufs[--spares->n];
			blkno = BufferGetBlockNumber(buf);
			page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
			VecdbInitPage(page, VECDB_PAGE_GROWING, g->stream_id, (uint32) page_no);
			if (g->tail != InvalidBlockNumber)
			{
				prevbuf = GrowingBuffer(index, g->tail, BUFFER_LOCK_EXCLUSIVE, NULL);
				VecdbPageGetOpaque(GenericXLogRegisterBuffer(state, prevbuf, 0))->next = blkno;
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
		VecdbFaultPoint("growing_append");
	}
	return true;
}

// VecdbGrowingSparesRelease gives back what an append did not use, after the
// caller unlocked the metapage: unused pages (still new or FREE, nothing
// was written on them) go back to the free-space map, and the tail's pin is
// dropped.
void
VecdbGrowingSparesRelease(Relation index, VecdbGrowingSpares *spares)
{
	while (spares->n > 0)
	{
		Buffer		buf = spares->bufs[--spares->n];
		BlockNumber blkno = BufferGetBlockNumber(buf);

		UnlockReleaseBuffer(buf);
		RecordFreeIndexPage(index, blkno);
	}
	if (BufferIsValid(spares->tail))
		ReleaseBuffer(spares->tail);
	spares->tail = InvalidBuffer;
}


/* ---- reading ---- */

// VecdbGrowingReaderBegin sets r up to read meta's growing records from
// position from (NULL: the first row not yet compacted). The caller holds no
// lock against compaction: a page recycled meanwhile raises a retryable error.
void
VecdbGrowingReaderBegin(VecdbGrowingReader *r, Relation index, const VecdbMetaPageData *meta,
						const VecdbGrowingPos *from)
{
	const VecdbGrowing *g = &meta->growing;

	WalkerInit(r, index, g->stream_id, g->head, g->head_page_no);
	r->at.pos = g->start_pos;
	if (from)
		r->at = *from;
	r->concurrent = true;
	r->row_bytes = VecdbRowBytes(meta);
	r->cap = 1024;
	r->record = (char *) palloc(r->cap);
}

// ReadBytes copies n bytes from the stream at r's position.
static void
ReadBytes(VecdbGrowingReader *r, char *out, uint32 n)
{
	while (n > 0)
	{
		uint32		off;
		uint32		take;

		SeekPage(r, r->at.pos / VECDB_PAGE_CAPACITY);
		if (!r->copied)
			ReadPage(r, true);
		off = (uint32) (r->at.pos % VECDB_PAGE_CAPACITY);
		take = Min(n, VECDB_PAGE_CAPACITY - off);
		memcpy(out, r->copy + off, take);
		r->at.pos += take;
		out += take;
		n -= take;
	}
}

// VecdbGrowingRead reads the next record into *rec, whose pointers stay
// valid until r's next read.
void
VecdbGrowingRead(VecdbGrowingReader *r, VecdbGrowingRecord *rec)
{
	VecdbGrowingRecordHeader h;
	/* rows of varying length (sparse) start with their 4-byte length word */
	uint32		min_length = (uint32) sizeof(VecdbGrowingRecordHeader) + Max(r->row_bytes, (uint32) sizeof(uint32));
	uint32		max_row = r->row_bytes > 0 ? r->row_bytes
		: (uint32) (sizeof(uint32) + (size_t) VECDB_MAX_SPARSE_NNZ * (sizeof(int32) + sizeof(float)));
	uint32		row_length;

	r->at.pos = NextRecord(r->at.pos);
	ReadBytes(r, (char *) &h, sizeof(h));
	if (h.length < min_length || h.length % 8 != 0 ||
		h.length > TYPEALIGN(8, sizeof(VecdbGrowingRecordHeader) + max_row + VECDB_MAX_SCALAR_BYTES))
		VecdbCorrupt(r->index, "has a growing record of a bad length (%u bytes)", h.length);
	if (h.length > r->cap)
	{
		r->cap = Max(h.length, r->cap * 2);
		r->record = (char *) repalloc(r->record, r->cap);
	}
	memcpy(r->record, &h, sizeof(h));
	ReadBytes(r, r->record + sizeof(h), h.length - (uint32) sizeof(h));
	rec->tid = h.tid;
	rec->deleted = (h.flags & VECDB_RECORD_DELETED) != 0;
	rec->row = r->record + sizeof(h);
	if (r->row_bytes > 0)
		row_length = r->row_bytes;
	else
	{
		uint32		nnz;

		memcpy(&nnz, rec->row, sizeof(nnz));
		if (nnz > VECDB_MAX_SPARSE_NNZ ||
			sizeof(h) + VecdbSparseRowBytes(rec->row) > h.length)
			VecdbCorrupt(r->index, "has a growing record whose sparse row overruns it (%u non-zeros, %u bytes)",
						 nnz, h.length);
		row_length = (uint32) VecdbSparseRowBytes(rec->row);
	}
	rec->scalars = rec->row + row_length;
	rec->scalars_len = h.length - (uint32) sizeof(h) - row_length;
}

// VecdbGrowingReaderEnd frees r's buffers; r->at stays usable as the position
// to resume from.
void
VecdbGrowingReaderEnd(VecdbGrowingReader *r)
{
	if (r->copy)
		pfree(r->copy);
	if (r->record)
		pfree(r->record);
	r->copy = NULL;
	r->record = NULL;
	r->copied = false;
}

// VecdbGrowingTakeRows appends the live growing rows of meta from start on,
// with their scalar values, to batch: at most max_live of them (UINT64_MAX:
// all). With cut it also sets where a compaction taking them cuts the
// stream (the caller holds the marks lock: delete flags stay put).
void
VecdbGrowingTakeRows(Relation index, const VecdbMetaPageData *meta, VecdbRowBatch *batch, uint64 max_live,
					 VecdbGrowingCut *cut)
{
	const VecdbGrowing *g = &meta->growing;
	VecdbGrowingReader r;
	VecdbGrowingRecord rec;
	uint64		row;
	uint64		taken = 0;
	uint64		deleted = 0;
	uint8	   *was_deleted = NULL;

	if (g->end <= g->start)
	{
		if (cut)
			VecdbGrowingCutAtEnd(index, g, cut);
		return;
	}
	if (cut)
		was_deleted = (uint8 *) palloc0((g->end - g->start + 7) / 8);
	VecdbGrowingReaderBegin(&r, index, meta, NULL);
	for (row = g->start; row < g->end; row++)
	{
		uint64		at = r.at.pos;

		VecdbGrowingRead(&r, &rec);
		if ((row & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (rec.deleted)
		{
			deleted++;
			if (was_deleted)
				was_deleted[(row - g->start) / 8] |= (uint8) (1 << ((row - g->start) % 8));
			continue;
		}
		if (taken == max_live)
		{
			/* the cut goes before the first live row left */
			if (cut)
			{
				VecdbGrowingCutAt(index, g, row, at, deleted, cut);
				cut->was_deleted = was_deleted;
			}
			VecdbGrowingReaderEnd(&r);
			return;
		}
		VecdbRowBatchAdd(batch, rec.row, &rec.tid, meta->nscalars > 0 ? rec.scalars : NULL,
						 meta->nscalars > 0 ? rec.scalars_len : 0);
		taken++;
	}
	VecdbGrowingReaderEnd(&r);
	if (cut)
	{
		VecdbGrowingCutAtEnd(index, g, cut);
		cut->was_deleted = was_deleted;
	}
}

/* ---- delete marks ---- */

// VecdbGrowingMarkDeleted flags the growing records in [g.start, g.end)
// whose TIDs the callback reports dead and returns how many records are
// flagged in all. The caller holds the marks lock. It visits the
// records page by page, reading only headers, which never straddle pages.
uint64
VecdbGrowingMarkDeleted(Relation index, const VecdbGrowing *g, IndexBulkDeleteCallback callback, void *state)
{
	VecdbGrowingReader r;
	uint64		pos = g->start_pos;
	uint64		left = g->end - g->start;
	uint64		marked = 0;
	uint32	   *offs = (uint32 *) palloc(sizeof(uint32) * (VECDB_PAGE_CAPACITY / sizeof(VecdbGrowingRecordHeader) + 1));

	WalkerInit(&r, index, g->stream_id, g->head, g->head_page_no);
	while (left > 0)
	{
		uint64		page_no;
		Buffer		buf;
		Page		page;
		int			n = 0;

		pos = NextRecord(pos);
		page_no = pos / VECDB_PAGE_CAPACITY;
		SeekPage(&r, page_no);
		/* the callback runs under a share lock: readers of the page go on */
		buf = GrowingBuffer(index, r.at.blkno, BUFFER_LOCK_SHARE, NULL);
		page = BufferGetPage(buf);
		while (left > 0 && NextRecord(pos) / VECDB_PAGE_CAPACITY == page_no)
		{
			uint32		off;
			VecdbGrowingRecordHeader *h;

			pos = NextRecord(pos);
			off = (uint32) (pos % VECDB_PAGE_CAPACITY);
			h = (VecdbGrowingRecordHeader *) (PageGetContents(page) + off);
			if (h->length < sizeof(VecdbGrowingRecordHeader) || h->length % 8 != 0)
				VecdbCorrupt(index, "has a growing record of a bad length");
			pos += h->length;
			left--;
			if (h->flags & VECDB_RECORD_DELETED)
				marked++;
			else if (callback(&h->tid, state))
				offs[n++] = off;
		}
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		if (n > 0)
		{
			/*
			 * The records stay where they are meanwhile: appends go past
			 * them, and marks and compaction wait for the marks lock
			 * this caller holds.
			 */
			GenericXLogState *xlog;

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			xlog = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(xlog, buf, 0);
			for (int i = 0; i < n; i++)
				((VecdbGrowingRecordHeader *) (PageGetContents(page) + offs[i]))->flags |= VECDB_RECORD_DELETED;
			GenericXLogFinish(xlog);
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			marked += n;
		}
		ReleaseBuffer(buf);
		vacuum_delay_point();
	}
	pfree(offs);
	return marked;
}

/* ---- compaction ---- */

// VecdbGrowingCutAtEnd sets cut at the end of g (a metapage copy taken under
// the marks lock): a compaction takes the rows before it.
void
VecdbGrowingCutAtEnd(Relation index, const VecdbGrowing *g, VecdbGrowingCut *cut)
{
	VecdbGrowingCutAt(index, g, g->end, g->end_pos, g->deleted, cut);
}

// VecdbGrowingCutAt sets cut before row, whose record is the first one at
// or after stream byte pos, with deleted rows flagged before it.
void
VecdbGrowingCutAt(Relation index, const VecdbGrowing *g, uint64 row, uint64 pos, uint64 deleted,
				  VecdbGrowingCut *cut)
{
	cut->row = row;
	cut->pos = pos;
	cut->page_no = NextRecord(pos) / VECDB_PAGE_CAPACITY;
	cut->head = InvalidBlockNumber;
	cut->tail = g->tail;
	cut->tail_page_no = g->tail_page_no;
	cut->deleted = deleted;
	cut->was_deleted = NULL;
	if (cut->page_no <= g->tail_page_no)
		cut->head = PageBlock(index, g, cut->page_no);
}

// VecdbGrowingTrim moves the start of g, the descriptor of a metapage being
// switched by a compaction (exclusively locked), to cut. It returns true and
// fills *retired with the pages holding only rows before the cut (to be
// freed by the next compaction), false when there are none.
bool
VecdbGrowingTrim(Relation index, VecdbGrowing *g, const VecdbGrowingCut *cut, VecdbPendingFree *retired)
{
	BlockNumber head = cut->head;
	bool		retire = true;

	/* appends since the cut may have added the page its row starts on: the old tail's successor */
	if (head == InvalidBlockNumber && g->tail != InvalidBlockNumber && g->tail_page_no >= cut->page_no &&
		cut->tail != InvalidBlockNumber)
	{
		VecdbGrowingReader r;

		WalkerInit(&r, index, g->stream_id, cut->tail, cut->tail_page_no);
		SeekPage(&r, cut->page_no);
		head = r.at.blkno;
	}
	retired->head = g->head;
	retired->owner = g->stream_id;
	retired->kind = VECDB_PAGE_GROWING;
	retired->npages = 0;
	if (head != InvalidBlockNumber)
	{
		retire = cut->page_no > g->head_page_no;
		if (retire)
			retired->npages = (uint32) (cut->page_no - g->head_page_no);
		g->head = head;
		g->head_page_no = cut->page_no;
	}
	else
	{
		/* every page holds only compacted rows */
		g->head = InvalidBlockNumber;
		g->tail = InvalidBlockNumber;
	}
	g->start = cut->row;
	g->start_pos = cut->pos;
	g->deleted -= Min(g->deleted, cut->deleted);
	/* the version stays: the rows after the cut keep their delete flags */
	return retire;
}

// VecdbGrowingNewlyDeleted finds the rows a compaction took before cut that
// bulk deletes flagged since (the compaction, about to switch, holds the
// marks lock again): it puts their positions among the rows taken into
// labels (ascending; room for every row taken), adds them to cut->deleted
// (so the trim subtracts them from the growing count) and returns how many.
uint64
VecdbGrowingNewlyDeleted(Relation index, const VecdbMetaPageData *meta, VecdbGrowingCut *cut, uint64 *labels)
{
	const VecdbGrowing *g = &meta->growing;
	VecdbGrowingReader r;
	VecdbGrowingRecord rec;
	uint64		row;
	uint64		taken = 0;
	uint64		n = 0;

	if (cut->was_deleted == NULL || cut->row <= g->start)
		return 0;
	VecdbGrowingReaderBegin(&r, index, meta, NULL);
	for (row = g->start; row < cut->row; row++)
	{
		VecdbGrowingRead(&r, &rec);
		if ((row & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (cut->was_deleted[(row - g->start) / 8] & (1 << ((row - g->start) % 8)))
			continue;
		if (rec.deleted)
			labels[n++] = taken;
		taken++;
	}
	VecdbGrowingReaderEnd(&r);
	cut->deleted += n;
	return n;
}
