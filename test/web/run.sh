#!/usr/bin/env bash
# run.sh tests the web demo in a real browser: it installs Debian's chromium
# and node (when missing) and puppeteer-core (npm ci), starts a throw-away
# PostgreSQL with vecdb and the web demo server on free ports, runs
# web_demo.test.mjs in headless Chromium, stops what it started and ends with
# "web demo: N passed, M failed". vecdb must be installed (make install;
# scripts/test.sh runs this after its own install).
#   bash test/web/run.sh                        # screenshot in build/web/web_demo.png
#   bash test/web/run.sh --update-screenshot    # screenshot in docs/web_demo.png
# NODE names another node binary to run the browser test with.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source scripts/lib.sh

SHOT=$ROOT/build/web/web_demo.png
[ "${1:-}" = "--update-screenshot" ] && SHOT=$ROOT/docs/web_demo.png
mkdir -p "$(dirname "$SHOT")"

WORK=
WEB_PID=
# cleanup stops the web demo server and the database server this script started.
cleanup() {
	if [ -n "$WEB_PID" ]; then kill "$WEB_PID" 2>/dev/null; wait "$WEB_PID" 2>/dev/null; fi
	if [ -n "$WORK" ]; then
		vecdb_pg_stop "$WORK/data"
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# fail prints why the suite could not run, counts that as one failure and exits.
fail() {
	echo "FAILED: $*" >&2
	echo "web demo: 0 passed, 1 failed ($*)"
	exit 1
}

# Debian's npm conflicts with a nodejs that bundles its own (NodeSource's):
# ask for it only when there is no npm.
pkgs="chromium nodejs $VECDB_PY_PACKAGES"
command -v npm >/dev/null || pkgs="$pkgs npm"
# shellcheck disable=SC2086
vecdb_install_deps $pkgs || fail "could not install $pkgs"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (Debian package chromium)"
command -v node >/dev/null && command -v npm >/dev/null || fail "node or npm is missing"

log "web demo test: npm ci (puppeteer-core, pinned in test/web/package-lock.json)"
(cd test/web && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in test/web failed"

WORK=$(mktemp -d /tmp/vecdb-web-test.XXXXXX)
chmod 755 "$WORK"
PORT=$(vecdb_free_port "${VECDB_TEST_PORT:-55432}")
vecdb_pg_start "$WORK/data" "$PORT" "$WORK" "-c shared_preload_libraries=vecdb" 9>&- ||
	fail "could not start PostgreSQL (log: $WORK/data/server.log)"

log "web demo test: starting demo/web_demo.py"
/usr/bin/python3 demo/web_demo.py --host "$WORK" --port "$PORT" \
	--http-port "$(vecdb_free_port 56480)" >"$WORK/web.log" 2>&1 9>&- &
WEB_PID=$!
URL=
for _ in $(seq 1 120); do
	URL=$(sed -n 's|^web demo: \(http://[^ ]*\) .*|\1|p' "$WORK/web.log")
	[ -n "$URL" ] && break
	kill -0 "$WEB_PID" 2>/dev/null || break
	sleep 0.5
done
if [ -z "$URL" ]; then
	cat "$WORK/web.log" >&2
	fail "the web demo server did not start"
fi

log "web demo test: headless $(/usr/bin/chromium --version 2>/dev/null) at $URL"
"${NODE:-node}" test/web/web_demo.test.mjs "$URL" "$SHOT" | tee "$WORK/browser.log"
if ! grep -q '^web demo: [0-9]* passed, [0-9]* failed$' "$WORK/browser.log"; then
	# The browser test died before its summary: count what it printed and the crash.
	p=$(grep -c '^ok ' "$WORK/browser.log")
	f=$(grep -c '^not ok ' "$WORK/browser.log")
	echo "web demo: $p passed, $((f + 1)) failed (the browser test did not finish)"
	exit 1
fi
passed=$(sed -n 's/^web demo: \([0-9]*\) passed.*/\1/p' "$WORK/browser.log" | tail -1)
failed=$(sed -n 's/^web demo: [0-9]* passed, \([0-9]*\) failed$/\1/p' "$WORK/browser.log" | tail -1)

# The demo keeps one database connection: after the server restarts (as after
# a failover) its next search must reconnect and answer.
log "web demo test: restarting PostgreSQL under the running demo"
as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast -w restart >/dev/null 9>&- || fail "could not restart PostgreSQL"
if /usr/bin/python3 - "$URL" <<'PY' && grep -q "reconnecting" "$WORK/web.log"; then
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1].rstrip("/") + "/api/search?id=5&k=3", timeout=30) as r:
    got = json.load(r)
sys.exit(0 if len(got["results"]) == 3 else 1)
PY
	echo "ok $((passed + failed + 1)) - a search after a database restart reconnects and answers"
	passed=$((passed + 1))
else
	echo "not ok $((passed + failed + 1)) - a search after a database restart reconnects and answers"
	failed=$((failed + 1))
fi
echo "web demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
