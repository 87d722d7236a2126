-- core_install_security: CREATE EXTENSION by a database owner who is not a
-- superuser (vecdb is a trusted extension, so its script then runs as a
-- superuser) must not run any function or operator that owner planted in
-- public beforehand (the class of CVE-2022-2625).
SELECT current_user AS regress_su, current_database() AS regress_db \gset
CREATE ROLE vecdb_sec_owner LOGIN;
CREATE DATABASE vecdb_sec_db OWNER vecdb_sec_owner;
\c vecdb_sec_db vecdb_sec_owner
CREATE TABLE public.planted_calls (what text, by_role name, as_superuser bool);
CREATE FUNCTION public.planted(what text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO public.planted_calls
	SELECT what, current_user, (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
$$;
-- functions that beat the built-ins on argument types, or tie with them
CREATE FUNCTION public.quote_ident(name) RETURNS text LANGUAGE sql AS $$
	SELECT public.planted('quote_ident(name)'); SELECT $1::text $$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE sql AS $$
	SELECT public.planted('quote_ident(text)'); SELECT $1 $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE sql AS $$
	SELECT public.planted('format(text, text)'); SELECT $1 $$;
CREATE FUNCTION public.planted_sfunc(bigint) RETURNS bigint LANGUAGE sql AS $$
	SELECT public.planted('count(*)'); SELECT $1 + 1 $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.planted_sfunc, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION public.planted_sagg(text, name, text) RETURNS text LANGUAGE sql AS $$
	SELECT public.planted('string_agg(name, text)'); SELECT $2::text $$;
CREATE AGGREGATE public.string_agg(name, text) (SFUNC = public.planted_sagg, STYPE = text);
-- operators the script's expressions and operator classes could resolve
CREATE FUNCTION public.planted_eq(name, text) RETURNS bool LANGUAGE sql AS $$
	SELECT public.planted('=(name, text)'); SELECT $1::text = $2 $$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.planted_eq);
CREATE FUNCTION public.planted_gt(bigint, integer) RETURNS bool LANGUAGE sql AS $$
	SELECT public.planted('>(bigint, integer)'); SELECT $1 > $2 $$;
CREATE OPERATOR public.> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.planted_gt);
CREATE FUNCTION public.planted_lt(int4, int4) RETURNS bool LANGUAGE sql AS $$
	SELECT public.planted('<(int4, int4)'); SELECT $1 < $2 $$;
CREATE OPERATOR public.< (LEFTARG = int4, RIGHTARG = int4, FUNCTION = public.planted_lt);
CREATE FUNCTION public.planted_cat(text, text) RETURNS text LANGUAGE sql AS $$
	SELECT public.planted('||(text, text)'); SELECT $1 $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.planted_cat);
SET search_path = public, pg_catalog;
CREATE EXTENSION vecdb;
RESET search_path;
-- nothing planted ran, as the superuser or otherwise
SELECT what, by_role, as_superuser FROM public.planted_calls ORDER BY what;
-- the extension works for its non-superuser owner
SELECT extname, pg_catalog.pg_get_userbyid(extowner) AS owner FROM pg_catalog.pg_extension WHERE extname = 'vecdb';
SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector AS distance;
CREATE TABLE items (id int, v vector(2), n int4);
INSERT INTO items SELECT i, ARRAY[i, i % 7]::real[]::vector, i % 5 FROM pg_catalog.generate_series(1, 50) i;
CREATE INDEX ON items USING hnsw (v vector_l2_ops, n);
SET enable_seqscan = off;
SELECT id FROM items WHERE n OPERATOR(pg_catalog.<) 2 ORDER BY v <-> '[10,3]' LIMIT 3;
SELECT what FROM public.planted_calls ORDER BY what;
\c :regress_db :regress_su
DROP DATABASE vecdb_sec_db;
DROP ROLE vecdb_sec_owner;
