#!/usr/bin/python3
"""insert_bench.py measures insert throughput into an indexed table over one
connection: N single-row INSERTs (prepared, autocommit) and one N-row COPY,
with the given index and without any vector index, on rows of the harness'
data set (bench/harness.py). Prints a markdown table.

Run it through bench/run.sh --insert-bench (see bench/README.md)."""
import argparse
import os
import sys
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def run(conn, base, d, index, n):
    """run returns (insert rows/s, copy rows/s) for table ins with index (or none)."""
    conn.execute("DROP TABLE IF EXISTS ins")
    conn.execute(f"CREATE TABLE ins (id int PRIMARY KEY, embedding vector({d}) NOT NULL)")
    if index:
        conn.execute(f"CREATE INDEX ins_embedding_idx ON ins {index}")
    lits = [harness.vec_literal(v) for v in base[: 2 * n]]
    t = time.perf_counter()
    with conn.cursor() as cur:
        for i in range(n):
            cur.execute("INSERT INTO ins (id, embedding) VALUES (%s, %s::vector)", (i, lits[i]), prepare=True)
    insert_rate = n / (time.perf_counter() - t)
    t = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY ins (id, embedding) FROM STDIN") as copy:
            for i in range(n, 2 * n):
                copy.write_row((i, lits[i]))
    copy_rate = n / (time.perf_counter() - t)
    return insert_rate, copy_rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--n", type=int, default=100000, help="data set size (rows are taken from it)")
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--rows", type=int, default=10000, help="rows per INSERT run and per COPY")
    ap.add_argument("--index", action="append", default=[],
                    help="index clause (repeatable), default: USING hnsw (embedding vector_l2_ops)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    base, _, _, _, _ = harness.load_or_make(args)
    indexes = args.index or ["USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)"]
    with psycopg.connect(host=args.host, port=args.port, dbname=args.dbname, user=args.user,
                         autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vecdb")
        settings = conn.execute("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
                                "WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', "
                                "'wal_level')").fetchone()[0]
        rows = [("no vector index", *run(conn, base, args.d, "", args.rows))]
        for idx in indexes:
            rows.append((idx, *run(conn, base, args.d, idx, args.rows)))
        conn.execute("DROP TABLE ins")
    print(f"\n{args.rows} single-row INSERTs (prepared, autocommit) and a {args.rows}-row COPY, "
          f"one connection, d = {args.d}; server: {settings}\n")
    print("| index | INSERT rows/s | COPY rows/s |")
    print("| --- | --- | --- |")
    for name, ins, cp in rows:
        print(f"| {name} | {ins:,.0f} | {cp:,.0f} |")


if __name__ == "__main__":
    main()
