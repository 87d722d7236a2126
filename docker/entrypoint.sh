#!/usr/bin/env bash
# entrypoint.sh initializes the data directory on first start and runs PostgreSQL in the foreground.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
if [ ! -f "$PGDATA/PG_VERSION" ]; then
	pwfile=$(mktemp)
	echo "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" > "$pwfile"
	"$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=peer
	rm -f "$pwfile"
	echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*'
