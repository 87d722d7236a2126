#!/usr/bin/python3
"""harness.py is vecdb's benchmark harness: it generates a deterministic
clustered data set, computes exact ground truth, loads the data through COPY,
optionally builds an index, runs k-NN queries over one connection with a
prepared statement and reports recall@k, QPS, latency percentiles, server-side
execution time, load and build times and sizes (markdown and JSON).

Run it through bench/run.sh, which starts a private server; see bench/README.md."""
import argparse
import datetime
import itertools
import json
import os
import subprocess
import sys
import time

import numpy as np
import psycopg

# Filters by name: SQL predicate and the numpy mask that computes the same rows.
# category 1 holds 50% of the rows, 2 holds 10%, 3 holds 1% (see make_dataset).
FILTERS = {
    "none": ("", lambda cat, price: np.ones(len(cat), dtype=bool)),
    "cat50": ("category = 1", lambda cat, price: cat == 1),
    "cat10": ("category = 2", lambda cat, price: cat == 2),
    "cat1": ("category = 3", lambda cat, price: cat == 3),
    "price5": ("price < 5", lambda cat, price: price < 5),
    "cat10_price20": ("category = 2 AND price < 20", lambda cat, price: (cat == 2) & (price < 20)),
}


def log(msg):
    """log prints a progress line on stderr."""
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


def mixture(d, clusters, seed):
    """mixture returns draw(count, rng), the sampler of the seeded Gaussian
    mixture make_dataset draws from: cluster sizes follow a Zipf-like law,
    each cluster has its own random rotation and log-uniform axis scales
    (anisotropic), and centres are spread so clusters overlap partly. Other
    generators draw other points of the same mixture (streamed rows)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.7
    weights /= weights.sum()
    centres = rng.normal(0.0, 4.0, size=(clusters, d)).astype(np.float32)
    rotations, scales = [], []
    for _ in range(clusters):
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        rotations.append(q.astype(np.float32))
        scales.append(np.exp(rng.uniform(np.log(0.05), np.log(1.5), size=d)).astype(np.float32))

    def draw(count, r):
        """draw samples count points of the mixture with generator r."""
        assign = r.choice(clusters, size=count, p=weights)
        out = np.empty((count, d), dtype=np.float32)
        for c in range(clusters):
            idx = np.nonzero(assign == c)[0]
            if len(idx) == 0:
                continue
            z = r.standard_normal((len(idx), d)).astype(np.float32) * scales[c]
            out[idx] = z @ rotations[c].T + centres[c]
        return out

    return draw


def make_dataset(n, d, nq, clusters, seed):
    """make_dataset draws n base vectors and nq queries from one Gaussian
    mixture (see mixture) with generators seeded seed + 1 and seed + 2.
    Scalar columns: category (1: 50%, 2: 10%, 3: 1%, 4..42: 1% each) and
    price uniform in [0, 100)."""
    draw = mixture(d, clusters, seed)
    base = draw(n, np.random.default_rng(seed + 1))
    queries = draw(nq, np.random.default_rng(seed + 2))
    r = np.random.default_rng(seed + 3)
    cat = np.empty(n, dtype=np.int32)
    perm = r.permutation(n)
    bounds = [(1, 0.50), (2, 0.10), (3, 0.01)]
    start = 0
    for value, frac in bounds:
        cnt = int(round(frac * n))
        cat[perm[start:start + cnt]] = value
        start += cnt
    rest = perm[start:]
    cat[rest] = 4 + (np.arange(len(rest)) % 39)
    price = r.uniform(0, 100, size=n).astype(np.float32)
    return base, queries, cat, price


def exact_knn(base, queries, k, mask=None, block=20000):
    """exact_knn returns the ids of the k nearest rows (L2) of each query among
    rows where mask is true, by blocked matrix products in float64."""
    ids = np.nonzero(mask)[0] if mask is not None else np.arange(len(base))
    sub = base[ids].astype(np.float64)
    norms = (sub ** 2).sum(axis=1)
    q = queries.astype(np.float64)
    best_d = np.full((len(q), 0), np.inf)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for s in range(0, len(sub), block):
        d2 = norms[s:s + block][None, :] - 2.0 * q @ sub[s:s + block].T
        cand_d = np.concatenate([best_d, d2], axis=1)
        cand_i = np.concatenate([best_i, np.broadcast_to(ids[s:s + block], d2.shape)], axis=1)
        kk = min(k, cand_d.shape[1])
        part = np.argpartition(cand_d, kk - 1, axis=1)[:, :kk]
        best_d = np.take_along_axis(cand_d, part, axis=1)
        best_i = np.take_along_axis(cand_i, part, axis=1)
    order = np.argsort(best_d, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, axis=1)


def load_or_make(args):
    """load_or_make returns the data set and ground truth, cached under out/."""
    key = f"n{args.n}-d{args.d}-q{args.queries}-c{args.clusters}-s{args.seed}-k{args.k}"
    path = os.path.join(args.out, f"data-{key}.npz")
    if os.path.exists(path):
        log(f"using cached data {path}")
        z = np.load(path)
        gt = {f: z[f"gt_{f}"] for f in FILTERS if f"gt_{f}" in z}
        return z["base"], z["queries"], z["cat"], z["price"], gt
    log(f"generating {args.n} x {args.d} clustered vectors, {args.queries} queries")
    base, queries, cat, price = make_dataset(args.n, args.d, args.queries, args.clusters, args.seed)
    gt = {}
    for name, (_, fn) in FILTERS.items():
        t = time.perf_counter()
        gt[name] = exact_knn(base, queries, args.k, fn(cat, price))
        log(f"ground truth '{name}' in {time.perf_counter() - t:.1f} s")
    np.savez(path, base=base, queries=queries, cat=cat, price=price, **{f"gt_{f}": g for f, g in gt.items()})
    return base, queries, cat, price, gt


def vec_literal(v):
    """vec_literal formats a float32 row in vecdb's text form (shortest repr)."""
    return "[" + ",".join(repr(float(x)) for x in v.astype(np.float32).tolist()) + "]"


def load_table(conn, base, cat, price, d):
    """load_table (re)creates table items and COPYs the data in; returns seconds."""
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute(f"CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, "
                 f"price real NOT NULL, embedding vector({d}) NOT NULL)")
    t = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY items (id, category, price, embedding) FROM STDIN") as copy:
            for i in range(len(base)):
                copy.write_row((i, int(cat[i]), float(price[i]), vec_literal(base[i])))
    conn.execute("VACUUM ANALYZE items")
    return time.perf_counter() - t


def relation_size(conn, name):
    """relation_size returns the size of a relation in bytes."""
    return conn.execute("SELECT pg_total_relation_size(%s::regclass)", (name,)).fetchone()[0]


def knn_sql(where):
    """knn_sql returns the k-NN query over items with an optional filter; its
    parameters are the query vector (text) and k."""
    return ("SELECT id FROM items " + (f"WHERE {where} " if where else "")
            + "ORDER BY embedding <-> %s::vector LIMIT %s")


def run_queries(conn, queries, gt, k, where, warmup, explain_sample):
    """run_queries times each query with one prepared statement and returns
    recall@k, QPS, p50/p99 latency, short results and server time (mean and
    median of the EXPLAIN ANALYZE sample)."""
    sql = knn_sql(where)
    lits = [vec_literal(q) for q in queries]
    for lit in lits[:warmup]:
        conn.execute(sql, (lit, k), prepare=True).fetchall()
    lat, hits, short = [], 0, 0
    t0 = time.perf_counter()
    for i, lit in enumerate(lits):
        t = time.perf_counter()
        rows = conn.execute(sql, (lit, k), prepare=True).fetchall()
        lat.append(time.perf_counter() - t)
        got = {r[0] for r in rows}
        truth = gt[i][:k]
        hits += len(got.intersection(truth.tolist()))
        if len(rows) < min(k, len(truth)):
            short += 1
    total = time.perf_counter() - t0
    server = []
    for lit in lits[:explain_sample]:
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, (lit, k)).fetchone()[0][0]
        server.append(plan["Execution Time"])
    lat_ms = np.array(lat) * 1000.0
    denom = sum(min(k, len(g)) for g in gt)
    return {
        "recall": hits / denom if denom else 1.0,
        "qps": len(lits) / total,
        "p50_ms": float(np.percentile(lat_ms, 50)),
        "p99_ms": float(np.percentile(lat_ms, 99)),
        "server_ms": float(np.mean(server)) if server else None,
        "server_ms_median": float(np.median(server)) if server else None,
        "short_results": short,
    }


def add_data_args(ap, server=True):
    """add_data_args adds the connection and data set options every driver
    shares; server=False leaves --host and --port optional (a driver that
    also has a mode without a server). --dsn (or $VECDB_DSN) takes a libpq
    connection string instead, such as a multi-host one that finds the
    primary: postgresql://h1:p1,h2:p2/db?target_session_attrs=read-write."""
    dsn = os.environ.get("VECDB_DSN")
    ap.add_argument("--dsn", default=dsn,
                    help="libpq connection string (default $VECDB_DSN); replaces --host/--port")
    ap.add_argument("--host", required=server and not dsn and "--dsn" not in sys.argv)
    ap.add_argument("--port", type=int, required=server and not dsn and "--dsn" not in sys.argv)
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)


def connect_args(args, **kw):
    """connect_args connects as the shared options say: through --dsn when it
    is given (a multi-host string reaches whichever node is primary), else
    to --host/--port."""
    if args.dsn:
        return psycopg.connect(args.dsn, **kw)
    return psycopg.connect(host=args.host, port=args.port, dbname=args.dbname, user=args.user, **kw)


def ensure_table(conn, args, base, cat, price, reload=False):
    """ensure_table loads table items unless it already holds this data set
    (its comment names it); returns the load seconds, NaN when kept."""
    fingerprint = f"{args.n}/{args.d}/{args.clusters}/{args.seed}"
    have = conn.execute("SELECT obj_description(to_regclass('items'), 'pg_class')").fetchone()
    if not reload and have is not None and have[0] == fingerprint:
        log("table items already holds this data set")
        return float("nan")
    log("loading table items through COPY")
    load_s = load_table(conn, base, cat, price, args.d)
    conn.execute(f"COMMENT ON TABLE items IS '{fingerprint}'")
    return load_s


def merge_partials(paths):
    """merge_partials reads the per-system result files of a side-by-side run
    into {"meta": {}, "systems": {name: results}}."""
    res = {"meta": {}, "systems": {}}
    for path in paths:
        with open(path) as fh:
            sres = json.load(fh)
        res["systems"][sres["system"]] = sres
    return res


def git_state():
    """git_state returns the work tree's HEAD commit and its uncommitted changes to tracked files."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=root).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=root).stdout.strip()
    return commit, dirty


def run_meta(args, res):
    """run_meta returns what every side-by-side report records about its run:
    label, date, data set, both servers' options, vecdb.so md5, commit, CPUs,
    load average at start and end, wall time and the command line."""
    commit, dirty = git_state()
    first = next(iter(res["systems"].values()))
    return {
        "label": args.label, "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "n": args.n, "d": args.d, "k": args.k, "queries": args.queries, "clusters": args.clusters,
        "seed": args.seed, "vecdb_server_opts": args.vecdb_server_opts,
        "pgvector_server_opts": args.pgvector_server_opts, "vecdb_so_md5": args.vecdb_so_md5,
        "git_commit": commit + ("+dirty" if dirty else ""), "cpus": os.cpu_count(),
        "loadavg_start": first["loadavg_start"], "loadavg_end": os.getloadavg(),
        "wall_s": time.time() - args.started if args.started else sum(s["wall_s"] for s in res["systems"].values()),
        "command": args.command,
    }


def write_results(args, res, name, md):
    """write_results writes res and its markdown md to <results>/<name>_<label>.{json,md}
    and returns that path without the suffix."""
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"{name}_{args.label}")
    with open(path + ".json", "w") as fh:
        json.dump(res, fh, indent=1)
    with open(path + ".md", "w") as fh:
        fh.write(md + "\n")
    return path


def side_by_side_main(ap, run_system, report):
    """side_by_side_main ends the command line of a driver that bench/side_by_side.sh
    runs once per system (--system, writing --partial) and then once to merge
    (--report): it adds what the results record, parses, and runs one or the other."""
    ap.add_argument("--vecdb-server-opts", default="", help="recorded in the results")
    ap.add_argument("--pgvector-server-opts", default="", help="recorded in the results")
    ap.add_argument("--vecdb-so-md5", default="", help="recorded in the results")
    ap.add_argument("--started", type=float, default=0, help="epoch seconds the whole bench started")
    ap.add_argument("--command", default="", help="the command line, recorded in the results")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.report:
        report(args)
    elif args.system:
        if not ((args.dsn or (args.host and args.port)) and args.partial):
            ap.error("--system needs --dsn or --host and --port, and --partial")
        run_system(args)
    else:
        ap.error("give --system or --report")


def parse_sets(items):
    """parse_sets turns ["a=1,2", "b=x"] into the list of setting combinations."""
    keys, values = [], []
    for item in items:
        name, _, vals = item.partition("=")
        keys.append(name)
        values.append(vals.split(","))
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)] or [{}]


def markdown(results, meta):
    """markdown renders results as a table with the run's parameters above it."""
    lines = [f"**{meta['label']}** — N = {meta['n']}, d = {meta['d']}, {meta['queries']} queries, "
             f"k = {meta['k']}, {meta['clusters']}-cluster Gaussian mixture (seed {meta['seed']}); "
             f"load {meta['load_s']:.1f} s, table {meta['table_mb']:.1f} MB"
             + (f", index build {meta['build_s']:.1f} s, index {meta['index_mb']:.1f} MB" if meta.get("build_s") is not None else "")
             + (f", sealed segments hold {meta['segment_mb']:.1f} MB in memory" if meta.get("segment_mb") is not None else "")
             + (f"; floor (SELECT $1::vector IS NULL, same parameters) {meta['floor_qps']:.0f} QPS" if meta.get("floor_qps") else ""),
             "",
             "| filter | selectivity | settings | recall@k | QPS | p50 ms | p99 ms | server ms | short |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items()) or "-"
        server = f"{r['server_ms']:.2f}" if r["server_ms"] is not None else "-"
        lines.append(f"| {r['filter']} | {r['selectivity']:.1%} | {settings} | {r['recall']:.4f} | "
                     f"{r['qps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {server} | {r['short_results']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(ap)
    ap.add_argument("--filters", default="none", help=f"comma list of {','.join(FILTERS)}")
    ap.add_argument("--index", default="", help="index clause, e.g. \"USING hnsw (embedding vector_l2_ops) WITH (m = 16)\"")
    ap.add_argument("--set", action="append", default=[], help="GUC sweep, e.g. hnsw.ef_search=40,80,160 (repeatable)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--explain-sample", type=int, default=20)
    ap.add_argument("--label", default="vecdb")
    ap.add_argument("--reload", action="store_true", help="reload the table even if it holds this data set")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    filters = args.filters.split(",")
    for f in filters:
        if f not in FILTERS:
            sys.exit(f"unknown filter {f}; choose from {', '.join(FILTERS)}")

    base, queries, cat, price, gt = load_or_make(args)
    with connect_args(args, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vecdb")
        load_s = ensure_table(conn, args, base, cat, price, args.reload)
        meta = {"label": args.label, "n": args.n, "d": args.d, "queries": args.queries, "k": args.k,
                "clusters": args.clusters, "seed": args.seed, "load_s": load_s,
                "table_mb": relation_size(conn, "items") / 2**20, "index": args.index,
                "server_version": conn.execute("SHOW server_version").fetchone()[0],
                "simd": conn.execute("SELECT vecdb_simd_level()").fetchone()[0],
                "date": datetime.datetime.now().isoformat(timespec="seconds")}
        conn.execute("DROP INDEX IF EXISTS items_embedding_idx")
        if args.index:
            log(f"CREATE INDEX items_embedding_idx ON items {args.index}")
            t = time.perf_counter()
            conn.execute(f"CREATE INDEX items_embedding_idx ON items {args.index}")
            meta["build_s"] = time.perf_counter() - t
            meta["index_mb"] = relation_size(conn, "items_embedding_idx") / 2**20
            # what loaded segments hold in memory (codes and graph for hnsw sq_bits)
            meta["segment_mb"] = float(conn.execute(
                "SELECT coalesce(sum(bytes), 0) FROM vecdb_index_info('items_embedding_idx') WHERE segment IS NOT NULL"
            ).fetchone()[0]) / 2**20
        results = []
        for settings in parse_sets(args.set):
            for name, value in settings.items():
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))
            for f in filters:
                where, fn = FILTERS[f]
                log(f"queries: filter {f} {settings or ''}")
                r = run_queries(conn, queries, gt[f], args.k, where, args.warmup, args.explain_sample)
                r.update({"filter": f, "where": where, "settings": settings,
                          "selectivity": float(fn(cat, price).mean())})
                results.append(r)
        # the connection's floor: the same vector parameter, no search
        lits = [vec_literal(q) for q in queries]
        for lit in lits[:args.warmup]:
            conn.execute("SELECT %s::vector IS NULL", (lit,), prepare=True).fetchall()
        t = time.perf_counter()
        for lit in lits:
            conn.execute("SELECT %s::vector IS NULL", (lit,), prepare=True).fetchall()
        meta["floor_qps"] = len(lits) / (time.perf_counter() - t)
    md = markdown(results, meta)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(args.out, f"results-{stamp}.json"), "w") as fh:
        json.dump({"meta": meta, "results": results}, fh, indent=2)
    with open(os.path.join(args.out, f"results-{stamp}.md"), "w") as fh:
        fh.write(md + "\n")
    print(md)
    log(f"wrote {args.out}/results-{stamp}.json and .md")


if __name__ == "__main__":
    main()
