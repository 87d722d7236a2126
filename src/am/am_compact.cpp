// am_compact.cpp implements compaction: the growing segment's live rows, the
// live rows of sealed segments with many deletes, and small sealed segments
// (size-tiered) are rebuilt into one new sealed segment, which replaces them
// in a single WAL-logged metapage switch. When one chosen segment holds most
// of the rows (vecdb.merge_onto_fraction) the others are added to its graph
// or lists instead (ChooseOnto): the merge costs the rows it adds, so the
// tiering may also fold small segments into one up to kOntoTierFactor times
// their size, which keeps the segment count, and a query's cost, low.
//
// Readers and writers keep working: rows are gathered and the new segment is
// built and written without the metapage lock (appends continue past the
// row count read at the start); only the switch takes it, briefly. The
// compaction lock (VECDB_COMPACT_LOCKNO) is held throughout, so one
// compaction runs at a time and VACUUM's page sweep keeps off the pages
// being written. The marks lock (the metapage block's heavyweight lock,
// held by bulk delete while it marks) is held only while rows are gathered
// and at the switch, so VACUUM does not wait for a rebuild: at the switch,
// the rows it marked in the inputs meanwhile are marked in the new segment
// too (ReapplyMarks), before the directory names it. Pages of replaced
// chains are retired to the metapage's pending list with the next xid at
// the switch, and a later compaction frees them once that xid is removable
// for everyone (as nbtree recycles deleted pages): until every snapshot
// that may have read the old directory is gone, including a hot standby's
// reported through hot_standby_feedback. So a slow scan, or an open cursor
// still reading its segments' pages, is not handed recycled pages (and
// notices, by page owner, if it ever is). A standby without feedback gets a
// recovery conflict before the pages are freed (LogReuseConflict). A
// compaction whose chains would not fit the list waits (FreeRetired,
// ReportPendingFull).
// A crash before the switch leaves the new segment's pages unreferenced.
#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "access/nbtxlog.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

VecdbCompactProgressHook vecdb_compact_progress_hook = NULL;

// progress is the running compaction's state (active while one runs here).
static VecdbCompactProgress progress;
static bool progress_active = false;

// EndProgress reports a compaction's end (the reset callback of its memory
// context: also after an ERROR).
static void
EndProgress(void *arg)
{
	if (!progress_active)
		return;
	progress_active = false;
	progress.phase = VECDB_COMPACT_DONE;
	if (vecdb_compact_progress_hook)
		vecdb_compact_progress_hook(&progress);
}

// Report publishes the progress to the hook, if any.
static void
Report(VecdbCompactPhase phase)
{
	progress.phase = phase;
	if (progress_active && vecdb_compact_progress_hook)
		vecdb_compact_progress_hook(&progress);
}

// VecdbCompactRowsAdded counts rows added to the new segment's index.
void
VecdbCompactRowsAdded(uint64 done, uint64 total)
{
	if (!progress_active)
		return;
	progress.rows_done = done;
	progress.rows_total = total;
	/* once every row is in, the segment is being written */
	Report(done >= total ? VECDB_COMPACT_WRITE : VECDB_COMPACT_BUILD);
}

// kReconstructSlice is how many rows one Reconstruct call copies.
static const uint64 kReconstructSlice = 4096;

// LiveRows returns a segment's rows not marked deleted.
static uint64
LiveRows(const VecdbSegmentEntry *e)
{
	return e->rows - e->deleted;
}

// RetireEnd returns the end (exclusive, in pending[]) of batch b of meta.
static uint32
RetireEnd(const VecdbMetaPageData *meta, uint32 b)
{
	return b + 1 < meta->nretire ? Min(meta->retire[b + 1].first, meta->npending) : meta->npending;
}

// NormalizeRetire drops the batches that cover no pending chain (left empty,
// or beyond the list after a vecdb that kept no horizons freed it), so that
// every batch's first is below npending and above its predecessor's.
static void
NormalizeRetire(VecdbMetaPageData *m)
{
	uint32		out = 0;
	uint32		b;

	for (b = 0; b < m->nretire; b++)
	{
		if (m->retire[b].first >= m->npending || (out > 0 && m->retire[b].first <= m->retire[out - 1].first))
			continue;
		m->retire[out++] = m->retire[b];
	}
	m->nretire = out;
	memset(&m->retire[out], 0, sizeof(VecdbRetireBatch) * (VECDB_MAX_RETIRE_BATCHES - out));
}

// DropPendingPrefix removes the first n pending chains of m and shifts the
// batches with them.
static void
DropPendingPrefix(VecdbMetaPageData *m, uint32 n)
{
	uint32		b;

	NormalizeRetire(m);
	memmove(m->pending, m->pending + n, sizeof(VecdbPendingFree) * (m->npending - n));
	memset(&m->pending[m->npending - n], 0, sizeof(VecdbPendingFree) * n);
	m->npending -= n;
	for (b = 0; b < m->nretire; b++)
		m->retire[b].first = m->retire[b].first > n ? m->retire[b].first - n : 0;
	/* batches wholly freed now share first 0 with the one still pending: keep only the last of those */
	while (m->nretire > 1 && m->retire[1].first == 0)
	{
		memmove(&m->retire[0], &m->retire[1], sizeof(VecdbRetireBatch) * (m->nretire - 1));
		m->nretire--;
	}
	NormalizeRetire(m);
}

// FreeablePending returns how many of meta's pending chains, from the first,
// no snapshot can still need: those before the first batch (retired before
// horizons were kept), then each batch whose xid every running transaction,
// and every standby reporting through hot_standby_feedback, has passed.
// The xids ascend, so the first batch still needed ends the count. The
// shared horizon (NULL relation, as nbtree's page recycling in PostgreSQL
// 15) counts every database's snapshots, which is conservative. *last is
// the batch freed last (its xid the latest of those freed), or -1 if none.
static uint32
FreeablePending(const VecdbMetaPageData *meta, int *last)
{
	uint32		n = meta->nretire > 0 ? Min(meta->retire[0].first, meta->npending) : meta->npending;
	uint32		b;

	*last = -1;
	for (b = 0; b < meta->nretire; b++)
	{
		if (!GlobalVisCheckRemovableFullXid(NULL, FullTransactionIdFromU64(meta->retire[b].xid)))
			break;
		n = Max(n, RetireEnd(meta, b));
		*last = (int) b;
	}
	return n;
}

// LogReuseConflict makes hot standbys cancel (after
// max_standby_streaming_delay) the queries whose snapshot may still read
// pages retired up to xid, before those pages are freed: a standby without
// hot_standby_feedback does not hold the primary's horizon. Generic WAL
// carries no conflict, and a resource manager of our own would leave a
// standby that does not preload vecdb unable to replay; so this logs core
// nbtree's XLOG_BTREE_REUSE_PAGE, exactly as _bt_log_reuse_page does in
// PostgreSQL 15. Its redo touches no page: it only calls
// ResolveRecoveryConflictWithSnapshotFullXid(xid, node), which conflicts
// with the snapshots whose xmin is at or before xid, in the index's
// database. One record covers every batch freed with it: their xids are at
// most this one. The struct is PostgreSQL 15's (16 renamed and extended it:
// docs/decisions.md, "Page recycling horizon").
static void
LogReuseConflict(Relation index, BlockNumber block, FullTransactionId xid)
{
	xl_btree_reuse_page xlrec;

	if (!XLogStandbyInfoActive() || !RelationNeedsWAL(index))
		return;
	xlrec.node = index->rd_node;
	xlrec.block = block;
	xlrec.latestRemovedFullXid = xid;
	XLogBeginInsert();
	XLogRegisterData((char *) &xlrec, SizeOfBtreeReusePage);
	XLogInsert(RM_BTREE_ID, XLOG_BTREE_REUSE_PAGE);
}

// FreeRetired frees the chains earlier compactions retired that no snapshot
// can still need (FreeablePending); the others stay pending. They are taken
// off the list (logged) first: were they taken off after, an interrupted
// free would walk the chains again later, when freed pages may have been
// reused by the same growing stream. An interruption now only leaks pages,
// which VACUUM's sweep reclaims (nothing needs them any more). Standbys
// learn first that their older queries must end (LogReuseConflict).
static void
FreeRetired(Relation index, VecdbMetaPageData *meta)
{
	Buffer		metabuf;
	GenericXLogState *xlog;
	Page		page;
	VecdbPendingFree pending[VECDB_MAX_PENDING_FREE];
	uint32		n;
	uint32		i;
	int			last;

	NormalizeRetire(meta);
	n = FreeablePending(meta, &last);
	if (n == 0)
		return;
	memcpy(pending, meta->pending, sizeof(VecdbPendingFree) * n);
	/* chains retired before horizons were kept (no batch) have no xid to conflict on */
	if (last >= 0)
		LogReuseConflict(index, pending[meta->retire[last].first].head,
						 FullTransactionIdFromU64(meta->retire[last].xid));
	metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xlog, metabuf, 0);
	VecdbMetaCoverAll(page);
	/* the compaction lock keeps the list as read: only compactions change it */
	DropPendingPrefix(VecdbPageGetMeta(page), n);
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(metabuf);
	DropPendingPrefix(meta, n);
	for (i = 0; i < n; i++)
	{
		VecdbFreePending(index, &pending[i]);
		VecdbFaultPoint("free_retired");
	}
	/* the map's upper levels learn of the freed pages only from a vacuum of it */
	IndexFreeSpaceMapVacuum(index);
}

// RetiredChains returns how many chains a compaction of the chosen segments
// (and the growing segment's pages, when take_growing) adds to the pending
// list: at most, as the growing segment may leave none.
static uint32
RetiredChains(const VecdbMetaPageData *meta, const bool *chosen, bool take_growing)
{
	uint32		n = take_growing ? 1 : 0;
	uint32		i;

	for (i = 0; i < meta->nsegments; i++)
		if (chosen[i])
			n += (meta->segments[i].blob_head != InvalidBlockNumber) +
				(meta->segments[i].tid_head != InvalidBlockNumber) +
				(meta->segments[i].cols_head != InvalidBlockNumber);
	return n;
}

// ReportPendingFull says that a compaction was skipped because the pending
// list has no room for the chains it would retire: as a NOTICE to a client
// (vecdb_compact, VACUUM), in the server log at most once a minute for the
// background (autovacuum, the seal worker).
static void
ReportPendingFull(Relation index, const VecdbMetaPageData *meta, uint32 need)
{
	static TimestampTz last_logged = 0;
	bool		client = MyBackendType == B_BACKEND;
	TimestampTz now = GetCurrentTimestamp();

	if (!client && last_logged != 0 && !TimestampDifferenceExceeds(last_logged, now, 60 * 1000))
		return;
	if (!client)
		last_logged = now;
	ereport(client ? NOTICE : LOG,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("index \"%s\" was not compacted: its retired pages are still needed by older snapshots",
					RelationGetRelationName(index)),
			 errdetail("%u retired page chains are waiting for the transactions that may read them; "
					   "the compaction would retire %u more, %u fit.",
					   meta->npending, need, VECDB_MAX_PENDING_FREE - meta->npending),
			 errhint("End long-running transactions (on standbys too, with hot_standby_feedback on); "
					 "compaction resumes once they end.")));
}

// kOntoTierFactor bounds the size of a segment that smaller ones are added
// to: at most this many times their rows, so each merge rewrites at most
// that much more than it adds (its pages are written anew).
static const uint64 kOntoTierFactor = 8;

// OntoCandidate says whether other rows may be added to segment e (its
// graph or lists kept): merges onto are on, this is not a full compaction,
// e has few deletes (its dead rows stay, masked, until a full one), and it
// holds its rows itself.
static bool
OntoCandidate(const VecdbSegmentEntry *e, bool full)
{
	/* a segment keeping its rows apart (HNSW_SQ) stores codes: nothing can be added */
	return !full && vecdb_merge_onto_fraction > 0.0 && LiveRows(e) > 0 && (e->rows_dir == 0 || e->rows_dir == InvalidBlockNumber) &&
		!(e->deleted > 0 && (double) e->deleted >= vecdb_compact_deleted_fraction * (double) e->rows);
}

// ChooseInputs marks the segments to rewrite and says whether the growing
// segment is taken, and how many of its live rows (*growing_take); false
// when there is nothing worth doing. Unless full, the new segment stays
// within maintenance_work_mem (VecdbSegmentRowBudget): a growing segment
// larger than that is sealed a part at a time, and segments are folded in
// only while they fit; only the directory's segment limit overrides it.
static bool
ChooseInputs(const VecdbMetaPageData *meta, bool full, bool *chosen, bool *take_growing, uint64 *growing_take)
{
	const VecdbGrowing *g = &meta->growing;
	uint64		growing_rows = g->end - g->start;
	uint64		growing_live = growing_rows - g->deleted;
	uint64		budget = full ? UINT64_MAX : VecdbSegmentRowBudget(meta);
	uint64		acc = 0;
	uint32		i;
	uint32		nchosen = 0;
	uint32		remaining;
	bool		any_deleted = false;

	*take_growing = growing_rows > 0 &&
		(full || growing_live >= (uint64) vecdb_compact_growing_rows || growing_live == 0);
	*growing_take = *take_growing ? Min(growing_live, budget) : 0;
	acc = *growing_take;
	for (i = 0; i < meta->nsegments; i++)
	{
		const VecdbSegmentEntry *e = &meta->segments[i];

		chosen[i] = full || (e->deleted > 0 && (double) e->deleted >= vecdb_compact_deleted_fraction * (double) e->rows);
		if (chosen[i])
		{
			acc += LiveRows(e);
			nchosen++;
			any_deleted |= e->deleted > 0;
		}
	}
	/* size-tiered: fold in the smallest segments while they are no larger than twice the new one */
	for (;;)
	{
		int			best = -1;

		for (i = 0; i < meta->nsegments; i++)
			if (!chosen[i] && (best < 0 || LiveRows(&meta->segments[i]) < LiveRows(&meta->segments[best])))
				best = (int) i;
		if (best < 0 || acc == 0 || acc + LiveRows(&meta->segments[best]) > budget)
			break;
		/* a larger one may still take the rest, when the merge adds to it (ChooseOnto) */
		if (LiveRows(&meta->segments[best]) > 2 * acc &&
			!(OntoCandidate(&meta->segments[best], full) &&
			  LiveRows(&meta->segments[best]) <= kOntoTierFactor * acc))
			break;
		chosen[best] = true;
		acc += LiveRows(&meta->segments[best]);
		nchosen++;
		any_deleted |= meta->segments[best].deleted > 0;
	}
	/*
	 * Too many segments: merge the smallest, while the new segment fits
	 * maintenance_work_mem. Only a full directory overrides the budget (the
	 * new segment needs a slot); otherwise the count stays over
	 * vecdb.max_segments until memory allows, or vecdb_compact(idx, true).
	 */
	remaining = meta->nsegments - nchosen + ((acc > 0 || nchosen > 0 || *take_growing) ? 1 : 0);
	while (remaining > (uint32) vecdb_max_segments)
	{
		int			best = -1;

		for (i = 0; i < meta->nsegments; i++)
			if (!chosen[i] && (best < 0 || LiveRows(&meta->segments[i]) < LiveRows(&meta->segments[best])))
				best = (int) i;
		if (best < 0)
			break;
		if (acc + LiveRows(&meta->segments[best]) > budget && meta->nsegments < VECDB_MAX_SEGMENTS)
			break;
		chosen[best] = true;
		acc += LiveRows(&meta->segments[best]);
		nchosen++;
		if (nchosen > 1 || *take_growing)
			remaining--;
	}
	if (!*take_growing && nchosen == 0)
		return false;
	/* rewriting one clean segment alone changes nothing */
	if (!*take_growing && nchosen == 1 && !any_deleted)
		return false;
	return true;
}

// CopyTids returns a copy of a loaded segment's TID map, the delete marks as
// gathered (ReapplyMarks compares them at the switch).
static ItemPointerData *
CopyTids(const VecdbSegment *seg, const VecdbSegmentEntry *entry)
{
	ItemPointerData *tids = (ItemPointerData *) MemoryContextAllocHuge(CurrentMemoryContext,
																	   Max(entry->rows, 1) * sizeof(ItemPointerData));

	memcpy(tids, seg->tids, entry->rows * sizeof(ItemPointerData));
	return tids;
}

// GatherSegmentRows appends the live rows of a sealed segment to batch and
// returns a copy of its TID map.
static ItemPointerData *
GatherSegmentRows(Relation index, const VecdbMetaPageData *meta, const VecdbSegmentEntry *entry,
				  VecdbRowBatch *batch)
{
	VecdbSegment *seg = VecdbLoadSegment(index, entry, meta->generation, true, 0, NULL);
	ItemPointerData *tids = CopyTids(seg, entry);
	int64	   *labels = (int64 *) palloc(sizeof(int64) * kReconstructSlice);
	size_t		rows_cap = (size_t) Max(batch->row_bytes, 4096) * kReconstructSlice;
	char	   *rows = (char *) MemoryContextAllocHuge(CurrentMemoryContext, rows_cap);
	char	   *blob = (char *) palloc(VECDB_MAX_SCALAR_BYTES + 8);
	VecdbScalarLayout layout;
	uint64		l = 0;

	VecdbScalarLayoutFor(index, &layout);
	while (l < entry->rows)
	{
		uint64		n = 0;
		uint64		i;
		const char *at;

		for (; l < entry->rows && n < kReconstructSlice; l++)
			if (ItemPointerIsValid(&seg->tids[l]))
				labels[n++] = (int64) l;
		if (n == 0)
			continue;
		{
			size_t		need = VecdbEngineReconstructBytes(seg->engine, labels, n);

			if (need > rows_cap)
			{
				rows_cap = need;
				rows = (char *) repalloc_huge(rows, rows_cap);
			}
		}
		VecdbEngineReconstruct(seg->engine, labels, n, rows);
		for (i = 0, at = rows; i < n; i++)
		{
			uint32		bloblen = 0;

			if (seg->cols)
			{
				bloblen = VecdbColumnsRowSize(&layout, seg->cols, (uint64) labels[i]);
				VecdbColumnsEncodeRow(&layout, seg->cols, (uint64) labels[i], blob);
			}
			VecdbRowBatchAdd(batch, at, &seg->tids[labels[i]], blob, bloblen);
			at += VecdbRowLength(batch->row_bytes, at);
		}
		CHECK_FOR_INTERRUPTS();
	}
	pfree(labels);
	pfree(rows);
	pfree(blob);
	VecdbSegmentUnref(seg);
	return tids;
}

// ChooseOnto returns the chosen segment the others are added to (its graph
// or lists kept, its rows not rebuilt), or -1 to build anew: the largest
// chosen one, when it holds at least half of the rows the new segment will,
// has few deletes (its dead rows stay, masked, until a full compaction),
// and is already of the kind a segment of that size gets.
static int
ChooseOnto(const VecdbMetaPageData *meta, const bool *chosen, uint64 growing_take, bool full)
{
	uint64		total = growing_take;
	int			best = -1;
	uint32		i;
	const VecdbSegmentEntry *e;

	if (full || vecdb_merge_onto_fraction <= 0.0)
		return -1;
	for (i = 0; i < meta->nsegments; i++)
		if (chosen[i])
		{
			total += LiveRows(&meta->segments[i]);
			if (best < 0 || LiveRows(&meta->segments[i]) > LiveRows(&meta->segments[best]))
				best = (int) i;
		}
	if (best < 0)
		return -1;
	e = &meta->segments[best];
	if (!OntoCandidate(e, full) || LiveRows(e) == total ||
		(double) LiveRows(e) < vecdb_merge_onto_fraction * (double) total ||
		e->engine_kind != (uint32) VecdbSegmentKind(meta, total + e->deleted))
		return -1;
	return best;
}

// GatherOntoRows loads the segment the others are added to: its engine
// index (owned, writable) and, as the batch's prefix, every row's TID (dead
// ones stay invalid) and scalar values, without the vectors. *tids gets a
// copy of its TID map.
static VecdbEngineIndex *
GatherOntoRows(Relation index, const VecdbMetaPageData *meta, const VecdbSegmentEntry *entry, VecdbRowBatch *batch,
			   VecdbEngineOwner **owner, ItemPointerData **tids)
{
	VecdbSegment *seg = VecdbLoadSegment(index, entry, meta->generation, true, 0, NULL);
	char	   *blob = (char *) palloc(VECDB_MAX_SCALAR_BYTES + 8);
	VecdbScalarLayout layout;
	VecdbEngineIndex *engine;
	uint64		l;

	*tids = CopyTids(seg, entry);
	VecdbScalarLayoutFor(index, &layout);
	for (l = 0; l < entry->rows; l++)
	{
		uint32		bloblen = 0;

		if (seg->cols)
		{
			bloblen = VecdbColumnsRowSize(&layout, seg->cols, l);
			VecdbColumnsEncodeRow(&layout, seg->cols, l, blob);
		}
		VecdbRowBatchAdd(batch, NULL, &seg->tids[l], blob, bloblen);
		if ((l & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(blob);
	/* the engine outlives the segment: the caller's context owns it now */
	engine = VecdbEngineOwnerRelease(seg->engine_owner);
	seg->engine = NULL;
	seg->engine_owner = NULL;
	*owner = VecdbEngineOwn(engine);
	VecdbSegmentUnref(seg);
	return engine;
}

// AddPending appends a retired chain to the metapage's pending list (the
// compaction checked there is room: RetiredChains).
static void
AddPending(VecdbMetaPage m, BlockNumber head, uint32 owner, VecdbPageKind kind, uint32 npages)
{
	VecdbPendingFree *p;

	if (head == InvalidBlockNumber)
		return;
	/* a chain left off the list would be freed by VACUUM's sweep, horizon or not */
	Assert(m->npending < VECDB_MAX_PENDING_FREE);
	if (m->npending >= VECDB_MAX_PENDING_FREE)
		return;
	p = &m->pending[m->npending++];
	p->head = head;
	p->owner = owner;
	p->kind = kind;
	p->npages = npages;
}

// AddRetireBatch gives the chains pending from first on the horizon xid: a
// new batch, or, when every slot is taken, the newest one, whose chains then
// wait for xid too (later than theirs: never freed too early).
static void
AddRetireBatch(VecdbMetaPage m, uint32 first, FullTransactionId xid)
{
	NormalizeRetire(m);
	if (first >= m->npending)
		return;
	if (m->nretire == VECDB_MAX_RETIRE_BATCHES)
	{
		m->retire[m->nretire - 1].xid = U64FromFullTransactionId(xid);
		return;
	}
	m->retire[m->nretire].xid = U64FromFullTransactionId(xid);
	m->retire[m->nretire].first = first;
	m->retire[m->nretire].reserved = 0;
	m->nretire++;
}

// ReapplyMarks marks deleted, in the new segment entry, the rows bulk deletes
// marked in its inputs while it was built: the caller holds the marks lock
// again, now is the metapage as it is (the directory is the one gathered
// from: only compactions change it). A chosen segment's rows are compared
// with the TID map as gathered (seg_tids, its first row at batch position
// seg_base; the onto segment onto_at at 0, every label kept); the growing rows taken, from growing_base on, by their flags
// (VecdbGrowingNewlyDeleted, which also counts them into cut). Every input
// is compared, not only those whose version moved: a bulk delete cut short
// leaves marks the directory does not count. Returns the rows marked.
static uint64
ReapplyMarks(Relation index, const VecdbMetaPageData *now, const bool *chosen, int onto_at,
			 ItemPointerData *const *seg_tids, const uint64 *seg_base, bool take_growing, uint64 growing_base,
			 VecdbGrowingCut *cut, VecdbSegmentEntry *entry)
{
	uint64	   *labels = (uint64 *) MemoryContextAllocHuge(CurrentMemoryContext, Max(entry->rows, 1) * sizeof(uint64));
	uint64		n = 0;
	uint32		step;

	/*
	 * In batch order, so that the labels ascend: the onto segment first (its
	 * rows start the batch wherever it stands in the directory), then the
	 * others as gathered.
	 */
	for (step = 0; step <= now->nsegments; step++)
	{
		uint32		i = step == 0 ? (uint32) onto_at : step - 1;
		const VecdbSegmentEntry *e;
		VecdbSegment *seg;
		uint64		l;
		uint64		at;

		if (step == 0 ? onto_at < 0 : (int) i == onto_at)
			continue;
		e = &now->segments[i];
		if (!chosen[i] || seg_tids[i] == NULL)
			continue;
		seg = VecdbLoadSegment(index, e, now->generation, false, 0, NULL);
		/* the onto segment keeps every label (dead ones too); others only their live rows, in order */
		for (l = 0, at = seg_base[i]; l < e->rows; l++)
		{
			bool		was_live = ItemPointerIsValid(&seg_tids[i][l]);

			if (was_live && !ItemPointerIsValid(&seg->tids[l]))
				labels[n++] = at;
			if (was_live || (int) i == onto_at)
				at++;
		}
		VecdbSegmentUnref(seg);
		CHECK_FOR_INTERRUPTS();
	}
	if (take_growing)
	{
		uint64		first = n;
		uint64		k = VecdbGrowingNewlyDeleted(index, now, cut, labels + n);

		for (n += k; first < n; first++)
			labels[first] += growing_base;
	}
	if (n > 0)
	{
		/* labels come in batch order, which is ascending */
		VecdbMarkSegmentTids(index, entry, labels, n);
		entry->deleted += n;
		entry->tid_version++;
	}
	pfree(labels);
	return n;
}

// VecdbCompact compacts index when there is work (full: everything into one
// segment). Without wait it gives up when another compaction or a bulk
// delete holds the lock. Returns whether the directory changed.
bool
VecdbCompact(Relation index, bool full, bool wait)
{
	MemoryContext cxt;
	MemoryContext old;
	VecdbMetaPageData *meta;
	bool		chosen[VECDB_MAX_SEGMENTS];
	bool		take_growing;
	uint64		growing_take;
	VecdbRowBatch batch;
	VecdbSegmentEntry entry;
	bool		have_entry = false;
	VecdbGrowingCut cut;
	Buffer		metabuf;
	GenericXLogState *xlog;
	VecdbMetaPage m;
	Page		page;
	FullTransactionId retire_xid;
	uint32		first_retired;
	uint32		i;
	uint32		n;
	VecdbSegmentEntry kept[VECDB_MAX_SEGMENTS];
	int			onto_at;
	VecdbEngineIndex *onto = NULL;
	VecdbEngineOwner *onto_owner = NULL;
	ItemPointerData *seg_tids[VECDB_MAX_SEGMENTS];
	uint64		seg_base[VECDB_MAX_SEGMENTS];
	uint64		growing_base = 0;

	if (wait)
	{
		LockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
		LockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
	}
	else if (!ConditionalLockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock))
		return false;
	else if (!ConditionalLockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock))
	{
		UnlockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
		return false;
	}
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb compaction", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(index, meta);
	FreeRetired(index, meta);

	if (meta->dims == 0 || !ChooseInputs(meta, full, chosen, &take_growing, &growing_take))
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		UnlockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
		UnlockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
		return false;
	}
	/* the chains it retires must all be listed until no snapshot needs them: else do nothing now */
	{
		uint32		need = RetiredChains(meta, chosen, take_growing);

		if (meta->npending + need > VECDB_MAX_PENDING_FREE)
		{
			ReportPendingFull(index, meta, need);
			MemoryContextSwitchTo(old);
			MemoryContextDelete(cxt);
			UnlockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
			UnlockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
			return false;
		}
	}

	/* gather the live rows, after every row of the segment they are added to */
	VecdbRowBatchInit(&batch, VecdbRowBytes(meta), 1024);
	onto_at = ChooseOnto(meta, chosen, growing_take, full);
	memset(&progress, 0, sizeof(progress));
	progress.index = RelationGetRelid(index);
	{
		MemoryContextCallback *cb = (MemoryContextCallback *) palloc0(sizeof(MemoryContextCallback));

		cb->func = EndProgress;
		MemoryContextRegisterResetCallback(cxt, cb);
	}
	for (i = 0; i < meta->nsegments; i++)
		progress.inputs += chosen[i];
	progress.onto = onto_at >= 0;
	progress.growing_rows = growing_take;
	progress_active = true;
	Report(VECDB_COMPACT_GATHER);
	memset(seg_tids, 0, sizeof(seg_tids));
	memset(seg_base, 0, sizeof(seg_base));
	if (onto_at >= 0)
		onto = GatherOntoRows(index, meta, &meta->segments[onto_at], &batch, &onto_owner, &seg_tids[onto_at]);
	for (i = 0; i < meta->nsegments; i++)
		if (chosen[i] && (int) i != onto_at)
		{
			seg_base[i] = batch.n;
			seg_tids[i] = GatherSegmentRows(index, meta, &meta->segments[i], &batch);
		}
	growing_base = batch.n;
	if (take_growing)
		VecdbGrowingTakeRows(index, meta, &batch, growing_take, &cut);

	/*
	 * The rows are gathered: VACUUM may mark rows again while the segment is
	 * built (ReapplyMarks carries its marks over at the switch); the
	 * compaction lock keeps other compactions and the page sweep away.
	 */
	UnlockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);

	/* build and write the new segment */
	if (batch.n > 0)
	{
		uint32		id;

		metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		m = VecdbPageGetMeta(GenericXLogRegisterBuffer(xlog, metabuf, 0));
		id = m->next_owner_id++;
		GenericXLogFinish(xlog);
		UnlockReleaseBuffer(metabuf);
		progress.rows_total = batch.n - batch.prefix;
		Report(VECDB_COMPACT_BUILD);
		/* VecdbWriteSegment takes onto over (nothing can fail in between) */
		if (onto)
			VecdbEngineOwnerRelease(onto_owner);
		VecdbWriteSegment(index, meta, &batch, onto, id, NULL, false, &entry);
		onto = NULL;
		have_entry = true;
	}
	VecdbRowBatchFree(&batch);
	/* queries see the new segment at the switch: load it into the shared area first, so none waits for that */
	if (have_entry)
		VecdbSharedPreload(index, &entry, meta->build_id, meta->generation);

	/* the new segment's pages are written, the directory does not name them yet */
	VecdbFaultPoint("compact_switch");

	/* the switch: delete marks made meanwhile go into the new segment first */
	Report(VECDB_COMPACT_SWITCH);
	LockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
	if (have_entry)
	{
		VecdbMetaPageData *now = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));

		VecdbReadMeta(index, now);
		ReapplyMarks(index, now, chosen, onto_at, seg_tids, seg_base, take_growing, growing_base, &cut, &entry);
		pfree(now);
	}
	metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xlog, metabuf, 0);
	VecdbMetaCoverAll(page);
	m = VecdbPageGetMeta(page);
	VecdbCheckMeta(index, m);
	/*
	 * Every scan that read the directory being replaced did so before this
	 * exclusive lock, under a snapshot taken before that: its xmin is at or
	 * before the next xid read now, which becomes the horizon of the chains
	 * retired here.
	 */
	retire_xid = ReadNextFullTransactionId();
	first_retired = m->npending;
	n = 0;
	for (i = 0; i < m->nsegments; i++)
	{
		if (chosen[i])
		{
			AddPending(m, m->segments[i].blob_head, m->segments[i].segment_id, VECDB_PAGE_BLOB, 0);
			AddPending(m, m->segments[i].tid_head, m->segments[i].segment_id, VECDB_PAGE_TIDS, 0);
			AddPending(m, m->segments[i].cols_head, m->segments[i].segment_id, VECDB_PAGE_COLS, 0);
		}
		else
			kept[n++] = m->segments[i];
	}
	if (have_entry)
		kept[n++] = entry;
	memcpy(m->segments, kept, sizeof(VecdbSegmentEntry) * n);
	m->nsegments = n;
	if (take_growing)
	{
		VecdbPendingFree retired;

		if (VecdbGrowingTrim(index, &m->growing, &cut, &retired))
			AddPending(m, retired.head, retired.owner, VECDB_PAGE_GROWING, retired.npages);
	}
	AddRetireBatch(m, first_retired, retire_xid);
	m->generation++;
	m->compactions++;
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(metabuf);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	UnlockPage(index, VECDB_METAPAGE_BLKNO, ExclusiveLock);
	UnlockPage(index, VECDB_COMPACT_LOCKNO, ExclusiveLock);
	return true;
}
