#!/usr/bin/env bash
# compare.sh runs bench/compare.py: vecdb beside pgvector (issue 16; pgvector installed as
# extension pgvector_ref) on the harness' data, never at the same time: index build, an
# ef_search sweep, filtered queries and concurrent clients. It builds and installs vecdb
# (under the install lock), and for each system starts a private server (data in a temp
# dir, port from 55540; vecdb preloaded, pgvector on a twin server with the same options
# less vecdb), runs the driver, stops the server; then merges the results into
# bench/results/compare_<label>.{json,md} and prints them.
#   bash bench/compare.sh                                     # 100,000 x 128
#   bash bench/compare.sh --n 5000 --d 32 --queries 100 --client-queries 200 --label smoke
# Options: --systems (vecdb,pgvector), --label (run), --server-opts (added to both servers);
# the rest go to the driver (--n, --d, --queries, --mwm, --ef, --clients, --client-queries,
# ...: /usr/bin/python3 bench/compare.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh
STARTED=$(date +%s)
COMMAND="bash bench/compare.sh $*"

SYSTEMS=vecdb,pgvector
LABEL=run
EXTRA_OPTS=""
PY_ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--systems) SYSTEMS=$2; shift 2 ;;
	--systems=*) SYSTEMS=${1#*=}; shift ;;
	--label) LABEL=$2; shift 2 ;;
	--label=*) LABEL=${1#*=}; shift ;;
	--server-opts) EXTRA_OPTS=$2; shift 2 ;;
	--server-opts=*) EXTRA_OPTS=${1#*=}; shift ;;
	*) PY_ARGS+=("$1"); shift ;;
	esac
done

# shellcheck disable=SC2086
vecdb_install_deps $VECDB_BUILD_PACKAGES $VECDB_PY_PACKAGES
EXTDIR=$("$PG_BIN/pg_config" --sharedir)/extension
LIBDIR=$("$PG_BIN/pg_config" --pkglibdir)
if [[ ",$SYSTEMS," == *,pgvector,* ]] && [ ! -f "$EXTDIR/pgvector_ref.control" ]; then
	echo "pgvector is not installed as extension pgvector_ref: run ../shared/tools/pgvector-ref.sh on a pgvector source tree (see bench/README.md)" >&2
	exit 1
fi
log "building vecdb"
make -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config"

OUT=$ROOT/bench/out
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/vecdb-compare.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" -eq 0 ] && chown postgres: "$WORK"
BASE_OPTS="-c shared_buffers=2GB -c max_wal_size=8GB -c synchronous_commit=off -c huge_pages=off${EXTRA_OPTS:+ $EXTRA_OPTS}"
VECDB_OPTS="$BASE_OPTS -c shared_preload_libraries=vecdb"
CURRENT=""
cleanup() {
	[ -z "$CURRENT" ] || vecdb_pg_stop "$CURRENT"
	rm -rf "$WORK"
}
trap cleanup EXIT

# psql_as_pg runs psql as the server's owner against database postgres of the server on port $1.
psql_as_pg() {
	local port=$1
	shift
	(cd / && as_pg "$PG_BIN/psql" -h "$WORK" -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@")
}

PARTIALS=()
MD5=""
for SYS in ${SYSTEMS//,/ }; do
	DATA=$WORK/$SYS
	PORT=$(vecdb_free_port 55540)
	case $SYS in
	vecdb)
		# Install, start and CREATE EXTENSION under the install lock (other work trees
		# install too; CREATE EXTENSION reads the installed script). The postmaster maps
		# the preloaded vecdb.so, so the lock is released once the extension exists.
		exec 9>/tmp/vecdb-install.lock
		flock 9
		log "installing vecdb into $LIBDIR"
		as_root make install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
		MD5=$(md5sum "$LIBDIR/vecdb.so" | cut -d' ' -f1)
		CURRENT=$DATA
		vecdb_pg_start "$DATA" "$PORT" "$WORK" "$VECDB_OPTS"
		psql_as_pg "$PORT" -c "CREATE EXTENSION vecdb"
		flock -u 9
		exec 9>&-
		;;
	pgvector)
		CURRENT=$DATA
		vecdb_pg_start "$DATA" "$PORT" "$WORK" "$BASE_OPTS"
		psql_as_pg "$PORT" -c "CREATE EXTENSION pgvector_ref"
		;;
	*)
		echo "unknown system $SYS (vecdb, pgvector)" >&2
		exit 1
		;;
	esac
	PARTIAL=$OUT/compare-$LABEL-$SYS.json
	/usr/bin/python3 bench/compare.py --system "$SYS" --host "$WORK" --port "$PORT" \
		--partial "$PARTIAL" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
	PARTIALS+=("$PARTIAL")
	cp "$DATA/server.log" "$OUT/compare-$LABEL-$SYS.log"
	vecdb_pg_stop "$DATA"
	CURRENT=""
	rm -rf "$DATA"
done

/usr/bin/python3 bench/compare.py --report "${PARTIALS[@]}" --label "$LABEL" --started "$STARTED" \
	--vecdb-server-opts "$VECDB_OPTS" --pgvector-server-opts "$BASE_OPTS" --vecdb-so-md5 "$MD5" \
	--command "$COMMAND" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
log "compare benchmark: $(( ($(date +%s) - STARTED) / 60 )) min $(( ($(date +%s) - STARTED) % 60 )) s wall"
