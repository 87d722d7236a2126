# side_by_side.sh is sourced by the bench scripts that measure vecdb beside
# pgvector (installed as extension pgvector_ref): one private server at a time,
# data in a temp dir, vecdb preloaded and pgvector on a twin server with the
# same options less vecdb. The caller has sourced scripts/lib.sh and is in the
# repository root.

# sbs_parse_args takes the options common to these scripts: --systems
# (SYSTEMS, vecdb,pgvector), --label (LABEL, run), --server-opts (EXTRA_OPTS,
# added to both servers), --huge-pages MB (HUGE_MB: both servers run with
# huge_pages=on in MB of 2 MB pages reserved for the run, as root); the rest
# go to the driver (PY_ARGS).
sbs_parse_args() {
	SYSTEMS=vecdb,pgvector
	LABEL=run
	EXTRA_OPTS=""
	HUGE_MB=""
	PY_ARGS=()
	while [ $# -gt 0 ]; do
		case $1 in
		--systems) SYSTEMS=$2; shift 2 ;;
		--systems=*) SYSTEMS=${1#*=}; shift ;;
		--label) LABEL=$2; shift 2 ;;
		--label=*) LABEL=${1#*=}; shift ;;
		--server-opts) EXTRA_OPTS=$2; shift 2 ;;
		--server-opts=*) EXTRA_OPTS=${1#*=}; shift ;;
		--huge-pages) HUGE_MB=$2; shift 2 ;;
		--huge-pages=*) HUGE_MB=${1#*=}; shift ;;
		*) PY_ARGS+=("$1"); shift ;;
		esac
	done
	if [ -n "$HUGE_MB" ]; then EXTRA_OPTS="${EXTRA_OPTS:+$EXTRA_OPTS }-c huge_pages=on"; fi
}

# sbs_reserve_huge_pages reserves HUGE_MB of 2 MB huge pages (when set) and
# says how to give them back (SBS_HUGE_RESTORE, the previous count).
sbs_reserve_huge_pages() {
	SBS_HUGE_RESTORE=""
	[ -n "$HUGE_MB" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "--huge-pages needs root (it sets vm.nr_hugepages)" >&2
		exit 1
	fi
	SBS_HUGE_RESTORE=$(cat /proc/sys/vm/nr_hugepages)
	echo $((SBS_HUGE_RESTORE + HUGE_MB / 2)) >/proc/sys/vm/nr_hugepages
	log "reserved $(( $(cat /proc/sys/vm/nr_hugepages) - SBS_HUGE_RESTORE )) huge pages of 2 MB for the run"
}

# bench_prepare NEED_PGVECTOR PREFIX installs the packages, checks that
# pgvector_ref is installed when NEED_PGVECTOR is 1, builds vecdb, and sets
# EXTDIR, LIBDIR, OUT (bench/out) and WORK (a new temp dir /tmp/PREFIX.XXXXXX
# the server's owner can use).
bench_prepare() {
	local need_pgvector=$1 prefix=$2
	# shellcheck disable=SC2086
	vecdb_install_deps $VECDB_BUILD_PACKAGES $VECDB_PY_PACKAGES $VECDB_PLOT_PACKAGES
	EXTDIR=$("$PG_BIN/pg_config" --sharedir)/extension
	LIBDIR=$("$PG_BIN/pg_config" --pkglibdir)
	if [ "$need_pgvector" -eq 1 ] && [ ! -f "$EXTDIR/pgvector_ref.control" ]; then
		echo "pgvector is not installed as extension pgvector_ref: run ../shared/tools/pgvector-ref.sh on a pgvector source tree (see bench/README.md)" >&2
		exit 1
	fi
	log "building vecdb"
	make -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config"
	OUT=$PWD/bench/out
	mkdir -p "$OUT"
	WORK=$(mktemp -d "/tmp/$prefix.XXXXXX")
	chmod 755 "$WORK"
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$WORK"; fi
}

# side_by_side_run NAME PORT_BASE DATABASE runs bench/NAME.py for each of
# $SYSTEMS (vecdb, pgvector) against its own server (port from PORT_BASE,
# options $BASE_OPTS plus the preload for vecdb; the extension created in
# DATABASE, made unless it is postgres), with --datadir when $PASS_DATADIR is
# 1 and the arguments in PY_ARGS; then merges the per-system files into
# bench/results/NAME_$LABEL.{json,md} (driver --report) and plots them
# (sbs_plot). Uses STARTED and COMMAND for the record; vecdb is installed under the install lock, released
# once its extension exists (the postmaster holds the preloaded library).
side_by_side_run() {
	local name=$1 port_base=$2 db=$3
	local sys data port partial md5=""
	local partials=()
	VECDB_OPTS="$BASE_OPTS -c shared_preload_libraries=vecdb"
	SBS_CURRENT=""
	sbs_reserve_huge_pages
	trap 'if [ -n "$SBS_CURRENT" ]; then vecdb_pg_stop "$SBS_CURRENT"; fi; rm -rf "$WORK"; if [ -n "$SBS_HUGE_RESTORE" ]; then echo "$SBS_HUGE_RESTORE" >/proc/sys/vm/nr_hugepages; fi' EXIT
	for sys in ${SYSTEMS//,/ }; do
		data=$WORK/$sys
		port=$(vecdb_free_port "$port_base")
		case $sys in
		vecdb)
			exec 9>/tmp/vecdb-install.lock
			flock 9
			log "installing vecdb into $LIBDIR"
			as_root make install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
			md5=$(md5sum "$LIBDIR/vecdb.so" | cut -d' ' -f1)
			SBS_CURRENT=$data
			vecdb_pg_start "$data" "$port" "$WORK" "$VECDB_OPTS"
			sbs_create_extension "$port" "$db" vecdb
			flock -u 9
			exec 9>&-
			;;
		pgvector)
			SBS_CURRENT=$data
			vecdb_pg_start "$data" "$port" "$WORK" "$BASE_OPTS"
			sbs_create_extension "$port" "$db" pgvector_ref
			;;
		*)
			echo "unknown system $sys (vecdb, pgvector)" >&2
			exit 1
			;;
		esac
		partial=$OUT/$name-$LABEL-$sys.json
		local datadir=()
		if [ "${PASS_DATADIR:-0}" -eq 1 ]; then datadir=(--datadir "$data"); fi
		/usr/bin/python3 "bench/$name.py" --system "$sys" --host "$WORK" --port "$port" "${datadir[@]}" \
			--partial "$partial" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
		partials+=("$partial")
		cp "$data/server.log" "$OUT/$name-$LABEL-$sys.log"
		vecdb_pg_stop "$data"
		SBS_CURRENT=""
		rm -rf "$data"
	done
	/usr/bin/python3 "bench/$name.py" --report "${partials[@]}" --label "$LABEL" --started "$STARTED" \
		--vecdb-server-opts "$VECDB_OPTS" --pgvector-server-opts "$BASE_OPTS" --vecdb-so-md5 "$md5" \
		--command "$COMMAND" ${PY_ARGS[@]+"${PY_ARGS[@]}"}
	sbs_plot "$name"
	log "$name benchmark: $(( ($(date +%s) - STARTED) / 60 )) min $(( ($(date +%s) - STARTED) % 60 )) s wall"
}

# sbs_plot NAME draws the PNG plots of NAME_$LABEL.json in the results
# directory (bench/results, or the driver's --results in PY_ARGS) with
# bench/plot.py, into its plots/; a failure only warns: the results are written.
sbs_plot() {
	local name=$1 results=bench/results i
	for ((i = 0; i < ${#PY_ARGS[@]}; i++)); do
		case ${PY_ARGS[i]} in
		--results) results=${PY_ARGS[i + 1]:-$results} ;;
		--results=*) results=${PY_ARGS[i]#*=} ;;
		esac
	done
	/usr/bin/python3 bench/plot.py "$results/${name}_$LABEL.json" ||
		log "warning: plotting $results/${name}_$LABEL.json failed; the results are kept"
}

# sbs_create_extension PORT DATABASE EXTENSION creates DATABASE (unless it is
# postgres) and EXTENSION in it, as the server's owner.
sbs_create_extension() {
	local port=$1 db=$2 ext=$3
	local psql=(as_pg "$PG_BIN/psql" -h "$WORK" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1)
	if [ "$db" != postgres ]; then (cd / && "${psql[@]}" -d postgres -c "CREATE DATABASE $db"); fi
	(cd / && "${psql[@]}" -d "$db" -c "CREATE EXTENSION $ext")
}
