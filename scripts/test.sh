#!/usr/bin/env bash
# test.sh is the README's test command: it installs what is missing, runs the
# fuzz targets briefly (libFuzzer), builds and installs vecdb, starts a private
# PostgreSQL, runs the engine unit tests (CTest), the SQL regression tests
# (pg_regress), the client-library tests (test/clients), the TAP tests and the
# web demo's browser test, stops the server and prints each suite's count in
# its own unit (fuzz targets, CTest test cases, pg_regress test files, client
# checks, TAP subtests, browser checks), then their sum as "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh

passed=0
failed=0
skipped=0
suite_lines=()

# The committed operator-class fragments must be what scripts/gen_sql.sh writes
# from its tables (checked first: the build would regenerate stale ones).
log "generated SQL is current (scripts/gen_sql.sh)"
GEN=$(mktemp -d /tmp/vecdb-gen-sql.XXXXXX)
stale=()
if bash scripts/gen_sql.sh "$GEN"; then
	for f in "$GEN"/*.sql; do
		if ! cmp -s "$f" "sql/install/${f##*/}"; then
			stale+=("sql/install/${f##*/}")
			diff -u "sql/install/${f##*/}" "$f" | head -c 20000 || true
		fi
	done
else
	stale+=("(scripts/gen_sql.sh failed)")
fi
rm -rf "$GEN"
if [ ${#stale[@]} -eq 0 ]; then
	passed=$((passed + 1))
	suite_lines+=("generated SQL: 1 passed, 0 failed")
else
	echo "FAILED: ${stale[*]} differ from the output of scripts/gen_sql.sh:" \
		"edit the tables in scripts/gen_sql.sh rather than the generated files," \
		"run bash scripts/gen_sql.sh (make also does) and commit the result" >&2
	failed=$((failed + 1))
	suite_lines+=("generated SQL: 0 passed, 1 failed (stale: ${stale[*]})")
fi

# shellcheck disable=SC2086
vecdb_install_deps $VECDB_BUILD_PACKAGES $VECDB_FUZZ_PACKAGES

# Fuzz targets (libFuzzer, fuzz/): a short run of each, its regression inputs
# first; a target passes when nothing crashed (before the install lock: it
# installs nothing).
log "fuzz targets (fuzz/run.sh, short run)"
FUZZ_TARGETS=(fuzz_index fuzz_vector fuzz_halfvec fuzz_sparsevec fuzz_growing)
FUZZ_OUT=$(mktemp -d /tmp/vecdb-fuzz.XXXXXX)
set +e
OUT=$FUZZ_OUT INDEX_SECONDS=30 bash fuzz/run.sh 10 "${FUZZ_TARGETS[@]}"
set -e
f_passed=$(grep -c '(passed)$' "$FUZZ_OUT/summary" 2>/dev/null || true)
f_failed=$((${#FUZZ_TARGETS[@]} - f_passed))
[ "$f_failed" -eq 0 ] || echo "FAILED: fuzz targets (summary and logs in $FUZZ_OUT)" >&2
passed=$((passed + f_passed)); failed=$((failed + f_failed))
suite_lines+=("fuzz: $f_passed targets passed, $f_failed failed (no crash in a short run)")
# Work trees on one machine share the server's extension directory: hold the
# install lock (see scripts/regress.sh) from install to the end of the run.
exec 9>/tmp/vecdb-install.lock
flock 9
vecdb_build_install

WORK=$(mktemp -d /tmp/vecdb-test.XXXXXX)
chmod 755 "$WORK"
DATADIR=$WORK/data
PORT=$(vecdb_free_port "${VECDB_TEST_PORT:-55432}")
cleanup() { vecdb_pg_stop "$DATADIR"; }
trap cleanup EXIT

# Engine unit tests (GoogleTest via CTest). CUDA code is compiled when nvcc exists.
log "engine unit tests (CTest)"
cuda=OFF
if [ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null; then cuda=ON; fi
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Release -DVECDB_BUILD_TESTS=ON -DVECDB_WITH_CUDA=$cuda >/dev/null
cmake --build build/test -j"$(nproc)"
set +e
(cd build/test && ctest --output-on-failure --timeout 600) 2>&1 | tee "$WORK/ctest.log"
set -e
c_total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$WORK/ctest.log" | tail -1)
c_failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$WORK/ctest.log" | tail -1)
c_total=${c_total:-0}
c_failed=${c_failed:-1}
c_skipped=$(grep -c '(Skipped)$' "$WORK/ctest.log" || true)
c_passed=$((c_total - c_failed - c_skipped))
passed=$((passed + c_passed)); failed=$((failed + c_failed)); skipped=$((skipped + c_skipped))
suite_lines+=("ctest: $c_passed test cases passed, $c_failed failed, $c_skipped skipped")

# The extension built with CUDA (make VECDB_CUDA=1: the GPU worker's device
# path) links and its libraries resolve; built in a copy, never installed.
if [ "$cuda" = ON ]; then
	log "vecdb.so with CUDA (make VECDB_CUDA=1, in a copy)"
	mkdir -p "$WORK/cuda-build"
	if [ -d .git ]; then
		git ls-files -z | xargs -0 cp --parents -t "$WORK/cuda-build"
	else
		tar --exclude=./build -cf - . | tar -xf - -C "$WORK/cuda-build"
	fi
	set +e
	(cd "$WORK/cuda-build" && make -j"$(nproc)" VECDB_CUDA=1 PG_CONFIG="$PG_CONFIG") >"$WORK/cuda-build.log" 2>&1
	u_rc=$?
	set -e
	unresolved=$(ldd "$WORK/cuda-build/vecdb.so" 2>/dev/null | grep -c 'not found' || true)
	if [ "$u_rc" -eq 0 ] && [ -f "$WORK/cuda-build/vecdb.so" ] && [ "$unresolved" -eq 0 ] &&
		ldd "$WORK/cuda-build/vecdb.so" | grep -q libcublas; then
		passed=$((passed + 1))
		suite_lines+=("CUDA build: 1 passed, 0 failed (vecdb.so links src/gpu and cuBLAS)")
	else
		failed=$((failed + 1))
		tail -20 "$WORK/cuda-build.log" >&2
		echo "FAILED: make VECDB_CUDA=1 (log: $WORK/cuda-build.log)" >&2
		suite_lines+=("CUDA build: 0 passed, 1 failed (make rc $u_rc, $unresolved unresolved libraries)")
	fi
	rm -rf "$WORK/cuda-build"

	# The device-only build that bench/gpu.sh makes on a GPU machine (its own
	# CMake project: GPU targets, the engine's FAISS-free part, IVF with
	# FAISS) compiles and links, and its tests and bench start and skip
	# cleanly without a device: a break here would cost a device session.
	log "device-only GPU build (bench/gpu, as bench/gpu.sh builds it)"
	set +e
	(cmake -S bench/gpu -B "$WORK/gpu-device" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 &&
		cmake --build "$WORK/gpu-device" -j"$(nproc)" &&
		for t in test_gpu_probe test_gpu_flat test_gpu_kmeans test_gpu_ivf_train test_gpu_ivf_flat bench_gpu; do
			echo "== $t" && "$WORK/gpu-device/$t" || exit 1
		done) >"$WORK/gpu-device.log" 2>&1
	d_rc=$?
	set -e
	if [ "$d_rc" -eq 0 ]; then
		passed=$((passed + 1))
		suite_lines+=("GPU device build: 1 passed, 0 failed (bench/gpu builds; its tests and bench skip without a device)")
	else
		failed=$((failed + 1))
		tail -20 "$WORK/gpu-device.log" >&2
		echo "FAILED: the device-only GPU build (log: $WORK/gpu-device.log)" >&2
		suite_lines+=("GPU device build: 0 passed, 1 failed (rc $d_rc)")
	fi
	rm -rf "$WORK/gpu-device"
fi

# SQL regression tests (pg_regress) against a private server: first in the
# documented mode (vecdb preloaded: one shared copy of each index), then in
# per-backend mode (not preloaded: each connection keeps its own copies;
# CREATE EXTENSION then raises a NOTICE, hence the *_1.out alternatives).
PG_REGRESS=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
run_regress() {
	local mode=$1 options=$2 dir=$WORK/regress-$1
	log "SQL regression tests (pg_regress, $mode mode)"
	vecdb_pg_start "$DATADIR" "$PORT" "$WORK" "$options"
	mkdir -p "$dir"
	cp -r sql expected test/schedule "$dir/"
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
	set +e
	as_pg "$PG_REGRESS" --bindir="$PG_BIN" --host="$WORK" --port="$PORT" \
		--inputdir="$dir" --outputdir="$dir" \
		--schedule="$dir/schedule" --dbname=contrib_regression \
		--load-extension=vecdb 2>&1 | tee "$dir/regress.log"
	set -e
	vecdb_pg_stop "$DATADIR"
	r_passed=$(grep -cE '(\.\.\.|^ok) +ok|^ok ' "$dir/regress.log" || true)
	r_failed=$(grep -cE 'FAILED|failed \(ignored\)|^not ok' "$dir/regress.log" || true)
	if [ "$r_passed" -eq 0 ] && [ "$r_failed" -eq 0 ]; then r_failed=1; fi
	if [ -f "$dir/regression.diffs" ] && [ "$r_failed" -gt 0 ]; then
		head -c 20000 "$dir/regression.diffs"
	fi
	passed=$((passed + r_passed)); failed=$((failed + r_failed))
	suite_lines+=("pg_regress ($mode): $r_passed test files passed, $r_failed failed")
}
# Autovacuum stays off for the SQL tests: an autovacuum ANALYZE of another
# table holds a snapshot, and a test's VACUUM then keeps rows it deleted just
# before (am_streaming failed so once). Tests that need it set it per table.
run_regress preloaded "-c shared_preload_libraries=vecdb -c autovacuum=off"
run_regress per-backend "-c autovacuum=off"

# Client-library tests (test/clients: Node.js drivers and ORMs through npm ci,
# Python's psycopg 3 and SQLAlchemy) against the server in preloaded mode.
log "client-library tests (test/clients)"
vecdb_pg_start "$DATADIR" "$PORT" "$WORK" "-c shared_preload_libraries=vecdb"
set +e
bash test/clients/run.sh "$WORK" "$PORT" 2>&1 | tee "$WORK/clients.log"
k_rc=${PIPESTATUS[0]}
set -e
vecdb_pg_stop "$DATADIR"
k_line=$(grep -E '^clients: [0-9]+ checks passed, [0-9]+ failed' "$WORK/clients.log" | tail -n 1 || true)
k_passed=$(sed -nE 's/^clients: ([0-9]+) checks passed, ([0-9]+) failed.*/\1/p' <<<"$k_line")
k_failed=$(sed -nE 's/^clients: ([0-9]+) checks passed, ([0-9]+) failed.*/\2/p' <<<"$k_line")
k_passed=${k_passed:-0}
k_failed=${k_failed:-1}
k_line=${k_line:-clients: $k_passed checks passed, $k_failed failed (no summary line)}
if [ "$k_rc" -ne 0 ] && [ "$k_failed" -eq 0 ]; then k_failed=1; k_line="$k_line (test/clients/run.sh exited with $k_rc)"; fi
passed=$((passed + k_passed)); failed=$((failed + k_failed))
suite_lines+=("$k_line")

# TAP tests (crash, restart, replication), when there are any.
if compgen -G "test/t/*.pl" >/dev/null; then
	log "TAP tests (prove)"
	cp -r test/t "$WORK/tap"
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$WORK/tap"
	PERL_LIB=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/perl
	# A 16 MB file system for the disk-full test (016): mounting needs root
	# (and CAP_SYS_ADMIN in a container); the test skips without it.
	SMALL_FS=
	if [ "$(id -u)" -eq 0 ] && mkdir -p "$WORK/smallfs" &&
		mount -t tmpfs -o size=16m,mode=0700 tmpfs "$WORK/smallfs" 2>/dev/null; then
		chown postgres: "$WORK/smallfs"
		SMALL_FS=$WORK/smallfs
		trap 'cleanup; umount "$WORK/smallfs" 2>/dev/null || true' EXIT
	fi
	set +e
	(cd "$WORK" && as_pg env PATH="$PG_BIN:$PATH" PG_REGRESS="$PG_REGRESS" TESTDIR="$WORK/tap" \
		VECDB_SMALL_FS="$SMALL_FS" prove -I "$PERL_LIB" tap/*.pl 2>&1) | tee "$WORK/tap.log"
	set -e
	if [ -n "$SMALL_FS" ]; then umount "$SMALL_FS" || true; fi
	t_files=$(sed -n 's/^Files=\([0-9]*\), Tests=.*/\1/p' "$WORK/tap.log")
	t_total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$WORK/tap.log")
	t_failed=$(awk 'match($0, /Failed [0-9]+\/[0-9]+ subtests/) { split(substr($0, RSTART + 7), a, "/"); s += a[1] } END { print s + 0 }' "$WORK/tap.log")
	grep -q '^Result: PASS' "$WORK/tap.log" || [ "$t_failed" -gt 0 ] || t_failed=1
	t_total=${t_total:-0}
	t_files=${t_files:-0}
	t_passed=$((t_total - t_failed)); [ "$t_passed" -lt 0 ] && t_passed=0
	passed=$((passed + t_passed)); failed=$((failed + t_failed))
	suite_lines+=("TAP: $t_passed subtests in $t_files files passed, $t_failed failed")
fi

# The web demo in a real browser: Debian's chromium driven by puppeteer-core
# (test/web/run.sh installs them; a missing browser or npm counts as a failure).
log "web demo in headless Chromium (test/web/run.sh)"
set +e
VECDB_TEST_PORT=$PORT bash test/web/run.sh 2>&1 | tee "$WORK/web.log"
w_rc=${PIPESTATUS[0]}
set -e
w_line=$(grep -E '^web demo: [0-9]+ passed, [0-9]+ failed' "$WORK/web.log" | tail -1 || true)
w_passed=$(sed -n 's/^web demo: \([0-9]*\) passed.*/\1/p' <<<"$w_line")
w_failed=$(sed -n 's/^web demo: [0-9]* passed, \([0-9]*\) failed.*/\1/p' <<<"$w_line")
w_why=$(sed -n 's/^web demo: [0-9]* passed, [0-9]* failed\(.*\)/\1/p' <<<"$w_line")
w_passed=${w_passed:-0}
w_failed=${w_failed:-1}
if [ "$w_rc" -ne 0 ] && [ "$w_failed" -eq 0 ]; then w_failed=1; w_why=" (test/web/run.sh exited with $w_rc)"; fi
passed=$((passed + w_passed)); failed=$((failed + w_failed))
suite_lines+=("web demo (headless Chromium): $w_passed checks passed, $w_failed failed$w_why")

echo
echo "==================== vecdb test summary ===================="
for l in "${suite_lines[@]}"; do echo "  $l"; done
echo "  (the sum below adds targets, test cases, test files, checks and subtests: different units)"
echo "sum: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
