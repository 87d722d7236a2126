// shard_filter.cpp turns vecdb_sharded_search's filter text into SQL a shard
// can run. The text is never sent as given: it is parsed as the WHERE clause
// of a SELECT on the searched table (so its names resolve, and its privileges
// are checked, as in a query here), then deparsed from the parse tree with
// search_path pg_catalog, which qualifies every other name. Like postgres_fdw,
// a shard is only asked to evaluate immutable functions that belong to
// PostgreSQL or to an extension; stable functions of constants are evaluated
// here first, as the planner's estimate does.
#include "shard/shard_filter.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_clause.h"
#include "parser/parse_collate.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
}

struct CheckContext
{
	ShardFilter *out;
};

// CheckFunction notes funcid when a shard may not run it (returns false, as
// check_functions_in_node's callback, so the walk goes on).
static bool
CheckFunction(Oid funcid, void *arg)
{
	ShardFilter *out = ((CheckContext *) arg)->out;

	if (out->unshippable != NULL)
		return false;
	if (func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
	{
		out->unshippable = psprintf("function %s, which is not immutable", format_procedure(funcid));
		return false;
	}
	if (funcid < FirstGenbkiObjectId)
		return false;
	Oid			extension = getExtensionOfObject(ProcedureRelationId, funcid);

	if (!OidIsValid(extension))
		out->unshippable = psprintf("function %s, which belongs to no extension", format_procedure(funcid));
	else
		out->extensions = list_append_unique_oid(out->extensions, extension);
	return false;
}

static bool
CheckNode(Node *node, void *arg)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		if (((CheckContext *) arg)->out->unshippable == NULL)
			((CheckContext *) arg)->out->unshippable = "a subquery";
		return false;
	}
	(void) check_functions_in_node(node, CheckFunction, arg);
	/* through void (*)(void), which -Wcast-function-type allows */
	return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(CheckNode)), arg);
}

// FoldStable evaluates the stable functions of constants in qual (the
// planner's estimate_expression_value, with no parameters bound).
static Node *
FoldStable(Node *qual)
{
	PlannerGlobal *glob = makeNode(PlannerGlobal);
	PlannerInfo *root = makeNode(PlannerInfo);

	root->glob = glob;
	return estimate_expression_value(root, qual);
}

void
ShardFilterPrepare(Oid relid, const char *filter, ShardFilter *out)
{
	// parsed as PL/pgSQL parses an expression: error positions count from the filter's start
	List	   *raw = raw_parser(filter, RAW_PARSE_PLPGSQL_EXPR);
	SelectStmt *select = NULL;

	if (list_length(raw) == 1 && IsA(((RawStmt *) linitial(raw))->stmt, SelectStmt))
		select = (SelectStmt *) ((RawStmt *) linitial(raw))->stmt;
	if (select == NULL || select->op != SETOP_NONE || list_length(select->targetList) != 1 ||
		((ResTarget *) linitial(select->targetList))->name != NULL || select->fromClause != NIL ||
		select->whereClause != NULL || select->groupClause != NIL || select->havingClause != NULL ||
		select->windowClause != NIL || select->sortClause != NIL || select->limitCount != NULL ||
		select->limitOffset != NULL || select->lockingClause != NIL || select->withClause != NULL ||
		select->distinctClause != NIL || select->intoClause != NULL || select->valuesLists != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("filter must be one condition on the table's columns"),
				 errdetail("The filter was: %s", filter)));
	Node	   *condition = ((ResTarget *) linitial(select->targetList))->val;

	Relation	rel = table_open(relid, AccessShareLock);
	ParseState *pstate = make_parsestate(NULL);

	pstate->p_sourcetext = filter;
	ParseNamespaceItem *item = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);

	addNSItemToQuery(pstate, item, false, true, true);
	Node	   *qual = transformWhereClause(pstate, condition, EXPR_KIND_WHERE, "WHERE");

	assign_expr_collations(pstate, qual);
	qual = FoldStable(qual);
	fix_opfuncids(qual);

	out->unshippable = NULL;
	out->extensions = NIL;
	CheckContext context = {out};

	(void) CheckNode(qual, &context);

	// deparse with only pg_catalog in the path (every other name comes out
	// qualified) and postgres_fdw's settings for constants
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
							 false);
	// constants written as every shard reads them (the shards' sessions use these too)
	(void) set_config_option("datestyle", "ISO", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
							 false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
							 false);
	out->sql = deparse_expression(qual, deparse_context_for(RelationGetRelationName(rel), relid), false, false);
	AtEOXact_GUC(true, nest);
	free_parsestate(pstate);
	table_close(rel, NoLock);
}
