#!/usr/bin/python3
"""segments.py measures what a query pays for an index split into N sealed
segments (issue 17: merges bounded by maintenance_work_mem leave several).
For each N it builds the same hnsw index with maintenance_work_mem sized so
that the build writes N segments, then runs the harness' k-NN queries over
one connection: recall@k, QPS, p50/p99, server time (EXPLAIN ANALYZE) and the
connection's floor (a trivial query with the same vector parameter).

Run it through bench/run.sh, which starts a private server:
  bash bench/run.sh --segments --counts 1,2,4,8 --set hnsw.ef_search=40,100"""
import argparse
import datetime
import json
import os
import time

import numpy as np

import harness

# bytes per row a build budgets at 128-d hnsw m=16: a first guess, corrected per build
GUESS_ROW_BYTES = 1200


def floor_ms(conn, queries, n):
    """floor_ms is the median client time of a trivial query with the vector parameter."""
    lat = []
    for q in queries[:n]:
        lit = harness.vec_literal(q)
        t = time.perf_counter()
        conn.execute("SELECT %s::vector IS NULL", (lit,), prepare=True).fetchall()
        lat.append(time.perf_counter() - t)
    return float(np.median(lat) * 1000.0)


def build_with_segments(conn, index, want, n):
    """build_with_segments builds the index as want segments (or as close as
    three tries get); returns (segments, rows per segment, build seconds, mwm kB)."""
    mwm_kb = max(1024, int(GUESS_ROW_BYTES * n / want / 1024 * 1.02)) if want > 1 else 8 * 1024 * 1024
    got = None
    for _ in range(3):
        conn.execute("DROP INDEX IF EXISTS items_embedding_idx")
        conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (f"{mwm_kb}kB",))
        t = time.perf_counter()
        conn.execute(f"CREATE INDEX items_embedding_idx ON items {index}")
        build_s = time.perf_counter() - t
        rows = [r[0] for r in conn.execute(
            "SELECT rows FROM vecdb_index_info('items_embedding_idx') WHERE segment IS NOT NULL ORDER BY segment")]
        got = (len(rows), rows, build_s, mwm_kb)
        if len(rows) == want or want == 1:
            break
        # the budget is linear in maintenance_work_mem: aim between the counts
        mwm_kb = max(1024, int(mwm_kb * len(rows) / want * (1.02 if len(rows) > want else 0.98)))
    conn.execute("RESET maintenance_work_mem")
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_data_args(ap)
    ap.add_argument("--counts", default="1,2,4,8", help="segment counts to build")
    ap.add_argument("--index", default="USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)")
    ap.add_argument("--set", action="append", default=[], help="GUC sweep, e.g. hnsw.ef_search=40,100")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--explain-sample", type=int, default=50)
    ap.add_argument("--label", default="run")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    base, queries, cat, price, gt = harness.load_or_make(args)
    results = []
    with harness.connect_args(args, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vecdb")
        harness.ensure_table(conn, args, base, cat, price)
        meta = {"n": args.n, "d": args.d, "queries": args.queries, "k": args.k, "index": args.index,
                "date": datetime.datetime.now().isoformat(timespec="seconds"),
                "load_average_start": os.getloadavg()[0]}
        for want in [int(c) for c in args.counts.split(",")]:
            segs, rows, build_s, mwm_kb = build_with_segments(conn, args.index, want, args.n)
            harness.log(f"{segs} segments ({rows}) in {build_s:.1f} s at maintenance_work_mem {mwm_kb} kB")
            for settings in harness.parse_sets(args.set):
                for name, value in settings.items():
                    conn.execute("SELECT set_config(%s, %s, false)", (name, value))
                r = harness.run_queries(conn, queries, gt["none"], args.k, "", args.warmup, args.explain_sample)
                r.update({"segments": segs, "segment_rows": rows, "build_s": build_s, "mwm_kb": mwm_kb,
                          "settings": settings, "floor_ms": floor_ms(conn, queries, 300)})
                harness.log(f"  {settings}: recall {r['recall']:.4f}, {r['qps']:.0f} QPS, "
                            f"server {r['server_ms']:.3f} ms, floor {r['floor_ms']:.3f} ms")
                results.append(r)
        meta["load_average_end"] = os.getloadavg()[0]
    stem = os.path.join(args.out, f"segments_{args.label}")
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    lines = [f"**query cost of N segments** ({args.n} x {args.d}, harness data seed {args.seed}, "
             f"{args.queries} queries, k = {args.k}, one connection; {args.index}; load average "
             f"{meta['load_average_start']:.2f} at start, {meta['load_average_end']:.2f} at end)", "",
             "| segments | rows per segment | settings | recall | QPS | p50 / p99 ms | server ms | floor ms | "
             "server x 1 segment |", "|---|---|---|---|---|---|---|---|---|"]
    one = {json.dumps(r["settings"], sort_keys=True): r["server_ms"] for r in results if r["segments"] == 1}
    for r in results:
        ref = one.get(json.dumps(r["settings"], sort_keys=True))
        ratio = f"{r['server_ms'] / ref:.2f}x" if ref else "-"
        lines.append(f"| {r['segments']} | {'/'.join(str(x) for x in r['segment_rows'])} | "
                     f"{' '.join(f'{k}={v}' for k, v in r['settings'].items()) or '-'} | {r['recall']:.4f} | "
                     f"{r['qps']:.0f} | {r['p50_ms']:.3f} / {r['p99_ms']:.3f} | {r['server_ms']:.3f} | "
                     f"{r['floor_ms']:.3f} | {ratio} |")
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
