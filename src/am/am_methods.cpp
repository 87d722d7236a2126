// am_methods.cpp describes the five access methods in one table: name,
// reloptions (defaults, ranges, checks run when an option is set), the
// engine kind of a segment per element type, the settings a search reads
// and the shape of its cost. Every other file asks this table instead of
// switching on the access method; adding one is one entry here, plus its
// handler function and its SQL.
#include "am/am.hpp"

extern "C" {
#include "access/reloptions.h"
#include "utils/rel.h"
}

#define OPTION(field, desc, def, lo, hi)                                                                       \
	{                                                                                                          \
		#field, desc, def, lo, hi, offsetof(VecdbOptions, field), offsetof(VecdbBuildParams, field)           \
	}

static bytea *ParseOptions(Datum reloptions, bool validate, VecdbAmKind kind);

// AmOptions<kind> is a method's amoptions callback; its address also tells
// which method an index belongs to (VecdbAmMethodOfIndex).
template <VecdbAmKind kind>
static bytea *
AmOptions(Datum reloptions, bool validate)
{
	return ParseOptions(reloptions, validate, kind);
}

static const char kLists[] = "Number of inverted lists";
static const char kRerank[] = "Candidates re-ranked exactly, as a multiple of the LIMIT";

// methods is indexed by VecdbAmKind (entry 0 unused).
static const VecdbAmMethod methods[] = {
	{},
	{VECDB_AM_HNSW, "hnsw", AmOptions<VECDB_AM_HNSW>, 4,
		{OPTION(m, "Maximum number of connections per node", 16, 2, 100),
		 OPTION(ef_construction, "Size of the dynamic candidate list for construction", 64, 4, 1000),
		 OPTION(sq_bits, "Bits per dimension of the codes kept in memory: 0 (full vectors), 4 or 8", 0, 0, 8),
		 OPTION(repair_reach, "1: after building, link every row a search for its own vector misses; 0: do not; -1: 1 up to 256 dimensions", -1, -1, 1)},
		VECDB_ENGINE_HNSW, VECDB_ENGINE_BIN_FLAT, VECDB_AM_SEARCH_GRAPH, 1.0, NULL, NULL,
		&vecdb_hnsw_iterative_scan, &vecdb_hnsw_max_scan_tuples, NULL},
	{VECDB_AM_IVFFLAT, "ivfflat", AmOptions<VECDB_AM_IVFFLAT>, 1,
		{OPTION(lists, kLists, 100, 1, 32768)},
		VECDB_ENGINE_IVF_FLAT, VECDB_ENGINE_BIN_IVF, VECDB_AM_SEARCH_LISTS, 1.0, &vecdb_ivfflat_probes, NULL,
		&vecdb_ivfflat_iterative_scan, NULL, &vecdb_ivfflat_max_probes},
	{VECDB_AM_IVFPQ, "ivfpq", AmOptions<VECDB_AM_IVFPQ>, 4,
		{OPTION(lists, kLists, 100, 1, 32768),
		 OPTION(m, "Number of PQ sub-quantizers (0: dimensions / 4); must divide the dimensions", 0, 0, 1024),
		 OPTION(nbits, "Bits per PQ sub-quantizer code", 8, 1, 16),
		 OPTION(rerank, kRerank, 10, 0, 100)},
		/* PQ codes are scored by table lookups: a quarter of a distance each */
		VECDB_ENGINE_IVF_PQ, VECDB_ENGINE_BIN_FLAT, VECDB_AM_SEARCH_LISTS, 0.25, &vecdb_ivfpq_probes,
		&vecdb_ivfpq_rerank, NULL, NULL, NULL},
	{VECDB_AM_IVFSQ8, "ivfsq8", AmOptions<VECDB_AM_IVFSQ8>, 2,
		{OPTION(lists, kLists, 100, 1, 32768),
		 OPTION(rerank, kRerank, 4, 0, 100)},
		VECDB_ENGINE_IVF_SQ8, VECDB_ENGINE_BIN_FLAT, VECDB_AM_SEARCH_LISTS, 1.0, &vecdb_ivfsq8_probes,
		&vecdb_ivfsq8_rerank, NULL, NULL, NULL},
	{VECDB_AM_FLAT, "flat", AmOptions<VECDB_AM_FLAT>, 0, {},
		VECDB_ENGINE_FLAT, VECDB_ENGINE_BIN_FLAT, VECDB_AM_SEARCH_EXACT, 1.0, NULL, NULL, NULL, NULL, NULL},
};

// relopt_kinds holds each method's reloption kind, set by VecdbRegisterReloptions.
static relopt_kind relopt_kinds[lengthof(methods)];

// VecdbAmMethodOf returns the description of an access method.
const VecdbAmMethod *
VecdbAmMethodOf(VecdbAmKind kind)
{
	if ((int) kind < 1 || (int) kind >= (int) lengthof(methods))
		elog(ERROR, "unknown vecdb access method %d", (int) kind);
	return &methods[kind];
}

// VecdbAmMethodOfIndex returns the access method of an open vecdb index. A
// relation's routine is a copy, so its options function tells the method.
const VecdbAmMethod *
VecdbAmMethodOfIndex(Relation index)
{
	for (size_t i = 1; i < lengthof(methods); i++)
		if (index->rd_indam->amoptions == methods[i].options)
			return &methods[i];
	elog(ERROR, "index \"%s\" does not belong to a vecdb access method", RelationGetRelationName(index));
	return NULL;
}

// VecdbAmName returns the SQL name of an access method.
const char *
VecdbAmName(VecdbAmKind kind)
{
	return VecdbAmMethodOf(kind)->name;
}

// VecdbAmDefaults sets params to the method's option defaults.
void
VecdbAmDefaults(const VecdbAmMethod *method, VecdbBuildParams *params)
{
	memset(params, 0, sizeof(*params));
	for (int i = 0; i < method->noptions; i++)
		*(int32 *) ((char *) params + method->option[i].param_offset) = method->option[i].default_value;
}

// VecdbAmCheckParams checks what the options' ranges cannot: ef_construction
// against m, and (once dims is known, > 0) that ivfpq's m divides it. name
// is the index's when dims come from its first inserted row.
void
VecdbAmCheckParams(const VecdbAmMethod *method, const VecdbBuildParams *params, int dims, const char *name)
{
	if (method->kind == VECDB_AM_HNSW && params->ef_construction < 2 * params->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m")));
	if (method->kind == VECDB_AM_HNSW && params->sq_bits != 0 && params->sq_bits != 4 && params->sq_bits != 8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sq_bits must be 0, 4 or 8, not %d", params->sq_bits)));
	if (method->float_kind == VECDB_ENGINE_IVF_PQ && params->m > 0 && dims > 0 && dims % params->m != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ivfpq option m must divide the number of dimensions"),
				 name ? errdetail("Index \"%s\" has m = %d; the first row has %d dimensions.", name, params->m, dims)
				 : errdetail("m is %d and the column has %d dimensions.", params->m, dims)));
}

// VecdbRegisterReloptions declares each method's reloptions (from _PG_init).
void
VecdbRegisterReloptions(void)
{
	for (size_t i = 1; i < lengthof(methods); i++)
	{
		relopt_kinds[i] = add_reloption_kind();
		for (int j = 0; j < methods[i].noptions; j++)
		{
			const VecdbAmOption *o = &methods[i].option[j];

			add_int_reloption(relopt_kinds[i], o->name, o->desc, o->default_value, o->min, o->max,
							  AccessExclusiveLock);
		}
	}
}

// ParseOptions parses one method's reloptions; when validating (CREATE
// INDEX, ALTER INDEX SET) it also checks them against each other.
static bytea *
ParseOptions(Datum reloptions, bool validate, VecdbAmKind kind)
{
	const VecdbAmMethod *method = &methods[kind];
	relopt_parse_elt tab[VECDB_AM_MAX_OPTIONS];
	VecdbOptions *parsed;

	for (int i = 0; i < method->noptions; i++)
	{
		tab[i].optname = method->option[i].name;
		tab[i].opttype = RELOPT_TYPE_INT;
		tab[i].offset = (int) method->option[i].option_offset;
	}
	parsed = (VecdbOptions *) build_reloptions(reloptions, validate, relopt_kinds[kind], sizeof(VecdbOptions),
											   method->noptions > 0 ? tab : NULL, method->noptions);
	if (validate && parsed)
	{
		VecdbBuildParams params;

		VecdbAmParamsFromOptions(method, parsed, &params);
		VecdbAmCheckParams(method, &params, 0, NULL);
	}
	return (bytea *) parsed;
}

// VecdbAmParamsFromOptions sets params from parsed reloptions (NULL: none
// given, the defaults).
void
VecdbAmParamsFromOptions(const VecdbAmMethod *method, const VecdbOptions *o, VecdbBuildParams *params)
{
	VecdbAmDefaults(method, params);
	if (o == NULL)
		return;
	for (int i = 0; i < method->noptions; i++)
		*(int32 *) ((char *) params + method->option[i].param_offset) =
			*(const int *) ((const char *) o + method->option[i].option_offset);
}
