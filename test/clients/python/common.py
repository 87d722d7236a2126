"""common.py holds what the Python client tests share: the rows (the same as
the Node.js tests'), the hand-computed neighbours and the check counter."""
import math
import os
import sys
import traceback

DIM = 3
ROWS = 60
K = 5
FILTER_CATEGORY = 2
# QUERY is the vector every test searches for; its L2 and cosine orders differ.
QUERY = [1.0, 0.5, -0.25]
# SESSION_OPTIONS keep the planner off sequential scans, so 60 rows are
# enough to search through the index.
SESSION_OPTIONS = "-c enable_seqscan=off"


def make_rows():
    """make_rows returns ROWS rows {id, embedding, category} from a fixed MINSTD
    generator; coordinates are multiples of 1/16 in [-4, 4), exact in float32
    and float16."""
    state = 20260101
    rows = []
    for i in range(1, ROWS + 1):
        embedding = []
        for _ in range(DIM):
            state = (state * 48271) % 2147483647
            embedding.append(((state % 128) - 64) / 16)
        if all(x == 0 for x in embedding):
            embedding[0] = 1 / 16
        rows.append({"id": i, "embedding": embedding, "category": i % 4})
    return rows


def l2(a, b):
    """l2 returns the Euclidean distance of a and b."""
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def cosine(a, b):
    """cosine returns 1 minus the cosine similarity of a and b."""
    dot = sum(x * y for x, y in zip(a, b))
    return 1 - dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def nearest(rows, query, dist, keep=lambda r: True):
    """nearest returns the K rows closest to query under dist among those that
    pass keep, as [(id, distance)], ties broken by id."""
    found = sorted((dist(r["embedding"], query), r["id"]) for r in rows if keep(r))
    return [(i, d) for d, i in found[:K]]


def sql_vector(v):
    """sql_vector writes a list in pgvector's text form."""
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


class Checker:
    """Checker counts and prints the checks of one library's test."""

    def __init__(self, name):
        self.name = name
        self.rows = make_rows()
        self.by_id = {r["id"]: r for r in self.rows}
        self.passed = 0
        self.failed = 0

    def check(self, what, cond, detail=""):
        """check records one check: ok when cond holds, else not ok with detail."""
        if cond:
            self.passed += 1
            print(f"ok - {self.name}: {what}")
        else:
            self.failed += 1
            print(f"not ok - {self.name}: {what}" + (f": {detail}" if detail else ""))

    def order(self, what, ids, dist, keep=lambda r: True, query=QUERY):
        """order checks that ids are the K nearest rows to query under dist
        among those that pass keep; rows at equal distance may come in either
        order, so it compares the returned rows' distances with the expected."""
        ids = [int(i) for i in ids]
        expected = nearest(self.rows, query, dist, keep)
        ok = (len(ids) == len(expected) and len(set(ids)) == len(ids)
              and all(i in self.by_id and keep(self.by_id[i]) for i in ids)
              and all(abs(dist(self.by_id[i]["embedding"], query) - d) <= 1e-5 * (1 + d)
                      for i, (_, d) in zip(ids, expected)))
        self.check(what, ok, f"got ids {ids}, expected {[i for i, _ in expected]}")

    def vector_equals(self, what, got, want):
        """vector_equals checks that a vector read back equals the row's."""
        ok = got is not None and len(got) == len(want) and all(float(x) == y for x, y in zip(got, want))
        self.check(what, ok, f"got {got!r}, expected {want!r}")

    def uses_index(self, what, plan_lines, index):
        """uses_index checks that EXPLAIN output scans the named index with the
        category condition inside it."""
        plan = "\n".join(plan_lines)
        ok = f"Index Scan using {index}" in plan and "Index Cond: (category = " in plan.replace("((", "(")
        self.check(what, ok, "plan:\n" + plan)


def run(name, body):
    """run runs one library's test body with a Checker, counts an uncaught
    error as a failed check, prints "<name>: N checks passed, M failed" and
    exits non-zero on any failure."""
    t = Checker(name)
    try:
        body(t)
    except Exception:
        t.check("runs to the end", False, traceback.format_exc())
    print(f"{name}: {t.passed} checks passed, {t.failed} failed", flush=True)
    sys.exit(0 if t.failed == 0 and t.passed > 0 else 1)


def conninfo():
    """conninfo returns the libpq connection keywords run.sh's environment names."""
    return {"host": os.environ["PGHOST"], "port": os.environ["PGPORT"],
            "dbname": os.environ["PGDATABASE"], "user": os.environ.get("PGUSER", "postgres")}
