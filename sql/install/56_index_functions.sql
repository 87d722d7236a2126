-- 56_index_functions: the functions that inspect and maintain vecdb indexes.

CREATE FUNCTION vecdb_index_info(index regclass,
	OUT access_method text, OUT metric text, OUT dims int, OUT generation bigint,
	OUT segment int, OUT kind text, OUT rows bigint, OUT deleted bigint, OUT pages bigint, OUT bytes bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_index_info(regclass) IS 'segments of a vecdb index, sealed ones then the growing one: engine kind, rows, deleted rows, pages and bytes, with the index''s access method, metric, dimensions and directory generation';
CREATE FUNCTION vecdb_compact(index regclass, full boolean DEFAULT true) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION vecdb_compact(regclass, boolean) IS 'compacts a vecdb index now (full: into one segment; else as VACUUM would); readers and writers keep working; true when the index changed';
CREATE FUNCTION vecdb_verify(index regclass) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_verify(regclass) IS 'checks a vecdb index (metapage, every segment, growing segment, no TID twice, every visible heap row indexed); raises an error at the first problem, else true';
CREATE FUNCTION vecdb_last_scan(OUT index regclass, OUT segment int, OUT kind text, OUT strategy text,
	OUT rows bigint, OUT allowed bigint, OUT returned bigint, OUT memory text, OUT read_rows bigint,
	OUT device text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecdb_last_scan() IS 'what the vecdb index scan this session started last did, per segment: engine kind, strategy (exact, exact (few allowed), filtered <kind>, <kind>, none allowed), rows, rows the scalar conditions and delete marks allowed, rows returned, where it was searched (shared: in place in the shared area; private: this connection''s copy), the rows the scan read from index pages to load it, and the device that searched it (cpu: this connection; gpu worker (<device>): the GPU worker, see vecdb.gpu; cpu (gpu worker: <reason>): this connection after the worker could not)';
