// am.hpp holds what vecdb's index access methods share: limits, the on-disk
// structs (metapage, segment directory, page special space, growing records),
// the per-AM options and the prototypes, grouped by the file defining them.
// The format is documented in src/am/README.md.
#pragma once

#include "am/engine_bridge.hpp"
#include "vecdb_postgres.h"

extern "C" {
#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "lib/stringinfo.h"
#include "utils/dsa.h"
#include "utils/relcache.h"
#include "utils/tuplestore.h"
}

/* ---- on-disk format ---- */

#define VECDB_MAGIC				0x49424456	/* "VDBI" little-endian */
#define VECDB_FORMAT_VERSION	2
#define VECDB_PAGE_ID			0xFF8A		/* last two bytes of every page (as bloom's 0xFF83) */
#define VECDB_METAPAGE_BLKNO	0
/*
 * Heavyweight page locks on two block numbers: VECDB_METAPAGE_BLKNO's (the
 * "marks lock") is held by bulk delete while it marks rows, and by a
 * compaction while it gathers rows and at its switch; VECDB_COMPACT_LOCKNO's
 * is held for a whole compaction (one at a time) and by VACUUM's page sweep.
 * Order: VECDB_COMPACT_LOCKNO first. No page has that block number.
 */
#define VECDB_COMPACT_LOCKNO	MaxBlockNumber
#define VECDB_MAX_SEGMENTS		64
#define VECDB_MAX_DIM			16000
#define VECDB_MAX_SPARSE_DIM	1000000000	/* sparsevec's own limit */
#define VECDB_MAX_SPARSE_NNZ	16000		/* sparsevec's own limit */

// VecdbPageKind says what a page holds; it lives in the special space.
typedef enum VecdbPageKind
{
	VECDB_PAGE_META = 1,
	VECDB_PAGE_BLOB = 2,		/* serialized engine index bytes */
	VECDB_PAGE_TIDS = 3,		/* label -> heap TID map of a sealed segment */
	VECDB_PAGE_GROWING = 4,		/* growing segment records */
	VECDB_PAGE_FREE = 5,		/* no longer used; may be reused */
	VECDB_PAGE_COLS = 6			/* scalar columns of a sealed segment */
} VecdbPageKind;

// VecdbPageOpaqueData is every page's special space. owner is the segment id
// (or growing stream id) the page belongs to and seq its position (page index
// in a chain, low 32 bits of the stream page number in the growing segment),
// so a reader that raced with a compaction recycling the page notices and
// retries.
typedef struct VecdbPageOpaqueData
{
	BlockNumber next;			/* next page of the chain, InvalidBlockNumber at the end */
	uint32		owner;
	uint32		seq;
	uint16		kind;			/* VecdbPageKind */
	uint16		page_id;		/* VECDB_PAGE_ID */
} VecdbPageOpaqueData;

typedef VecdbPageOpaqueData *VecdbPageOpaque;

#define VecdbPageGetOpaque(page) ((VecdbPageOpaque) PageGetSpecialPointer(page))
// VECDB_PAGE_CAPACITY is the payload bytes of a data page (between the page
// header and the special space); the bytes used end at pd_lower.
#define VECDB_PAGE_CAPACITY \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(VecdbPageOpaqueData)))

// VecdbElemType says how the indexed column's values become engine rows.
typedef enum VecdbElemType
{
	VECDB_ELEM_VECTOR = 1,		/* vector: float4 elements */
	VECDB_ELEM_HALFVEC = 2,		/* halfvec: converted to float4 */
	VECDB_ELEM_SPARSEVEC = 3,	/* sparsevec: densified to float4 (L1; indexes built before 0.4.0) */
	VECDB_ELEM_BIT = 4,			/* bit: packed bits */
	VECDB_ELEM_SPARSE = 5,		/* sparsevec under L2, IP or cosine: packed sparse rows
								 * (SPARSE_INVERTED); metapages only, see VecdbRowFormat */
	VECDB_ELEM_SCALAR = 15		/* a scalar column stored beside the vector (support code only) */
} VecdbElemType;

// VecdbAmKind names the access method.
typedef enum VecdbAmKind
{
	VECDB_AM_HNSW = 1,
	VECDB_AM_IVFFLAT = 2,
	VECDB_AM_IVFPQ = 3,
	VECDB_AM_IVFSQ8 = 4,
	VECDB_AM_FLAT = 5
} VecdbAmKind;

// VecdbBuildParams are the build-time parameters of an index (from its
// reloptions), stored in the metapage so compaction builds alike.
typedef struct VecdbBuildParams
{
	int32		m;				/* hnsw: neighbours; ivfpq: sub-quantizers (0: dims / 4) */
	int32		ef_construction;
	int32		lists;
	int32		nbits;
	int32		rerank;			/* ivfpq/ivfsq8: default re-ranking depth */
	int32		sq_bits;		/* hnsw: bits per dimension of the codes kept in memory (0: float rows) */
	int32		repair_reach;	/* hnsw: 1 links the rows a search for their own vector misses, -1
								   (the default) up to 256 dimensions (0 in indexes made before
								   the option: a reserved slot, zeroed) */
	int32		reserved[1];
} VecdbBuildParams;

// VecdbSegmentEntry describes one sealed segment in the directory. Labels
// are 0 .. rows-1; a deleted row's TID in the map is invalid.
typedef struct VecdbSegmentEntry
{
	uint32		segment_id;		/* owner id of its pages, never reused */
	uint32		tid_version;	/* bumped whenever delete marks change */
	BlockNumber blob_head;		/* engine index bytes */
	BlockNumber tid_head;		/* label -> TID map */
	BlockNumber cols_head;		/* scalar columns (InvalidBlockNumber: none) */
	uint32		blob_pages;
	uint32		tid_pages;
	uint32		cols_pages;
	uint32		engine_kind;	/* VecdbEngineKind of the serialized index */
	BlockNumber rows_dir;		/* full rows kept apart (HNSW_SQ): the directory of their
								 * pages, at the blob chain's end; 0: none (row_store.cpp) */
	uint64		blob_bytes;
	uint64		cols_bytes;
	uint64		rows;
	uint64		deleted;
} VecdbSegmentEntry;

// VecdbGrowing describes the growing segment: an append-only stream of
// records (header, engine row, scalar values; 8-byte multiples) over a chain
// of pages. Stream byte b lives on stream page b / VECDB_PAGE_CAPACITY. A
// record header never straddles pages: when fewer than its size remain on a
// page, the record starts on the next one. Rows before start (bytes before
// start_pos) were moved into a sealed segment by a compaction.
typedef struct VecdbGrowing
{
	uint32		stream_id;		/* owner id of its pages */
	uint32		version;		/* bumped whenever delete flags change */
	BlockNumber head;			/* first page still holding rows >= start */
	BlockNumber tail;			/* last page (InvalidBlockNumber: no page yet) */
	uint64		head_page_no;	/* stream page number of head */
	uint64		tail_page_no;	/* stream page number of tail */
	uint64		start;			/* rows compacted away since the stream began */
	uint64		end;			/* rows appended so far */
	uint64		start_pos;		/* stream byte where row start begins */
	uint64		end_pos;		/* stream byte after the last record */
	uint64		deleted;		/* rows in [start, end) flagged deleted */
} VecdbGrowing;

// VecdbPendingFree is a chain retired by a compaction. It is freed by a
// later compaction once no snapshot can still need it (VecdbRetireBatch),
// not at once, so that a scan still reading the old generation's pages is
// not handed recycled ones.
typedef struct VecdbPendingFree
{
	BlockNumber head;
	uint32		owner;
	uint32		kind;			/* VecdbPageKind of its pages */
	uint32		npages;			/* pages to free along the chain; 0: to its end */
} VecdbPendingFree;

#define VECDB_MAX_PENDING_FREE	(3 * VECDB_MAX_SEGMENTS + 2)

// VecdbRetireBatch is the horizon of the pending chains from pending[first]
// up to the next batch's first (the last batch: to npending): the next full
// transaction id when the compaction that retired them switched the
// directory. Every scan that read the directory before the switch holds a
// snapshot whose xmin is at or before it, so the chains are freed once that
// id is removable for everyone (GlobalVisCheckRemovableFullXid). Batches are
// in retirement order, their xids ascending; when all slots are taken, the
// newest batch takes the newer chains too (and their later xid: never too
// early). Chains before the first batch were retired by a vecdb that kept no
// horizons and wait for nothing.
typedef struct VecdbRetireBatch
{
	uint64		xid;			/* U64FromFullTransactionId */
	uint32		first;			/* index in pending[] of its first chain */
	uint32		reserved;
} VecdbRetireBatch;

#define VECDB_MAX_RETIRE_BATCHES	4

// VecdbMetaPageData is block 0.
typedef struct VecdbMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		am_kind;		/* VecdbAmKind */
	uint32		metric;			/* VecdbMetric */
	uint32		elem_type;		/* VecdbElemType */
	int32		dims;			/* 0 until the first row fixes it */
	VecdbBuildParams params;
	uint64		build_id;		/* differs between builds: keys backend caches */
	uint64		generation;		/* bumped whenever the directory changes */
	uint32		next_owner_id;	/* next segment / stream id */
	uint32		nsegments;
	uint64		compactions;	/* compactions since the build */
	uint64		rows_inserted;	/* rows added by aminsert since the build */
	uint32		nscalars;		/* scalar columns after the vector column */
	uint32		reserved2;
	Oid			scalar_types[INDEX_MAX_KEYS];
	VecdbGrowing growing;
	VecdbSegmentEntry segments[VECDB_MAX_SEGMENTS];
	uint32		npending;
	uint32		reserved;
	VecdbPendingFree pending[VECDB_MAX_PENDING_FREE];
	/*
	 * Appended after 0.3.0, the format version unchanged: a metapage written
	 * before has these bytes past its pd_lower, which read as zeros (no
	 * batches); a writer of them extends pd_lower (VecdbMetaCoverAll).
	 */
	uint32		nretire;		/* batches in retire[] */
	uint32		reserved3;
	VecdbRetireBatch retire[VECDB_MAX_RETIRE_BATCHES];
} VecdbMetaPageData;

typedef VecdbMetaPageData *VecdbMetaPage;

#define VecdbPageGetMeta(page) ((VecdbMetaPage) PageGetContents(page))

StaticAssertDecl(sizeof(VecdbMetaPageData) <= VECDB_PAGE_CAPACITY, "metapage must fit a page");

// VecdbGrowingRecordHeader starts every growing record; the engine row and
// the encoded scalar values follow.
typedef struct VecdbGrowingRecordHeader
{
	ItemPointerData tid;
	uint8		flags;			/* VECDB_RECORD_DELETED */
	uint8		reserved;
	uint32		length;			/* whole record, a multiple of 8 */
	uint32		reserved2;
} VecdbGrowingRecordHeader;

StaticAssertDecl(sizeof(VecdbGrowingRecordHeader) == 16, "growing record header is 16 bytes");

#define VECDB_RECORD_DELETED	0x01

/* ---- strategies ---- */

// Strategy numbers of vecdb operator classes: ORDER BY distance on the
// vector column, and conditions on scalar columns.
#define VECDB_STRATEGY_DISTANCE	1
#define VECDB_STRATEGY_LT		2
#define VECDB_STRATEGY_LE		3
#define VECDB_STRATEGY_EQ		4
#define VECDB_STRATEGY_GE		5
#define VECDB_STRATEGY_GT		6
#define VECDB_STRATEGY_NE		7
#define VECDB_STRATEGY_OVERLAP	8	/* && on arrays */
#define VECDB_STRATEGY_CONTAINS	9	/* @> on arrays */
#define VECDB_STRATEGY_MAX		9

/* ---- reloptions ---- */

// VecdbOptions is the parsed reloptions of every vecdb AM (unused fields stay 0).
typedef struct VecdbOptions
{
	int32		vl_len_;		/* varlena header */
	int			m;
	int			ef_construction;
	int			lists;
	int			nbits;
	int			rerank;
	int			sq_bits;
	int			repair_reach;
} VecdbOptions;

/* ---- GUCs (guc.cpp) ---- */

extern int	vecdb_hnsw_ef_search;
extern int	vecdb_hnsw_iterative_scan;
extern int	vecdb_hnsw_max_scan_tuples;
extern int	vecdb_ivfflat_probes;
extern int	vecdb_ivfflat_iterative_scan;
extern int	vecdb_ivfflat_max_probes;
extern int	vecdb_ivfpq_probes;
extern int	vecdb_ivfpq_rerank;
extern int	vecdb_ivfsq8_probes;
extern int	vecdb_ivfsq8_rerank;
extern int	vecdb_build_threads;
extern double vecdb_brute_force_ratio;
extern int	vecdb_segment_cache_mb;
extern int	vecdb_min_index_rows;
extern int	vecdb_compact_growing_rows;
extern double vecdb_compact_deleted_fraction;
extern int	vecdb_max_segments;
extern double vecdb_merge_onto_fraction;

// VecdbIterativeScan mirrors pgvector's iterative scan modes.
typedef enum VecdbIterativeScan
{
	VECDB_ITERATIVE_OFF = 0,
	VECDB_ITERATIVE_RELAXED = 1,
	VECDB_ITERATIVE_STRICT = 2
} VecdbIterativeScan;

void		VecdbRegisterGucs(void);
void		VecdbInstallPlannerHooks(void);	/* src/planner/saop_paths.cpp */
void		VecdbInstallExplainHook(void);	/* src/planner/explain_device.cpp */
int			VecdbBuildThreads(void);

/* ---- am_handler.cpp ---- */

// VecdbIndexDesc is what the AM learns from an index's catalog entries.
typedef struct VecdbIndexDesc
{
	VecdbAmKind am_kind;
	VecdbMetric metric;
	VecdbElemType elem_type;
	int			typmod_dims;	/* from the column's typmod, 0 when none */
	VecdbBuildParams params;
	int			nscalars;		/* scalar columns after the vector column */
	Oid			scalar_types[INDEX_MAX_KEYS];
} VecdbIndexDesc;

void		VecdbDescribeIndex(Relation index, VecdbIndexDesc *desc);

/* ---- am_methods.cpp ---- */

#define VECDB_AM_MAX_OPTIONS	4

// VecdbAmOption is one integer reloption of an access method; it is stored
// at option_offset in VecdbOptions and param_offset in VecdbBuildParams.
typedef struct VecdbAmOption
{
	const char *name;
	const char *desc;
	int			default_value;
	int			min;
	int			max;
	size_t		option_offset;
	size_t		param_offset;
} VecdbAmOption;

// VecdbAmSearch is how a method's segments are searched (for costing).
typedef enum VecdbAmSearch
{
	VECDB_AM_SEARCH_GRAPH = 1,	/* a beam over a graph (ef_search) */
	VECDB_AM_SEARCH_LISTS = 2,	/* probed inverted lists */
	VECDB_AM_SEARCH_EXACT = 3
} VecdbAmSearch;

// VecdbAmMethod is everything that sets one access method apart.
typedef struct VecdbAmMethod
{
	VecdbAmKind kind;
	const char *name;
	amoptions_function options;	/* its amoptions callback */
	int			noptions;
	VecdbAmOption option[VECDB_AM_MAX_OPTIONS];
	VecdbEngineKind float_kind;	/* engine kind of an indexed segment of float rows */
	VecdbEngineKind bit_kind;	/* ... of bit rows */
	VecdbAmSearch search;
	double		score_cost;		/* cost of scoring one row, in distance computations */
	const int  *probes;			/* the probes setting, NULL when none */
	const int  *rerank;			/* the rerank setting (-1: the index's option), NULL when none */
	const int  *iterative_scan;	/* the iterative_scan setting, NULL when none */
	const int  *max_scan_tuples;	/* with it: the bound in rows ... */
	const int  *max_probes;		/* ... or in lists */
} VecdbAmMethod;

const VecdbAmMethod *VecdbAmMethodOf(VecdbAmKind kind);
const VecdbAmMethod *VecdbAmMethodOfIndex(Relation index);
const char *VecdbAmName(VecdbAmKind kind);
void		VecdbAmDefaults(const VecdbAmMethod *method, VecdbBuildParams *params);
void		VecdbAmParamsFromOptions(const VecdbAmMethod *method, const VecdbOptions *o, VecdbBuildParams *params);
void		VecdbAmCheckParams(const VecdbAmMethod *method, const VecdbBuildParams *params, int dims,
							   const char *name);
void		VecdbRegisterReloptions(void);

/* ---- bulk_pages.cpp ---- */

// VECDB_BULK_BATCH is how many pages a bulk writer logs and appends at once
// (one WAL record: XLR_MAX_BLOCK_ID images).
#define VECDB_BULK_BATCH 32

// VecdbBulkPages writes a new index's pages straight to its file (CREATE
// INDEX), numbered in order from the relation's end.
typedef struct VecdbBulkPages
{
	Relation	index;
	bool		use_wal;		/* RelationNeedsWAL when it began */
	BlockNumber next;			/* the number the next page taken gets */
	BlockNumber next_put;		/* the number the next page put must have */
	int			pending;		/* pages queued in pages[] */
	BlockNumber blknos[VECDB_BULK_BATCH];
	Page		pages[VECDB_BULK_BATCH];
	char	   *space;			/* the pages' memory */
} VecdbBulkPages;

void		VecdbBulkPagesBegin(VecdbBulkPages *b, Relation index);
BlockNumber VecdbBulkPagesTake(VecdbBulkPages *b);
void		VecdbBulkPagesPut(VecdbBulkPages *b, BlockNumber blkno, Page page);
void		VecdbBulkPagesEnd(VecdbBulkPages *b);

/* ---- page_store.cpp ---- */

// VecdbChainWriter appends bytes to a new chain of pages (engine blobs, TID
// maps): through the buffer pool, reusing free pages, or, with bulk, past it.
typedef struct VecdbChainWriter
{
	Relation	index;
	uint32		owner;
	VecdbPageKind kind;
	VecdbBulkPages *bulk;		/* not NULL: pages go to this bulk writer */
	BlockNumber blkno;			/* current page's block */
	Buffer		buf;			/* current page, exclusively locked (not bulk) */
	GenericXLogState *xlog;		/* its WAL record (not bulk) */
	Page		page;			/* bulk: a private page */
	BlockNumber head;
	uint32		pages;
	uint64		bytes;
	BlockNumber *page_log;		/* when not NULL, each new page's block is appended */
	uint32		page_log_len;
	uint32		page_log_cap;
} VecdbChainWriter;

// VecdbChainReader reads the bytes of a chain back.
typedef struct VecdbChainReader
{
	Relation	index;
	uint32		owner;
	VecdbPageKind kind;
	BlockNumber next;			/* next page to read */
	uint32		pages_left;		/* pages the directory says remain */
	uint32		seq;			/* chain position of the next page */
	char	   *chunk;			/* copy of the current page's payload */
	uint32		chunk_len;
	uint32		chunk_pos;
	uint64		generation;		/* directory generation the chain was taken from */
	BlockNumber nblocks;		/* relation size last seen (0: not yet) */
	BufferAccessStrategy strategy;	/* NULL: the default; loads of whole segments use a ring */
} VecdbChainReader;

void		VecdbCorrupt(Relation index, const char *fmt,...) pg_attribute_printf(2, 3) pg_attribute_noreturn();
void		VecdbCorruptDetail(Relation index, const char *detail, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();
void		VecdbInitPage(Page page, VecdbPageKind kind, uint32 owner, uint32 seq);
bool		VecdbPageLooksValid(Page page);
void		VecdbCheckPage(Relation index, Page page, BlockNumber blkno, VecdbPageKind kind);
Buffer		VecdbNewBuffer(Relation index, bool use_fsm);
void		VecdbChainWriterBegin(VecdbChainWriter *w, Relation index, VecdbPageKind kind,
								  uint32 owner, VecdbBulkPages *bulk);
void		VecdbChainWrite(VecdbChainWriter *w, const void *data, size_t n);
void		VecdbChainWriterEnd(VecdbChainWriter *w);
void		VecdbChainWriterBreak(VecdbChainWriter *w);
void		VecdbChainReaderBegin(VecdbChainReader *r, Relation index, VecdbPageKind kind,
								  uint32 owner, BlockNumber head, uint32 pages, uint64 generation);
bool		VecdbChainRead(VecdbChainReader *r, void *data, size_t n);
void		VecdbChainReaderEnd(VecdbChainReader *r);
void		VecdbFreePending(Relation index, const VecdbPendingFree *pending);
void		VecdbInitMetaPage(Page page, const VecdbIndexDesc *desc, int dims);
void		VecdbReadMeta(Relation index, VecdbMetaPageData *meta);
void		VecdbMetaCoverAll(Page page);
VecdbMetaPage VecdbMetaFromBuffer(Relation index, Buffer buf);
void		VecdbCheckMeta(Relation index, const VecdbMetaPageData *meta);
uint32		VecdbRowBytes(const VecdbMetaPageData *meta);
VecdbElemType VecdbRowFormat(const VecdbIndexDesc *desc);
int			VecdbMaxDims(VecdbElemType elem_type);
uint32		VecdbMaxRowBytes(const VecdbMetaPageData *meta);
uint32		VecdbRowLength(uint32 row_bytes, const void *row);

/* ---- scalar_store.cpp ---- */

// VECDB_MAX_SCALAR_BYTES bounds the encoded scalar values of one row.
#define VECDB_MAX_SCALAR_BYTES	8192

// VecdbScalarLayout describes an index's scalar columns (index attributes 2..n).
typedef struct VecdbScalarLayout
{
	int			nscalars;
	Oid			typid[INDEX_MAX_KEYS];
	int16		typlen[INDEX_MAX_KEYS];
	bool		typbyval[INDEX_MAX_KEYS];
} VecdbScalarLayout;

// VecdbColumn holds one scalar column of a segment in memory: a null bitmap
// (set bit = NULL) and either fixed-width values (row i at i * typlen) or
// varlena values (row i at data + offsets[i], 8-byte aligned).
typedef struct VecdbColumn
{
	uint8	   *nulls;
	char	   *values;
	uint64	   *offsets;
	char	   *data;
	uint64		data_len;
	uint64		data_cap;
	uint64		capacity;
	uint64		rows;
} VecdbColumn;

void		VecdbScalarLayoutFor(Relation index, VecdbScalarLayout *layout);
void		VecdbScalarDetoast(const VecdbScalarLayout *l, const Datum *values, const bool *isnull, Datum *out);
uint32		VecdbScalarEncodedSize(const VecdbScalarLayout *l, const Datum *values, const bool *isnull);
void		VecdbScalarEncode(const VecdbScalarLayout *l, const Datum *values, const bool *isnull, char *out);
VecdbColumn *VecdbColumnsCreate(const VecdbScalarLayout *l, uint64 capacity);
void		VecdbColumnsAppend(Relation index, const VecdbScalarLayout *l, VecdbColumn *cols, const char *blob, uint32 len);
uint32		VecdbColumnsRowSize(const VecdbScalarLayout *l, const VecdbColumn *cols, uint64 row);
void		VecdbColumnsEncodeRow(const VecdbScalarLayout *l, const VecdbColumn *cols, uint64 row, char *out);
void		VecdbColumnsWrite(const VecdbScalarLayout *l, const VecdbColumn *cols, VecdbChainWriter *w);
VecdbColumn *VecdbColumnsRead(Relation index, const VecdbScalarLayout *l, uint64 rows, VecdbChainReader *r);
size_t		VecdbColumnsBytes(const VecdbScalarLayout *l, const VecdbColumn *cols);
void		VecdbColumnsDropPrefix(const VecdbScalarLayout *l, VecdbColumn *cols, uint64 n);
void		VecdbBitsDropPrefix(uint8 *bits, uint64 total, uint64 n);
Datum		VecdbColumnDatum(const VecdbScalarLayout *l, int col, const VecdbColumn *c, uint64 row);

static inline bool
VecdbColumnIsNull(const VecdbColumn *c, uint64 row)
{
	return (c->nulls[row >> 3] >> (row & 7)) & 1;
}

/* ---- vector_datum.cpp ---- */

int			VecdbDatumDims(Datum value, VecdbElemType elem_type);
uint32		VecdbDatumRowBytes(Datum value, VecdbElemType elem_type, VecdbMetric metric, int dims);
bool		VecdbDatumToRow(Datum value, VecdbElemType elem_type, VecdbMetric metric, int dims, void *row);
void		VecdbCheckDims(Relation index, int expected, int actual);

/* ---- segment_build.cpp ---- */

// VecdbRowBatch is a set of rows (engine format) with their heap TIDs and,
// when the index has scalar columns, each row's encoded scalar values
// (row i's at sblobs + soffs[i], up to soffs[i + 1]).
typedef struct VecdbRowBatch
{
	char	   *rows;			/* vectors of rows prefix .. n-1, back to back */
	uint64		rows_len;		/* bytes of rows used */
	uint64	   *roffs;			/* row_bytes 0 (sparse rows): row prefix + j starts at rows + roffs[j] */
	ItemPointerData *tids;
	uint64		n;
	uint64		prefix;			/* leading rows without a vector: already in the engine index they extend */
	uint64		capacity;		/* of tids and soffs */
	uint64		rows_capacity;	/* bytes of rows */
	uint32		row_bytes;		/* 0: rows of varying length (VecdbRowLength) */
	char	   *sblobs;
	uint64	   *soffs;
	uint64		slen;
	uint64		scap;
} VecdbRowBatch;

void		VecdbRowBatchInit(VecdbRowBatch *b, uint32 row_bytes, uint64 capacity);
void		VecdbRowBatchAdd(VecdbRowBatch *b, const void *row, ItemPointer tid, const char *blob, uint32 bloblen);
void		VecdbRowBatchReset(VecdbRowBatch *b);
void		VecdbRowBatchFree(VecdbRowBatch *b);
const char *VecdbRowBatchRow(const VecdbRowBatch *b, uint64 i);
VecdbEngineKind VecdbSegmentKind(const VecdbMetaPageData *meta, uint64 rows);
void		VecdbEngineConfigFor(const VecdbMetaPageData *meta, VecdbEngineKind kind, uint64 rows,
								 VecdbEngineConfig *config);
void		VecdbWriteSegment(Relation index, const VecdbMetaPageData *meta, const VecdbRowBatch *batch,
							  VecdbEngineIndex *onto, uint32 segment_id, VecdbBulkPages *bulk,
							  bool report_progress, VecdbSegmentEntry *entry);
size_t		VecdbSegmentMemoryEstimate(const VecdbMetaPageData *meta, uint64 rows);
uint64		VecdbSegmentRowBudget(const VecdbMetaPageData *meta);

/* ---- growing_segment.cpp ---- */

// VecdbGrowingPos is a place in the growing stream: stream byte pos, on
// stream page page_no, which is block blkno.
typedef struct VecdbGrowingPos
{
	BlockNumber blkno;
	uint64		page_no;
	uint64		pos;
} VecdbGrowingPos;

// VecdbGrowingReader walks the growing chain and reads its records in order.
typedef struct VecdbGrowingReader
{
	Relation	index;
	uint32		stream_id;
	bool		concurrent;		/* compactions may run: a recycled page is a retryable error */
	bool		copied;			/* copy holds page at.blkno */
	uint32		row_bytes;
	VecdbGrowingPos at;			/* next stream byte to read */
	char	   *copy;			/* a page's payload */
	BlockNumber copy_next;		/* and its next link */
	char	   *record;			/* the last record read */
	uint32		cap;
} VecdbGrowingReader;

// VecdbGrowingRecord is a record as read; its pointers point into the reader.
typedef struct VecdbGrowingRecord
{
	ItemPointerData tid;
	bool		deleted;
	const char *row;			/* the engine row */
	const char *scalars;		/* the encoded scalar values, then padding */
	uint32		scalars_len;
} VecdbGrowingRecord;

// VecdbGrowingCut is where a compaction cuts the growing stream: it takes
// the rows before row.
typedef struct VecdbGrowingCut
{
	uint64		row;
	uint64		pos;			/* stream byte of row */
	uint64		page_no;		/* stream page row's record starts on */
	BlockNumber head;			/* its block, InvalidBlockNumber when not appended yet */
	BlockNumber tail;			/* the tail at the cut */
	uint64		tail_page_no;
	uint64		deleted;		/* rows before row flagged deleted */
	uint8	   *was_deleted;	/* bit r - start: row r was flagged when taken (NULL: none taken) */
} VecdbGrowingCut;

// VecdbGrowingSpares holds what an append prepares before it locks the
// metapage: new pages (exclusively locked, not yet in any chain) and a pin on
// the tail page, so that no free-space map look-up, relation extension or
// page read happens under the metapage lock.
typedef struct VecdbGrowingSpares
{
	int			n;				/* pages in bufs */
	int			cap;
	Buffer	   *bufs;
	Buffer		tail;			/* pinned tail page, or InvalidBuffer */
} VecdbGrowingSpares;

char	   *VecdbGrowingNewRecord(ItemPointer tid, uint32 row_bytes, uint32 scalar_bytes, char **row,
								  char **scalars);
void		VecdbGrowingReserve(Relation index, const char *record, VecdbGrowingSpares *spares);
bool		VecdbGrowingAppend(Relation index, Buffer metabuf, const char *record, VecdbGrowingSpares *spares);
void		VecdbGrowingSparesRelease(Relation index, VecdbGrowingSpares *spares);
void		VecdbGrowingReaderBegin(VecdbGrowingReader *r, Relation index, const VecdbMetaPageData *meta,
									const VecdbGrowingPos *from);
void		VecdbGrowingRead(VecdbGrowingReader *r, VecdbGrowingRecord *rec);
void		VecdbGrowingReaderEnd(VecdbGrowingReader *r);
void		VecdbGrowingTakeRows(Relation index, const VecdbMetaPageData *meta, VecdbRowBatch *batch,
								 uint64 max_live, VecdbGrowingCut *cut);
uint64		VecdbGrowingMarkDeleted(Relation index, const VecdbGrowing *g, IndexBulkDeleteCallback callback,
									void *state);
void		VecdbGrowingCutAtEnd(Relation index, const VecdbGrowing *g, VecdbGrowingCut *cut);
void		VecdbGrowingCutAt(Relation index, const VecdbGrowing *g, uint64 row, uint64 pos, uint64 deleted,
							  VecdbGrowingCut *cut);
bool		VecdbGrowingTrim(Relation index, VecdbGrowing *g, const VecdbGrowingCut *cut,
							 VecdbPendingFree *retired);
uint64		VecdbGrowingNewlyDeleted(Relation index, const VecdbMetaPageData *meta, VecdbGrowingCut *cut,
									 uint64 *labels);

/* ---- am_build.cpp ---- */

IndexBuildResult *vecdbbuild(Relation heap, Relation index, struct IndexInfo *indexInfo);
void		vecdbbuildempty(Relation index);
char	   *vecdbbuildphasename(int64 phase);

#define VECDB_PHASE_LOAD		2
#define VECDB_PHASE_BUILD		3
#define VECDB_PHASE_WRITE		4

/* ---- am_insert.cpp ---- */

bool		vecdbinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
						struct IndexInfo *indexInfo);

/* ---- shared_segments.cpp ---- */

// VecdbSharedPin is one pin on a segment's shared copy (entry NULL: none).
typedef struct VecdbSharedPin
{
	void	   *entry;
	uint64		incarnation;
} VecdbSharedPin;

extern int	vecdb_shared_memory_mb;

void		VecdbSharedInit(void);
bool		VecdbSharedActive(void);
const char *VecdbSharedAcquire(Relation index, const VecdbSegmentEntry *d, uint64 build_id, uint64 generation,
							   VecdbSharedPin *pin, bool *loaded);
bool		VecdbSharedRepin(Relation index, const VecdbSegmentEntry *d, uint64 build_id, VecdbSharedPin *pin);
void		VecdbSharedUnpin(const VecdbSharedPin *pin);
void	   *VecdbSharedResidentIndexes(int *n);
int64		VecdbSharedPrewarm(Relation index);
void		VecdbSharedPreload(Relation index, const VecdbSegmentEntry *d, uint64 build_id, uint64 generation);
const char *VecdbSharedPinCopy(const VecdbSharedPin *other, size_t *size, VecdbSharedPin *pin);
dsa_pointer VecdbSharedScratchAlloc(size_t size);
void	   *VecdbSharedScratchAddress(dsa_pointer dp);
void		VecdbSharedScratchFree(dsa_pointer dp);

/* ---- bgworker_job.cpp ---- */

bool		VecdbRunDatabaseJob(const char *function, const char *type, const char *name, Oid database, Oid arg);

/* ---- seal_worker.cpp ---- */

extern int	vecdb_seal_growing_rows;

void		VecdbSealInit(void);
void		VecdbSealAfterInsert(Relation index, uint64 rows);

/* ---- shared_prewarm.cpp ---- */

extern bool vecdb_prewarm_resident;
extern int	vecdb_prewarm_interval;

void		VecdbPrewarmRegister(void);

/* ---- segment_cache.cpp ---- */

// VecdbSegment is a sealed segment loaded into memory: the engine index, the
// TID map and the delete bitset (set bit = deleted) the engine skips. With
// shared segments the engine may be a view over the server's shared copy
// (in_place): it is used only while a pin taken on that copy's incarnation
// (shared_pin.incarnation) is held.
// VecdbFilterBits is a segment's cached bitset for one scan condition
// (filter_cache.cpp).
typedef struct VecdbFilterBits
{
	char	   *key;			/* VecdbFilterKeyBytes of the condition */
	Size		key_len;
	uint8	   *bits;			/* deleted or failing the condition; NULL: empty */
	uint64		allowed;
	uint32		tid_version;	/* the delete marks it was made with */
} VecdbFilterBits;

typedef struct VecdbSegment
{
	MemoryContext cxt;			/* holds everything below; deleting it frees the engine */
	MemoryContext tid_cxt;		/* child of cxt holding tids and deleted */
	uint32		segment_id;
	uint32		tid_version;
	VecdbEngineIndex *engine;
	VecdbEngineOwner *engine_owner;	/* frees engine with cxt */
	ItemPointerData *tids;
	uint8	   *deleted;
	VecdbColumn *cols;			/* scalar columns, NULL when the index has none */
	uint64		rows;
	uint64		deleted_count;
	size_t		bytes;
	int			refcount;
	bool		in_place;		/* engine searches the shared copy in place */
	uint64		read_rows;		/* engine rows its load read from index pages */
	VecdbSharedPin shared_pin;	/* the copy's incarnation (entry: last pin) */
	VecdbFilterBits filter_cache;	/* the last condition's bits (in cxt) */
	struct VecdbRowsReader *rows_reader;	/* full rows kept apart (row_store.cpp), or NULL */
} VecdbSegment;

// VecdbGrowingCache is the growing segment loaded into memory: rows
// [base, base + loaded) in an engine index. Rows before start were sealed
// after the cache loaded them: they stay in the index, flagged deleted.
typedef struct VecdbGrowingCache
{
	MemoryContext cxt;
	uint32		stream_id;
	uint32		version;
	uint64		base;			/* stream row of label 0 */
	uint64		start;			/* the growing segment's first row (>= base) */
	uint64		start_pos;		/* its stream byte */
	uint64		loaded;			/* rows loaded */
	uint64		capacity;
	VecdbEngineIndex *engine;
	ItemPointerData *tids;
	uint8	   *deleted;
	VecdbColumn *cols;			/* scalar columns, NULL when the index has none */
	uint64		deleted_count;
	size_t		bytes;
	int			refcount;
	VecdbGrowingPos pos;		/* where the next record is read from */
	bool		extending;		/* an extension was cut short: rebuild */
} VecdbGrowingCache;

// VecdbPinnedSegments is a consistent set of pinned segments for one scan.
typedef struct VecdbPinnedSegments
{
	VecdbMetaPageData meta;
	int			nsegments;
	VecdbSegment *segments[VECDB_MAX_SEGMENTS];
	VecdbGrowingCache *growing;	/* NULL when the growing segment is empty */
	void	   *pins;			/* the reset callback that drops the pins after an ERROR */
	uint64		read_rows[VECDB_MAX_SEGMENTS];	/* engine rows read from pages, per segment */
	uint64		growing_read;	/* growing rows read from pages */
	int			nshared;		/* pins on shared copies held for this scan */
	/* at most two per segment: a view kept from before, and a fresh load */
	VecdbSharedPin shared[2 * VECDB_MAX_SEGMENTS];
} VecdbPinnedSegments;

void		VecdbCacheAcquire(Relation index, VecdbPinnedSegments *snap);
void		VecdbCacheRelease(VecdbPinnedSegments *snap);
/* ---- row_store.cpp ---- */

typedef struct VecdbRowsReader VecdbRowsReader;

void		VecdbWriteRows(VecdbChainWriter *w, const VecdbEngineIndex *engine, VecdbSegmentEntry *entry);
VecdbRowsReader *VecdbRowsOpen(Relation index, const VecdbSegmentEntry *entry, uint64 generation,
							   uint32 row_bytes, VecdbEngineIndex *engine);
void		VecdbRowsBind(VecdbRowsReader *reader, Relation index);
uint32		VecdbRowsPages(const VecdbSegmentEntry *entry, uint32 row_bytes);
uint32		VecdbRowsDirPages(uint32 npages);

VecdbSegment *VecdbLoadSegment(Relation index, const VecdbSegmentEntry *entry, uint64 generation,
							   bool with_engine, uint64 build_id, VecdbSharedPin *pin);
void		VecdbSegmentUnref(VecdbSegment *seg);

/* ---- scan_filter.cpp ---- */

typedef struct VecdbScanFilter VecdbScanFilter;

VecdbScanFilter *VecdbFilterPrepare(Relation index, const VecdbScalarLayout *l, ScanKey keys, int nkeys);
char	   *VecdbFilterKeyBytes(const VecdbScalarLayout *l, ScanKey keys, int nkeys, Size *len);
const uint8 *VecdbSegmentFilterBits(VecdbSegment *seg, const VecdbScanFilter *filter, const VecdbScalarLayout *l,
									const char *key, Size key_len, uint64 *allowed);
uint64		VecdbFilterApply(const VecdbScanFilter *f, const VecdbScalarLayout *l, const VecdbColumn *cols,
							 const uint8 *deleted, uint64 rows, uint8 *out);

/* ---- gpu_queue.cpp ---- */

// VecdbGpuMode is vecdb.gpu.
typedef enum VecdbGpuMode
{
	VECDB_GPU_OFF = 0,
	VECDB_GPU_AUTO = 1,
	VECDB_GPU_ON = 2
} VecdbGpuMode;

// VecdbGpuOutcome is what became of a request to the GPU worker.
typedef enum VecdbGpuOutcome
{
	VECDB_GPU_SERVED = 0,
	VECDB_GPU_UNAVAILABLE,		/* no worker, or no room to send it */
	VECDB_GPU_DECLINED,			/* the worker would not serve this segment */
	VECDB_GPU_FAILED			/* the worker failed or exited while serving it */
} VecdbGpuOutcome;

extern int	vecdb_gpu_mode;

// VecdbTrainDevice is vecdb.train_device (values of knowhere::TrainDevice).
typedef enum VecdbTrainDevice
{
	VECDB_TRAIN_CPU = 0,
	VECDB_TRAIN_GPU = 1,
	VECDB_TRAIN_AUTO = 2
} VecdbTrainDevice;

extern int	vecdb_train_device;
extern int	vecdb_gpu_memory_mb;
extern double vecdb_gpu_batch_window_ms;
extern bool vecdb_gpu_stand_in;

void		VecdbGpuInit(void);
double		VecdbGpuScoredRows(int kind, uint64 rows, uint64 allowed, int lists, int dims, int metric,
							   const VecdbEngineSearchParams *params);
bool		VecdbGpuChoose(int kind, int elem_type, double scored, int dims, bool in_place, bool exact_filtered);
VecdbGpuOutcome VecdbGpuSearch(const VecdbSharedPin *copy, const void *queries, int nq, size_t row_bytes, int k,
							   const VecdbEngineSearchParams *ivf, const uint8 *bits, uint64 nbits,
							   VecdbNeighbor *out, int *counts, char *why, size_t whylen);
void		VecdbGpuDeviceName(char *out, size_t len);

/* ---- am_scan.cpp ---- */

IndexScanDesc vecdbbeginscan(Relation index, int nkeys, int norderbys);
void		VecdbLastScanRows(Tuplestorestate *store, TupleDesc desc);

// VecdbScanStash is one sealed segment's answers from the GPU worker for
// every query of a vecdb_search batch: k rows per query (counts[q] real, -1:
// not asked), searched with the segment's delete marks of tid_version.
typedef struct VecdbScanStash
{
	VecdbSharedPin copy;
	uint32		tid_version;
	bool		prefixes;		/* exact answers: the first k' rows answer k' too (not IVF) */
	int			k;
	int			nq;
	VecdbNeighbor *results;
	int		   *counts;
} VecdbScanStash;

void		VecdbScanStashSet(const VecdbScanStash *entries, int n);
void		VecdbScanStashQuery(int q);
void		VecdbScanStashClear(void);
void		VecdbScanSearchParams(const VecdbIndexDesc *desc, VecdbEngineSearchParams *p);

/* ---- am_info.cpp ---- */

Relation	VecdbOpenIndexChecked(Oid relid, LOCKMODE lockmode);
Oid			VecdbIndexTableOf(Oid relid);
uint64		VecdbScanRowsFor(int k);
void		VecdbExplainDevicesBegin(void);
void		VecdbExplainDevicesEnd(StringInfo out);
void		vecdbrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool		vecdbgettuple(IndexScanDesc scan, ScanDirection dir);
void		vecdbendscan(IndexScanDesc scan);

/* ---- am_vacuum.cpp ---- */

IndexBulkDeleteResult *vecdbbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
									   IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *vecdbvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);
void		VecdbMarkSegmentTids(Relation index, const VecdbSegmentEntry *entry, const uint64 *labels, uint64 n);

/* ---- am_compact.cpp ---- */

bool		VecdbCompact(Relation index, bool full, bool wait);

// VecdbCompactPhase is where a compaction is: reading its inputs, adding
// rows to the new segment's index, writing it, switching the directory.
typedef enum VecdbCompactPhase
{
	VECDB_COMPACT_GATHER = 1,
	VECDB_COMPACT_BUILD = 2,
	VECDB_COMPACT_WRITE = 3,
	VECDB_COMPACT_SWITCH = 4,
	VECDB_COMPACT_DONE = 5		/* ended, switched or not (also on ERROR) */
} VecdbCompactPhase;

// VecdbCompactProgress describes a running compaction: inputs are the
// sealed segments it merges (plus the growing one when growing_rows > 0);
// onto says the rows are added to the largest input's index; rows_done of
// rows_total are the rows added so far.
typedef struct VecdbCompactProgress
{
	VecdbCompactPhase phase;
	Oid			index;
	uint32		inputs;
	bool		onto;
	uint64		growing_rows;
	uint64		rows_done;
	uint64		rows_total;
} VecdbCompactProgress;

// vecdb_compact_progress_hook, when set (vecdb preloaded: seal_worker.cpp
// publishes it), hears every change of a compaction's progress in this
// process, and its end.
typedef void (*VecdbCompactProgressHook) (const VecdbCompactProgress *progress);
extern VecdbCompactProgressHook vecdb_compact_progress_hook;
// VecdbCompactRowsAdded reports rows added while a segment is built (no-op
// outside a compaction).
void		VecdbCompactRowsAdded(uint64 done, uint64 total);

/* ---- am_cost.cpp ---- */

void		vecdbcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							  Cost *indexStartupCost, Cost *indexTotalCost,
							  Selectivity *indexSelectivity, double *indexCorrelation,
							  double *indexPages);
