#!/usr/bin/env bash
# streaming.sh runs bench/streaming.py: streaming ingestion (issue 17), vecdb then pgvector
# (installed as extension pgvector_ref), never at the same time, on the harness' data. It
# builds and installs vecdb (under the install lock), and for each system starts a private
# server (data in a temp dir, port from 55520; vecdb preloaded, pgvector on a twin server
# with the same options less vecdb), runs the driver, stops the server; then merges the
# results into bench/results/streaming_<label>.{json,md} and prints a summary.
#   bash bench/streaming.sh                                   # rates 1000,5000 for 300 s each
#   bash bench/streaming.sh --duration 40 --at-rest 10 --label smoke
#   bash bench/streaming.sh --systems vecdb --rates 5000
# Options: --systems (vecdb,pgvector), --label (run), --server-opts (added to both servers);
# the rest go to the driver (--rates, --duration, --at-rest, --ef-search, --recall-queries,
# ...: /usr/bin/python3 bench/streaming.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh
STARTED=$(date +%s)
COMMAND="bash bench/streaming.sh $*"

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
WORK=$(mktemp -d /tmp/vecdb-stream.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" -eq 0 ] && chown postgres: "$WORK"
BASE_OPTS="-c shared_buffers=2GB -c maintenance_work_mem=1GB -c max_wal_size=8GB -c synchronous_commit=off -c huge_pages=off -c log_autovacuum_min_duration=0${EXTRA_OPTS:+ $EXTRA_OPTS}"
VECDB_OPTS="$BASE_OPTS -c shared_preload_libraries=vecdb"
CURRENT=""
cleanup() {
	[ -z "$CURRENT" ] || vecdb_pg_stop "$CURRENT"
	rm -rf "$WORK"
}
trap cleanup EXIT

# psql_as_pg runs psql as the server's owner against database $1 of the server on port $2.
psql_as_pg() {
	local db=$1 port=$2
	shift 2
	(cd / && as_pg "$PG_BIN/psql" -h "$WORK" -p "$port" -U postgres -d "$db" -X -q -v ON_ERROR_STOP=1 "$@")
}

PARTIALS=()
MD5=""
for SYS in ${SYSTEMS//,/ }; do
	DATA=$WORK/$SYS
	PORT=$(vecdb_free_port 55520)
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
		psql_as_pg postgres "$PORT" -c "CREATE DATABASE streaming_base"
		psql_as_pg streaming_base "$PORT" -c "CREATE EXTENSION vecdb"
		flock -u 9
		exec 9>&-
		;;
	pgvector)
		CURRENT=$DATA
		vecdb_pg_start "$DATA" "$PORT" "$WORK" "$BASE_OPTS"
		psql_as_pg postgres "$PORT" -c "CREATE DATABASE streaming_base"
		psql_as_pg streaming_base "$PORT" -c "CREATE EXTENSION pgvector_ref"
		;;
	*)
		echo "unknown system $SYS (vecdb, pgvector)" >&2
		exit 1
		;;
	esac
	PARTIAL=$OUT/streaming-$LABEL-$SYS.json
	/usr/bin/python3 bench/streaming.py --system "$SYS" --host "$WORK" --port "$PORT" --datadir "$DATA" \
		--partial "$PARTIAL" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
	PARTIALS+=("$PARTIAL")
	cp "$DATA/server.log" "$OUT/streaming-$LABEL-$SYS.log"
	vecdb_pg_stop "$DATA"
	CURRENT=""
	rm -rf "$DATA"
done

/usr/bin/python3 bench/streaming.py --report "${PARTIALS[@]}" --label "$LABEL" --started "$STARTED" \
	--vecdb-server-opts "$VECDB_OPTS" --pgvector-server-opts "$BASE_OPTS" --vecdb-so-md5 "$MD5" \
	--command "$COMMAND" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
log "streaming benchmark: $(( ($(date +%s) - STARTED) / 60 )) min $(( ($(date +%s) - STARTED) % 60 )) s wall"
