-- 65_gpu: the GPU worker (docs/gpu.md). With vecdb preloaded and vecdb.gpu
-- not off at server start, one background process owns the device; backends
-- send it the exact searches of sealed segments and it answers the requests
-- that arrive together in one batch.

CREATE FUNCTION vecdb_gpu_status(OUT mode text, OUT state text, OUT pid integer, OUT device text,
	OUT requests bigint, OUT queries bigint, OUT batches bigint, OUT max_batch bigint, OUT failed bigint,
	OUT declined bigint, OUT abandoned bigint, OUT queued integer, OUT resident_segments bigint,
	OUT resident_bytes bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_gpu_status() IS 'describes the GPU worker: this session''s vecdb.gpu, the worker''s state (absent, ready, no device), pid, device (or why there is none), requests and queries received, engine calls (batches) and the most queries one answered, requests failed, declined (searched on the CPU instead) and abandoned by their sessions (cancelled), requests queued now, and the segments and bytes it holds; for pg_monitor';
REVOKE ALL ON FUNCTION vecdb_gpu_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecdb_gpu_status() TO pg_monitor;

CREATE FUNCTION vecdb_search(index regclass, queries vector[], k integer)
	RETURNS TABLE (query integer, ctid tid, distance double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecdb_search(regclass, vector[], integer) IS 'the k nearest rows of a vecdb index''s table for each query, as ORDER BY <the index''s distance operator> LIMIT k finds them under the statement''s snapshot: query (its position in the array, from 1), ctid and distance, nearest first; NULL queries get no rows; the segments vecdb.gpu sends to the GPU worker get all queries in one request; needs SELECT on the table, and refuses tables with row-level security';
