#!/usr/bin/env bash
# time_travel.sh runs bench/time_travel.py (issue 11, docs/time-travel.md) against a
# private server: it installs what is needed (periods included), builds and installs
# vecdb (under the install lock), starts a server with vecdb preloaded (data in a temp
# dir, port from 55560), runs the driver and stops the server.
#   bash bench/time_travel.sh                                 # 100,000 x 128, 5 rounds of 20%
#   bash bench/time_travel.sh --n 5000 --d 32 --queries 100 --search-queries 100 --label smoke
# Options go to the driver (/usr/bin/python3 bench/time_travel.py --help); --server-opts
# adds server options.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/side_by_side.sh
SERVER_OPTS=""
PY_ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--server-opts) SERVER_OPTS=$2; shift 2 ;;
	*) PY_ARGS+=("$1"); shift ;;
	esac
done
bench_prepare 0 vecdb-tt
trap 'vecdb_pg_stop "$WORK/data"; rm -rf "$WORK"' EXIT
exec 9>/tmp/vecdb-install.lock
flock 9
as_root make install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
PORT=$(vecdb_free_port 55560)
# maintenance_work_mem is the seal worker's too: 1GB lets it keep the 102,000
# history versions in one segment, as docs/time-travel.md advises (with the
# 64MB default they become three, and an as-of search walks each)
vecdb_pg_start "$WORK/data" "$PORT" "$WORK" "-c shared_preload_libraries=vecdb -c vecdb.shared_memory_size=1GB \
	-c shared_buffers=1GB -c maintenance_work_mem=1GB -c max_wal_size=8GB -c synchronous_commit=off -c autovacuum=off \
	$SERVER_OPTS"
as_pg "$PG_BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d postgres -c "CREATE EXTENSION vecdb" 2>/dev/null
flock -u 9
exec 9>&-
/usr/bin/python3 bench/time_travel.py --host "$WORK" --port "$PORT" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
