#!/usr/bin/env bash
# bench/gpu.sh builds and runs vecdb's GPU checks on a machine with a CUDA
# GPU: nvidia-smi, the GPU unit tests, then bench_gpu (GPU_FLAT latency and
# throughput, GPU k-means vs a CPU reference), logs into $OUT (or
# build/gpu-out). Run from the repository root; needs nvcc (CUDA 12+, at
# /usr/local/cuda or on PATH), cmake, a C++17 compiler with OpenMP; no
# network, no installs.
#
# It configures bench/gpu/CMakeLists.txt on its own (not the main build):
# only the GPU targets and the FAISS-free part of the engine (IVF and HNSW
# stubbed), for sm_90. What it finds decides the rest, and it says so:
#   - GoogleTest found: the tests are GoogleTest binaries; not found: the same
#     test files built against test/unit/gtest_shim (a minimal GoogleTest
#     stand-in that prints PASS/FAIL per case and "N passed, N failed").
#   - FAISS (headers, libfaiss, OpenBLAS) found: the IVF kinds and
#     GPU_IVF_FLAT are built too, test_gpu_ivf_train (IVF training on the GPU
#     vs FAISS: recall, times) and test_gpu_ivf_flat (GPU_IVF_FLAT against
#     IVF_FLAT) run, and bench_gpu times IVF_FLAT's Train through the engine
#     on both and GPU_IVF_FLAT's build and nprobe-32 searches against
#     IVF_FLAT on the CPU; the CPU
#     k-means reference is faiss::Clustering, 3 iterations scaled to 10; not
#     found: no IVF, and a built-in OpenMP Lloyd
#     (same start as the GPU, 2 iterations, time scaled to 10): a plain
#     loop-nest CPU reference, slower than FAISS' BLAS one, which the
#     speed-up figure must be read against.
# Expected time: build 1-3 min, tests 1-2 min, bench 1-2 min (under 5 in all);
# with FAISS, IVF adds ~40 s to the build, ~30 s of tests (test_gpu_ivf_train,
# test_gpu_ivf_flat) and ~40 s to the bench (CPU FAISS training 1M x 128 into
# 1,000 lists, IVF_FLAT's CPU add and searches).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-$PWD/build/gpu-out}
mkdir -p "$OUT_DIR"
BUILD=build/gpu-device
if [ -d /usr/local/cuda/bin ]; then
	export PATH=/usr/local/cuda/bin:$PATH
fi
T0=$(date +%s)
stamp() { echo "== $(($(date +%s) - T0)) s: $*"; }

{
	stamp "machine"
	nvidia-smi || echo "nvidia-smi failed"
	nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,clocks.max.sm,power.draw,temperature.gpu --format=csv || true
	nvcc --version | tail -2
	cmake --version | head -1
	echo "CPU threads: $(nproc)"
	ls /usr/include/gtest/gtest.h 2>/dev/null || echo "no GoogleTest headers: tests use test/unit/gtest_shim"
	ls /usr/include/faiss/Clustering.h .devlibs/include/faiss/Clustering.h 2>/dev/null || echo "no FAISS headers: CPU k-means reference is the built-in Lloyd"
} 2>&1 | tee "$OUT_DIR/machine.log"

stamp "build" | tee "$OUT_DIR/build.log"
GEN=()
if command -v ninja >/dev/null 2>&1; then
	GEN=(-G Ninja)
fi
# FAISS and OpenBLAS carried from a Debian machine (bench/gpu-carry.sh)
if [ -d .devlibs/lib ]; then
	GEN+=(-DCMAKE_PREFIX_PATH="$PWD/.devlibs")
	export LD_LIBRARY_PATH=$PWD/.devlibs/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	echo "using carried FAISS/OpenBLAS in .devlibs" | tee -a "$OUT_DIR/build.log"
fi
if ! { cmake -S bench/gpu -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 &&
	cmake --build "$BUILD" -j"$(nproc)"; } >>"$OUT_DIR/build.log" 2>&1; then
	tail -40 "$OUT_DIR/build.log"
	echo "gpu.sh: BUILD FAILED (full log in $OUT_DIR/build.log)"
	exit 1
fi
grep -E "vecdb gpu device build" "$OUT_DIR/build.log"
stamp "built"

FAILED=0
{
	for t in test_gpu_probe test_gpu_flat test_gpu_kmeans test_gpu_ivf_train test_gpu_ivf_flat; do
		if [ ! -x "$BUILD/$t" ]; then
			echo "== $t not built (it needs FAISS: run bench/gpu-carry.sh and carry .devlibs)"
			continue
		fi
		stamp "$t"
		if ! timeout 240 "$BUILD/$t"; then
			echo "gpu.sh: $t FAILED"
			FAILED=1
		fi
	done
	stamp "tests done (failed: $FAILED)"
} 2>&1 | tee "$OUT_DIR/tests.log"
grep -q "gpu.sh: .* FAILED" "$OUT_DIR/tests.log" && FAILED=1

{
	stamp "bench_gpu"
	timeout 400 "$BUILD/bench_gpu" || echo "gpu.sh: bench_gpu FAILED or timed out"
	nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv || true
	stamp "done"
} 2>&1 | tee "$OUT_DIR/bench.log"

echo
echo "==== gpu.sh summary ===="
grep -E "^\[ (PASS|FAIL|SKIP) \]|^\[  (PASSED|FAILED|SKIPPED) |passed, .* failed|FAILED" "$OUT_DIR/tests.log" | tail -30
grep -E "^gpu-ivf-(train|flat):" "$OUT_DIR/tests.log"
sed -n '/==== summary ====/,$p' "$OUT_DIR/bench.log"
echo "tests: $([ $FAILED = 0 ] && echo all passed || echo SOME FAILED); logs in $OUT_DIR; total $(($(date +%s) - T0)) s"
exit $FAILED
