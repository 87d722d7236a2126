#!/bin/bash
# failover_async.sh measures what an asynchronous standby loses at a failover:
# a client inserts committed batches into a vecdb-indexed table on the
# primary, every primary process is SIGKILLed, the standby is promoted, and
# the acknowledged rows missing there are counted. Not part of the test suite.
# usage: bench/failover_async.sh [seconds of load before the kill (5)] [rounds (3)]
# Runs the servers as postgres when started as root; private ports 56100/56101.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
LOAD_S=${1:-5}
ROUNDS=${2:-3}
W=$(mktemp -d /tmp/vecdb-failover-async.XXXXXX)
chmod 755 "$W"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$W"; fi
P1=56100
P2=56101
psql_p() { as_pg "$PG_BIN/psql" -X -qAt -h "$W" -p "$1" -d postgres -c "$2"; }

# kill_all_pids SIGKILLs the postmaster of DATADIR and each of its children, by pid.
kill_all_pids() {
	local pm kids
	pm=$(head -1 "$1/postmaster.pid")
	kids=$(ps -o pid= --ppid "$pm" | tr '\n' ' ')
	kill -9 "$pm" $kids 2>/dev/null || true
}

for round in $(seq 1 "$ROUNDS"); do
	rm -rf "$W/p" "$W/s"
	vecdb_pg_start "$W/p" $P1 "$W" "-c wal_level=replica -c max_wal_senders=4 -c fsync=on" 2>/dev/null
	psql_p $P1 "CREATE EXTENSION IF NOT EXISTS vecdb; CREATE TABLE t (id bigint PRIMARY KEY, v vector(16)); CREATE INDEX ON t USING hnsw (v vector_l2_ops);"
	as_pg "$PG_BIN/pg_basebackup" -h "$W" -p $P1 -U postgres -D "$W/s" -R -X stream --no-sync
	vecdb_pg_start "$W/s" $P2 "$W" "-c fsync=on" 2>/dev/null
	# The writer prints each acknowledged batch's last id, flushed, after its COMMIT returned.
	/usr/bin/python3 - "$W" $P1 >"$W/acked" 2>/dev/null <<'PY' &
import sys, random, psycopg
conn = psycopg.connect(host=sys.argv[1], port=int(sys.argv[2]), dbname="postgres", user="postgres", autocommit=True)
i = 0
while True:
    rows = [(i + j, "[" + ",".join(f"{random.random():.4f}" for _ in range(16)) + "]") for j in range(1, 11)]
    with conn.transaction():
        conn.cursor().executemany("INSERT INTO t VALUES (%s, %s::vector)", rows)
    i += 10
    print(i, flush=True)
PY
	writer=$!
	sleep "$LOAD_S"
	lag=$(psql_p $P1 "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) || ' ' || coalesce(round(extract(epoch FROM replay_lag) * 1000, 1)::text, 'null') || ' ' || pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) FROM pg_stat_replication")
	kill_all_pids "$W/p"
	wait "$writer" 2>/dev/null || true
	acked=$(tail -1 "$W/acked")
	t0=$(date +%s.%N)
	as_pg "$PG_BIN/pg_ctl" -D "$W/s" -w promote >/dev/null
	have=$(psql_p $P2 "SELECT count(*) FROM t WHERE id <= $acked")
	t1=$(date +%s.%N)
	beyond=$(psql_p $P2 "SELECT count(*) FROM t WHERE id > $acked")
	echo "round $round: acknowledged $acked, on promoted standby $have, lost $((acked - have)) (in flight, unacknowledged, present: $beyond); before the kill: replay lag $(echo $lag | cut -d' ' -f1) bytes, $(echo $lag | cut -d' ' -f2) ms, flush lag $(echo $lag | cut -d' ' -f3) bytes; promote+count $(echo "$t1 - $t0" | bc) s"
	vecdb_pg_stop "$W/s"
	sleep 1
done
rm -rf "$W"
