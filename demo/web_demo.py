#!/usr/bin/python3
"""web_demo.py serves the handwritten digits search as a small web page on
127.0.0.1: a query digit, its nearest neighbours as images, a label filter,
and for each search the SQL that ran, its time and the strategy vecdb used.
Python's standard library serves the page (demo/web/) and a JSON endpoint;
the table is the terminal demo's (loaded by the same code when missing).

    GET /                                   the page (demo/web/index.html)
    GET /api/info                           {"rows": N, "index": "..."}
    GET /api/search?id=N[&label=L][&k=K]    neighbours of digit N, SQL, time, strategy
"""
import argparse
import errno
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg
from sklearn.datasets import load_digits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from digits_search import digits_table_ready, load_digits_table  # noqa: E402

WEB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
MAX_K = 50
INDEX = "digits_image_idx"
VERBOSE = False  # --verbose: log every request

# The search, with the query digit's image as $1. The label condition is
# added only when a filter is chosen; it becomes an Index Cond of the scan
# because the label is inside the index.
SEARCH_SQL = ("SELECT id, label, image::real[] AS pixels, image <-> $1 AS distance\n"
              "FROM digits\n"
              "WHERE id <> $2{label}\n"
              "ORDER BY image <-> $1\n"
              "LIMIT $3")


class Searcher:
    """Searcher holds one database connection and answers searches one at a
    time (vecdb_last_scan() reports this session's last scan, so a search and
    the question about its strategy must not interleave with another)."""

    def __init__(self, conninfo):
        self.conninfo = conninfo
        self.conn = psycopg.connect(**conninfo, autocommit=True)
        self.lock = threading.Lock()
        digits = load_digits()
        if not digits_table_ready(self.conn, len(digits.data)):
            print("table digits is missing or differs from the terminal demo's: loading it", flush=True)
            load_digits_table(self.conn, digits.data, digits.target)
        self.rows = self.conn.execute("SELECT count(*) FROM digits").fetchone()[0]
        self.indexdef = self.conn.execute("SELECT pg_get_indexdef(%s::regclass)", (INDEX,)).fetchone()[0]

    def search(self, query_id, label, k):
        """search returns the k nearest neighbours of digit query_id (of the
        given label when label is not None) with the SQL, times and plan. A
        lost connection (the server restarted, or a failover: a multi-host
        --dsn then finds the new primary) is opened again and the search
        retried once."""
        with self.lock:
            try:
                return self._search(query_id, label, k)
            except psycopg.OperationalError:
                if not self.conn.closed:
                    raise
                print("database connection lost: reconnecting", flush=True)
                self.conn = psycopg.connect(**self.conninfo, autocommit=True)
                return self._search(query_id, label, k)

    def _search(self, query_id, label, k):
        """_search is search over the current connection (under the lock)."""
        found = self.conn.execute("SELECT label, image, image::real[] FROM digits WHERE id = %s",
                                  (query_id,)).fetchone()
        if found is None:
            raise LookupError(f"no digit with id {query_id}")
        query_label, query_image, query_pixels = found
        sql = SEARCH_SQL.format(label="" if label is None else " AND label = $4")
        params = [query_image, query_id, k] + ([] if label is None else [label])
        # psycopg takes %s placeholders and sends them as $1, $2, ...:
        # number them so that $1 may appear twice.
        client_sql = sql
        for n in range(len(params), 0, -1):
            client_sql = client_sql.replace(f"${n}", f"%(p{n})s")
        named = {f"p{n + 1}": v for n, v in enumerate(params)}
        plan = self.conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + client_sql, named).fetchone()[0][0]
        start = time.perf_counter()
        rows = self.conn.execute(client_sql, named).fetchall()
        round_trip_ms = (time.perf_counter() - start) * 1000
        node = scan_node(plan["Plan"])
        segments = []
        if node.get("Index Name") == INDEX:
            segments = [dict(zip(("segment", "kind", "strategy", "rows", "allowed", "returned"), r))
                        for r in self.conn.execute(
                            "SELECT segment, kind, strategy, rows, allowed, returned "
                            "FROM vecdb_last_scan() ORDER BY segment NULLS LAST").fetchall()]
        shown = sql.replace("$2", str(query_id)).replace("$3", str(k))
        if label is not None:
            shown = shown.replace("$4", str(label))
        return {
            "query": {"id": query_id, "label": query_label, "pixels": query_pixels},
            "filter": label,
            "k": k,
            "results": [{"id": i, "label": lab, "pixels": px, "distance": round(d, 4)}
                        for i, lab, px, d in rows],
            "sql": shown + f";\n-- $1: the image of digit #{query_id} (a vector of 64 values)",
            "execution_ms": plan["Execution Time"],
            "planning_ms": plan["Planning Time"],
            "round_trip_ms": round_trip_ms,
            "plan": node["Node Type"] + (f" using {node['Index Name']}" if "Index Name" in node else ""),
            "segments": segments,
        }


def scan_node(plan):
    """scan_node returns the plan node that reads table digits (under a Limit
    and perhaps a Sort)."""
    while "Relation Name" not in plan and plan.get("Plans"):
        plan = plan["Plans"][0]
    return plan


def make_handler(searcher):
    """make_handler returns the request handler class bound to a searcher."""

    class Handler(BaseHTTPRequestHandler):
        """Handler serves the static page and the JSON endpoints."""

        def do_GET(self):
            """do_GET answers one GET request."""
            url = urlparse(self.path)
            if url.path in STATIC:
                name, ctype = STATIC[url.path]
                with open(os.path.join(WEB_DIR, name), "rb") as f:
                    self.reply(200, ctype, f.read())
            elif url.path == "/api/info":
                self.reply_json(200, {"rows": searcher.rows, "index": searcher.indexdef})
            elif url.path == "/api/search":
                self.search(parse_qs(url.query))
            else:
                self.reply_json(404, {"error": f"not found: {url.path}"})

        def search(self, query):
            """search validates the parameters and answers a search."""
            try:
                query_id = int(query["id"][0])
                label = query.get("label", [""])[0]
                label = int(label) if label != "" else None
                k = int(query.get("k", ["8"])[0])
                if not 1 <= k <= MAX_K or (label is not None and not 0 <= label <= 9):
                    raise ValueError
            except (KeyError, ValueError):
                self.reply_json(400, {"error": f"expected id=N, optional label=0..9 and k=1..{MAX_K}"})
                return
            try:
                self.reply_json(200, searcher.search(query_id, label, k))
            except LookupError as e:
                self.reply_json(404, {"error": str(e)})
            except psycopg.Error as e:
                self.reply_json(500, {"error": str(e).strip()})

        def reply_json(self, status, obj):
            """reply_json sends obj as JSON."""
            self.reply(status, "application/json", json.dumps(obj).encode())

        def reply(self, status, ctype, body):
            """reply sends a complete response."""
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            """log_message keeps the terminal quiet unless asked (--verbose)."""
            if VERBOSE:
                super().log_message(fmt, *args)

    return Handler


def bind(handler, port, tries):
    """bind starts an HTTP server on 127.0.0.1 at the first free port from port on."""
    for p in range(port, port + tries):
        try:
            return ThreadingHTTPServer(("127.0.0.1", p), handler)
        except OSError as e:
            if e.errno != errno.EADDRINUSE or port == 0:
                raise
    sys.exit(f"no free port in {port}..{port + tries - 1}")


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default=os.environ.get("VECDB_DSN"),
                    help="libpq connection string instead of --host/--port (default $VECDB_DSN), such as a "
                         "multi-host one with target_session_attrs=read-write")
    ap.add_argument("--host", help="database server socket directory or host")
    ap.add_argument("--port", type=int, help="database server port")
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--http-port", type=int, default=8765,
                    help="first port to try for the page (the next free one is taken; 0: any)")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args()
    VERBOSE = args.verbose

    if not args.dsn and not (args.host and args.port):
        ap.error("give --dsn, or --host and --port")
    searcher = Searcher({"conninfo": args.dsn} if args.dsn
                        else {"host": args.host, "port": args.port, "dbname": args.dbname, "user": args.user})
    server = bind(make_handler(searcher), args.http_port, 100)
    print(f"web demo: http://127.0.0.1:{server.server_address[1]}/  ({searcher.rows} digits; Ctrl-C stops)",
          flush=True)
    # Ctrl-C and kill end the server even where SIGINT came in ignored (a
    # background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("web demo stopped", flush=True)
    finally:
        server.server_close()
        searcher.conn.close()


if __name__ == "__main__":
    main()
