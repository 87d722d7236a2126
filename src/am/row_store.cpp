// row_store.cpp keeps the full rows of a segment whose engine index holds
// only compact codes (HNSW_SQ, hnsw's sq_bits option): they are written on
// the segment's blob chain after the engine bytes, starting on a fresh page,
// followed by a directory of their pages (a count, then each page's block);
// the directory entry's rows_dir points at the directory's first page.
// A loaded segment keeps the directory only; the engine asks for rows to
// re-rank, and they are read one at a time through the buffer manager, so
// they stay in shared buffers and the OS cache, not in vecdb's memory.
//
// Row i of row_bytes lives at byte i * row_bytes of the rows' pages (rows
// may straddle pages); data page p is chain page blob_pages + p, and every
// page read is checked for its owner, kind and position, so a page recycled
// by a later compaction is noticed (the query is then retried, as for a
// chain read).
#include "am/am.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

// VecdbRowsReader is a loaded segment's way to its rows.
struct VecdbRowsReader
{
	Relation	index;			/* bound per scan (VecdbRowsBind) */
	uint32		segment_id;
	uint32		first_seq;		/* chain position of data page 0 */
	uint32		row_bytes;
	uint32		npages;
	uint64		generation;
	BlockNumber *pages;
};

static void VecdbRowsRead(void *arg, const uint64_t *ids, size_t n, float *out);

// ChainSink is the engine's byte sink onto a page chain.
static void
ChainSink(void *arg, const void *data, size_t n)
{
	VecdbChainWrite((VecdbChainWriter *) arg, data, n);
}

// VecdbRowsPages returns the data pages of a segment's rows (0 when it
// keeps none apart).
uint32
VecdbRowsPages(const VecdbSegmentEntry *entry, uint32 row_bytes)
{
	if (entry->rows_dir == 0 || entry->rows_dir == InvalidBlockNumber)
		return 0;
	return (uint32) ((entry->rows * row_bytes + VECDB_PAGE_CAPACITY - 1) / VECDB_PAGE_CAPACITY);
}

// VecdbRowsDirPages returns the pages of the directory of npages data pages.
uint32
VecdbRowsDirPages(uint32 npages)
{
	return npages == 0 ? 0 : (uint32) ((sizeof(uint32) + (uint64) npages * sizeof(BlockNumber) +
										VECDB_PAGE_CAPACITY - 1) / VECDB_PAGE_CAPACITY);
}

// VecdbWriteRows appends engine's full rows and their page directory to w,
// the chain that holds its serialized bytes, and records the directory in
// entry (whose blob_pages must already count the engine's pages).
void
VecdbWriteRows(VecdbChainWriter *w, const VecdbEngineIndex *engine, VecdbSegmentEntry *entry)
{
	BlockNumber *log;
	uint32		npages;

	Assert(w->pages == entry->blob_pages);
	w->page_log_cap = 64;
	w->page_log_len = 0;
	w->page_log = (BlockNumber *) palloc(sizeof(BlockNumber) * w->page_log_cap);
	/* data page 0 is new (logged by the break), or the empty page we are on */
	VecdbChainWriterBreak(w);
	if (w->page_log_len == 0)
		w->page_log[w->page_log_len++] = w->blkno;
	VecdbEngineSerializeRows(engine, ChainSink, w);
	log = w->page_log;
	npages = w->page_log_len;
	w->page_log = NULL;
	VecdbChainWriterBreak(w);
	entry->rows_dir = w->blkno;
	VecdbChainWrite(w, &npages, sizeof(npages));
	VecdbChainWrite(w, log, sizeof(BlockNumber) * npages);
	pfree(log);
}

// VecdbRowsOpen reads a segment's row directory and gives engine its row
// reader; NULL when the segment keeps no rows apart.
VecdbRowsReader *
VecdbRowsOpen(Relation index, const VecdbSegmentEntry *entry, uint64 generation, uint32 row_bytes,
			  VecdbEngineIndex *engine)
{
	VecdbRowsReader *rr;
	VecdbChainReader r;
	uint32		npages;
	uint32		want = VecdbRowsPages(entry, row_bytes);
	uint32		dir_pages;

	if (want == 0)
		return NULL;
	dir_pages = VecdbRowsDirPages(want);
	rr = (VecdbRowsReader *) palloc0(sizeof(VecdbRowsReader));
	rr->index = index;
	rr->segment_id = entry->segment_id;
	rr->first_seq = entry->blob_pages;
	rr->row_bytes = row_bytes;
	rr->generation = generation;
	VecdbChainReaderBegin(&r, index, VECDB_PAGE_BLOB, entry->segment_id, entry->rows_dir, dir_pages, generation);
	r.seq = entry->blob_pages + want;
	if (!VecdbChainRead(&r, &npages, sizeof(npages)) || npages != want)
		VecdbCorrupt(index, "has a row directory of %u pages for %u in segment %u", npages, want,
					 entry->segment_id);
	rr->pages = (BlockNumber *) palloc_extended(sizeof(BlockNumber) * (Size) npages, MCXT_ALLOC_HUGE);
	if (!VecdbChainRead(&r, rr->pages, sizeof(BlockNumber) * npages))
		VecdbCorrupt(index, "has a short row directory in segment %u", entry->segment_id);
	VecdbChainReaderEnd(&r);
	rr->npages = npages;
	VecdbEngineSetRowReader(engine, VecdbRowsRead, rr);
	return rr;
}

// VecdbRowsBind points a loaded segment's reader at the index as opened now.
void
VecdbRowsBind(VecdbRowsReader *reader, Relation index)
{
	if (reader != NULL)
		reader->index = index;
}

// RowsRecycled raises the error for a data page that no longer holds the
// segment's rows: retryable when the directory changed since the segment was
// loaded, else corruption.
static void pg_attribute_noreturn()
RowsRecycled(VecdbRowsReader *rr, BlockNumber blkno)
{
	VecdbMetaPageData *meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));

	VecdbReadMeta(rr->index, meta);
	if (meta->generation == rr->generation)
		VecdbCorrupt(rr->index, "has a broken row page at block %u of segment %u", blkno, rr->segment_id);
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not read a row of index \"%s\": it was compacted concurrently",
					RelationGetRelationName(rr->index)),
			 errhint("Retry the query.")));
}

// VecdbRowsRead is the engine's row reader: rows ids[0 .. n-1] into out.
static void
VecdbRowsRead(void *arg, const uint64_t *ids, size_t n, float *out)
{
	VecdbRowsReader *rr = (VecdbRowsReader *) arg;
	char	   *dst = (char *) out;

	for (size_t i = 0; i < n; i++)
	{
		uint64		at = ids[i] * rr->row_bytes;
		uint32		left = rr->row_bytes;

		while (left > 0)
		{
			uint64		p = at / VECDB_PAGE_CAPACITY;
			uint32		off = (uint32) (at % VECDB_PAGE_CAPACITY);
			uint32		take = Min(left, (uint32) (VECDB_PAGE_CAPACITY - off));
			Buffer		buf;
			Page		page;
			VecdbPageOpaque opaque;

			if (p >= rr->npages)
				VecdbCorrupt(rr->index, "was asked for row " UINT64_FORMAT " past the rows of segment %u",
							 (uint64) ids[i], rr->segment_id);
			buf = ReadBuffer(rr->index, rr->pages[p]);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			opaque = VecdbPageGetOpaque(page);
			if (!VecdbPageLooksValid(page) || opaque->owner != rr->segment_id ||
				opaque->kind != VECDB_PAGE_BLOB || opaque->seq != rr->first_seq + p ||
				((PageHeader) page)->pd_lower - MAXALIGN(SizeOfPageHeaderData) < off + take)
			{
				BlockNumber blkno = rr->pages[p];

				UnlockReleaseBuffer(buf);
				RowsRecycled(rr, blkno);
			}
			memcpy(dst, PageGetContents(page) + off, take);
			UnlockReleaseBuffer(buf);
			dst += take;
			at += take;
			left -= take;
		}
	}
}
