#!/bin/bash
# failover_async.sh measures what an asynchronous standby loses at a failover,
# and how long a client through a multi-host connection string takes to
# write again: a client inserts committed batches into a vecdb-indexed table
# on the primary, every primary process is SIGKILLed, the standby is promoted
# (pg_ctl promote, at once), and the acknowledged rows missing there are
# counted. With --cut S the standby's walreceiver is stopped (SIGSTOP) for
# the last S seconds before the kill while the client keeps committing: a
# network cut, whose acknowledged rows never reach the standby. Not part of
# the test suite.
# usage: bench/failover_async.sh [--cut SECONDS] [seconds of load before the kill (5)] [rounds (3)]
# Runs the servers as postgres when started as root; private ports 56100/56101.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
CUT_S=0
if [ "${1:-}" = "--cut" ]; then
	CUT_S=$2
	shift 2
fi
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

# walreceiver_pid prints the pid of the walreceiver of the server in DATADIR.
walreceiver_pid() {
	local pm
	pm=$(head -1 "$1/postmaster.pid")
	ps -o pid=,args= --ppid "$pm" | awk '/walreceiver/ {print $1; exit}'
}

for round in $(seq 1 "$ROUNDS"); do
	rm -rf "$W/p" "$W/s"
	vecdb_pg_start "$W/p" $P1 "$W" "-c wal_level=replica -c max_wal_senders=4 -c fsync=on -c shared_preload_libraries=vecdb" 2>/dev/null
	psql_p $P1 "CREATE EXTENSION IF NOT EXISTS vecdb; CREATE TABLE t (id bigint PRIMARY KEY, v vector(16)); CREATE INDEX ON t USING hnsw (v vector_l2_ops);"
	as_pg "$PG_BIN/pg_basebackup" -h "$W" -p $P1 -U postgres -D "$W/s" -R -X stream --no-sync
	vecdb_pg_start "$W/s" $P2 "$W" "-c fsync=on -c shared_preload_libraries=vecdb" 2>/dev/null
	# The writer connects through a multi-host string (target_session_attrs
	# = read-write) and prints "ack ID TIME" after each batch's COMMIT
	# returned; when a batch fails it prints "lost TIME" once, reconnects
	# (every 20 ms) and retries the batch (ON CONFLICT DO NOTHING: a batch
	# whose COMMIT was in doubt may be there already).
	/usr/bin/python3 - "$W" $P1 $P2 >"$W/acked" 2>/dev/null <<'PY' &
import random, sys, time, psycopg
dsn = f"host={sys.argv[1]},{sys.argv[1]} port={sys.argv[2]},{sys.argv[3]} dbname=postgres user=postgres " \
      "target_session_attrs=read-write connect_timeout=2"
conn, i, down = psycopg.connect(dsn, autocommit=True), 0, False
while True:
    rows = [(i + j, "[" + ",".join(f"{random.random():.4f}" for _ in range(16)) + "]") for j in range(1, 11)]
    try:
        with conn.transaction():
            conn.cursor().executemany("INSERT INTO t VALUES (%s, %s::vector) ON CONFLICT DO NOTHING", rows)
    except psycopg.Error:
        if not down:
            print("lost", time.time(), flush=True)
            down = True
        time.sleep(0.02)
        try:
            conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error:
            pass
        continue
    i += 10
    print("ack", i, time.time(), flush=True)
PY
	writer=$!
	sleep "$(echo "$LOAD_S - $CUT_S" | bc)"
	if [ "$CUT_S" != 0 ]; then
		wr=$(walreceiver_pid "$W/s")
		kill -STOP "$wr"
		sleep "$CUT_S"
	fi
	lag=$(psql_p $P1 "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) || ' ' || coalesce(round(extract(epoch FROM replay_lag) * 1000, 1)::text, 'null') || ' ' || pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) FROM pg_stat_replication")
	t_kill=$(date +%s.%N)
	kill_all_pids "$W/p"
	if [ "$CUT_S" != 0 ]; then kill -CONT "$wr" 2>/dev/null || true; fi
	as_pg "$PG_BIN/pg_ctl" -D "$W/s" -w promote >/dev/null
	t_promoted=$(date +%s.%N)
	knn=$(psql_p $P2 "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t LIMIT 1) LIMIT 5) s")
	t_knn=$(date +%s.%N)
	sleep 2
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	# acknowledged before the kill: the last ack before the writer saw the failure
	acked=$(awk '$1 == "lost" {exit} $1 == "ack" {id = $2} END {print id + 0}' "$W/acked")
	t_back=$(awk '$1 == "lost" {seen = 1; next} seen && $1 == "ack" {print $3; exit}' "$W/acked")
	have=$(psql_p $P2 "SELECT count(*) FROM t WHERE id <= $acked")
	echo "round $round: acknowledged before the kill $acked, on the promoted standby $have, lost $((acked - have)); before the kill: walreceiver stopped ${CUT_S} s, replay lag $(echo $lag | cut -d' ' -f1) bytes, $(echo $lag | cut -d' ' -f2) ms, flush lag $(echo $lag | cut -d' ' -f3) bytes; kill to promoted $(echo "$t_promoted - $t_kill" | bc) s, to first k-NN ($knn rows) $(echo "$t_knn - $t_kill" | bc) s, to the client's first acknowledged batch on the new primary ${t_back:+$(echo "$t_back - $t_kill" | bc) s}"
	vecdb_pg_stop "$W/s"
	sleep 1
done
rm -rf "$W"
