// am_handler.cpp defines the five access methods' handlers (hnsw, ivfflat,
// ivfpq, ivfsq8, flat; described in am_methods.cpp), operator-class support
// functions and validation. They share every callback; an index's kind,
// metric and element type come from its AM and its operator class.
#include "am/am.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "commands/vacuum.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

// VecdbDescribeIndex reads an index's AM, metric, element type, typmod and
// build parameters from the catalogs and its reloptions.
void
VecdbDescribeIndex(Relation index, VecdbIndexDesc *desc)
{
	const VecdbAmMethod *method = VecdbAmMethodOfIndex(index);
	FmgrInfo   *support;
	int32		code;
	int32		typmod;

	memset(desc, 0, sizeof(*desc));
	desc->am_kind = method->kind;

	support = index_getprocinfo(index, 1, 1);
	code = DatumGetInt32(FunctionCall1(support, PointerGetDatum(NULL)));
	desc->metric = (VecdbMetric) (code & 0xFF);
	desc->elem_type = (VecdbElemType) (code >> 8);
	if (desc->elem_type == VECDB_ELEM_SCALAR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("the first column of a vecdb index must be a vector column"),
				 errhint("Put the vector column first, then the scalar columns to filter on.")));
	desc->nscalars = RelationGetDescr(index)->natts - 1;
	for (int i = 0; i < desc->nscalars; i++)
	{
		FmgrInfo   *s = index_getprocinfo(index, i + 2, 1);

		if ((DatumGetInt32(FunctionCall1(s, PointerGetDatum(NULL))) >> 8) != VECDB_ELEM_SCALAR)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("only the first column of a vecdb index can be a vector column"),
					 errdetail("Column %d of index \"%s\" is a vector column too.", i + 2,
							   RelationGetRelationName(index))));
		desc->scalar_types[i] = TupleDescAttr(RelationGetDescr(index), i + 1)->atttypid;
	}

	typmod = TupleDescAttr(index->rd_att, 0)->atttypmod;
	desc->typmod_dims = typmod > 0 ? typmod : 0;

	/* checked against each other when they were set (am_methods.cpp) */
	VecdbAmParamsFromOptions(method, (const VecdbOptions *) index->rd_options, &desc->params);
}

// VecdbValidate checks an operator class of a vecdb AM: ORDER BY operators
// at strategy 1 and the support function 1 that names the metric.
static bool
VecdbValidate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		has_support = false;
	int			i;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(classform->opcfamily));
	for (i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (proc->amprocnum == 1)
			has_support = true;
		else
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator class \"%s\" contains support function %d, which vecdb does not use",
							NameStr(classform->opcname), proc->amprocnum)));
			result = false;
		}
	}
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	for (i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (!((op->amopstrategy == VECDB_STRATEGY_DISTANCE && op->amoppurpose == AMOP_ORDER) ||
			  (op->amopstrategy >= VECDB_STRATEGY_LT && op->amopstrategy <= VECDB_STRATEGY_MAX &&
			   op->amoppurpose == AMOP_SEARCH)))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator class \"%s\" contains operator %u at strategy %d, which vecdb does not use",
							NameStr(classform->opcname), op->amopopr, op->amopstrategy)));
			result = false;
		}
	}
	if (!has_support)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class \"%s\" lacks support function 1", NameStr(classform->opcname))));
		result = false;
	}
	ReleaseCatCacheList(oprlist);
	ReleaseCatCacheList(proclist);
	ReleaseSysCache(classtup);
	return result;
}

// MakeRoutine fills the IndexAmRoutine every vecdb AM shares.
static IndexAmRoutine *
MakeRoutine(amoptions_function options)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 1;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = true;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = true;
	amroutine->amsearchnulls = true;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_NO_PARALLEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = vecdbbuild;
	amroutine->ambuildempty = vecdbbuildempty;
	amroutine->aminsert = vecdbinsert;
	amroutine->ambulkdelete = vecdbbulkdelete;
	amroutine->amvacuumcleanup = vecdbvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = vecdbcostestimate;
	amroutine->amoptions = options;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = vecdbbuildphasename;
	amroutine->amvalidate = VecdbValidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = vecdbbeginscan;
	amroutine->amrescan = vecdbrescan;
	amroutine->amgettuple = vecdbgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = vecdbendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;
	VECDB_AM_ROUTINE_LATER_FIELDS(amroutine);
	return amroutine;
}

// hnswhandler returns the routine of the hnsw access method.
VECDB_FUNCTION(hnswhandler)
{
	PG_RETURN_POINTER(MakeRoutine(VecdbAmMethodOf(VECDB_AM_HNSW)->options));
}

// ivfflathandler returns the routine of the ivfflat access method.
VECDB_FUNCTION(ivfflathandler)
{
	PG_RETURN_POINTER(MakeRoutine(VecdbAmMethodOf(VECDB_AM_IVFFLAT)->options));
}

// ivfpqhandler returns the routine of the ivfpq access method.
VECDB_FUNCTION(ivfpqhandler)
{
	PG_RETURN_POINTER(MakeRoutine(VecdbAmMethodOf(VECDB_AM_IVFPQ)->options));
}

// ivfsq8handler returns the routine of the ivfsq8 access method.
VECDB_FUNCTION(ivfsq8handler)
{
	PG_RETURN_POINTER(MakeRoutine(VecdbAmMethodOf(VECDB_AM_IVFSQ8)->options));
}

// flathandler returns the routine of the flat access method.
VECDB_FUNCTION(flathandler)
{
	PG_RETURN_POINTER(MakeRoutine(VecdbAmMethodOf(VECDB_AM_FLAT)->options));
}

// VECDB_SUPPORT defines an operator class's support function 1, which tells
// the AM the element type and metric: (element type << 8) | metric.
#define VECDB_SUPPORT(name, elem, metric)                                      \
	VECDB_FUNCTION(name)                                                       \
	{                                                                          \
		PG_RETURN_INT32(((elem) << 8) | (metric));                             \
	}

VECDB_SUPPORT(vecdb_support_vector_l2, VECDB_ELEM_VECTOR, VECDB_METRIC_L2)
VECDB_SUPPORT(vecdb_support_vector_ip, VECDB_ELEM_VECTOR, VECDB_METRIC_IP)
VECDB_SUPPORT(vecdb_support_vector_cosine, VECDB_ELEM_VECTOR, VECDB_METRIC_COSINE)
VECDB_SUPPORT(vecdb_support_vector_l1, VECDB_ELEM_VECTOR, VECDB_METRIC_L1)
VECDB_SUPPORT(vecdb_support_halfvec_l2, VECDB_ELEM_HALFVEC, VECDB_METRIC_L2)
VECDB_SUPPORT(vecdb_support_halfvec_ip, VECDB_ELEM_HALFVEC, VECDB_METRIC_IP)
VECDB_SUPPORT(vecdb_support_halfvec_cosine, VECDB_ELEM_HALFVEC, VECDB_METRIC_COSINE)
VECDB_SUPPORT(vecdb_support_halfvec_l1, VECDB_ELEM_HALFVEC, VECDB_METRIC_L1)
VECDB_SUPPORT(vecdb_support_sparsevec_l2, VECDB_ELEM_SPARSEVEC, VECDB_METRIC_L2)
VECDB_SUPPORT(vecdb_support_sparsevec_ip, VECDB_ELEM_SPARSEVEC, VECDB_METRIC_IP)
VECDB_SUPPORT(vecdb_support_sparsevec_cosine, VECDB_ELEM_SPARSEVEC, VECDB_METRIC_COSINE)
VECDB_SUPPORT(vecdb_support_sparsevec_l1, VECDB_ELEM_SPARSEVEC, VECDB_METRIC_L1)
VECDB_SUPPORT(vecdb_support_bit_hamming, VECDB_ELEM_BIT, VECDB_METRIC_HAMMING)
VECDB_SUPPORT(vecdb_support_bit_jaccard, VECDB_ELEM_BIT, VECDB_METRIC_JACCARD)
VECDB_SUPPORT(vecdb_support_scalar, VECDB_ELEM_SCALAR, 0)
