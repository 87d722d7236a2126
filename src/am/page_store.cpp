// page_store.cpp keeps vecdb's bytes in PostgreSQL pages: page setup and
// checks, page allocation (free-space map, then extension), byte chains that
// the engine's serialized indexes and the TID maps stream through, retired
// chains, and the metapage.
//
// WAL: every page change goes through Generic WAL. A chain's pages are
// written as full images, one record per page, before the metapage points at
// the chain, so a crash mid-write leaves only unreferenced pages (CREATE
// INDEX writes its chains past the buffer pool instead: bulk_pages.cpp). Lock order
// is always metapage, then data pages; readers copy the metapage and release
// it before reading data pages, which are immutable once referenced (except
// the growing tail past its row count and delete marks, both read under the
// page's share lock).
#include "am/am.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

// FormatV returns fmt formatted with args, palloc'd.
static char *FormatV(const char *fmt, va_list args) pg_attribute_printf(1, 0);

static char *
FormatV(const char *fmt, va_list args)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		copy;
		int			needed;

		va_copy(copy, args);
		needed = appendStringInfoVA(&buf, fmt, copy);
		va_end(copy);
		if (needed == 0)
			return buf.data;
		enlargeStringInfo(&buf, needed);
	}
}

// RaiseCorrupt raises ERRCODE_INDEX_CORRUPTED with the message
// `index "<name>" <what>`, detail (when not NULL) and the hint to REINDEX.
static void pg_attribute_noreturn()
RaiseCorrupt(Relation index, const char *detail, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" %s", RelationGetRelationName(index), what),
			 detail ? errdetail_internal("%s", detail) : 0,
			 errhint("Please REINDEX it.")));
}

// VecdbCorrupt raises the error for a damaged index: SQLSTATE XX002
// (ERRCODE_INDEX_CORRUPTED), the message `index "<name>" ` followed by fmt,
// and the hint "Please REINDEX it.".
void
VecdbCorrupt(Relation index, const char *fmt,...)
{
	va_list		args;
	char	   *what;

	va_start(args, fmt);
	what = FormatV(fmt, args);
	va_end(args);
	RaiseCorrupt(index, NULL, what);
}

// VecdbCorruptDetail is VecdbCorrupt with a detail sentence (already formatted).
void
VecdbCorruptDetail(Relation index, const char *detail, const char *fmt,...)
{
	va_list		args;
	char	   *what;

	va_start(args, fmt);
	what = FormatV(fmt, args);
	va_end(args);
	RaiseCorrupt(index, detail, what);
}

// VecdbInitPage formats page as an empty vecdb page of kind for owner.
void
VecdbInitPage(Page page, VecdbPageKind kind, uint32 owner, uint32 seq)
{
	VecdbPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(VecdbPageOpaqueData));
	opaque = VecdbPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->owner = owner;
	opaque->seq = seq;
	opaque->kind = (uint16) kind;
	opaque->page_id = VECDB_PAGE_ID;
}

// VecdbPageLooksValid reports whether page has a vecdb special space, so that
// its opaque fields may be read.
bool
VecdbPageLooksValid(Page page)
{
	PageHeader	ph = (PageHeader) page;

	return !PageIsNew(page) && ph->pd_special == BLCKSZ - MAXALIGN(sizeof(VecdbPageOpaqueData)) &&
		ph->pd_lower >= MAXALIGN(SizeOfPageHeaderData) && ph->pd_lower <= ph->pd_special &&
		VecdbPageGetOpaque(page)->page_id == VECDB_PAGE_ID;
}

// VecdbCheckPage raises ERRCODE_INDEX_CORRUPTED unless page is a vecdb page
// with a sane layout; kind 0 accepts any kind.
void
VecdbCheckPage(Relation index, Page page, BlockNumber blkno, VecdbPageKind kind)
{
	PageHeader	ph = (PageHeader) page;
	VecdbPageOpaque opaque;

	if (PageIsNew(page) || ph->pd_special != BLCKSZ - MAXALIGN(sizeof(VecdbPageOpaqueData)) ||
		ph->pd_lower < MAXALIGN(SizeOfPageHeaderData) || ph->pd_lower > ph->pd_special)
		VecdbCorrupt(index, "contains an unexpected page at block %u", blkno);
	opaque = VecdbPageGetOpaque(page);
	if (opaque->page_id != VECDB_PAGE_ID || (kind != 0 && opaque->kind != kind))
		VecdbCorruptDetail(index, psprintf("Expected page kind %d, found %d.", (int) kind, (int) opaque->kind),
						   "contains a page of the wrong kind at block %u", blkno);
}

// VecdbNewBuffer returns an exclusively locked, uninitialized-or-free page:
// one the free-space map offers (when use_fsm) that really is free, else a
// new block at the end of the relation.
Buffer
VecdbNewBuffer(Relation index, bool use_fsm)
{
	Buffer		buf;
	bool		need_lock;

	while (use_fsm)
	{
		BlockNumber blkno = GetFreeIndexPage(index);

		if (blkno == InvalidBlockNumber)
			break;
		buf = ReadBuffer(index, blkno);
		if (ConditionalLockBuffer(buf))
		{
			Page		page = BufferGetPage(buf);

			/* the map is not crash-safe: trust only what the page says */
			if (PageIsNew(page) || (VecdbPageLooksValid(page) && VecdbPageGetOpaque(page)->kind == VECDB_PAGE_FREE))
				return buf;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}

	need_lock = !RELATION_IS_LOCAL(index);
	if (need_lock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (need_lock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

// StartChainPage makes blkno (locked buf, or a bulk writer's number) w's
// current page and formats it (not yet logged).
static void
StartChainPage(VecdbChainWriter *w, BlockNumber blkno, Buffer buf)
{
	w->blkno = blkno;
	if (w->bulk == NULL)
	{
		w->buf = buf;
		w->xlog = GenericXLogStart(w->index);
		w->page = GenericXLogRegisterBuffer(w->xlog, buf, GENERIC_XLOG_FULL_IMAGE);
	}
	VecdbInitPage(w->page, w->kind, w->owner, w->pages);
	w->pages++;
	if (w->page_log != NULL)
	{
		if (w->page_log_len == w->page_log_cap)
		{
			w->page_log_cap *= 2;
			w->page_log = (BlockNumber *) repalloc(w->page_log, sizeof(BlockNumber) * w->page_log_cap);
		}
		w->page_log[w->page_log_len++] = blkno;
	}
}

// NextChainPage finishes w's current page, linked to a new one (at_end: the
// chain's last page, unlinked), logs it and makes the new one current.
static void
NextChainPage(VecdbChainWriter *w, bool at_end)
{
	if (w->bulk != NULL)
	{
		BlockNumber next = at_end ? InvalidBlockNumber : VecdbBulkPagesTake(w->bulk);

		VecdbPageGetOpaque(w->page)->next = next;
		VecdbBulkPagesPut(w->bulk, w->blkno, w->page);
		if (!at_end)
			StartChainPage(w, next, InvalidBuffer);
	}
	else
	{
		Buffer		next = at_end ? InvalidBuffer : VecdbNewBuffer(w->index, true);

		if (!at_end)
			VecdbPageGetOpaque(w->page)->next = BufferGetBlockNumber(next);
		GenericXLogFinish(w->xlog);
		UnlockReleaseBuffer(w->buf);
		w->buf = InvalidBuffer;
		w->xlog = NULL;
		if (!at_end)
			StartChainPage(w, BufferGetBlockNumber(next), next);
	}
}

// VecdbChainWriterBegin starts a chain of kind pages for owner: in the
// buffer pool (free pages first), or with bulk, past it.
void
VecdbChainWriterBegin(VecdbChainWriter *w, Relation index, VecdbPageKind kind, uint32 owner, VecdbBulkPages *bulk)
{
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->owner = owner;
	w->kind = kind;
	w->bulk = bulk;
	if (bulk != NULL)
	{
		w->page = (Page) palloc(BLCKSZ);
		w->head = VecdbBulkPagesTake(bulk);
		StartChainPage(w, w->head, InvalidBuffer);
	}
	else
	{
		Buffer		buf = VecdbNewBuffer(index, true);

		w->head = BufferGetBlockNumber(buf);
		StartChainPage(w, w->head, buf);
	}
}

// VecdbChainWrite appends n bytes, moving to a new page whenever one fills:
// the full page is linked to the next and logged.
void
VecdbChainWrite(VecdbChainWriter *w, const void *data, size_t n)
{
	const char *src = (const char *) data;

	while (n > 0)
	{
		PageHeader	ph = (PageHeader) w->page;
		size_t		used = ph->pd_lower - MAXALIGN(SizeOfPageHeaderData);
		size_t		room = VECDB_PAGE_CAPACITY - used;
		size_t		take;

		if (room == 0)
		{
			NextChainPage(w, false);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		take = Min(room, n);
		memcpy((char *) w->page + ph->pd_lower, src, take);
		ph->pd_lower += take;
		src += take;
		n -= take;
		w->bytes += take;
	}
}

// VecdbChainWriterBreak ends the current page here, unless nothing is on it
// yet: the next byte written starts a new page.
void
VecdbChainWriterBreak(VecdbChainWriter *w)
{
	PageHeader	ph = (PageHeader) w->page;

	if (ph->pd_lower == MAXALIGN(SizeOfPageHeaderData))
		return;
	NextChainPage(w, false);
}

// VecdbChainWriterEnd logs and releases the last page.
void
VecdbChainWriterEnd(VecdbChainWriter *w)
{
	Page		own = w->bulk != NULL ? w->page : NULL;

	NextChainPage(w, true);
	if (own != NULL)
		pfree(own);
	w->page = NULL;
}

// VecdbChainReaderBegin starts reading the chain at head (pages long).
void
VecdbChainReaderBegin(VecdbChainReader *r, Relation index, VecdbPageKind kind, uint32 owner,
					  BlockNumber head, uint32 pages, uint64 generation)
{
	memset(r, 0, sizeof(*r));
	r->generation = generation;
	r->index = index;
	r->owner = owner;
	r->kind = kind;
	r->next = head;
	r->pages_left = pages;
	r->chunk = (char *) palloc(VECDB_PAGE_CAPACITY);
}

// ReportRecycled raises the error for a chain page that no longer belongs to
// the chain: a concurrent compaction recycled it (retryable) when the
// directory changed since, else corruption.
static void
ReportRecycled(VecdbChainReader *r, BlockNumber blkno, uint32 found_owner)
{
	VecdbMetaPageData *meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));

	VecdbReadMeta(r->index, meta);
	if (meta->generation == r->generation)
		VecdbCorruptDetail(r->index, psprintf("The block belongs to segment %u, not %u.", found_owner, r->owner),
						   "has a broken page chain at block %u", blkno);
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not load a segment of index \"%s\": it was compacted concurrently",
					RelationGetRelationName(r->index)),
			 errdetail("Block %u belongs to segment %u, not %u.", blkno, found_owner, r->owner),
			 errhint("Retry the query.")));
}

// LoadNextPage copies the payload of the chain's next page into r->chunk;
// false at the end of the chain.
static bool
LoadNextPage(VecdbChainReader *r)
{
	Buffer		buf;
	Page		page;
	VecdbPageOpaque opaque;
	BlockNumber blkno = r->next;

	if (blkno == InvalidBlockNumber || r->pages_left == 0)
		return false;
	/* the relation's size is looked up again only when a link passes it */
	if (blkno >= r->nblocks)
		r->nblocks = RelationGetNumberOfBlocks(r->index);
	if (blkno >= r->nblocks)
		VecdbCorrupt(r->index, "links to block %u past its end", blkno);
	CHECK_FOR_INTERRUPTS();
	buf = ReadBufferExtended(r->index, MAIN_FORKNUM, blkno, RBM_NORMAL, r->strategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	opaque = VecdbPageGetOpaque(page);
	if (VecdbPageLooksValid(page) &&
		(opaque->owner != r->owner || opaque->kind == VECDB_PAGE_FREE || opaque->seq != r->seq))
	{
		uint32		found = opaque->owner;

		UnlockReleaseBuffer(buf);
		ReportRecycled(r, blkno, found);
	}
	VecdbCheckPage(r->index, page, blkno, r->kind);
	r->seq++;
	r->chunk_len = ((PageHeader) page)->pd_lower - MAXALIGN(SizeOfPageHeaderData);
	memcpy(r->chunk, PageGetContents(page), r->chunk_len);
	r->chunk_pos = 0;
	r->next = opaque->next;
	r->pages_left--;
	UnlockReleaseBuffer(buf);
	return true;
}

// VecdbChainRead fills n bytes from the chain; false when the chain ends first.
bool
VecdbChainRead(VecdbChainReader *r, void *data, size_t n)
{
	char	   *dst = (char *) data;

	while (n > 0)
	{
		size_t		take;

		if (r->chunk_pos == r->chunk_len)
		{
			if (!LoadNextPage(r))
				return false;
			continue;
		}
		take = Min(n, (size_t) (r->chunk_len - r->chunk_pos));
		memcpy(dst, r->chunk + r->chunk_pos, take);
		r->chunk_pos += take;
		dst += take;
		n -= take;
	}
	return true;
}

// VecdbChainReaderEnd releases the reader's buffer.
void
VecdbChainReaderEnd(VecdbChainReader *r)
{
	if (r->chunk)
		pfree(r->chunk);
	r->chunk = NULL;
}

// VecdbFreePending marks the pages of a retired chain free (logged) and
// offers them to the free-space map. It stops at the first page that no
// longer belongs to the chain, so running it twice (after a crash) is safe.
void
VecdbFreePending(Relation index, const VecdbPendingFree *pending)
{
	BlockNumber blkno = pending->head;
	uint32		freed = 0;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	while (blkno != InvalidBlockNumber && blkno < nblocks && blkno != VECDB_METAPAGE_BLKNO &&
		   (pending->npages == 0 || freed < pending->npages))
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		VecdbPageOpaque opaque;
		BlockNumber next;
		GenericXLogState *state;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		opaque = VecdbPageGetOpaque(page);
		if (!VecdbPageLooksValid(page) || opaque->owner != pending->owner ||
			(opaque->kind != pending->kind && opaque->kind != VECDB_PAGE_FREE))
		{
			UnlockReleaseBuffer(buf);
			break;
		}
		next = opaque->next;
		if (opaque->kind != VECDB_PAGE_FREE)
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			VecdbPageGetOpaque(page)->kind = VECDB_PAGE_FREE;
			((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData);
			GenericXLogFinish(state);
		}
		UnlockReleaseBuffer(buf);
		RecordFreeIndexPage(index, blkno);
		freed++;
		blkno = next;
		CHECK_FOR_INTERRUPTS();
	}
}

// VecdbInitMetaPage formats page as the metapage of an empty index.
void
VecdbInitMetaPage(Page page, const VecdbIndexDesc *desc, int dims)
{
	VecdbMetaPage meta;

	VecdbInitPage(page, VECDB_PAGE_META, 0, 0);
	meta = VecdbPageGetMeta(page);
	memset(meta, 0, sizeof(VecdbMetaPageData));
	meta->magic = VECDB_MAGIC;
	meta->version = VECDB_FORMAT_VERSION;
	meta->am_kind = desc->am_kind;
	meta->metric = desc->metric;
	meta->elem_type = VecdbRowFormat(desc);
	meta->dims = dims;
	meta->params = desc->params;
	meta->nscalars = (uint32) desc->nscalars;
	memcpy(meta->scalar_types, desc->scalar_types, sizeof(meta->scalar_types));
	meta->build_id = ((uint64) random() << 32) ^ (uint64) random() ^ (uint64) GetCurrentTimestamp();
	meta->generation = 1;
	meta->next_owner_id = 1;
	meta->growing.stream_id = meta->next_owner_id++;
	meta->growing.head = InvalidBlockNumber;
	meta->growing.tail = InvalidBlockNumber;
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(VecdbMetaPageData);
}

// VecdbMetaCoverAll extends the metapage's pd_lower over every field of
// VecdbMetaPageData. A metapage written before fields were appended ends
// earlier; Generic WAL zeroes and skips the bytes past pd_lower, so a writer
// of an appended field calls this on the registered page first.
void
VecdbMetaCoverAll(Page page)
{
	PageHeader	ph = (PageHeader) page;
	LocationIndex want = (LocationIndex) (MAXALIGN(SizeOfPageHeaderData) + sizeof(VecdbMetaPageData));

	if (ph->pd_lower < want)
		ph->pd_lower = want;
}

// SegmentsSane reports whether every directory entry's counts fit its chains.
static bool
SegmentsSane(const VecdbMetaPageData *meta)
{
	uint32		i;

	for (i = 0; i < meta->nsegments; i++)
	{
		const VecdbSegmentEntry *e = &meta->segments[i];

		if (e->deleted > e->rows ||
			e->rows * sizeof(ItemPointerData) > (uint64) e->tid_pages * VECDB_PAGE_CAPACITY ||
			e->blob_bytes > (uint64) e->blob_pages * VECDB_PAGE_CAPACITY ||
			e->cols_bytes > (uint64) e->cols_pages * VECDB_PAGE_CAPACITY)
			return false;
	}
	return true;
}

// VecdbCheckMeta raises ERRCODE_INDEX_CORRUPTED for a metapage with the
// wrong magic, an unknown format version or out-of-range counts.
void
VecdbCheckMeta(Relation index, const VecdbMetaPageData *meta)
{
	if (meta->magic != VECDB_MAGIC)
		VecdbCorrupt(index, "is not a vecdb index");
	if (meta->version != VECDB_FORMAT_VERSION)
		VecdbCorrupt(index, "has format version %u, this vecdb reads version %d", meta->version,
					 VECDB_FORMAT_VERSION);
	if (meta->nsegments > VECDB_MAX_SEGMENTS || meta->npending > VECDB_MAX_PENDING_FREE ||
		meta->nretire > VECDB_MAX_RETIRE_BATCHES ||
		meta->dims < 0 || meta->dims > VecdbMaxDims((VecdbElemType) meta->elem_type) ||
		meta->growing.start > meta->growing.end ||
		meta->growing.deleted > meta->growing.end - meta->growing.start ||
		meta->growing.start_pos > meta->growing.end_pos || meta->nscalars >= INDEX_MAX_KEYS ||
		(meta->growing.end > meta->growing.start && meta->dims == 0) ||
		(uint32) (RelationGetDescr(index)->natts - 1) != meta->nscalars || !SegmentsSane(meta))
		VecdbCorrupt(index, "has a corrupt metapage");
}

// VecdbMetaFromBuffer returns the checked metapage of a locked buffer.
VecdbMetaPage
VecdbMetaFromBuffer(Relation index, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	VecdbMetaPage meta;

	VecdbCheckPage(index, page, VECDB_METAPAGE_BLKNO, VECDB_PAGE_META);
	meta = VecdbPageGetMeta(page);
	VecdbCheckMeta(index, meta);
	return meta;
}

// VecdbReadMeta copies the metapage under a share lock. Whether the index has
// a block at all is asked of the storage manager (a system call) once per
// relcache entry: rd_amcache remembers the answer, and the relcache drops it
// whenever the entry is rebuilt, which a new relfilenode (REINDEX, TRUNCATE)
// always causes; a relation once holding its metapage never loses it
// otherwise, as nothing truncates a vecdb index.
void
VecdbReadMeta(Relation index, VecdbMetaPageData *meta)
{
	Buffer		buf;

	if (index->rd_amcache == NULL)
	{
		if (RelationGetNumberOfBlocks(index) == 0)
			VecdbCorrupt(index, "has no metapage");
		index->rd_amcache = MemoryContextAllocZero(index->rd_indexcxt, 1);
	}
	buf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, VecdbMetaFromBuffer(index, buf), sizeof(VecdbMetaPageData));
	UnlockReleaseBuffer(buf);
}

// VecdbRowBytes returns the bytes of one engine row of the index, or 0 when
// rows vary in length (sparse rows: VecdbRowLength).
uint32
VecdbRowBytes(const VecdbMetaPageData *meta)
{
	if (meta->elem_type == VECDB_ELEM_SPARSE)
		return 0;
	return (uint32) VecdbEngineRowBytes((VecdbMetric) meta->metric, meta->dims);
}

// VecdbRowFormat returns how a new index of desc stores its rows (the
// metapage's elem_type): sparsevec under L2, inner product or cosine as
// sparse rows in a sparse index kind, L1 (which the sparse kind does not
// order by) densified; every other type as its own.
VecdbElemType
VecdbRowFormat(const VecdbIndexDesc *desc)
{
	if (desc->elem_type == VECDB_ELEM_SPARSEVEC && desc->metric != VECDB_METRIC_L1)
		return VECDB_ELEM_SPARSE;
	return desc->elem_type;
}

// VecdbMaxDims returns the most dimensions an index of rows of elem_type holds.
int
VecdbMaxDims(VecdbElemType elem_type)
{
	switch (elem_type)
	{
		case VECDB_ELEM_BIT:
			return 64000;
		case VECDB_ELEM_SPARSE:
			return VECDB_MAX_SPARSE_DIM;
		default:
			return VECDB_MAX_DIM;
	}
}

// VecdbMaxRowBytes returns the most bytes one engine row of the index takes.
uint32
VecdbMaxRowBytes(const VecdbMetaPageData *meta)
{
	if (meta->elem_type == VECDB_ELEM_SPARSE)
		return (uint32) (sizeof(uint32) + (size_t) VECDB_MAX_SPARSE_NNZ * (sizeof(int32) + sizeof(float)));
	return VecdbRowBytes(meta);
}

// VecdbRowLength returns the bytes of the engine row at row: row_bytes, or
// when that is 0 (sparse rows) what the row says.
uint32
VecdbRowLength(uint32 row_bytes, const void *row)
{
	return row_bytes > 0 ? row_bytes : (uint32) VecdbSparseRowBytes(row);
}
