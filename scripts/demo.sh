#!/usr/bin/env bash
# demo.sh is the README's first command: it installs what is missing, builds
# and installs vecdb, starts a private PostgreSQL (data under .demo/ in the
# checkout, port $VECDB_DEMO_PORT, default 55433) and runs the handwritten
# digits similarity-search demo. The server keeps running afterwards.
#   bash scripts/demo.sh [--query N] [-k K]    # run the demo
#   bash scripts/demo.sh web [--http-port N]   # serve the web demo on 127.0.0.1 until Ctrl-C
#   bash scripts/demo.sh stop                  # stop the demo server
# With VECDB_DSN set (a libpq connection string, e.g. a multi-host one with
# target_session_attrs=read-write) the demo runs against that server or
# cluster, which must have vecdb installed, and starts none of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh

PORT=${VECDB_DEMO_PORT:-55433}
DEMO_DIR=$ROOT/.demo
# As root the server runs as postgres, who may not be able to reach the
# checkout (for example under /root): then keep the data under /var/tmp.
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$ROOT"; then
	DEMO_DIR=/var/tmp/vecdb-demo-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)
	FALLBACK_NOTE="(user postgres cannot reach $ROOT, so the data lives in $DEMO_DIR)"
fi
DATADIR=$DEMO_DIR/pgdata
SOCKDIR=$DEMO_DIR
# A Unix socket path must stay under 108 bytes.
if [ ${#SOCKDIR} -gt 80 ]; then SOCKDIR=/tmp/vecdb-demo-$PORT; fi

if [ "${1:-}" = "stop" ]; then
	vecdb_pg_stop "$DATADIR"
	log "demo server stopped (data kept in $DATADIR)"
	exit 0
fi
MODE=terminal
if [ "${1:-}" = "web" ]; then
	MODE=web
	shift
fi

# shellcheck disable=SC2086
vecdb_install_deps $VECDB_BUILD_PACKAGES $VECDB_PY_PACKAGES
vecdb_build_install

if [ -n "${VECDB_DSN:-}" ]; then
	if [ "$MODE" = web ]; then
		exec /usr/bin/python3 demo/web_demo.py --dsn "$VECDB_DSN" --http-port "${VECDB_WEB_PORT:-8765}" "$@" 9>&-
	fi
	exec /usr/bin/python3 demo/digits_search.py --dsn "$VECDB_DSN" "$@" 9>&-
fi

mkdir -p "$DEMO_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DEMO_DIR"
if as_pg "$PG_BIN/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1; then
	log "demo server already running (data $DATADIR)"
	PORT=$(sed -n 4p "$DATADIR/postmaster.pid")
	SOCKDIR=$(sed -n 5p "$DATADIR/postmaster.pid")
else
	if [ "$(vecdb_free_port "$PORT")" != "$PORT" ]; then
		echo "port $PORT is in use; set VECDB_DEMO_PORT to a free port" >&2
		exit 1
	fi
	vecdb_pg_start "$DATADIR" "$PORT" "$SOCKDIR" "-c shared_preload_libraries=vecdb"
fi
[ -n "${FALLBACK_NOTE:-}" ] && log "$FALLBACK_NOTE"

if [ "$MODE" = web ]; then
	log "serving the web demo (Ctrl-C stops it; the database server keeps running)"
	exec /usr/bin/python3 demo/web_demo.py --host "$SOCKDIR" --port "$PORT" \
		--http-port "${VECDB_WEB_PORT:-8765}" "$@" 9>&-
fi

log "running the handwritten digits demo"
/usr/bin/python3 demo/digits_search.py --host "$SOCKDIR" --port "$PORT" "$@"

cat <<MSG

The demo server keeps running:
  connect:  psql -h $SOCKDIR -p $PORT -U postgres      (table digits, extension vecdb)
  web demo: bash scripts/demo.sh web                   (the same search in a browser page on 127.0.0.1)
  stop:     bash scripts/demo.sh stop
MSG
