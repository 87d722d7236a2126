// am_scan.cpp implements index scans: ORDER BY <distance> streams heap TIDs
// in distance order for as long as the executor asks.
//
// A scan pins the index's loaded segments (segment_cache.cpp), starts one
// engine iterator per sealed segment and one over the growing segment, each
// skipping rows whose delete bit is set, and merges their batches by
// distance. When a segment's batch runs out it asks its iterator for the
// next (larger) one, so a LIMIT is filled whatever the executor filters out.
// Everything a rescan builds lives in one memory context, reset at the next
// rescan or at endscan; its reset callbacks free the engine iterators and
// drop the pins, also after an ERROR.
#include "am/am.hpp"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/tuplestore.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// kFirstBatch and kMaxBatch bound the batch a segment's iterator is asked for.
static const size_t kFirstBatch = 16;
static const size_t kMaxBatch = 4096;

// kRemoteMaxRows: a scan takes at most about this many rows of a segment
// from the GPU worker (a request asks for all the rows before it again).
static const uint64 kRemoteMaxRows = 16384;

// SegmentStream is one segment's iterator and its current batch.
typedef struct SegmentStream
{
	VecdbEngineIndex *engine;
	int			kind;			/* VecdbEngineKind */
	int			lists;			/* the segment's lists (IVF kinds): the index's option, at most its rows */
	int64		segment_id;		/* -1: the growing segment */
	uint64		allowed;		/* rows neither deleted nor filtered out */
	uint64		returned;
	uint64		read_rows;		/* rows this scan read from index pages */
	bool		shared;			/* searched in place in the shared area */
	const uint8 *deleted;
	uint64		nbits;
	const ItemPointerData *tids;
	VecdbEngineIter *iter;
	VecdbIterOwner *owner;
	VecdbNeighbor *buf;
	size_t		buf_cap;
	size_t		nbuf;
	size_t		pos;
	size_t		batch;
	bool		done;
	/* a segment searched by the GPU worker (gpu_queue.cpp), one request per batch */
	bool		remote;
	bool		remote_exhausted;	/* the last request returned fewer rows than asked */
	VecdbSharedPin copy;		/* the segment's shared copy, which the worker searches */
	const void *query;
	size_t		row_bytes;
	uint64		fetched;		/* k of the last request */
	uint8	   *seen;			/* labels already taken from the worker's answers */
	bool		stash_only;		/* remote only for vecdb_search's batch answers (auto chose the CPU) */
	uint32		tid_version;	/* the delete marks of deleted (sealed segments) */
	bool		filtered;		/* deleted also holds a scan condition's bits */
} SegmentStream;

// OrderedTid is an entry of the strict-order window.
typedef struct OrderedTid
{
	float		distance;
	ItemPointerData tid;
} OrderedTid;

// VecdbScanOpaqueData is a scan's state.
typedef struct VecdbScanOpaqueData
{
	MemoryContext cxt;			/* reset at every rescan */
	bool		started;
	bool		finished;
	VecdbIndexDesc desc;
	VecdbPinnedSegments *snap;
	int			nstreams;
	SegmentStream *streams;
	uint64		returned;
	uint64		max_tuples;		/* 0: no limit */
	bool		strict;
	int			window;			/* strict order: rows held back to sort */
	OrderedTid *heap;
	int			nheap;
	bool		monotonic;		/* rows leave in distance order (not relaxed_order) */
	float		last_distance;	/* of the row returned last */
	OrderedTid *late;			/* rows found after a farther one was returned */
	uint64		nlate;
	uint64		late_cap;
	uint64		late_next;		/* next late row to return once draining */
	bool		draining;		/* every stream is done: returning the late rows */
	bool		null_query;		/* ORDER BY distance to NULL: rows in any order */
	int			null_stream;
	uint64		null_label;
	uint64		scan_id;		/* numbers scans, for vecdb_last_scan */
	VecdbEngineSearchParams params;
	Oid			index_oid;
} VecdbScanOpaqueData;

typedef VecdbScanOpaqueData *VecdbScanOpaque;

// LastScan is what vecdb_last_scan reports: the streams of the scan this
// backend started last, with the rows each allowed and returned.
typedef struct LastScanStream
{
	int64		segment_id;
	int			kind;
	char		strategy[48];
	uint64		rows;
	uint64		allowed;
	uint64		returned;
	uint64		read_rows;
	bool		shared;
	char		device[96];
} LastScanStream;

static struct
{
	uint64		scan_id;
	Oid			index;
	int			nstreams;
	LastScanStream streams[VECDB_MAX_SEGMENTS + 1];
} last_scan;
static uint64 scan_counter = 0;

// ExplainDevice is what EXPLAIN ANALYZE reports of one index's scans in the
// statement (src/planner/explain_device.cpp): segments searched, how many by
// the GPU worker, how many of those finished on this backend, and why.
typedef struct ExplainDevice
{
	Oid			index;
	uint64		scans;
	uint64		segments;
	uint64		remote;
	uint64		fallbacks;
	char		device[64];
	char		reason[160];
} ExplainDevice;

static const int kExplainIndexes = 16;
static ExplainDevice explain_devices[kExplainIndexes];
static int	n_explain = 0;
static int	explain_depth = 0;	/* EXPLAIN ANALYZE statements running (nested ones share the list) */

// FindExplainDevice returns index's entry while EXPLAIN ANALYZE collects, or NULL.
static ExplainDevice *
FindExplainDevice(Oid index)
{
	if (explain_depth == 0)
		return NULL;
	for (int i = 0; i < n_explain; i++)
		if (explain_devices[i].index == index)
			return &explain_devices[i];
	if (n_explain == kExplainIndexes)
		return NULL;
	memset(&explain_devices[n_explain], 0, sizeof(ExplainDevice));
	explain_devices[n_explain].index = index;
	return &explain_devices[n_explain++];
}

// VecdbExplainDevicesBegin starts collecting for an EXPLAIN ANALYZE.
void
VecdbExplainDevicesBegin(void)
{
	if (explain_depth++ == 0)
		n_explain = 0;
}

// VecdbExplainDevicesEnd stops collecting; with out, it appends a line per
// index whose scans the GPU worker took part in (text format).
void
VecdbExplainDevicesEnd(StringInfo out)
{
	if (explain_depth > 0)
		explain_depth--;
	if (explain_depth > 0 || out == NULL)
		return;
	for (int i = 0; i < n_explain; i++)
	{
		const ExplainDevice *d = &explain_devices[i];
		const char *name;

		if (d->remote == 0)
			continue;
		name = get_rel_name(d->index);
		appendStringInfo(out, "vecdb: %s: the gpu worker (%s) ran " UINT64_FORMAT " of " UINT64_FORMAT
						 " segment searches (" UINT64_FORMAT " scan%s)", name ? name : "?", d->device, d->remote,
						 d->segments, d->scans, d->scans == 1 ? "" : "s");
		if (d->fallbacks > 0)
			appendStringInfo(out, "; " UINT64_FORMAT " finished on the cpu (%s)", d->fallbacks, d->reason);
		appendStringInfoChar(out, '\n');
	}
	n_explain = 0;
}

// The batch answers vecdb_search got from the GPU worker for all its queries
// at once (batch_search.cpp): a scan it then runs for query stash_query
// takes its first batch of such a segment from here instead of a request.
static const VecdbScanStash *stash = NULL;
static int	nstash = 0;
static int	stash_query = -1;

// VecdbScanStashSet lends the scans of this backend n batch answers, until
// VecdbScanStashClear.
void
VecdbScanStashSet(const VecdbScanStash *entries, int n)
{
	stash = entries;
	nstash = n;
	stash_query = -1;
}

// VecdbScanStashQuery says which of the batch's queries the next scan runs.
void
VecdbScanStashQuery(int q)
{
	stash_query = q;
}

// VecdbScanStashClear ends the loan.
void
VecdbScanStashClear(void)
{
	stash = NULL;
	nstash = 0;
	stash_query = -1;
}

// Stashed says whether vecdb_search's batch holds answers for a stream's
// segment (the batch's request may go to the worker where one query's
// would not: vecdb.gpu = auto weighs the whole batch).
static bool
Stashed(const SegmentStream *s)
{
	if (stash_query < 0 || s->filtered)
		return false;
	for (int i = 0; i < nstash; i++)
		if (stash[i].copy.entry == s->copy.entry && stash[i].copy.incarnation == s->copy.incarnation &&
			stash[i].tid_version == s->tid_version)
			return true;
	return false;
}

// FromStash answers a stream's request for its top k rows from the batch
// answers when they hold its segment (same copy and delete marks, no scan
// condition) for at least k rows; *count gets the rows found.
static bool
FromStash(SegmentStream *s, uint64 k, int *count)
{
	if (stash_query < 0 || s->filtered)
		return false;
	for (int i = 0; i < nstash; i++)
	{
		const VecdbScanStash *e = &stash[i];
		int			c;

		if (e->copy.entry != s->copy.entry || e->copy.incarnation != s->copy.incarnation ||
			e->tid_version != s->tid_version || stash_query >= e->nq || k > (uint64) e->k ||
			(!e->prefixes && k != (uint64) e->k))
			continue;
		c = e->counts[stash_query];
		if (c < 0)
			return false;
		*count = (int) Min((uint64) c, k);
		memcpy(s->buf, e->results + (Size) stash_query * e->k, sizeof(VecdbNeighbor) * *count);
		return true;
	}
	return false;
}

// vecdbbeginscan allocates a scan.
IndexScanDesc
vecdbbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	VecdbScanOpaque so = (VecdbScanOpaque) palloc0(sizeof(VecdbScanOpaqueData));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb scan", ALLOCSET_DEFAULT_SIZES);
	so->index_oid = RelationGetRelid(index);
	VecdbDescribeIndex(index, &so->desc);
	scan->opaque = so;
	return scan;
}

// vecdbrescan restarts a scan with new keys and ORDER BY values.
void
vecdbrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	VecdbScanOpaque so = (VecdbScanOpaque) scan->opaque;

	MemoryContextReset(so->cxt);
	so->started = false;
	so->finished = false;
	so->snap = NULL;
	so->nstreams = 0;
	so->streams = NULL;
	so->returned = 0;
	so->nheap = 0;
	so->heap = NULL;
	so->late = NULL;
	so->nlate = 0;
	so->late_cap = 0;
	so->late_next = 0;
	so->draining = false;
	so->null_query = false;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

// ApplyFilter returns the bitset of rows a segment's scan must skip (deleted
// or failing a key) and sets *allowed to the rows left.
static const uint8 *
ApplyFilter(const VecdbScanFilter *f, const VecdbScalarLayout *l, const VecdbColumn *cols, const uint8 *deleted,
			uint64 rows, uint64 *allowed)
{
	uint8	   *out = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, (rows + 8) / 8);

	*allowed = VecdbFilterApply(f, l, cols, deleted, rows, out);
	return out;
}

// SearchedExactly says whether the engine searches a graph segment's stream
// exactly because its condition allows few rows (below the brute-force
// ratio, as StrategyName's "exact (few allowed)"): such a search can go to
// the GPU worker as an exact one.
static bool
SearchedExactly(const SegmentStream *s, const VecdbMetaPageData *meta, const VecdbEngineSearchParams *params)
{
	double		ratio;

	if (s->kind != VECDB_ENGINE_HNSW || s->allowed >= s->nbits)
		return false;
	ratio = params->brute_force_ratio >= 0 ? params->brute_force_ratio
		: VecdbEngineDefaultBruteForceRatio(s->kind, 1, params->nprobe, params->ef_search, s->nbits, meta->dims,
											(int) meta->metric);
	return (double) s->allowed < ratio * (double) s->nbits;
}

// StrategyName says how the engine searches a stream: exactly (flat
// segments, or too few rows allowed), or through its index, filtered or not.
static void
StrategyName(const SegmentStream *s, const VecdbMetaPageData *meta, const VecdbEngineSearchParams *params, char *out,
			 size_t len)
{
	double		ratio = params->brute_force_ratio >= 0 ? params->brute_force_ratio
		: VecdbEngineDefaultBruteForceRatio(s->kind, Max(1, (int) Min((uint64) s->lists, s->nbits)), params->nprobe,
											params->ef_search, s->nbits, meta->dims, (int) meta->metric);
	const char *kind = VecdbEngineKindName(s->kind);

	if (s->kind == VECDB_ENGINE_GROWING && s->allowed > 0)
	{
		size_t		lists,
					probes;

		VecdbEngineGrowingPlan(s->engine, params, &lists, &probes, &ratio);
		if (lists == 0)
			strlcpy(out, "exact", len);
		else if (s->allowed < s->nbits && (double) s->allowed < ratio * (double) s->nbits)
			strlcpy(out, "exact (few allowed)", len);
		else
			snprintf(out, len, "%slists (%zu of %zu)", s->allowed < s->nbits ? "filtered " : "", probes, lists);
	}
	else if (s->allowed == 0)
		strlcpy(out, "none allowed", len);
	else if (s->kind == VECDB_ENGINE_FLAT || s->kind == VECDB_ENGINE_BIN_FLAT)
		strlcpy(out, "exact", len);
	else if (s->allowed < s->nbits && (double) s->allowed < ratio * (double) s->nbits)
		strlcpy(out, "exact (few allowed)", len);
	else if (s->allowed < s->nbits)
		snprintf(out, len, "filtered %s", kind);
	else
		strlcpy(out, kind, len);
}

// RecordLastScan makes this scan the one vecdb_last_scan reports.
static void
RecordLastScan(IndexScanDesc scan, const VecdbEngineSearchParams *params)
{
	VecdbScanOpaque so = (VecdbScanOpaque) scan->opaque;
	int			i;

	so->scan_id = ++scan_counter;
	{
		ExplainDevice *d = FindExplainDevice(RelationGetRelid(scan->indexRelation));

		if (d)
		{
			d->scans++;
			for (i = 0; i < so->nstreams; i++)
				if (so->streams[i].segment_id >= 0)
				{
					d->segments++;
					d->remote += so->streams[i].remote;
				}
			if (d->remote > 0 && d->device[0] == '\0')
				VecdbGpuDeviceName(d->device, sizeof(d->device));
		}
	}
	last_scan.scan_id = so->scan_id;
	last_scan.index = RelationGetRelid(scan->indexRelation);
	last_scan.nstreams = so->nstreams;
	for (i = 0; i < so->nstreams; i++)
	{
		const SegmentStream *s = &so->streams[i];
		LastScanStream *ls = &last_scan.streams[i];

		ls->segment_id = s->segment_id;
		ls->kind = s->kind;
		ls->rows = s->nbits;
		ls->allowed = s->allowed;
		ls->returned = 0;
		ls->read_rows = s->read_rows;
		ls->shared = s->shared;
		if (s->remote)
		{
			char		device[64];

			VecdbGpuDeviceName(device, sizeof(device));
			snprintf(ls->device, sizeof(ls->device), "gpu worker (%s)", device);
		}
		else
			strlcpy(ls->device, "cpu", sizeof(ls->device));
		StrategyName(s, &so->snap->meta, params, ls->strategy, sizeof(ls->strategy));
	}
}

// VecdbLastScanRows fills rsinfo's tuplestore with vecdb_last_scan's rows.
void
VecdbLastScanRows(Tuplestorestate *store, TupleDesc desc)
{
	int			i;

	for (i = 0; i < last_scan.nstreams; i++)
	{
		const LastScanStream *ls = &last_scan.streams[i];
		Datum		values[10];
		bool		nulls[10] = {false, false, false, false, false, false, false, false, false, false};

		values[0] = ObjectIdGetDatum(last_scan.index);
		values[1] = Int32GetDatum((int32) ls->segment_id);
		nulls[1] = ls->segment_id < 0;
		values[2] = CStringGetTextDatum(ls->segment_id < 0 ? "growing" : VecdbEngineKindName(ls->kind));
		values[3] = CStringGetTextDatum(ls->strategy);
		values[4] = Int64GetDatum((int64) ls->rows);
		values[5] = Int64GetDatum((int64) ls->allowed);
		values[6] = Int64GetDatum((int64) ls->returned);
		values[7] = CStringGetTextDatum(ls->shared ? "shared" : "private");
		values[8] = Int64GetDatum((int64) ls->read_rows);
		values[9] = CStringGetTextDatum(ls->device);
		tuplestore_putvalues(store, desc, values, nulls);
	}
}

// VecdbScanSearchParams returns the search parameters of the index's AM
// from the settings (scans, and vecdb_search's requests to the GPU worker).
void
VecdbScanSearchParams(const VecdbIndexDesc *desc, VecdbEngineSearchParams *p)
{
	const VecdbAmMethod *method = VecdbAmMethodOf(desc->am_kind);

	memset(p, 0, sizeof(*p));
	p->ef_search = vecdb_hnsw_ef_search;
	p->nprobe = 1;
	p->brute_force_ratio = vecdb_brute_force_ratio;
	if (method->probes)
		p->nprobe = *method->probes;
	if (method->rerank)
		p->rerank = *method->rerank >= 0 ? *method->rerank : desc->params.rerank;
}

// StartStream begins a segment's iterator for the query; a segment with
// nothing deleted or filtered out is searched without a bitset (cheaper).
static void
StartStream(SegmentStream *s, const void *query, const VecdbEngineSearchParams *params)
{
	bool		all = s->allowed == s->nbits;

	s->batch = Max(kFirstBatch, (size_t) params->ef_search);
	s->buf = NULL;
	if (s->remote)
	{
		s->query = query;
		s->seen = (uint8 *) MemoryContextAllocHuge(CurrentMemoryContext, (s->nbits + 8) / 8);
		memset(s->seen, 0, (s->nbits + 8) / 8);
		return;
	}
	s->iter = VecdbEngineIterStart(s->engine, query, params, all ? NULL : s->deleted, all ? 0 : s->nbits);
	s->owner = VecdbIterOwn(s->iter);
}

// VecdbScanRowsFor returns the rows a scan has asked a segment's worker
// stream for once it holds at least k: first a batch, then batches twice as
// large each time (Refill); batch answers this large (vecdb_search) serve
// every request of a scan whose first k rows are all visible.
uint64
VecdbScanRowsFor(int k)
{
	uint64		batch = Max(kFirstBatch, (size_t) vecdb_hnsw_ef_search);
	uint64		asked = batch;

	while (asked < (uint64) k)
	{
		batch = Min(batch * 2, (uint64) kMaxBatch);
		asked += batch;
	}
	return asked;
}

// TakeUnseen keeps the results of buf[0..n) not taken before (s->seen) and
// marks them taken; it returns how many are left.
static size_t
TakeUnseen(SegmentStream *s, size_t n)
{
	size_t		kept = 0;

	for (size_t i = 0; i < n; i++)
	{
		uint64		l = (uint64) s->buf[i].label;

		if (s->seen[l >> 3] & (1 << (l & 7)))
			continue;
		s->seen[l >> 3] |= (uint8) (1 << (l & 7));
		s->buf[kept++] = s->buf[i];
	}
	return kept;
}

// RemoteRefill asks the GPU worker for the stream's next batch: the top
// fetched + batch rows, of which those not taken before are new (an exact
// search's answer for a larger k holds the smaller one's). When the worker
// cannot answer, the stream goes on with an engine iterator on this
// backend, skipping the rows already taken (under vecdb.gpu = on a worker
// that is missing or failed has raised an ERROR instead).
static bool
RemoteRefill(VecdbScanOpaque so, SegmentStream *s, const VecdbEngineSearchParams *params)
{
	uint64		k = Min(s->fetched + s->batch, s->allowed);
	int			count = 0;
	char		why[200];
	VecdbGpuOutcome outcome;
	bool		all = s->allowed == s->nbits;

	if (s->remote_exhausted || k <= s->fetched)
	{
		s->nbuf = 0;
		s->pos = 0;
		s->done = true;
		return true;
	}
	if (s->buf_cap < k)
	{
		s->buf = s->buf ? (VecdbNeighbor *) repalloc_huge(s->buf, sizeof(VecdbNeighbor) * k)
			: (VecdbNeighbor *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(VecdbNeighbor) * k);
		s->buf_cap = k;
	}
	if (FromStash(s, k, &count))
		outcome = VECDB_GPU_SERVED;
	else if (s->stash_only || (s->kind == VECDB_ENGINE_IVF_FLAT && s->fetched > 0))
	{
		/* the batch's answers are used up (auto chose this backend), or an IVF
		 * stream's first batch is served: the iterator goes on here, asked for
		 * the batches it would have been asked for from the start (so the rows
		 * come as on the CPU), skipping the rows taken */
		s->remote = false;
		s->batch = Max(kFirstBatch, (size_t) params->ef_search);
		s->iter = VecdbEngineIterStart(s->engine, s->query, params, all ? NULL : s->deleted, all ? 0 : s->nbits);
		s->owner = VecdbIterOwn(s->iter);
		return false;
	}
	else if (s->fetched >= kRemoteMaxRows)
	{
		/* each request asks for all rows again: deep scans go on here */
		snprintf(why, sizeof(why), "served the first " UINT64_FORMAT " rows, the rest here", s->fetched);
		outcome = VECDB_GPU_DECLINED;
	}
	else
		outcome = VecdbGpuSearch(&s->copy, s->query, 1, s->row_bytes, (int) k,
								 s->kind == VECDB_ENGINE_IVF_FLAT ? params : NULL, all ? NULL : s->deleted, s->nbits,
								 s->buf, &count, why, sizeof(why));
	if (outcome == VECDB_GPU_SERVED)
	{
		s->remote_exhausted = (uint64) count < k;
		s->fetched = k;
		s->nbuf = TakeUnseen(s, (size_t) count);
		s->pos = 0;
		s->batch = Min(s->batch * 2, kMaxBatch);
		if (s->nbuf == 0 && s->remote_exhausted)
			s->done = true;
		return true;
	}
	/* on this backend from here on */
	s->remote = false;
	{
		ExplainDevice *d = FindExplainDevice(so->index_oid);

		if (d)
		{
			d->fallbacks++;
			strlcpy(d->reason, why, sizeof(d->reason));
		}
	}
	if (last_scan.scan_id == so->scan_id)
		snprintf(last_scan.streams[s - so->streams].device, sizeof(last_scan.streams[0].device),
				 "cpu (gpu worker: %s)", why);
	s->iter = VecdbEngineIterStart(s->engine, s->query, params, all ? NULL : s->deleted, all ? 0 : s->nbits);
	s->owner = VecdbIterOwn(s->iter);
	return false;
}

// IteratorBatch asks a stream's iterator for its next batch, growing the
// batch size; an exhausted iterator ends the stream.
static void
IteratorBatch(SegmentStream *s)
{
	/* the buffer grows with the batch: a LIMIT 10 scan never needs the largest */
	if (s->buf_cap < s->batch)
	{
		s->buf = s->buf ? (VecdbNeighbor *) repalloc_huge(s->buf, sizeof(VecdbNeighbor) * s->batch)
			: (VecdbNeighbor *) palloc(sizeof(VecdbNeighbor) * s->batch);
		s->buf_cap = s->batch;
	}
	s->nbuf = VecdbEngineIterNext(s->iter, s->batch, s->buf);
	s->pos = 0;
	if (s->nbuf == 0)
	{
		s->done = true;
		VecdbIterOwnerFree(s->owner);
		s->iter = NULL;
	}
	s->batch = Min(s->batch * 2, kMaxBatch);
}

// Refill gets a stream's next batch: from the GPU worker while it serves the
// stream, else from the engine iterator, skipping the rows the worker
// returned before (s->seen).
static void
Refill(VecdbScanOpaque so, SegmentStream *s)
{
	if (s->remote && RemoteRefill(so, s, &so->params))
		return;
	do
	{
		IteratorBatch(s);
		if (s->seen && s->nbuf > 0)
			s->nbuf = TakeUnseen(s, s->nbuf);
	} while (s->seen && !s->done && s->nbuf == 0);
}

// StartScan pins the segments, prepares the query and starts the iterators.
static void
StartScan(IndexScanDesc scan)
{
	VecdbScanOpaque so = (VecdbScanOpaque) scan->opaque;
	ScanKey		key = &scan->orderByData[0];
	VecdbMetaPageData *meta;
	VecdbEngineSearchParams params;
	char	   *query = NULL;
	int			i;
	uint64		total = 0;
	VecdbScalarLayout layout;
	VecdbScanFilter *filter;
	char	   *filter_key = NULL;
	Size		filter_key_len = 0;

	so->started = true;
	so->snap = (VecdbPinnedSegments *) palloc0(sizeof(VecdbPinnedSegments));
	VecdbCacheAcquire(scan->indexRelation, so->snap);
	meta = &so->snap->meta;
	VecdbScalarLayoutFor(scan->indexRelation, &layout);
	filter = VecdbFilterPrepare(scan->indexRelation, &layout, scan->keyData, scan->numberOfKeys);
	if (filter)
		filter_key = VecdbFilterKeyBytes(&layout, scan->keyData, scan->numberOfKeys, &filter_key_len);

	VecdbScanSearchParams(&so->desc, &params);
	so->streams = (SegmentStream *) palloc0(sizeof(SegmentStream) * (meta->nsegments + 1));
	for (i = 0; i < so->snap->nsegments; i++)
	{
		SegmentStream *s = &so->streams[so->nstreams++];
		VecdbSegment *seg = so->snap->segments[i];

		s->engine = seg->engine;
		VecdbRowsBind(seg->rows_reader, scan->indexRelation);
		s->kind = VecdbEngineGetKind(seg->engine);
		s->lists = (int) Min((uint64) Max(so->desc.params.lists, 1), Max(seg->rows, (uint64) 1));
		s->segment_id = seg->segment_id;
		s->deleted = seg->deleted;
		s->nbits = seg->rows;
		s->tids = seg->tids;
		s->allowed = seg->rows - seg->deleted_count;
		s->read_rows = so->snap->read_rows[i];
		s->shared = seg->in_place;
		s->tid_version = seg->tid_version;
		s->filtered = filter != NULL;
		if (filter)
			s->deleted = VecdbSegmentFilterBits(seg, filter, &layout, filter_key, filter_key_len, &s->allowed);
		s->copy = seg->shared_pin;
		/* nothing of the worker's choice is computed when it is off */
		if (vecdb_gpu_mode != VECDB_GPU_OFF)
		{
			s->remote = VecdbGpuChoose(s->kind, meta->elem_type,
									   VecdbGpuScoredRows(s->kind, seg->rows, s->allowed, s->lists, meta->dims,
														  (int) meta->metric, &params),
									   meta->dims, seg->in_place, SearchedExactly(s, meta, &params));
			s->stash_only = !s->remote && Stashed(s);
			s->remote = s->remote || s->stash_only;
		}
		total += s->allowed;
	}
	if (so->snap->growing)
	{
		SegmentStream *s = &so->streams[so->nstreams++];
		VecdbGrowingCache *g = so->snap->growing;

		s->engine = g->engine;
		s->kind = VecdbEngineGetKind(g->engine);
		s->segment_id = -1;
		s->deleted = g->deleted;
		s->nbits = g->loaded;
		s->tids = g->tids;
		s->allowed = g->loaded - g->deleted_count;
		s->read_rows = so->snap->growing_read;
		if (filter)
			s->deleted = ApplyFilter(filter, &layout, g->cols, g->deleted, g->loaded, &s->allowed);
		total += s->allowed;
	}
	for (i = 0; i < so->nstreams; i++)
		if (so->streams[i].allowed == 0)
			so->streams[i].done = true;
	so->params = params;
	RecordLastScan(scan, &params);

	if (scan->numberOfOrderBys == 0 || (key->sk_flags & SK_ISNULL))
	{
		so->null_query = true;
		return;
	}
	if (total == 0)
	{
		so->finished = true;
		return;
	}
	if (meta->dims == 0 || so->nstreams == 0)
	{
		so->finished = true;
		return;
	}
	{
		VecdbElemType row_format = (VecdbElemType) meta->elem_type;
		int			dims = VecdbDatumDims(key->sk_argument, row_format);

		VecdbCheckDims(scan->indexRelation, meta->dims, dims);
		query = (char *) palloc0(Max(VecdbDatumRowBytes(key->sk_argument, row_format, so->desc.metric, dims), 8));
		if (!VecdbDatumToRow(key->sk_argument, row_format, so->desc.metric, dims, query))
		{
			/* cosine distance to a zero vector: NaN for every row, so any order is the order (as a seqscan) */
			so->null_query = true;
			return;
		}
	}

	so->max_tuples = 0;
	so->strict = false;
	so->monotonic = true;
	so->last_distance = -get_float4_infinity();
	{
		const VecdbAmMethod *method = VecdbAmMethodOf(so->desc.am_kind);

		so->monotonic = !(method->iterative_scan && *method->iterative_scan == VECDB_ITERATIVE_RELAXED);
		/* pgvector's iterative scans: hnsw bounds the rows, ivfflat the lists */
		if (method->iterative_scan && *method->iterative_scan != VECDB_ITERATIVE_OFF)
		{
			if (method->max_scan_tuples)
			{
				so->max_tuples = (uint64) *method->max_scan_tuples;
				so->strict = *method->iterative_scan == VECDB_ITERATIVE_STRICT;
			}
			else if (method->max_probes && *method->max_probes < so->desc.params.lists)
				so->max_tuples = Max((uint64) 1,
									 total * (uint64) *method->max_probes / (uint64) so->desc.params.lists);
		}
	}
	if (so->strict)
	{
		so->window = Max(params.ef_search, 16);
		so->heap = (OrderedTid *) palloc(sizeof(OrderedTid) * (so->window + 1));
	}
	for (i = 0; i < so->nstreams; i++)
		if (!so->streams[i].done)
		{
			/* the worker serves float rows only (VecdbGpuChoose) */
			so->streams[i].row_bytes = (size_t) meta->dims * sizeof(float);
			StartStream(&so->streams[i], query, &params);
		}
}

// NextMerged pops the closest pending result over all streams; false when
// every stream is exhausted.
static bool
NextMerged(VecdbScanOpaque so, ItemPointer tid, float *distance)
{
	SegmentStream *best = NULL;
	int			i;

	for (i = 0; i < so->nstreams; i++)
	{
		SegmentStream *s = &so->streams[i];

		if (!s->done && s->pos == s->nbuf)
			Refill(so, s);
		if (s->done)
			continue;
		if (best == NULL || s->buf[s->pos].distance < best->buf[best->pos].distance)
			best = s;
	}
	if (best == NULL)
		return false;
	*tid = best->tids[best->buf[best->pos].label];
	*distance = best->buf[best->pos].distance;
	best->pos++;
	best->returned++;
	if (last_scan.scan_id == so->scan_id)
		last_scan.streams[best - so->streams].returned = best->returned;
	return true;
}

// HeapPush adds an entry to the strict-order min-heap.
static void
HeapPush(VecdbScanOpaque so, float distance, ItemPointer tid)
{
	int			i = so->nheap++;

	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (so->heap[parent].distance <= distance)
			break;
		so->heap[i] = so->heap[parent];
		i = parent;
	}
	so->heap[i].distance = distance;
	so->heap[i].tid = *tid;
}

// HeapPop removes the closest entry of the strict-order min-heap.
static ItemPointerData
HeapPop(VecdbScanOpaque so)
{
	ItemPointerData top = so->heap[0].tid;
	OrderedTid	last = so->heap[--so->nheap];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= so->nheap)
			break;
		if (child + 1 < so->nheap && so->heap[child + 1].distance < so->heap[child].distance)
			child++;
		if (so->heap[child].distance >= last.distance)
			break;
		so->heap[i] = so->heap[child];
		i = child;
	}
	if (so->nheap > 0)
		so->heap[i] = last;
	return top;
}

// NextUnordered returns the rows of every segment in label order (ORDER BY
// distance to NULL: any order is correct).
static bool
NextUnordered(VecdbScanOpaque so, ItemPointer tid)
{
	while (so->null_stream < so->nstreams)
	{
		SegmentStream *s = &so->streams[so->null_stream];

		while (so->null_label < s->nbits)
		{
			uint64		l = so->null_label++;

			if (!(s->deleted[l >> 3] & (1 << (l & 7))))
			{
				*tid = s->tids[l];
				s->returned++;
				if (last_scan.scan_id == so->scan_id)
					last_scan.streams[so->null_stream].returned = s->returned;
				return true;
			}
		}
		so->null_stream++;
		so->null_label = 0;
	}
	return false;
}

// OrderedTidCmp orders late rows by distance for qsort.
static int
OrderedTidCmp(const void *a, const void *b)
{
	float		da = ((const OrderedTid *) a)->distance;
	float		db = ((const OrderedTid *) b)->distance;

	return da < db ? -1 : da > db ? 1 : 0;
}

// NextOrdered returns the next row in distance order. The engines' batches
// are only roughly ordered past the first ef_search rows: a row closer than
// one already returned is held back (as pgvector's strict order drops it)
// and returned after every stream is done, so the rows the executor sees
// never go back in distance while any stream still yields (LIMIT still
// filled). relaxed_order returns rows as found.
static bool
NextOrdered(VecdbScanOpaque so, ItemPointer tid)
{
	float		distance;

	while (!so->draining)
	{
		bool		found;

		if (so->strict)
		{
			while (so->nheap < so->window && NextMerged(so, tid, &distance))
				HeapPush(so, distance, tid);
			found = so->nheap > 0;
			if (found)
			{
				distance = so->heap[0].distance;
				*tid = HeapPop(so);
			}
		}
		else
			found = NextMerged(so, tid, &distance);
		if (!found)
		{
			so->draining = true;
			if (so->nlate > 1)
				qsort(so->late, so->nlate, sizeof(OrderedTid), OrderedTidCmp);
			break;
		}
		if (!so->monotonic || distance >= so->last_distance)
		{
			so->last_distance = distance;
			return true;
		}
		if (so->nlate == so->late_cap)
		{
			so->late_cap = Max(so->late_cap * 2, 64);
			so->late = so->late ? (OrderedTid *) repalloc_huge(so->late, so->late_cap * sizeof(OrderedTid))
				: (OrderedTid *) palloc(so->late_cap * sizeof(OrderedTid));
		}
		so->late[so->nlate].distance = distance;
		so->late[so->nlate].tid = *tid;
		so->nlate++;
	}
	if (so->late_next >= so->nlate)
		return false;
	*tid = so->late[so->late_next++].tid;
	return true;
}

// vecdbgettuple returns the next heap TID in distance order.
bool
vecdbgettuple(IndexScanDesc scan, ScanDirection dir)
{
	VecdbScanOpaque so = (VecdbScanOpaque) scan->opaque;
	MemoryContext old;
	ItemPointerData tid;
	bool		found;

	if (!so->started)
	{
		/* pg_stat_*_indexes.idx_scan, as other access methods count it (the executor counts the tuples) */
		pgstat_count_index_scan(scan->indexRelation);
		old = MemoryContextSwitchTo(so->cxt);
		StartScan(scan);
		MemoryContextSwitchTo(old);
	}
	if (so->finished)
		return false;
	if (so->max_tuples > 0 && so->returned >= so->max_tuples)
		return false;
	CHECK_FOR_INTERRUPTS();

	old = MemoryContextSwitchTo(so->cxt);
	if (so->null_query)
		found = NextUnordered(so, &tid);
	else
		found = NextOrdered(so, &tid);
	MemoryContextSwitchTo(old);

	if (!found)
	{
		so->finished = true;
		return false;
	}
	so->returned++;
	scan->xs_heaptid = tid;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	return true;
}

// vecdbendscan releases a scan (iterators and pins go with its context).
void
vecdbendscan(IndexScanDesc scan)
{
	VecdbScanOpaque so = (VecdbScanOpaque) scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
