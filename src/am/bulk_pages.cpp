// bulk_pages.cpp writes the pages of an index that CREATE INDEX is building
// straight to its file, past the buffer pool, as btree's sorted build does:
// pages are numbered in order, WAL-logged VECDB_BULK_BATCH at a time as full
// images (when the relation needs WAL), then appended with smgrextend; the
// end syncs the file, because a checkpoint taken during the build cannot
// flush pages it never saw in shared buffers. Nothing else may extend the
// relation meanwhile (it is new and only this backend sees it).
#include "am/am.hpp"

extern "C" {
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/bufpage.h"
#include "storage/smgr.h"
#include "utils/rel.h"
}

// VecdbBulkPagesBegin starts writing index's pages at its current end.
void
VecdbBulkPagesBegin(VecdbBulkPages *b, Relation index)
{
	int			i;

	memset(b, 0, sizeof(*b));
	b->index = index;
	b->next = RelationGetNumberOfBlocks(index);
	b->next_put = b->next;
	b->use_wal = RelationNeedsWAL(index);
	b->space = (char *) palloc((Size) BLCKSZ * VECDB_BULK_BATCH);
	for (i = 0; i < VECDB_BULK_BATCH; i++)
		b->pages[i] = (Page) (b->space + (Size) i * BLCKSZ);
}

// VecdbBulkPagesTake returns the number the next page gets.
BlockNumber
VecdbBulkPagesTake(VecdbBulkPages *b)
{
	return b->next++;
}

// Flush logs and appends the pending pages.
static void
Flush(VecdbBulkPages *b)
{
	int			i;

	if (b->pending == 0)
		return;
	if (b->use_wal)
		log_newpages(&VECDB_SMGR_FILE(RelationGetSmgr(b->index)), MAIN_FORKNUM, b->pending, b->blknos, b->pages,
					 true);
	for (i = 0; i < b->pending; i++)
	{
		PageSetChecksumInplace(b->pages[i], b->blknos[i]);
		smgrextend(RelationGetSmgr(b->index), MAIN_FORKNUM, b->blknos[i], (char *) b->pages[i], true);
	}
	b->pending = 0;
	CHECK_FOR_INTERRUPTS();
}

// VecdbBulkPagesPut queues a copy of page as block blkno (a number
// VecdbBulkPagesTake gave, put in the order taken).
void
VecdbBulkPagesPut(VecdbBulkPages *b, BlockNumber blkno, Page page)
{
	if (blkno != b->next_put)
		elog(ERROR, "vecdb: bulk page %u written out of order", blkno);
	memcpy(b->pages[b->pending], page, BLCKSZ);
	b->blknos[b->pending++] = blkno;
	b->next_put = blkno + 1;
	if (b->pending == VECDB_BULK_BATCH)
		Flush(b);
}

// VecdbBulkPagesEnd writes what is pending and syncs the file when its pages
// were WAL-logged (a relation that skips WAL is synced at commit, or is
// unlogged); every page taken must have been put.
void
VecdbBulkPagesEnd(VecdbBulkPages *b)
{
	Flush(b);
	if (b->next_put != b->next)
		elog(ERROR, "vecdb: bulk pages %u..%u were taken but not written", b->next_put, b->next - 1);
	if (b->use_wal)
		smgrimmedsync(RelationGetSmgr(b->index), MAIN_FORKNUM);
	pfree(b->space);
	b->space = NULL;
}
