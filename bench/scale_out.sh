#!/usr/bin/env bash
# scale_out.sh runs bench/scale_out.py (issue 13, docs/scale-out.md): it
# installs what is needed, builds and installs vecdb (under the install lock),
# starts four private servers with vecdb preloaded (a coordinator that also
# holds the one-server table, and three shards; data in a temp dir, ports from
# 55570), runs the driver and stops them.
#   bash bench/scale_out.sh                       # 900,000 x 128: 3 shards of 300,000 against one server
#   bash bench/scale_out.sh --n 30000 --d 32 --queries 100 --search-queries 100 --label smoke
# Options go to the driver (/usr/bin/python3 bench/scale_out.py --help);
# --server-opts adds server options; --huge-pages MB runs every server with
# huge_pages=on in MB of 2 MB pages reserved for the run (as root; about
# 1,700 per server at the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/side_by_side.sh
# the driver records the command as given here
export VECDB_BENCH_ARGS="$*"
SERVER_OPTS=""
HUGE_MB=""
PY_ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--server-opts) SERVER_OPTS=$2; shift 2 ;;
	--huge-pages) HUGE_MB=$2; SERVER_OPTS="$SERVER_OPTS -c huge_pages=on"; shift 2 ;;
	*) PY_ARGS+=("$1"); shift ;;
	esac
done
bench_prepare 0 vecdb-so
NODES=(coord shard0 shard1 shard2)
sbs_reserve_huge_pages
trap 'for n in "${NODES[@]}"; do vecdb_pg_stop "$WORK/$n"; done; rm -rf "$WORK"
	if [ -n "$SBS_HUGE_RESTORE" ]; then echo "$SBS_HUGE_RESTORE" >/proc/sys/vm/nr_hugepages; fi' EXIT
exec 9>/tmp/vecdb-install.lock
flock 9
as_root make install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
PORTS=()
port=55570
for n in "${NODES[@]}"; do
	port=$(vecdb_free_port "$port")
	PORTS+=("$port")
	vecdb_pg_start "$WORK/$n" "$port" "$WORK" "-c shared_preload_libraries=vecdb -c vecdb.shared_memory_size=1GB \
		-c shared_buffers=512MB -c max_wal_size=8GB -c synchronous_commit=off -c autovacuum=off $SERVER_OPTS"
	port=$((port + 1))
done
flock -u 9
exec 9>&-
/usr/bin/python3 bench/scale_out.py --host "$WORK" --port "${PORTS[0]}" \
	--shard-ports "${PORTS[1]},${PORTS[2]},${PORTS[3]}" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
