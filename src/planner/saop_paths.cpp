// saop_paths.cpp lets `col = ANY(array)` conditions on a vecdb index's scalar
// columns become index conditions of an ORDER BY distance scan.
//
// PostgreSQL 15's planner drops ScalarArrayOp clauses on any index column
// but the first from ordered index paths (they would break a btree's order),
// and a vecdb index's scalar columns always come after its vector column. A
// vecdb scan's order does not depend on its conditions, so a
// set_rel_pathlist_hook adds, beside each ordered vecdb index path, a copy
// that also carries those clauses; add_path keeps it when it is cheaper.
#include "am/am.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "utils/lsyscache.h"
}

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

// IndexColumnOf returns the index column (zero-based) that expr is, or -1.
static int
IndexColumnOf(IndexOptInfo *index, RelOptInfo *rel, Node *expr)
{
	int			c;

	if (expr && IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	if (expr == NULL || !IsA(expr, Var) || ((Var *) expr)->varno != (int) rel->relid ||
		((Var *) expr)->varlevelsup != 0)
		return -1;
	for (c = 1; c < index->nkeycolumns; c++)
		if (index->indexkeys[c] == ((Var *) expr)->varattno)
			return c;
	return -1;
}

// CompareIndexCol orders IndexClauses by index column, as index paths want them.
static int
CompareIndexCol(const ListCell *a, const ListCell *b)
{
	return ((IndexClause *) lfirst(a))->indexcol - ((IndexClause *) lfirst(b))->indexcol;
}

// SaopClauses returns IndexClauses for the `scalar column = ANY(array)`
// restrictions of rel that path does not use yet.
static List *
SaopClauses(RelOptInfo *rel, IndexPath *path)
{
	IndexOptInfo *index = path->indexinfo;
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		ScalarArrayOpExpr *saop;
		IndexClause *ic;
		ListCell   *lc2;
		bool		used = false;
		int			col;

		if (!IsA(rinfo->clause, ScalarArrayOpExpr) || rinfo->pseudoconstant ||
			!restriction_is_securely_promotable(rinfo, rel))
			continue;
		saop = (ScalarArrayOpExpr *) rinfo->clause;
		if (!saop->useOr || list_length(saop->args) != 2)
			continue;
		col = IndexColumnOf(index, rel, (Node *) linitial(saop->args));
		if (col < 1 || contain_var_clause((Node *) lsecond(saop->args)) ||
			contain_volatile_functions((Node *) lsecond(saop->args)) ||
			!op_in_opfamily(saop->opno, index->opfamily[col]))
			continue;
		foreach(lc2, path->indexclauses)
			if (((IndexClause *) lfirst(lc2))->rinfo == rinfo)
				used = true;
		if (used)
			continue;
		ic = makeNode(IndexClause);
		ic->rinfo = rinfo;
		ic->indexquals = list_make1(rinfo);
		ic->lossy = false;
		ic->indexcol = (AttrNumber) col;
		ic->indexcols = NIL;
		out = lappend(out, ic);
	}
	return out;
}

// VecdbSetRelPathlist adds the = ANY variants of ordered vecdb index paths.
static void
VecdbSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	List	   *added = NIL;
	ListCell   *lc;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);
	if (rel->reloptkind != RELOPT_BASEREL || rte->rtekind != RTE_RELATION)
		return;
	foreach(lc, rel->pathlist)
	{
		IndexPath  *path = (IndexPath *) lfirst(lc);
		List	   *extra;
		List	   *clauses;

		if (!IsA(path, IndexPath) || path->indexorderbys == NIL ||
			path->indexinfo->amcostestimate != (void (*)(void)) vecdbcostestimate)
			continue;
		extra = SaopClauses(rel, path);
		if (extra == NIL)
			continue;
		clauses = list_concat_copy(path->indexclauses, extra);
		list_sort(clauses, CompareIndexCol);
		added = lappend(added, create_index_path(root, path->indexinfo, clauses, path->indexorderbys,
												 path->indexorderbycols, path->path.pathkeys, path->indexscandir,
												 false, PATH_REQ_OUTER(&path->path), 1.0, false));
	}
	foreach(lc, added)
		add_path(rel, (Path *) lfirst(lc));
}

// VecdbInstallPlannerHooks chains vecdb's planner hook (from _PG_init).
void
VecdbInstallPlannerHooks(void)
{
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = VecdbSetRelPathlist;
}
