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
DROP EXTENSION vecdb;
\c contrib_regression
DROP DATABASE vecdb_core_compat;
