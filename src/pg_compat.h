// pg_compat.h hides the PostgreSQL server APIs that changed after 15 behind
// PG_VERSION_NUM guards, so one source tree builds against 15, 16 and 17.
//
// vecdb_postgres.h includes it (inside its extern "C" block, after
// postgres.h); code never tests PG_VERSION_NUM itself, it uses the names
// below. 15 is built and tested; 16 and 17 were reviewed against their
// release notes and headers but are not built here (no server headers of
// those versions on Debian 12). A macro that names a catalog or ACL symbol
// expands to it at the call site, which includes the header that declares it.
#pragma once

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 180000
#error "vecdb supports PostgreSQL 15, 16 and 17"
#endif

// 16 moved the varlena macros (VARSIZE, VARDATA, SET_VARSIZE, ...) out of
// postgres.h into varatt.h.
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

// A relation's physical file: RelFileNode {spcNode, dbNode, relNode} in 15,
// RelFileLocator {spcOid, dbOid, relNumber} from 16 (relcache rd_node became
// rd_locator, SMgrRelationData's smgr_rnode.node became smgr_rlocator.locator).
//   VecdbRelFile                  the struct, usable as a hash key (no padding)
//   VECDB_RELATION_FILE(rel)      a Relation's, as an lvalue
//   VECDB_SMGR_FILE(smgr)         an SMgrRelation's, as an lvalue
//   VECDB_REL_FILE_DB(file)       its database's OID
//   VECDB_REL_FILE_NUMBER(file)   its file number (an OID in both)
#if PG_VERSION_NUM >= 160000
#include "storage/relfilelocator.h"
typedef RelFileLocator VecdbRelFile;
#define VECDB_RELATION_FILE(rel) ((rel)->rd_locator)
#define VECDB_SMGR_FILE(smgr) ((smgr)->smgr_rlocator.locator)
#define VECDB_REL_FILE_DB(file) ((file).dbOid)
#define VECDB_REL_FILE_NUMBER(file) ((file).relNumber)
#else
#include "storage/relfilenode.h"
typedef RelFileNode VecdbRelFile;
#define VECDB_RELATION_FILE(rel) ((rel)->rd_node)
#define VECDB_SMGR_FILE(smgr) ((smgr)->smgr_rnode.node)
#define VECDB_REL_FILE_DB(file) ((file).dbNode)
#define VECDB_REL_FILE_NUMBER(file) ((file).relNode)
#endif

// VECDB_RELATION_OWNERCHECK(relid, role) is true when role owns the relation:
// 16 replaced the per-catalog pg_*_ownercheck functions with object_ownercheck
// (needs utils/acl.h and catalog/pg_class.h at the call site).
#if PG_VERSION_NUM >= 160000
#define VECDB_RELATION_OWNERCHECK(relid, role) object_ownercheck(RelationRelationId, (relid), (role))
#else
#define VECDB_RELATION_OWNERCHECK(relid, role) pg_class_ownercheck((relid), (role))
#endif

// 16 folded the per-catalog ACL checks into object_aclcheck.
//   VECDB_FOREIGN_SERVER_ACLCHECK(server, role, mode)   an AclResult
#if PG_VERSION_NUM >= 160000
#define VECDB_FOREIGN_SERVER_ACLCHECK(server, role, mode)                      \
	object_aclcheck(ForeignServerRelationId, (server), (role), (mode))
#else
#define VECDB_FOREIGN_SERVER_ACLCHECK(server, role, mode) pg_foreign_server_aclcheck((server), (role), (mode))
#endif

// VECDB_AM_ROUTINE_LATER_FIELDS(routine) sets the IndexAmRoutine fields added
// after 15 (makeNode zeroes them; vecdb states its answers): amsummarizing
// (16: vecdb indexes every row version), amcanbuildparallel and
// aminsertcleanup (17: one build process, no per-statement insert state).
#if PG_VERSION_NUM >= 170000
#define VECDB_AM_ROUTINE_LATER_FIELDS(routine)                                 \
	((routine)->amsummarizing = false, (routine)->amcanbuildparallel = false,  \
	 (routine)->aminsertcleanup = NULL)
#elif PG_VERSION_NUM >= 160000
#define VECDB_AM_ROUTINE_LATER_FIELDS(routine) ((routine)->amsummarizing = false)
#else
#define VECDB_AM_ROUTINE_LATER_FIELDS(routine) ((void) (routine))
#endif

// 17 gives a WaitEventSet a resource owner instead of a memory context.
//   VECDB_CREATE_WAIT_EVENT_SET(n)   a set for n events, freed by FreeWaitEventSet
#if PG_VERSION_NUM >= 170000
#define VECDB_CREATE_WAIT_EVENT_SET(n) CreateWaitEventSet(CurrentResourceOwner, (n))
#else
#define VECDB_CREATE_WAIT_EVENT_SET(n) CreateWaitEventSet(CurrentMemoryContext, (n))
#endif
