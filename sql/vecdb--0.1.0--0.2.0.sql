-- vecdb upgrade script from 0.1.0 to 0.2.0 (ALTER EXTENSION vecdb UPDATE).
-- Frozen once released: never edit it; a later change goes into a new
-- vecdb--0.2.0--X.Y.Z.sql (docs/decisions.md, "Versions and upgrade scripts").
\echo Use "ALTER EXTENSION vecdb UPDATE TO '0.2.0'" to load this file. \quit

-- Nothing to do: 0.2.0 installs the same objects as 0.1.0. Only the install
-- script's sources changed (the operator classes are written by
-- scripts/gen_sql.sh, the index functions moved to their own fragment);
-- pg_regress core_upgrade checks that the two versions have the same objects.
