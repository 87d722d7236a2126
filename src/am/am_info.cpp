// am_info.cpp holds the SQL functions that look into a vecdb index:
// vecdb_index_info (its segments), vecdb_compact (compaction on demand),
// vecdb_prewarm (loading it) and vecdb_verify (structure, and index against
// heap).
#include "am/am.hpp"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

// OpenVecdbIndex opens relid as a vecdb index with lockmode, or raises an error.
static Relation
OpenVecdbIndex(Oid relid, LOCKMODE lockmode)
{
	Relation	index = relation_open(relid, lockmode);

	if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_indam == NULL ||
		index->rd_indam->ambuild != vecdbbuild)
	{
		const char *name = pstrdup(RelationGetRelationName(index));

		relation_close(index, lockmode);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vecdb index", name),
				 errhint("vecdb indexes use the access methods hnsw, ivfflat, ivfpq, ivfsq8 and flat.")));
	}
	return index;
}

// IndexTable returns the table of index relid, with a user error (not an
// internal one) when relid names no relation or a relation that is not an
// index. It takes no lock, so the caller checks privileges before locking.
static Oid
IndexTable(Oid relid)
{
	Oid			heapid = IndexGetRelation(relid, true);
	char	   *name;

	if (OidIsValid(heapid))
		return heapid;
	name = get_rel_name(relid);
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is not a vecdb index", name),
			 errhint("vecdb indexes use the access methods hnsw, ivfflat, ivfpq, ivfsq8 and flat.")));
	return InvalidOid;
}

// CheckTableOwner raises the owner error unless the current user owns the
// table (superusers do): compacting and verifying are the owner's, as VACUUM
// and amcheck's checks are.
static void
CheckTableOwner(Oid heapid)
{
	if (!VECDB_RELATION_OWNERCHECK(heapid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(heapid));
}

// CheckTableRead raises permission denied unless the current user may
// SELECT from the table or reads all statistics (pg_read_all_stats, part of
// pg_monitor): an index's row and delete counts describe the table's rows.
static void
CheckTableRead(Oid heapid)
{
	AclResult	acl = pg_class_aclcheck(heapid, GetUserId(), ACL_SELECT);

	if (acl != ACLCHECK_OK && !has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(heapid));
}

// vecdb_index_info returns one row per segment of an index (sealed ones,
// then the growing one): access method, metric, dimensions, generation,
// segment id, engine kind, rows, deleted rows, pages and bytes.
VECDB_FUNCTION(vecdb_index_info)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	index;
	VecdbMetaPageData *meta;
	Datum		values[10];
	bool		nulls[10];
	uint32		i;

	CheckTableRead(IndexTable(relid));
	InitMaterializedSRF(fcinfo, 0);
	index = OpenVecdbIndex(relid, AccessShareLock);
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(index, meta);

	for (i = 0; i <= meta->nsegments; i++)
	{
		bool		growing = i == meta->nsegments;

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(VecdbAmName((VecdbAmKind) meta->am_kind));
		values[1] = CStringGetTextDatum(VecdbMetricName((VecdbMetric) meta->metric));
		values[2] = Int32GetDatum(meta->dims);
		values[3] = Int64GetDatum((int64) meta->generation);
		if (growing)
		{
			const VecdbGrowing *g = &meta->growing;

			nulls[4] = true;
			values[5] = CStringGetTextDatum("growing");
			values[6] = Int64GetDatum((int64) (g->end - g->start));
			values[7] = Int64GetDatum((int64) g->deleted);
			values[8] = Int64GetDatum(g->head == InvalidBlockNumber ? 0 : (int64) (g->tail_page_no - g->head_page_no + 1));
			values[9] = Int64GetDatum((int64) (g->end_pos - g->start_pos));
		}
		else
		{
			const VecdbSegmentEntry *e = &meta->segments[i];

			values[4] = Int32GetDatum((int32) e->segment_id);
			values[5] = CStringGetTextDatum(VecdbEngineKindName((int) e->engine_kind));
			values[6] = Int64GetDatum((int64) e->rows);
			values[7] = Int64GetDatum((int64) e->deleted);
			uint32		rows_pages = VecdbRowsPages(e, (uint32) (meta->dims * sizeof(float)));

			/* full rows kept apart (HNSW_SQ) are on pages, not in bytes (memory) */
			values[8] = Int64GetDatum((int64) e->blob_pages + e->tid_pages + rows_pages +
									  VecdbRowsDirPages(rows_pages));
			values[9] = Int64GetDatum((int64) e->blob_bytes + (int64) e->rows * (int64) sizeof(ItemPointerData));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	relation_close(index, AccessShareLock);
	return (Datum) 0;
}

// vecdb_compact compacts an index now, waiting for a running compaction or
// VACUUM of it; with full (the default) everything becomes one segment.
// Returns whether the index changed.
VECDB_FUNCTION(vecdb_compact)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		full = PG_GETARG_BOOL(1);
	Relation	index;
	Oid			heapid;
	bool		changed;

	PreventCommandDuringRecovery("vecdb_compact()");
	heapid = IndexTable(relid);
	CheckTableOwner(heapid);
	index = OpenVecdbIndex(relid, RowExclusiveLock);
	changed = VecdbCompact(index, full, true);
	relation_close(index, RowExclusiveLock);
	PG_RETURN_BOOL(changed);
}

// vecdb_prewarm loads an index's segments (into the shared area when vecdb
// is preloaded, else into this backend's cache) and returns how many sealed
// segments it has. It needs SELECT on the table, checked before any lock.
VECDB_FUNCTION(vecdb_prewarm)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			heapid = IndexTable(relid);
	AclResult	acl;
	Relation	index;
	VecdbPinnedSegments *snap;
	int64		n;

	acl = pg_class_aclcheck(heapid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(heapid));
	index = OpenVecdbIndex(relid, AccessShareLock);
	if (VecdbSharedActive())
		n = VecdbSharedPrewarm(index);
	else
	{
		snap = (VecdbPinnedSegments *) palloc0(sizeof(VecdbPinnedSegments));
		VecdbCacheAcquire(index, snap);
		n = snap->nsegments;
		VecdbCacheRelease(snap);
	}
	relation_close(index, AccessShareLock);
	PG_RETURN_INT64(n);
}

/* ---- vecdb_verify ---- */

// VerifyState holds the index's TIDs (sorted) while the heap is checked against them.
typedef struct VerifyState
{
	ItemPointerData *tids;
	uint64		ntids;
	VecdbIndexDesc desc;
	int			dims;
	uint64		heap_rows;
	uint64		missing;
	ItemPointerData first_missing;
	MemoryContext tuplecxt;
} VerifyState;

// TidCmp orders TIDs for qsort and bsearch.
static int
TidCmp(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

// VerifyCallback checks that one visible heap row is in the index.
static void
VerifyCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *arg)
{
	VerifyState *vs = (VerifyState *) arg;
	MemoryContext old;
	bool		indexed;
	char	   *row;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(vs->tuplecxt);
	indexed = vs->dims > 0 && VecdbDatumDims(values[0], vs->desc.elem_type) == vs->dims;
	row = indexed ? (char *) palloc0(Max(VecdbDatumRowBytes(values[0], vs->desc.elem_type, vs->desc.metric,
															 vs->dims), 8)) : NULL;
	indexed = indexed &&
		VecdbDatumToRow(values[0], vs->desc.elem_type, vs->desc.metric, vs->dims, row);
	MemoryContextSwitchTo(old);
	MemoryContextReset(vs->tuplecxt);
	if (!indexed)
		return;
	vs->heap_rows++;
	if (bsearch(tid, vs->tids, vs->ntids, sizeof(ItemPointerData), TidCmp) == NULL)
	{
		if (vs->missing == 0)
			vs->first_missing = *tid;
		vs->missing++;
	}
}

// vecdb_verify checks an index: metapage, every segment (checksums, row
// counts, TID maps), the growing segment, no TID twice, and every row visible
// to the current snapshot present. Raises ERRCODE_INDEX_CORRUPTED at the
// first failure; returns true and reports counts in a NOTICE otherwise.
// Only the table's owner may run it, and the heap scan (which evaluates the
// index's expressions and predicate) runs as the owner in a
// security-restricted context, as amcheck's does: a superuser verifying a
// role's index does not run that role's functions as superuser.
VECDB_FUNCTION(vecdb_verify)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	index;
	Relation	heap;
	Oid			heapid;
	VecdbMetaPageData *meta;
	VecdbRowBatch growing;
	VerifyState vs;
	uint64		i;
	uint32		s;
	IndexInfo  *indexInfo;
	TableScanDesc scan;
	Snapshot	snapshot;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;

	heapid = IndexTable(relid);
	CheckTableOwner(heapid);
	heap = table_open(heapid, AccessShareLock);
	index = OpenVecdbIndex(relid, AccessShareLock);
	/* the snapshot first: every row it sees was in the index before the metapage is read */
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(index, meta);

	memset(&vs, 0, sizeof(vs));
	VecdbDescribeIndex(index, &vs.desc);
	vs.desc.elem_type = (VecdbElemType) meta->elem_type;	/* how rows are stored */
	vs.dims = meta->dims;
	for (s = 0; s < meta->nsegments; s++)
		vs.ntids += meta->segments[s].rows;
	vs.ntids += meta->growing.end - meta->growing.start;
	vs.tids = (ItemPointerData *) MemoryContextAllocHuge(CurrentMemoryContext,
														 Max(vs.ntids, 1) * sizeof(ItemPointerData));
	vs.ntids = 0;
	for (s = 0; s < meta->nsegments; s++)
	{
		VecdbSegment *seg = VecdbLoadSegment(index, &meta->segments[s], meta->generation, true, 0, NULL);

		/*
		 * The map may be ahead of the directory: a bulk delete marks the map
		 * page by page and counts at its end, so one cut short (an ERROR, a
		 * crash) leaves marks the next one counts. Behind it is corruption.
		 */
		if (seg->deleted_count < meta->segments[s].deleted)
			VecdbCorrupt(index, "segment %u has " UINT64_FORMAT " deleted rows, its directory entry says " UINT64_FORMAT,
						 seg->segment_id, seg->deleted_count, meta->segments[s].deleted);
		for (i = 0; i < seg->rows; i++)
			if (ItemPointerIsValid(&seg->tids[i]))
				vs.tids[vs.ntids++] = seg->tids[i];
		VecdbSegmentUnref(seg);
	}
	if (meta->dims > 0)
	{
		VecdbRowBatchInit(&growing, VecdbRowBytes(meta), 1024);
		VecdbGrowingTakeRows(index, meta, &growing, UINT64_MAX, NULL);
		if (growing.n != meta->growing.end - meta->growing.start - meta->growing.deleted)
			VecdbCorrupt(index, "growing segment has " UINT64_FORMAT " live rows, its metapage says " UINT64_FORMAT,
						 growing.n, meta->growing.end - meta->growing.start - meta->growing.deleted);
		for (i = 0; i < growing.n; i++)
			vs.tids[vs.ntids++] = growing.tids[i];
		VecdbRowBatchFree(&growing);
	}
	qsort(vs.tids, vs.ntids, sizeof(ItemPointerData), TidCmp);
	for (i = 1; i < vs.ntids; i++)
		if (ItemPointerEquals(&vs.tids[i - 1], &vs.tids[i]))
			VecdbCorrupt(index, "holds heap TID (%u,%u) twice", ItemPointerGetBlockNumber(&vs.tids[i]),
						 ItemPointerGetOffsetNumber(&vs.tids[i]));

	/* every row visible to an MVCC snapshot must be indexed (as amcheck's heapallindexed) */
	vs.tuplecxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb verify tuple", ALLOCSET_DEFAULT_SIZES);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(heap->rd_rel->relowner, save_sec_context | SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = true;
	scan = table_beginscan_strat(heap, snapshot, 0, NULL, true, false);
	table_index_build_scan(heap, index, indexInfo, true, false, VerifyCallback, (void *) &vs, scan);
	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	UnregisterSnapshot(snapshot);
	if (vs.missing > 0)
		VecdbCorruptDetail(index,
						   psprintf("The first missing row is at heap TID (%u,%u).",
									ItemPointerGetBlockNumber(&vs.first_missing),
									ItemPointerGetOffsetNumber(&vs.first_missing)),
						   "lacks " UINT64_FORMAT " of " UINT64_FORMAT " visible heap rows", vs.missing, vs.heap_rows);
	ereport(NOTICE,
			(errmsg("index \"%s\" is consistent: " UINT64_FORMAT " live index rows, all " UINT64_FORMAT
					" visible heap rows present", RelationGetRelationName(index), vs.ntids, vs.heap_rows)));
	relation_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	PG_RETURN_BOOL(true);
}

// vecdb_last_scan returns, for the vecdb index scan this session started
// last, one row per segment: how the engine searched it (strategy), its
// rows, the rows its scalar conditions and delete marks allowed, and the
// rows it returned to the executor.
VECDB_FUNCTION(vecdb_last_scan)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	VecdbLastScanRows(rsinfo->setResult, rsinfo->setDesc);
	return (Datum) 0;
}

// VecdbOpenIndexChecked opens relid as a vecdb index (other files' door to
// OpenVecdbIndex).
Relation
VecdbOpenIndexChecked(Oid relid, LOCKMODE lockmode)
{
	return OpenVecdbIndex(relid, lockmode);
}

// VecdbIndexTableOf returns the table of index relid (IndexTable).
Oid
VecdbIndexTableOf(Oid relid)
{
	return IndexTable(relid);
}
