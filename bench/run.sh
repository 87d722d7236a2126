#!/usr/bin/env bash
# run.sh runs the benchmark harness against a private PostgreSQL with vecdb:
# it installs what is missing, builds and installs vecdb, starts a server
# (data in bench/out/pgdata, port $VECDB_BENCH_PORT, default 55434), runs
# bench/harness.py with the given arguments and stops the server.
#   bash bench/run.sh --n 100000 --d 128 --queries 1000 --filters none,cat10
#   bash bench/run.sh --insert-bench --rows 10000     # insert throughput (bench/insert_bench.py)
#   bash bench/run.sh --segments --counts 1,2,4,8     # query cost of N segments (bench/segments.py)
#   bash bench/run.sh --sparse --n 100000             # sparsevec index, SPLADE-like set (bench/sparse_sql.py)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh

# shellcheck disable=SC2086
vecdb_install_deps $VECDB_BUILD_PACKAGES $VECDB_PY_PACKAGES
vecdb_build_install

OUT=$ROOT/bench/out
mkdir -p "$OUT"
BENCH_DIR=$OUT
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$ROOT"; then
	BENCH_DIR=/var/tmp/vecdb-bench-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)
fi
DATADIR=$BENCH_DIR/pgdata
SOCKDIR=$(mktemp -d /tmp/vecdb-bench.XXXXXX)
chmod 755 "$SOCKDIR"
PORT=$(vecdb_free_port "${VECDB_BENCH_PORT:-55434}")
trap 'vecdb_pg_stop "$DATADIR"; rm -rf "$SOCKDIR"' EXIT
mkdir -p "$BENCH_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$BENCH_DIR"
vecdb_pg_start "$DATADIR" "$PORT" "$SOCKDIR" \
	"-c shared_preload_libraries=vecdb -c vecdb.shared_memory_size=2GB -c shared_buffers=2GB -c maintenance_work_mem=2GB -c max_wal_size=8GB -c synchronous_commit=off"
SCRIPT=bench/harness.py
if [ "${1:-}" = "--insert-bench" ]; then
	SCRIPT=bench/insert_bench.py
	shift
elif [ "${1:-}" = "--segments" ]; then
	SCRIPT=bench/segments.py
	shift
elif [ "${1:-}" = "--sparse" ]; then
	SCRIPT=bench/sparse_sql.py
	shift
fi
/usr/bin/python3 "$SCRIPT" --host "$SOCKDIR" --port "$PORT" --out "$OUT" "$@"
