// am_handler.cpp defines the five access methods (hnsw, ivfflat, ivfpq,
// ivfsq8, flat): their handlers, reloptions, operator-class support functions
// and validation. They share every callback; an index's kind, metric and
// element type come from its AM and its operator class.
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

static relopt_kind hnsw_relopt_kind;
static relopt_kind ivfflat_relopt_kind;
static relopt_kind ivfpq_relopt_kind;
static relopt_kind ivfsq8_relopt_kind;
static relopt_kind flat_relopt_kind;

// VecdbRegisterReloptions declares each AM's reloptions (from _PG_init).
void
VecdbRegisterReloptions(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m", "Maximum number of connections per node", 16, 2, 100,
					  AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction", "Size of the dynamic candidate list for construction",
					  64, 4, 1000, AccessExclusiveLock);

	ivfflat_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfflat_relopt_kind, "lists", "Number of inverted lists", 100, 1, 32768,
					  AccessExclusiveLock);

	ivfpq_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfpq_relopt_kind, "lists", "Number of inverted lists", 100, 1, 32768, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "m", "Number of PQ sub-quantizers (0: dimensions / 4); must divide the dimensions",
					  0, 0, 1024, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "nbits", "Bits per PQ sub-quantizer code", 8, 1, 16, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "rerank", "Candidates re-ranked exactly, as a multiple of the LIMIT", 10, 0,
					  100, AccessExclusiveLock);

	ivfsq8_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfsq8_relopt_kind, "lists", "Number of inverted lists", 100, 1, 32768, AccessExclusiveLock);
	add_int_reloption(ivfsq8_relopt_kind, "rerank", "Candidates re-ranked exactly, as a multiple of the LIMIT", 4, 0,
					  100, AccessExclusiveLock);

	flat_relopt_kind = add_reloption_kind();
}

// ParseOptions parses reloptions for one AM's table of options.
static bytea *
ParseOptions(Datum reloptions, bool validate, relopt_kind kind)
{
	static const relopt_parse_elt hnsw_tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(VecdbOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(VecdbOptions, ef_construction)},
	};
	static const relopt_parse_elt ivfflat_tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(VecdbOptions, lists)},
	};
	static const relopt_parse_elt ivfpq_tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(VecdbOptions, lists)},
		{"m", RELOPT_TYPE_INT, offsetof(VecdbOptions, m)},
		{"nbits", RELOPT_TYPE_INT, offsetof(VecdbOptions, nbits)},
		{"rerank", RELOPT_TYPE_INT, offsetof(VecdbOptions, rerank)},
	};
	static const relopt_parse_elt ivfsq8_tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(VecdbOptions, lists)},
		{"rerank", RELOPT_TYPE_INT, offsetof(VecdbOptions, rerank)},
	};

	if (kind == hnsw_relopt_kind)
		return (bytea *) build_reloptions(reloptions, validate, kind, sizeof(VecdbOptions), hnsw_tab,
										  lengthof(hnsw_tab));
	if (kind == ivfflat_relopt_kind)
		return (bytea *) build_reloptions(reloptions, validate, kind, sizeof(VecdbOptions), ivfflat_tab,
										  lengthof(ivfflat_tab));
	if (kind == ivfpq_relopt_kind)
		return (bytea *) build_reloptions(reloptions, validate, kind, sizeof(VecdbOptions), ivfpq_tab,
										  lengthof(ivfpq_tab));
	if (kind == ivfsq8_relopt_kind)
		return (bytea *) build_reloptions(reloptions, validate, kind, sizeof(VecdbOptions), ivfsq8_tab,
										  lengthof(ivfsq8_tab));
	return (bytea *) build_reloptions(reloptions, validate, kind, sizeof(VecdbOptions), NULL, 0);
}

// hnswoptions .. flatoptions parse each AM's reloptions; their addresses also
// tell the shared callbacks which AM an index belongs to.
static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	return ParseOptions(reloptions, validate, hnsw_relopt_kind);
}

static bytea *
ivfflatoptions(Datum reloptions, bool validate)
{
	return ParseOptions(reloptions, validate, ivfflat_relopt_kind);
}

static bytea *
ivfpqoptions(Datum reloptions, bool validate)
{
	return ParseOptions(reloptions, validate, ivfpq_relopt_kind);
}

static bytea *
ivfsq8options(Datum reloptions, bool validate)
{
	return ParseOptions(reloptions, validate, ivfsq8_relopt_kind);
}

static bytea *
flatoptions(Datum reloptions, bool validate)
{
	return ParseOptions(reloptions, validate, flat_relopt_kind);
}

// VecdbAmName returns the SQL name of an access method.
const char *
VecdbAmName(VecdbAmKind kind)
{
	switch (kind)
	{
		case VECDB_AM_HNSW:
			return "hnsw";
		case VECDB_AM_IVFFLAT:
			return "ivfflat";
		case VECDB_AM_IVFPQ:
			return "ivfpq";
		case VECDB_AM_IVFSQ8:
			return "ivfsq8";
		case VECDB_AM_FLAT:
			return "flat";
	}
	return "unknown";
}

// VecdbDescribeIndex reads an index's AM, metric, element type, typmod and
// build parameters from the catalogs and its reloptions.
void
VecdbDescribeIndex(Relation index, VecdbIndexDesc *desc)
{
	amoptions_function opt = index->rd_indam->amoptions;
	VecdbOptions *o = (VecdbOptions *) index->rd_options;
	FmgrInfo   *support;
	int32		code;
	int32		typmod;

	memset(desc, 0, sizeof(*desc));
	if (opt == hnswoptions)
		desc->am_kind = VECDB_AM_HNSW;
	else if (opt == ivfflatoptions)
		desc->am_kind = VECDB_AM_IVFFLAT;
	else if (opt == ivfpqoptions)
		desc->am_kind = VECDB_AM_IVFPQ;
	else if (opt == ivfsq8options)
		desc->am_kind = VECDB_AM_IVFSQ8;
	else
		desc->am_kind = VECDB_AM_FLAT;

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

	desc->params.m = o ? o->m : 0;
	desc->params.ef_construction = o ? o->ef_construction : 0;
	desc->params.lists = o ? o->lists : 0;
	desc->params.nbits = o ? o->nbits : 0;
	desc->params.rerank = o ? o->rerank : 0;
	switch (desc->am_kind)
	{
		case VECDB_AM_HNSW:
			if (!o)
			{
				desc->params.m = 16;
				desc->params.ef_construction = 64;
			}
			if (desc->params.ef_construction < 2 * desc->params.m)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("ef_construction must be greater than or equal to 2 * m")));
			break;
		case VECDB_AM_IVFFLAT:
			if (!o)
				desc->params.lists = 100;
			break;
		case VECDB_AM_IVFPQ:
			if (!o)
			{
				desc->params.lists = 100;
				desc->params.nbits = 8;
				desc->params.rerank = 10;
			}
			break;
		case VECDB_AM_IVFSQ8:
			if (!o)
			{
				desc->params.lists = 100;
				desc->params.rerank = 4;
			}
			break;
		case VECDB_AM_FLAT:
			break;
	}
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
	PG_RETURN_POINTER(MakeRoutine(hnswoptions));
}

// ivfflathandler returns the routine of the ivfflat access method.
VECDB_FUNCTION(ivfflathandler)
{
	PG_RETURN_POINTER(MakeRoutine(ivfflatoptions));
}

// ivfpqhandler returns the routine of the ivfpq access method.
VECDB_FUNCTION(ivfpqhandler)
{
	PG_RETURN_POINTER(MakeRoutine(ivfpqoptions));
}

// ivfsq8handler returns the routine of the ivfsq8 access method.
VECDB_FUNCTION(ivfsq8handler)
{
	PG_RETURN_POINTER(MakeRoutine(ivfsq8options));
}

// flathandler returns the routine of the flat access method.
VECDB_FUNCTION(flathandler)
{
	PG_RETURN_POINTER(MakeRoutine(flatoptions));
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
