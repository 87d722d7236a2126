// am_build.cpp implements CREATE INDEX (ambuild) and the empty init fork of
// unlogged indexes (ambuildempty).
//
// A build writes the metapage first (block 0), scans the heap collecting
// rows in engine format, and turns them into sealed segments: one when the
// rows and the index fit in maintenance_work_mem, else one per slice that
// does (with a NOTICE), so memory stays bounded. Every page goes through
// Generic WAL as a full image; the directory is written last.
#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// BuildState is what the heap scan callback accumulates.
typedef struct BuildState
{
	Relation	index;
	VecdbIndexDesc desc;
	VecdbMetaPageData *meta;
	VecdbRowBatch batch;
	VecdbScalarLayout layout;
	char	   *row;
	uint64		max_rows;		/* rows per segment within maintenance_work_mem */
	uint64		max_row_bytes;	/* rows of varying length (sparse): their bytes per segment */
	uint64		indexed;
	double		heap_tuples;
	bool		noticed;
	VecdbBulkPages bulk;		/* the segments' pages, past the buffer pool */
	MemoryContext tmpcxt;		/* one segment build */
	MemoryContext tuplecxt;		/* one heap tuple (detoasted values) */
} BuildState;

// VecdbCheckIndexDims raises the limit errors for an index of dims dimensions.
static void
CheckIndexDims(Relation index, const VecdbIndexDesc *desc, int dims)
{
	int			max = VecdbMaxDims(VecdbRowFormat(desc));

	if (dims > max)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for %s index", max,
						VecdbAmName(desc->am_kind)),
				 desc->elem_type == VECDB_ELEM_SPARSEVEC
				 ? errdetail("sparsevec values are indexed as dense vectors under L1 distance.") : 0));
	if (dims < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot index a vector with %d dimensions", dims)));
	VecdbAmCheckParams(VecdbAmMethodOf(desc->am_kind), &desc->params, dims, NULL);
	if (desc->params.sq_bits > 0 && VecdbRowFormat(desc) == VECDB_ELEM_SPARSE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("sq_bits does not apply to sparsevec indexes"),
				 errhint("Leave sq_bits at 0: sparse vectors are held as their non-zeros.")));
	if (desc->params.sq_bits > 0 && desc->elem_type == VECDB_ELEM_BIT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("sq_bits applies to vector, halfvec and sparsevec columns, not bit"),
				 errhint("Leave sq_bits at 0: bit vectors are compact already.")));
}

// CheckIndexType refuses bit varying columns: the bit operator classes
// accept them (varbit is binary-coercible to bit), but the index holds one
// length, which a later longer or shorter value would not have (pgvector
// refuses them too).
static void
CheckIndexType(Relation index, const VecdbIndexDesc *desc)
{
	if (TupleDescAttr(RelationGetDescr(index), 0)->atttypid == VARBITOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("type not supported for %s index", VecdbAmName(desc->am_kind)),
				 errhint("Use a bit(n) column.")));
}

// SetDims fixes the index's dimensions and sizes the per-segment row budget.
static void
SetDims(BuildState *bs, int dims)
{
	CheckIndexDims(bs->index, &bs->desc, dims);
	bs->meta->dims = dims;
	bs->row = (char *) palloc0(Max(VecdbMaxRowBytes(bs->meta), 8));
	VecdbRowBatchInit(&bs->batch, VecdbRowBytes(bs->meta), 1024);
	bs->max_rows = VecdbSegmentRowBudget(bs->meta);
	/*
	 * A sparse row's size is its own: the row budget assumes 200 non-zeros,
	 * so the rows' bytes are bounded too, to a third of maintenance_work_mem
	 * (the segment's index holds about twice its rows' bytes).
	 */
	bs->max_row_bytes = VecdbRowBytes(bs->meta) > 0 ? UINT64_MAX
		: Max((uint64) maintenance_work_mem * 1024 / 3, (uint64) 1024 * 1024);
}

// FlushSegment turns the collected rows into a sealed segment.
static void
FlushSegment(BuildState *bs)
{
	VecdbSegmentEntry *entry;
	MemoryContext old;

	if (bs->batch.n == 0)
		return;
	if (bs->meta->nsegments >= VECDB_MAX_SEGMENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("index \"%s\" would need more than %d segments", RelationGetRelationName(bs->index),
						VECDB_MAX_SEGMENTS),
				 errhint("Increase maintenance_work_mem.")));
	entry = &bs->meta->segments[bs->meta->nsegments];
	old = MemoryContextSwitchTo(bs->tmpcxt);
	VecdbWriteSegment(bs->index, bs->meta, &bs->batch, NULL, bs->meta->next_owner_id, &bs->bulk, true, entry);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpcxt);
	bs->meta->next_owner_id++;
	bs->meta->nsegments++;
	VecdbRowBatchReset(&bs->batch);
	VecdbFaultPoint("build_segment");
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VECDB_PHASE_LOAD);
}

// BuildCallback adds one heap tuple's vector to the build.
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	MemoryContext old;
	int			dims;
	bool		indexed;

	bs->heap_tuples++;
	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tuplecxt);
	dims = VecdbDatumDims(values[0], (VecdbElemType) bs->meta->elem_type);
	MemoryContextSwitchTo(old);
	if (bs->meta->dims == 0)
		SetDims(bs, dims);
	VecdbCheckDims(index, bs->meta->dims, dims);
	old = MemoryContextSwitchTo(bs->tuplecxt);
	indexed = VecdbDatumToRow(values[0], (VecdbElemType) bs->meta->elem_type, bs->desc.metric, dims, bs->row);
	if (indexed)
	{
		char	   *blob = NULL;
		uint32		bloblen = 0;

		if (bs->layout.nscalars > 0)
		{
			Datum		scalar_values[INDEX_MAX_KEYS];

			VecdbScalarDetoast(&bs->layout, values + 1, isnull + 1, scalar_values);
			bloblen = VecdbScalarEncodedSize(&bs->layout, scalar_values, isnull + 1);
			blob = (char *) palloc(bloblen);
			VecdbScalarEncode(&bs->layout, scalar_values, isnull + 1, blob);
		}
		MemoryContextSwitchTo(old);
		VecdbRowBatchAdd(&bs->batch, bs->row, tid, blob, bloblen);
	}
	else
		MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tuplecxt);
	if (!indexed)
		return;
	bs->indexed++;
	if (bs->batch.n >= bs->max_rows || bs->batch.rows_len >= bs->max_row_bytes)
	{
		if (!bs->noticed)
			ereport(NOTICE,
					(errmsg("index \"%s\" does not fit into maintenance_work_mem; it is built as several segments",
							RelationGetRelationName(index)),
					 errdetail("Each segment holds up to " UINT64_FORMAT " rows; searches visit every segment.",
							   bs->batch.n),
					 errhint("Increase maintenance_work_mem to build one segment.")));
		bs->noticed = true;
		FlushSegment(bs);
	}
}

// WriteMetaPage logs page image meta as block 0 of buf.
static void
WriteMetaPage(Relation index, Buffer buf, const VecdbMetaPageData *meta)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);

	VecdbInitPage(page, VECDB_PAGE_META, 0, 0);
	memcpy(VecdbPageGetMeta(page), meta, sizeof(VecdbMetaPageData));
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(VecdbMetaPageData);
	GenericXLogFinish(state);
}

// vecdbbuild builds a new index from the heap.
IndexBuildResult *
vecdbbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	BuildState	bs;
	IndexBuildResult *result;
	Buffer		metabuf;
	Page		tmp;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	VecdbDescribeIndex(index, &bs.desc);
	CheckIndexType(index, &bs.desc);
	VecdbScalarLayoutFor(index, &bs.layout);
	bs.meta = (VecdbMetaPageData *) palloc0(sizeof(VecdbMetaPageData));
	tmp = (Page) palloc(BLCKSZ);
	VecdbInitMetaPage(tmp, &bs.desc, 0);
	memcpy(bs.meta, VecdbPageGetMeta(tmp), sizeof(VecdbMetaPageData));
	pfree(tmp);
	bs.tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb build", ALLOCSET_DEFAULT_SIZES);
	bs.tuplecxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb build tuple", ALLOCSET_DEFAULT_SIZES);
	if (bs.desc.typmod_dims > 0)
		SetDims(&bs, bs.desc.typmod_dims);

	/* block 0 first, so that segments start at block 1 */
	metabuf = VecdbNewBuffer(index, false);
	Assert(BufferGetBlockNumber(metabuf) == VECDB_METAPAGE_BLKNO);
	WriteMetaPage(index, metabuf, bs.meta);
	UnlockReleaseBuffer(metabuf);

	/* the segments' pages go straight to the file, from block 1 on */
	VecdbBulkPagesBegin(&bs.bulk, index);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VECDB_PHASE_LOAD);
	table_index_build_scan(heap, index, indexInfo, true, true, BuildCallback, (void *) &bs, NULL);
	FlushSegment(&bs);
	VecdbBulkPagesEnd(&bs.bulk);

	bs.meta->generation++;
	metabuf = ReadBuffer(index, VECDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	WriteMetaPage(index, metabuf, bs.meta);
	UnlockReleaseBuffer(metabuf);

	if (bs.batch.rows)
		VecdbRowBatchFree(&bs.batch);
	MemoryContextDelete(bs.tmpcxt);
	MemoryContextDelete(bs.tuplecxt);

	result = (IndexBuildResult *) palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.heap_tuples;
	result->index_tuples = (double) bs.indexed;
	return result;
}

// vecdbbuildempty writes the metapage of an empty index into the init fork
// (unlogged tables are reset to it after a crash).
void
vecdbbuildempty(Relation index)
{
	VecdbIndexDesc desc;
	Page		page;

	VecdbDescribeIndex(index, &desc);
	CheckIndexType(index, &desc);
	if (desc.typmod_dims > 0)
		CheckIndexDims(index, &desc, desc.typmod_dims);
	page = (Page) palloc(BLCKSZ);
	VecdbInitMetaPage(page, &desc, desc.typmod_dims);
	PageSetChecksumInplace(page, VECDB_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, VECDB_METAPAGE_BLKNO, (char *) page, true);
	log_newpage(&VECDB_SMGR_FILE(RelationGetSmgr(index)), INIT_FORKNUM, VECDB_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
	pfree(page);
}

// vecdbbuildphasename names the build's progress subphases.
char *
vecdbbuildphasename(int64 phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return (char *) "initializing";
		case VECDB_PHASE_LOAD:
			return (char *) "loading tuples";
		case VECDB_PHASE_BUILD:
			return (char *) "building segment";
		case VECDB_PHASE_WRITE:
			return (char *) "writing segment";
	}
	return NULL;
}
