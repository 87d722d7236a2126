-- 60_shared_memory: the shared segment area. With shared_preload_libraries =
-- 'vecdb', every sealed index segment is held once per server in
-- vecdb.shared_memory_size of shared memory and searched there in place.

CREATE FUNCTION vecdb_prewarm(index regclass) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION vecdb_prewarm(regclass) IS 'loads a vecdb index''s segments into the shared area (or, without shared_preload_libraries, this connection''s cache) and returns how many sealed segments it has; needs SELECT on the table';

CREATE FUNCTION vecdb_shared_segments(OUT index oid, OUT database oid, OUT relfilenode oid, OUT segment bigint,
		OUT state text, OUT bytes bigint, OUT pins integer, OUT loads bigint, OUT hits bigint,
		OUT last_use timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_shared_segments() IS 'lists the index segments resident in the shared area (all databases): index and database OIDs, segment, state, bytes, pins, loads, hits and last use; for pg_monitor';
REVOKE ALL ON FUNCTION vecdb_shared_segments() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb_shared_segments() TO pg_monitor;

CREATE FUNCTION vecdb_shared_status(OUT enabled boolean, OUT size bigint, OUT used bigint, OUT segments bigint,
		OUT loads bigint, OUT hits bigint, OUT waits bigint, OUT evictions bigint, OUT overflows bigint,
		OUT max_segments bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_shared_status() IS 'describes the shared segment area: whether it is on, its size and use in bytes, resident segments, loads, hits, waits for another connection''s load, evictions, and overflows (segments that did not fit and were kept privately); for pg_monitor';
REVOKE ALL ON FUNCTION vecdb_shared_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb_shared_status() TO pg_monitor;

CREATE FUNCTION vecdb_check_shared_memory() RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_check_shared_memory() IS 'warns when each connection keeps a private copy of every index (vecdb not in shared_preload_libraries); CREATE EXTENSION runs it';
-- tell the installer, once, when connections will not share index memory
SELECT vecdb_check_shared_memory();

CREATE FUNCTION vecdb_seal_status(OUT enabled boolean, OUT queued integer, OUT requested bigint, OUT sealed bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_seal_status() IS 'describes background sealing (vecdb.seal_growing_rows, vecdb preloaded): whether it runs, indexes queued, seal requests and seals done since the server started';
CREATE FUNCTION vecdb_seal_jobs(OUT database oid, OUT index_oid oid, OUT state text, OUT phase text,
	OUT inputs integer, OUT onto boolean, OUT growing_rows bigint, OUT rows_done bigint, OUT rows_total bigint,
	OUT started timestamptz, OUT pid integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_seal_jobs() IS 'the background seal running now (state running), other compactions running (VACUUM, autovacuum, vecdb_compact: state compacting), each with its progress, then the queued seals (every database); vecdb_seal_progress shows them with names; for pg_monitor';
REVOKE ALL ON FUNCTION vecdb_seal_jobs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb_seal_jobs() TO pg_monitor;
CREATE VIEW vecdb_seal_progress AS
	SELECT j.pid, j.database, d.datname,
		CASE WHEN j.database OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database
			WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
			THEN j.index_oid::pg_catalog.regclass END AS index,
		j.index_oid, j.state, j.phase, j.inputs, j.onto, j.growing_rows, j.rows_done, j.rows_total, j.started
	FROM vecdb_seal_jobs() j LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) j.database;
COMMENT ON VIEW vecdb_seal_progress IS 'seals and merges: the background one running (state running), compactions run by VACUUM, autovacuum or vecdb_compact (state compacting), with their progress (phase: reading rows, adding rows, writing segment, switching directory; inputs: sealed segments merged; onto: rows added to the largest one''s index; rows_done of rows_total added) and the queued ones; index is named when it is in the current database; for pg_monitor';
REVOKE ALL ON vecdb_seal_progress FROM PUBLIC;
GRANT SELECT ON vecdb_seal_progress TO pg_monitor;
