-- vecdb upgrade script from 0.3.0 to 0.4.0 (ALTER EXTENSION vecdb UPDATE).
-- Frozen once released: never edit it; a later change goes into a new
-- vecdb--0.4.0--X.Y.Z.sql (docs/decisions.md, "Versions and upgrade scripts").
\echo Use "ALTER EXTENSION vecdb UPDATE TO '0.4.0'" to load this file. \quit

-- 70_time_travel: search a table as it was at a past moment, on the periods
-- extension's system versioning (docs/time-travel.md). Every function body
-- runs with search_path pg_catalog, pg_temp and reaches this extension's
-- tables through its schema looked up at run time (the extension is
-- relocatable), so no object a user planted can stand in for a built-in.

CREATE TABLE vecdb_time_travel (
	tbl regclass PRIMARY KEY,
	history regclass NOT NULL,
	retention interval,
	horizon timestamptz NOT NULL,
	enabled_at timestamptz NOT NULL,
	added_period boolean NOT NULL
);
COMMENT ON TABLE vecdb_time_travel IS 'tables with time travel on: their history table, retention (NULL: keep all), horizon (searches as of an earlier moment fail), when it was turned on and whether vecdb added the system-time period';
CREATE TABLE vecdb_time_travel_index (
	tbl regclass NOT NULL,
	index_name name NOT NULL,
	twin_name name NOT NULL,
	PRIMARY KEY (tbl, index_name)
);
COMMENT ON TABLE vecdb_time_travel_index IS 'each vecdb index of a time-travel table and its twin on the history table (the same index with the period columns inside)';
SELECT pg_catalog.pg_extension_config_dump('vecdb_time_travel', '');
SELECT pg_catalog.pg_extension_config_dump('vecdb_time_travel_index', '');
GRANT SELECT ON vecdb_time_travel, vecdb_time_travel_index TO PUBLIC;

-- vecdb_time_travel_register writes the two tables above for a caller who
-- may administer tbl (member of its owner's role); only this function, which
-- runs as the extension's owner, writes them. It runs no DDL and evaluates
-- nothing of the caller's; everything the settings later drive (index
-- builds and drops, the purge's DELETE) runs as the caller, within the
-- caller's own privileges, so anyone may call it.
CREATE FUNCTION vecdb_time_travel_register(action text, tbl regclass, history regclass DEFAULT NULL,
	retention interval DEFAULT NULL, horizon timestamptz DEFAULT NULL, added_period boolean DEFAULT NULL,
	index_name name DEFAULT NULL, twin_name name DEFAULT NULL)
	RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	owner oid;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = tbl::oid;
	/* current_user is this function's owner here: the caller is session_user */
	IF owner IS NOT NULL AND NOT pg_has_role(session_user, owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF action = 'enable' THEN
		EXECUTE format('INSERT INTO %I.vecdb_time_travel VALUES ($1, $2, $3, $4, $4, $5)', ext)
			USING tbl, history, retention, horizon, added_period;
	ELSIF action = 'disable' THEN
		EXECUTE format('DELETE FROM %I.vecdb_time_travel_index WHERE tbl = $1', ext) USING tbl::oid;
		EXECUTE format('DELETE FROM %I.vecdb_time_travel WHERE tbl = $1', ext) USING tbl::oid;
	ELSIF action = 'retention' THEN
		EXECUTE format('UPDATE %I.vecdb_time_travel SET retention = $2 WHERE tbl = $1', ext) USING tbl::oid, retention;
	ELSIF action = 'add twin' THEN
		EXECUTE format('INSERT INTO %I.vecdb_time_travel_index VALUES ($1, $2, $3)', ext) USING tbl, index_name, twin_name;
	ELSIF action = 'drop twin' THEN
		EXECUTE format('DELETE FROM %I.vecdb_time_travel_index WHERE tbl = $1 AND index_name = $2', ext)
			USING tbl::oid, index_name;
	ELSE
		RAISE EXCEPTION 'unknown action "%"', action USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;
COMMENT ON FUNCTION vecdb_time_travel_register(text, regclass, regclass, interval, timestamptz, boolean, name, name) IS 'internal: records time travel settings and twin indexes of a table the caller may administer';

-- vecdb_time_travel_expire deletes the versions of tbl's history that ended
-- at or before cutoff and moves the horizon there; returns how many. periods
-- keeps history tables read-only (even for their owner), so this runs as
-- the extension's owner, for a session user who administers tbl and its
-- history table. It takes the history table and its end column from periods'
-- own catalog (never from settings a user wrote), and refuses a history table
-- with triggers, rules or foreign keys pointing at it, so the DELETE runs
-- nothing of the caller's.
CREATE FUNCTION vecdb_time_travel_expire(tbl regclass, cutoff timestamptz)
	RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	hist regclass;
	end_col name;
	n bigint;
BEGIN
	SELECT n2.nspname INTO ext FROM pg_extension e JOIN pg_namespace n2 ON n2.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = tbl::oid), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF cutoff IS NULL OR cutoff > now() THEN
		RAISE EXCEPTION 'cutoff must be a past moment' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT v.history_table_name, p.end_column_name INTO hist, end_col
	FROM periods.system_versioning v JOIN periods.periods p ON p.table_name = v.table_name AND p.period_name = v.period_name
	WHERE v.table_name = tbl;
	IF hist IS NULL THEN
		RAISE EXCEPTION 'table % has no system versioning', tbl USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = hist::oid), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', hist USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = hist::oid)
		OR EXISTS (SELECT FROM pg_rewrite WHERE ev_class = hist::oid)
		OR EXISTS (SELECT FROM pg_constraint WHERE confrelid = hist::oid) THEN
		RAISE EXCEPTION 'history table % has triggers, rules or foreign keys referencing it', hist
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Remove them, or delete old versions as a superuser.';
	END IF;
	EXECUTE format('DELETE FROM %s WHERE %I OPERATOR(pg_catalog.<=) $1', hist, end_col) USING cutoff;
	GET DIAGNOSTICS n = ROW_COUNT;
	EXECUTE format('UPDATE %I.vecdb_time_travel SET horizon = greatest(horizon, $2) WHERE tbl = $1', ext)
		USING tbl::oid, cutoff;
	RETURN n;
END
$$;
COMMENT ON FUNCTION vecdb_time_travel_expire(regclass, timestamptz) IS 'internal: deletes a time-travel table''s history versions that ended at or before a moment and moves its horizon there (history tables are read-only under periods)';

-- vecdb_time_travel_twin creates the twin of vecdb index idx (on tbl) on
-- history: the same access method, key columns, operator classes, options
-- and predicate, with tbl's period columns added as filter columns; it
-- records the pair and returns the twin's name. It runs as the caller (it
-- builds an index, which may evaluate the caller's expressions).
CREATE FUNCTION vecdb_time_travel_twin(tbl regclass, idx regclass, history regclass)
	RETURNS name LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	s name;
	e name;
	i pg_index;
	am name;
	cols text[] := '{}';
	k int;
	col text;
	opc text;
	has_s boolean := false;
	has_e boolean := false;
	opts text[];
	pred text;
	base text;
	twin text;
	n int := 0;
	hist_ns oid;
BEGIN
	SELECT n2.nspname INTO ext FROM pg_extension x JOIN pg_namespace n2 ON n2.oid = x.extnamespace
	WHERE x.extname IN ('vecdb', 'vector');
	SELECT start_column_name, end_column_name INTO s, e FROM periods.periods
	WHERE table_name = tbl AND period_name = 'system_time';
	SELECT * INTO i FROM pg_index WHERE indexrelid = idx::oid;
	SELECT a.amname, c.reloptions INTO am, opts FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = idx::oid;
	FOR k IN 1 .. i.indnkeyatts LOOP
		col := pg_get_indexdef(idx::oid, k, false);
		SELECT format('%I.%I', n2.nspname, o.opcname) INTO opc FROM pg_opclass o
			JOIN pg_namespace n2 ON n2.oid = o.opcnamespace WHERE o.oid = i.indclass[k - 1];
		IF i.indkey[k - 1] <> 0 AND col = quote_ident(s) THEN
			has_s := true;
		END IF;
		IF i.indkey[k - 1] <> 0 AND col = quote_ident(e) THEN
			has_e := true;
		END IF;
		cols := cols || (col || ' ' || opc);
	END LOOP;
	IF NOT has_s THEN
		cols := cols || quote_ident(s)::text;
	END IF;
	IF NOT has_e THEN
		cols := cols || quote_ident(e)::text;
	END IF;
	pred := pg_get_expr(i.indpred, i.indrelid);
	SELECT relnamespace INTO hist_ns FROM pg_class WHERE oid = history::oid;
	base := left((SELECT relname FROM pg_class WHERE oid = idx::oid)::text, 55) || '_history';
	twin := base;
	WHILE EXISTS (SELECT FROM pg_class WHERE relname = twin::name AND relnamespace = hist_ns) LOOP
		n := n + 1;
		twin := base || n::text;
	END LOOP;
	EXECUTE format('CREATE INDEX %I ON %s USING %I (%s)%s%s', twin, history, am, array_to_string(cols, ', '),
		CASE WHEN opts IS NULL THEN '' ELSE ' WITH (' || array_to_string(opts, ', ') || ')' END,
		CASE WHEN pred IS NULL THEN '' ELSE ' WHERE ' || pred END);
	EXECUTE format('SELECT %I.vecdb_time_travel_register(''add twin'', $1, index_name => $2, twin_name => $3)', ext)
		USING tbl, (SELECT relname FROM pg_class WHERE oid = idx::oid), twin::name;
	RETURN twin::name;
END
$$;
COMMENT ON FUNCTION vecdb_time_travel_twin(regclass, regclass, regclass) IS 'internal: creates and records the history-table twin of a vecdb index, with the period columns as filter columns';

-- vecdb_time_travel_check is the condition the as-of functions of a table
-- with time travel carry: true, or an error for a moment before the horizon.
CREATE FUNCTION vecdb_time_travel_check(tbl regclass, moment timestamptz)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_time_travel_check(regclass, timestamptz) IS 'true, or error 72000 when a table''s history before the given moment is not kept (before time travel was on, or removed by retention); the as-of functions of a time-travel table call it';

-- vecdb_time_travel_wrap rewrites periods' __as_of, __between,
-- __between_symmetric and __from_to functions of tbl so that each first
-- checks its earliest moment against the horizon; they stay single SELECTs,
-- which the planner inlines (the check becomes a one-time filter).
CREATE FUNCTION vecdb_time_travel_wrap(tbl regclass, ext name)
	RETURNS void LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	sv record;
	p record;
	tname text;
	chk text;
BEGIN
	SELECT * INTO sv FROM periods.system_versioning WHERE table_name = tbl;
	SELECT * INTO p FROM periods.periods WHERE table_name = tbl AND period_name = 'system_time';
	SELECT format('%I.%I', n.nspname, c.relname) INTO tname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = tbl::oid;
	chk := format('%I.vecdb_time_travel_check(%L::regclass, ', ext, tname);
	EXECUTE format('CREATE OR REPLACE FUNCTION %s RETURNS SETOF %s LANGUAGE sql STABLE AS %L',
		sv.func_as_of, sv.view_name,
		format('SELECT * FROM %s WHERE %I OPERATOR(pg_catalog.<=) $1 AND %I OPERATOR(pg_catalog.>) $1 AND %s$1)', sv.view_name,
			p.start_column_name, p.end_column_name, chk));
	EXECUTE format('CREATE OR REPLACE FUNCTION %s RETURNS SETOF %s LANGUAGE sql STABLE AS %L',
		sv.func_between, sv.view_name,
		format('SELECT * FROM %s WHERE $1 OPERATOR(pg_catalog.<=) $2 AND %I OPERATOR(pg_catalog.>) $1 '
			'AND %I OPERATOR(pg_catalog.<=) $2 AND %s$1)', sv.view_name,
			p.end_column_name, p.start_column_name, chk));
	EXECUTE format('CREATE OR REPLACE FUNCTION %s RETURNS SETOF %s LANGUAGE sql STABLE AS %L',
		sv.func_between_symmetric, sv.view_name,
		format('SELECT * FROM %s WHERE %I OPERATOR(pg_catalog.>) least($1, $2) '
			'AND %I OPERATOR(pg_catalog.<=) greatest($1, $2) AND %sleast($1, $2))',
			sv.view_name, p.end_column_name, p.start_column_name, chk));
	EXECUTE format('CREATE OR REPLACE FUNCTION %s RETURNS SETOF %s LANGUAGE sql STABLE AS %L',
		sv.func_from_to, sv.view_name,
		format('SELECT * FROM %s WHERE $1 OPERATOR(pg_catalog.<) $2 AND %I OPERATOR(pg_catalog.>) $1 '
			'AND %I OPERATOR(pg_catalog.<) $2 AND %s$1)', sv.view_name,
			p.end_column_name, p.start_column_name, chk));
END
$$;
COMMENT ON FUNCTION vecdb_time_travel_wrap(regclass, name) IS 'internal: makes a time-travel table''s as-of functions check their moment against the retention horizon';

CREATE FUNCTION vecdb_enable_time_travel(tbl regclass, retention interval DEFAULT NULL)
	RETURNS regclass LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	added boolean := false;
	hist regclass;
	idx record;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'periods') THEN
		RAISE EXCEPTION 'time travel needs the periods extension'
			USING ERRCODE = 'feature_not_supported', HINT = 'CREATE EXTENSION periods CASCADE;';
	END IF;
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'no table given' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF retention IS NOT NULL AND retention <= interval '0' THEN
		RAISE EXCEPTION 'retention must be positive, not %', retention USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = tbl::oid), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
	END IF;
	EXECUTE format('SELECT history FROM %I.vecdb_time_travel WHERE tbl = $1', ext) INTO hist USING tbl::oid;
	IF hist IS NOT NULL THEN
		RAISE EXCEPTION 'time travel is already on for table %', tbl USING ERRCODE = 'duplicate_object';
	END IF;
	IF NOT EXISTS (SELECT FROM periods.periods WHERE table_name = tbl AND period_name = 'system_time') THEN
		PERFORM periods.add_system_time_period(tbl);
		added := true;
	END IF;
	IF NOT EXISTS (SELECT FROM periods.system_versioning WHERE table_name = tbl) THEN
		PERFORM periods.add_system_versioning(tbl);
	END IF;
	SELECT history_table_name INTO hist FROM periods.system_versioning WHERE table_name = tbl;
	EXECUTE format('SELECT %I.vecdb_time_travel_register(''enable'', $1, $2, $3, $4, $5)', ext)
		USING tbl, hist, retention, now(), added;
	EXECUTE format('SELECT %I.vecdb_time_travel_wrap($1, $2)', ext) USING tbl, ext;
	FOR idx IN
		SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		WHERE i.indrelid = tbl::oid AND a.amname IN ('hnsw', 'ivfflat', 'ivfpq', 'ivfsq8', 'flat')
		ORDER BY c.relname
	LOOP
		EXECUTE format('SELECT %I.vecdb_time_travel_twin($1, $2, $3)', ext) USING tbl, idx.oid::regclass, hist;
	END LOOP;
	RETURN hist;
END
$$;
COMMENT ON FUNCTION vecdb_enable_time_travel(regclass, interval) IS 'turns time travel on for a table: adds the periods extension''s system-time period and versioning where missing, gives the history table a twin of each vecdb index with the period columns inside, and keeps history for retention (NULL: forever); returns the history table';

CREATE FUNCTION vecdb_disable_time_travel(tbl regclass, keep_history boolean DEFAULT false)
	RETURNS void LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	cfg record;
	tw record;
	hist_ns name;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	EXECUTE format('SELECT * FROM %I.vecdb_time_travel WHERE tbl = $1', ext) INTO cfg USING tbl::oid;
	IF cfg IS NULL THEN
		RAISE EXCEPTION 'time travel is not on for table %', tbl USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = tbl::oid), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT n.nspname INTO hist_ns FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = cfg.history::oid;
	FOR tw IN EXECUTE format('SELECT twin_name FROM %I.vecdb_time_travel_index WHERE tbl = $1', ext) USING tbl::oid LOOP
		EXECUTE format('DROP INDEX IF EXISTS %I.%I', hist_ns, tw.twin_name);
	END LOOP;
	EXECUTE format('SELECT %I.vecdb_time_travel_register(''disable'', $1)', ext) USING tbl;
	IF NOT keep_history THEN
		PERFORM periods.drop_system_versioning(tbl, purge => true);
		IF cfg.added_period THEN
			PERFORM periods.drop_system_time_period(tbl, purge => true);
		END IF;
	END IF;
END
$$;
COMMENT ON FUNCTION vecdb_disable_time_travel(regclass, boolean) IS 'turns time travel off for a table: drops the history twins of its vecdb indexes and, unless keep_history, its system versioning and history table and the system-time period if vecdb added it (its columns stay)';

CREATE FUNCTION vecdb_time_travel_purge(tbl regclass DEFAULT NULL)
	RETURNS bigint LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	cfg record;
	cutoff timestamptz;
	n bigint;
	total bigint := 0;
BEGIN
	SELECT n2.nspname INTO ext FROM pg_extension e JOIN pg_namespace n2 ON n2.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	FOR cfg IN EXECUTE format('SELECT * FROM %I.vecdb_time_travel WHERE ($1 IS NULL OR tbl = $1) AND retention IS NOT NULL '
		'AND pg_catalog.pg_has_role((SELECT relowner FROM pg_catalog.pg_class WHERE oid = tbl), ''USAGE'') ORDER BY tbl', ext)
		USING tbl::oid
	LOOP
		cutoff := now() - cfg.retention;
		EXECUTE format('SELECT %I.vecdb_time_travel_expire($1, $2)', ext) INTO n USING cfg.tbl, cutoff;
		total := total + n;
	END LOOP;
	RETURN total;
END
$$;
COMMENT ON FUNCTION vecdb_time_travel_purge(regclass) IS 'removes history versions that ended longer than the retention ago, for one time-travel table or (NULL) every one the caller administers; moves the horizon to that moment; returns the versions removed (VACUUM then reclaims them and their index entries)';

CREATE FUNCTION vecdb_set_time_travel_retention(tbl regclass, retention interval)
	RETURNS void LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	hist regclass;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	IF retention IS NOT NULL AND retention <= interval '0' THEN
		RAISE EXCEPTION 'retention must be positive, not %', retention USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('SELECT history FROM %I.vecdb_time_travel WHERE tbl = $1', ext) INTO hist USING tbl::oid;
	IF hist IS NULL THEN
		RAISE EXCEPTION 'time travel is not on for table %', tbl USING ERRCODE = 'undefined_object';
	END IF;
	EXECUTE format('SELECT %I.vecdb_time_travel_register(''retention'', $1, retention => $2)', ext) USING tbl, retention;
END
$$;
COMMENT ON FUNCTION vecdb_set_time_travel_retention(regclass, interval) IS 'changes how long a time-travel table keeps history (NULL: forever); vecdb_time_travel_purge applies it';

-- vecdb_time_travel_ddl keeps twins in step: a vecdb index created on a
-- time-travel table gets its twin (unless one is recorded: pg_restore brings
-- it), and dropping an index drops its twin; a dropped table leaves the
-- settings. Quick exit when no table has time travel.
CREATE FUNCTION vecdb_time_travel_ddl()
	RETURNS event_trigger LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext name;
	r record;
	cfg record;
	known name;
	hist_ns name;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	IF ext IS NULL OR to_regclass(format('%I.vecdb_time_travel_index', ext)) IS NULL THEN
		RETURN;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT FROM %I.vecdb_time_travel)', ext) INTO r;
	IF NOT r.exists THEN
		RETURN;
	END IF;
	IF TG_EVENT = 'ddl_command_end' THEN
		FOR r IN
			SELECT i.indexrelid, i.indrelid, c.relname FROM pg_event_trigger_ddl_commands() d
			JOIN pg_index i ON i.indexrelid = d.objid JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_am a ON a.oid = c.relam
			WHERE d.classid = 'pg_class'::regclass AND a.amname IN ('hnsw', 'ivfflat', 'ivfpq', 'ivfsq8', 'flat')
		LOOP
			EXECUTE format('SELECT * FROM %I.vecdb_time_travel WHERE tbl = $1', ext) INTO cfg USING r.indrelid;
			CONTINUE WHEN cfg IS NULL;
			EXECUTE format('SELECT twin_name FROM %I.vecdb_time_travel_index WHERE tbl = $1 AND index_name = $2', ext)
				INTO known USING r.indrelid, r.relname;
			CONTINUE WHEN known IS NOT NULL;
			EXECUTE format('SELECT %I.vecdb_time_travel_twin($1, $2, $3)', ext)
				USING cfg.tbl, r.indexrelid::regclass, cfg.history;
		END LOOP;
	ELSIF TG_EVENT = 'sql_drop' THEN
		FOR r IN
			SELECT d.objid, d.object_type, d.schema_name, d.object_name FROM pg_event_trigger_dropped_objects() d
			WHERE d.object_type IN ('index', 'table') AND NOT d.is_temporary
		LOOP
			IF r.object_type = 'table' THEN
				EXECUTE format('SELECT %I.vecdb_time_travel_register(''disable'', $1)', ext) USING r.objid::regclass;
				CONTINUE;
			END IF;
			FOR cfg IN EXECUTE format('SELECT t.tbl, t.history, x.twin_name FROM %I.vecdb_time_travel_index x '
				'JOIN %I.vecdb_time_travel t USING (tbl) JOIN pg_catalog.pg_class c ON c.oid = t.tbl '
				'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace '
				'WHERE n.nspname = $1 AND x.index_name = $2', ext, ext) USING r.schema_name, r.object_name
			LOOP
				SELECT n.nspname INTO hist_ns FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE c.oid = cfg.history::oid;
				IF hist_ns IS NOT NULL THEN
					EXECUTE format('DROP INDEX IF EXISTS %I.%I', hist_ns, cfg.twin_name);
				END IF;
				EXECUTE format('SELECT %I.vecdb_time_travel_register(''drop twin'', $1, index_name => $2)', ext)
					USING cfg.tbl, r.object_name;
			END LOOP;
		END LOOP;
	END IF;
END
$$;
COMMENT ON FUNCTION vecdb_time_travel_ddl() IS 'event trigger function: creates and drops the history twins of vecdb indexes on time-travel tables';
CREATE EVENT TRIGGER vecdb_time_travel_create ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
	EXECUTE FUNCTION vecdb_time_travel_ddl();
CREATE EVENT TRIGGER vecdb_time_travel_drop ON sql_drop
	EXECUTE FUNCTION vecdb_time_travel_ddl();
COMMENT ON EVENT TRIGGER vecdb_time_travel_create IS 'gives a vecdb index created on a time-travel table its history twin';
COMMENT ON EVENT TRIGGER vecdb_time_travel_drop IS 'drops the history twin with its index, and a dropped table''s time travel settings';

-- Scale-out (docs/scale-out.md): a k-NN search over a table partitioned
-- across servers through postgres_fdw, with the shards queried in parallel
-- and each one asked for its own top k.

-- vecdb_sharded_search answers ORDER BY col <op> query LIMIT k over tbl's
-- row type (a table, usually partitioned with foreign partitions): every leaf
-- partition is asked for its own k nearest (its ORDER BY ... LIMIT k runs on
-- its server, over its index), and the answers are merged by distance
-- (src/shard/sharded_search.cpp). With vecdb.shard_fanout = direct (the
-- default), postgres_fdw partitions are asked over vecdb's own connections,
-- one statement per server, all servers at once; with postgres_fdw, through
-- postgres_fdw inside this transaction. filter is a condition on tbl's
-- columns, sent to the shards as SQL deparsed from its parse tree. With
-- vecdb.shard_partial_results on, a shard that fails is skipped with a WARNING.
CREATE FUNCTION vecdb_sharded_search(tbl anyelement, vector_column name, query anycompatible, k integer,
	filter text DEFAULT NULL, op text DEFAULT '<->')
	RETURNS SETOF anyelement
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vecdb_sharded_search(anyelement, name, anycompatible, integer, text, text) IS 'the k rows of a (partitioned, sharded) table nearest to a query: every leaf partition asked for its own k, the shards all at once, then merged; filter is a condition on the table''s columns';

-- vecdb_create_shards lays tbl (hash-partitioned, no partitions yet) out over
-- postgres_fdw servers with PostgreSQL's own DDL: on each shard CREATE TABLE
-- with tbl's columns and CREATE INDEX ON it for each of indexes (the text
-- after ON table, read with the caller's search_path), here one foreign
-- partition per shard (tbl_0, tbl_1, ...; MODULUS the number of servers).
CREATE FUNCTION vecdb_create_shards(tbl regclass, servers name[], indexes text[] DEFAULT '{}')
	RETURNS TABLE (server name, shard_table text, partition regclass)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vecdb_create_shards(regclass, name[], text[]) IS 'lays a hash-partitioned table out over postgres_fdw servers: on each shard CREATE TABLE and CREATE INDEX ON it for each index definition, here one foreign partition per shard';

-- 56_index_functions: vecdb_last_scan gained the device column.
DROP FUNCTION vecdb_last_scan();
CREATE FUNCTION vecdb_last_scan(OUT index regclass, OUT segment int, OUT kind text, OUT strategy text,
	OUT rows bigint, OUT allowed bigint, OUT returned bigint, OUT memory text, OUT read_rows bigint,
	OUT device text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecdb_last_scan() IS 'what the vecdb index scan this session started last did, per segment: engine kind, strategy (exact, exact (few allowed), filtered <kind>, <kind>, none allowed), rows, rows the scalar conditions and delete marks allowed, rows returned, where it was searched (shared: in place in the shared area; private: this connection''s copy), the rows the scan read from index pages to load it, and the device that searched it (cpu: this connection; gpu worker (<device>): the GPU worker, see vecdb.gpu; cpu (gpu worker: <reason>): this connection after the worker could not)';

-- 65_gpu: the GPU worker (docs/gpu.md). With vecdb preloaded and vecdb.gpu
-- not off at server start, one background process owns the device; backends
-- send it the exact searches of sealed segments and it answers the requests
-- that arrive together in one batch.

CREATE FUNCTION vecdb_gpu_status(OUT mode text, OUT state text, OUT pid integer, OUT device text,
	OUT requests bigint, OUT queries bigint, OUT batches bigint, OUT max_batch bigint, OUT failed bigint,
	OUT declined bigint, OUT abandoned bigint, OUT queued integer, OUT resident_segments bigint,
	OUT resident_bytes bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_gpu_status() IS 'describes the GPU worker: this session''s vecdb.gpu, the worker''s state (absent, ready, no device), pid, device (or why there is none), requests and queries received, engine calls (batches) and the most queries one answered, requests failed, declined (searched on the CPU instead) and abandoned by their sessions (cancelled), requests queued now, and the segments and bytes it holds; for pg_monitor';
REVOKE ALL ON FUNCTION vecdb_gpu_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb_gpu_status() TO pg_monitor;

CREATE FUNCTION vecdb_search(index regclass, queries vector[], k integer)
	RETURNS TABLE (query integer, ctid tid, distance double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecdb_search(regclass, vector[], integer) IS 'the k nearest rows of a vecdb index''s table for each query, as ORDER BY <the index''s distance operator> LIMIT k finds them under the statement''s snapshot: query (its position in the array, from 1), ctid and distance, nearest first; NULL queries get no rows; the segments vecdb.gpu sends to the GPU worker get all queries in one request; needs SELECT on the table, and refuses tables with row-level security';
