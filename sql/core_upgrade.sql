-- core_upgrade: vecdb installed at its oldest version (0.1.0) and brought to the
-- current one by ALTER EXTENSION ... UPDATE has exactly the objects, definitions
-- and comments of a fresh install, under both extension names.
CREATE DATABASE vecdb_core_upgrade;
\c vecdb_core_upgrade
-- the scripts warn in per-backend mode (vecdb not preloaded); not checked here
SET client_min_messages = error;
-- extension_objects lists every member of the extension installed here, and
-- every operator and support function of its operator families, with what
-- defines it and its comment.
CREATE TEMP VIEW extension_objects AS
WITH members AS (
	SELECT d.classid, d.objid
	FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	  AND e.extname IN ('vecdb', 'vector')
), objects AS (
	SELECT classid, objid FROM members
	UNION ALL
	SELECT 'pg_amop'::regclass, o.oid FROM pg_amop o
	WHERE o.amopfamily IN (SELECT objid FROM members WHERE classid = 'pg_opfamily'::regclass)
	UNION ALL
	SELECT 'pg_amproc'::regclass, p.oid FROM pg_amproc p
	WHERE p.amprocfamily IN (SELECT objid FROM members WHERE classid = 'pg_opfamily'::regclass)
)
SELECT pg_describe_object(classid, objid, 0) AS object,
	CASE classid
	WHEN 'pg_proc'::regclass THEN (
		SELECT concat_ws(' ', p.prokind, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
			p.proleakproof, p.procost, p.prorows, p.proretset, p.prorettype::regtype,
			pg_get_function_arguments(p.oid), p.prosrc, a.aggtransfn, a.aggfinalfn,
			a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggtranstype::regtype, a.agginitval)
		FROM pg_proc p LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid WHERE p.oid = objid)
	WHEN 'pg_type'::regclass THEN (
		SELECT concat_ws(' ', t.typtype, t.typlen, t.typbyval, t.typalign, t.typstorage,
			t.typcategory, t.typinput, t.typoutput, t.typreceive, t.typsend, t.typmodin,
			t.typmodout, t.typanalyze, t.typsubscript, t.typelem::regtype)
		FROM pg_type t WHERE t.oid = objid)
	WHEN 'pg_operator'::regclass THEN (
		SELECT concat_ws(' ', o.oprcode, o.oprcom::regoperator, o.oprnegate::regoperator,
			o.oprrest, o.oprjoin, o.oprcanmerge, o.oprcanhash)
		FROM pg_operator o WHERE o.oid = objid)
	WHEN 'pg_cast'::regclass THEN (
		SELECT concat_ws(' ', c.castfunc::regprocedure, c.castcontext, c.castmethod)
		FROM pg_cast c WHERE c.oid = objid)
	WHEN 'pg_opclass'::regclass THEN (
		SELECT concat_ws(' ', c.opcdefault, c.opcintype::regtype, c.opckeytype::regtype,
			pg_describe_object('pg_opfamily'::regclass, c.opcfamily, 0))
		FROM pg_opclass c WHERE c.oid = objid)
	WHEN 'pg_amop'::regclass THEN (
		SELECT concat_ws(' ', o.amoppurpose, pg_describe_object('pg_opfamily'::regclass, o.amopsortfamily, 0))
		FROM pg_amop o WHERE o.oid = objid)
	WHEN 'pg_am'::regclass THEN (
		SELECT concat_ws(' ', a.amtype, a.amhandler) FROM pg_am a WHERE a.oid = objid)
	END AS definition,
	obj_description(objid, classid::regclass::text) AS comment
FROM objects;

-- vecdb: 0.1.0, updated
CREATE EXTENSION vecdb VERSION '0.1.0';
SELECT extname, extversion FROM pg_extension WHERE extname = 'vecdb';
ALTER EXTENSION vecdb UPDATE;
SELECT extname, extversion FROM pg_extension WHERE extname = 'vecdb';
CREATE TEMP TABLE vecdb_updated AS SELECT * FROM extension_objects;
DROP EXTENSION vecdb;
-- vecdb: fresh
CREATE EXTENSION vecdb;
CREATE TEMP TABLE vecdb_fresh AS SELECT * FROM extension_objects;
DROP EXTENSION vecdb;
-- vector: 0.1.0, updated
CREATE EXTENSION vector VERSION '0.1.0';
ALTER EXTENSION vector UPDATE;
SELECT extname, extversion FROM pg_extension WHERE extname = 'vector';
CREATE TEMP TABLE vector_updated AS SELECT * FROM extension_objects;
DROP EXTENSION vector;
-- vector: fresh
CREATE EXTENSION vector;
CREATE TEMP TABLE vector_fresh AS SELECT * FROM extension_objects;
DROP EXTENSION vector;

-- every list holds types, functions, operators, casts, operator classes and
-- their operators (so that an empty comparison below means something)
SELECT name,
	count(*) FILTER (WHERE object LIKE 'type %') > 0 AS types,
	count(*) FILTER (WHERE object LIKE 'function %') > 0 AS functions,
	count(*) FILTER (WHERE object LIKE 'operator class %') > 0 AS opclasses,
	count(*) FILTER (WHERE object LIKE 'operator % of operator family %') > 0 AS amops,
	count(*) FILTER (WHERE object LIKE 'cast %') > 0 AS casts
FROM (SELECT 'vecdb_updated' AS name, object FROM vecdb_updated
	UNION ALL SELECT 'vecdb_fresh', object FROM vecdb_fresh
	UNION ALL SELECT 'vector_updated', object FROM vector_updated
	UNION ALL SELECT 'vector_fresh', object FROM vector_fresh) lists
GROUP BY name ORDER BY name;
-- differences: none expected
(SELECT 'vecdb: only updated' AS difference, * FROM vecdb_updated EXCEPT SELECT 'vecdb: only updated', * FROM vecdb_fresh)
UNION ALL
(SELECT 'vecdb: only fresh', * FROM vecdb_fresh EXCEPT SELECT 'vecdb: only fresh', * FROM vecdb_updated)
UNION ALL
(SELECT 'vector: only updated', * FROM vector_updated EXCEPT SELECT 'vector: only updated', * FROM vector_fresh)
UNION ALL
(SELECT 'vector: only fresh', * FROM vector_fresh EXCEPT SELECT 'vector: only fresh', * FROM vector_updated)
UNION ALL
(SELECT 'only vecdb', * FROM vecdb_fresh EXCEPT SELECT 'only vecdb', * FROM vector_fresh)
UNION ALL
(SELECT 'only vector', * FROM vector_fresh EXCEPT SELECT 'only vector', * FROM vecdb_fresh)
ORDER BY 1, 2;
SELECT count(*) = (SELECT count(*) FROM vecdb_fresh) AS same_count FROM vecdb_updated;

-- with data: a database made at the oldest version, with an index of each
-- kind, gives the same answers after ALTER EXTENSION ... UPDATE, its indexes
-- stay consistent and take new rows
CREATE EXTENSION vector VERSION '0.1.0';
CREATE TABLE up_items (id int PRIMARY KEY, v vector(4), h halfvec(4), s sparsevec(6), b bit(12), cat int);
INSERT INTO up_items
SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i)]::real[]::vector,
	ARRAY[cos(i), sin(i), 0.5, sin(5 * i)]::real[]::halfvec,
	format('{%s:%s,%s:1}/6', 1 + i % 6, round((1 + i % 7) / 7.0, 3), 1 + (i % 6 + 3) % 6)::sparsevec,
	(i * 2654435761 % 4096)::int::bit(12), i % 5
FROM generate_series(1, 300) i;
CREATE INDEX up_hnsw ON up_items USING hnsw (v vector_l2_ops, cat);
CREATE INDEX up_ivf ON up_items USING ivfflat (h halfvec_cosine_ops) WITH (lists = 4);
CREATE INDEX up_sparse ON up_items USING hnsw (s sparsevec_ip_ops);
CREATE INDEX up_bit ON up_items USING hnsw (b bit_hamming_ops);
CREATE INDEX up_pq ON up_items USING ivfpq (v vector_l2_ops) WITH (lists = 2, m = 2);
DELETE FROM up_items WHERE id % 50 = 0;
CREATE TEMP VIEW up_answers AS
SELECT 'hnsw filtered' AS query, array_agg(id) AS ids FROM
	(SELECT id FROM up_items WHERE cat = 2 ORDER BY v <-> '[0.5,0.5,0,0]' LIMIT 5) a
UNION ALL SELECT 'ivfflat', array_agg(id) FROM
	(SELECT id FROM up_items ORDER BY h <=> '[1,0,0.5,0]' LIMIT 5) b
UNION ALL SELECT 'sparse', array_agg(id) FROM
	(SELECT id FROM up_items ORDER BY s <#> '{2:1,5:0.5}/6', id LIMIT 5) c
UNION ALL SELECT 'bit distances', array_agg(d) FROM
	(SELECT b <~> '101010101010' AS d FROM up_items ORDER BY b <~> '101010101010' LIMIT 8) d
UNION ALL SELECT 'ivfpq', array_agg(id) FROM
	(SELECT id FROM up_items ORDER BY v <-> '[0,1,0,1]' LIMIT 5) e;
SET enable_seqscan = off;
SET ivfflat.probes = 4;
SET ivfpq.probes = 2;
CREATE TEMP TABLE up_before AS SELECT * FROM up_answers;
ALTER EXTENSION vector UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'vector';
SELECT query, cardinality(b.ids) AS n, a.ids = b.ids AS same FROM up_before b JOIN up_answers a USING (query) ORDER BY query;
SELECT c.relname, vecdb_verify(c.oid) FROM pg_class c
WHERE c.relname IN ('up_hnsw', 'up_ivf', 'up_sparse', 'up_bit', 'up_pq') ORDER BY 1;
INSERT INTO up_items VALUES (1000, '[9,9,9,9]', '[9,9,9,9]', '{6:9}/6', '111111111111', 2);
SELECT id FROM up_items WHERE cat = 2 ORDER BY v <-> '[9,9,9,9]' LIMIT 1;
SELECT id FROM up_items ORDER BY s <#> '{6:1}/6' LIMIT 1;
RESET enable_seqscan;
RESET ivfflat.probes;
RESET ivfpq.probes;
DROP VIEW up_answers;
DROP TABLE up_items, up_before;
DROP EXTENSION vector;

\c contrib_regression
DROP DATABASE vecdb_core_upgrade;
