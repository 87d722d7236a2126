// pg_mock_buffers.cpp extends the PostgreSQL stand-in (pg_mock.hpp) with an
// index relation whose blocks are pages in memory, for fuzz_growing: the
// buffer manager calls the growing-segment reader makes (ReadBuffer,
// LockBuffer, BufferGetPage over BufferBlocks, ...), PageInit, the message
// helpers page_store.cpp uses, and stubs that abort for the write side
// (Generic WAL, extension, free space map, CREATE INDEX's bulk page
// writer), which the reader never reaches.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "knowhere/brute_force.hpp"
#include "pg_mock.hpp"
#include "pg_mock_buffers.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "catalog/pg_class.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

#include "am/engine_bridge.hpp"

namespace {

BlockNumber g_nblocks;
int g_pins;
FormData_pg_class g_class;
RelationData g_relation;

// Unreached aborts in a stub the reader must never call.
[[noreturn]] void Unreached(const char *what) {
	fprintf(stderr, "pg_mock_buffers: %s called\n", what);
	std::abort();
}

}  // namespace

Relation MockIndex(char *pages, BlockNumber nblocks) {
	BufferBlocks = pages;
	g_nblocks = nblocks;
	g_pins = 0;
	std::memset(&g_class, 0, sizeof(g_class));
	std::strcpy(NameStr(g_class.relname), "fuzz_index");
	std::memset(&g_relation, 0, sizeof(g_relation));
	g_relation.rd_rel = &g_class;
	return &g_relation;
}

int MockPins() { return g_pins; }

extern "C" {

char *BufferBlocks;
Block *LocalBufferBlockPointers;
volatile sig_atomic_t InterruptPending = false;

void ProcessInterrupts(void) {}

BlockNumber RelationGetNumberOfBlocksInFork(Relation, ForkNumber) { return g_nblocks; }

Buffer ReadBuffer(Relation, BlockNumber blkno) {
	if (blkno >= g_nblocks)
		Unreached("ReadBuffer past the end of the relation");
	g_pins++;
	return static_cast<Buffer>(blkno) + 1;
}

Buffer ReadBufferExtended(Relation, ForkNumber, BlockNumber, ReadBufferMode, BufferAccessStrategy) {
	Unreached("ReadBufferExtended");
}

BlockNumber BufferGetBlockNumber(Buffer buffer) { return static_cast<BlockNumber>(buffer - 1); }

void LockBuffer(Buffer buffer, int) {
	if (buffer < 1 || static_cast<BlockNumber>(buffer) > g_nblocks)
		Unreached("LockBuffer on an invalid buffer");
}

bool ConditionalLockBuffer(Buffer) { Unreached("ConditionalLockBuffer"); }

void ReleaseBuffer(Buffer buffer) {
	if (buffer < 1 || g_pins <= 0)
		Unreached("ReleaseBuffer of a buffer not pinned");
	g_pins--;
}

void UnlockReleaseBuffer(Buffer buffer) { ReleaseBuffer(buffer); }

void PageInit(Page page, Size pageSize, Size specialSize) {
	PageHeader p = reinterpret_cast<PageHeader>(page);
	specialSize = MAXALIGN(specialSize);
	std::memset(p, 0, pageSize);
	p->pd_flags = 0;
	p->pd_lower = SizeOfPageHeaderData;
	p->pd_upper = pageSize - specialSize;
	p->pd_special = pageSize - specialSize;
	PageSetPageSizeAndVersion(page, pageSize, PG_PAGE_LAYOUT_VERSION);
}

GenericXLogState *GenericXLogStart(Relation) { Unreached("GenericXLogStart"); }
Page GenericXLogRegisterBuffer(GenericXLogState *, Buffer, int) { Unreached("GenericXLogRegisterBuffer"); }
XLogRecPtr GenericXLogFinish(GenericXLogState *) { Unreached("GenericXLogFinish"); }
BlockNumber GetFreeIndexPage(Relation) { Unreached("GetFreeIndexPage"); }
void RecordFreeIndexPage(Relation, BlockNumber) { Unreached("RecordFreeIndexPage"); }
void LockRelationForExtension(Relation, LOCKMODE) { Unreached("LockRelationForExtension"); }
void UnlockRelationForExtension(Relation, LOCKMODE) { Unreached("UnlockRelationForExtension"); }
void vacuum_delay_point(void) { Unreached("vacuum_delay_point"); }
TimestampTz GetCurrentTimestamp(void) { Unreached("GetCurrentTimestamp"); }

}  // extern "C"

// VecdbEngineRowBytes is engine_bridge.cpp's one line (that file needs the
// whole bridge): the engine's row size.
size_t VecdbEngineRowBytes(VecdbMetric metric, int dim) {
	return vecdb::knowhere::RowBytes(static_cast<vecdb::knowhere::Metric>(metric), dim);
}

// vecdb_fault_injection and VecdbFaultFire stand in for fault_inject.cpp:
// the fault points (the append side) stay unset in fuzzing.
char *vecdb_fault_injection = nullptr;
void VecdbFaultFire(const char *) { Unreached("VecdbFaultFire"); }

// VecdbBulkPagesTake and VecdbBulkPagesPut stand in for bulk_pages.cpp:
// only CREATE INDEX writes chains in bulk.
struct VecdbBulkPages;
BlockNumber VecdbBulkPagesTake(VecdbBulkPages *) { Unreached("VecdbBulkPagesTake"); }
void VecdbBulkPagesPut(VecdbBulkPages *, BlockNumber, Page) { Unreached("VecdbBulkPagesPut"); }
