#!/usr/bin/env bash
# run.sh runs the client-library tests (Node.js drivers and ORMs, Python's
# psycopg 3 and SQLAlchemy) against a running server that has vecdb installed:
#   bash test/clients/run.sh SOCKDIR PORT
# It installs what is missing (Debian packages, the npm packages pinned in
# package-lock.json), gives each library test a fresh database, prints each
# test's summary line (every check when a test fails) and ends with
# "clients: N checks passed, M failed (in F library files)". An npm ci that
# fails counts as one failed check, and the Node.js tests are then not run.
set -uo pipefail
if [ $# -ne 2 ]; then
	echo "usage: $0 SOCKDIR PORT" >&2
	exit 2
fi
SOCKDIR=$1
PORT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../scripts/lib.sh"

# Debian's psycopg 3 for the psycopg test, SQLAlchemy 1.4 and psycopg2 (its
# driver) for the SQLAlchemy test. Node.js and npm from Debian unless a node
# and npm are there already (NodeSource's nodejs package conflicts with npm).
vecdb_install_deps python3 python3-psycopg python3-psycopg2 python3-sqlalchemy
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	vecdb_install_deps nodejs npm
fi

passed=0
failed=0
files=0
LOG=$(mktemp -d /tmp/vecdb-clients.XXXXXX)
trap 'rm -rf "$LOG"' EXIT

# run_test NAME COMMAND... runs one library test in a fresh database
# clients_NAME and adds the counts from its last line.
run_test() {
	local name=$1 db=clients_$1 out=$LOG/$1.log line p f
	shift
	files=$((files + 1))
	as_pg "$PG_BIN/psql" -X -q -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
	PGHOST=$SOCKDIR PGPORT=$PORT PGDATABASE=$db PGUSER=postgres timeout 120 "$@" >"$out" 2>&1
	line=$(grep -E '^[a-z-]+: [0-9]+ checks passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/.*: ([0-9]+) checks passed, ([0-9]+) failed$/\1/' <<<"$line")
		f=$(sed -E 's/.*: ([0-9]+) checks passed, ([0-9]+) failed$/\2/' <<<"$line")
	else
		p=0; f=1; line="$name: no summary line (crashed?)"
	fi
	if [ "$f" -gt 0 ]; then cat "$out"; fi
	echo "  $line"
	passed=$((passed + p)); failed=$((failed + f))
	as_pg "$PG_BIN/psql" -X -q -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null
}

log "client tests: Node.js $(node --version 2>/dev/null), $(/usr/bin/python3 --version)"
if (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$LOG/npm.log" 2>&1); then
	for lib in pg knex kysely drizzle typeorm sequelize; do
		run_test "$lib" node "$HERE/node/$lib.test.js"
	done
else
	cat "$LOG/npm.log"
	echo "  npm ci failed: Node.js tests not run"
	failed=$((failed + 1))
fi
for lib in psycopg sqlalchemy; do
	run_test "$lib" /usr/bin/python3 "$HERE/python/${lib}_test.py"
done

echo "clients: $passed checks passed, $failed failed (in $files library files)"
[ "$failed" -eq 0 ]
