-- vecdb upgrade script from 0.2.0 to 0.3.0 (ALTER EXTENSION vecdb UPDATE).
-- Frozen once released: never edit it; a later change goes into a new
-- vecdb--0.3.0--X.Y.Z.sql (docs/decisions.md, "Versions and upgrade scripts").
\echo Use "ALTER EXTENSION vecdb UPDATE TO '0.3.0'" to load this file. \quit

-- Dense vectors are kept in the table row (storage main) rather than in the
-- TOAST table: every row an index scan returns has its distance evaluated
-- again by the executor, and an out-of-line vector costs a TOAST index
-- lookup each time (docs/decisions.md, "Vector storage"). Columns created
-- before the update keep their storage; ALTER TABLE ... ALTER COLUMN ...
-- SET STORAGE MAIN changes one (rows written later are stored the new way).
ALTER TYPE vector SET (STORAGE = main);
ALTER TYPE halfvec SET (STORAGE = main);
