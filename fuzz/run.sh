#!/usr/bin/env bash
# fuzz/run.sh builds the libFuzzer targets with clang and runs each one for a
# while, replaying its regression inputs first, and prints per target the
# inputs executed and the crashes found; scripts/test.sh runs it briefly,
# bench/fuzz.sh for long.
#
# Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Environment: BUILD (build dir, default build/fuzz), OUT (run dir, default a
# new /tmp/vecdb-fuzz.XXXXXX: corpora, logs, crash inputs), JOBS (default 2),
# INDEX_SECONDS (fuzz_index's time, default SECONDS_PER_TARGET).
# Output: one line per target, "<target>: <N> execs, <N> crashes (<verdict>)",
# also written to $OUT/summary; exit status 0 when no target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-10}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_index fuzz_vector fuzz_halfvec fuzz_sparsevec fuzz_growing)
BUILD=${BUILD:-build/fuzz}
OUT=${OUT:-$(mktemp -d /tmp/vecdb-fuzz.XXXXXX)}
mkdir -p "$OUT"

CXX_FUZZ=$(command -v clang++ || true)
if [ -z "$CXX_FUZZ" ]; then
	echo "fuzz/run.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev libomp-dev)" >&2
	exit 2
fi
# libFuzzer ships with clang's runtime libraries (libclang-rt-14-dev on Debian 12).
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char *, unsigned long) { return 0; }' |
	"$CXX_FUZZ" -fsanitize=fuzzer -x c++ - -o "$OUT/probe" 2>"$OUT/probe.log"; then
	echo "fuzz/run.sh: $CXX_FUZZ cannot link with -fsanitize=fuzzer (install libclang-rt-14-dev):" >&2
	cat "$OUT/probe.log" >&2
	exit 2
fi

cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=Release \
	-DVECDB_BUILD_TESTS=OFF -DVECDB_BUILD_FUZZ=ON > "$OUT/cmake.log"
cmake --build "$BUILD" -j"${JOBS:-2}" --target make_index_seeds "${TARGETS[@]}" > "$OUT/build.log" 2>&1 ||
	{ tail -n 40 "$OUT/build.log" >&2; exit 2; }

# Seeds: serialized indexes of every kind (generated), literals (committed).
mkdir -p "$OUT/seeds/index"
"$BUILD"/fuzz/make_index_seeds "$OUT/seeds/index"

: > "$OUT/summary"
status=0
for target in "${TARGETS[@]}"; do
	name=${target#fuzz_}
	seeds=$ROOT/fuzz/corpus/$name
	[ "$name" = index ] && seeds=$OUT/seeds/index
	seconds=$SECONDS_PER_TARGET
	[ "$name" = index ] && seconds=${INDEX_SECONDS:-$SECONDS_PER_TARGET}
	dirs=("$OUT/corpus/$name" "$seeds")
	[ -d "$ROOT/fuzz/regressions/$name" ] && dirs+=("$ROOT/fuzz/regressions/$name")
	mkdir -p "$OUT/corpus/$name" "$OUT/crashes/$name"
	set +e
	"$BUILD/fuzz/$target" "${dirs[@]}" -max_total_time="$seconds" -max_len=20000 -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/crashes/$name/" \
		> "$OUT/$target.log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$target.log" | tail -1)
	crashes=$(find "$OUT/crashes/$name" -type f | wc -l)
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
	if [ "$crashes" -eq 0 ]; then
		verdict=passed
	else
		verdict="FAILED: see $OUT/$target.log and $OUT/crashes/$name"
		status=1
		grep -E -A 20 '^==[0-9]+==ERROR|runtime error|deadly signal' "$OUT/$target.log" | head -n 40 >&2 || true
	fi
	echo "$target: ${execs:-0} execs, $crashes crashes ($verdict)" | tee -a "$OUT/summary"
done
exit $status
