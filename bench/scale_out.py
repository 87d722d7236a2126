"""scale_out.py measures scale-out (issue 13, docs/scale-out.md) on the
harness' data (bench/harness.py): the same rows on one server and
hash-partitioned over three shard servers through postgres_fdw.

  setup    the coordinator (--port) holds `single` (every row, hnsw) and
           `items`, partitioned by hash of id over foreign partitions on
           the shards (--shard-ports), loaded through the coordinator
           (COPY, routed by postgres_fdw); each shard builds its own hnsw
           (m 16, ef_construction 64), the three at once;
  search   held-out queries, k = 10, at each --ef (set on every server):
           `single` (ORDER BY ... LIMIT), `vecdb_sharded_search` (parallel
           fan-out, vecdb.shard_fanout direct and postgres_fdw) and a plain
           ORDER BY ... LIMIT on `items` (stock Merge Append: the shards one
           after another), over one connection and over --clients
           connections at once: QPS, p50/p99, the coordinator's EXPLAIN
           ANALYZE time, recall@10 against exact search; and the floor, a
           trivial query with the same vector parameter.

Every server shares this machine's cores, so the figures compare layouts on
one machine; on separate machines each shard would have its own cores and
memory (docs/scale-out.md). Run it through bench/scale_out.sh. Writes
bench/results/scale_out_<label>.{json,md}."""
import argparse
import json
import os
import sys
import threading
import time

import numpy as np
import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SHARDS = 3


def connect(args, port, options=""):
    return psycopg.connect(host=args.host, port=port, dbname=args.dbname, user=args.user, autocommit=True,
                           options=options)


def server_ms(args, sql, lits, options, count=50):
    """server_ms returns the median EXPLAIN ANALYZE execution time (ms) of sql
    over the first `count` literals: the coordinator's time, under the client
    round trip."""
    conn = connect(args, args.port, options)
    times = []
    for lit in lits[:count]:
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, (lit,)).fetchone()[0]
        times.append(plan[0]["Execution Time"])
    conn.close()
    return float(np.median(times))


def run_queries(args, sql, lits, clients, options=""):
    """run_queries runs sql for every literal over `clients` connections at
    once (each takes every clients-th query); returns ids, latencies (s) and
    the wall time."""
    ids = [None] * len(lits)
    lat = [0.0] * len(lits)

    def worker(c):
        conn = connect(args, args.port, options)
        for i in range(c, min(20, len(lits)), clients):
            conn.execute(sql, (lits[i],), prepare=True).fetchall()
        barrier.wait()
        for i in range(c, len(lits), clients):
            t = time.perf_counter()
            rows = conn.execute(sql, (lits[i],), prepare=True).fetchall()
            lat[i] = time.perf_counter() - t
            ids[i] = [r[0] for r in rows]
        conn.close()

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return ids, lat, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_data_args(ap)
    ap.set_defaults(n=900000)
    ap.add_argument("--shard-ports", required=True, help="three ports, comma-separated")
    ap.add_argument("--search-queries", type=int, default=500)
    ap.add_argument("--ef", default="40")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--mwm", default="2GB")
    ap.add_argument("--label", default="run")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    started = time.time()
    shard_ports = [int(p) for p in args.shard_ports.split(",")]
    assert len(shard_ports) == SHARDS
    base, queries, _, _, gt = harness.load_or_make(args)
    queries = queries[:args.search_queries]
    truth = gt["none"][:len(queries)]
    lits = [harness.vec_literal(q) for q in queries]
    n, d, k = len(base), args.d, args.k
    coord = connect(args, args.port)
    shards = [connect(args, p) for p in shard_ports]
    coord.execute("SET client_min_messages = warning")
    for c in [coord] + shards:
        c.execute("CREATE EXTENSION IF NOT EXISTS vecdb")
    coord.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    for s, c in enumerate(shards):
        c.execute("DROP TABLE IF EXISTS items")
        c.execute(f"CREATE TABLE items (id int PRIMARY KEY, embedding vector({d}) NOT NULL)")
    coord.execute("DROP TABLE IF EXISTS items, single")
    coord.execute(f"CREATE TABLE single (id int PRIMARY KEY, embedding vector({d}) NOT NULL)")
    coord.execute(f"CREATE TABLE items (id int NOT NULL, embedding vector({d}) NOT NULL) PARTITION BY HASH (id)")
    for s, p in enumerate(shard_ports):
        coord.execute(f"DROP SERVER IF EXISTS shard{s} CASCADE")
        coord.execute(f"CREATE SERVER shard{s} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{args.host}', "
                      f"port '{p}', dbname '{args.dbname}', extensions 'vecdb', async_capable 'true')")
        coord.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER shard{s}")
        coord.execute(f"CREATE FOREIGN TABLE items_{s} PARTITION OF items FOR VALUES WITH (MODULUS {SHARDS}, "
                      f"REMAINDER {s}) SERVER shard{s} OPTIONS (table_name 'items', batch_size '1000')")
    load = {}
    for table in ("single", "items"):
        t0 = time.perf_counter()
        with coord.cursor().copy(f"COPY {table} (id, embedding) FROM STDIN") as cp:
            for i, v in enumerate(base):
                cp.write_row((i, harness.vec_literal(v)))
        load[table] = time.perf_counter() - t0
        harness.log(f"loaded {table} in {load[table]:.1f} s")
    counts = [c.execute("SELECT count(*) FROM items").fetchone()[0] for c in shards]

    def build(c, table, out, key):
        c.execute(f"SET maintenance_work_mem = '{args.mwm}'")
        t0 = time.perf_counter()
        c.execute(f"CREATE INDEX ON {table} USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)")
        c.execute(f"ANALYZE {table}")
        out[key] = time.perf_counter() - t0

    builds = {}
    t0 = time.perf_counter()
    threads = [threading.Thread(target=build, args=(c, "items", builds, s)) for s, c in enumerate(shards)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shards_wall = time.perf_counter() - t0
    build(coord, "single", builds, "single")
    harness.log(f"builds: shards {shards_wall:.1f} s wall (three at once), single {builds['single']:.1f} s")
    coord.execute("ANALYZE items")

    # name: (SQL, connection options)
    sharded = "SELECT id FROM vecdb_sharded_search(NULL::items, 'embedding', %s::vector, 10)"
    kinds = {
        "floor (the query vector, no search)": ("SELECT %s::vector IS NULL", ""),
        "one server": ("SELECT id FROM single ORDER BY embedding <-> %s::vector LIMIT 10", ""),
        "sharded, vecdb_sharded_search direct": (sharded, "-c vecdb.shard_fanout=direct"),
        "sharded, vecdb_sharded_search through postgres_fdw": (sharded, "-c vecdb.shard_fanout=postgres_fdw"),
        "sharded, plain ORDER BY ... LIMIT": ("SELECT id FROM items ORDER BY embedding <-> %s::vector LIMIT 10", ""),
    }
    rows = []
    for ef in [int(x) for x in args.ef.split(",")]:
        for c in [coord] + shards:
            c.execute(f"ALTER DATABASE {args.dbname} SET hnsw.ef_search = {ef}")
        for name, (sql, options) in kinds.items():
            server = server_ms(args, sql, lits, options)
            for clients in (1, args.clients):
                if clients > 1 and ("plain" in name or "floor" in name):
                    continue
                ids, lat, wall = run_queries(args, sql, lits, clients, options)
                hits = 0 if "floor" in name else sum(len(set(r) & set(truth[i][:k].tolist())) for i, r in enumerate(ids))
                lat_ms = np.array(lat) * 1000.0
                rows.append({"ef_search": ef, "kind": name, "clients": clients, "qps": len(lits) / wall,
                             "p50_ms": float(np.percentile(lat_ms, 50)), "p99_ms": float(np.percentile(lat_ms, 99)),
                             "server_ms": server, "recall": hits / (k * len(lits))})
                harness.log(f"ef {ef} {name} x{clients}: {rows[-1]['qps']:.0f} QPS, p50 {rows[-1]['p50_ms']:.2f} ms, "
                            f"recall {rows[-1]['recall']:.4f}")
    for c in [coord] + shards:
        c.execute(f"ALTER DATABASE {args.dbname} RESET hnsw.ef_search")
    res = {"meta": {"label": args.label, "n": n, "d": d, "k": k, "shards": SHARDS, "shard_rows": counts,
                    "queries": len(lits), "clients": args.clients, "cpus": os.cpu_count(),
                    "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "git": harness.git_state()},
           "load_s": load, "build_s": builds, "shards_build_wall_s": shards_wall, "rows": rows,
           "wall_s": time.time() - started}
    stem = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"scale_out_{args.label}")
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = markdown(res)
    with open(stem + ".md", "w") as f:
        f.write(md)
    print(md)


def markdown(res):
    m = res["meta"]
    bs = res["build_s"]
    lines = [f"**scale-out** ({m['label']}) — {m['n']} x {m['d']} (harness mixture), hnsw m 16, ef_construction 64, "
             f"{m['shards']} shards of {', '.join(str(c) for c in m['shard_rows'])} rows against one server "
             f"holding all; {m['queries']} held-out queries, k = {m['k']}; every server on this machine's "
             f"{m['cpus']} CPUs; {m['date']}; commit {m['git']}; {res['wall_s'] / 60:.1f} min wall", "",
             "Command: `bash bench/scale_out.sh " + os.environ.get("VECDB_BENCH_ARGS", " ".join(sys.argv[1:])) + "`", "",
             f"Load through the coordinator (COPY): one server {res['load_s']['single']:.1f} s, sharded "
             f"{res['load_s']['items']:.1f} s. Build: one server {res['build_s']['single']:.1f} s; shards "
             f"{', '.join(f'{bs[s]:.1f}' for s in range(m['shards']))} s "
             f"each, {res['shards_build_wall_s']:.1f} s wall (all three at once).", "",
             "Server ms: the coordinator's median EXPLAIN ANALYZE execution time over 50 queries (one client); "
             "the floor row is one connection's round trip with the same vector parameter.", "",
             "| ef_search | layout | clients | QPS | p50 ms | p99 ms | server ms | recall@10 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['ef_search']} | {r['kind']} | {r['clients']} | {r['qps']:.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r.get('server_ms', float('nan')):.2f} | {r['recall']:.4f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
