# lib.sh holds the shell functions the README commands share: dependencies,
# build and install, and a private PostgreSQL server. Source it; do not run it.

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
# The one pg_config every script builds, installs and finds pg_regress with:
# the server's own, not whichever the PATH holds first.
PG_CONFIG=$PG_BIN/pg_config

# Packages the build and the test suite need on Debian 12 (pg_auto_failover:
# TAP 017; periods: time travel, am_time_travel).
VECDB_BUILD_PACKAGES="build-essential cmake pkg-config postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
	libfaiss-dev libhnswlib-dev libfast-float-dev libopenblas-dev libopenblas-serial-dev libgtest-dev googletest libbenchmark-dev libipc-run-perl
	postgresql-$PG_MAJOR-auto-failover postgresql-$PG_MAJOR-periods"
# Packages the fuzz targets add (fuzz/run.sh): clang with libFuzzer and the
# sanitizers' runtimes, and LLVM's OpenMP for the engine built by clang.
VECDB_FUZZ_PACKAGES="clang libclang-rt-14-dev libomp-dev"
# Packages the demo and the benchmark harness add (Debian's python, not pyenv's).
VECDB_PY_PACKAGES="python3 python3-numpy python3-sklearn python3-psycopg"
# Packages the benchmarks' plots add (bench/plot.py).
VECDB_PLOT_PACKAGES="python3-matplotlib"

# log prints a progress line on stderr.
log() { printf '\n==> %s\n' "$*" >&2; }

# as_root runs a command as root, through sudo when we are not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# as_pg runs a command as the OS user that owns the private server: postgres
# when we are root (PostgreSQL refuses to run as root), else ourselves.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# vecdb_install_deps installs the named Debian packages that are missing.
vecdb_install_deps() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "dependencies already installed"
		return 0
	fi
	log "installing: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# vecdb_build_install builds the extension and installs it into the server's directories.
vecdb_build_install() {
	log "building vecdb"
	make -j"$(nproc)" PG_CONFIG="$PG_CONFIG"
	log "installing vecdb into $("$PG_CONFIG" --pkglibdir)"
	as_root make install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# vecdb_free_port prints the first TCP port at or above $1 that no server listens on.
vecdb_free_port() {
	local port=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || [ -e "/tmp/.s.PGSQL.$port" ]; do
		port=$((port + 1))
	done
	echo "$port"
}

# vecdb_pg_start DATADIR PORT SOCKDIR [OPTIONS] creates (if needed) and starts
# a private server listening only on a Unix socket in SOCKDIR and on
# 127.0.0.1:PORT; OPTIONS are extra postgres command-line options.
# The server gets no fd 9: scripts/regress.sh holds its install lock there,
# and a server that outlives the script must not keep the lock.
vecdb_pg_start() {
	local datadir=$1 port=$2 sockdir=$3 options=${4:-}
	mkdir -p "$datadir" "$sockdir"
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$datadir" "$sockdir"; fi
	if [ ! -f "$datadir/PG_VERSION" ]; then
		as_pg "$PG_BIN/initdb" -D "$datadir" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
	fi
	as_pg "$PG_BIN/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start \
		-o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 -c fsync=off $options" >/dev/null 9>&-
	log "PostgreSQL running: data $datadir, port $port, socket $sockdir"
}

# vecdb_pg_stop DATADIR stops the private server if it runs.
vecdb_pg_stop() {
	local datadir=$1
	if [ -f "$datadir/postmaster.pid" ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null || true
	fi
}
