#!/usr/bin/env bash
# gpu_worker.sh measures what the GPU worker's round trip costs, with its CPU stand-in
# behind it (vecdb.gpu_stand_in: no GPU is needed, and none is used): LIMIT 10 searches
# of a flat index under vecdb.gpu = off (the backend searches) and on (the worker
# searches), alternating in --passes passes:
#   - end to end: pgbench, one connection and four, the same random queries;
#   - the connection's floor: the same statement shape without the search;
#   - server time per search: a PL/pgSQL loop of 2,000 searches;
#   - vecdb_search of 64 queries (one worker request) against the same 64 as
#     64 index scans (LATERAL ... LIMIT 10).
# It builds and installs vecdb, starts a private preloaded server (data in a temp dir,
# port from 55600) and writes bench/results/gpu_worker_<label>.md.
#   bash bench/gpu_worker.sh                     # 20,000 x 128, 8 s per run, 3 passes
#   bash bench/gpu_worker.sh --rows 100000 --window 0 --label w0
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ROWS=20000
DIMS=128
SECONDS_PER_RUN=8
PASSES=3
WINDOW=0.1
LABEL=$(date +%Y%m%d)
while [ $# -gt 0 ]; do
	case $1 in
	--rows) ROWS=$2; shift 2 ;;
	--dims) DIMS=$2; shift 2 ;;
	--seconds) SECONDS_PER_RUN=$2; shift 2 ;;
	--passes) PASSES=$2; shift 2 ;;
	--window) WINDOW=$2; shift 2 ;;
	--label) LABEL=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
vecdb_build_install
WORK=$(mktemp -d /tmp/vecdb-gpu-worker.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$WORK"
PORT=$(vecdb_free_port 55600)
cleanup() { vecdb_pg_stop "$WORK/data"; rm -rf "$WORK"; }
trap cleanup EXIT
vecdb_pg_start "$WORK/data" "$PORT" "$WORK" "-c shared_preload_libraries=vecdb -c vecdb.gpu=on \
-c vecdb.gpu_stand_in=on -c vecdb.gpu_batch_window=$WINDOW -c jit=off -c shared_buffers=512MB -c autovacuum=off"
psql_q() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -d postgres -At "$@"; }

log "loading $ROWS x $DIMS"
psql_q -c "CREATE EXTENSION vecdb" -c "SELECT setseed(0.5)" -c "
	CREATE TABLE f (id int PRIMARY KEY, v vector($DIMS));
	INSERT INTO f SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, $DIMS) WHERE i > 0)::vector
		FROM generate_series(1, $ROWS) i;
	CREATE INDEX f_flat ON f USING flat (v vector_l2_ops);
	CREATE TABLE fq (id int PRIMARY KEY, v vector($DIMS));
	INSERT INTO fq SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, $DIMS) WHERE i > 0)::vector
		FROM generate_series(1, 64) i;
	SELECT vecdb_prewarm('f_flat');" >/dev/null
[ "$(psql_q -c "SELECT state || ' / ' || device FROM vecdb_gpu_status()")" = "ready / cpu stand-in" ] ||
	{ echo "the worker is not ready" >&2; exit 1; }

cat >"$WORK/search.sql" <<'SQL'
\set q random(1, 64)
SELECT id FROM f ORDER BY v <-> (SELECT v FROM fq WHERE id = :q) LIMIT 10;
SQL
cat >"$WORK/floor.sql" <<'SQL'
\set q random(1, 64)
SELECT (SELECT v FROM fq WHERE id = :q) IS NULL;
SQL
chmod 644 "$WORK"/*.sql

# pgb MODE CLIENTS SCRIPT prints "tps latency_ms"
pgb() {
	as_pg env PGOPTIONS="-c vecdb.gpu=$1 -c enable_seqscan=off" "$PG_BIN/pgbench" -h "$WORK" -p "$PORT" -n \
		-c "$2" -j "$2" -T "$SECONDS_PER_RUN" -f "$3" postgres 2>&1 |
		awk '/^latency average/ { l = $4 } /^tps/ { t = $3 } END { printf "%.0f %.3f\n", t, l }'
}

# server_us MODE prints the server time of one search, in microseconds (2,000 in a loop)
server_us() {
	psql_q -c "SET vecdb.gpu = $1" -c "SET enable_seqscan = off" -c "
	DO \$\$ DECLARE t0 timestamptz; n int := 2000; r int; qv vector;
	BEGIN
		t0 := clock_timestamp();
		FOR i IN 1 .. n LOOP
			SELECT v INTO qv FROM fq WHERE id = 1 + i % 64;
			SELECT id INTO r FROM f ORDER BY v <-> qv LIMIT 1 OFFSET 9;
		END LOOP;
		RAISE NOTICE '%', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / n);
	END \$\$;" 2>&1 | sed -n 's/.*NOTICE: *//p'
}

# batch_ms MODE FORM prints the median of 5 timings (ms) of 64 queries as one vecdb_search or as 64 scans
batch_ms() {
	local stmt
	if [ "$2" = batch ]; then
		stmt="PERFORM count(*) FROM vecdb_search('f_flat', (SELECT array_agg(v ORDER BY id) FROM fq), 10)"
	else
		stmt="PERFORM count(*) FROM fq, LATERAL (SELECT id FROM f ORDER BY v <-> fq.v LIMIT 10) s"
	fi
	psql_q -c "SET vecdb.gpu = $1" -c "SET enable_seqscan = off" -c "
	DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}';
	BEGIN
		FOR i IN 1 .. 6 LOOP
			t0 := clock_timestamp();
			$stmt;
			IF i > 1 THEN ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000; END IF;
		END LOOP;
		RAISE NOTICE '%', round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 2);
	END \$\$;" 2>&1 | sed -n 's/.*NOTICE: *//p'
}

OUT=bench/results/gpu_worker_$LABEL.md
{
	echo "# GPU worker round trip, CPU stand-in ($LABEL)"
	echo
	echo "\`bash bench/gpu_worker.sh --rows $ROWS --dims $DIMS --seconds $SECONDS_PER_RUN --passes $PASSES --window $WINDOW --label $LABEL\`"
	echo "on $(nproc) CPUs, $(date -u +%Y-%m-%d); flat index of $ROWS x $DIMS random rows (uniform), LIMIT 10,"
	echo "64 query vectors; vecdb.gpu_batch_window = $WINDOW ms. off: the backend searches; on: the"
	echo "worker (one process) searches with the CPU engine. No GPU is involved."
	echo
	echo "| pass | clients | off: QPS (latency ms) | on: QPS (latency ms) | on / off |"
	echo "| --- | --- | --- | --- | --- |"
} >"$OUT"
for p in $(seq 1 "$PASSES"); do
	for c in 1 4; do
		if [ $((p % 2)) -eq 1 ]; then
			read -r t_off l_off <<<"$(pgb off "$c" "$WORK/search.sql")"
			read -r t_on l_on <<<"$(pgb on "$c" "$WORK/search.sql")"
		else
			read -r t_on l_on <<<"$(pgb on "$c" "$WORK/search.sql")"
			read -r t_off l_off <<<"$(pgb off "$c" "$WORK/search.sql")"
		fi
		echo "| $p | $c | $t_off ($l_off) | $t_on ($l_on) | $(awk -v a="$t_on" -v b="$t_off" 'BEGIN { printf "%.2f", a / b }') |" >>"$OUT"
	done
done
read -r t_floor l_floor <<<"$(pgb off 1 "$WORK/floor.sql")"
{
	echo
	echo "Floor (same connection, the query vector fetched, no search): $t_floor QPS, $l_floor ms."
	echo
	echo "| measure | off | on |"
	echo "| --- | --- | --- |"
	echo "| server time per search, PL/pgSQL loop (us) | $(server_us off) | $(server_us on) |"
	echo "| 64 queries: vecdb_search, median of 5 (ms) | $(batch_ms off batch) | $(batch_ms on batch) |"
	echo "| 64 queries: 64 index scans, median of 5 (ms) | $(batch_ms off scans) | $(batch_ms on scans) |"
	echo
	psql_q -c "SELECT 'worker: ' || requests || ' requests, ' || queries || ' queries, ' || batches
		|| ' engine calls, at most ' || max_batch || ' queries in one, ' || failed || ' failed' FROM vecdb_gpu_status()"
} >>"$OUT"
cat "$OUT"
