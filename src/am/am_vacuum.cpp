// am_vacuum.cpp implements VACUUM for vecdb indexes: ambulkdelete marks the
// rows of dead heap tuples deleted (an invalid TID in a sealed segment's map,
// a flag in a growing record), so searches skip them and their TIDs can be
// reused safely; amvacuumcleanup compacts when thresholds are passed and
// reports statistics.
//
// Locking: bulk delete holds the marks lock (a heavyweight lock on the
// metapage's block number, as GIN's pending-list cleanup does) so that no
// compaction gathers rows or switches while it marks; a compaction building
// its segment meanwhile re-applies the new marks at its switch. Marks are Generic WAL, one
// record per page; the metapage update (deleted counts, versions that tell
// backends to reload TID maps) comes last.
#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// VecdbMarkSegmentTids writes invalid TIDs for the given labels (ascending) into
// a segment's TID chain, one WAL record per page. An entry that straddles
// two pages is written on both in the same record, so no crash or
// interruption can leave a mark half-written (a torn entry would read as a
// live row pointing at a heap block that does not exist).
void
VecdbMarkSegmentTids(Relation index, const VecdbSegmentEntry *entry, const uint64 *labels, uint64 n)
{
	static const ItemPointerData invalid = {{0xFFFF, 0xFFFF}, 0};
	BlockNumber blkno = entry->tid_head;
	uint64		page_no = 0;
	uint64		next = 0;
	StaticAssertStmt(sizeof(ItemPointerData) == 6, "TID map entries are 6 bytes");

	/* the walk below passes each page once: a label out of order would be
	   written before its page (ReapplyMarks once produced such a list) */
	for (next = 1; next < n; next++)
		if (labels[next] <= labels[next - 1])
			elog(ERROR, "vecdb: delete marks for segment %u are not in ascending label order", entry->segment_id);
	next = 0;

	while (next < n && blkno != InvalidBlockNumber)
	{
		uint64		page_start = page_no * VECDB_PAGE_CAPACITY;
		uint64		page_end = page_start + VECDB_PAGE_CAPACITY;
		Buffer		buf = ReadBuffer(index, blkno);
		Buffer		nbuf = InvalidBuffer;
		Page		page = NULL;
		GenericXLogState *state = NULL;
		BlockNumber following;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		VecdbCheckPage(index, BufferGetPage(buf), blkno, VECDB_PAGE_TIDS);
		following = VecdbPageGetOpaque(BufferGetPage(buf))->next;
		for (; next < n && labels[next] * 6 < page_end; next++)
		{
			uint64		at = labels[next] * 6;
			uint64		head = Min(page_end - at, 6);

			if (state == NULL)
			{
				state = GenericXLogStart(index);
				page = GenericXLogRegisterBuffer(state, buf, 0);
			}
			memcpy(PageGetContents(page) + (at - page_start), &invalid, head);
			if (head < 6)
			{
				/* the straddler, last on this page: its tail starts the next page */
				if (following == InvalidBlockNumber)
					VecdbCorrupt(index, "has a TID map that ends inside an entry in segment %u", entry->segment_id);
				nbuf = ReadBuffer(index, following);
				LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
				VecdbCheckPage(index, BufferGetPage(nbuf), following, VECDB_PAGE_TIDS);
				memcpy(PageGetContents(GenericXLogRegisterBuffer(state, nbuf, 0)), (const char *) &invalid + head,
					   6 - head);
			}
		}
		if (state)
			GenericXLogFinish(state);
		if (BufferIsValid(nbuf))
			UnlockReleaseBuffer(nbuf);
		UnlockReleaseBuffer(buf);
		blkno = following;
		page_no++;
		VecdbFaultPoint("vacuum_mark");
		vacuum_delay_point();
	}
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
	uint64		seg_deleted[VECDB_MAX_SEGMENTS];
	uint64		grow_deleted;
	bool		changed = false;
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
		VecdbSegment *seg = VecdbLoadSegment(index, entry, meta->generation, false, 0, NULL);
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
			VecdbMarkSegmentTids(index, entry, labels, n);
		seg_marked[i] = n;
		/* counted from the map: also right after an interrupted earlier bulk delete */
		seg_deleted[i] = seg->deleted_count + n;
		changed |= seg_deleted[i] != entry->deleted;
		marked_total += n;
		pfree(labels);
		VecdbSegmentUnref(seg);
	}
	grow_deleted = VecdbGrowingMarkDeleted(index, &meta->growing, callback, callback_state);
	marked_total += grow_deleted - Min(grow_deleted, meta->growing.deleted);
	changed |= grow_deleted != meta->growing.deleted;

	if (changed)
	{
		metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		m = VecdbPageGetMeta(GenericXLogRegisterBuffer(xlog, metabuf, 0));
		VecdbCheckMeta(index, m);
		/* no compaction switches under the marks lock, so the directory is the one read above */
		for (i = 0; i < meta->nsegments; i++)
			if (seg_marked[i] > 0 || seg_deleted[i] != m->segments[i].deleted)
			{
				m->segments[i].deleted = seg_deleted[i];
				m->segments[i].tid_version++;
			}
		if (grow_deleted != m->growing.deleted)
		{
			m->growing.deleted = grow_deleted;
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

// PageIsOrphan reports whether a vecdb page belongs to nothing the metapage
// references: a segment not in the directory nor retired, or a growing page
// before the head (retired and no longer listed).
static bool
PageIsOrphan(const VecdbMetaPageData *meta, VecdbPageOpaque opaque)
{
	uint32		i;
	bool		growing_pending = false;

	for (i = 0; i < meta->npending; i++)
	{
		if (meta->pending[i].owner == opaque->owner)
			return false;
		growing_pending |= meta->pending[i].kind == VECDB_PAGE_GROWING;
	}
	if (opaque->kind == VECDB_PAGE_GROWING)
	{
		if (opaque->owner != meta->growing.stream_id)
			return true;
		/* pages at or past the head are live (appends may have added some since the copy) */
		return !growing_pending && meta->growing.head != InvalidBlockNumber &&
			(int32) (opaque->seq - (uint32) meta->growing.head_page_no) < 0;
	}
	for (i = 0; i < meta->nsegments; i++)
		if (meta->segments[i].segment_id == opaque->owner)
			return false;
	/* ids at or past next_owner_id may belong to a segment being written */
	return opaque->owner < meta->next_owner_id;
}

// SweepPages offers every free page to the free-space map (the map is not
// crash-safe nor replicated) and frees pages nothing references, left by an
// interrupted compaction or free. It runs under the compaction lock and the
// marks lock, so no segment is being written; it skips the sweep when either
// is taken.
static void
SweepPages(Relation index)
{
	VecdbMetaPageData *meta;
	BlockNumber nblocks;
	BlockNumber blkno;

	if (!ConditionalLockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock))
		return;
	if (!ConditionalLockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock))
	{
		UnlockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
		return;
	}
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(index, meta);
	nblocks = RelationGetNumberOfBlocks(index);
	for (blkno = VECDB_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		bool		free_it = false;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (PageIsNew(page))
			free_it = true;
		else if (VecdbPageLooksValid(page))
		{
			VecdbPageOpaque opaque = VecdbPageGetOpaque(page);

			if (opaque->kind == VECDB_PAGE_FREE)
				free_it = true;
			else if (opaque->kind != VECDB_PAGE_META && PageIsOrphan(meta, opaque))
			{
				GenericXLogState *xlog = GenericXLogStart(index);
				Page		p = GenericXLogRegisterBuffer(xlog, buf, 0);

				VecdbPageGetOpaque(p)->kind = VECDB_PAGE_FREE;
				((PageHeader) p)->pd_lower = MAXALIGN(SizeOfPageHeaderData);
				GenericXLogFinish(xlog);
				free_it = true;
			}
		}
		UnlockReleaseBuffer(buf);
		if (free_it)
			RecordFreeIndexPage(index, blkno);
		vacuum_delay_point();
	}
	pfree(meta);
	UnlockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
	UnlockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
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
	SweepPages(info->index);
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
