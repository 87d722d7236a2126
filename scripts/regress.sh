#!/usr/bin/env bash
# regress.sh is the developer loop for SQL tests: build, install, start a
# throw-away server, run the named pg_regress tests (default: the schedule),
# stop the server. Results stay in build/regress (results/, regression.diffs).
# Install and run hold a lock, so work trees sharing one PostgreSQL install
# do not overwrite each other's vecdb.so mid-run.
#   bash scripts/regress.sh                 # whole schedule
#   bash scripts/regress.sh types_vector    # some tests
# The server preloads vecdb (shared segments); VECDB_REGRESS_OPTIONS= (empty)
# runs the per-backend mode instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
make -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
OUTDIR=$PWD/build/regress
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
cp -r sql expected test/schedule "$OUTDIR/"
exec 9>/tmp/vecdb-install.lock
flock 9
as_root make install PG_CONFIG="$PG_CONFIG" >/dev/null
WORK=$(mktemp -d /tmp/vecdb-regress.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$OUTDIR"
PORT=$(vecdb_free_port 56432)
trap 'vecdb_pg_stop "$WORK/data"; rm -rf "$WORK"' EXIT
# autovacuum off, as in scripts/test.sh (its snapshots keep rows a test's VACUUM must remove)
vecdb_pg_start "$WORK/data" "$PORT" "$WORK" "${VECDB_REGRESS_OPTIONS--c shared_preload_libraries=vecdb} -c autovacuum=off" 2>/dev/null
PG_REGRESS=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
if [ $# -gt 0 ]; then tests=("$@"); else tests=(--schedule="$OUTDIR/schedule"); fi
as_pg "$PG_REGRESS" --bindir="$PG_BIN" --host="$WORK" --port="$PORT" \
	--inputdir="$OUTDIR" --outputdir="$OUTDIR" --dbname=contrib_regression \
	--load-extension=vecdb "${tests[@]}" || { echo "diffs: $OUTDIR/regression.diffs"; exit 1; }
