-- core_extension: the extension installs under both names, and the two names exclude each other.
SELECT extname, extversion FROM pg_extension WHERE extname IN ('vecdb', 'vector') ORDER BY extname;
SELECT vecdb_simd_level() IN ('avx512', 'avx2', 'scalar') AS known_simd_level;

CREATE DATABASE vecdb_core_compat;
\c vecdb_core_compat
CREATE EXTENSION IF NOT EXISTS vector;
SELECT extname, extversion FROM pg_extension WHERE extname IN ('vecdb', 'vector') ORDER BY extname;
SELECT '[1,2,3]'::vector <-> '[3,2,1]'::vector AS l2_under_vector_name;
-- vecdb and pgvector-named vector cannot both live in one database
CREATE EXTENSION vecdb;
DROP EXTENSION vector;
CREATE EXTENSION vecdb;
SELECT '[1,2,3]'::vector <=> '[3,2,1]'::vector AS cosine_under_vecdb_name;
-- and the other way round
CREATE EXTENSION vector;
SELECT count(*) AS extensions FROM pg_extension WHERE extname IN ('vecdb', 'vector');
DROP EXTENSION vecdb;
-- every function, operator, type, cast, aggregate and operator class of the extension has a comment
\c contrib_regression
SELECT classid::regclass, count(*) FILTER (WHERE obj_description(objid, classid::regclass::text) IS NULL) AS without_comment
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecdb')
  AND classid::regclass::text IN ('pg_proc', 'pg_operator', 'pg_type', 'pg_cast', 'pg_opclass', 'pg_opfamily')
GROUP BY 1 ORDER BY classid::regclass::text COLLATE "C";
-- functions are IMMUTABLE STRICT PARALLEL SAFE unless listed here
SELECT p.oid::regprocedure, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecdb')
  AND p.prokind = 'f' AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's')
ORDER BY p.oid::regprocedure::text COLLATE "C";
DROP DATABASE vecdb_core_compat;
