#!/usr/bin/env bash
# bench/gpu-sql-carry.sh packs what a bare GPU machine lacks for
# bench/gpu_sql.sh into .devpg.tar.xz (ignored by git): this machine's
# PostgreSQL 15 server, initdb, pg_ctl, psql and pgbench with their plugins
# and share files, vecdb built with CUDA (make VECDB_CUDA=1, in a copy) and
# installed into that tree, and every shared library they load except the C
# library and CUDA's (the GPU machine has its own glibc, newer, and CUDA 13
# at /usr/local/cuda). Carry the archive with the device call; gpu_sql.sh
# unpacks it there. Takes a few minutes (the CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$($PG_CONFIG --bindir)
pkglibdir=$($PG_CONFIG --pkglibdir)
sharedir=$($PG_CONFIG --sharedir)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# the Debian layout, relocated: binaries find share/ and lib/ relative to bin/
root=$stage/pg
mkdir -p "$root/lib/postgresql/15/bin" "$root/lib/postgresql/15/lib" "$root/share/postgresql/15" "$root/libs"
cp "$bindir"/{postgres,initdb,pg_ctl,psql,pgbench} "$root/lib/postgresql/15/bin/"
cp -r "$pkglibdir"/. "$root/lib/postgresql/15/lib/"
cp -r "$sharedir"/. "$root/share/postgresql/15/"
# not needed there: JIT (jit = off; LLVM alone would triple the archive),
# build files, other projects' extensions and their libraries
(cd "$root/lib/postgresql/15/lib" && rm -rf pgxs bitcode llvmjit* ./*.a pgvector_ref* pgautofailover* sepgsql* pgxml*)

echo "building vecdb with CUDA (make VECDB_CUDA=1) in a copy"
mkdir -p "$stage/src" "$stage/inst"
git ls-files -z | xargs -0 cp --parents -t "$stage/src"
(cd "$stage/src" && make -j"$(nproc)" VECDB_CUDA=1 PG_CONFIG="$PG_CONFIG" >"$stage/build.log" 2>&1 &&
	make install VECDB_CUDA=1 PG_CONFIG="$PG_CONFIG" DESTDIR="$stage/inst" >>"$stage/build.log" 2>&1) ||
	{ tail -20 "$stage/build.log"; echo "gpu-sql-carry.sh: the CUDA build failed"; exit 1; }
cp "$stage/inst$pkglibdir/vecdb.so" "$root/lib/postgresql/15/lib/"
cp "$stage/inst$sharedir/extension/"* "$root/share/postgresql/15/extension/"

# the libraries every binary and plugin loads, but glibc's and CUDA's
skip='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64|linux-vdso|libcuda|libcublas|libcublasLt|libcudart|libstdc\+\+|libgcc_s)\.so'
find "$root/lib/postgresql/15" -type f \( -name '*.so' -o -perm -u+x \) -print0 |
	xargs -0 ldd 2>/dev/null | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
		base=$(basename "$lib")
		[[ $base =~ $skip ]] && continue
		cp -L "$lib" "$root/libs/$base"
	done
tar -C "$stage" -cJf .devpg.tar.xz pg
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.devpg.tar.xz' "$exclude" 2>/dev/null || echo '/.devpg.tar.xz' >> "$exclude"
echo "libraries carried: $(ls "$root/libs" | tr '\n' ' ')"
du -h .devpg.tar.xz
