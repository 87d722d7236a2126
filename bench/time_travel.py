#!/usr/bin/python3
"""time_travel.py measures time travel (issue 11, docs/time-travel.md) on the
harness' data (bench/harness.py), vecdb alone:

  setup    two tables of the same rows, `items` (time travel on) and
           `control` (plain), each with hnsw (m 16, ef_construction 64);
  rounds   --rounds rounds, each updating --fraction of the rows to new
           vectors (drawn from the same mixture with another seed) in both
           tables, one UPDATE per table per round (alternating which goes
           first): rows per second with and without history; then
           --single single-row updates per table over one connection;
           the moment after each round is kept;
  search   after VACUUM, the k-NN of the held-out queries as of the moment
           after round --as-of-round (`items__as_of`), against exact search
           over the rows as they were then, and the same queries on
           `control` (a current table of the same size) against exact search
           over its rows; an ef_search sweep for both, QPS over one
           connection (prepared), p50/p99, server time (EXPLAIN ANALYZE
           median) and the connection's floor, both searches alternating in
           --passes passes (the median pass reported); then again after a full
           vecdb_compact of the three indexes (unless --no-compact): the
           history twin grows by inserts, which the seal worker folds into
           segments within the server's maintenance_work_mem, and every
           segment is one more graph walk per search.

Run it through bench/time_travel.sh (builds, installs, starts a private
server with vecdb preloaded). Writes bench/results/time_travel_<label>.{json,md}."""
import argparse
import json
import os
import re
import sys
import time

import numpy as np
import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def copy_rows(conn, table, ids, vecs):
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} (id, embedding) FROM STDIN") as cp:
            for i, v in zip(ids, vecs):
                cp.write_row((int(i), harness.vec_literal(v)))


INDEXES = ("items_idx", "items_idx_history", "control_idx")


def sweep(conn, targets, queries, k, efs, explain, passes):
    """sweep times the k-NN of every query at each ef_search on every target
    (name -> (FROM item with %s for its parameter or None, parameter, truth)),
    the targets alternating within each of `passes` passes (the order turning
    each pass) so that the machine's drift falls on all of them alike; QPS and
    latencies are the median pass's."""
    lits = [harness.vec_literal(q) for q in queries]
    out = {name: [] for name in targets}
    for ef in efs:
        conn.execute(f"SET hnsw.ef_search = {ef}")
        runs = {name: [] for name in targets}
        names = list(targets)
        for p in range(passes):
            for name in (names if p % 2 == 0 else names[::-1]):
                table_sql, param, truth = targets[name]
                sql = f"SELECT id FROM {table_sql} ORDER BY embedding <-> %s::vector LIMIT {k}"
                args = (lambda lit: (param, lit)) if param is not None else (lambda lit: (lit,))
                for lit in lits[:20]:
                    conn.execute(sql, args(lit), prepare=True).fetchall()
                lat, hits, short = [], 0, 0
                t0 = time.perf_counter()
                for i, lit in enumerate(lits):
                    t = time.perf_counter()
                    rows = conn.execute(sql, args(lit), prepare=True).fetchall()
                    lat.append(time.perf_counter() - t)
                    hits += len({r[0] for r in rows} & set(truth[i][:k].tolist()))
                    short += len(rows) < k
                runs[name].append((len(lits) / (time.perf_counter() - t0), lat, hits, short))
        for name in names:
            table_sql, param, truth = targets[name]
            sql = f"SELECT id FROM {table_sql} ORDER BY embedding <-> %s::vector LIMIT {k}"
            args = (lambda lit: (param, lit)) if param is not None else (lambda lit: (lit,))
            server = []
            for lit in lits[:explain]:
                plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args(lit)).fetchone()[0][0]
                server.append(plan["Execution Time"])
            ordered = sorted(runs[name], key=lambda r: r[0])
            qps, lat, hits, short = ordered[len(ordered) // 2]
            lat_ms = np.array(lat) * 1000.0
            out[name].append({"ef_search": ef, "recall": hits / (k * len(lits)), "qps": qps,
                              "qps_passes": [r[0] for r in runs[name]],
                              "p50_ms": float(np.percentile(lat_ms, 50)), "p99_ms": float(np.percentile(lat_ms, 99)),
                              "server_ms_median": float(np.median(server)), "short": short})
            harness.log(f"{name} ef_search {ef}: recall {out[name][-1]['recall']:.4f}, "
                        f"{qps:.0f} QPS (passes {', '.join(f'{r[0]:.0f}' for r in runs[name])}), "
                        f"server {out[name][-1]['server_ms_median']:.3f} ms")
    conn.execute("RESET hnsw.ef_search")
    return out


def at_recall(points, target):
    """at_recall interpolates QPS linearly at a recall target between the sweep
    points that bracket it (None when not reached)."""
    for a, b in zip(points, points[1:]):
        if a["recall"] < target <= b["recall"]:
            f = (target - a["recall"]) / (b["recall"] - a["recall"])
            return a["qps"] + f * (b["qps"] - a["qps"])
    if points and points[0]["recall"] >= target:
        return points[0]["qps"]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_data_args(ap)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fraction", type=float, default=0.2)
    ap.add_argument("--as-of-round", type=int, default=2)
    ap.add_argument("--single", type=int, default=2000)
    ap.add_argument("--search-queries", type=int, default=500)
    # from ef_search 1, as compare.py sweeps: a sweep whose first point already
    # reaches the target can only report that point's QPS (marked below)
    ap.add_argument("--ef", default="1,5,10,20,40,80,160")
    ap.add_argument("--explain", type=int, default=30)
    ap.add_argument("--passes", type=int, default=3,
                    help="timed passes per ef_search, as-of and current alternating; the median pass is reported")
    ap.add_argument("--mwm", default="2GB")
    ap.add_argument("--no-compact", action="store_true",
                    help="search only after VACUUM, not also after a full vecdb_compact of every index")
    ap.add_argument("--label", default="run")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    started = time.time()
    base, queries, cat, price, _ = harness.load_or_make(args)
    queries = queries[:args.search_queries]
    n, d, k = len(base), args.d, args.k
    rng = np.random.default_rng(args.seed + 1)
    # new vectors: other points of the same mixture (another generator)
    fresh = harness.mixture(d, args.clusters, args.seed)(int(n * args.fraction) * args.rounds + args.single,
                                                         np.random.default_rng(args.seed + 7))
    res = {"meta": {"label": args.label, "n": n, "d": d, "k": k, "rounds": args.rounds, "fraction": args.fraction,
                    "as_of_round": args.as_of_round, "queries": len(queries), "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "git": harness.git_state(), "cpus": os.cpu_count()}}
    conn = harness.connect_args(args, autocommit=True)
    conn.execute("SET client_min_messages = warning")
    # the server's setting, which the seal worker builds segments within
    res["meta"]["server_maintenance_work_mem"] = conn.execute(
        "SELECT reset_val || coalesce(unit, '') FROM pg_settings WHERE name = 'maintenance_work_mem'").fetchone()[0]
    for ext in ("periods CASCADE",):
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
    for t in ("items", "control"):
        if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0] is not None:
            if t == "items" and conn.execute("SELECT count(*) FROM vecdb_time_travel").fetchone()[0]:
                conn.execute("SELECT vecdb_disable_time_travel('items')")
            conn.execute(f"DROP TABLE {t}")
    harness.log("loading both tables")
    for t in ("items", "control"):
        conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, embedding vector({d}) NOT NULL)")
        copy_rows(conn, t, range(n), base)
        conn.execute(f"VACUUM ANALYZE {t}")
        conn.execute(f"SET maintenance_work_mem = '{args.mwm}'")
        t0 = time.perf_counter()
        conn.execute(f"CREATE INDEX {t}_idx ON {t} USING hnsw (embedding vector_l2_ops) "
                     "WITH (m = 16, ef_construction = 64)")
        harness.log(f"{t}: index built in {time.perf_counter() - t0:.1f} s")
    conn.execute("SELECT vecdb_enable_time_travel('items')")

    current = base.copy()
    states = {0: current.copy()}
    moments = {0: conn.execute("SELECT clock_timestamp()").fetchone()[0]}
    per_round = int(n * args.fraction)
    used = 0
    upd = {"items": [], "control": []}
    for r in range(1, args.rounds + 1):
        ids = rng.choice(n, per_round, replace=False)
        vecs = fresh[used:used + per_round]
        used += per_round
        conn.execute("DROP TABLE IF EXISTS stage")
        conn.execute(f"CREATE UNLOGGED TABLE stage (id int PRIMARY KEY, embedding vector({d}))")
        copy_rows(conn, "stage", ids, vecs)
        conn.execute("ANALYZE stage")
        order = ("items", "control") if r % 2 else ("control", "items")
        for t in order:
            t0 = time.perf_counter()
            conn.execute(f"UPDATE {t} SET embedding = s.embedding FROM stage s WHERE {t}.id = s.id")
            upd[t].append(per_round / (time.perf_counter() - t0))
            conn.execute(f"VACUUM {t}")
        current[ids] = vecs
        states[r] = current.copy()
        moments[r] = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        harness.log(f"round {r}: {per_round} rows, items {upd['items'][-1]:.0f} rows/s, "
                    f"control {upd['control'][-1]:.0f} rows/s")
    # single-row updates, one connection, prepared, autocommit (one transaction each)
    single = {}
    ids = rng.choice(n, args.single, replace=False)
    half = args.single // 2
    for p in range(2):
        part = ids[p * half:(p + 1) * half]
        vecs = fresh[used:used + half]
        used += half
        for t in (("control", "items") if p == 0 else ("items", "control")):
            t0 = time.perf_counter()
            for i, v in zip(part, vecs):
                conn.execute(f"UPDATE {t} SET embedding = %s::vector WHERE id = %s", (harness.vec_literal(v), int(i)),
                             prepare=True)
            single.setdefault(t, []).append(half / (time.perf_counter() - t0))
        current[part] = vecs
    harness.log(f"single-row updates/s: items {single['items']}, control {single['control']}")
    conn.execute("VACUUM ANALYZE items")
    conn.execute("VACUUM ANALYZE control")
    conn.execute("VACUUM ANALYZE items_history")
    sizes = {r: conn.execute("SELECT pg_relation_size(%s::regclass)", (r,)).fetchone()[0]
             for r in ("items", "items_history", "control", "items_idx", "items_idx_history", "control_idx")}
    hist_rows = conn.execute("SELECT count(*) FROM items_history").fetchone()[0]

    t_as_of = moments[args.as_of_round]
    truth_past = harness.exact_knn(states[args.as_of_round], queries, k)
    truth_now = harness.exact_knn(current, queries, k)
    efs = [int(x) for x in args.ef.split(",")]
    lit0 = harness.vec_literal(queries[0])
    floor = []
    for _ in range(300):
        t0 = time.perf_counter()
        conn.execute("SELECT %s::vector IS NULL", (lit0,), prepare=True).fetchall()
        floor.append(time.perf_counter() - t0)
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN (COSTS OFF) SELECT id FROM items__as_of(%s) ORDER BY embedding <-> %s::vector LIMIT 10",
        (t_as_of, lit0)).fetchall())
    phases = []
    for state in ("after VACUUM", "after vecdb_compact(index, true)")[:1 if args.no_compact else 2]:
        if phases:
            for idx in INDEXES:
                conn.execute("SELECT vecdb_compact(%s::regclass, true)", (idx,))
        segments = {idx: conn.execute("SELECT count(segment) FROM vecdb_index_info(%s::regclass)", (idx,)).fetchone()[0]
                    for idx in INDEXES}
        harness.log(f"searching {state}: segments {segments}")
        swept = sweep(conn, {"as_of": ("items__as_of(%s)", t_as_of, truth_past),
                             "control": ("control", None, truth_now)}, queries, k, efs, args.explain, args.passes)
        as_of, control = swept["as_of"], swept["control"]
        phases.append({"state": state, "segments": segments, "as_of": as_of, "control": control,
                       "qps_at_095": {"as_of": at_recall(as_of, 0.95), "control": at_recall(control, 0.95)}})
    res.update({
        "update_rows_per_s": upd, "single_updates_per_s": single, "sizes": sizes, "history_rows": int(hist_rows),
        "floor_ms_p50": float(np.percentile(np.array(floor) * 1000, 50)), "plan": plan, "phases": phases,
        "wall_s": time.time() - started,
    })
    os.makedirs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"), exist_ok=True)
    stem = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"time_travel_{args.label}")
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(stem + ".md", "w") as f:
        f.write(markdown(res, args))
    print(markdown(res, args))


def markdown(res, args):
    m = res["meta"]
    u, s = res["update_rows_per_s"], res["single_updates_per_s"]
    lines = [
        f"**time travel** ({m['label']}) — {m['n']} x {m['d']} (harness mixture, seed {args.seed}), hnsw m 16, "
        f"ef_construction 64; {m['rounds']} rounds each updating {m['fraction']:.0%} of the rows; searches as of "
        f"the moment after round {m['as_of_round']}; {m['queries']} held-out queries, k = {m['k']}; "
        f"server maintenance_work_mem (the seal worker's) {m.get('server_maintenance_work_mem', '?')}; "
        f"commit {m['git']}, {m['cpus']} CPUs, {m['date']}; {res['wall_s'] / 60:.1f} min wall",
        "", "Command: `bash bench/time_travel.sh " + " ".join(sys.argv[1:]) + "`", "",
        "### Updates", "",
        "| | with time travel (`items`) | without (`control`) | ratio |", "|---|---|---|---|",
        f"| UPDATE of {int(m['n'] * m['fraction'])} rows, rows/s (per round) | "
        f"{', '.join(f'{x:.0f}' for x in u['items'])} | {', '.join(f'{x:.0f}' for x in u['control'])} | "
        f"{np.mean(u['items']) / np.mean(u['control']):.2f}x |",
        f"| single-row UPDATEs/s (one connection, two runs) | {', '.join(f'{x:.0f}' for x in s['items'])} | "
        f"{', '.join(f'{x:.0f}' for x in s['control'])} | {np.mean(s['items']) / np.mean(s['control']):.2f}x |",
        "", f"History: {res['history_rows']} versions. Sizes (MB): " + ", ".join(
            f"{k} {v / 1e6:.1f}" for k, v in res["sizes"].items()), "",
        "### k-NN as of a past moment against a current table of the same size", "",
        f"Floor (`SELECT $1::vector IS NULL`, same connection): p50 {res['floor_ms_p50']:.3f} ms. "
        f"Each point is the median of {args.passes} timed passes, the as-of and current searches alternating.", ""]
    fmt = (lambda x: f"{x:.0f}" if x else "not reached")
    for ph in res["phases"]:
        q = ph["qps_at_095"]
        ratio = q["as_of"] / q["control"] if q["as_of"] and q["control"] else None
        lines += [f"#### {ph['state']}", "", "Sealed segments: " + ", ".join(f"{k} {v}" for k, v in ph["segments"].items()), "",
                  "| ef_search | as-of recall | as-of QPS | as-of p50 / p99 ms | as-of server ms | current recall | "
                  "current QPS | current p50 / p99 ms | current server ms |", "|---|---|---|---|---|---|---|---|---|"]
        for a, c in zip(ph["as_of"], ph["control"]):
            lines.append(f"| {a['ef_search']} | {a['recall']:.4f} | {a['qps']:.0f} | {a['p50_ms']:.3f} / {a['p99_ms']:.3f} | "
                         f"{a['server_ms_median']:.3f} | {c['recall']:.4f} | {c['qps']:.0f} | "
                         f"{c['p50_ms']:.3f} / {c['p99_ms']:.3f} | {c['server_ms_median']:.3f} |")
        first = [" (the sweep's first point already reached it: its QPS)"
                 if pts and pts[0]["recall"] >= 0.95 else "" for pts in (ph["as_of"], ph["control"])]
        lines += ["", f"QPS at recall 0.95 (linear between bracketing points): as of {fmt(q['as_of'])}{first[0]}, "
                  f"current {fmt(q['control'])}{first[1]}" + (f", ratio {ratio:.2f}x" if ratio else "") + ".", ""]
    lines += [
              "Plan of an as-of search:", "", "```", re.sub(r"'\[[^\]]*\]'::vector", "'[query]'::vector", res["plan"]),
              "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
