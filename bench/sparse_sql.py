#!/usr/bin/python3
"""sparse_sql.py benchmarks a sparsevec index through SQL on a SPLADE-like
synthetic set: a vocabulary of --dim terms (BERT's 30,522), term ids
Zipf-distributed (ranks shuffled into ids), rows of nnz/2 .. 3nnz/2 distinct
terms with values 0.2 + 2.5 u^2, queries of --qmin .. --qmax terms. It loads
the rows through COPY, builds `USING hnsw (v sparsevec_ip_ops, c)` and
reports, over one connection with a prepared statement: recall@k against
exact inner products computed here (numpy), QPS, p50/p99, the server's
median execution time (EXPLAIN ANALYZE), the same connection's floor
(`SELECT $1::sparsevec IS NULL`) and a sequential scan's server time (the
exact search PostgreSQL does without the index), unfiltered and with the
condition c < 10 (10%) and c = 0 (1%) evaluated inside the index.

Run it through bench/run.sh --sparse [options]; see bench/README.md."""
import argparse
import datetime
import json
import os
import statistics
import sys
import time

import numpy as np
import psycopg

FILTERS = {"none": ("", lambda c: np.ones(len(c), dtype=bool)),
           "c10": ("c < 10", lambda c: c < 10),
           "c1": ("c = 0", lambda c: c == 0)}


def log(msg):
    print(f"[sparse] {msg}", file=sys.stderr, flush=True)


def zipf_sampler(dim, s, rng):
    """zipf_sampler returns draw(count) of term ids: Zipf ranks mapped through a shuffle."""
    cdf = np.cumsum(1.0 / np.arange(1, dim + 1) ** s)
    cdf /= cdf[-1]
    ids = rng.permutation(dim)

    def draw(count):
        return ids[np.minimum(np.searchsorted(cdf, rng.random(count)), dim - 1)]
    return draw


def make_rows(draw, n, lo, hi, rng):
    """make_rows returns n sparse rows as (indices, values) with lo..hi distinct terms."""
    rows = []
    for _ in range(n):
        want = int(rng.integers(lo, hi + 1))
        terms = np.unique(draw(want))
        while len(terms) < want:
            terms = np.unique(np.concatenate([terms, draw(want - len(terms))]))
        u = rng.random(len(terms))
        rows.append((terms.astype(np.int64), (0.2 + 2.5 * u * u).astype(np.float32)))
    return rows


def text(row, dim):
    """text writes a row in sparsevec's text form (1-based indices)."""
    idx, val = row
    return "{" + ",".join(f"{i + 1}:{v:.6g}" for i, v in zip(idx, val)) + f"}}/{dim}"


def exact_topk(rows, queries, mask, k, dim):
    """exact_topk returns, per query, the ids (0-based) of the k largest inner products among rows in mask."""
    n = len(rows)
    lens = np.array([len(r[0]) for r in rows])
    row_of = np.repeat(np.arange(n), lens)
    terms = np.concatenate([r[0] for r in rows])
    vals = np.concatenate([r[1] for r in rows]).astype(np.float64)
    order = np.argsort(terms, kind="stable")
    terms, row_of, vals = terms[order], row_of[order], vals[order]
    starts = np.searchsorted(terms, np.arange(dim + 1))
    out = []
    for qi, qv in queries:
        scores = np.zeros(n)
        for t, w in zip(qi, qv):
            a, b = starts[t], starts[t + 1]
            np.add.at(scores, row_of[a:b], float(w) * vals[a:b])
        scores[~mask] = -np.inf
        top = np.argpartition(-scores, k)[:k]
        out.append(set(top[np.argsort(-scores[top])].tolist()))
    return out


def timed_queries(conn, sql, params):
    """timed_queries runs sql once per parameter over conn; returns latencies (s) and results."""
    lat, res = [], []
    with conn.cursor() as cur:
        for p in params[:10]:
            cur.execute(sql, (p,), prepare=True)
            cur.fetchall()
        for p in params:
            t = time.perf_counter()
            cur.execute(sql, (p,), prepare=True)
            rows = cur.fetchall()
            lat.append(time.perf_counter() - t)
            res.append(rows)
    return lat, res


def server_ms(conn, sql, params, settings=""):
    """server_ms returns the median EXPLAIN ANALYZE execution time of sql over params."""
    times = []
    with conn.cursor() as cur:
        if settings:
            cur.execute(settings)
        for p in params:
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, (p,))
            times.append(cur.fetchone()[0][0]["Execution Time"])
        if settings:
            cur.execute("RESET ALL")
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default=os.environ.get("PGHOST", "/tmp"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--nnz", type=int, default=120)
    ap.add_argument("--qmin", type=int, default=30)
    ap.add_argument("--qmax", type=int, default=60)
    ap.add_argument("--dim", type=int, default=30522)
    ap.add_argument("--zipf", type=float, default=1.0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--label", default="sparse")
    ap.add_argument("--out", default="bench/out")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    draw = zipf_sampler(args.dim, args.zipf, rng)
    log(f"generating {args.n} rows")
    rows = make_rows(draw, args.n, args.nnz // 2, args.nnz + args.nnz // 2, rng)
    queries = make_rows(draw, args.queries, args.qmin, args.qmax, rng)
    cats = np.arange(args.n) % 100
    qtext = [text(q, args.dim) for q in queries]

    conn = psycopg.connect(host=args.host, port=args.port, dbname=args.dbname, user=args.user,
                           autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS vecdb")
        cur.execute("DROP TABLE IF EXISTS sparse_items")
        cur.execute(f"CREATE TABLE sparse_items (id int, c int, v sparsevec({args.dim}))")
        t = time.perf_counter()
        with cur.copy("COPY sparse_items (id, c, v) FROM STDIN") as cp:
            for i, r in enumerate(rows):
                cp.write_row((i, int(cats[i]), text(r, args.dim)))
        cur.execute("VACUUM ANALYZE sparse_items")
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute("CREATE INDEX sparse_items_idx ON sparse_items USING hnsw (v sparsevec_ip_ops, c)")
        build_s = time.perf_counter() - t
        cur.execute("SELECT pg_relation_size('sparse_items_idx'), pg_relation_size('sparse_items')")
        index_bytes, table_bytes = cur.fetchone()
        cur.execute("SELECT sum(bytes) FROM vecdb_index_info('sparse_items_idx')")
        held_bytes = int(cur.fetchone()[0])
    nnz = sum(len(r[0]) for r in rows)
    log(f"load {load_s:.1f} s, build {build_s:.1f} s")

    floor_lat, _ = timed_queries(conn, "SELECT %s::sparsevec IS NULL", qtext)
    results = []
    for name, (pred, maskf) in FILTERS.items():
        where = f"WHERE {pred} " if pred else ""
        sql = f"SELECT id FROM sparse_items {where}ORDER BY v <#> %s::sparsevec LIMIT {args.k}"
        truth = exact_topk(rows, queries, maskf(cats), args.k, args.dim)
        lat, got = timed_queries(conn, sql, qtext)
        recall = float(np.mean([len({r[0] for r in g} & t) / args.k for g, t in zip(got, truth)]))
        srv = server_ms(conn, sql, qtext[:50])
        seq = server_ms(conn, sql, qtext[:10], "SET enable_indexscan = off")
        lat_ms = sorted(x * 1000 for x in lat)
        results.append({"filter": name, "selectivity": float(maskf(cats).mean()), "recall": recall,
                        "qps": len(lat) / sum(lat), "p50_ms": lat_ms[len(lat_ms) // 2],
                        "p99_ms": lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))],
                        "server_ms": srv, "seqscan_server_ms": seq})
        log(f"{name}: recall {recall:.4f}, {results[-1]['qps']:.0f} QPS, server {srv:.3f} ms, seqscan {seq:.1f} ms")
    conn.close()

    floor_ms = sorted(x * 1000 for x in floor_lat)
    report = {"label": args.label, "n": args.n, "dim": args.dim, "nnz_per_row": nnz / args.n,
              "queries": args.queries, "query_terms": [args.qmin, args.qmax], "zipf": args.zipf,
              "k": args.k, "load_s": load_s, "build_s": build_s, "index_bytes": index_bytes,
              "held_bytes": held_bytes, "table_bytes": table_bytes,
              "floor": {"qps": len(floor_lat) / sum(floor_lat), "p50_ms": floor_ms[len(floor_ms) // 2]},
              "results": results, "load_average": os.getloadavg(),
              "date": datetime.datetime.now().isoformat(timespec="seconds")}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{args.label}.json"), "w") as f:
        json.dump(report, f, indent=1)
    lines = [f"**sparsevec index through SQL** ({args.label}) — {args.n} rows x {args.dim} dims, "
             f"{nnz / args.n:.1f} non-zeros a row (Zipf {args.zipf}), {args.queries} queries of "
             f"{args.qmin}-{args.qmax} terms, k = {args.k}, `USING hnsw (v sparsevec_ip_ops, c)` "
             f"(SPARSE_INVERTED segments), ORDER BY v <#> q; load average {os.getloadavg()[0]:.2f}; "
             f"{report['date']}", "",
             f"Build {build_s:.1f} s (COPY + VACUUM ANALYZE {load_s:.1f} s); index {index_bytes / 1e6:.1f} MB on disk, "
             f"{held_bytes / 1e6:.1f} MB held by a loaded segment; table {table_bytes / 1e6:.1f} MB.", "",
             f"Floor (`SELECT $1::sparsevec IS NULL`, same connection and parameters): "
             f"{report['floor']['qps']:.0f} QPS, p50 {report['floor']['p50_ms']:.3f} ms.", "",
             "| filter | selectivity | recall@k vs exact | QPS | p50 ms | p99 ms | server ms (index) | server ms (seq scan) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['filter']} | {r['selectivity'] * 100:.0f}% | {r['recall']:.4f} | {r['qps']:.0f} | "
                     f"{r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['server_ms']:.3f} | {r['seqscan_server_ms']:.1f} |")
    md = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, f"{args.label}.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
