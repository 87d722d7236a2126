#!/usr/bin/env bash
# pg_compile_check.sh compiles (syntax only) every PostgreSQL-side source file
# against the server headers of each pg_config given, default lib.sh's:
#   bash scripts/pg_compile_check.sh                                # PostgreSQL 15
#   bash scripts/pg_compile_check.sh /usr/lib/postgresql/17/bin/pg_config
# It checks src/pg_compat.h's version guards where another major version's
# headers are installed (postgresql-server-dev-N, or a source build's
# pg_config); Debian 12 ships only 15's. Not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
[ $# -gt 0 ] || set -- "$PG_CONFIG"
# the files the Makefile's PG_SOURCES lists
mapfile -t files < <(ls src/vecdb.cpp src/guc.cpp src/time_travel.cpp src/types/*.cpp src/am/*.cpp src/planner/*.cpp src/shard/*.cpp)
status=0
for pgc in "$@"; do
	version=$("$pgc" --version)
	inc=$("$pgc" --includedir-server)
	libpq_inc=$("$pgc" --includedir)
	read -r -a cppflags <<<"$("$pgc" --cppflags)"
	failed=0
	for f in "${files[@]}"; do
		if ! g++ -std=c++17 -fsyntax-only -Wall -Wno-missing-field-initializers -Wno-register \
			-Isrc -I"$libpq_inc" -I"$inc" "${cppflags[@]}" "$f"; then
			echo "FAILED: $f ($version)" >&2
			failed=$((failed + 1))
		fi
	done
	echo "$version: $((${#files[@]} - failed)) of ${#files[@]} files compile"
	[ "$failed" -eq 0 ] || status=1
done
exit $status
