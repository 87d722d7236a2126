-- vecdb upgrade script from 0.1.0 to 0.2.0 (ALTER EXTENSION vecdb UPDATE).
-- Frozen once released: never edit it; a later change goes into a new
-- vecdb--0.2.0--X.Y.Z.sql (docs/decisions.md, "Versions and upgrade scripts").
\echo Use "ALTER EXTENSION vecdb UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0 installs the same objects as 0.1.0 (the operator classes are now
-- written by scripts/gen_sql.sh, the index functions moved to their own
-- fragment); only these descriptions changed: vecdb_seal_progress also
-- shows the compactions VACUUM and vecdb_compact run. pg_regress
-- core_upgrade checks that an updated 0.1.0 equals a fresh 0.2.0.
COMMENT ON FUNCTION vecdb_seal_jobs() IS 'the background seal running now (state running), other compactions running (VACUUM, autovacuum, vecdb_compact: state compacting), each with its progress, then the queued seals (every database); vecdb_seal_progress shows them with names; for pg_monitor';
COMMENT ON VIEW vecdb_seal_progress IS 'seals and merges: the background one running (state running), compactions run by VACUUM, autovacuum or vecdb_compact (state compacting), with their progress (phase: reading rows, adding rows, writing segment, switching directory; inputs: sealed segments merged; onto: rows added to the largest one''s index; rows_done of rows_total added) and the queued ones; index is named when it is in the current database; for pg_monitor';
