// batch_search.cpp implements vecdb_search(index, queries vector[], k): the
// k nearest visible rows of the index's table for each query, as (query,
// ctid, distance) rows, for k-NN joins and for handing the GPU worker whole
// batches.
//
// Each query runs as an ordinary index scan (am_scan.cpp) under the
// statement's snapshot, so every kind, the growing segment, delete marks and
// MVCC visibility behave as in ORDER BY ... LIMIT k. Before the scans, the
// sealed segments that vecdb.gpu sends to the GPU worker get one request
// holding every query (one engine call on the device); the scans then take
// their first batch of those segments from these answers (VecdbScanStash)
// instead of one request each. Distances are the ordering operator's value
// for the row, computed from the heap row.
#include "am/am.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

// kMaxK bounds k: a larger answer is a table scan, not a search.
static const int kMaxK = 100000;

// Prefetch asks the GPU worker, for each sealed segment vecdb.gpu sends
// there, for the first batch of every query at once; the answers go into
// entries (n set), for the scans that follow.
static void
Prefetch(Relation index, const Datum *queries, const bool *nulls, int nq, int k, VecdbScanStash *entries, int *n)
{
	VecdbPinnedSegments *snap;
	VecdbMetaPageData *meta;
	VecdbElemType row_format;
	size_t		row_bytes;
	char	   *rows = NULL;
	bool	   *usable;
	VecdbIndexDesc desc;
	VecdbEngineSearchParams params;

	*n = 0;
	if (vecdb_gpu_mode == VECDB_GPU_OFF)
		return;
	VecdbDescribeIndex(index, &desc);
	VecdbScanSearchParams(&desc, &params);
	/* in memory, not on the stack: its pins' reset callback may run after an ERROR below */
	snap = (VecdbPinnedSegments *) palloc0(sizeof(VecdbPinnedSegments));
	VecdbCacheAcquire(index, snap);
	meta = &snap->meta;
	row_format = (VecdbElemType) meta->elem_type;
	row_bytes = (size_t) meta->dims * sizeof(float);
	usable = (bool *) palloc0(sizeof(bool) * nq);
	for (int i = 0; i < snap->nsegments; i++)
	{
		VecdbSegment *seg = snap->segments[i];
		VecdbScanStash *e;
		int			want;
		char		why[200];
		int			sent = 0;
		VecdbNeighbor *out;
		int		   *counts;

		int			kind = VecdbEngineGetKind(seg->engine);

		/* auto weighs the whole batch: nq queries' worth of scoring */
		if (meta->dims == 0 ||
			!VecdbGpuChoose(kind, meta->elem_type,
							nq * VecdbGpuScoredRows(kind, seg->rows, seg->rows - seg->deleted_count,
													(int) Min((uint64) Max(desc.params.lists, 1), Max(seg->rows, (uint64) 1)),
													meta->dims, (int) meta->metric, &params),
							meta->dims, seg->in_place, false))
			continue;
		if (rows == NULL)
		{
			rows = (char *) MemoryContextAllocHuge(CurrentMemoryContext, row_bytes * nq);
			for (int q = 0; q < nq; q++)
			{
				if (nulls[q])
					continue;
				VecdbCheckDims(index, meta->dims, VecdbDatumDims(queries[q], row_format));
				usable[q] = VecdbDatumToRow(queries[q], row_format, desc.metric, meta->dims,
											rows + (size_t) sent * row_bytes);
				if (usable[q])
					sent++;
			}
			if (sent == 0)
				break;
		}
		else
			for (int q = 0; q < nq; q++)
				sent += usable[q];
		/* IVF: only a scan's first batch (the iterator's, widened), exact kinds: all it will ask */
		want = (int) Min((uint64) VecdbScanRowsFor(kind == VECDB_ENGINE_IVF_FLAT ? 1 : k),
						 seg->rows - seg->deleted_count);
		if (want <= 0)
			continue;
		out = (VecdbNeighbor *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(VecdbNeighbor) * (size_t) sent * want);
		counts = (int *) palloc(sizeof(int) * sent);
		if (VecdbGpuSearch(&seg->shared_pin, rows, sent, row_bytes, want, kind == VECDB_ENGINE_IVF_FLAT ? &params : NULL,
						   seg->deleted_count > 0 ? seg->deleted : NULL, seg->rows, out, counts, why,
						   sizeof(why)) != VECDB_GPU_SERVED)
			continue;
		e = &entries[(*n)++];
		e->copy = seg->shared_pin;
		e->tid_version = seg->tid_version;
		e->prefixes = kind != VECDB_ENGINE_IVF_FLAT;
		e->k = want;
		e->nq = nq;
		/* back to the batch's numbering: queries not sent have no answer */
		e->results = (VecdbNeighbor *) MemoryContextAllocHuge(CurrentMemoryContext,
															  sizeof(VecdbNeighbor) * (size_t) nq * want);
		e->counts = (int *) palloc(sizeof(int) * nq);
		for (int q = 0, at = 0; q < nq; q++)
		{
			if (!usable[q])
			{
				e->counts[q] = -1;
				continue;
			}
			memcpy(e->results + (size_t) q * want, out + (size_t) at * want, sizeof(VecdbNeighbor) * want);
			e->counts[q] = counts[at++];
		}
	}
	VecdbCacheRelease(snap);
}

// vecdb_search returns, for each element of queries (numbered from 1), the k
// nearest rows of the index's table visible to the statement, nearest first,
// as (query, ctid, distance).
VECDB_FUNCTION(vecdb_search)
{
	Oid			indexoid = PG_GETARG_OID(0);
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(1);
	int32		k = PG_GETARG_INT32(2);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			heapoid;
	AclResult	acl;
	Relation	index;
	Relation	heap;
	Oid			opcintype;
	Oid			op;
	FmgrInfo	distance;
	AttrNumber	attnum;
	Datum	   *queries;
	bool	   *nulls;
	int			nq;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	VecdbScanStash *entries;
	int			nentries = 0;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;

	if (k < 1 || k > kMaxK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d", kMaxK)));
	heapoid = VecdbIndexTableOf(indexoid);
	acl = pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(heapoid));
	/* the scans below read rows the policies would hide */
	if (check_enable_rls(heapoid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vecdb_search does not support tables with row-level security"),
				 errhint("Use ORDER BY ... LIMIT, which applies the policies.")));
	InitMaterializedSRF(fcinfo, 0);
	index = VecdbOpenIndexChecked(indexoid, AccessShareLock);
	/* checked before the lock: the index must still belong to that table */
	if (index->rd_index->indrelid != heapoid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" changed while vecdb_search started", RelationGetRelationName(index))));
	attnum = index->rd_index->indkey.values[0];
	opcintype = index->rd_opcintype[0];
	if (attnum == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vecdb_search does not support expression indexes")));
	if (opcintype != ARR_ELEMTYPE(array))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("index \"%s\" is on %s, the queries are %s", RelationGetRelationName(index),
						format_type_be(opcintype), format_type_be(ARR_ELEMTYPE(array))),
				 errhint("vecdb_search takes vector[] queries and indexes on vector columns.")));
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("queries must be a one-dimensional array")));
	op = get_opfamily_member(index->rd_opfamily[0], opcintype, opcintype, 1);
	if (!OidIsValid(op))
		elog(ERROR, "operator family of index \"%s\" has no ordering operator", RelationGetRelationName(index));
	fmgr_info(get_opcode(op), &distance);
	get_typlenbyvalalign(ARR_ELEMTYPE(array), &typlen, &typbyval, &typalign);
	deconstruct_array(array, ARR_ELEMTYPE(array), typlen, typbyval, typalign, &queries, &nulls, &nq);

	heap = table_open(heapoid, AccessShareLock);
	snapshot = GetActiveSnapshot();
	entries = (VecdbScanStash *) palloc0(sizeof(VecdbScanStash) * VECDB_MAX_SEGMENTS);
	Prefetch(index, queries, nulls, nq, k, entries, &nentries);
	scan = index_beginscan(heap, index, snapshot, 0, 1);
	slot = table_slot_create(heap, NULL);
	VecdbScanStashSet(entries, nentries);
	PG_TRY();
	{
		for (int q = 0; q < nq; q++)
		{
			ScanKeyData key;
			int			got = 0;

			if (nulls[q])
				continue;
			CHECK_FOR_INTERRUPTS();
			memset(&key, 0, sizeof(key));
			key.sk_attno = 1;
			key.sk_strategy = 1;
			key.sk_subtype = opcintype;
			key.sk_argument = queries[q];
			VecdbScanStashQuery(q);
			index_rescan(scan, NULL, 0, &key, 1);
			while (got < k && index_getnext_slot(scan, ForwardScanDirection, slot))
			{
				Datum		values[3];
				bool		isnull[3] = {false, false, false};
				bool		null_value;
				Datum		value = slot_getattr(slot, attnum, &null_value);
				ItemPointer tid = (ItemPointer) palloc(sizeof(ItemPointerData));

				if (null_value)
					continue;
				*tid = slot->tts_tid;
				values[0] = Int32GetDatum(q + 1);
				values[1] = PointerGetDatum(tid);
				values[2] = FunctionCall2Coll(&distance, InvalidOid, value, queries[q]);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
				got++;
			}
		}
	}
	PG_FINALLY();
	{
		VecdbScanStashClear();
	}
	PG_END_TRY();
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	table_close(heap, AccessShareLock);
	index_close(index, AccessShareLock);
	return (Datum) 0;
}
