// am_vacuum.cpp implements VACUUM for vecdb indexes: ambulkdelete marks the
// rows of dead heap tuples deleted (an invalid TID in a sealed segment's map,
// a flag in a growing record), so searches skip them and their TIDs can be
// reused safely; amvacuumcleanup compacts when thresholds are passed and
// reports statistics.
//
// Locking: bulk delete holds the compaction lock (a heavyweight lock on the
// metapage's block number, as GIN's pending-list cleanup does) so that no
// compaction copies a row it is about to mark. Marks are Generic WAL, one
// record per page; the metapage update (deleted counts, versions that tell
// backends to reload TID maps) comes last.
#include "am/am.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// MarkSegmentTids writes invalid TIDs for the given labels (ascending) into
// a segment's TID chain.
static void
MarkSegmentTids(Relation index, const VecdbSegmentEntry *entry, const uint64 *labels, uint64 n)
{
	static const ItemPointerData invalid = {{0xFFFF, 0xFFFF}, 0};
	BlockNumber blkno = entry->tid_head;
	uint64		page_no = 0;
	uint64		next = 0;
	StaticAssertStmt(sizeof(ItemPointerData) == 6, "TID map entries are 6 bytes");

	while (next < n && blkno != InvalidBlockNumber)
	{
		uint64		page_start = page_no * VECDB_PAGE_CAPACITY;
		uint64		page_end = page_start + VECDB_PAGE_CAPACITY;
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		GenericXLogState *state = NULL;
		BlockNumber following;
		uint64		i;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		VecdbCheckPage(index, BufferGetPage(buf), blkno, VECDB_PAGE_TIDS);
		following = VecdbPageGetOpaque(BufferGetPage(buf))->next;
		page = BufferGetPage(buf);
		/* an entry may straddle two pages: it is written piecewise on each */
		for (i = next; i < n && labels[i] * 6 < page_end; i++)
		{
			uint64		from = Max(labels[i] * 6, page_start);
			uint64		to = Min(labels[i] * 6 + 6, page_end);

			if (state == NULL)
			{
				state = GenericXLogStart(index);
				page = GenericXLogRegisterBuffer(state, buf, 0);
			}
			memcpy(PageGetContents(page) + (from - page_start), (const char *) &invalid + (from - labels[i] * 6),
				   to - from);
		}
		/* the next page starts with the labels ending on it (a straddler counts on both) */
		while (next < n && labels[next] * 6 + 6 <= page_end)
			next++;
		if (state)
			GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		blkno = following;
		page_no++;
		CHECK_FOR_INTERRUPTS();
	}
}

// NextGrowingBlock returns the block after blkno in the growing chain.
static BlockNumber
NextGrowingBlock(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);
	BlockNumber next;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	VecdbCheckPage(index, BufferGetPage(buf), blkno, VECDB_PAGE_GROWING);
	next = VecdbPageGetOpaque(BufferGetPage(buf))->next;
	UnlockReleaseBuffer(buf);
	return next;
}

// MarkGrowing flags the growing records in [g.start, g.end) whose TIDs the
// callback reports dead; returns how many it flagged. It visits the records
// page by page: a record's header (flags, length) never straddles pages.
static uint64
MarkGrowing(Relation index, const VecdbGrowing *g, IndexBulkDeleteCallback callback, void *state)
{
	BlockNumber blkno = g->head;
	uint64		page_no = g->head_page_no;
	uint64		pos = g->start_pos;
	uint64		left = g->end - g->start;
	uint64		marked = 0;

	while (left > 0)
	{
		Buffer		buf;
		Page		page;
		GenericXLogState *xlog = NULL;

		pos = VecdbGrowingNextRecord(pos);
		while (page_no < pos / VECDB_PAGE_CAPACITY)
		{
			if (blkno == InvalidBlockNumber)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" has a broken growing segment chain", RelationGetRelationName(index)),
						 errhint("Please REINDEX it.")));
			blkno = NextGrowingBlock(index, blkno);
			page_no++;
		}
		if (blkno == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a broken growing segment chain", RelationGetRelationName(index)),
					 errhint("Please REINDEX it.")));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		VecdbCheckPage(index, BufferGetPage(buf), blkno, VECDB_PAGE_GROWING);
		page = BufferGetPage(buf);
		while (left > 0 && VecdbGrowingNextRecord(pos) / VECDB_PAGE_CAPACITY == page_no)
		{
			uint32		off;
			VecdbGrowingRecordHeader *h;

			pos = VecdbGrowingNextRecord(pos);
			off = (uint32) (pos % VECDB_PAGE_CAPACITY);
			h = (VecdbGrowingRecordHeader *) (PageGetContents(page) + off);
			if (h->length < sizeof(VecdbGrowingRecordHeader) || h->length % 8 != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" has a growing record of a bad length", RelationGetRelationName(index)),
						 errhint("Please REINDEX it.")));
			pos += h->length;
			left--;
			if ((h->flags & VECDB_RECORD_DELETED) || !callback(&h->tid, state))
				continue;
			if (xlog == NULL)
			{
				xlog = GenericXLogStart(index);
				page = GenericXLogRegisterBuffer(xlog, buf, 0);
				h = (VecdbGrowingRecordHeader *) (PageGetContents(page) + off);
			}
			h->flags |= VECDB_RECORD_DELETED;
			marked++;
		}
		if (xlog)
			GenericXLogFinish(xlog);
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	return marked;
}

// VecdbCountLive returns the rows of a metapage that are not marked deleted.
static double
CountLive(const VecdbMetaPageData *meta)
{
	double		live = 0;
	uint32		i;

	for (i = 0; i < meta->nsegments; i++)
		live += (double) (meta->segments[i].rows - meta->segments[i].deleted);
	live += (double) (meta->growing.end - meta->growing.start - meta->growing.deleted);
	return live;
}

// vecdbbulkdelete marks the index rows of dead heap tuples deleted.
IndexBulkDeleteResult *
vecdbbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
				void *callback_state)
{
	Relation	index = info->index;
	VecdbMetaPageData *meta;
	uint64		marked_total = 0;
	uint64		seg_marked[VECDB_MAX_SEGMENTS];
	uint64		grow_marked;
	uint32		i;
	MemoryContext cxt;
	MemoryContext old;
	Buffer		metabuf;
	GenericXLogState *xlog;
	VecdbMetaPage m;

	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb bulkdelete", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	LockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(index, meta);

	for (i = 0; i < meta->nsegments; i++)
	{
		const VecdbSegmentEntry *entry = &meta->segments[i];
		VecdbSegment *seg = VecdbLoadSegment(index, entry, meta->generation, false);
		uint64	   *labels = (uint64 *) MemoryContextAllocHuge(CurrentMemoryContext,
															   Max(entry->rows, 1) * sizeof(uint64));
		uint64		n = 0;
		uint64		l;

		for (l = 0; l < entry->rows; l++)
		{
			if (!ItemPointerIsValid(&seg->tids[l]))
				continue;
			if (callback(&seg->tids[l], callback_state))
				labels[n++] = l;
			if ((l & 4095) == 0)
				vacuum_delay_point();
		}
		if (n > 0)
			MarkSegmentTids(index, entry, labels, n);
		seg_marked[i] = n;
		marked_total += n;
		pfree(labels);
		VecdbSegmentUnref(seg);
	}
	grow_marked = MarkGrowing(index, &meta->growing, callback, callback_state);
	marked_total += grow_marked;

	if (marked_total > 0)
	{
		metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		m = VecdbPageGetMeta(GenericXLogRegisterBuffer(xlog, metabuf, 0));
		VecdbCheckMeta(index, m);
		/* compaction is locked out, so the directory is the one read above */
		for (i = 0; i < meta->nsegments; i++)
			if (seg_marked[i] > 0)
			{
				m->segments[i].deleted += seg_marked[i];
				m->segments[i].tid_version++;
			}
		if (grow_marked > 0)
		{
			m->growing.deleted += grow_marked;
			m->growing.version++;
		}
		memcpy(meta, m, sizeof(VecdbMetaPageData));
		GenericXLogFinish(xlog);
		UnlockReleaseBuffer(metabuf);
	}
	UnlockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);

	stats->tuples_removed += (double) marked_total;
	stats->num_index_tuples = CountLive(meta);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return stats;
}

// vecdbvacuumcleanup compacts when the growing segment, deleted rows or the
// segment count pass their thresholds, and reports statistics.
IndexBulkDeleteResult *
vecdbvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	VecdbMetaPageData *meta;

	if (info->analyze_only)
		return stats;
	VecdbCompact(info->index, false, false);
	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(info->index, meta);
	stats->num_index_tuples = CountLive(meta);
	stats->estimated_count = false;
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	IndexFreeSpaceMapVacuum(info->index);
	pfree(meta);
	return stats;
}
