// time_travel.cpp holds vecdb_time_travel_check, the condition that the as-of
// functions of a table with time travel carry (docs/time-travel.md): true, or
// error 72000 when the table's history before the moment is not kept. It runs
// once per searched relation in every as-of search, so it reads the table's
// row of vecdb_time_travel through its primary key instead of through SPI,
// and keeps where that table is (its oid and column numbers) until a
// relcache invalidation names it (DROP or ALTER of the table) or all
// relations.
#include "vecdb_postgres.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

// ExtensionSchema returns the schema of extension name, or InvalidOid when it
// is not installed (PostgreSQL 15 does not export get_extension_schema).
static Oid
ExtensionSchema(const char *name)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	Oid			schema = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum(name));
	SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	HeapTuple	row = systable_getnext(scan);

	if (HeapTupleIsValid(row))
		schema = ((Form_pg_extension) GETSTRUCT(row))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return schema;
}

// TimeTravelTable returns vecdb_time_travel in the schema of the extension,
// installed as vecdb or as vector, or InvalidOid when neither is installed.
static Oid
TimeTravelTable()
{
	Oid			schema = ExtensionSchema("vecdb");

	if (!OidIsValid(schema))
		schema = ExtensionSchema("vector");
	if (!OidIsValid(schema))
		return InvalidOid;
	return get_relname_relid("vecdb_time_travel", schema);
}

// ColumnOf returns the attribute number of column name of relid, or raises an
// internal error when the extension's table lacks it.
static AttrNumber
ColumnOf(Oid relid, const char *name)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "vecdb_time_travel has no column \"%s\"", name);
	return attnum;
}

// QualifiedName returns relid's name with its schema, quoted as needed.
static const char *
QualifiedName(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		return psprintf("%u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

static const char *
TimestampText(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

// CatalogPlace is where vecdb_time_travel is, as the check last looked it up
// (catalog InvalidOid: look again).
struct CatalogPlace
{
	Oid			catalog;
	AttrNumber	tbl_col;
	AttrNumber	horizon_col;
	AttrNumber	enabled_col;
};

static CatalogPlace cached_place;
static bool place_callback_registered = false;

// ForgetPlace is the relcache callback: an invalidation of the catalog table
// or of every relation makes the next check look the table up again.
static void
ForgetPlace(Datum, Oid relid)
{
	if (!OidIsValid(relid) || relid == cached_place.catalog)
		cached_place.catalog = InvalidOid;
}

// Place returns where vecdb_time_travel is (catalog InvalidOid when neither
// extension is installed), looking it up only after an invalidation. The
// lookup reads pg_extension, which has no syscache, and cost as much as the
// rest of the check.
static CatalogPlace
Place()
{
	if (!place_callback_registered)
	{
		CacheRegisterRelcacheCallback(ForgetPlace, (Datum) 0);
		place_callback_registered = true;
	}
	if (OidIsValid(cached_place.catalog))
		return cached_place;

	CatalogPlace place;

	place.catalog = TimeTravelTable();
	if (!OidIsValid(place.catalog))
		return place;
	place.tbl_col = ColumnOf(place.catalog, "tbl");
	place.horizon_col = ColumnOf(place.catalog, "horizon");
	place.enabled_col = ColumnOf(place.catalog, "enabled_at");
	cached_place = place;
	return place;
}

VECDB_FUNCTION(vecdb_time_travel_check)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);

	Oid			tbl = PG_GETARG_OID(0);
	TimestampTz moment = PG_GETARG_TIMESTAMPTZ(1);
	CatalogPlace place = Place();

	if (!OidIsValid(place.catalog))
		PG_RETURN_BOOL(true);

	AttrNumber	tbl_col = place.tbl_col;
	AttrNumber	horizon_col = place.horizon_col;
	AttrNumber	enabled_col = place.enabled_col;
	Relation	rel = table_open(place.catalog, AccessShareLock);
	Oid			pkey = RelationGetPrimaryKeyIndex(rel);
	Snapshot	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	ScanKeyData key;

	ScanKeyInit(&key, tbl_col, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(tbl));
	SysScanDesc scan = systable_beginscan(rel, pkey, OidIsValid(pkey), snapshot, 1, &key);
	HeapTuple	row = systable_getnext(scan);
	bool		horizon_null = true;
	bool		enabled_null = true;
	TimestampTz horizon = 0;
	TimestampTz enabled_at = 0;

	if (HeapTupleIsValid(row))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		Datum		h = heap_getattr(row, horizon_col, desc, &horizon_null);
		Datum		e = heap_getattr(row, enabled_col, desc, &enabled_null);

		if (!horizon_null)
			horizon = DatumGetTimestampTz(h);
		if (!enabled_null)
			enabled_at = DatumGetTimestampTz(e);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!horizon_null && moment < horizon)
	{
		bool		started = !enabled_null && horizon == enabled_at;

		ereport(ERROR,
				(errcode(ERRCODE_SNAPSHOT_TOO_OLD),
				 errmsg("history of table %s before %s is not kept", QualifiedName(tbl), TimestampText(horizon)),
				 started ? errdetail("Time travel on this table started then.")
				 : errdetail("Versions that ended before then were removed by the retention."),
				 errhint("Search as of a later moment.")));
	}
	PG_RETURN_BOOL(true);
}
