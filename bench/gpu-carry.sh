#!/usr/bin/env bash
# bench/gpu-carry.sh fills .devlibs/ (ignored by git) with what a bare GPU
# machine lacks for bench/gpu.sh's CPU reference: Debian's FAISS (static
# library and headers) and the single-threaded OpenBLAS the extension links
# (CMake's VECDB_OPENBLAS_DIR in the main build), with its Fortran runtime,
# so GPU k-means is compared with faiss::Clustering on the same host. Carry
# .devlibs with the device call; bench/gpu.sh uses it when present.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=/usr/lib/$(gcc -print-multiarch)
rm -rf .devlibs
mkdir -p .devlibs/lib .devlibs/include
cp -r /usr/include/faiss .devlibs/include/
cp "$lib/libfaiss.a" .devlibs/lib/
cp -L "$lib/openblas-serial/libopenblas.so.0" "$lib/libgfortran.so.5" "$lib/libquadmath.so.0" .devlibs/lib/
ln -s libopenblas.so.0 .devlibs/lib/libopenblas.so
# a worktree's .git is a file: ask git where the exclude file lives
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.devlibs/' "$exclude" 2>/dev/null || echo '/.devlibs/' >> "$exclude"
du -sh .devlibs
