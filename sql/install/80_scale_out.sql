
-- Scale-out (docs/scale-out.md): a k-NN search over a table partitioned
-- across servers through postgres_fdw, with the shards queried in parallel
-- and each one asked for its own top k.

-- vecdb_sharded_search answers ORDER BY col <op> query LIMIT k over tbl's
-- row type (a table, usually partitioned with foreign partitions): one
-- branch per leaf partition, each ORDER BY ... LIMIT k (which postgres_fdw
-- ships whole), under a plain Append (asynchronous for servers with
-- async_capable) and one sort of the branches' rows. filter is SQL text
-- added to every branch's WHERE, read with search_path pg_catalog (qualify
-- other schemas' names). With
-- vecdb.shard_partial_results on, a branch that fails is skipped with a
-- WARNING and the branches run one after another.
CREATE FUNCTION vecdb_sharded_search(tbl anyelement, vector_column name, query anycompatible, k integer,
	filter text DEFAULT NULL, op text DEFAULT '<->')
	RETURNS SETOF anyelement LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel oid;
	ext name;
	cols text;
	dist text;
	head text;
	tail text;
	parts text[];
	sql text;
	partial boolean := coalesce(pg_catalog.current_setting('vecdb.shard_partial_results', true), 'off') IN ('on', 'true', '1');
	p text;
	got text[];
	acc text[] := '{}';
	failed int := 0;
BEGIN
	SELECT t.typrelid INTO rel FROM pg_catalog.pg_type t WHERE t.oid = pg_catalog.pg_typeof(tbl);
	IF rel IS NULL OR rel = 0 THEN
		RAISE EXCEPTION 'vecdb_sharded_search needs a table''s row type, not %', pg_catalog.pg_typeof(tbl)
			USING ERRCODE = 'wrong_object_type', HINT = 'Pass NULL::table_name as the first argument.';
	END IF;
	IF k IS NULL OR k < 1 THEN
		RAISE EXCEPTION 'k must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF op IS NULL OR op NOT IN ('<->', '<=>', '<#>', '<+>', '<~>', '<%>') THEN
		RAISE EXCEPTION 'unknown distance operator %', op USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use one of <->, <=>, <#>, <+>, <~>, <%>.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = rel AND a.attname = vector_column
		AND a.attnum > 0 AND NOT a.attisdropped) THEN
		RAISE EXCEPTION 'column "%" of relation % does not exist', vector_column, rel::regclass
			USING ERRCODE = 'undefined_column';
	END IF;
	SELECT n.nspname INTO ext FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname IN ('vecdb', 'vector');
	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	FROM pg_catalog.pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped;
	SELECT pg_catalog.format('%I OPERATOR(%I.%s) ($1)::%s', vector_column, ext, op, pg_catalog.format_type(a.atttypid, a.atttypmod))
	INTO dist FROM pg_catalog.pg_attribute a WHERE a.attrelid = rel AND a.attname = vector_column;
	/* the distance is an output column of each branch, so the branch needs no
	   projection above its foreign scan, which keeps the scan asynchronous */
	head := 'SELECT ' || cols || ', ' || dist || ' AS vecdb_sharded_distance FROM ';
	tail := CASE WHEN filter IS NULL THEN '' ELSE ' WHERE (' || filter || ')' END
		|| ' ORDER BY vecdb_sharded_distance LIMIT ' || k;
	SELECT pg_catalog.array_agg(pg_catalog.format('%I.%I', n.nspname, c.relname) ORDER BY c.relname) INTO parts
	FROM pg_catalog.pg_partition_tree(rel) t
	JOIN pg_catalog.pg_class c ON c.oid = t.relid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE t.isleaf;
	IF parts IS NULL THEN
		SELECT ARRAY[pg_catalog.format('%I.%I', n.nspname, c.relname)] INTO parts
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;
	END IF;
	IF NOT partial THEN
		/* "+ 0" keeps the sort above a plain Append: a Merge Append of the
		   sorted branches would start them one after another */
		SELECT pg_catalog.string_agg('(' || head || x || tail || ')', ' UNION ALL ') INTO sql
		FROM pg_catalog.unnest(parts) x;
		RETURN QUERY EXECUTE 'SELECT ' || cols || ' FROM (' || sql || ') s ORDER BY vecdb_sharded_distance + 0 LIMIT ' || k
			USING query;
		RETURN;
	END IF;
	FOREACH p IN ARRAY parts LOOP
		BEGIN
			EXECUTE 'SELECT pg_catalog.array_agg(ROW(' || cols || ')::text) FROM (' || head || p || tail || ') b'
				INTO got USING query;
			acc := acc || coalesce(got, '{}');
		EXCEPTION WHEN query_canceled THEN
			RAISE;
		WHEN OTHERS THEN
			failed := failed + 1;
			RAISE WARNING 'vecdb_sharded_search skips partition %: %', p, SQLERRM;
		END;
	END LOOP;
	IF failed = pg_catalog.array_length(parts, 1) THEN
		RAISE EXCEPTION 'every partition of % failed', rel::regclass USING ERRCODE = 'connection_failure';
	END IF;
	RETURN QUERY EXECUTE 'SELECT ' || cols || ' FROM (SELECT (x::' || pg_catalog.format_type(pg_catalog.pg_typeof(tbl), NULL)
		|| ').* FROM pg_catalog.unnest($2) x) s ORDER BY (' || dist || ') + 0 LIMIT ' || k USING query, acc;
END
$$;
COMMENT ON FUNCTION vecdb_sharded_search(anyelement, name, anycompatible, integer, text, text) IS 'the k rows of a (partitioned, sharded) table nearest to a query: every leaf partition asked for its own k in one Append (asynchronous on postgres_fdw servers with async_capable), then merged; filter is added to each branch''s WHERE';
