#!/usr/bin/python3
"""streaming.py measures streaming ingestion (issue 17) for one system at a
time, vecdb or pgvector, on the harness' data (bench/harness.py):

  setup     loads the 100,000 x 128 table into a template database and builds
            the index (hnsw, m 16, ef_construction 64);
  per rate  clones the template (CREATE DATABASE ... TEMPLATE), measures at
            rest (recall, floor, server time, then k-NN queries back to back
            for --at-rest seconds), then streams for --duration seconds: one
            connection COPYs (binary) rate/10 rows every 100 ms, drawn from
            the same mixture with another seed, while a second runs the
            prepared k-NN query back to back and a third probes freshness
            every second (the last row of the newest batch committed at least
            1 s earlier, searched by its own vector) and samples
            vecdb_index_info / vecdb_seal_status every 10 s; after the stream,
            recall@k against exact float64 search over every row present,
            EXPLAIN ANALYZE and the floor again.

A batch that overruns its 100 ms slot delays the next one (no batch is
skipped or merged): the rows absorbed are the rows of the batches started
within the duration, and the achieved rate is those rows over the duration.

Run it through bench/streaming.sh, which builds and installs vecdb and starts
one server at a time (vecdb preloaded; pgvector on a twin server without
vecdb); --report merges the per-system files into
bench/results/streaming_<label>.{json,md}. See bench/README.md."""
import argparse
import json
import math
import multiprocessing
import os
import sys
import time

import numpy as np
import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from shared_memory import FLOOR, INDEX, KNN, System, explain, median, recall_of, timed  # noqa: E402

TEMPLATE_DB = "streaming_base"
INDEX_NAME = "items_embedding_idx"
EXTENSIONS = {"vecdb": "vecdb", "pgvector": "pgvector_ref"}
BATCH_INTERVAL_S = 0.1
WINDOW_S = 10
PROBE_AGE_S = 1.0
GOALS = {"absorb_rows_per_s": 5000, "latency_ratio": 1.5, "recall": 0.95}


def log(msg):
    """log prints a progress line on stderr."""
    print(f"[streaming {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(xs, q):
    """pct returns the q-th percentile of a non-empty sequence, else None."""
    return float(np.percentile(xs, q)) if len(xs) else None


def sleep_until(t):
    """sleep_until sleeps until time.monotonic() reaches t."""
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


# --- data -------------------------------------------------------------------

def copy_payload(rows, first_row, first_id):
    """copy_payload encodes rows (float32, one vector each) as one COPY
    (FORMAT binary) stream for items (id, category, price, embedding): the
    binary forms of int4, float4 and vector (int16 dim, int16 unused, float4s)
    are the same in vecdb and pgvector. Row j of the stream gets id
    first_id + j, category 4 + j % 39 and price j % 100 (j counted from
    first_row)."""
    count, d = rows.shape
    dt = np.dtype([("nf", ">i2"), ("l_id", ">i4"), ("id", ">i4"), ("l_cat", ">i4"), ("cat", ">i4"),
                   ("l_price", ">i4"), ("price", ">f4"), ("l_vec", ">i4"), ("dim", ">i2"), ("unused", ">i2"),
                   ("vec", ">f4", (d,))])
    j = np.arange(first_row, first_row + count)
    rec = np.empty(count, dtype=dt)
    rec["nf"] = 4
    rec["l_id"] = rec["l_cat"] = rec["l_price"] = 4
    rec["id"] = first_id + np.arange(count)
    rec["cat"] = 4 + j % 39
    rec["price"] = (j % 100).astype(np.float32)
    rec["l_vec"] = 4 + 4 * d
    rec["dim"] = d
    rec["unused"] = 0
    rec["vec"] = rows
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rec.tobytes() + b"\xff\xff"


def exact_topk(base, stream, absorbed, queries, k, chunk=200000):
    """exact_topk returns the ids of the k nearest rows (L2, float64) of each
    query among the base rows (ids 0..n-1) and the first absorbed stream rows
    (ids n..): harness.exact_knn per chunk, then the chunks' candidates
    re-ranked by their exact distances."""
    n = len(base)
    parts = [(base, 0)] + ([(stream[:absorbed], n)] if absorbed else [])
    cands = []
    for arr, off in parts:
        for s in range(0, len(arr), chunk):
            cands.append(harness.exact_knn(arr[s:s + chunk], queries, k) + off + s)
    cand = np.concatenate(cands, axis=1)
    vecs = np.where((cand < n)[..., None], base[np.minimum(cand, n - 1)],
                    stream[np.clip(cand - n, 0, max(absorbed - 1, 0))]).astype(np.float64)
    dist = ((vecs - queries.astype(np.float64)[:, None, :]) ** 2).sum(axis=2)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cand, order, axis=1)


# --- the three connections of a stream --------------------------------------

def query_proc(conninfo, lits, k, t0, duration, offset, results):
    """query_proc runs the prepared k-NN query back to back from t0 for
    duration seconds, cycling through lits from offset; once a second it runs
    EXPLAIN ANALYZE of the next query instead (server time, not counted).
    Puts (end time since t0, latency ms) per query, the EXPLAINs and the
    short results on results."""
    with psycopg.connect(**conninfo) as conn:
        for j in range(5):
            conn.execute(KNN, (lits[(offset + j) % len(lits)], k), prepare=True).fetchall()
        sleep_until(t0)
        lat, plans, short = [], [], 0
        i = offset
        next_explain = t0 + 0.5
        end = t0 + duration
        while True:
            now = time.monotonic()
            if now >= end:
                break
            lit = lits[i % len(lits)]
            i += 1
            if now >= next_explain:
                p = explain(conn, KNN, (lit, k))
                plans.append((now - t0, p["execution_ms"], p["shared_hit"] + p["shared_read"]))
                next_explain += 1.0
                continue
            rows = conn.execute(KNN, (lit, k), prepare=True).fetchall()
            e = time.monotonic()
            lat.append((e - t0, (e - now) * 1000.0))
            if len(rows) < k:
                short += 1
    results.put(("query", {"lat": lat, "explain": plans, "short": short}))


def insert_proc(conninfo, table, stream, n, rate, t0, duration, commit_times, committed, results):
    """insert_proc COPYs rate/10 stream rows every 100 ms from t0, one batch
    per transaction; a batch starts at its slot or, when the previous one
    overran, as soon as that one commits; no batch starts after duration.
    Publishes each batch's commit time for the freshness probe and puts
    (start, commit, rows) per batch on results. table is items, or the
    control run's unindexed table."""
    per_batch = max(1, int(round(rate * BATCH_INTERVAL_S)))
    nbatches = int(round(duration / BATCH_INTERVAL_S))
    recs = []
    with psycopg.connect(**conninfo) as conn:
        sleep_until(t0)
        end = t0 + duration
        for b in range(nbatches):
            sleep_until(t0 + b * BATCH_INTERVAL_S)
            start = time.monotonic()
            if start >= end:
                break
            first = b * per_batch
            payload = copy_payload(stream[first:first + per_batch], first, n + first)
            with conn.cursor() as cur:
                with cur.copy(f"COPY {table} (id, category, price, embedding) FROM STDIN (FORMAT binary)") as cp:
                    cp.write(payload)
            done = time.monotonic()
            commit_times[b] = done
            committed.value = b + 1
            recs.append((start - t0, done - t0, per_batch))
    results.put(("insert", {"batches": recs, "per_batch": per_batch, "scheduled": nbatches}))


def sample_state(conn, extension):
    """sample_state reads the index's state: size and table counters for
    both systems; vecdb's segments (vecdb_index_info) and sealing queue
    (vecdb_seal_status: indexes queued, seals requested and done since the
    server started) and the seal jobs running, besides."""
    out = {"index_mb": conn.execute("SELECT pg_relation_size(%s::regclass)", (INDEX_NAME,)).fetchone()[0] / 2**20}
    r = conn.execute("SELECT autovacuum_count, autoanalyze_count, vacuum_count FROM pg_stat_user_tables "
                     "WHERE relname = 'items'").fetchone()
    out.update({"autovacuum_count": r[0], "autoanalyze_count": r[1], "vacuum_count": r[2]})
    if extension == "vecdb":
        segs = conn.execute("SELECT segment, kind, rows, deleted, bytes FROM vecdb_index_info(%s)",
                            (INDEX_NAME,)).fetchall()
        out["segments"] = sum(1 for s in segs if s[1] != "growing")
        out["growing_rows"] = sum(s[2] for s in segs if s[1] == "growing")
        out["index_rows"] = sum(s[2] for s in segs)
        out["deleted"] = sum(s[3] or 0 for s in segs)
        out["segment_kinds"] = sorted({s[1] for s in segs if s[1] != "growing"})
        st = conn.execute("SELECT enabled, queued, requested, sealed FROM vecdb_seal_status()").fetchone()
        out.update({"seal_enabled": st[0], "seal_queued": st[1], "seal_requested": st[2], "seal_sealed": st[3]})
        # the leader and its job workers share the type; a job is connected to a database
        out["seal_running"] = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                           "'vecdb seal' AND datid IS NOT NULL").fetchone()[0]
    return out


def monitor_proc(conninfo, extension, probe, stream, n, per_batch, k, t0, duration, commit_times, committed,
                 results):
    """monitor_proc probes freshness every second from t0 + 1 s: the last row
    of the newest batch committed at least PROBE_AGE_S earlier is searched by
    its own vector with the k-NN statement (found at rank 1? in the top k?),
    unless probe is false (the control run: streamed rows are not in items);
    and samples the index's state at t0 and every WINDOW_S seconds."""
    probes, states = [], []
    with psycopg.connect(**conninfo) as conn:
        sleep_until(t0)
        states.append((0.0, sample_state(conn, extension)))
        tick = 1
        while True:
            at = t0 + tick
            if at > t0 + duration + 1e-6:
                break
            sleep_until(at)
            now = time.monotonic()
            b = committed.value - 1
            while b >= 0 and commit_times[b] > now - PROBE_AGE_S:
                b -= 1
            if b >= 0 and probe:
                row = (b + 1) * per_batch - 1
                rid = n + row
                ms, rows = timed(conn, KNN, (harness.vec_literal(stream[row]), k), prepare=True)
                ids = [r[0] for r in rows]
                probes.append({"t": now - t0, "id": rid, "age_s": now - commit_times[b],
                               "rank1": bool(ids) and ids[0] == rid, "in_topk": rid in ids, "ms": ms})
            if tick % WINDOW_S == 0 or tick == int(duration):
                states.append((time.monotonic() - t0, sample_state(conn, extension)))
            tick += 1
    results.put(("monitor", {"probes": probes, "states": states}))


def run_procs(targets):
    """run_procs starts one forked process per (function, args), collects
    what each puts on the shared queue and joins them."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=fn, args=args + (results,)) for fn, args in targets]
    for p in procs:
        p.start()
    got = {}
    try:
        while len(got) < len(procs):
            try:
                kind, data = results.get(timeout=5)
                got[kind] = data
            except Exception:  # queue.Empty: check that nobody died
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a benchmark process failed: "
                                       + ", ".join(f"{p.name} exit {p.exitcode}" for p in procs))
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.terminate()
    return got


# --- one system -------------------------------------------------------------

def connect_retry(conninfo, tries=30):
    """connect_retry connects, retrying while the database is being cloned."""
    for i in range(tries):
        try:
            return psycopg.connect(**conninfo)
        except psycopg.OperationalError:
            if i == tries - 1:
                raise
            time.sleep(1)


def clone(system, dbname):
    """clone (re)creates dbname as a copy of the template database, retrying
    while another session (autovacuum) is connected to the template."""
    with system.connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        t = time.perf_counter()
        for i in range(60):
            try:
                conn.execute(f"CREATE DATABASE {dbname} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
                break
            except psycopg.errors.ObjectInUse:
                if i == 59:
                    raise
                time.sleep(1)
        return time.perf_counter() - t


def setup(system, base, cat, price, d):
    """setup loads the table into the template database, builds the index and
    closes the database to connections (so that it can be cloned); returns
    load and build facts."""
    with system.connect("postgres") as conn:
        conn.execute(f"ALTER DATABASE {TEMPLATE_DB} WITH ALLOW_CONNECTIONS true")
    with system.connect(TEMPLATE_DB) as conn:
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {system.extension}")
        log(f"{system.label}: loading {len(base)} rows through COPY")
        load_s = harness.load_table(conn, base, cat, price, d)
        log(f"{system.label}: CREATE INDEX {INDEX_NAME} ON items {INDEX}")
        t = time.perf_counter()
        conn.execute(f"CREATE INDEX {INDEX_NAME} ON items {INDEX}")
        build_s = time.perf_counter() - t
        log(f"{system.label}: index built in {build_s:.1f} s")
        facts = {
            "extension": system.extension,
            "extversion": conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                                       (system.extension,)).fetchone()[0],
            "server_version": conn.execute("SHOW server_version").fetchone()[0],
            "settings": {s: conn.execute(f"SHOW {s}").fetchone()[0] for s in
                         ["shared_preload_libraries", "shared_buffers", "maintenance_work_mem", "autovacuum",
                          "synchronous_commit", "fsync", "max_wal_size", "hnsw.ef_search"]},
            "load_s": load_s, "build_s": build_s,
            "table_mb": harness.relation_size(conn, "items") / 2**20,
            "index_mb": harness.relation_size(conn, INDEX_NAME) / 2**20,
        }
        if system.extension == "vecdb":
            facts["settings"]["vecdb.seal_growing_rows"] = conn.execute(
                "SHOW vecdb.seal_growing_rows").fetchone()[0]
            facts["simd"] = conn.execute("SELECT vecdb_simd_level()").fetchone()[0]
    with system.connect("postgres") as conn:
        conn.execute(f"ALTER DATABASE {TEMPLATE_DB} WITH ALLOW_CONNECTIONS false")
    return facts


def summarize_queries(data, duration):
    """summarize_queries returns count, QPS, p50/p99 ms, the EXPLAIN median
    and the short results of one query_proc run."""
    lat = [ms for _, ms in data["lat"]]
    return {"queries": len(lat), "qps": len(lat) / duration, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "server_ms_median": median([e[1] for e in data["explain"]]), "explains": len(data["explain"]),
            "short_results": data["short"]}


def windows(q, ins, mon, duration, rest):
    """windows cuts a stream into WINDOW_S-second windows: per window the
    queries (count, QPS, p50, p99 and their ratio to at rest, max, EXPLAIN
    median), the rows absorbed (batches committed in it; the last window
    also takes those committed after the end), the freshness probes and the
    index state sampled at its end."""
    out = []
    nwin = int(math.ceil(duration / WINDOW_S - 1e-9))
    sealed0 = mon["states"][0][1].get("seal_sealed") if mon["states"] else None
    lat_t = np.array([t for t, _ in q["lat"]])
    lat_ms = np.array([ms for _, ms in q["lat"]])
    for w in range(nwin):
        lo, hi = w * WINDOW_S, min((w + 1) * WINDOW_S, duration)
        last = w == nwin - 1
        sel = lat_ms[(lat_t >= lo) & ((lat_t < hi) | last)]
        ex = [e[1] for e in q["explain"] if lo <= e[0] < hi]
        rows = sum(r for _, c, r in ins["batches"] if lo <= c < hi or (last and c >= hi))
        pr = [p for p in mon["probes"] if lo < p["t"] <= hi + 1e-6]
        st = [s for t, s in mon["states"] if hi - 1.5 <= t <= hi + 1.5]
        p50, p99 = pct(sel, 50), pct(sel, 99)
        out.append({
            "from_s": lo, "to_s": hi, "queries": int(len(sel)), "qps": len(sel) / (hi - lo),
            "p50_ms": p50, "p99_ms": p99, "max_ms": float(sel.max()) if len(sel) else None,
            "p50_ratio": p50 / rest["p50_ms"] if p50 is not None else None,
            "p99_ratio": p99 / rest["p99_ms"] if p99 is not None else None,
            "server_ms_median": median(ex),
            "rows_absorbed": rows, "rows_per_s": rows / (hi - lo),
            "probes": len(pr), "probe_rank1": sum(p["rank1"] for p in pr) / len(pr) if pr else None,
            "probe_in_topk": sum(p["in_topk"] for p in pr) / len(pr) if pr else None,
            "state": st[-1] if st else None,
            "seals_since_start": st[-1]["seal_sealed"] - sealed0 if st and sealed0 is not None else None,
        })
    return out


def measure_static(conn, lits, gt, k, args):
    """measure_static measures the database as it is: recall@k of the first
    --recall-queries queries against gt, EXPLAIN ANALYZE median over
    --explain-sample queries and the floor's client p50 over --floor-sample."""
    nq = args.recall_queries
    rows = [conn.execute(KNN, (lits[i], k), prepare=True).fetchall() for i in range(nq)]
    plans = [explain(conn, KNN, (lits[i], k)) for i in range(args.explain_sample)]
    floor = [timed(conn, FLOOR, (lits[i % len(lits)],), prepare=True)[0] for i in range(args.floor_sample)]
    knn = [timed(conn, KNN, (lits[i % len(lits)], k), prepare=True)[0] for i in range(args.floor_sample)]
    return {"recall": recall_of(rows, gt, k), "recall_queries": nq,
            "short_results": sum(1 for r in rows if len(r) < k),
            "explain_execution_ms_median": median([p["execution_ms"] for p in plans]),
            "explain_planning_ms_median": median([p["planning_ms"] for p in plans]),
            "explain_shared_blocks_median": median([p["shared_hit"] + p["shared_read"] for p in plans]),
            "floor_client_p50_ms": median(floor), "knn_client_p50_ms": median(knn)}


def run_rate(system, rate, base, stream, queries, lits, gt_rest, args):
    """run_rate measures one rate on a fresh clone of the template: at rest,
    the stream, and the state after it; for vecdb then waits up to
    --drain-timeout seconds for background sealing to finish (recall again
    if it did), so that the next rate starts with no seal job left over."""
    k, n = args.k, len(base)
    dbname = f"streaming_r{rate}"
    clone_s = clone(system, dbname)
    log(f"{system.label} @ {rate} rows/s: cloned {TEMPLATE_DB} into {dbname} in {clone_s:.1f} s")
    conninfo = system.conninfo(dbname, system.ef)
    out = {"rate": rate, "duration_s": args.duration, "at_rest_s": args.at_rest, "clone_s": clone_s,
           "loadavg_start": os.getloadavg()}
    control = args.stream_into == "heap"
    table = "items_control" if control else "items"
    with connect_retry(conninfo) as conn:
        if control:
            conn.execute(f"CREATE TABLE {table} (LIKE items)")
            conn.commit()
        for i in range(20):
            conn.execute(KNN, (lits[i], k), prepare=True).fetchall()
        out["rest"] = measure_static(conn, lits, gt_rest, k, args)
        out["rest"]["state"] = sample_state(conn, system.extension)
    log(f"{system.label} @ {rate}: at rest for {args.at_rest} s")
    q = run_procs([(query_proc, (conninfo, lits, k, time.monotonic() + 1.0, args.at_rest, 200))])["query"]
    out["rest"].update(summarize_queries(q, args.at_rest))
    rest = out["rest"]
    log(f"{system.label} @ {rate}: at rest p50 {rest['p50_ms']:.3f} ms, p99 {rest['p99_ms']:.3f} ms, "
        f"{rest['qps']:.0f} QPS, recall {rest['recall']:.4f}")

    log(f"{system.label} @ {rate}: streaming for {args.duration} s")
    ctx = multiprocessing.get_context("fork")
    nbatches = int(round(args.duration / BATCH_INTERVAL_S))
    commit_times = ctx.Array("d", nbatches, lock=False)
    committed = ctx.Value("i", 0, lock=False)
    per_batch = max(1, int(round(rate * BATCH_INTERVAL_S)))
    t0 = time.monotonic() + 3.0
    got = run_procs([
        (insert_proc, (conninfo, table, stream, n, rate, t0, args.duration, commit_times, committed)),
        (query_proc, (conninfo, lits, k, t0, args.duration, 200)),
        (monitor_proc, (conninfo, system.extension, not control, stream, n, per_batch, k, t0, args.duration,
                        commit_times, committed)),
    ])
    ins, q, mon = got["insert"], got["query"], got["monitor"]
    absorbed = sum(r for _, _, r in ins["batches"])
    last_commit = max((c for _, c, _ in ins["batches"]), default=0.0)
    out["loadavg_end_of_stream"] = os.getloadavg()
    out["stream"] = summarize_queries(q, args.duration)
    out["stream"].update({
        "rows_target": rate * args.duration, "rows_absorbed": absorbed, "rows_per_s": absorbed / args.duration,
        "batches": len(ins["batches"]), "batches_scheduled": ins["scheduled"], "rows_per_batch": per_batch,
        "batch_ms_p50": pct([(c - s) * 1000 for s, c, _ in ins["batches"]], 50),
        "batch_ms_p99": pct([(c - s) * 1000 for s, c, _ in ins["batches"]], 99),
        "batches_overran": sum(1 for s, c, _ in ins["batches"] if c - s > BATCH_INTERVAL_S),
        "behind_at_end_s": max(0.0, ins["batches"][-1][0] - (len(ins["batches"]) - 1) * BATCH_INTERVAL_S)
        if ins["batches"] else None,
        "last_commit_s": last_commit,
        "probes": len(mon["probes"]),
        "probe_rank1": sum(p["rank1"] for p in mon["probes"]) / len(mon["probes"]) if mon["probes"] else None,
        "probe_in_topk": sum(p["in_topk"] for p in mon["probes"]) / len(mon["probes"]) if mon["probes"] else None,
        "probe_age_s_median": median([p["age_s"] for p in mon["probes"]]),
        "probe_misses": [p for p in mon["probes"] if not p["rank1"]][:20],
    })
    out["windows"] = windows(q, ins, mon, args.duration, rest)
    s = out["stream"]
    log(f"{system.label} @ {rate}: absorbed {absorbed} rows ({s['rows_per_s']:.0f}/s), "
        f"p50 {s['p50_ms']:.3f} ms, p99 {s['p99_ms']:.3f} ms, {s['qps']:.0f} QPS, "
        f"fresh rank 1 {s['probe_rank1'] if s['probe_rank1'] is not None else float('nan'):.3f}")

    t = time.perf_counter()
    gt_end = gt_rest if control else exact_topk(base, stream, absorbed, queries[:args.recall_queries], k)
    gt_s = time.perf_counter() - t
    with psycopg.connect(**conninfo) as conn:
        out["end"] = {"rows_in_table": conn.execute("SELECT count(*) FROM items").fetchone()[0]
                      + (conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if control else 0),
                      "state": sample_state(conn, system.extension), "ground_truth_s": gt_s}
        out["end"].update(measure_static(conn, lits, gt_end, k, args))
    if out["end"]["rows_in_table"] != n + absorbed:
        log(f"warning: {out['end']['rows_in_table']} rows in the table, expected {n + absorbed}")
    log(f"{system.label} @ {rate}: recall@{k} after the stream {out['end']['recall']:.4f} "
        f"(at rest {rest['recall']:.4f})")
    if system.extension == "vecdb":
        out["drain"] = drain(conninfo, lits, gt_end, k, args)
    out["goals"] = goals(out)
    with system.connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    return out


def drain(conninfo, lits, gt, k, args):
    """drain waits until vecdb's seal queue is empty and no seal job runs
    (at most --drain-timeout seconds); then measures recall again."""
    t = time.perf_counter()
    with psycopg.connect(**conninfo) as conn:
        while True:
            st = sample_state(conn, "vecdb")
            done = st["seal_queued"] == 0 and st["seal_running"] == 0
            if done or time.perf_counter() - t >= args.drain_timeout:
                break
            time.sleep(1)
        out = {"drained": done, "wait_s": time.perf_counter() - t, "state": st}
        if done:
            rows = [conn.execute(KNN, (lits[i], k), prepare=True).fetchall() for i in range(args.recall_queries)]
            out["recall"] = recall_of(rows, gt, k)
    log(f"vecdb: seal backlog {'drained' if done else 'NOT drained'} after {out['wait_s']:.0f} s"
        + (f", recall {out['recall']:.4f}" if done else "")
        + f"; {st['segments']} segments + {st['growing_rows']} growing rows")
    return out


def goals(run):
    """goals checks one rate's run against issue 17's goals."""
    rest, s = run["rest"], run["stream"]
    worst50 = max((w["p50_ratio"] for w in run["windows"] if w["p50_ratio"] is not None), default=None)
    worst99 = max((w["p99_ratio"] for w in run["windows"] if w["p99_ratio"] is not None), default=None)
    return {
        "absorb_target": min(run["rate"], GOALS["absorb_rows_per_s"]),
        "absorb_ok": s["rows_per_s"] >= 0.99 * min(run["rate"], GOALS["absorb_rows_per_s"]),
        "worst_p50_ratio": worst50, "worst_p99_ratio": worst99,
        "latency_ok": worst50 is not None and worst99 is not None
        and worst50 <= GOALS["latency_ratio"] and worst99 <= GOALS["latency_ratio"],
        "recall_ok": run["end"]["recall"] >= GOALS["recall"] and rest["recall"] >= GOALS["recall"],
    }


def run_system(args):
    """run_system runs setup and every rate for --system; writes --partial."""
    started = time.time()
    base, queries, cat, price, gt_all = harness.load_or_make(args)
    rates = [int(r) for r in args.rates.split(",")]
    total = max(rates) * args.duration
    log(f"drawing {total} stream rows from the mixture (generator seed {args.stream_seed})")
    stream = harness.mixture(args.d, args.clusters, args.seed)(total, np.random.default_rng(args.stream_seed))
    lits = [harness.vec_literal(q) for q in queries]
    system = System(args.system, EXTENSIONS[args.system], args.host, args.port, TEMPLATE_DB, args.datadir)
    system.ef = ef_for(args.ef_search, args.system)
    res = {"system": args.system, "ef_search": system.ef, "loadavg_start": os.getloadavg()}
    res["setup"] = setup(system, base, cat, price, args.d)
    res["runs"] = []
    for rate in rates:
        res["runs"].append(run_rate(system, rate, base, stream, queries, lits, gt_all["none"][:args.recall_queries],
                                    args))
    res["loadavg_end"] = os.getloadavg()
    res["wall_s"] = time.time() - started
    with open(args.partial, "w") as fh:
        json.dump(res, fh, indent=1)
    log(f"{args.system}: done in {res['wall_s'] / 60:.1f} min; wrote {args.partial}")


def ef_for(spec, system):
    """ef_for reads --ef-search: one number for both systems, or
    'vecdb=N,pgvector=M'."""
    if "=" not in spec:
        return int(spec)
    parts = dict(p.split("=") for p in spec.split(","))
    return int(parts.get(system, 40))


# --- report -----------------------------------------------------------------

def f(v, spec=".2f"):
    """f formats a number or returns '-'."""
    return "-" if v is None else format(v, spec)


def mark(ok):
    """mark renders a goal check."""
    return "✓" if ok else "✗"


def report_md(res):
    """report_md renders the summary and one window table per system and rate."""
    m = res["meta"]
    lines = [f"**streaming ingestion** ({m['label']}) — N = {m['n']} x {m['d']} (harness mixture, seed "
             f"{m['seed']}; streamed rows: same mixture, generator seed {m['stream_seed']}), {INDEX}, "
             f"k = {m['k']}, rates {m['rates']} rows/s for {m['duration']} s in batches every "
             f"{int(BATCH_INTERVAL_S * 1000)} ms (COPY binary, one transaction each), at rest {m['at_rest']} s; "
             f"vecdb server `{m['vecdb_server_opts']}`, pgvector on a twin server `{m['pgvector_server_opts']}` "
             f"(one at a time); {m['cpus']} CPUs, load average {f(m['loadavg_start'][0])} at start, "
             f"{f(m['loadavg_end'][0])} at end; {m['wall_s'] / 60:.1f} min wall; vecdb.so md5 "
             f"{m['vecdb_so_md5'][:12]}, commit {m['git_commit'][:10]}"
             + ("; **control run: the rows streamed into a twin table without indexes** (queries on the "
                "indexed table, which does not change)" if m.get("stream_into") == "heap" else ""),
             "",
             f"Goals: absorb ≥ {GOALS['absorb_rows_per_s']:,} rows/s (a lower target rate: absorb it); p50 and "
             f"p99 in every {WINDOW_S} s window ≤ {GOALS['latency_ratio']}x at rest; recall@{m['k']} ≥ "
             f"{GOALS['recall']} at rest and after the stream. Latencies are client-side (Python, one "
             "connection), server ms is EXPLAIN ANALYZE (median; once a second while streaming), the floor is "
             "`SELECT $1::vector IS NULL` with the same parameter.",
             "",
             "| system | ef_search | rate | absorbed rows/s | at rest p50 / p99 ms (QPS) | streaming p50 / p99 ms "
             "(QPS) | worst window p50 / p99 (x rest) | slowest query ms | fresh rank 1 | recall rest → end | server ms rest → end "
             "| floor ms | goals absorb / latency / recall |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, sres in res["systems"].items():
        for r in sres["runs"]:
            rest, s, g, e = r["rest"], r["stream"], r["goals"], r["end"]
            worst50 = max((w["p50_ms"] for w in r["windows"] if w["p50_ms"] is not None), default=None)
            worst99 = max((w["p99_ms"] for w in r["windows"] if w["p99_ms"] is not None), default=None)
            slowest = max((w["max_ms"] for w in r["windows"] if w.get("max_ms") is not None), default=None)
            lines.append(
                f"| {label} | {sres['ef_search']} | {r['rate']:,} | {s['rows_per_s']:,.0f} | "
                f"{f(rest['p50_ms'], '.3f')} / {f(rest['p99_ms'], '.3f')} ({rest['qps']:,.0f}) | "
                f"{f(s['p50_ms'], '.3f')} / {f(s['p99_ms'], '.3f')} ({s['qps']:,.0f}) | "
                f"{f(worst50, '.3f')} / {f(worst99, '.3f')} ({f(g['worst_p50_ratio'])}x / "
                f"{f(g['worst_p99_ratio'])}x) | {f(slowest, '.1f')} | {f(s['probe_rank1'], '.3f')} ({s['probes']}) | "
                f"{rest['recall']:.4f} → {e['recall']:.4f} | {f(rest['explain_execution_ms_median'], '.3f')} → "
                f"{f(e['explain_execution_ms_median'], '.3f')} | {f(rest['floor_client_p50_ms'], '.3f')} | "
                f"{mark(g['absorb_ok'])} / {mark(g['latency_ok'])} / {mark(g['recall_ok'])} |")
    for label, sres in res["systems"].items():
        su = sres["setup"]
        lines += ["", f"### {label} ({su['extension']} {su['extversion']}): load {su['load_s']:.1f} s, index build "
                      f"{su['build_s']:.1f} s, table {su['table_mb']:.0f} MB, index {su['index_mb']:.0f} MB, "
                      f"ef_search {sres['ef_search']}"]
        for r in sres["runs"]:
            rest, s, e = r["rest"], r["stream"], r["end"]
            vec = label == "vecdb"
            lines += ["", f"**{label} at {r['rate']:,} rows/s** — absorbed {s['rows_absorbed']:,} of "
                          f"{s['rows_target']:,} rows ({s['rows_per_s']:,.0f}/s; {s['batches']} of "
                          f"{s['batches_scheduled']} batches of {s['rows_per_batch']}, batch p50 / p99 "
                          f"{f(s['batch_ms_p50'], '.1f')} / {f(s['batch_ms_p99'], '.1f')} ms, "
                          f"{s['batches_overran']} over {int(BATCH_INTERVAL_S * 1000)} ms, "
                          f"{f(s['behind_at_end_s'], '.1f')} s behind at the end); at rest: "
                          f"p50 {f(rest['p50_ms'], '.3f')} ms, p99 {f(rest['p99_ms'], '.3f')} ms, "
                          f"{rest['qps']:,.0f} QPS, server {f(rest['explain_execution_ms_median'], '.3f')} ms, "
                          f"floor {f(rest['floor_client_p50_ms'], '.3f')} ms, recall {rest['recall']:.4f}; "
                          f"after the stream ({e['rows_in_table']:,} rows): recall {e['recall']:.4f}, server "
                          f"{f(e['explain_execution_ms_median'], '.3f')} ms, client p50 "
                          f"{f(e['knn_client_p50_ms'], '.3f')} ms, floor {f(e['floor_client_p50_ms'], '.3f')} ms"
                          + (f", {e['state']['segments']} segments + {e['state']['growing_rows']:,} growing rows, "
                             f"seal queue {e['state']['seal_queued']}" + drain_note(r.get("drain")) if vec else
                             f", index {e['state']['index_mb']:.0f} MB"),
                      ""]
            head = "| window s | queries | QPS | p50 ms | p99 ms | p50 / p99 x rest | max ms | server ms | rows | rows/s | " \
                   "fresh rank 1 | autovacuums |"
            if vec:
                head += " segments | growing rows | seal jobs queued / running / done |"
            else:
                head += " index MB |"
            lines += [head, "|" + "---|" * (head.count("|") - 1)]
            for w in r["windows"]:
                st = w["state"] or {}
                row = (f"| {w['from_s']:.0f}–{w['to_s']:.0f} | {w['queries']:,} | {w['qps']:,.0f} | "
                       f"{f(w['p50_ms'], '.3f')} | {f(w['p99_ms'], '.3f')} | {f(w['p50_ratio'])} / "
                       f"{f(w['p99_ratio'])} | {f(w.get('max_ms'), '.1f')} | {f(w['server_ms_median'], '.3f')} | "
                       f"{w['rows_absorbed']:,} | "
                       f"{w['rows_per_s']:,.0f} | {f(w['probe_rank1'], '.2f')} | {st.get('autovacuum_count', '-')} |")
                if vec:
                    row += (f" {st.get('segments', '-')} | {st.get('growing_rows', '-')} | "
                            f"{st.get('seal_queued', '-')} / {st.get('seal_running', '-')} / "
                            f"{w['seals_since_start'] if w['seals_since_start'] is not None else '-'} |")
                else:
                    row += f" {f(st.get('index_mb'), '.0f')} |"
                lines.append(row)
    return "\n".join(lines)


def drain_note(d):
    """drain_note describes the wait for vecdb's seal backlog after a stream."""
    if not d:
        return ""
    st = d["state"]
    if d["drained"]:
        return (f"; backlog sealed {d['wait_s']:.0f} s later: {st['segments']} segments + "
                f"{st['growing_rows']:,} growing rows, recall {d['recall']:.4f}")
    return (f"; backlog NOT sealed {d['wait_s']:.0f} s later ({st['segments']} segments + "
            f"{st['growing_rows']:,} growing rows, {st['seal_queued']} queued, {st['seal_running']} running)")


def summary(res):
    """summary returns the concise stdout lines: the summary table."""
    md = report_md(res).split("\n")
    end = next(i for i, line in enumerate(md) if line.startswith("### "))
    return "\n".join(md[:end]).rstrip()


def report(args):
    """report merges the per-system files into streaming_<label>.{json,md}."""
    res = harness.merge_partials(args.report)
    res["meta"] = harness.run_meta(args, res)
    res["meta"].update({
        "stream_seed": args.stream_seed, "index": INDEX,
        "rates": args.rates, "duration": args.duration, "at_rest": args.at_rest,
        "recall_queries": args.recall_queries, "explain_sample": args.explain_sample,
        "stream_into": args.stream_into,
        "batch_interval_s": BATCH_INTERVAL_S, "window_s": WINDOW_S, "probe_age_s": PROBE_AGE_S, "goals": GOALS,
    })
    path = harness.write_results(args, res, "streaming", report_md(res))
    print(summary(res))
    print(f"\nwall time {res['meta']['wall_s'] / 60:.1f} min; wrote {path}.json and .md")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", choices=sorted(EXTENSIONS), help="run this system (its server is up)")
    ap.add_argument("--host", help="socket directory of the server")
    ap.add_argument("--port", type=int)
    ap.add_argument("--datadir", default="")
    ap.add_argument("--partial", help="--system: where to write its results")
    ap.add_argument("--report", nargs="+", help="merge these --partial files into the results")
    ap.add_argument("--label", default="run", help="results go to <results>/streaming_<label>.{json,md}")
    ap.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    ap.add_argument("--rates", default="1000,5000", help="rows/s, comma list, each on a fresh clone")
    ap.add_argument("--duration", type=int, default=300, help="seconds of streaming per rate")
    ap.add_argument("--at-rest", type=int, default=20, help="seconds of queries without inserts per rate")
    ap.add_argument("--ef-search", default="40", help="hnsw.ef_search: N, or vecdb=N,pgvector=M")
    ap.add_argument("--recall-queries", type=int, default=200)
    ap.add_argument("--explain-sample", type=int, default=50)
    ap.add_argument("--floor-sample", type=int, default=200)
    ap.add_argument("--drain-timeout", type=int, default=120,
                    help="vecdb: seconds to wait after a stream for background sealing to finish")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--stream-seed", type=int, default=1717, help="generator seed of the streamed rows")
    ap.add_argument("--stream-into", choices=["index", "heap"], default="index",
                    help="heap: a control run; the rows stream into a twin table without indexes, so the "
                    "windows show what the stream alone costs the queries")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"),
                    help="the harness' data cache")
    harness.side_by_side_main(ap, run_system, report)


if __name__ == "__main__":
    main()
