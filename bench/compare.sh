#!/usr/bin/env bash
# compare.sh runs bench/compare.py: vecdb beside pgvector (issue 16; pgvector installed as
# extension pgvector_ref) on the harness' data, never at the same time: index build, an
# ef_search sweep, filtered queries and concurrent clients. It builds and installs vecdb
# (under the install lock), and for each system starts a private server (data in a temp
# dir, port from 55540; vecdb preloaded, pgvector on a twin server with the same options
# less vecdb), runs the driver, stops the server; then merges the results into
# bench/results/compare_<label>.{json,md}, prints them and plots them (bench/plot.py:
# bench/results/plots/compare_<label>_*.png).
#   bash bench/compare.sh                                     # 100,000 x 128
#   bash bench/compare.sh --n 5000 --d 32 --queries 100 --client-queries 200 --label smoke
# Options: --systems (vecdb,pgvector), --label (run), --server-opts (added to both servers),
# --huge-pages MB (both servers with huge_pages=on in MB of 2 MB pages reserved for the run, as
# root: new connections then do not fault a large shared area in 4 KB pages);
# the rest go to the driver (--n, --d, --queries, --mwm, --ef, --clients, --client-queries,
# ...: /usr/bin/python3 bench/compare.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/side_by_side.sh
STARTED=$(date +%s)
COMMAND="bash bench/compare.sh $*"

sbs_parse_args "$@"

bench_prepare "$([[ ",$SYSTEMS," == *,pgvector,* ]] && echo 1 || echo 0)" vecdb-compare
BASE_OPTS="-c shared_buffers=2GB -c max_wal_size=8GB -c synchronous_commit=off -c huge_pages=off${EXTRA_OPTS:+ $EXTRA_OPTS}"
PASS_DATADIR=0
side_by_side_run compare 55540 postgres
