#!/usr/bin/python3
"""compare.py measures vecdb beside pgvector (issue 16) on the harness' data
(bench/harness.py), one system per run of --system:

  build        CREATE INDEX ... USING hnsw (embedding vector_l2_ops) WITH
               (m = 16, ef_construction = 64) under maintenance_work_mem
               --mwm: wall time and index size (pg_relation_size); vecdb's
               index also holds --vecdb-index-columns (category), so its
               filters run inside the index;
  sweep        per hnsw.ef_search of --ef: recall@k against exact ground
               truth, QPS, p50 and p99 over one connection (prepared
               statement, the query vector a parameter), the median server
               time of EXPLAIN ANALYZE over a sample; and once, the same
               connection's floor, SELECT $1::vector IS NULL with the same
               parameter;
  filtered     WHERE category = ... at 1%, 10% and 50% of the rows (harness
               filters cat1, cat10, cat50) at the smallest ef_search of the
               sweep whose recall reached 0.95: recall against the exact
               filtered ground truth, QPS and its ratio to unfiltered QPS at
               that ef; pgvector with --pgvector-filter-settings
               (hnsw.iterative_scan = relaxed_order), each system's
               defaults otherwise;
  filtered sweep  each filter again at every ef_search of --ef, so the
               report can read filtered QPS at recall 0.90 and 0.95 (and its
               ratio to unfiltered QPS at the same recall, from unfiltered
               queries run at each ef_search just before the filters);
  pgbench      the sweep's QPS again through pgbench (a C client: one
               connection, prepared statements, --pgbench-seconds per
               ef_search), each query vector read by primary key from a
               table of the held-out queries inside the statement, and the
               same client's floor (that read alone): the Python client's
               own cost per query (about 0.2-0.3 ms) is the same for both
               systems, so it narrows their ratio; pgbench shows it smaller;
  concurrency  1, 2, 4, 8 client processes (each its own connection and
               --client-queries queries) at that ef: total QPS.

--report merges the per-system files into bench/results/compare_<label>.{json,md}
and adds what is read off the sweep: QPS and p99 at recall 0.90, 0.95 and 0.99,
interpolated linearly between the two sweep points that bracket the target.

Run it through bench/compare.sh, which builds and installs vecdb and starts one
server at a time (vecdb preloaded; pgvector, extension pgvector_ref, on a twin
server without vecdb). See bench/README.md."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from build_memory import BuildMemory  # noqa: E402
from shared_memory import FLOOR, INDEX, System, concurrent, set_ef, timed  # noqa: E402

INDEX_NAME = "items_embedding_idx"
EXTENSIONS = {"vecdb": "vecdb", "pgvector": "pgvector_ref"}
TARGETS = [0.90, 0.95, 0.99]
PICK_TARGET = 0.95
FILTERED = ["cat1", "cat10", "cat50"]
KNN = harness.knn_sql("")
# Settings each system runs with unchanged, recorded in the results.
SHOWN = ["shared_buffers", "maintenance_work_mem", "max_parallel_maintenance_workers", "work_mem",
         "hnsw.iterative_scan", "hnsw.max_scan_tuples", "jit", "shared_preload_libraries"]
SHOWN_VECDB = ["vecdb.build_threads", "vecdb.brute_force_ratio"]


def log(msg):
    """log prints a progress line on stderr."""
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- one system -------------------------------------------------------------

def index_clause(args):
    """index_clause is the system's CREATE INDEX clause: vecdb's index also
    holds --vecdb-index-columns, so its filters run inside the index."""
    if args.system == "vecdb" and args.vecdb_index_columns:
        return INDEX.replace("(embedding vector_l2_ops)", f"(embedding vector_l2_ops, {args.vecdb_index_columns})")
    return INDEX


def build(conn, args):
    """build drops and builds the hnsw index under maintenance_work_mem --mwm
    and returns its wall time, size and clause."""
    clause = index_clause(args)
    conn.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
    conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (args.mwm,))
    log(f"CREATE INDEX {INDEX_NAME} ON items {clause} (maintenance_work_mem {args.mwm})")
    backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    memory = BuildMemory(backend).start()
    t = time.perf_counter()
    try:
        conn.execute(f"CREATE INDEX {INDEX_NAME} ON items {clause}")
    finally:
        build_s = time.perf_counter() - t
        mem = memory.stop()
    size = conn.execute("SELECT pg_relation_size(%s::regclass)", (INDEX_NAME,)).fetchone()[0]
    log(f"built in {build_s:.1f} s, {size / 2**20:.1f} MB; peak private {mem['peak_private_mb']:.0f} MB "
        f"({mem['parallel_workers_seen']} parallel workers seen), shared memory grew by at most "
        f"{mem['peak_shared_growth_mb']:.0f} MB")
    return dict({"build_s": build_s, "index_bytes": size, "index_mb": size / 2**20, "clause": clause}, **mem)


def floor(conn, lits, warmup):
    """floor times SELECT $1::vector IS NULL (prepared, the same parameters
    as the k-NN query) over every query vector: what a query costs this
    client and connection before any search."""
    for lit in lits[:warmup]:
        conn.execute(FLOOR, (lit,), prepare=True).fetchall()
    lat = []
    t0 = time.perf_counter()
    for lit in lits:
        lat.append(timed(conn, FLOOR, (lit,), prepare=True)[0])
    total = time.perf_counter() - t0
    return {"qps": len(lits) / total, "p50_ms": float(np.percentile(lat, 50)),
            "p99_ms": float(np.percentile(lat, 99))}


def plan_of(conn, where, lit, k):
    """plan_of returns the plan nodes of the k-NN query with where (EXPLAIN,
    no ANALYZE), outermost first, each with its index name when it has one:
    whether the planner took the vector index or an exact scan."""
    node = conn.execute("EXPLAIN (FORMAT JSON) " + harness.knn_sql(where), (lit, k)).fetchone()[0][0]["Plan"]
    nodes = []
    while node is not None:
        nodes.append(node["Node Type"] + (f" ({node['Index Name']})" if "Index Name" in node else ""))
        node = (node.get("Plans") or [None])[0]
    return " > ".join(nodes)


def pick_ef(sweep, target):
    """pick_ef returns the smallest ef_search of the sweep whose recall
    reached target and whether one did (else the largest ef_search)."""
    for p in sweep:
        if p["recall"] >= target:
            return p["ef_search"], True
    return sweep[-1]["ef_search"], False


def run_system(args):
    """run_system loads the table, builds the index and runs the sweep, the
    filtered queries and the concurrent clients for --system; writes
    --partial."""
    started = time.time()
    base, queries, cat, price, gt = harness.load_or_make(args)
    lits = [harness.vec_literal(q) for q in queries]
    efs = sorted(int(e) for e in args.ef.split(","))
    system = System(args.system, EXTENSIONS[args.system], args.host, args.port, args.dbname, "", args.dsn)
    res = {"system": args.system, "loadavg_start": os.getloadavg()}
    with harness.connect_args(args, autocommit=True) as conn:
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {system.extension}")
        res["extversion"] = conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                                         (system.extension,)).fetchone()[0]
        res["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        res["load_s"] = harness.ensure_table(conn, args, base, cat, price, reload=True)
        res["table_mb"] = conn.execute("SELECT pg_relation_size('items')").fetchone()[0] / 2**20
        res["build"] = build(conn, args)
        shown = SHOWN + (SHOWN_VECDB if args.system == "vecdb" else [])
        res["settings"] = {s: conn.execute(f"SHOW {s}").fetchone()[0] for s in shown}
        if args.system == "vecdb":
            res["simd"] = conn.execute("SELECT vecdb_simd_level()").fetchone()[0]

        res["sweep"] = []
        for ef in efs:
            set_ef(conn, ef)
            log(f"{args.system}: sweep ef_search {ef}")
            r = harness.run_queries(conn, queries, gt["none"], args.k, "", args.warmup, args.explain_sample)
            r["ef_search"] = ef
            res["sweep"].append(r)
            log(f"{args.system}: ef_search {ef}: recall {r['recall']:.4f}, {r['qps']:.0f} QPS")
        res["floor"] = floor(conn, lits, args.warmup)
        if args.pgbench_seconds > 0:
            res["pgbench"] = pgbench_sweep(conn, args, lits, efs)

        ef, reached = pick_ef(res["sweep"], PICK_TARGET)
        res["pick"] = {"target": PICK_TARGET, "ef_search": ef, "reached": reached}
        unfiltered = next(p for p in res["sweep"] if p["ef_search"] == ef)
        set_ef(conn, ef)
        res["filter_settings"] = {}
        if args.system == "pgvector":
            for item in filter(None, args.pgvector_filter_settings.split(",")):
                key, val = item.split("=", 1)
                conn.execute("SELECT set_config(%s, %s, false)", (key.strip(), val.strip()))
                res["filter_settings"][key.strip()] = val.strip()
        res["filtered"] = []
        for name in FILTERED:
            where, fn = harness.FILTERS[name]
            log(f"{args.system}: filter {name} at ef_search {ef}")
            r = harness.run_queries(conn, queries, gt[name], args.k, where, args.warmup, args.explain_sample)
            r.update({"filter": name, "where": where, "selectivity": float(fn(cat, price).mean()),
                      "ef_search": ef, "qps_ratio_unfiltered": r["qps"] / unfiltered["qps"],
                      "plan": plan_of(conn, where, lits[0], args.k)})
            res["filtered"].append(r)
        res["filtered_sweep"] = filtered_sweep(conn, args, queries, gt, efs)
        set_ef(conn, ef)

    res["concurrency"] = []
    for clients in [int(c) for c in args.clients.split(",")]:
        log(f"{args.system}: {clients} clients x {args.client_queries} queries at ef_search {ef}")
        r = concurrent(system, KNN, lambda i: (lits[i % len(lits)], args.k), ef, clients, args.client_queries)
        r["ef_search"] = ef
        res["concurrency"].append(r)
    res["loadavg_end"] = os.getloadavg()
    res["wall_s"] = time.time() - started
    with open(args.partial, "w") as fh:
        json.dump(res, fh, indent=1)
    log(f"{args.system}: done in {res['wall_s'] / 60:.1f} min; wrote {args.partial}")


def pgbench_run(args, script, ef):
    """pgbench_run runs script for --pgbench-seconds over one connection
    (prepared statements) at hnsw.ef_search ef; returns QPS and mean latency."""
    with tempfile.NamedTemporaryFile("w", suffix=".pgb", delete=False) as fh:
        fh.write(script)
    try:
        env = dict(os.environ, PGOPTIONS=f"-c hnsw.ef_search={ef}")
        where = [args.dsn] if args.dsn else ["-h", args.host, "-p", str(args.port), "-U", args.user, args.dbname]
        out = subprocess.run([args.pgbench, "-n", "-M", "prepared", "-T", str(args.pgbench_seconds), "-f", fh.name]
                             + where,
                             env=env, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(fh.name)
    tps = re.search(r"tps = ([0-9.]+)", out)
    lat = re.search(r"latency average = ([0-9.]+) ms", out)
    if not tps or not lat:
        raise RuntimeError(f"pgbench printed no tps: {out}")
    return {"qps": float(tps.group(1)), "latency_ms": float(lat.group(1))}


def pgbench_sweep(conn, args, lits, efs):
    """pgbench_sweep measures the unfiltered sweep's QPS with pgbench (see
    the module's doc) and its floor; {"floor": ..., "sweep": [by ef_search]}."""
    conn.execute("DROP TABLE IF EXISTS bench_queries")
    conn.execute(f"CREATE TABLE bench_queries (qid int PRIMARY KEY, v vector({args.d}))")
    with conn.cursor() as cur:
        with cur.copy("COPY bench_queries (qid, v) FROM STDIN") as copy:
            for i, lit in enumerate(lits):
                copy.write_row((i + 1, lit))
    conn.execute("ANALYZE bench_queries")
    pick = f"\\set q random(1, {len(lits)})\n"
    knn = pick + (f"SELECT id FROM items ORDER BY embedding <-> (SELECT v FROM bench_queries WHERE qid = :q) "
                  f"LIMIT {args.k};\n")
    out = {"floor": pgbench_run(args, pick + "SELECT v IS NULL FROM bench_queries WHERE qid = :q;\n", efs[0]),
           "sweep": []}
    for ef in efs:
        r = pgbench_run(args, knn, ef)
        r["ef_search"] = ef
        out["sweep"].append(r)
        log(f"pgbench ef_search {ef}: {r['qps']:.0f} QPS, {r['latency_ms']:.3f} ms")
    conn.execute("DROP TABLE bench_queries")
    return out


def filtered_sweep(conn, args, queries, gt, efs):
    """filtered_sweep runs each filter at every ef_search of the sweep (the
    connection's filter settings as set), so that filtered QPS can be read at
    a recall target like the unfiltered; {filter: [points by ef_search]}.
    At each ef_search the unfiltered query runs first ("none"), then the
    filters: the filtered / unfiltered ratio at a recall target is read off
    queries timed minutes, not a quarter of an hour, apart (a load that came
    and went between the sweeps once moved that ratio by a third)."""
    out = {name: [] for name in ["none"] + FILTERED}
    for ef in efs:
        set_ef(conn, ef)
        for name in out:
            where, _ = harness.FILTERS[name]
            r = harness.run_queries(conn, queries, gt[name], args.k, where, args.warmup, 0)
            r["ef_search"] = ef
            out[name].append(r)
            log(f"{args.system}: filter {name} ef_search {ef}: recall {r['recall']:.4f}, {r['qps']:.0f} QPS")
    return out


# --- report -----------------------------------------------------------------

def at_recall(sweep, target, keys=("qps", "p99_ms")):
    """at_recall reads keys (QPS and p99) at recall target off a sweep (sorted
    by ef_search): linear in recall between the last point below the target
    and the first at or above it. None when no point reaches it; when the
    first point already does, its own values (flagged 'first')."""
    for i, p in enumerate(sweep):
        if p["recall"] < target:
            continue
        if i == 0:
            return dict({k: p[k] for k in keys}, between=[p["ef_search"]], first=True)
        lo = sweep[i - 1]
        w = (target - lo["recall"]) / (p["recall"] - lo["recall"])
        return dict({k: lo[k] + w * (p[k] - lo[k]) for k in keys},
                    between=[lo["ef_search"], p["ef_search"]], first=False)
    return None


def pgbench_points(s):
    """pgbench_points joins a system's pgbench QPS to its sweep's recall, by
    ef_search (None without a pgbench sweep)."""
    if "pgbench" not in s:
        return None
    recall = {pt["ef_search"]: pt["recall"] for pt in s["sweep"]}
    return [dict(pt, recall=recall[pt["ef_search"]]) for pt in s["pgbench"]["sweep"] if pt["ef_search"] in recall]


def f(v, spec=".2f"):
    """f formats a number or returns '-'."""
    return "-" if v is None else format(v, spec)


def ratio(a, b):
    """ratio renders a / b as 'N.NNx', '-' when either is missing."""
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def report_md(res):
    """report_md renders the header line and one side-by-side table per section."""
    m = res["meta"]
    sysres = res["systems"]
    v, p = sysres.get("vecdb"), sysres.get("pgvector")

    def both(fn):
        """both returns fn of each system's results (None where it did not run)."""
        return (fn(v) if v else None), (fn(p) if p else None)

    lines = [f"**vecdb vs pgvector** ({m['label']}) — N = {m['n']} x {m['d']} (harness mixture, "
             f"{m['clusters']} clusters, seed {m['seed']}), {m['queries']} held-out queries, k = {m['k']}, "
             + "; ".join(f"{name} `{s['build']['clause']}`" for name, s in sysres.items())
             + f", maintenance_work_mem {m['mwm']}; vecdb server `{m['vecdb_server_opts']}`, pgvector "
             f"(pgvector_ref {p['extversion'] if p else '-'}) on a twin server `{m['pgvector_server_opts']}` (one "
             f"at a time); commit {m['git_commit'][:10]}, vecdb.so md5 {m['vecdb_so_md5'][:12]}; {m['cpus']} "
             f"CPUs, load average {f(m['loadavg_start'][0])} at start, {f(m['loadavg_end'][0])} at end; "
             f"{m['wall_s'] / 60:.1f} min wall; {m['date']}",
             "",
             "Latencies and QPS are client-side (Python, psycopg, one prepared statement), so they include "
             "the round trip the floor shows; server ms is the median `Execution Time` of EXPLAIN ANALYZE over "
             f"the first {m['explain_sample']} queries. Ratios are vecdb / pgvector.",
             "",
             "### Build",
             "",
             "| | vecdb | pgvector | vecdb / pgvector |",
             "|---|---|---|---|"]
    def build_memory(s, key=None):
        """build_memory returns one of the sampled build peaks, or their sum."""
        b = s["build"]
        if "peak_private_mb" not in b:
            return None
        return b[key] if key else b["peak_private_mb"] + b["peak_shared_growth_mb"]

    for label, fn, spec, compared in [
            ("CREATE INDEX s", lambda s: s["build"]["build_s"], ".1f", True),
            ("build peak private MB (backend + parallel workers)",
             lambda s: build_memory(s, "peak_private_mb"), ".0f", False),
            ("build peak shared memory growth MB", lambda s: build_memory(s, "peak_shared_growth_mb"), ".0f", False),
            ("build memory MB (the two peaks above, added)", build_memory, ".0f", True),
            ("index MB (pg_relation_size)", lambda s: s["build"]["index_mb"], ".1f", True),
            ("load s (COPY + VACUUM ANALYZE)", lambda s: s["load_s"], ".1f", True),
            ("table MB", lambda s: s["table_mb"], ".1f", True)]:
        a, b = both(fn)
        lines.append(f"| {label} | {f(a, spec)} | {f(b, spec)} | {ratio(a, b) if compared else '-'} |")

    lines += ["", "Build memory, sampled every 50 ms during CREATE INDEX (bench/build_memory.py): private is the "
              "building backend's anonymous resident memory plus its parallel workers'; shared is how far the "
              "machine's shared memory (/proc/meminfo Shmem: shared buffers first touched, dynamic shared "
              "memory) grew over its value at the start."]
    lines += ["", "### ef_search sweep (no filter, one connection)", "",
              "| ef_search | recall vecdb | recall pgvector | QPS vecdb | QPS pgvector | QPS ratio | p50 ms vecdb "
              "| p50 ms pgvector | p99 ms vecdb | p99 ms pgvector | p99 ratio | server ms vecdb | server ms "
              "pgvector | server ratio |",
              "|" + "---|" * 14]
    efs = sorted({pt["ef_search"] for s in sysres.values() for pt in s["sweep"]})
    for ef in efs:
        a, b = both(lambda s: next((pt for pt in s["sweep"] if pt["ef_search"] == ef), None))
        g = (lambda pt, key: pt[key] if pt else None)
        lines.append(f"| {ef} | {f(g(a, 'recall'), '.4f')} | {f(g(b, 'recall'), '.4f')} | {f(g(a, 'qps'), '.0f')} "
                     f"| {f(g(b, 'qps'), '.0f')} | {ratio(g(a, 'qps'), g(b, 'qps'))} | {f(g(a, 'p50_ms'), '.3f')} | "
                     f"{f(g(b, 'p50_ms'), '.3f')} | {f(g(a, 'p99_ms'), '.3f')} | {f(g(b, 'p99_ms'), '.3f')} | "
                     f"{ratio(g(a, 'p99_ms'), g(b, 'p99_ms'))} | {f(g(a, 'server_ms_median'), '.3f')} | "
                     f"{f(g(b, 'server_ms_median'), '.3f')} | "
                     f"{ratio(g(a, 'server_ms_median'), g(b, 'server_ms_median'))} |")
    a, b = both(lambda s: s["floor"])
    lines += ["", "Floor (`SELECT $1::vector IS NULL`, same connection and parameter): "
              + "; ".join(f"{name} p50 {fl['p50_ms']:.3f} ms, p99 {fl['p99_ms']:.3f} ms, {fl['qps']:.0f} QPS"
                          for name, fl in [("vecdb", a), ("pgvector", b)] if fl)]

    lines += ["", "### At a recall target (linear between the sweep points that bracket it)", "",
              "'≤ N (first point)': the smallest ef_search of the sweep already reached the target; its own "
              "values are shown.", "",
              "| recall | ef_search vecdb | ef_search pgvector | QPS vecdb | QPS pgvector | QPS ratio | p99 ms vecdb "
              "| p99 ms pgvector | p99 ratio |",
              "|" + "---|" * 9]

    def between(x):
        """between names the sweep points a target was read between."""
        if x is None:
            return "not reached"
        return f"≤ {x['between'][0]} (first point)" if x["first"] else f"{x['between'][0]}–{x['between'][1]}"

    for t in TARGETS:
        a, b = both(lambda s: at_recall(s["sweep"], t))
        g = (lambda x, key: x[key] if x else None)
        lines.append(f"| {t:.2f} | {between(a) if v else '-'} | {between(b) if p else '-'} | {f(g(a, 'qps'), '.0f')} "
                     f"| {f(g(b, 'qps'), '.0f')} | {ratio(g(a, 'qps'), g(b, 'qps'))} | {f(g(a, 'p99_ms'), '.3f')} | "
                     f"{f(g(b, 'p99_ms'), '.3f')} | {ratio(g(a, 'p99_ms'), g(b, 'p99_ms'))} |")

    a, b = both(pgbench_points)
    if a or b:
        fa, fb = both(lambda s: s["pgbench"]["floor"] if "pgbench" in s else None)
        lines += ["", "### The same sweep through pgbench (C client, one connection, prepared)", "",
                  "Each query reads its vector by primary key from a table of the held-out queries inside the "
                  "statement; the floor is that read alone. Recall is the sweep's above.", "",
                  "| ef_search | QPS vecdb | QPS pgvector | QPS ratio | latency ms vecdb | latency ms pgvector |",
                  "|" + "---|" * 6]
        for ef in efs:
            pa = next((pt for pt in a or [] if pt["ef_search"] == ef), None)
            pb = next((pt for pt in b or [] if pt["ef_search"] == ef), None)
            g = (lambda pt, key: pt[key] if pt else None)
            lines.append(f"| {ef} | {f(g(pa, 'qps'), '.0f')} | {f(g(pb, 'qps'), '.0f')} | "
                         f"{ratio(g(pa, 'qps'), g(pb, 'qps'))} | {f(g(pa, 'latency_ms'), '.3f')} | "
                         f"{f(g(pb, 'latency_ms'), '.3f')} |")
        lines += ["", "pgbench floor: " + "; ".join(
            f"{name} {fl['qps']:.0f} QPS, {fl['latency_ms']:.3f} ms" for name, fl in [("vecdb", fa), ("pgvector", fb)]
            if fl), "", "| recall | ef_search vecdb | ef_search pgvector | pgbench QPS vecdb | pgbench QPS pgvector "
            "| QPS ratio |", "|" + "---|" * 6]
        for t in TARGETS:
            ra = at_recall(a, t, ("qps",)) if a else None
            rb = at_recall(b, t, ("qps",)) if b else None
            g = (lambda x, key: x[key] if x else None)
            lines.append(f"| {t:.2f} | {between(ra) if a else '-'} | {between(rb) if b else '-'} | "
                         f"{f(g(ra, 'qps'), '.0f')} | {f(g(rb, 'qps'), '.0f')} | {ratio(g(ra, 'qps'), g(rb, 'qps'))} |")

    picks = "; ".join(f"{name} ef_search {s['pick']['ef_search']}"
                      + ("" if s["pick"]["reached"] else f" (recall {PICK_TARGET} not reached: the largest)")
                      for name, s in sysres.items())
    defaults = "; ".join(f"{name}: " + ", ".join([f"{k} {val}" for k, val in s["settings"].items()
                                                  if k.startswith(("hnsw.iterative", "vecdb.brute"))
                                                  and k not in s.get("filter_settings", {})]
                                                 + [f"{k} {val} (set for the filtered queries)"
                                                    for k, val in s.get("filter_settings", {}).items()])
                         for name, s in sysres.items())
    lines += ["", f"### Filtered (`WHERE category = ...`, each at the ef_search that reached recall {PICK_TARGET} "
                  f"unfiltered: {picks})", "",
              f"Settings: {defaults}. vecdb evaluates the condition inside the index when the index holds the "
              "column (see the build clause) and its scans go on until the query has its rows whatever "
              "hnsw.iterative_scan says; pgvector with iterative_scan off returns what the first ef_search "
              "candidates leave after the filter, so a selective filter can return fewer than k rows (short).",
              "",
              "| filter | selectivity | recall vecdb | recall pgvector | QPS vecdb | QPS pgvector | QPS ratio | vecdb "
              "/ unfiltered | pgvector / unfiltered | p99 ms vecdb | p99 ms pgvector | short vecdb | short pgvector "
              "| plan vecdb | plan pgvector |",
              "|" + "---|" * 15]
    for name in FILTERED:
        a, b = both(lambda s: next((r for r in s["filtered"] if r["filter"] == name), None))
        g = (lambda r, key: r[key] if r else None)
        sel = (a or b)["selectivity"]
        lines.append(f"| {name} | {sel:.1%} | {f(g(a, 'recall'), '.4f')} | {f(g(b, 'recall'), '.4f')} | "
                     f"{f(g(a, 'qps'), '.0f')} | {f(g(b, 'qps'), '.0f')} | {ratio(g(a, 'qps'), g(b, 'qps'))} | "
                     f"{f(g(a, 'qps_ratio_unfiltered'))} | {f(g(b, 'qps_ratio_unfiltered'))} | "
                     f"{f(g(a, 'p99_ms'), '.3f')} | {f(g(b, 'p99_ms'), '.3f')} | {f(g(a, 'short_results'), 'd')} | "
                     f"{f(g(b, 'short_results'), 'd')} | {g(a, 'plan') or '-'} | {g(b, 'plan') or '-'} |")

    if all("filtered_sweep" in s for s in sysres.values()):
        lines += ["", f"### Filtered at a recall target (each filter swept over the same ef_search values; "
                      f"read off as the unfiltered sweep above)", "",
                  "vecdb / unfiltered compares with vecdb's unfiltered QPS at the same recall (pgvector likewise), "
                  "read off unfiltered queries run in the same pass, at each ef_search just before the filters.",
                  "",
                  "| filter | recall | ef_search vecdb | ef_search pgvector | QPS vecdb | QPS pgvector | QPS ratio "
                  "| vecdb / unfiltered | pgvector / unfiltered |",
                  "|" + "---|" * 9]
        for name in FILTERED:
            for t in TARGETS[:2]:
                a, b = both(lambda s: at_recall(s["filtered_sweep"][name], t))
                ua, ub = both(lambda s: at_recall(s["filtered_sweep"].get("none", s["sweep"]), t))
                g = (lambda x, key: x[key] if x else None)
                lines.append(f"| {name} | {t:.2f} | {between(a) if v else '-'} | {between(b) if p else '-'} | "
                             f"{f(g(a, 'qps'), '.0f')} | {f(g(b, 'qps'), '.0f')} | {ratio(g(a, 'qps'), g(b, 'qps'))} "
                             f"| {ratio(g(a, 'qps'), g(ua, 'qps'))} | {ratio(g(b, 'qps'), g(ub, 'qps'))} |")

    lines += ["", f"### Concurrent clients (separate processes, {m['client_queries']} queries each, at the "
                  f"ef_search above)", "",
              "| clients | QPS vecdb | QPS pgvector | QPS ratio | p50 ms vecdb | p50 ms pgvector |",
              "|---|---|---|---|---|---|"]
    counts = sorted({c["clients"] for s in sysres.values() for c in s["concurrency"]})
    for c in counts:
        a, b = both(lambda s: next((r for r in s["concurrency"] if r["clients"] == c), None))
        g = (lambda r, key: r[key] if r else None)
        lines.append(f"| {c} | {f(g(a, 'qps'), '.0f')} | {f(g(b, 'qps'), '.0f')} | {ratio(g(a, 'qps'), g(b, 'qps'))} "
                     f"| {f(g(a, 'p50_ms'), '.3f')} | {f(g(b, 'p50_ms'), '.3f')} |")

    lines += ["", "Settings as run: " + "; ".join(
        f"{name}: " + ", ".join(f"{k} = {val}" for k, val in s["settings"].items()) for name, s in sysres.items())]
    return "\n".join(lines)


def report(args):
    """report merges the per-system files into compare_<label>.{json,md}."""
    res = harness.merge_partials(args.report)
    for sres in res["systems"].values():
        sres["at_recall"] = {f"{t:.2f}": at_recall(sres["sweep"], t) for t in TARGETS}
    res["meta"] = harness.run_meta(args, res)
    res["meta"].update({
        "index": INDEX, "mwm": args.mwm, "ef": args.ef, "clients": args.clients,
        "client_queries": args.client_queries, "explain_sample": args.explain_sample, "warmup": args.warmup,
    })
    md = report_md(res)
    path = harness.write_results(args, res, "compare", md)
    print(md)
    print(f"\nwall time {res['meta']['wall_s'] / 60:.1f} min; wrote {path}.json and .md")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_data_args(ap, server=False)
    ap.add_argument("--system", choices=sorted(EXTENSIONS), help="run this system (its server is up)")
    ap.add_argument("--partial", help="--system: where to write its results")
    ap.add_argument("--report", nargs="+", help="merge these --partial files into the results")
    ap.add_argument("--label", default="run", help="results go to <results>/compare_<label>.{json,md}")
    ap.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    ap.add_argument("--mwm", default="2GB", help="maintenance_work_mem for CREATE INDEX (both systems)")
    ap.add_argument("--vecdb-index-columns", default="category",
                    help="scalar columns vecdb's index also holds (its filters then run in the index); '' for none")
    ap.add_argument("--pgvector-filter-settings", default="hnsw.iterative_scan=relaxed_order",
                    help="key=value,... set on pgvector's connection for the filtered queries ('' for none)")
    ap.add_argument("--ef", default="1,5,10,20,40,80,160,320",
                    help="hnsw.ef_search values of the sweep (from 1: a filtered scan can reach a recall target below 10)")
    ap.add_argument("--clients", default="1,2,4,8", help="concurrent client processes, comma list")
    ap.add_argument("--client-queries", type=int, default=1000, help="queries per concurrent client")
    ap.add_argument("--pgbench-seconds", type=int, default=5,
                    help="seconds of pgbench per ef_search (0: no pgbench sweep)")
    ap.add_argument("--pgbench", default=shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench",
                    help="the pgbench binary")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--explain-sample", type=int, default=50)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"),
                    help="the harness' data cache")
    harness.side_by_side_main(ap, run_system, report)


if __name__ == "__main__":
    main()
