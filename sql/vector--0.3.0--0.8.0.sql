-- vector (vecdb under pgvector's name) from 0.3.0 to 0.8.0 (ALTER EXTENSION
-- vector UPDATE). Nothing changes: 0.8.0 is vecdb 0.3.0's SQL, reported under
-- the pgvector release whose interface it provides, so that tools that read
-- extversion to decide what the extension offers (hnsw from 0.5.0, halfvec,
-- sparsevec and bit from 0.7.0, iterative scans from 0.8.0) see it
-- (docs/decisions.md, "The vector name's version"). Frozen once released.
\echo Use "ALTER EXTENSION vector UPDATE TO '0.8.0'" to load this file. \quit
