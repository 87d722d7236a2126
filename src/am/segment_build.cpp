// segment_build.cpp turns a batch of rows into a sealed segment: it picks the
// segment's engine kind, builds the engine index (training first when the
// kind needs it, then adding in slices so progress shows and a cancel is
// honoured), and streams the serialized index and the TID map into page
// chains. Used by CREATE INDEX and by compaction.
#include "am/am.hpp"

extern "C" {
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// SliceProgress is what ReportRowsAdded needs to place one Add call's
// progress in the whole segment's.
typedef struct SliceProgress
{
	uint64		base;			/* rows of the batch before this call */
	uint64		prefix;			/* rows the index held before the build */
	uint64		total;			/* rows of the batch */
	bool		report;			/* CREATE INDEX progress too */
} SliceProgress;

// ReportRowsAdded reports rows added (engine progress callback: no ereport).
static void
ReportRowsAdded(void *arg, uint64_t done, uint64_t total)
{
	const SliceProgress *sp = (const SliceProgress *) arg;
	uint64		rows = sp->base + done;

	VecdbCompactRowsAdded(rows - sp->prefix, sp->total - sp->prefix);
	if (sp->report)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) rows);
}

// VecdbSparseRowGuess is the bytes a sparse row is assumed to take before
// the rows are seen (200 non-zeros, as the engine's memory estimate assumes).
static const double VecdbSparseRowGuess = 4 + 200 * 8;

// VecdbRowBatchInit allocates room for capacity rows of row_bytes (0: rows of
// varying length, VecdbRowLength).
void
VecdbRowBatchInit(VecdbRowBatch *b, uint32 row_bytes, uint64 capacity)
{
	b->row_bytes = row_bytes;
	b->n = 0;
	b->prefix = 0;
	b->capacity = Max(capacity, (uint64) 16);
	b->rows_capacity = b->capacity * (row_bytes > 0 ? row_bytes : 256);
	b->rows_len = 0;
	b->rows = (char *) MemoryContextAllocHuge(CurrentMemoryContext, b->rows_capacity);
	b->roffs = row_bytes > 0 ? NULL
		: (uint64 *) MemoryContextAllocHuge(CurrentMemoryContext, b->capacity * sizeof(uint64));
	b->tids = (ItemPointerData *) MemoryContextAllocHuge(CurrentMemoryContext,
														 b->capacity * sizeof(ItemPointerData));
	b->soffs = (uint64 *) MemoryContextAllocHuge(CurrentMemoryContext, (b->capacity + 1) * sizeof(uint64));
	b->soffs[0] = 0;
	b->slen = 0;
	b->scap = 0;
	b->sblobs = NULL;
}

// VecdbRowBatchRow returns row i's vector (i at or after the prefix).
const char *
VecdbRowBatchRow(const VecdbRowBatch *b, uint64 i)
{
	Assert(i >= b->prefix && i < b->n);
	if (b->row_bytes > 0)
		return b->rows + (i - b->prefix) * b->row_bytes;
	return b->rows + b->roffs[i - b->prefix];
}

// VecdbRowBatchAdd appends one row and its scalar blob (bloblen bytes, 0
// when the index has no scalar columns), doubling the arrays when full. A
// NULL row (only before any row with a vector) is one of the prefix: a row
// of the engine index the batch extends, whose vector stays there.
void
VecdbRowBatchAdd(VecdbRowBatch *b, const void *row, ItemPointer tid, const char *blob, uint32 bloblen)
{
	uint32		len = row != NULL ? VecdbRowLength(b->row_bytes, row) : 0;

	Assert(row != NULL || b->n == b->prefix);
	if (b->rows_len + len > b->rows_capacity)
	{
		b->rows_capacity = Max(b->rows_capacity * 2, b->rows_len + len);
		b->rows = (char *) repalloc_huge(b->rows, b->rows_capacity);
	}
	if (b->n == b->capacity)
	{
		b->capacity *= 2;
		b->tids = (ItemPointerData *) repalloc_huge(b->tids, b->capacity * sizeof(ItemPointerData));
		b->soffs = (uint64 *) repalloc_huge(b->soffs, (b->capacity + 1) * sizeof(uint64));
		if (b->roffs)
			b->roffs = (uint64 *) repalloc_huge(b->roffs, b->capacity * sizeof(uint64));
	}
	if (bloblen > 0)
	{
		if (b->slen + bloblen > b->scap)
		{
			b->scap = Max(b->scap * 2, b->slen + bloblen + 4096);
			b->sblobs = b->sblobs ? (char *) repalloc_huge(b->sblobs, b->scap)
				: (char *) MemoryContextAllocHuge(GetMemoryChunkContext(b->rows), b->scap);
		}
		memcpy(b->sblobs + b->slen, blob, bloblen);
		b->slen += bloblen;
	}
	if (row == NULL)
		b->prefix++;
	else
	{
		if (b->roffs)
			b->roffs[b->n - b->prefix] = b->rows_len;
		memcpy(b->rows + b->rows_len, row, len);
		b->rows_len += len;
	}
	b->tids[b->n] = *tid;
	b->n++;
	b->soffs[b->n] = b->slen;
}

// VecdbRowBatchReset empties the batch, keeping its arrays.
void
VecdbRowBatchReset(VecdbRowBatch *b)
{
	b->n = 0;
	b->prefix = 0;
	b->rows_len = 0;
	b->slen = 0;
	b->soffs[0] = 0;
}

// VecdbRowBatchFree releases the arrays.
void
VecdbRowBatchFree(VecdbRowBatch *b)
{
	if (b->rows)
		pfree(b->rows);
	if (b->tids)
		pfree(b->tids);
	if (b->soffs)
		pfree(b->soffs);
	if (b->sblobs)
		pfree(b->sblobs);
	if (b->roffs)
		pfree(b->roffs);
	b->roffs = NULL;
	b->rows_len = 0;
	b->rows = NULL;
	b->tids = NULL;
	b->soffs = NULL;
	b->sblobs = NULL;
	b->n = b->capacity = 0;
}

// PqSubquantizers returns the ivfpq m of an index: its option, or the
// largest divisor of dims not above dims / 4.
static int
PqSubquantizers(const VecdbMetaPageData *meta)
{
	int			m;

	if (meta->params.m > 0)
		return meta->params.m;
	for (m = Max(meta->dims / 4, 1); m > 1; m--)
		if (meta->dims % m == 0)
			break;
	return m;
}

// VecdbSegmentKind chooses the engine kind of a segment of rows: the AM's
// own, or exact search for segments too small to gain from an index (below
// vecdb.min_index_rows, or fewer rows than PQ codebooks need).
VecdbEngineKind
VecdbSegmentKind(const VecdbMetaPageData *meta, uint64 rows)
{
	const VecdbAmMethod *method = VecdbAmMethodOf((VecdbAmKind) meta->am_kind);
	bool		bin = meta->elem_type == VECDB_ELEM_BIT;
	VecdbEngineKind exact = bin ? VECDB_ENGINE_BIN_FLAT : VECDB_ENGINE_FLAT;
	VecdbEngineKind kind;

	/* sparse rows have one kind, exact whatever the size (sparse_index.hpp) */
	if (meta->elem_type == VECDB_ELEM_SPARSE)
		return VECDB_ENGINE_SPARSE_INVERTED;
	if (rows < (uint64) vecdb_min_index_rows || rows == 0)
		return exact;
	kind = bin ? method->bit_kind : method->float_kind;
	/* hnsw's sq_bits: codes in memory, full rows on pages (row_store.cpp) */
	if (kind == VECDB_ENGINE_HNSW && meta->params.sq_bits > 0)
		kind = VECDB_ENGINE_HNSW_SQ;
	/* PQ codebooks need 2^nbits rows to train */
	if (kind == VECDB_ENGINE_IVF_PQ && rows < ((uint64) 1 << meta->params.nbits))
		return exact;
	return kind;
}

// VecdbEngineConfigFor fills the engine config of a segment of rows.
void
VecdbEngineConfigFor(const VecdbMetaPageData *meta, VecdbEngineKind kind, uint64 rows, VecdbEngineConfig *c)
{
	const VecdbAmMethod *method = VecdbAmMethodOf((VecdbAmKind) meta->am_kind);

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->metric = (VecdbMetric) meta->metric;
	c->dim = meta->dims;
	/* m is a graph's degree for hnsw, PQ's sub-quantizers for ivfpq */
	c->m = meta->params.m > 0 && method->search == VECDB_AM_SEARCH_GRAPH ? meta->params.m : 16;
	c->ef_construction = meta->params.ef_construction > 0 ? meta->params.ef_construction : 64;
	c->nlist = meta->params.lists > 0 ? meta->params.lists : 100;
	if ((uint64) c->nlist > rows)
		c->nlist = (int) Max(rows, (uint64) 1);
	c->pq_m = method->float_kind == VECDB_ENGINE_IVF_PQ ? PqSubquantizers(meta) : 8;
	c->nbits = meta->params.nbits > 0 ? meta->params.nbits : 8;
	if (kind == VECDB_ENGINE_HNSW_SQ)
		c->nbits = meta->params.sq_bits;
	c->threads = VecdbBuildThreads();
	c->repair_reach = method->search == VECDB_AM_SEARCH_GRAPH ? meta->params.repair_reach : 0;
	c->train_device = vecdb_train_device;
	/* the GPU k-means is registered in this backend only when asked for (a CUDA context is dear) */
	if (vecdb_train_device != VECDB_TRAIN_CPU &&
		(kind == VECDB_ENGINE_IVF_FLAT || kind == VECDB_ENGINE_IVF_PQ || kind == VECDB_ENGINE_IVF_SQ8))
		(void) VecdbEngineGpuTrainerReady();
}

// VecdbSegmentMemoryEstimate returns the bytes a built segment of rows holds.
size_t
VecdbSegmentMemoryEstimate(const VecdbMetaPageData *meta, uint64 rows)
{
	VecdbEngineConfig config;

	VecdbEngineConfigFor(meta, VecdbSegmentKind(meta, rows), rows, &config);
	return VecdbEngineEstimateMemory(&config, rows);
}

// SparseRowBytesSeen returns the stored bytes per row of an index of sparse
// rows, from its sealed segments and growing records (0 before any row).
static double
SparseRowBytesSeen(const VecdbMetaPageData *meta)
{
	double		rows = (double) (meta->growing.end - meta->growing.start);
	double		bytes = (double) (meta->growing.end_pos - meta->growing.start_pos);
	uint32		i;

	for (i = 0; i < meta->nsegments; i++)
	{
		rows += (double) meta->segments[i].rows;
		bytes += (double) meta->segments[i].blob_bytes;
	}
	return rows > 0 ? bytes / rows : 0;
}

// VecdbSegmentRowBudget returns how many rows a segment built in
// maintenance_work_mem may hold: the rows and TIDs gathered for it plus its
// engine index (at least 1,000). Sparse rows vary in size: once the index
// holds rows, their stored bytes per row set it (the rows, and an index of
// about twice their bytes), else a guess of 200 non-zeros a row.
uint64
VecdbSegmentRowBudget(const VecdbMetaPageData *meta)
{
	double		budget = (double) maintenance_work_mem * 1024.0;
	double		per_row;

	if (VecdbRowBytes(meta) == 0 && SparseRowBytesSeen(meta) > 0)
		per_row = 3.0 * SparseRowBytesSeen(meta) + sizeof(ItemPointerData);
	else
		per_row = (double) VecdbSegmentMemoryEstimate(meta, 100000) / 100000.0 +
			(VecdbRowBytes(meta) > 0 ? VecdbRowBytes(meta) : VecdbSparseRowGuess) + sizeof(ItemPointerData);
	return (uint64) Max(budget / per_row, 1000.0);
}

// ChainSink is the engine's byte sink onto a page chain.
static void
ChainSink(void *arg, const void *data, size_t n)
{
	VecdbChainWrite((VecdbChainWriter *) arg, data, n);
}

// VecdbWriteSegment builds the engine index of batch (labels 0 .. n-1) and
// writes it and its TID map as chains owned by segment_id; entry describes
// the result. With onto (an owned, writable engine index holding the
// batch's prefix rows as labels 0 .. prefix-1), the other rows are added to
// it instead of building anew: a merge then costs the rows it adds, not the
// rows it keeps; onto is freed. Nothing references the pages until the
// caller puts entry in the directory. Pages come from bulk (CREATE INDEX)
// or, when it is NULL, from the buffer pool.
void
VecdbWriteSegment(Relation index, const VecdbMetaPageData *meta, const VecdbRowBatch *batch, VecdbEngineIndex *onto,
				  uint32 segment_id, VecdbBulkPages *bulk, bool report_progress, VecdbSegmentEntry *entry)
{
	VecdbEngineConfig config;
	VecdbEngineKind kind;
	VecdbEngineIndex *engine;
	VecdbEngineOwner *owner;
	int64	   *labels;
	VecdbChainWriter w;
	uint64		i;
	uint64		slice;
	uint64		deleted = 0;

	Assert(onto != NULL || batch->prefix == 0);
	if (onto != NULL)
	{
		engine = onto;
		kind = (VecdbEngineKind) VecdbEngineGetKind(onto);
		if ((uint64) VecdbEngineCount(onto) != batch->prefix)
			elog(ERROR, "vecdb: merging onto an index of " INT64_FORMAT " rows with a prefix of " UINT64_FORMAT,
				 VecdbEngineCount(onto), batch->prefix);
		/* build options are not stored with a segment's graph */
		VecdbEngineSetRepairReach(onto,
								  VecdbAmMethodOf((VecdbAmKind) meta->am_kind)->search == VECDB_AM_SEARCH_GRAPH
								  ? meta->params.repair_reach : 0);
	}
	else
	{
		kind = VecdbSegmentKind(meta, batch->n);
		VecdbEngineConfigFor(meta, kind, batch->n, &config);
		VecdbEngineCheckConfig(&config);
		if (config.threads > 1)
			VecdbEngineWarmThreads(config.threads);
		engine = VecdbEngineCreate(&config);
	}
	owner = VecdbEngineOwn(engine);
	for (i = 0; i < batch->prefix; i++)
		deleted += !ItemPointerIsValid(&batch->tids[i]);

	labels = (int64 *) MemoryContextAllocHuge(CurrentMemoryContext, Max(batch->n, 1) * sizeof(int64));
	for (i = 0; i < batch->n; i++)
		labels[i] = (int64) i;

	if (report_progress)
	{
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VECDB_PHASE_BUILD);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) batch->n);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	}
	if (VecdbEngineNeedsTraining(engine) && batch->n > 0)
		VecdbEngineTrain(engine, batch->rows, batch->n);
	slice = VecdbEngineAddSlice(engine);
	if (slice == 0)
		slice = Max(batch->n, 1);
	for (i = batch->prefix; i < batch->n; i += slice)
	{
		uint64		n = Min(slice, batch->n - i);
		SliceProgress sp = {i, batch->prefix, batch->n, report_progress};

		CHECK_FOR_INTERRUPTS();
		VecdbEngineAddReporting(engine, VecdbRowBatchRow(batch, i), labels + i, n, ReportRowsAdded, &sp);
		ReportRowsAdded(&sp, n, n);
	}
	pfree(labels);

	if (report_progress)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VECDB_PHASE_WRITE);
	memset(entry, 0, sizeof(*entry));
	entry->segment_id = segment_id;
	entry->rows = batch->n;
	entry->deleted = deleted;
	entry->engine_kind = (uint32) kind;

	VecdbChainWriterBegin(&w, index, VECDB_PAGE_BLOB, segment_id, bulk);
	VecdbEngineSerialize(engine, ChainSink, &w);
	entry->blob_head = w.head;
	entry->blob_pages = w.pages;
	entry->blob_bytes = w.bytes;
	if (VecdbEngineKeepsRowsApart(engine))
		VecdbWriteRows(&w, engine, entry);
	VecdbChainWriterEnd(&w);

	VecdbChainWriterBegin(&w, index, VECDB_PAGE_TIDS, segment_id, bulk);
	VecdbChainWrite(&w, batch->tids, batch->n * sizeof(ItemPointerData));
	VecdbChainWriterEnd(&w);
	entry->tid_head = w.head;
	entry->tid_pages = w.pages;

	entry->cols_head = InvalidBlockNumber;
	if (meta->nscalars > 0)
	{
		VecdbScalarLayout layout;
		VecdbColumn *cols;

		VecdbScalarLayoutFor(index, &layout);
		cols = VecdbColumnsCreate(&layout, batch->n);
		for (i = 0; i < batch->n; i++)
			VecdbColumnsAppend(index, &layout, cols, batch->sblobs + batch->soffs[i],
							   (uint32) (batch->soffs[i + 1] - batch->soffs[i]));
		VecdbChainWriterBegin(&w, index, VECDB_PAGE_COLS, segment_id, bulk);
		VecdbColumnsWrite(&layout, cols, &w);
		VecdbChainWriterEnd(&w);
		entry->cols_head = w.head;
		entry->cols_pages = w.pages;
		entry->cols_bytes = w.bytes;
	}

	VecdbEngineFree(VecdbEngineOwnerRelease(owner));
}
