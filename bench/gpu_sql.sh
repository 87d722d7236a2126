#!/usr/bin/env bash
# bench/gpu_sql.sh measures issue 10's SQL goal on a GPU machine: exact
# LIMIT 10 searches of a flat index through SQL, --clients concurrent
# clients (pgbench), under vecdb.gpu = off (each backend scans on its CPU
# core) and on (the GPU worker, one process, batches what arrives together),
# plus an ivfflat index at ivfflat.probes 32 both ways, one connection's
# floor, and the server time per search (EXPLAIN ANALYZE). It runs the
# PostgreSQL and vecdb (built with CUDA) that bench/gpu-sql-carry.sh packed
# into .devpg.tar.xz on a Debian machine: carry that archive with the call.
# As root it runs the server as postgres or nobody (PostgreSQL refuses root);
# data, socket and logs live in a temp dir; it stops the server it started.
#   bash bench/gpu_sql.sh                          # 1,000,000 x 128, 16 clients, 15 s per run
#   bash bench/gpu_sql.sh --stand-in --rows 20000 --clients 4 --seconds 3   # a dry run without a GPU
# Output: $OUT/gpu_sql.log (or build/gpu-out) and a summary on stdout.
set -uo pipefail
cd "$(dirname "$0")/.."
ROWS=1000000
DIMS=128
CLIENTS=16
SECS=15
STAND_IN=off
while [ $# -gt 0 ]; do
	case $1 in
	--rows) ROWS=$2; shift 2 ;;
	--dims) DIMS=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--stand-in) STAND_IN=on; shift ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
OUT_DIR=${OUT:-$PWD/build/gpu-out}
mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/gpu_sql.log
T0=$(date +%s)
say() { echo "== $(($(date +%s) - T0)) s: $*" | tee -a "$LOG"; }
[ -f .devpg.tar.xz ] || { echo "gpu_sql.sh: no .devpg.tar.xz (run bench/gpu-sql-carry.sh on a Debian machine and carry it)"; exit 1; }

WORK=$(mktemp -d /tmp/vecdb-gpu-sql.XXXXXX)
chmod 755 "$WORK"
tar -C "$WORK" -xJf .devpg.tar.xz
PGB=$WORK/pg/lib/postgresql/15/bin
export LD_LIBRARY_PATH=$WORK/pg/libs:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
	user=postgres
	id "$user" >/dev/null 2>&1 || user=nobody
	chown -R "$user" "$WORK"
	if command -v runuser >/dev/null; then
		RUNAS=(runuser -u "$user" --)
	else
		RUNAS=(setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups)
	fi
fi
as_db() { "${RUNAS[@]}" env LD_LIBRARY_PATH="$LD_LIBRARY_PATH" PGOPTIONS="${PGOPTIONS:-}" "$@"; }
PORT=55801
PID=
stop() {
	[ -z "$PID" ] && [ -f "$WORK/data/postmaster.pid" ] && PID=$(head -1 "$WORK/data/postmaster.pid")
	[ -n "$PID" ] && kill -INT "$PID" 2>/dev/null
	for _ in $(seq 1 300); do
		{ [ -z "$PID" ] || ! kill -0 "$PID" 2>/dev/null; } && break
		sleep 0.1
	done
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		echo "gpu_sql.sh: the server (pid $PID) has not stopped; $WORK left in place"
	else
		rm -rf "$WORK"
	fi
}
trap stop EXIT

say "initdb and start (vecdb.gpu = on at start, stand-in $STAND_IN)"
as_db "$PGB/initdb" -D "$WORK/data" -U postgres -A trust >>"$LOG" 2>&1 || { tail -5 "$LOG"; exit 1; }
shm=$(( (ROWS * DIMS * 4 * 3) / 1048576 + 512 ))
cat >>"$WORK/data/postgresql.conf" <<CONF
port = $PORT
unix_socket_directories = '$WORK'
listen_addresses = ''
shared_preload_libraries = 'vecdb'
shared_buffers = 2GB
max_connections = $((CLIENTS * 2 + 10))
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
vecdb.shared_memory_size = ${shm}MB
vecdb.gpu = on
vecdb.gpu_memory_size = 16384
vecdb.gpu_stand_in = $STAND_IN
CONF
as_db "$PGB/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start >>"$LOG" 2>&1 || { tail -20 "$WORK/server.log"; exit 1; }
PID=$(head -1 "$WORK/data/postmaster.pid")
q() { as_db "$PGB/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres -d postgres -At "$@"; }
q -c "CREATE EXTENSION vecdb" >>"$LOG" 2>&1 || { tail -20 "$WORK/server.log"; exit 1; }
q -c "SELECT state || ' / ' || device FROM vecdb_gpu_status()" | tee -a "$LOG"

say "loading $ROWS x $DIMS (random, in $CLIENTS parallel parts)"
q -c "CREATE TABLE items (id int PRIMARY KEY, v vector($DIMS)); CREATE TABLE qv (id int PRIMARY KEY, v vector($DIMS));"
per=$(( (ROWS + CLIENTS - 1) / CLIENTS ))
for p in $(seq 0 $((CLIENTS - 1))); do
	lo=$((p * per + 1)); hi=$(( (p + 1) * per < ROWS ? (p + 1) * per : ROWS ))
	q -c "SELECT setseed(0.$((p + 1))); INSERT INTO items SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, $DIMS) WHERE i > 0)::vector FROM generate_series($lo, $hi) i" >/dev/null &
done
wait
q -c "INSERT INTO qv SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, $DIMS) WHERE i > 0)::vector FROM generate_series(1, 1000) i" >/dev/null
say "CREATE INDEX flat, ivfflat (lists 1000)"
q -c "SET maintenance_work_mem = '4GB'; CREATE INDEX items_flat ON items USING flat (v vector_l2_ops)" >>"$LOG" 2>&1
q -c "SELECT vecdb_prewarm('items_flat')" >>"$LOG" 2>&1
q -c "SELECT string_agg(kind || ' ' || rows, ', ' ORDER BY segment) FROM vecdb_index_info('items_flat')" 2>>"$LOG" |
	sed 's/^/flat segments: /' | tee -a "$LOG"

cat >"$WORK/search.sql" <<'SQL'
\set q random(1, 1000)
SELECT id FROM items ORDER BY v <-> (SELECT v FROM qv WHERE id = :q) LIMIT 10;
SQL
cat >"$WORK/floor.sql" <<'SQL'
\set q random(1, 1000)
SELECT (SELECT v FROM qv WHERE id = :q) IS NULL;
SQL
chmod 644 "$WORK"/*.sql
# pgb MODE CLIENTS SCRIPT [extra settings] prints "tps latency_ms"
pgb() {
	PGOPTIONS="-c vecdb.gpu=$1 -c enable_seqscan=off ${4:-}" as_db "$PGB/pgbench" -h "$WORK" -p "$PORT" -U postgres -n \
		-c "$2" -j "$2" -T "$SECS" -f "$3" postgres 2>>"$LOG" |
		awk '/^latency average/ { l = $4 } /^tps/ { t = $3 } END { printf "%.0f %.3f\n", t, l }'
}
# server_ms MODE [settings] prints one search's execution time: EXPLAIN
# ANALYZE in one session after 5 warm-up searches, median of 9 queries
server_ms() {
	local args=(-c "SET vecdb.gpu = $1; SET enable_seqscan = off; ${2:-}")
	for i in 1 2 3 4 5; do
		args+=(-c "SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> (SELECT v FROM qv WHERE id = $i) LIMIT 10) s")
	done
	for i in 11 12 13 14 15 16 17 18 19; do
		args+=(-c "EXPLAIN (ANALYZE, TIMING OFF) SELECT id FROM items ORDER BY v <-> (SELECT v FROM qv WHERE id = $i) LIMIT 10")
	done
	q "${args[@]}" | awk '/Execution Time/ { print $3 }' | sort -n | sed -n 5p
}
SUMMARY=()
row() { SUMMARY+=("$(printf '%-58s %s' "$1" "$2")"); echo "$1: $2" | tee -a "$LOG"; }

say "flat: 1 connection and $CLIENTS clients, off then on"
row "floor, 1 connection (same parameter, no search)" "$(pgb off 1 "$WORK/floor.sql" | awk '{print $1 " q/s"}')"
for mode in off on; do
	row "flat exact, 1 connection, gpu $mode" "$(pgb $mode 1 "$WORK/search.sql" | awk '{print $1 " q/s, " $2 " ms"}')"
	row "flat exact, $CLIENTS clients, gpu $mode" "$(pgb $mode "$CLIENTS" "$WORK/search.sql" | awk '{print $1 " q/s, " $2 " ms"}')"
	row "flat exact, server time per search, gpu $mode" "$(server_ms $mode) ms"
done
q -c "SET vecdb.gpu = on; SET enable_seqscan = off" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
	SELECT id FROM items ORDER BY v <-> (SELECT v FROM qv WHERE id = 7) LIMIT 10" | tee -a "$LOG"
q -c "SELECT * FROM vecdb_gpu_status()" | tee -a "$LOG"

say "ivfflat (lists 1000, probes 32)"
q -c "DROP INDEX items_flat; SET maintenance_work_mem = '4GB'; SET vecdb.train_device = gpu;
	CREATE INDEX items_ivf ON items USING ivfflat (v vector_l2_ops) WITH (lists = 1000)" >>"$LOG" 2>&1
q -c "SELECT vecdb_prewarm('items_ivf')" >>"$LOG" 2>&1
q -c "SELECT string_agg(kind || ' ' || rows, ', ' ORDER BY segment) FROM vecdb_index_info('items_ivf')" 2>>"$LOG" |
	sed 's/^/ivfflat segments: /' | tee -a "$LOG"
for mode in off on; do
	row "ivfflat probes 32, $CLIENTS clients, gpu $mode" \
		"$(pgb $mode "$CLIENTS" "$WORK/search.sql" "-c ivfflat.probes=32" | awk '{print $1 " q/s, " $2 " ms"}')"
	row "ivfflat probes 32, server time per search, gpu $mode" "$(server_ms $mode 'SET ivfflat.probes = 32;') ms"
done
q -c "SELECT * FROM vecdb_gpu_status()" | tee -a "$LOG"
grep -E "ERROR|FATAL|PANIC|vecdb gpu worker" "$WORK/server.log" | tail -20 | tee -a "$LOG"

echo
echo "==== gpu_sql.sh summary ($ROWS x $DIMS, stand-in $STAND_IN, $(nproc) CPUs) ===="
printf '%s\n' "${SUMMARY[@]}"
say "done"
