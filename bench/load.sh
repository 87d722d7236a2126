#!/usr/bin/env bash
# load.sh is the load test of issue 12: pgbench clients insert, update,
# delete and run filtered k-NN searches on one table with a vecdb hnsw index
# (a scalar column inside), while a second loop runs VACUUM and
# vecdb_compact(); background sealing runs as configured (vecdb preloaded).
# Afterwards it checks vecdb_verify, counts errors and compares recall@10
# (100 random queries against exact search) with a fresh build (REINDEX).
# Results: bench/results/load_<label>.md and a summary on stdout.
#   bash bench/load.sh                                   # 16 clients, 600 s
#   bash bench/load.sh --clients 8 --duration 120 --label smoke
# Options: --clients N (16), --duration S (600), --rows N (50000 to start),
# --dims D (32), --label L (run), --server-opts "..." (added to the server's).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh

CLIENTS=16
DURATION=600
ROWS=50000
DIMS=32
LABEL=run
EXTRA_OPTS=
while [ $# -gt 0 ]; do
	case $1 in
	--clients) CLIENTS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--rows) ROWS=$2; shift 2 ;;
	--dims) DIMS=$2; shift 2 ;;
	--label) LABEL=$2; shift 2 ;;
	--server-opts) EXTRA_OPTS=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
STARTED=$(date +%s)

# shellcheck disable=SC2086
vecdb_install_deps $VECDB_BUILD_PACKAGES
exec 9>/tmp/vecdb-install.lock
flock 9
vecdb_build_install
flock -u 9

WORK=$(mktemp -d /tmp/vecdb-load.XXXXXX)
chmod 755 "$WORK"
DATADIR=$WORK/data
PORT=$(vecdb_free_port 55600)
LOOP_PID=
cleanup() {
	if [ -n "$LOOP_PID" ]; then kill "$LOOP_PID" 2>/dev/null || true; fi
	vecdb_pg_stop "$DATADIR"
}
trap cleanup EXIT
SERVER_OPTS="-c shared_preload_libraries=vecdb -c shared_buffers=1GB -c vecdb.shared_memory_size=1GB -c max_connections=$((CLIENTS + 20)) -c max_wal_size=4GB -c log_min_messages=warning${EXTRA_OPTS:+ $EXTRA_OPTS}"
vecdb_pg_start "$DATADIR" "$PORT" "$WORK" "$SERVER_OPTS" 9>&-
q() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres -d postgres -At "$@"; }

RANDVEC="(SELECT array_agg(random()::real) FROM generate_series(1, $DIMS))::vector"
log "loading $ROWS rows of $DIMS dimensions and building the index"
q -c "CREATE EXTENSION vecdb" >/dev/null 2>&1
q <<SQL
CREATE TABLE items (id bigserial PRIMARY KEY, category int, price float8, embedding vector($DIMS));
INSERT INTO items (category, price, embedding)
SELECT 1 + g % 10, random() * 100, (SELECT array_agg(random()::real) FROM generate_series(1, $DIMS) WHERE g > 0)::vector
FROM generate_series(1, $ROWS) g;
CREATE INDEX items_idx ON items USING hnsw (embedding vector_l2_ops, category);
CREATE TABLE queries AS SELECT g AS qid, (SELECT array_agg(random()::real) FROM generate_series(1, $DIMS) WHERE g > 0)::vector AS v
FROM generate_series(1, 100) g;
SQL

# the pgbench scripts: 60% filtered searches, 20% inserts, 10% updates, 10% deletes
cat >"$WORK/search.sql" <<SQL
\set c random(1, 10)
SELECT id FROM items WHERE category = :c ORDER BY embedding <-> $RANDVEC LIMIT 10;
SQL
cat >"$WORK/insert.sql" <<SQL
INSERT INTO items (category, price, embedding) VALUES (1 + (random() * 9)::int, random() * 100, $RANDVEC);
SQL
cat >"$WORK/update.sql" <<SQL
\set id random(1, $ROWS)
UPDATE items SET embedding = $RANDVEC, category = 1 + (random() * 9)::int WHERE id = :id;
SQL
cat >"$WORK/delete.sql" <<SQL
\set id random(1, $ROWS)
DELETE FROM items WHERE id = :id;
SQL
chmod 644 "$WORK"/*.sql

# maintenance beside the clients: VACUUM and a compaction, over and over
(
	i=0
	while true; do
		q -c "VACUUM items" >>"$WORK/maintenance.log" 2>&1 || echo "VACUUM failed" >>"$WORK/maintenance.log"
		q -c "SELECT vecdb_compact('items_idx', false)" >>"$WORK/maintenance.log" 2>&1 ||
			echo "vecdb_compact failed" >>"$WORK/maintenance.log"
		i=$((i + 1))
		echo "round $i" >>"$WORK/maintenance.log"
		sleep 5
	done
) &
LOOP_PID=$!

log "pgbench: $CLIENTS clients for $DURATION s"
set +e
(cd "$WORK" && as_pg "$PG_BIN/pgbench" -n -h "$WORK" -p "$PORT" -U postgres -c "$CLIENTS" -j 2 -T "$DURATION" \
	--max-tries=10 --failures-detailed -l --log-prefix="$WORK/txn" \
	-f "$WORK/search.sql@60" -f "$WORK/insert.sql@20" -f "$WORK/update.sql@10" -f "$WORK/delete.sql@10" \
	postgres) >"$WORK/pgbench.log" 2>&1
PGBENCH_RC=$?
set -e
kill "$LOOP_PID" 2>/dev/null || true
wait "$LOOP_PID" 2>/dev/null || true
LOOP_PID=
cat "$WORK/pgbench.log" | grep -vE '^(pgbench|transaction type|scaling|query mode|number of clients|number of threads|maximum number)' || true

log "after the run: vecdb_verify, recall against exact search, then after REINDEX"
VERIFY=$(q -c "SELECT vecdb_verify('items_idx')" 2>&1 | tail -n 1)
recall_sql="
SET enable_indexscan = off; SET enable_bitmapscan = off;
DROP TABLE IF EXISTS truth; CREATE TABLE truth AS
SELECT q.qid, x.id FROM queries q, LATERAL (SELECT id FROM items ORDER BY embedding <-> q.v LIMIT 10) x;
RESET enable_indexscan; RESET enable_bitmapscan; SET enable_seqscan = off;
DROP TABLE IF EXISTS got; CREATE TABLE got AS
SELECT q.qid, x.id FROM queries q, LATERAL (SELECT id FROM items ORDER BY embedding <-> q.v LIMIT 10) x;
SELECT round((SELECT count(*) FROM got JOIN truth USING (qid, id))::numeric / (SELECT count(*) FROM truth), 4);"
RECALL_LIVE=$(q -c "$recall_sql" | tail -n 1)
SEGMENTS=$(q -c "SELECT count(*) FILTER (WHERE kind <> 'growing') || ' segments + ' || sum(rows) FILTER (WHERE kind = 'growing') || ' growing rows' FROM vecdb_index_info('items_idx')")
ROWS_END=$(q -c "SELECT count(*) FROM items")
q -c "REINDEX INDEX items_idx" >/dev/null
RECALL_FRESH=$(q -c "$recall_sql" | tail -n 1)
MAINT_ROUNDS=$(grep -c '^round' "$WORK/maintenance.log" || true)
MAINT_FAILED=$(grep -c 'failed' "$WORK/maintenance.log" || true)

# per-script latency percentiles from pgbench's transaction logs
# (columns: client, transaction, latency us, script, epoch, us, retries)
PCT=$(cat "$WORK"/txn.* | /usr/bin/python3 -c '
import sys
names = ["search", "insert", "update", "delete"]
lat = {}
for line in sys.stdin:
    f = line.split()
    if len(f) < 4 or f[2] in ("failed", "skipped"):
        continue
    lat.setdefault(int(f[3]), []).append(int(f[2]) / 1000.0)
for s in sorted(lat):
    v = sorted(lat[s])
    p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    print(f"| {names[s]} | {len(v):,} | {p(0.5):.2f} | {p(0.99):.2f} |")
')
TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/pgbench.log" | head -1)
FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.log" | head -1)
SERIAL=$(sed -n 's/^number of serialization failures: \([0-9]*\).*/\1/p' "$WORK/pgbench.log" | head -1)
DEADLOCK=$(sed -n 's/^number of deadlock failures: \([0-9]*\).*/\1/p' "$WORK/pgbench.log" | head -1)
RETRIED=$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$WORK/pgbench.log" | head -1)
SERVER_ERRORS=$(grep -cE ' (ERROR|FATAL|PANIC): ' "$DATADIR/server.log" || true)
CRASHES=$(grep -c 'terminated by signal' "$DATADIR/server.log" || true)
RECALL_GAP=$(/usr/bin/python3 -c "print(f'{$RECALL_FRESH - $RECALL_LIVE:+.4f}')")

mkdir -p bench/results
OUTMD=bench/results/load_$LABEL.md
{
	echo "**load test** ($LABEL) — $CLIENTS pgbench clients for $DURATION s on $(nproc) CPUs; table items: $ROWS rows of vector($DIMS) at the start, hnsw (embedding vector_l2_ops, category); scripts 60% filtered k-NN (WHERE category = c, LIMIT 10), 20% INSERT, 10% UPDATE of the vector and category, 10% DELETE; beside them VACUUM and vecdb_compact(items_idx, false) every 5 s; server \`$SERVER_OPTS\`; commit $(git rev-parse --short HEAD); $(date -u +%Y-%m-%d)"
	echo
	echo "| measure | value |"
	echo "|---|---|"
	echo "| transactions/s | ${TPS:-?} |"
	echo "| failed transactions (after up to 10 tries) | ${FAILED:-?} (serialization ${SERIAL:-?}, deadlock ${DEADLOCK:-?}) |"
	echo "| transactions retried | ${RETRIED:-?} |"
	echo "| ERROR/FATAL/PANIC lines in the server log | $SERVER_ERRORS |"
	echo "| backends terminated by a signal | $CRASHES |"
	echo "| maintenance rounds (VACUUM + vecdb_compact), failed | $MAINT_ROUNDS, $MAINT_FAILED |"
	echo "| vecdb_verify afterwards | $VERIFY |"
	echo "| rows at the end; index | $ROWS_END; $SEGMENTS |"
	echo "| recall@10 after the run / after REINDEX (gap) | $RECALL_LIVE / $RECALL_FRESH ($RECALL_GAP) |"
	echo
	echo "| script | transactions | p50 ms | p99 ms |"
	echo "|---|---|---|---|"
	echo "$PCT"
	echo
	echo "Goals (issue 12): 0 errors other than serialization retries, vecdb_verify passes, recall within 0.01 of a fresh build. Command: \`bash bench/load.sh --clients $CLIENTS --duration $DURATION --rows $ROWS --dims $DIMS --label $LABEL\`; wall $(( $(date +%s) - STARTED )) s."
} >"$OUTMD"
cp "$WORK/pgbench.log" "bench/results/load_${LABEL}_pgbench.log"
grep -E ' (ERROR|FATAL|PANIC): ' "$DATADIR/server.log" | sed 's/^[^ ]* [^ ]* [^ ]* //' | sort | uniq -c | sort -rn | head -20 \
	>"bench/results/load_${LABEL}_errors.txt" || true
cat "$OUTMD"
echo
echo "server errors by message: bench/results/load_${LABEL}_errors.txt"
[ "${PGBENCH_RC:-1}" -eq 0 ] || echo "pgbench exited with $PGBENCH_RC" >&2
