// am_cost.cpp tells the planner what a vecdb index scan costs: nothing it
// can do without an ORDER BY distance (so no plan uses it for that), else
// the distance computations of the search as startup cost, which the
// planner weighs against a sequential scan and a sort.
#include <math.h>

#include "am/am.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

// DistanceComputations estimates how many rows a search scores.
static double
DistanceComputations(const VecdbMetaPageData *meta, double tuples)
{
	const VecdbAmMethod *method = VecdbAmMethodOf((VecdbAmKind) meta->am_kind);
	double		work;

	if (meta->elem_type == VECDB_ELEM_SPARSE)
		/* SPARSE_INVERTED: every allowed row is scored once, from the query's lists */
		work = tuples;
	else if (meta->elem_type == VECDB_ELEM_BIT && method->bit_kind == VECDB_ENGINE_BIN_FLAT)
		work = tuples;
	else if (method->search == VECDB_AM_SEARCH_GRAPH)
		/* a beam of ef_search candidates, each expanding up to 2m neighbours, per layer descended */
		work = (double) vecdb_hnsw_ef_search * 2.0 * Max(meta->params.m, 2) *
			Max(1.0, log(Max(tuples, 2.0)) / log(Max(meta->params.m, 2)) / 2.0);
	else if (method->search == VECDB_AM_SEARCH_LISTS)
	{
		int			lists = Max(meta->params.lists, 1);

		work = (lists + tuples * Min((double) *method->probes / lists, 1.0)) * method->score_cost;
	}
	else
		work = tuples;
	return Min(work, tuples) + Max(meta->nsegments, 1) * 10.0;
}

// SearchesNullVectors reports whether the path's conditions include IS NULL
// on the index's vector column.
static bool
SearchesNullVectors(const IndexPath *path)
{
	ListCell   *lc;

	foreach(lc, path->indexclauses)
	{
		IndexClause *ic = (IndexClause *) lfirst(lc);

		if (ic->indexcol == 0 && IsA(ic->rinfo->clause, NullTest) &&
			((NullTest *) ic->rinfo->clause)->nulltesttype == IS_NULL)
			return true;
	}
	return false;
}

// ContainsParam reports whether an expression holds a Param: a value the
// plan does not know (a generic plan of a prepared statement, or a SQL
// function's argument inlined into one).
static bool
ContainsParam(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return true;
	/* through void (*)(void), which -Wcast-function-type allows */
	return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(ContainsParam)),
								  context);
}

// KnownSelectivity returns the selectivity of the path's conditions whose
// values the plan knows; a condition on a parameter counts as 1. For a
// generic plan the planner's default guesses for parameters (a third for an
// inequality, so a ninth for a range) would make the search's work, about
// the inverse of the selectivity, look several times what the custom plans
// of the same shape cost, and PostgreSQL would then plan every execution of
// the prepared statement anew (docs/time-travel.md: 0.3 ms a query).
// all is the selectivity of every condition (returned when none has a
// parameter).
static Selectivity
KnownSelectivity(PlannerInfo *root, const IndexPath *path, Selectivity all)
{
	List	   *known = NIL;
	bool		any_param = false;
	ListCell   *lc;

	foreach(lc, path->indexclauses)
	{
		IndexClause *ic = (IndexClause *) lfirst(lc);

		if (ContainsParam((Node *) ic->rinfo->clause, NULL))
			any_param = true;
		else
			known = lappend(known, ic->rinfo);
	}
	if (!any_param)
		return all;
	if (known == NIL)
		return 1.0;
	return Max(clauselist_selectivity(root, known, path->indexinfo->rel->relid, JOIN_INNER, NULL), all);
}

// vecdbcostestimate estimates the cost of an index scan.
void
vecdbcostestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *indexStartupCost,
				  Cost *indexTotalCost, Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	GenericCosts costs;
	IndexOptInfo *index = path->indexinfo;
	Relation	rel;
	VecdbMetaPageData *meta;
	double		tuples;
	double		per_distance;
	double		work;
	double		sel;
	double		allowed;
	double		filter_cost = 0;
	int			nquals;

	/*
	 * Without ORDER BY distance the index cannot help; with "vector IS NULL"
	 * it cannot answer (NULL vectors are not indexed: a sequential scan
	 * finds them).
	 */
	if (path->indexorderbys == NIL || SearchesNullVectors(path))
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	rel = index_open(index->indexoid, NoLock);
	meta = (VecdbMetaPageData *) palloc(sizeof(VecdbMetaPageData));
	VecdbReadMeta(rel, meta);
	index_close(rel, NoLock);

	tuples = Max(index->tuples, 1.0);
	/*
	 * A distance over d dimensions costs about d / 32 operator evaluations
	 * (SIMD); a sparse row's score is a few postings added, about one.
	 */
	per_distance = meta->elem_type == VECDB_ELEM_SPARSE ? cpu_operator_cost
		: cpu_operator_cost * Max(1.0, (double) meta->dims / 32.0);
	work = DistanceComputations(meta, tuples);

	/*
	 * Conditions on scalar columns are evaluated over every row of every
	 * segment (tight loops: a tenth of an operator each) into a bitset; the
	 * engine then searches the allowed rows exactly when few pass, else
	 * searches on until enough allowed rows are found: about the inverse of
	 * the selectivity more work. The work counts only the conditions whose
	 * values the plan knows (KnownSelectivity); the row estimate counts all.
	 */
	nquals = list_length(path->indexclauses);
	sel = nquals > 0 ? costs.indexSelectivity : 1.0;
	allowed = Max(sel * tuples, 1.0);
	if (nquals > 0)
	{
		double		work_sel = KnownSelectivity(root, path, sel);
		const int  *probes_setting = VecdbAmMethodOf((VecdbAmKind) meta->am_kind)->probes;
		int			probes = probes_setting ? *probes_setting : 1;
		double		ratio = vecdb_brute_force_ratio >= 0 ? vecdb_brute_force_ratio : VecdbEngineDefaultBruteForceRatio(
			(int) VecdbSegmentKind(meta, (uint64) tuples), Max(meta->params.lists, 1), probes, vecdb_hnsw_ef_search,
			(uint64) tuples, meta->dims, (int) meta->metric);

		filter_cost = tuples * nquals * cpu_operator_cost * 0.1;
		if (work_sel < ratio || meta->elem_type == VECDB_ELEM_SPARSE)
			work = Max(work_sel * tuples, 1.0);
		else
			work = Min(work / Max(work_sel, 0.01), tuples);
	}

	*indexStartupCost = work * per_distance + filter_cost + costs.indexStartupCost;
	*indexTotalCost = *indexStartupCost + allowed * cpu_index_tuple_cost;
	*indexSelectivity = sel;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
	pfree(meta);
}
