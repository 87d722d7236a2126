// explain_device.cpp makes EXPLAIN ANALYZE (text format) say which vecdb
// index scans of the statement the GPU worker served: one line per such
// index after the plan, e.g.
//   vecdb: items_flat: the gpu worker (cpu stand-in) ran 1 of 1 segment searches (1 scan)
// with the searches that finished on the CPU and why. An index access method
// cannot add lines to its plan node, so the lines follow the plan; other
// formats (JSON, XML, YAML) are left unchanged, and scans on the CPU add
// nothing. vecdb_last_scan() has the per-segment detail.
#include "am/am.hpp"

extern "C" {
#include "commands/explain.h"
#include "executor/instrument.h"
#include "portability/instr_time.h"
#include "tcop/tcopprot.h"
}

static ExplainOneQuery_hook_type prev_explain_hook = NULL;

// PlanAndExplain plans query and runs ExplainOnePlan, as EXPLAIN does
// without a hook (planning time and buffers included).
static void
PlanAndExplain(Query *query, int cursorOptions, IntoClause *into, ExplainState *es, const char *queryString,
			   ParamListInfo params, QueryEnvironment *queryEnv)
{
	instr_time	started;
	instr_time	planning;
	BufferUsage before;
	BufferUsage used;
	PlannedStmt *plan;

	if (es->buffers)
		before = pgBufferUsage;
	INSTR_TIME_SET_CURRENT(started);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planning);
	INSTR_TIME_SUBTRACT(planning, started);
	if (es->buffers)
	{
		memset(&used, 0, sizeof(used));
		BufferUsageAccumDiff(&used, &pgBufferUsage, &before);
	}
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv, &planning, es->buffers ? &used : NULL);
}

// ExplainWithDevices is the ExplainOneQuery hook: it collects the device of
// each vecdb scan while an EXPLAIN ANALYZE in text format runs the query,
// then appends the lines.
static void
ExplainWithDevices(Query *query, int cursorOptions, IntoClause *into, ExplainState *es, const char *queryString,
				   ParamListInfo params, QueryEnvironment *queryEnv)
{
	bool		collect = es->analyze && es->format == EXPLAIN_FORMAT_TEXT;

	if (collect)
		VecdbExplainDevicesBegin();
	PG_TRY();
	{
		if (prev_explain_hook)
			prev_explain_hook(query, cursorOptions, into, es, queryString, params, queryEnv);
		else
			PlanAndExplain(query, cursorOptions, into, es, queryString, params, queryEnv);
	}
	PG_CATCH();
	{
		if (collect)
			VecdbExplainDevicesEnd(NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (collect)
		VecdbExplainDevicesEnd(es->str);
}

// VecdbInstallExplainHook chains the hook (from _PG_init).
void
VecdbInstallExplainHook(void)
{
	prev_explain_hook = ExplainOneQuery_hook;
	ExplainOneQuery_hook = ExplainWithDevices;
}
