// shared_segments.cpp keeps one copy per server of each sealed segment's
// engine bytes in a fixed shared-memory area (shared_preload_libraries mode).
//
// Design. The area is a DSA placed in the main shared memory segment at
// postmaster start (vecdb.shared_memory_size; the address is the same in every
// backend, and no DSM segments are ever created: the DSA's size limit is the
// area). A shared hash table, under one LWLock, maps a segment's key
// (relfilenode, build id, segment id) to an entry: state, DSA pointer, size,
// pins, counters. The first backend that needs a segment inserts the entry in
// state LOADING, copies the segment's pages into the area outside the lock,
// checks it, and marks it READY; other backends wait on a condition variable
// instead of loading it again. A scan pins the entries it uses; unpinned
// READY entries are evicted least-recently-used when an allocation does not
// fit. When nothing can be evicted (the area is smaller than what is pinned),
// the caller gets NULL and keeps a private copy: a correct answer, never an
// error; the overflow is counted and shown by vecdb_shared_status().
//
// Keys never repeat for different bytes: a segment's engine bytes never
// change, segment ids are never reused within a build, and REINDEX, TRUNCATE
// and a rebuild give a new relfilenode or build id. Stale entries of dropped
// indexes are never looked up again and age out through the LRU.
//
// Lifetimes. An entry that is pinned is never freed. Each backend records its
// pins in a local table, released at the end of each scan (and by its
// before_shmem_exit callback when it exits with pins, e.g. FATAL). A loader
// that fails with an ERROR removes its LOADING entry under PG_CATCH; one
// that exits removes it in the exit callback; a backend killed outright makes
// the postmaster reinitialize shared memory, so nothing can leak.
#include "am/am.hpp"
#include "am/fault_inject.hpp"

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/dsa.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

// SharedKey identifies one sealed segment's engine bytes.
typedef struct SharedKey
{
	VecdbRelFile node;
	uint32		segment_id;
	uint32		pad;
	uint64		build_id;
} SharedKey;

// SharedState is an entry's life stage.
typedef enum SharedState
{
	SHARED_LOADING = 1,
	SHARED_READY = 2
} SharedState;

// SharedSegment is one resident (or loading) segment.
typedef struct SharedSegment
{
	SharedKey	key;			/* hash key: first */
	int			state;			/* SharedState */
	int			loader_pid;		/* while LOADING */
	Oid			index_oid;		/* for display */
	int			pins;
	dsa_pointer dp;
	uint64		size;			/* engine bytes */
	uint64		alloc;			/* bytes taken from the area */
	uint64		incarnation;	/* differs for every load into an entry */
	uint64		lru;			/* use clock at the last pin */
	uint64		loads;
	uint64		hits;
	TimestampTz last_use;
} SharedSegment;

// SharedArea is the fixed header in shared memory.
typedef struct SharedArea
{
	LWLock	   *lock;
	ConditionVariable loaded;	/* broadcast when a LOADING entry changes */
	uint64		clock;
	uint64		next_incarnation;
	uint64		loads;
	uint64		hits;
	uint64		evictions;
	uint64		overflows;		/* segments that did not fit: private copies */
	uint64		waits;
	int			tranche_id;
	size_t		area_size;
	/* the DSA's in-place memory follows, 64-byte aligned */
} SharedArea;

int			vecdb_shared_memory_mb = 256;

static SharedArea *area = NULL;
static HTAB *area_hash = NULL;
static dsa_area *area_dsa = NULL;
static bool preloaded = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

// LocalPin counts this backend's pins on one entry.
typedef struct LocalPin
{
	SharedSegment *entry;		/* hash key */
	uint64		incarnation;
	int			count;
} LocalPin;

static HTAB *local_pins = NULL;
static SharedSegment *loading_entry = NULL;

#define AREA_HEADER_SIZE	TYPEALIGN(64, sizeof(SharedArea))

// MaxEntries returns how many segments the area's table can track.
static long
MaxEntries(void)
{
	return Max(1024L, (long) vecdb_shared_memory_mb * 16L);
}

// AreaBytes returns the DSA's in-place size.
static size_t
AreaBytes(void)
{
	return (size_t) vecdb_shared_memory_mb * 1024 * 1024;
}

// SharedRequest asks the postmaster for the area (shmem_request_hook).
static void
SharedRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(add_size(add_size(AREA_HEADER_SIZE, AreaBytes()), 64));
	RequestAddinShmemSpace(hash_estimate_size(MaxEntries(), sizeof(SharedSegment)));
	RequestNamedLWLockTranche("vecdb_shared_segments", 1);
}

// SharedStartup creates or finds the area (shmem_startup_hook).
static void
SharedStartup(void)
{
	bool		found;
	HASHCTL		ctl;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	area = (SharedArea *) ShmemInitStruct("vecdb shared segments", add_size(add_size(AREA_HEADER_SIZE, AreaBytes()), 64),
										  &found);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(SharedKey);
	ctl.entrysize = sizeof(SharedSegment);
	area_hash = ShmemInitHash("vecdb shared segment table", MaxEntries(), MaxEntries(), &ctl,
							  HASH_ELEM | HASH_BLOBS);
	if (!found)
	{
		dsa_area   *dsa;
		char	   *place = (char *) TYPEALIGN(64, (char *) area + AREA_HEADER_SIZE);

		memset(area, 0, sizeof(SharedArea));
		area->lock = &(GetNamedLWLockTranche("vecdb_shared_segments"))->lock;
		ConditionVariableInit(&area->loaded);
		area->tranche_id = LWLockNewTrancheId();
		area->area_size = AreaBytes();
		area->next_incarnation = 1;
		dsa = dsa_create_in_place(place, area->area_size, area->tranche_id, NULL);
		dsa_pin(dsa);
		/* never grow beyond the fixed area with DSM segments */
		dsa_set_size_limit(dsa, area->area_size);
		dsa_detach(dsa);
	}
	LWLockRelease(AddinShmemInitLock);
}

// VecdbSharedInit installs the shared-memory hooks when the library is
// being preloaded (from _PG_init).
void
VecdbSharedInit(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	preloaded = true;
	/* vecdb.shared_memory_size = 0: preloaded, but no area (per-backend copies) */
	if (vecdb_shared_memory_mb == 0)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = SharedRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = SharedStartup;
	VecdbPrewarmRegister();
}

// ReleaseAllPins drops every pin this backend still holds and abandons a
// load in progress (before_shmem_exit callback: a backend leaving with FATAL).
static void
ReleaseAllPins(int code, Datum arg)
{
	HASH_SEQ_STATUS seq;
	LocalPin   *p;

	if (area == NULL || local_pins == NULL)
		return;
	/* a FATAL raised while we held the lock (in a background worker) */
	if (LWLockHeldByMe(area->lock))
		LWLockRelease(area->lock);
	LWLockAcquire(area->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, local_pins);
	while ((p = (LocalPin *) hash_seq_search(&seq)) != NULL)
	{
		if (p->entry->incarnation == p->incarnation && p->entry->pins >= p->count)
			p->entry->pins -= p->count;
		hash_search(local_pins, &p->entry, HASH_REMOVE, NULL);
	}
	if (loading_entry != NULL)
	{
		/* a load cut short by FATAL: give its memory back too */
		if (DsaPointerIsValid(loading_entry->dp))
			dsa_free(area_dsa, loading_entry->dp);
		hash_search(area_hash, &loading_entry->key, HASH_REMOVE, NULL);
		loading_entry = NULL;
	}
	LWLockRelease(area->lock);
	ConditionVariableBroadcast(&area->loaded);
}

// Attach maps the area into this backend on first use; false when vecdb was
// not preloaded (per-backend mode).
static bool
Attach(void)
{
	MemoryContext old;
	HASHCTL		ctl;
	char	   *place;
	dsa_area   *dsa;

	if (area_dsa != NULL)
		return true;
	if (!preloaded || area == NULL || vecdb_shared_memory_mb == 0)
		return false;
	old = MemoryContextSwitchTo(TopMemoryContext);
	LWLockRegisterTranche(area->tranche_id, "vecdb_shared_area");
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(SharedSegment *);
	ctl.entrysize = sizeof(LocalPin);
	ctl.hcxt = TopMemoryContext;
	local_pins = hash_create("vecdb shared pins", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	place = (char *) TYPEALIGN(64, (char *) area + AREA_HEADER_SIZE);
	dsa = dsa_attach_in_place(place, NULL);
	/* give our reference back at exit (the area itself stays pinned) */
	on_shmem_exit(dsa_on_shmem_exit_release_in_place, PointerGetDatum(place));
	dsa_pin_mapping(dsa);
	MemoryContextSwitchTo(old);
	before_shmem_exit(ReleaseAllPins, (Datum) 0);
	area_dsa = dsa;				/* last: attached means everything above is set */
	return true;
}

// VecdbSharedActive reports whether segments are shared in this backend.
bool
VecdbSharedActive(void)
{
	return Attach();
}

// NoteLocalPin records a pin of entry (area lock held).
static void
NoteLocalPin(SharedSegment *entry)
{
	bool		found;
	LocalPin   *p = (LocalPin *) hash_search(local_pins, &entry, HASH_ENTER, &found);

	if (!found)
	{
		p->incarnation = entry->incarnation;
		p->count = 0;
	}
	p->count++;
}

// PinLocked takes a pin on a READY entry (area lock held exclusively).
static void
PinLocked(SharedSegment *entry)
{
	/* first the local record (it may fail on memory): no pin without it */
	NoteLocalPin(entry);
	entry->pins++;
	entry->lru = ++area->clock;
	entry->last_use = GetCurrentTimestamp();
}

// EvictOneLocked frees the least recently used unpinned READY entry; false
// when there is none (area lock held exclusively).
static bool
EvictOneLocked(void)
{
	HASH_SEQ_STATUS seq;
	SharedSegment *e;
	SharedSegment *victim = NULL;

	hash_seq_init(&seq, area_hash);
	while ((e = (SharedSegment *) hash_seq_search(&seq)) != NULL)
		if (e->state == SHARED_READY && e->pins == 0 && (victim == NULL || e->lru < victim->lru))
			victim = e;
	if (victim == NULL)
		return false;
	dsa_free(area_dsa, victim->dp);
	hash_search(area_hash, &victim->key, HASH_REMOVE, NULL);
	area->evictions++;
	return true;
}

// Allocate takes size bytes from the area, evicting unpinned segments while
// it does not fit; InvalidDsaPointer when it cannot fit.
static dsa_pointer
Allocate(size_t size)
{
	/* larger than the whole area: evicting everyone would not help */
	if (size > area->area_size)
		return InvalidDsaPointer;
	for (;;)
	{
		dsa_pointer dp;
		bool		evicted;

		dp = dsa_allocate_extended(area_dsa, size, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM);
		if (DsaPointerIsValid(dp))
			return dp;
		LWLockAcquire(area->lock, LW_EXCLUSIVE);
		evicted = EvictOneLocked();
		LWLockRelease(area->lock);
		if (!evicted)
			return InvalidDsaPointer;
	}
}

// EntryAddress returns the 64-byte-aligned start of an entry's bytes.
static char *
EntryAddress(const SharedSegment *e)
{
	return (char *) TYPEALIGN(64, (char *) dsa_get_address(area_dsa, e->dp));
}

// AbandonLoad removes a LOADING entry and wakes its waiters.
static void
AbandonLoad(SharedSegment *entry, dsa_pointer dp)
{
	if (DsaPointerIsValid(dp))
		dsa_free(area_dsa, dp);
	LWLockAcquire(area->lock, LW_EXCLUSIVE);
	hash_search(area_hash, &entry->key, HASH_REMOVE, NULL);
	loading_entry = NULL;
	LWLockRelease(area->lock);
	ConditionVariableBroadcast(&area->loaded);
}

// LoadInto copies a segment's BLOB chain into the entry's memory and checks it.
static void
LoadInto(Relation index, const VecdbSegmentEntry *d, uint64 generation, char *dst)
{
	VecdbChainReader r;
	uint8		probe;

	VecdbChainReaderBegin(&r, index, VECDB_PAGE_BLOB, d->segment_id, d->blob_head, d->blob_pages, generation);
	/* a ring of buffers: loading a large segment must not flush shared_buffers */
	r.strategy = GetAccessStrategy(BAS_BULKREAD);
	if (!VecdbChainRead(&r, dst, d->blob_bytes) || VecdbChainRead(&r, &probe, 1))
		VecdbCorrupt(index, "segment %u does not hold the " UINT64_FORMAT " bytes its directory entry says",
					 d->segment_id, d->blob_bytes);
	VecdbChainReaderEnd(&r);
	FreeAccessStrategy(r.strategy);
	/* the bytes are read, the shared entry is not yet marked loaded */
	VecdbFaultPoint("segment_load");
	/* once per load: the backends' views then trust these bytes */
	VecdbEngineVerifyBytes(dst, d->blob_bytes);
}

// ReportTooLarge tells the user, once per backend, that a segment of index is
// larger than the whole area: every connection then loads its own copy of it
// (seconds, and its size in memory, per connection), which a larger
// vecdb.shared_memory_size avoids.
static void
ReportTooLarge(Relation index, size_t need)
{
	static bool told = false;

	if (told || need <= area->area_size)
		return;
	told = true;
	ereport(NOTICE,
			(errmsg("a segment of index \"%s\" (%zu MB) is larger than vecdb.shared_memory_size (%zu MB)",
					RelationGetRelationName(index), need >> 20, area->area_size >> 20),
			 errdetail("Each connection loads its own copy of that segment on its first search."),
			 errhint("Raise vecdb.shared_memory_size above the largest segment (vecdb_index_info shows their "
					 "bytes) and restart the server.")));
}

// VecdbSharedAcquire returns the shared copy of segment d's engine bytes,
// pinned into *pin, loading it when no backend has yet (others wait for that
// load; *loaded says whether this call read it from the pages); NULL when
// the area cannot hold it (the caller then keeps a private copy).
// VecdbSharedUnpin releases the pin.
const char *
VecdbSharedAcquire(Relation index, const VecdbSegmentEntry *d, uint64 build_id, uint64 generation,
				   VecdbSharedPin *pin, bool *loaded)
{
	SharedKey	key;
	SharedSegment *entry;
	bool		found;
	volatile dsa_pointer dp = InvalidDsaPointer;

	*loaded = false;
	if (!Attach())
		return NULL;
	memset(&key, 0, sizeof(key));
	key.node = VECDB_RELATION_FILE(index);
	key.segment_id = d->segment_id;
	key.build_id = build_id;

	for (;;)
	{
		LWLockAcquire(area->lock, LW_EXCLUSIVE);
		entry = (SharedSegment *) hash_search(area_hash, &key, HASH_FIND, NULL);
		found = entry != NULL;
		if (!found)
		{
			/*
			 * The table never grows past its size (beyond it dynahash would
			 * take the server's spare shared memory, which the lock tables
			 * need): make room by evicting, else keep a private copy.
			 */
			while (hash_get_num_entries(area_hash) >= MaxEntries() && EvictOneLocked())
				;
			if (hash_get_num_entries(area_hash) < MaxEntries())
				entry = (SharedSegment *) hash_search(area_hash, &key, HASH_ENTER_NULL, &found);
			if (entry == NULL)
			{
				area->overflows++;
				LWLockRelease(area->lock);
				ConditionVariableCancelSleep();
				return NULL;
			}
		}
		if (!found)
			break;
		if (entry->state == SHARED_READY)
		{
			const char *addr;

			PinLocked(entry);
			entry->hits++;
			area->hits++;
			pin->entry = entry;
			pin->incarnation = entry->incarnation;
			addr = EntryAddress(entry);
			LWLockRelease(area->lock);
			ConditionVariableCancelSleep();
			return addr;
		}
		/* another backend is loading it: wait for that load */
		area->waits++;
		ConditionVariablePrepareToSleep(&area->loaded);
		LWLockRelease(area->lock);
		ConditionVariableSleep(&area->loaded, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	/* we load it; others wait */
	entry->state = SHARED_LOADING;
	entry->loader_pid = MyProcPid;
	entry->index_oid = RelationGetRelid(index);
	entry->pins = 0;
	entry->dp = InvalidDsaPointer;
	entry->size = d->blob_bytes;
	entry->alloc = d->blob_bytes + 64;
	entry->incarnation = area->next_incarnation++;
	entry->loads = 0;
	entry->hits = 0;
	loading_entry = entry;
	LWLockRelease(area->lock);

	PG_TRY();
	{
		dp = Allocate(entry->alloc);
		if (DsaPointerIsValid(dp))
		{
			entry->dp = dp;
			LoadInto(index, d, generation, EntryAddress(entry));
		}
	}
	PG_CATCH();
	{
		if (LWLockHeldByMe(area->lock))
			LWLockRelease(area->lock);
		AbandonLoad(entry, dp);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (!DsaPointerIsValid(dp))
	{
		LWLockAcquire(area->lock, LW_EXCLUSIVE);
		area->overflows++;
		LWLockRelease(area->lock);
		{
			size_t		need = entry->alloc;

			AbandonLoad(entry, InvalidDsaPointer);
			ReportTooLarge(index, need);
		}
		return NULL;
	}
	LWLockAcquire(area->lock, LW_EXCLUSIVE);
	entry->state = SHARED_READY;
	entry->loader_pid = 0;
	entry->loads++;
	area->loads++;
	loading_entry = NULL;
	PinLocked(entry);
	pin->entry = entry;
	pin->incarnation = entry->incarnation;
	LWLockRelease(area->lock);
	ConditionVariableBroadcast(&area->loaded);
	*loaded = true;
	return EntryAddress(entry);
}

// VecdbSharedRepin pins the shared copy of segment d again if it is still
// the one *pin was taken on (so a view a backend keeps over it is still
// valid); false when it was evicted or replaced since.
bool
VecdbSharedRepin(Relation index, const VecdbSegmentEntry *d, uint64 build_id, VecdbSharedPin *pin)
{
	SharedKey	key;
	SharedSegment *entry;
	bool		ok = false;

	if (!Attach())
		return false;
	memset(&key, 0, sizeof(key));
	key.node = VECDB_RELATION_FILE(index);
	key.segment_id = d->segment_id;
	key.build_id = build_id;
	LWLockAcquire(area->lock, LW_EXCLUSIVE);
	entry = (SharedSegment *) hash_search(area_hash, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->state == SHARED_READY && entry->incarnation == pin->incarnation)
	{
		PinLocked(entry);
		entry->hits++;
		area->hits++;
		pin->entry = entry;
		ok = true;
	}
	LWLockRelease(area->lock);
	return ok;
}

// VecdbSharedUnpin drops one pin taken by VecdbSharedAcquire or VecdbSharedRepin.
void
VecdbSharedUnpin(const VecdbSharedPin *pin)
{
	SharedSegment *entry = (SharedSegment *) pin->entry;
	LocalPin   *p;

	if (entry == NULL || area == NULL)
		return;
	LWLockAcquire(area->lock, LW_EXCLUSIVE);
	p = (LocalPin *) hash_search(local_pins, &entry, HASH_FIND, NULL);
	if (p != NULL && p->incarnation == pin->incarnation && entry->incarnation == pin->incarnation)
	{
		Assert(entry->pins > 0);
		entry->pins--;
		if (--p->count == 0)
			hash_search(local_pins, &entry, HASH_REMOVE, NULL);
	}
	LWLockRelease(area->lock);
}

// VecdbSharedPreload loads segment d into the area, unless it is there or
// the area is off or cannot hold it: a compaction calls it before its
// directory switch, so that the first query after a seal or merge does not
// pay for copying the new segment's pages.
void
VecdbSharedPreload(Relation index, const VecdbSegmentEntry *d, uint64 build_id, uint64 generation)
{
	VecdbSharedPin pin;
	bool		loaded;

	memset(&pin, 0, sizeof(pin));
	if (VecdbSharedAcquire(index, d, build_id, generation, &pin, &loaded))
		VecdbSharedUnpin(&pin);
}

// VecdbSharedPrewarm loads the sealed segments of index into the area one at
// a time, pinning each only while it loads (so an index larger than the area
// evicts its own earlier segments instead of spilling into private copies),
// and returns how many sealed segments the index has.
int64
VecdbSharedPrewarm(Relation index)
{
	VecdbMetaPageData *meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));

	VecdbReadMeta(index, meta);
	for (uint32 i = 0; i < meta->nsegments; i++)
		VecdbSharedPreload(index, &meta->segments[i], meta->build_id, meta->generation);
	return (int64) meta->nsegments;
}

// VecdbSharedResidentIndexes returns the (database, index) OID pairs of the
// indexes with segments resident in the area, each once, as a palloc'd
// array of 2 * *n Oids.
void *
VecdbSharedResidentIndexes(int *n)
{
	HASH_SEQ_STATUS seq;
	SharedSegment *e;
	Oid		   *out;
	long		cap;

	*n = 0;
	if (!Attach())
		return palloc(sizeof(Oid) * 2);
	/* allocate before locking: an ERROR must not leave the lock held */
	cap = MaxEntries();
	out = (Oid *) palloc(sizeof(Oid) * 2 * cap);
	LWLockAcquire(area->lock, LW_SHARED);
	hash_seq_init(&seq, area_hash);
	while ((e = (SharedSegment *) hash_seq_search(&seq)) != NULL)
	{
		bool		seen = false;

		if (e->state != SHARED_READY)
			continue;
		for (int i = 0; i < *n && !seen; i++)
			seen = out[2 * i] == VECDB_REL_FILE_DB(e->key.node) && out[2 * i + 1] == e->index_oid;
		if (!seen && *n < cap)
		{
			out[2 * *n] = VECDB_REL_FILE_DB(e->key.node);
			out[2 * *n + 1] = e->index_oid;
			(*n)++;
		}
	}
	LWLockRelease(area->lock);
	return out;
}

// vecdb_shared_segments lists the segments resident in the shared area. It
// copies the table under the lock and builds the rows after releasing it.
VECDB_FUNCTION(vecdb_shared_segments)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	SharedSegment *e;
	SharedSegment *copy;
	long		n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (!Attach())
		return (Datum) 0;
	copy = (SharedSegment *) palloc(sizeof(SharedSegment) * MaxEntries());
	LWLockAcquire(area->lock, LW_SHARED);
	hash_seq_init(&seq, area_hash);
	while ((e = (SharedSegment *) hash_seq_search(&seq)) != NULL)
		if (n < MaxEntries())
			copy[n++] = *e;
		else
			hash_seq_term(&seq);
	LWLockRelease(area->lock);
	for (long i = 0; i < n; i++)
	{
		Datum		values[10];
		bool		nulls[10] = {false};

		e = &copy[i];
		values[0] = ObjectIdGetDatum(e->index_oid);
		values[1] = ObjectIdGetDatum(VECDB_REL_FILE_DB(e->key.node));
		values[2] = ObjectIdGetDatum(VECDB_REL_FILE_NUMBER(e->key.node));
		values[3] = Int64GetDatum((int64) e->key.segment_id);
		values[4] = CStringGetTextDatum(e->state == SHARED_READY ? "ready" : "loading");
		values[5] = Int64GetDatum((int64) e->size);
		values[6] = Int32GetDatum(e->pins);
		values[7] = Int64GetDatum((int64) e->loads);
		values[8] = Int64GetDatum((int64) e->hits);
		values[9] = TimestampTzGetDatum(e->last_use);
		nulls[9] = e->last_use == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

// vecdb_shared_status describes the shared area: mode, size, use, counters.
VECDB_FUNCTION(vecdb_shared_status)
{
	TupleDesc	desc;
	Datum		values[10];
	bool		nulls[10] = {false};
	bool		on;
	HASH_SEQ_STATUS seq;
	SharedSegment *e;
	int64		used = 0;
	int64		count = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("return type must be a row type")));
	desc = BlessTupleDesc(desc);
	on = Attach();
	values[0] = BoolGetDatum(on);
	if (!on)
	{
		for (int i = 1; i < 10; i++)
			nulls[i] = true;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}
	LWLockAcquire(area->lock, LW_SHARED);
	hash_seq_init(&seq, area_hash);
	while ((e = (SharedSegment *) hash_seq_search(&seq)) != NULL)
	{
		used += (int64) e->alloc;
		count++;
	}
	values[1] = Int64GetDatum((int64) area->area_size);
	values[2] = Int64GetDatum(used);
	values[3] = Int64GetDatum(count);
	values[4] = Int64GetDatum((int64) area->loads);
	values[5] = Int64GetDatum((int64) area->hits);
	values[6] = Int64GetDatum((int64) area->waits);
	values[7] = Int64GetDatum((int64) area->evictions);
	values[8] = Int64GetDatum((int64) area->overflows);
	values[9] = Int64GetDatum((int64) MaxEntries());
	LWLockRelease(area->lock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// vecdb_check_shared_memory warns when every connection keeps its own copy
// of each index (vecdb not preloaded, or no shared area); CREATE EXTENSION
// calls it once. A WARNING, because PostgreSQL hides an extension script's
// NOTICEs.
VECDB_FUNCTION(vecdb_check_shared_memory)
{
	if (!preloaded || vecdb_shared_memory_mb == 0)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("vecdb keeps a private copy of each index in every connection"),
				 errdetail("vecdb is not in shared_preload_libraries, or vecdb.shared_memory_size is 0."),
				 errhint("Add vecdb to shared_preload_libraries and restart the server so that all connections "
						 "share one copy of each index (vecdb.shared_memory_size sets its memory).")));
	PG_RETURN_VOID();
}

// VecdbSharedPinCopy pins, for this process, the shared copy a pin of
// another process names (the GPU worker serving that process's scan): its
// bytes while the pin is held, or NULL when that copy is gone (evicted or
// replaced since: another incarnation) or the area is off.
const char *
VecdbSharedPinCopy(const VecdbSharedPin *other, size_t *size, VecdbSharedPin *pin)
{
	SharedSegment *entry = (SharedSegment *) other->entry;
	const char *bytes = NULL;

	memset(pin, 0, sizeof(*pin));
	if (entry == NULL || !Attach())
		return NULL;
	LWLockAcquire(area->lock, LW_EXCLUSIVE);
	/* entry may have been removed and its slot reused: the incarnation tells */
	if (entry->state == SHARED_READY && entry->incarnation == other->incarnation)
	{
		PinLocked(entry);
		pin->entry = entry;
		pin->incarnation = entry->incarnation;
		*size = entry->size;
		bytes = EntryAddress(entry);
	}
	LWLockRelease(area->lock);
	return bytes;
}

// VecdbSharedScratchAlloc takes size bytes of the area for a message between
// processes (a GPU worker request), evicting unpinned segments if needed;
// InvalidDsaPointer when the area is off or cannot hold it.
dsa_pointer
VecdbSharedScratchAlloc(size_t size)
{
	if (!Attach())
		return InvalidDsaPointer;
	return Allocate(size);
}

// VecdbSharedScratchAddress returns the address of scratch bytes in this process.
void *
VecdbSharedScratchAddress(dsa_pointer dp)
{
	return Attach()? dsa_get_address(area_dsa, dp) : NULL;
}

// VecdbSharedScratchFree gives scratch bytes back to the area.
void
VecdbSharedScratchFree(dsa_pointer dp)
{
	if (Attach() && DsaPointerIsValid(dp))
		dsa_free(area_dsa, dp);
}
