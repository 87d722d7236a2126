#!/usr/bin/env bash
# shared_memory.sh runs bench/shared_memory.py: vecdb against pgvector (installed as
# extension pgvector_ref) on the harness' data, for the "one copy of each index in shared
# memory" work. It builds and installs vecdb (under the install lock), starts a private
# server with shared_buffers=1GB plus --server-opts (default: shared_preload_libraries=vecdb),
# runs the driver and stops the server; data in a temp dir, ports from 55500.
#   bash bench/shared_memory.sh                                      # 100,000 x 128
#   bash bench/shared_memory.sh --server-opts ""                     # vecdb not preloaded
#   bash bench/shared_memory.sh --large                              # 1,000,000 x 128 (slow)
# Other options go to the driver (--connections, --backends, --clients, --client-queries,
# --growing, ...: /usr/bin/python3 bench/shared_memory.py --help).
# pgvector defines the same hnsw.* settings as vecdb, so a backend cannot load both: when
# --server-opts preloads vecdb, pgvector runs on a twin server started with the same
# options less vecdb; otherwise in its own database of the same server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/side_by_side.sh

SERVER_OPTS="-c shared_preload_libraries=vecdb"
LARGE=0
PY_ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--server-opts) SERVER_OPTS=$2; shift 2 ;;
	--server-opts=*) SERVER_OPTS=${1#*=}; shift ;;
	--large) LARGE=1; PY_ARGS+=(--large); shift ;;
	*) PY_ARGS+=("$1"); shift ;;
	esac
done

# without_vecdb_preload prints the options $1 with vecdb taken out of
# shared_preload_libraries (the setting dropped when nothing is left).
without_vecdb_preload() {
	local words out=() w name list kept
	read -ra words <<<"$1"
	for w in ${words[@]+"${words[@]}"}; do
		case $w in
		shared_preload_libraries=* | --shared_preload_libraries=* | --shared-preload-libraries=*)
			name=${w%%=*}
			list=${w#*=}
			list=${list//[\'\"]/}
			kept=$(tr ',' '\n' <<<"$list" | sed 's/^ *//; s/ *$//' | grep -vx 'vecdb' | paste -sd, - || true)
			if [ -n "$kept" ]; then
				out+=("$name=$kept")
			elif [ ${#out[@]} -gt 0 ] && [ "${out[-1]}" = "-c" ]; then
				unset 'out[-1]'
				out=(${out[@]+"${out[@]}"})
			fi
			;;
		*) out+=("$w") ;;
		esac
	done
	echo "${out[*]}"
}

# preloads_vecdb tells whether the options $1 put vecdb in shared_preload_libraries.
preloads_vecdb() {
	grep -qE "shared[_-]preload[_-]libraries=['\"]?([^ '\"]*,)? *vecdb *(,|['\"]| |\$)" <<<"$1"
}

bench_prepare 1 vecdb-shm
MWM=1GB
[ "$LARGE" -eq 1 ] && MWM=4GB
BASE_OPTS="-c shared_buffers=1GB -c maintenance_work_mem=$MWM -c max_wal_size=8GB -c synchronous_commit=off -c huge_pages=off"
PGV_OPTS=$(without_vecdb_preload "$SERVER_OPTS")
TWIN=0
preloads_vecdb "$SERVER_OPTS" && TWIN=1
cleanup() {
	vecdb_pg_stop "$WORK/vecdb"
	[ "$TWIN" -eq 0 ] || vecdb_pg_stop "$WORK/pgvector"
	rm -rf "$WORK"
}
trap cleanup EXIT

# Install, start and CREATE EXTENSION under the install lock (see scripts/test.sh):
# other work trees install too, and CREATE EXTENSION reads the installed script.
# A preloaded vecdb.so is mapped by the postmaster, so the lock is released once
# the extension exists; without the preload every backend loads the file, so the
# lock is held for the whole run. The driver records vecdb.so's md5 at both ends,
# and restarts the servers under the lock after installing this tree's build
# again if another work tree replaced it (a restart loads the file anew).
exec 9>/tmp/vecdb-install.lock
flock 9
log "installing vecdb into $LIBDIR"
as_root make install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
MD5=$(md5sum "$LIBDIR/vecdb.so" | cut -d' ' -f1)
PORT=$(vecdb_free_port 55500)
vecdb_pg_start "$WORK/vecdb" "$PORT" "$WORK" "$BASE_OPTS $SERVER_OPTS"
if [ "$TWIN" -eq 1 ]; then
	PGV_PORT=$(vecdb_free_port $((PORT + 1)))
	PGV_DATA=$WORK/pgvector
	vecdb_pg_start "$PGV_DATA" "$PGV_PORT" "$WORK" "$BASE_OPTS $PGV_OPTS"
else
	PGV_PORT=$PORT
	PGV_DATA=$WORK/vecdb
fi
VECDB_DB=bench_vecdb
(cd / && as_pg "$PG_BIN/psql" -h "$WORK" -p "$PORT" -U postgres -X -q -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE $VECDB_DB" && as_pg "$PG_BIN/psql" -h "$WORK" -p "$PORT" -U postgres \
	-d "$VECDB_DB" -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION vecdb")
LOCK_ARG=""
if [ "$TWIN" -eq 1 ]; then
	flock -u 9
	exec 9>&-
	LOCK_ARG=/tmp/vecdb-install.lock
else
	log "vecdb is not preloaded: holding the install lock for the whole run"
fi

/usr/bin/python3 bench/shared_memory.py --host "$WORK" \
	--vecdb-port "$PORT" --vecdb-datadir "$WORK/vecdb" --vecdb-dbname "$VECDB_DB" \
	--pgvector-port "$PGV_PORT" --pgvector-datadir "$PGV_DATA" \
	--server-opts "$BASE_OPTS $SERVER_OPTS" --pgvector-server-opts "$BASE_OPTS $PGV_OPTS" \
	--vecdb-so "$LIBDIR/vecdb.so" --vecdb-so-md5 "$MD5" --install-lock "$LOCK_ARG" --out "$OUT" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
