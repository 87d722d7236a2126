#!/usr/bin/env bash
# streaming.sh runs bench/streaming.py: streaming ingestion (issue 17), vecdb then pgvector
# (installed as extension pgvector_ref), never at the same time, on the harness' data. It
# builds and installs vecdb (under the install lock), and for each system starts a private
# server (data in a temp dir, port from 55520; vecdb preloaded, pgvector on a twin server
# with the same options less vecdb), runs the driver, stops the server; then merges the
# results into bench/results/streaming_<label>.{json,md}, prints a summary and plots the
# latency per window (bench/plot.py: bench/results/plots/streaming_<label>_latency.png).
#   bash bench/streaming.sh                                   # rates 1000,5000 for 300 s each
#   bash bench/streaming.sh --duration 40 --at-rest 10 --label smoke
#   bash bench/streaming.sh --systems vecdb --rates 5000
# Options: --systems (vecdb,pgvector), --label (run), --server-opts (added to both servers);
# the rest go to the driver (--rates, --duration, --at-rest, --ef-search, --recall-queries,
# ...: /usr/bin/python3 bench/streaming.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/side_by_side.sh
STARTED=$(date +%s)
COMMAND="bash bench/streaming.sh $*"

sbs_parse_args "$@"

bench_prepare "$([[ ",$SYSTEMS," == *,pgvector,* ]] && echo 1 || echo 0)" vecdb-stream
BASE_OPTS="-c shared_buffers=2GB -c maintenance_work_mem=1GB -c max_wal_size=8GB -c synchronous_commit=off -c huge_pages=off -c log_autovacuum_min_duration=0${EXTRA_OPTS:+ $EXTRA_OPTS}"
PASS_DATADIR=1
side_by_side_run streaming 55520 streaming_base
