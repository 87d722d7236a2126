#!/usr/bin/python3
"""digits_search.py loads scikit-learn's bundled handwritten digits (1,797
8x8 images) into a vecdb table, builds an HNSW index on them, and prints a
query digit beside its nearest neighbours by L2 distance (found through the
index, checked against exact search), as ASCII images."""
import argparse
import os
import sys

import psycopg
from sklearn.datasets import load_digits

SHADES = " .:-=+*#%@"


def to_literal(row):
    """to_literal formats a vector in vecdb's text form."""
    return "[" + ",".join(str(int(v)) for v in row) + "]"


def load_digits_table(conn, images, labels):
    """load_digits_table (re)creates table digits (id, label, image) from the
    images and their labels and indexes it with HNSW, the label inside the
    index so that a search filtered by label is answered by the index."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS vecdb")
    conn.execute("DROP TABLE IF EXISTS digits")
    conn.execute("CREATE TABLE digits (id int PRIMARY KEY, label int NOT NULL, image vector(64) NOT NULL)")
    with conn.cursor() as cur:
        with cur.copy("COPY digits (id, label, image) FROM STDIN") as copy:
            for i, (img, lab) in enumerate(zip(images, labels)):
                copy.write_row((i, int(lab), to_literal(img)))
    conn.execute("ANALYZE digits")
    conn.execute("CREATE INDEX digits_image_idx ON digits USING hnsw (image vector_l2_ops, label) "
                 "WITH (m = 16, ef_construction = 64)")


def digits_table_ready(conn, count):
    """digits_table_ready tells whether table digits holds count rows and the
    index load_digits_table builds (so a caller may keep it as it is)."""
    if conn.execute("SELECT to_regclass('digits') IS NULL OR to_regclass('digits_image_idx') IS NULL").fetchone()[0]:
        return False
    rows = conn.execute("SELECT count(*) FROM digits").fetchone()[0]
    indexdef = conn.execute("SELECT pg_get_indexdef('digits_image_idx'::regclass)").fetchone()[0]
    return rows == count and " USING hnsw (image, label) WITH (m='16', ef_construction='64')" in indexdef


def ascii_image(pixels):
    """ascii_image renders 64 intensities (0..16) as 8 lines of 16 characters."""
    lines = []
    for r in range(8):
        line = ""
        for c in range(8):
            v = pixels[r * 8 + c]
            ch = SHADES[min(len(SHADES) - 1, int(v * (len(SHADES) - 1) / 16 + 0.5))]
            line += ch * 2
        lines.append(line)
    return lines


def print_side_by_side(panels):
    """print_side_by_side prints (title lines, image lines) panels in one row."""
    width = 18
    height = max(len(p[0]) for p in panels)
    for i in range(height):
        print("  ".join((p[0][i] if i < len(p[0]) else "").ljust(width) for p in panels))
    print("  ".join(("+" + "-" * 16 + "+").ljust(width) for _ in panels))
    for i in range(8):
        print("  ".join(("|" + p[1][i] + "|").ljust(width) for p in panels))
    print("  ".join(("+" + "-" * 16 + "+").ljust(width) for _ in panels))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dsn", default=os.environ.get("VECDB_DSN"),
                    help="libpq connection string instead of --host/--port (default $VECDB_DSN), such as a "
                         "multi-host one with target_session_attrs=read-write")
    ap.add_argument("--host", help="server socket directory or host")
    ap.add_argument("--port", type=int)
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--query", type=int, default=1234, help="id of the query digit (0..1796)")
    ap.add_argument("-k", type=int, default=6, help="number of neighbours")
    args = ap.parse_args()

    digits = load_digits()
    images, labels = digits.data, digits.target
    if not 0 <= args.query < len(images):
        sys.exit(f"--query must be between 0 and {len(images) - 1}")

    if not args.dsn and not (args.host and args.port):
        ap.error("give --dsn, or --host and --port")
    conninfo = ({"conninfo": args.dsn} if args.dsn
                else {"host": args.host, "port": args.port, "dbname": args.dbname, "user": args.user})
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        load_digits_table(conn, images, labels)
        print(f"loaded {len(images)} handwritten digits (8x8 images, 64-dimensional vectors) into table digits")
        info = conn.execute("SELECT kind, rows FROM vecdb_index_info('digits_image_idx') "
                            "WHERE segment IS NOT NULL").fetchall()
        print("built index digits_image_idx USING hnsw (image vector_l2_ops, label): " +
              ", ".join(f"{kind} segment of {rows} rows" for kind, rows in info) + "\n")

        query = to_literal(images[args.query])
        sql = ("SELECT id, label, image::real[], image <-> %(q)s::vector AS distance FROM digits "
               "WHERE id <> %(id)s ORDER BY image <-> %(q)s::vector LIMIT %(k)s")
        params = {"q": query, "id": args.query, "k": args.k}
        rows = conn.execute(sql, params).fetchall()
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]
        scan = plan["Plan"]["Plans"][0] if plan["Plan"].get("Plans") else plan["Plan"]
        conn.execute("SET enable_indexscan = off")
        exact = conn.execute(sql, params).fetchall()
        exact_plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]

    print(f"query: digit #{args.query} (label {labels[args.query]}); "
          f"its {args.k} nearest neighbours by L2 distance (<->):\n")
    panels = [([f"query #{args.query}", f"label {labels[args.query]}", ""], ascii_image(images[args.query]))]
    for rid, lab, img, dist in rows:
        panels.append(([f"#{rid}", f"label {lab}", f"dist {dist:.2f}"], ascii_image(img)))
    for start in range(0, len(panels), 4):
        print_side_by_side(panels[start:start + 4])
        print()
    same = sum(1 for r in rows if r[1] == labels[args.query])
    agree = len({r[0] for r in rows} & {r[0] for r in exact})
    print(f"\n{same} of {len(rows)} neighbours are also a {labels[args.query]}.")
    print(f"plan: {scan['Node Type']}" + (f" using {scan['Index Name']}" if "Index Name" in scan else "") +
          f"; server execution time {plan['Execution Time']:.2f} ms "
          f"(exact search by sequential scan: {exact_plan['Execution Time']:.2f} ms; "
          f"{agree} of {len(rows)} neighbours the same)")
    print("\nSQL:  CREATE INDEX ON digits USING hnsw (image vector_l2_ops, label);")
    print("      SELECT id, label FROM digits ORDER BY image <-> '[...64 values...]' LIMIT 6;")


if __name__ == "__main__":
    main()
