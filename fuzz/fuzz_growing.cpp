// fuzz_growing.cpp is the libFuzzer target for the growing-segment record
// reader (src/am/growing_segment.cpp, compiled unchanged with page_store.cpp):
// the pages of a growing stream and the metapage's description of it come
// from the input, the buffer manager from pg_mock_buffers.cpp.
//
// Input: a GrowingInput (the metapage fields the reader uses, and how to
// read), then pages, each a PageInput (its special space) followed by its
// first payload_len payload bytes (the rest zero). The target reads the rows
// [start, end) as a scan loads them (VecdbGrowingRead) and as a compaction
// takes them (VecdbGrowingTakeRows, with a cut when asked), touching every
// byte a record points at. Damaged pages must end in an ERROR (a MockError),
// never a crash, a read outside a page or a pin left behind.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pg_mock_buffers.hpp"

#include "am/am.hpp"

namespace {

// GrowingInput is the input's prefix.
struct GrowingInput {
	int32 dims;          /* clamped to the type's limits, as a metapage check would */
	uint32 metric;       /* VecdbMetric, taken modulo 6 */
	uint32 nscalars;     /* 0 or not: whether records carry scalar values */
	uint32 flags;        /* kTakeWithCut, kLimitLive, kSparseRows */
	uint64 max_live;     /* VecdbGrowingTakeRows' limit with kLimitLive */
	VecdbGrowing growing;
};

// PageInput is one page's special space; kind kRawPage leaves the page all
// zeros but the payload (not a vecdb page).
struct PageInput {
	uint32 next;
	uint32 owner;
	uint32 seq;
	uint16 kind;
	uint16 payload_len;
};

constexpr uint32 kTakeWithCut = 1;
constexpr uint32 kLimitLive = 2;
constexpr uint32 kSparseRows = 4; /* rows of varying length (sparsevec under L2, IP, cosine) */
constexpr uint16 kRawPage = 0xffff;
constexpr size_t kMaxPages = 8;
constexpr uint64 kMaxRows = 4096;

// g_touched sums the bytes of the records read, so every byte is loaded.
volatile uint64 g_touched;

// Touch reads n bytes at p.
void Touch(const void *p, size_t n) {
	const unsigned char *b = static_cast<const unsigned char *>(p);
	uint64 sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += b[i];
	g_touched = g_touched + sum;
}

// Run reads the rows that in and pages describe.
void Run(const GrowingInput &in, char *pages, BlockNumber npages) {
	Relation index = MockIndex(pages, npages);
	VecdbMetaPageData *meta = static_cast<VecdbMetaPageData *>(palloc0(sizeof(VecdbMetaPageData)));
	meta->metric = in.metric % 6 + 1;
	bool binary = meta->metric == VECDB_METRIC_HAMMING || meta->metric == VECDB_METRIC_JACCARD;
	if ((in.flags & kSparseRows) && meta->metric <= VECDB_METRIC_COSINE)
		meta->elem_type = VECDB_ELEM_SPARSE;
	int32 max_dims = VecdbMaxDims(static_cast<VecdbElemType>(meta->elem_type));
	if (binary)
		max_dims = 64000;
	meta->dims = in.dims < 1 ? 1 : (in.dims > max_dims ? max_dims : in.dims);
	meta->nscalars = in.nscalars != 0 ? 1 : 0;
	meta->growing = in.growing;
	VecdbGrowing *g = &meta->growing;
	if (g->end > g->start && g->end - g->start > kMaxRows)
		g->end = g->start + kMaxRows;
	uint32 row_bytes = VecdbRowBytes(meta);

	/* as a scan loads the rows (segment_cache.cpp) */
	if (g->end > g->start) {
		VecdbGrowingReader r;
		VecdbGrowingReaderBegin(&r, index, meta, NULL);
		for (uint64 row = g->start; row < g->end; row++) {
			VecdbGrowingRecord rec;
			VecdbGrowingRead(&r, &rec);
			Touch(rec.row, VecdbRowLength(row_bytes, rec.row));
			Touch(rec.scalars, rec.scalars_len);
		}
		VecdbGrowingReaderEnd(&r);
	}
	if (MockPins() != 0)
		std::abort(); /* a pin left behind */

	/* as a compaction takes them */
	VecdbRowBatch batch;
	std::memset(&batch, 0, sizeof(batch));
	batch.row_bytes = row_bytes;
	VecdbGrowingCut cut;
	VecdbGrowingTakeRows(index, meta, &batch, (in.flags & kLimitLive) ? in.max_live : UINT64_MAX,
						 (in.flags & kTakeWithCut) ? &cut : NULL);
	if (MockPins() != 0)
		std::abort();
}

}  // namespace

// VecdbRowBatchAdd (segment_build.cpp) stands in for the batch: it reads the
// row and the scalar bytes a record hands over.
void VecdbRowBatchAdd(VecdbRowBatch *b, const void *row, ItemPointer tid, const char *blob, uint32 bloblen) {
	Touch(row, VecdbRowLength(b->row_bytes, row));
	Touch(tid, sizeof(*tid));
	if (blob != NULL)
		Touch(blob, bloblen);
	b->n++;
}

// LLVMFuzzerTestOneInput lays out the input's pages and reads them.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	GrowingInput in;
	if (size < sizeof(in))
		return 0;
	std::memcpy(&in, data, sizeof(in));
	size_t at = sizeof(in);
	std::vector<PageInput> descs;
	std::vector<std::pair<size_t, size_t>> payloads;
	while (descs.size() < kMaxPages && size - at >= sizeof(PageInput)) {
		PageInput p;
		std::memcpy(&p, data + at, sizeof(p));
		at += sizeof(p);
		size_t len = std::min<size_t>({static_cast<size_t>(p.payload_len), static_cast<size_t>(VECDB_PAGE_CAPACITY), size - at});
		descs.push_back(p);
		payloads.emplace_back(at, len);
		at += len;
	}
	if (descs.empty())
		return 0;
	/* exactly the pages' bytes, so a read past the last page is caught */
	char *pages = static_cast<char *>(std::aligned_alloc(BLCKSZ, descs.size() * BLCKSZ));
	for (size_t i = 0; i < descs.size(); i++) {
		Page page = pages + i * BLCKSZ;
		const PageInput &p = descs[i];
		if (p.kind == kRawPage) {
			std::memset(page, 0, BLCKSZ);
			std::memcpy(page, data + payloads[i].first, payloads[i].second);
			continue;
		}
		VecdbInitPage(page, VECDB_PAGE_GROWING, p.owner, p.seq);
		/* any kind, as stored bytes may hold (not a valid enum value to pass) */
		VecdbPageGetOpaque(page)->kind = p.kind;
		VecdbPageGetOpaque(page)->next = p.next;
		std::memcpy(PageGetContents(page), data + payloads[i].first, payloads[i].second);
		reinterpret_cast<PageHeader>(page)->pd_lower =
			static_cast<LocationIndex>(MAXALIGN(SizeOfPageHeaderData) + payloads[i].second);
	}
	try {
		Run(in, pages, static_cast<BlockNumber>(descs.size()));
	} catch (const MockError &e) {
		MockReportError(e);
	}
	MockResetMemory();
	std::free(pages);
	return 0;
}
