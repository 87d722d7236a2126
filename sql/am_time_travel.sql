-- am_time_travel: time travel on the periods extension (docs/time-travel.md).
-- A seeded workload of inserts, updates and deletes, one transaction per
-- round with the moment after each recorded; for every moment, the as-of
-- k-NN through the indexes (hnsw with a filter column, flat) returns what a
-- brute-force search over the versions valid then returns, with and without
-- a scalar filter. Then twins follow CREATE/DROP INDEX, retention removes
-- exactly the expired versions, searches before the horizon fail, and
-- turning time travel off removes what it added.
SET client_min_messages = warning;

-- without periods: a clear error
CREATE TABLE tt_items (id int PRIMARY KEY, category int NOT NULL, embedding vector(4) NOT NULL);
SELECT vecdb_enable_time_travel('tt_items');
CREATE EXTENSION periods CASCADE;

CREATE INDEX tt_items_hnsw ON tt_items USING hnsw (embedding vector_l2_ops, category) WITH (m = 8);
CREATE INDEX tt_items_flat ON tt_items USING flat (embedding vector_l2_ops);
CREATE INDEX tt_items_btree ON tt_items (category);
SELECT setseed(0.25);
INSERT INTO tt_items SELECT i, i % 4, ARRAY[random(), random(), random(), random()]::vector FROM generate_series(1, 200) i;

-- arguments
SELECT vecdb_enable_time_travel('tt_items', interval '-1 day');
SELECT vecdb_enable_time_travel('tt_items', interval '30 days');
SELECT vecdb_enable_time_travel('tt_items');
SELECT tbl, history, retention, added_period, horizon = enabled_at AS horizon_at_start FROM vecdb_time_travel;
SELECT index_name, twin_name FROM vecdb_time_travel_index ORDER BY index_name;
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'tt_items_history'::regclass ORDER BY 1;

-- the workload: 8 rounds, each one transaction, the moment after each kept
CREATE TABLE tt_moments (round int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO tt_moments VALUES (0, clock_timestamp());
CREATE PROCEDURE tt_workload(rounds int) LANGUAGE plpgsql AS $$
DECLARE
	r int;
BEGIN
	FOR r IN 1 .. rounds LOOP
		UPDATE tt_items SET embedding = ARRAY[random(), random(), random(), random()]::vector
		WHERE id IN (SELECT id FROM tt_items ORDER BY id OFFSET (r * 7) % 50 LIMIT 30);
		UPDATE tt_items SET category = (category + 1) % 4 WHERE id % 13 = r;
		DELETE FROM tt_items WHERE id IN (SELECT id FROM tt_items ORDER BY id DESC OFFSET r LIMIT 5);
		INSERT INTO tt_items SELECT 1000 * r + i, i % 4, ARRAY[random(), random(), random(), random()]::vector
		FROM generate_series(1, 12) i;
		COMMIT;
		INSERT INTO tt_moments VALUES (r, clock_timestamp());
		COMMIT;
	END LOOP;
END
$$;
CALL tt_workload(8);
SELECT count(*) AS current_rows FROM tt_items;
SELECT count(*) AS history_rows FROM tt_items_history;

-- k-NN as of a moment: through the indexes, and by brute force
CREATE FUNCTION tt_knn_index(t timestamptz, q vector, cat int) RETURNS int[] LANGUAGE sql
	SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
	AS $$ SELECT array_agg(id) FROM (SELECT id FROM tt_items__as_of(t) WHERE cat IS NULL OR category = cat
		ORDER BY embedding <-> q LIMIT 10) s $$;
CREATE FUNCTION tt_knn_exact(t timestamptz, q vector, cat int) RETURNS int[] LANGUAGE sql
	SET enable_indexscan = off SET enable_bitmapscan = off
	AS $$ SELECT array_agg(id) FROM (SELECT id FROM tt_items_with_history
		WHERE system_time_start <= t AND system_time_end > t AND (cat IS NULL OR category = cat)
		ORDER BY embedding <-> q LIMIT 10) s $$;
CREATE TABLE tt_queries AS SELECT q, ARRAY[random(), random(), random(), random()]::vector AS v FROM generate_series(1, 6) q;

-- the plan: both tables' index scans, the period as index conditions
EXPLAIN (COSTS OFF)
SELECT id FROM tt_items__as_of(now()) ORDER BY embedding <-> '[0.5,0.5,0.5,0.5]' LIMIT 10;

-- every moment x query, unfiltered and with a filter: rows returned and
-- mismatches against brute force (0 expected), and the results differ
-- between moments (the search does see the past)
SELECT m.round, count(*) AS queries,
	sum((tt_knn_index(m.at, v, NULL) IS DISTINCT FROM tt_knn_exact(m.at, v, NULL))::int) AS mismatched,
	sum((tt_knn_index(m.at, v, 2) IS DISTINCT FROM tt_knn_exact(m.at, v, 2))::int) AS mismatched_filtered,
	min(cardinality(tt_knn_index(m.at, v, NULL))) AS fewest_rows,
	min(cardinality(tt_knn_index(m.at, v, 2))) AS fewest_rows_filtered
FROM tt_moments m, tt_queries GROUP BY m.round ORDER BY m.round;
SELECT count(DISTINCT tt_knn_index(m.at, v, NULL)) AS distinct_answers FROM tt_moments m, tt_queries WHERE q = 1;

-- twins follow CREATE INDEX and DROP INDEX on the table
CREATE INDEX tt_items_ivf ON tt_items USING ivfflat (embedding vector_l2_ops) WITH (lists = 4);
SELECT index_name, twin_name FROM vecdb_time_travel_index ORDER BY index_name;
SELECT count(*) AS history_ivf_twins FROM pg_indexes WHERE tablename = 'tt_items_history' AND indexname = 'tt_items_ivf_history';
DROP INDEX tt_items_ivf;
SELECT index_name, twin_name FROM vecdb_time_travel_index ORDER BY index_name;
SELECT count(*) AS history_ivf_twins FROM pg_indexes WHERE tablename = 'tt_items_history' AND indexname = 'tt_items_ivf_history';

-- the horizon: before time travel was on, a search fails
-- (the messages name the moment: only their SQLSTATE and detail are shown)
CREATE FUNCTION tt_try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
	detail text;
BEGIN
	EXECUTE query INTO n;
	RETURN n::text || ' rows';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || detail;
END
$$;
SELECT tt_try($$SELECT count(*) FROM tt_items__as_of('2000-01-01')$$);
SELECT tt_try($$SELECT count(*) FROM tt_items__between('2000-01-01', now())$$);
SELECT tt_try($$SELECT count(*) FROM tt_items__from_to('2000-01-01', now())$$);
SELECT tt_try($$SELECT count(*) FROM tt_items__between_symmetric(now(), '2000-01-01')$$);
SELECT tt_try($$SELECT count(*) FROM tt_items__as_of(now())$$);
-- the check keeps where its settings table is only until DDL touches it: a
-- stand-in table (horizon at infinity) is read at once, and after the
-- rollback the real one again
BEGIN;
ALTER EXTENSION vecdb DROP TABLE vecdb_time_travel;
ALTER TABLE vecdb_time_travel RENAME TO vecdb_time_travel_saved;
CREATE TABLE vecdb_time_travel (LIKE vecdb_time_travel_saved INCLUDING ALL);
INSERT INTO vecdb_time_travel SELECT tbl, history, retention, 'infinity', enabled_at, added_period FROM vecdb_time_travel_saved;
SELECT tt_try($$SELECT count(*) FROM tt_items__as_of(now())$$);
ROLLBACK;
SELECT tt_try($$SELECT count(*) FROM tt_items__as_of(now())$$);

-- retention: versions that ended at or before round 4's moment go, exactly
CREATE TABLE tt_expected AS SELECT count(*) FILTER (WHERE system_time_end <= (SELECT at FROM tt_moments WHERE round = 4)) AS expired,
	count(*) FILTER (WHERE system_time_end > (SELECT at FROM tt_moments WHERE round = 4)) AS kept
FROM tt_items_history;
CREATE TABLE tt_before AS SELECT m.round, q, tt_knn_exact(m.at, v, NULL) AS ids FROM tt_moments m, tt_queries WHERE m.round >= 4;
BEGIN;
SELECT vecdb_set_time_travel_retention('tt_items', now() - (SELECT at FROM tt_moments WHERE round = 4));
SELECT vecdb_time_travel_purge('tt_items') = (SELECT expired FROM tt_expected) AS purged_exactly_the_expired;
COMMIT;
SELECT count(*) = (SELECT kept FROM tt_expected) AS kept_the_rest FROM tt_items_history;
SELECT horizon = (SELECT at FROM tt_moments WHERE round = 4) AS horizon_at_round_4 FROM vecdb_time_travel;
-- as of round 3: an error, not fewer rows; from round 4 on: the same answers
SELECT tt_try($$SELECT cardinality(tt_knn_index((SELECT at FROM tt_moments WHERE round = 3), '[0,0,0,0]', NULL))$$);
SELECT tt_try($$SELECT cardinality(tt_knn_index((SELECT at FROM tt_moments WHERE round = 4), '[0,0,0,0]', NULL))$$);
SELECT count(*) AS checked, sum((tt_knn_index(m.at, b.v, NULL) IS DISTINCT FROM t.ids)::int) AS changed
FROM tt_before t JOIN tt_moments m USING (round) JOIN tt_queries b USING (q);
-- VACUUM reclaims the removed versions in the history indexes
VACUUM tt_items_history;
SELECT (SELECT sum(rows - deleted) FROM vecdb_index_info('tt_items_hnsw_history')) = (SELECT count(*) FROM tt_items_history)
	AS history_index_holds_the_kept_rows;
-- and a compaction leaves the twin holding exactly them, no delete marks
SELECT vecdb_compact('tt_items_hnsw_history') AS compacted;
SELECT sum(deleted) AS deleted, sum(rows) = (SELECT count(*) FROM tt_items_history) AS rows_are_the_kept_versions
FROM vecdb_index_info('tt_items_hnsw_history');
SELECT vecdb_verify('tt_items_hnsw_history'), vecdb_verify('tt_items_flat_history');

-- only the owner may turn it off or remove versions; purge skips the
-- tables of others
CREATE ROLE tt_other;
SET SESSION AUTHORIZATION tt_other;
SELECT vecdb_disable_time_travel('tt_items');
SELECT vecdb_time_travel_expire('tt_items', now());
SELECT vecdb_time_travel_purge();
RESET SESSION AUTHORIZATION;
DROP ROLE tt_other;

-- an owner who is not a superuser: on, purge (history tables are read-only
-- under periods, even for their owner), off
CREATE ROLE tt_owner;
GRANT CREATE ON SCHEMA public TO tt_owner;
SET SESSION AUTHORIZATION tt_owner;
CREATE TABLE tt_own (id int PRIMARY KEY, embedding vector(2));
CREATE INDEX tt_own_idx ON tt_own USING hnsw (embedding vector_l2_ops);
SELECT vecdb_enable_time_travel('tt_own', interval '1 hour');
INSERT INTO tt_own VALUES (1, '[1,1]'), (2, '[2,2]');
UPDATE tt_own SET embedding = '[3,3]' WHERE id = 1;
DELETE FROM tt_own WHERE id = 2;
DELETE FROM tt_own_history;
SELECT vecdb_time_travel_expire('tt_own', now() + interval '1 day');
SELECT vecdb_time_travel_expire('tt_own', now()) AS expired;
SELECT count(*) AS left_in_history FROM tt_own_history;
SELECT id FROM tt_own__as_of(now()) ORDER BY embedding <-> '[0,0]';
SELECT vecdb_disable_time_travel('tt_own');
DROP TABLE tt_own;
RESET SESSION AUTHORIZATION;
REVOKE CREATE ON SCHEMA public FROM tt_owner;
DROP ROLE tt_owner;

-- off: twins, settings, versioning, history and the period vecdb added go
-- (periods keeps the period's columns)
SELECT vecdb_disable_time_travel('tt_items');
SELECT count(*) AS settings FROM vecdb_time_travel;
SELECT count(*) AS twins FROM vecdb_time_travel_index;
SELECT to_regclass('tt_items_history') AS history;
SELECT count(*) AS period_columns FROM pg_attribute WHERE attrelid = 'tt_items'::regclass AND attname LIKE 'system_time%' AND NOT attisdropped;
SELECT vecdb_disable_time_travel('tt_items');
SELECT count(*) AS rows_left FROM tt_items;

-- a dropped table leaves no settings behind
SELECT vecdb_enable_time_travel('tt_items', interval '1 day') IS NOT NULL AS on_again;
SELECT periods.drop_system_versioning('tt_items', purge => true);
DROP TABLE tt_items;
SELECT count(*) AS settings FROM vecdb_time_travel;
SELECT count(*) AS twins FROM vecdb_time_travel_index;

DROP PROCEDURE tt_workload(int);
DROP FUNCTION tt_knn_index(timestamptz, vector, int), tt_knn_exact(timestamptz, vector, int), tt_try(text);
DROP TABLE tt_moments, tt_queries, tt_expected, tt_before;
DROP EXTENSION periods;
DROP EXTENSION btree_gist;
