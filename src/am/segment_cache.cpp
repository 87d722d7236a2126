// segment_cache.cpp keeps, per backend, the segments of each index loaded as
// engine objects, so a query loads nothing that an earlier one loaded. An
// entry is keyed by the index's relfilenode and checked against the
// metapage's build id and generation on every scan: segments still in the
// directory are kept, new ones loaded, dropped ones released; a segment whose
// delete marks changed (tid_version) reloads its TID map only. The growing
// segment is kept as a GROWING engine index and extended with the rows
// appended since the last scan; rows a seal took leave it in memory
// (flagged, or removed in place once they are half of it).
//
// Lifetimes: every loaded object lives in its own memory context (the engine
// freed by a reset callback there), created under the caller's context while
// loading, so an ERROR mid-load frees it, and moved under the cache's context
// once complete. A scan pins what it uses (refcount); pins are dropped at
// endscan or, after an ERROR, by a reset callback on the scan's context.
// Objects pinned by a scan are never changed in place.
#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

// CacheEntry is one index's loaded state.
typedef struct CacheEntry
{
	VecdbRelFile key;
	uint64		build_id;
	uint64		generation;
	int			nsegments;
	VecdbSegment *segments[VECDB_MAX_SEGMENTS];
	VecdbGrowingCache *growing;
	uint64		last_used;
} CacheEntry;

// SnapshotPins is the reset callback's view of a snapshot's pins.
typedef struct SnapshotPins
{
	MemoryContextCallback cb;
	VecdbPinnedSegments *snap;
	bool		released;
} SnapshotPins;

static HTAB *cache = NULL;
static MemoryContext cache_cxt = NULL;
static uint64 use_clock = 0;

// SegmentFree releases a segment's memory and engine.
static void
SegmentFree(VecdbSegment *seg)
{
	MemoryContextDelete(seg->cxt);
}

// VecdbSegmentUnref drops one reference; the last frees the segment.
void
VecdbSegmentUnref(VecdbSegment *seg)
{
	if (--seg->refcount <= 0)
		SegmentFree(seg);
}

// GrowingUnref drops one reference to a growing cache.
static void
GrowingUnref(VecdbGrowingCache *g)
{
	if (--g->refcount <= 0)
		MemoryContextDelete(g->cxt);
}

// ChainSource is the engine's byte source over a page chain.
static bool
ChainSource(void *arg, void *data, size_t n)
{
	return VecdbChainRead((VecdbChainReader *) arg, data, n);
}

// ReadTids loads entry's TID map into seg and derives its delete bitset.
static void
ReadTids(Relation index, const VecdbSegmentEntry *entry, uint64 generation, VecdbSegment *seg)
{
	VecdbChainReader r;
	uint64		i;
	uint8		probe;

	seg->tids = (ItemPointerData *) MemoryContextAllocHuge(seg->tid_cxt, Max(entry->rows, 1) * sizeof(ItemPointerData));
	seg->deleted = (uint8 *) MemoryContextAllocHuge(seg->tid_cxt, (entry->rows + 8) / 8);
	memset(seg->deleted, 0, (entry->rows + 8) / 8);
	VecdbChainReaderBegin(&r, index, VECDB_PAGE_TIDS, entry->segment_id, entry->tid_head, entry->tid_pages,
						  generation);
	if (!VecdbChainRead(&r, seg->tids, entry->rows * sizeof(ItemPointerData)) || VecdbChainRead(&r, &probe, 1))
		VecdbCorrupt(index, "has a TID map of the wrong length in segment %u", entry->segment_id);
	VecdbChainReaderEnd(&r);
	seg->deleted_count = 0;
	for (i = 0; i < entry->rows; i++)
	{
		if (!ItemPointerIsValid(&seg->tids[i]))
		{
			seg->deleted[i >> 3] |= (uint8) (1 << (i & 7));
			seg->deleted_count++;
		}
		else if (ItemPointerGetBlockNumberNoCheck(&seg->tids[i]) == InvalidBlockNumber ||
				 ItemPointerGetOffsetNumberNoCheck(&seg->tids[i]) > MaxOffsetNumber)
			/* no heap row has it: a half-written delete mark, or damage */
			VecdbCorruptDetail(index, psprintf("Row %llu of segment %u has heap TID (%u,%u).", (unsigned long long) i,
											   entry->segment_id, ItemPointerGetBlockNumberNoCheck(&seg->tids[i]),
											   ItemPointerGetOffsetNumberNoCheck(&seg->tids[i])),
							   "has an impossible heap TID in segment %u", entry->segment_id);
	}
	seg->rows = entry->rows;
	seg->tid_version = entry->tid_version;
}

// LoadEngine gives seg its engine index: from the server's shared copy when
// pin is not NULL and the shared area holds the segment (a view searching it
// in place, pinned into *pin, or a private copy deserialized from it, then
// unpinned), else deserialized from the segment's pages.
static void
LoadEngine(Relation index, const VecdbSegmentEntry *entry, uint64 generation, uint64 build_id,
		   VecdbSharedPin *pin, VecdbSegment *seg)
{
	const char *bytes = NULL;
	bool		loaded = false;

	/*
	 * A sparse segment has no view: every backend deserializes its own copy,
	 * so a shared copy of its bytes would only take room in the shared area.
	 */
	if (pin != NULL && entry->engine_kind == VECDB_ENGINE_SPARSE_INVERTED)
	{
		memset(pin, 0, sizeof(*pin));
		pin = NULL;
	}
	if (pin != NULL)
	{
		memset(pin, 0, sizeof(*pin));
		bytes = VecdbSharedAcquire(index, entry, build_id, generation, pin, &loaded);
	}
	seg->read_rows = bytes == NULL || loaded ? entry->rows : 0;
	if (bytes != NULL)
	{
		seg->engine = VecdbEngineOpenBytes(bytes, entry->blob_bytes, &seg->in_place);
		seg->engine_owner = VecdbEngineOwn(seg->engine);
		if (seg->in_place)
			seg->shared_pin = *pin;
		else
		{
			VecdbSharedUnpin(pin);
			memset(pin, 0, sizeof(*pin));
		}
		return;
	}

	{
		VecdbChainReader r;

		VecdbChainReaderBegin(&r, index, VECDB_PAGE_BLOB, entry->segment_id, entry->blob_head,
							  entry->blob_pages, generation);
		seg->engine = VecdbEngineDeserialize(ChainSource, &r, (int) entry->engine_kind);
		seg->engine_owner = VecdbEngineOwn(seg->engine);
		VecdbChainReaderEnd(&r);
	}
}

// VecdbLoadSegment reads a sealed segment (its engine index only when
// with_engine) into a new context under CurrentMemoryContext; the caller
// moves seg->cxt under a longer-lived context once it keeps the segment.
// With pin, the engine comes from the server's shared copy when possible
// (see LoadEngine; build_id keys it); *pin then holds the pin, if any.
VecdbSegment *
VecdbLoadSegment(Relation index, const VecdbSegmentEntry *entry, uint64 generation, bool with_engine,
				 uint64 build_id, VecdbSharedPin *pin)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb segment", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VecdbSegment *seg = (VecdbSegment *) palloc0(sizeof(VecdbSegment));

	seg->cxt = cxt;
	seg->tid_cxt = AllocSetContextCreate(cxt, "vecdb tids", ALLOCSET_DEFAULT_SIZES);
	seg->segment_id = entry->segment_id;
	seg->refcount = 1;
	ReadTids(index, entry, generation, seg);
	VecdbFaultPoint("segment_load");
	if (with_engine)
	{
		LoadEngine(index, entry, generation, build_id, pin, seg);
		if ((uint64) VecdbEngineCount(seg->engine) != entry->rows ||
			(uint32) VecdbEngineGetKind(seg->engine) != entry->engine_kind)
			VecdbCorruptDetail(index,
							   psprintf("The directory says " UINT64_FORMAT " rows of kind %s, the segment holds "
										INT64_FORMAT " of kind %s.", entry->rows,
										VecdbEngineKindName((int) entry->engine_kind), VecdbEngineCount(seg->engine),
										VecdbEngineKindName(VecdbEngineGetKind(seg->engine))),
							   "segment %u does not match its directory entry", entry->segment_id);
		seg->bytes = VecdbEngineMemory(seg->engine);
		seg->rows_reader = VecdbRowsOpen(index, entry, generation,
										 (uint32) (VecdbEngineDim(seg->engine) * sizeof(float)), seg->engine);
	}
	if (with_engine && entry->cols_head != InvalidBlockNumber)
	{
		VecdbScalarLayout layout;
		VecdbChainReader r;

		VecdbScalarLayoutFor(index, &layout);
		VecdbChainReaderBegin(&r, index, VECDB_PAGE_COLS, entry->segment_id, entry->cols_head,
							  entry->cols_pages, generation);
		seg->cols = VecdbColumnsRead(index, &layout, entry->rows, &r);
		VecdbChainReaderEnd(&r);
		seg->bytes += VecdbColumnsBytes(&layout, seg->cols);
	}
	else if (with_engine && RelationGetDescr(index)->natts > 1)
		VecdbCorrupt(index, "segment %u lacks its scalar columns", entry->segment_id);
	seg->bytes += entry->rows * (sizeof(ItemPointerData) + 1);
	MemoryContextSwitchTo(old);
	return seg;
}

/* ---- growing segment ---- */

// GrowingBytes returns the memory a growing cache holds.
static size_t
GrowingBytes(const VecdbScalarLayout *layout, const VecdbGrowingCache *gc)
{
	return VecdbEngineMemory(gc->engine) + gc->capacity * (sizeof(ItemPointerData) + 1) +
		VecdbColumnsBytes(layout, gc->cols);
}

// GrowingExtend adds the rows [gc->base + gc->loaded, end) to a growing
// cache, resuming at its saved position.
static void
GrowingExtend(Relation index, const VecdbMetaPageData *meta, VecdbGrowingCache *gc)
{
	const VecdbGrowing *g = &meta->growing;
	uint64		from = gc->base + gc->loaded;
	uint64		n = g->end - from;
	uint32		row_bytes = VecdbRowBytes(meta);
	VecdbScalarLayout layout;
	VecdbGrowingReader r;
	char	   *rows;
	uint64		rows_len = 0;
	uint64		rows_cap;
	int64	   *labels;
	uint64		i;
	MemoryContext old;

	if (n == 0)
		return;
	VecdbScalarLayoutFor(index, &layout);
	/* until the end, the cache is half extended: an ERROR leaves it to be rebuilt */
	gc->extending = true;
	old = MemoryContextSwitchTo(gc->cxt);
	if (gc->loaded + n > gc->capacity)
	{
		uint64		newcap = Max(gc->capacity * 2, gc->loaded + n);

		if (gc->tids == NULL)
		{
			gc->tids = (ItemPointerData *) MemoryContextAllocHuge(gc->cxt, newcap * sizeof(ItemPointerData));
			gc->deleted = (uint8 *) MemoryContextAllocHuge(gc->cxt, (newcap + 8) / 8);
			memset(gc->deleted, 0, (newcap + 8) / 8);
		}
		else
		{
			gc->tids = (ItemPointerData *) repalloc_huge(gc->tids, newcap * sizeof(ItemPointerData));
			gc->deleted = (uint8 *) repalloc_huge(gc->deleted, (newcap + 8) / 8);
			memset(gc->deleted + (gc->capacity + 8) / 8, 0, (newcap + 8) / 8 - (gc->capacity + 8) / 8);
		}
		gc->capacity = newcap;
	}
	if (layout.nscalars > 0 && gc->cols == NULL)
		gc->cols = VecdbColumnsCreate(&layout, n);
	MemoryContextSwitchTo(old);

	rows_cap = n * (row_bytes > 0 ? row_bytes : 256);
	rows = (char *) MemoryContextAllocHuge(CurrentMemoryContext, rows_cap);
	labels = (int64 *) MemoryContextAllocHuge(CurrentMemoryContext, n * sizeof(int64));
	VecdbGrowingReaderBegin(&r, index, meta, gc->loaded == 0 ? NULL : &gc->pos);
	for (i = 0; i < n; i++)
	{
		VecdbGrowingRecord rec;
		uint64		label = gc->loaded + i;
		uint32		len;

		VecdbGrowingRead(&r, &rec);
		len = VecdbRowLength(row_bytes, rec.row);
		if (rows_len + len > rows_cap)
		{
			rows_cap = Max(rows_cap * 2, rows_len + len);
			rows = (char *) repalloc_huge(rows, rows_cap);
		}
		memcpy(rows + rows_len, rec.row, len);
		rows_len += len;
		labels[i] = (int64) label;
		gc->tids[label] = rec.tid;
		if (rec.deleted)
		{
			gc->deleted[label >> 3] |= (uint8) (1 << (label & 7));
			gc->deleted_count++;
		}
		if (layout.nscalars > 0)
		{
			old = MemoryContextSwitchTo(gc->cxt);
			VecdbColumnsAppend(index, &layout, gc->cols, rec.scalars, rec.scalars_len);
			MemoryContextSwitchTo(old);
		}
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	VecdbGrowingReaderEnd(&r);
	VecdbEngineAdd(gc->engine, rows, labels, n);
	gc->pos = r.at;
	gc->loaded += n;
	gc->extending = false;
	gc->bytes = GrowingBytes(&layout, gc);
	pfree(rows);
	pfree(labels);
}

// GrowingDropSealed flags the cached rows a compaction sealed since the
// cache loaded them (before g's start) as deleted, which keeps the cache and
// its lists instead of reloading the rest. The caller checked that the
// cache holds those rows, that no scan shares it, and that delete flags
// have not changed; once sealed rows are half of it, GrowingRebase removes
// them instead.
static void
GrowingDropSealed(VecdbGrowingCache *gc, const VecdbGrowing *g)
{
	uint64		label;

	for (label = gc->start - gc->base; label < g->start - gc->base; label++)
		if (!(gc->deleted[label >> 3] & (1 << (label & 7))))
		{
			gc->deleted[label >> 3] |= (uint8) (1 << (label & 7));
			gc->deleted_count++;
		}
	gc->start = g->start;
	gc->start_pos = g->start_pos;
}

// GrowingRebase removes the cached rows a compaction sealed (before g's
// start) from the cache itself, its engine index included, and numbers the
// rest from 0: nothing is read again and no row is re-inserted. Same
// preconditions as GrowingDropSealed. False when the engine kind cannot; the
// caller then rebuilds the cache from pages.
static bool
GrowingRebase(Relation index, VecdbGrowingCache *gc, const VecdbGrowing *g)
{
	uint64		n = g->start - gc->base;
	uint64		kept = gc->loaded - n;
	VecdbScalarLayout layout;

	/* until the end, the cache is half moved: an ERROR leaves it to be rebuilt */
	gc->extending = true;
	if (!VecdbEngineDropBelow(gc->engine, (int64) n))
	{
		gc->extending = false;
		return false;
	}
	VecdbScalarLayoutFor(index, &layout);
	VecdbColumnsDropPrefix(&layout, gc->cols, n);
	memmove(gc->tids, gc->tids + n, kept * sizeof(ItemPointerData));
	VecdbBitsDropPrefix(gc->deleted, gc->loaded, n);
	gc->deleted_count = pg_popcount((const char *) gc->deleted, (int) ((kept + 7) / 8));
	gc->loaded = kept;
	gc->base = g->start;
	gc->start = g->start;
	gc->start_pos = g->start_pos;
	gc->extending = false;
	gc->bytes = GrowingBytes(&layout, gc);
	return true;
}

// GrowingCreate makes an empty growing cache for meta's stream, starting at
// its start row; float rows get a GROWING engine index, which takes the
// centroids of prev's (the cache it replaces) when it has some.
static VecdbGrowingCache *
GrowingCreate(const VecdbMetaPageData *meta, const VecdbGrowingCache *prev)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vecdb growing", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VecdbGrowingCache *gc = (VecdbGrowingCache *) palloc0(sizeof(VecdbGrowingCache));
	VecdbEngineConfig config;

	gc->cxt = cxt;
	gc->stream_id = meta->growing.stream_id;
	gc->version = meta->growing.version;
	gc->base = meta->growing.start;
	gc->start = meta->growing.start;
	gc->start_pos = meta->growing.start_pos;
	gc->refcount = 1;
	VecdbEngineConfigFor(meta,
						 meta->elem_type == VECDB_ELEM_BIT ? VECDB_ENGINE_BIN_FLAT
						 : meta->elem_type == VECDB_ELEM_SPARSE ? VECDB_ENGINE_SPARSE_INVERTED : VECDB_ENGINE_GROWING,
						 0, &config);
	/* k-means in a query runs on the backend's own thread */
	config.threads = 1;
	gc->engine = VecdbEngineCreate(&config);
	VecdbEngineOwn(gc->engine);
	if (prev && prev->engine)
		VecdbEngineAdoptGrowing(prev->engine, gc->engine);
	MemoryContextSwitchTo(old);
	return gc;
}

/* ---- the cache ---- */

// ReleaseSegments drops an entry's references to its sealed segments.
static void
ReleaseSegments(CacheEntry *e)
{
	int			i;

	for (i = 0; i < e->nsegments; i++)
		VecdbSegmentUnref(e->segments[i]);
	e->nsegments = 0;
}

// EntryRelease drops every reference an entry holds.
static void
EntryRelease(CacheEntry *e)
{
	ReleaseSegments(e);
	if (e->growing)
		GrowingUnref(e->growing);
	e->growing = NULL;
}

// EntryBytes returns the memory an entry's objects hold.
static size_t
EntryBytes(const CacheEntry *e)
{
	size_t		bytes = 0;
	int			i;

	for (i = 0; i < e->nsegments; i++)
		bytes += e->segments[i]->bytes;
	if (e->growing)
		bytes += e->growing->bytes;
	return bytes;
}

// Evict drops least recently used entries other than keep while the cache
// holds more than vecdb.segment_cache_size.
static void
Evict(CacheEntry *keep)
{
	size_t		budget = (size_t) vecdb_segment_cache_mb * 1024 * 1024;

	for (;;)
	{
		HASH_SEQ_STATUS seq;
		CacheEntry *e;
		CacheEntry *victim = NULL;
		size_t		total = 0;

		hash_seq_init(&seq, cache);
		while ((e = (CacheEntry *) hash_seq_search(&seq)) != NULL)
		{
			total += EntryBytes(e);
			if (e != keep && (victim == NULL || e->last_used < victim->last_used))
				victim = e;
		}
		if (total <= budget || victim == NULL)
			return;
		EntryRelease(victim);
		hash_search(cache, &victim->key, HASH_REMOVE, NULL);
	}
}

// KeepUnder moves a freshly loaded object's context under the cache's.
static void
KeepUnder(MemoryContext cxt)
{
	MemoryContextSetParent(cxt, cache_cxt);
}

// ReleasePins is the reset callback that drops a snapshot's pins after an ERROR.
static void
ReleasePins(void *arg)
{
	SnapshotPins *pins = (SnapshotPins *) arg;

	if (!pins->released)
		VecdbCacheRelease(pins->snap);
}

// VecdbCacheAcquire brings index's cache entry up to date with its
// metapage and pins its segments into snap (released by VecdbCacheRelease,
// or by a reset of CurrentMemoryContext).
void
VecdbCacheAcquire(Relation index, VecdbPinnedSegments *snap)
{
	CacheEntry *e;
	bool		found;
	VecdbSegment *keep[VECDB_MAX_SEGMENTS];
	VecdbSegment *fresh[VECDB_MAX_SEGMENTS];
	VecdbSegment *retid[VECDB_MAX_SEGMENTS];
	uint32		i;
	int			j;
	SnapshotPins *pins;

	if (cache == NULL)
	{
		HASHCTL		ctl;

		cache_cxt = AllocSetContextCreate(TopMemoryContext, "vecdb segment cache", ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(VecdbRelFile);
		ctl.entrysize = sizeof(CacheEntry);
		ctl.hcxt = cache_cxt;
		cache = hash_create("vecdb segment cache", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	memset(snap, 0, sizeof(*snap));
	/* from here on, an ERROR drops whatever this snapshot pinned */
	pins = (SnapshotPins *) palloc0(sizeof(SnapshotPins));
	pins->snap = snap;
	pins->cb.func = ReleasePins;
	pins->cb.arg = pins;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &pins->cb);
	snap->pins = pins;
	VecdbReadMeta(index, &snap->meta);
	e = (CacheEntry *) hash_search(cache, &VECDB_RELATION_FILE(index), HASH_ENTER, &found);
	if (!found)
	{
		e->nsegments = 0;
		e->growing = NULL;
		e->generation = 0;
		e->build_id = snap->meta.build_id;
	}
	if (e->build_id != snap->meta.build_id)
	{
		EntryRelease(e);
		e->build_id = snap->meta.build_id;
		e->generation = 0;
	}
	e->last_used = ++use_clock;

	/*
	 * Sealed segments: keep what is unchanged, load what is new. Loads and
	 * TID-map reloads happen first, under CurrentMemoryContext, so that an
	 * ERROR among them leaves the entry as it was; the commit below cannot
	 * fail.
	 */
	for (i = 0; i < snap->meta.nsegments; i++)
	{
		const VecdbSegmentEntry *d = &snap->meta.segments[i];
		VecdbSegment *have = NULL;

		fresh[i] = NULL;
		retid[i] = NULL;
		for (j = 0; j < e->nsegments; j++)
			if (e->segments[j]->segment_id == d->segment_id)
				have = e->segments[j];
		/* a view over a shared copy is usable only while that copy stays: pin it again */
		if (have && have->in_place)
		{
			VecdbSharedPin pin = have->shared_pin;

			if (VecdbSharedRepin(index, d, snap->meta.build_id, &pin))
				snap->shared[snap->nshared++] = pin;
			else
				have = NULL;
		}
		if (have && have->tid_version != d->tid_version && have->refcount == 1)
		{
			retid[i] = VecdbLoadSegment(index, d, snap->meta.generation, false, 0, NULL);
			keep[i] = have;
		}
		else if (have && have->tid_version == d->tid_version)
			keep[i] = have;
		else
		{
			VecdbSharedPin *pin = &snap->shared[snap->nshared];

			/*
			 * Count the slot before loading, so a pin taken before an ERROR
			 * in the rest of the load is released with the snapshot; it stays
			 * empty (entry NULL) when the engine is not a view.
			 */
			memset(pin, 0, sizeof(*pin));
			snap->nshared++;
			fresh[i] = VecdbLoadSegment(index, d, snap->meta.generation, true, snap->meta.build_id,
										VecdbSharedActive() ? pin : NULL);
			snap->read_rows[i] = fresh[i]->read_rows;
			keep[i] = fresh[i];
		}
	}
	for (i = 0; i < snap->meta.nsegments; i++)
	{
		if (fresh[i])
			KeepUnder(fresh[i]->cxt);
		else
		{
			keep[i]->refcount++;
			if (retid[i])
			{
				/* swap in the new TID map and free the old one */
				MemoryContext old_tids = keep[i]->tid_cxt;

				keep[i]->tids = retid[i]->tids;
				keep[i]->deleted = retid[i]->deleted;
				keep[i]->deleted_count = retid[i]->deleted_count;
				keep[i]->tid_version = retid[i]->tid_version;
				keep[i]->tid_cxt = retid[i]->tid_cxt;
				MemoryContextSetParent(keep[i]->tid_cxt, keep[i]->cxt);
				MemoryContextDelete(old_tids);
				MemoryContextDelete(retid[i]->cxt);
			}
		}
	}
	/* the growing cache stays: it is extended below, not reloaded */
	ReleaseSegments(e);
	for (i = 0; i < snap->meta.nsegments; i++)
		e->segments[i] = keep[i];
	e->nsegments = (int) snap->meta.nsegments;
	e->generation = snap->meta.generation;

	/* growing segment: extend in place when nobody else uses it, else start over */
	if (snap->meta.growing.end > snap->meta.growing.start)
	{
		VecdbGrowingCache *gc = e->growing;
		const VecdbGrowing *g = &snap->meta.growing;

		VecdbGrowingCache *prev = NULL;

		/* rows a compaction sealed: flagged while few, else removed in memory */
		if (gc && !gc->extending && gc->refcount == 1 && gc->stream_id == g->stream_id &&
			gc->version == g->version && g->start > gc->start && g->start <= gc->base + gc->loaded)
		{
			if (2 * (g->start - gc->base) <= gc->loaded)
				GrowingDropSealed(gc, g);
			else
				(void) GrowingRebase(index, gc, g);
		}
		if (gc && (gc->stream_id != g->stream_id || gc->version != g->version || gc->start != g->start ||
				   gc->start_pos != g->start_pos || gc->extending ||
				   gc->refcount > 1 || gc->base + gc->loaded > g->end))
		{
			prev = gc;
			gc = e->growing = NULL;
		}
		if (gc == NULL)
		{
			/* prev is dropped only after its centroids were handed on (or on ERROR, with the context) */
			PG_TRY();
			{
				gc = GrowingCreate(&snap->meta, prev);
			}
			PG_FINALLY();
			{
				if (prev)
					GrowingUnref(prev);
			}
			PG_END_TRY();
			GrowingExtend(index, &snap->meta, gc);
			KeepUnder(gc->cxt);
			e->growing = gc;
			snap->growing_read = gc->loaded;
		}
		else
		{
			uint64		before = gc->loaded;

			GrowingExtend(index, &snap->meta, gc);
			snap->growing_read = gc->loaded - before;
		}
	}
	else if (e->growing)
	{
		/* every growing row was compacted away: the cached ones must not be searched again */
		GrowingUnref(e->growing);
		e->growing = NULL;
	}

	/* pin */
	snap->nsegments = e->nsegments;
	for (j = 0; j < e->nsegments; j++)
	{
		snap->segments[j] = e->segments[j];
		e->segments[j]->refcount++;
	}
	snap->growing = e->growing;
	if (snap->growing)
		snap->growing->refcount++;

	Evict(e);
}

// VecdbCacheRelease drops a snapshot's pins (once).
void
VecdbCacheRelease(VecdbPinnedSegments *snap)
{
	int			j;

	if (snap->pins == NULL || ((SnapshotPins *) snap->pins)->released)
		return;
	((SnapshotPins *) snap->pins)->released = true;
	for (j = 0; j < snap->nsegments; j++)
		VecdbSegmentUnref(snap->segments[j]);
	snap->nsegments = 0;
	for (j = 0; j < snap->nshared; j++)
		VecdbSharedUnpin(&snap->shared[j]);
	snap->nshared = 0;
	if (snap->growing)
		GrowingUnref(snap->growing);
	snap->growing = NULL;
}
