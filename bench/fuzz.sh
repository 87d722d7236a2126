#!/usr/bin/env bash
# bench/fuzz.sh runs every fuzz target for long (fuzz/run.sh) and prints its
# inputs executed and crashes; the figures go in fuzz/README.md.
#
# Usage: bench/fuzz.sh [SECONDS_PER_TARGET (default 600)] [TARGET...]
# Environment: as fuzz/run.sh (BUILD, JOBS); OUT defaults to bench/out/fuzz,
# where the grown corpora, logs and any crash inputs stay.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
export OUT=${OUT:-$PWD/bench/out/fuzz}
export INDEX_SECONDS=$seconds
echo "fuzz: $seconds s per target on $(nproc) cores, $(date -u +%Y-%m-%d)"
bash fuzz/run.sh "$seconds" "$@"
