#!/usr/bin/env bash
# bench/kernels.sh configures, builds and runs the distance-kernel micro-benchmark and prints ns per call per SIMD level next to FAISS.
#
# Usage: bench/kernels.sh [extra Google Benchmark flags, e.g. --benchmark_filter=L2]
# Environment: BUILD (build dir, default build/bench), JOBS (default 2),
# REPS (repetitions, median reported; default 5), MIN_TIME (s per run, default 0.1).
# Raw results: bench/out/kernels.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DVECDB_BUILD_BENCH=ON -DVECDB_BUILD_TESTS=OFF > /dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target bench_distance > /dev/null
mkdir -p bench/out
"$BUILD"/bench/kernels/bench_distance \
	--benchmark_repetitions="${REPS:-5}" --benchmark_report_aggregates_only=true \
	--benchmark_min_time="${MIN_TIME:-0.1}" \
	--benchmark_out=bench/out/kernels.json --benchmark_out_format=json "$@" > bench/out/kernels.log 2>&1
python3 - bench/out/kernels.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ns = {}
for b in doc["benchmarks"]:
	if b.get("aggregate_name") != "median" or b.get("error_occurred"):
		continue
	kernel, impl, d = b["run_name"].split("/")
	scale = {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
	ns[(kernel, int(d), impl)] = b["real_time"] * scale
impls = ["scalar", "avx2", "avx512", "faiss"]
kernels = []
for (k, _, _) in ns:
	if k not in kernels:
		kernels.append(k)
print("ns per call, median of repetitions (%s, %s)" % (doc["context"].get("host_name", "?"), doc["context"].get("date", "")))
print("%-10s %5s %9s %9s %9s %9s %13s" % ("kernel", "d", *impls, "faiss/best"))
for k in kernels:
	for d in sorted({d for (kk, d, _) in ns if kk == k}):
		row = [ns.get((k, d, i)) for i in impls]
		cells = ["%9.2f" % v if v is not None else "%9s" % "-" for v in row]
		ours = [v for v in row[:3] if v is not None]
		ratio = "%13.2fx" % (row[3] / min(ours)) if row[3] is not None and ours else "%13s" % ""
		print("%-10s %5d %s %s" % (k, d, " ".join(cells), ratio))
PY
