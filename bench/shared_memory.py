#!/usr/bin/python3
"""shared_memory.py measures what one shared copy of each index per server,
instead of one private copy per backend, is meant to change, for vecdb and
pgvector side by side in one run, on the harness' data (bench/harness.py):

  1. the first k-NN query in a new connection (index built, queried before);
  2. a backend's memory after one query, alone and summed over many backends;
  3. QPS at recall >= target with 1, 2, 4, 8 clients, the server's time per
     query and the connection's floor (a query that only parses the vector);
  4. query time and shared buffers per query with rows inserted after CREATE
     INDEX (vecdb's growing segment), over the case without them;
  5. the first query in each backend after a VACUUM that compacted them;
  and the first query after a server restart.
--large runs 1,000,000 rows: build, restart, QPS and memory only.

Run it through bench/shared_memory.sh, which builds and installs vecdb and
starts the servers; see bench/README.md."""
import argparse
import datetime
import hashlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

INDEX = "USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)"
KNN = "SELECT id FROM items ORDER BY embedding <-> %s::vector LIMIT %s"
FLOOR = "SELECT %s::vector IS NULL"
EF_LADDER = [10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 200, 256, 320, 400, 500, 640, 800, 1000]
PG_BIN = "/usr/lib/postgresql/15/bin"


def log(msg):
    """log prints a progress line on stderr."""
    print(f"[shared_memory {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(xs):
    """median returns the median of a non-empty list, else None."""
    return float(statistics.median(xs)) if xs else None


class System:
    """System is one extension under test: where its database lives and how
    to reach it."""

    def __init__(self, label, extension, host, port, dbname, datadir, dsn=None):
        self.label = label
        self.dsn = dsn
        self.extension = extension
        self.host = host
        self.port = port
        self.dbname = dbname
        self.datadir = datadir

    def conninfo(self, dbname=None, ef=40):
        """conninfo returns psycopg.connect's keywords; hnsw.ef_search is set
        at connection start, so the first statement can be the query. With
        a libpq connection string (dsn: a multi-host one finds the primary)
        its database is used unless dbname is given."""
        if self.dsn:
            info = {"conninfo": self.dsn, "autocommit": True, "options": f"-c hnsw.ef_search={ef}"}
            if dbname:
                info["dbname"] = dbname
            return info
        return {"host": self.host, "port": self.port, "dbname": dbname or self.dbname, "user": "postgres",
                "autocommit": True, "options": f"-c hnsw.ef_search={ef}"}

    def connect(self, dbname=None, ef=40):
        """connect opens a new connection (a new backend)."""
        return psycopg.connect(**self.conninfo(dbname, ef))

    def postmaster_pid(self):
        """postmaster_pid reads the server's PID from its data directory."""
        with open(os.path.join(self.datadir, "postmaster.pid")) as fh:
            return int(fh.readline())


# --- memory -----------------------------------------------------------------

def smaps(pid):
    """smaps returns a backend's memory in kB: smaps_rollup's fields, plus
    private_noshm (Private_Clean + Private_Dirty outside shared mappings, so
    shared-memory pages only this process touched are not counted twice) and
    pss_shm (Pss of shared mappings: shared buffers, DSM)."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    shared = False
    out["private_noshm"] = 0
    out["pss_shm"] = 0
    with open(f"/proc/{pid}/smaps") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            if not parts[0].endswith(":"):
                shared = len(parts) > 1 and parts[1].endswith("s")
            elif parts[0] in ("Private_Clean:", "Private_Dirty:") and not shared:
                out["private_noshm"] += int(parts[1])
            elif parts[0] == "Pss:" and shared:
                out["pss_shm"] += int(parts[1])
    out["private"] = out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)
    return out


def server_pids(system):
    """server_pids returns the postmaster's PID and its children's."""
    pm = system.postmaster_pid()
    pids = [pm]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pm:
            pids.append(int(entry))
    return pids


def server_pss_mb(system):
    """server_pss_mb returns the Pss summed over every process of the server
    (its whole physical memory, shared buffers it touched included), in MB,
    and how many processes that is."""
    total = 0
    pids = server_pids(system)
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0, len(pids)


def mem_summary(samples):
    """mem_summary turns smaps() samples into medians and sums in MB."""
    def col(key):
        return [s[key] / 1024.0 for s in samples]
    return {
        "backends": len(samples),
        "private_mb": median(col("private")),
        "private_noshm_mb": median(col("private_noshm")),
        "pss_mb": median(col("Pss")),
        "pss_shmem_mb": median(col("pss_shm")),
        "rss_mb": median(col("Rss")),
        "sum_private_noshm_plus_pss_shmem_mb": sum(col("private_noshm")) + sum(col("pss_shm")),
        "sum_private_plus_pss_shmem_mb": sum(col("private")) + sum(col("pss_shm")),
        "sum_pss_mb": sum(col("Pss")),
    }


# --- queries ----------------------------------------------------------------

def timed(conn, sql, params, prepare=None):
    """timed runs a statement, fetches its rows and returns (ms, rows)."""
    t = time.perf_counter()
    rows = conn.execute(sql, params, prepare=prepare).fetchall()
    return (time.perf_counter() - t) * 1000.0, rows


def explain(conn, sql, params):
    """explain runs EXPLAIN (ANALYZE, BUFFERS) and returns planning and
    execution ms and the shared buffers the top node hit and read."""
    plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()[0][0]
    top = plan["Plan"]
    return {"planning_ms": plan.get("Planning Time"), "execution_ms": plan["Execution Time"],
            "shared_hit": top.get("Shared Hit Blocks", 0), "shared_read": top.get("Shared Read Blocks", 0)}


def set_ef(conn, ef):
    """set_ef sets hnsw.ef_search for the session."""
    conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef),))


def recall_of(rows_list, gt, k):
    """recall_of returns recall@k of result rows against the exact ids."""
    hits = sum(len({r[0] for r in rows}.intersection(gt[i][:k].tolist())) for i, rows in enumerate(rows_list))
    return hits / (k * len(rows_list))


def run_sequence(conn, lits, k, ids, warmup=10):
    """run_sequence runs the prepared k-NN query for lits[ids] after a warm-up
    and returns (rows per query, latencies ms, wall seconds)."""
    for i in ids[:warmup]:
        conn.execute(KNN, (lits[i], k), prepare=True).fetchall()
    rows, lat = [], []
    t0 = time.perf_counter()
    for i in ids:
        ms, r = timed(conn, KNN, (lits[i], k), prepare=True)
        rows.append(r)
        lat.append(ms)
    return rows, lat, time.perf_counter() - t0


def fresh_first_queries(system, lits, k, count, offset, explain_too=True, ef=40):
    """fresh_first_queries opens count new connections one after the other;
    in each it times the first k-NN query, a second one and, in another
    count connections, EXPLAIN ANALYZE as the first statement (planning vs
    execution), and reads the backend's memory after its first query."""
    first, second, mem = [], [], []
    for c in range(count):
        with system.connect(ef=ef) as conn:
            pid = conn.info.backend_pid
            ms, _ = timed(conn, KNN, (lits[offset + c], k))
            mem.append(smaps(pid))
            first.append(ms)
            second.append(timed(conn, KNN, (lits[offset + c + 1], k))[0])
    out = {"connections": count, "first_ms": first, "first_ms_median": median(first),
           "second_ms_median": median(second), "memory_after_one_query": mem_summary(mem)}
    if explain_too:
        plans = []
        for c in range(count):
            with system.connect(ef=ef) as conn:
                plans.append(explain(conn, KNN, (lits[offset + c], k)))
        out["explain_first_planning_ms_median"] = median([p["planning_ms"] for p in plans])
        out["explain_first_execution_ms_median"] = median([p["execution_ms"] for p in plans])
        out["explain_first_shared_blocks_median"] = median([p["shared_hit"] + p["shared_read"] for p in plans])
    return out


def many_backends(system, lits, k, count):
    """many_backends opens count connections, runs one k-NN query in each,
    and with all of them open reads their memory and the server's."""
    conns = [system.connect() for _ in range(count)]
    try:
        pids = [c.info.backend_pid for c in conns]
        before = [smaps(p) for p in pids]
        first = [timed(c, KNN, (lits[i], k))[0] for i, c in enumerate(conns)]
        after = [smaps(p) for p in pids]
        server_mb, nproc = server_pss_mb(system)
    finally:
        for c in conns:
            c.close()
    out = mem_summary(after)
    out["before_query"] = mem_summary(before)
    out["private_growth_mb_median"] = median([(a["private"] - b["private"]) / 1024.0 for a, b in zip(after, before)])
    out["private_noshm_growth_mb_median"] = median([(a["private_noshm"] - b["private_noshm"]) / 1024.0
                                                    for a, b in zip(after, before)])
    out["server_total_pss_mb"] = server_mb
    out["server_processes"] = nproc
    out["first_ms_median"] = median(first)
    return out


def _client(conninfo, sql, params, nq, offset, barrier, results):
    """_client is one concurrent client: its own connection, a warm-up, then
    nq prepared statements after every client is ready."""
    with psycopg.connect(**conninfo) as conn:
        for j in range(10):
            conn.execute(sql, params(offset + j), prepare=True).fetchall()
        barrier.wait()
        lat = []
        t0 = time.monotonic()
        for j in range(nq):
            t = time.monotonic()
            conn.execute(sql, params(offset + j), prepare=True).fetchall()
            lat.append((time.monotonic() - t) * 1000.0)
        t1 = time.monotonic()
    results.put((t0, t1, float(np.median(lat))))


def concurrent(system, sql, params, ef, clients, nq):
    """concurrent runs clients processes of nq queries each and returns the
    total QPS (all queries over first start to last end) and the median of
    the clients' median latencies."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients, timeout=600)
    results = ctx.Queue()
    conninfo = system.conninfo(ef=ef or 40)
    procs = [ctx.Process(target=_client, args=(conninfo, sql, params, nq, c * 97, barrier, results))
             for c in range(clients)]
    for p in procs:
        p.start()
    got = [results.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"{system.label}: a client exited with {p.exitcode}")
    start = min(g[0] for g in got)
    end = max(g[1] for g in got)
    return {"clients": clients, "queries": clients * nq, "qps": clients * nq / (end - start),
            "p50_ms": median([g[2] for g in got])}


# --- steps ------------------------------------------------------------------

def setup(system, base, cat, price, d):
    """setup creates the database, loads the table, builds the index and runs
    one query in that connection; returns load and build facts."""
    with system.connect("postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (system.dbname,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {system.dbname}")
    with system.connect() as conn:
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {system.extension}")
        log(f"{system.label}: loading {len(base)} rows through COPY")
        load_s = harness.load_table(conn, base, cat, price, d)
        conn.execute("ALTER TABLE items SET (autovacuum_enabled = false)")
        log(f"{system.label}: CREATE INDEX items_embedding_idx ON items {INDEX}")
        t = time.perf_counter()
        conn.execute(f"CREATE INDEX items_embedding_idx ON items {INDEX}")
        build_s = time.perf_counter() - t
        conn.execute(KNN, ("[" + ",".join(["0"] * d) + "]", 10)).fetchall()
        return {
            "extension": system.extension,
            "extversion": conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                                       (system.extension,)).fetchone()[0],
            "port": system.port, "datadir": system.datadir, "database": system.dbname,
            "shared_preload_libraries": conn.execute("SHOW shared_preload_libraries").fetchone()[0],
            "shared_buffers": conn.execute("SHOW shared_buffers").fetchone()[0],
            "maintenance_work_mem": conn.execute("SHOW maintenance_work_mem").fetchone()[0],
            "load_s": load_s, "build_s": build_s,
            "table_mb": harness.relation_size(conn, "items") / 2**20,
            "index_mb": harness.relation_size(conn, "items_embedding_idx") / 2**20,
        }


def pick_ef(system, lits, gt, k, target):
    """pick_ef walks up EF_LADDER over all queries (one connection) until
    recall@k reaches target; returns the chosen ef and the walk."""
    walk = []
    with system.connect() as conn:
        ids = list(range(len(lits)))
        for ef in EF_LADDER:
            if ef < k:
                continue
            set_ef(conn, ef)
            rows, lat, wall = run_sequence(conn, lits, k, ids)
            rec = recall_of(rows, gt, k)
            walk.append({"ef_search": ef, "recall": rec, "qps_one_client": len(ids) / wall,
                         "p50_ms": median(lat)})
            log(f"{system.label}: ef_search {ef}: recall {rec:.4f}, {len(ids) / wall:.0f} QPS")
            if rec >= target:
                return ef, walk
    return walk[-1]["ef_search"], walk


def qps_step(system, lits, gt, k, target, clients_list, nq, sample):
    """qps_step picks ef_search for the target recall, then measures QPS with
    each client count, the server's time per query and the floor."""
    ef, walk = pick_ef(system, lits, gt, k, target)
    out = {"ef_search": ef, "recall": walk[-1]["recall"], "ef_walk": walk, "knn": [], "floor": []}
    for c in clients_list:
        r = concurrent(system, KNN, lambda j: (lits[j % len(lits)], k), ef, c, nq)
        f = concurrent(system, FLOOR, lambda j: (lits[j % len(lits)],), None, c, nq)
        log(f"{system.label}: {c} clients: {r['qps']:.0f} QPS (floor {f['qps']:.0f})")
        out["knn"].append(r)
        out["floor"].append(f)
    with system.connect() as conn:
        set_ef(conn, ef)
        run_sequence(conn, lits, k, list(range(10)))
        plans = [explain(conn, KNN, (lits[i], k)) for i in range(sample)]
        out["server_ms_median"] = median([p["execution_ms"] for p in plans])
        out["planning_ms_median"] = median([p["planning_ms"] for p in plans])
        out["shared_blocks_median"] = median([p["shared_hit"] + p["shared_read"] for p in plans])
        fl = [timed(conn, FLOOR, (lits[i],), prepare=True)[0] for i in range(sample)]
        out["floor_client_ms_median"] = median(fl)
    return out


def file_md5(path):
    """file_md5 returns a file's md5 in hex."""
    with open(path, "rb") as fh:
        return hashlib.md5(fh.read()).hexdigest()


def restart(systems, args, meta):
    """restart restarts each server once (pg_ctl restart keeps its options).
    A restarted postmaster loads the vecdb.so installed now, which another
    work tree may have replaced: under the install lock (unless the caller
    holds it), this tree's build is installed again if the md5 differs."""
    lock = None
    if args.install_lock:
        import fcntl
        lock = open(args.install_lock, "w")
        log(f"waiting for {args.install_lock}")
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        if args.vecdb_so and args.vecdb_so_md5 and file_md5(args.vecdb_so) != args.vecdb_so_md5:
            log(f"{args.vecdb_so} was replaced since the start: installing this tree's build again")
            meta["vecdb_so_found_replaced_before_restart"] = file_md5(args.vecdb_so)
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            cmd = ["make", "install", f"PG_CONFIG={PG_BIN}/pg_config"]
            subprocess.run(cmd if os.geteuid() == 0 else ["sudo"] + cmd, cwd=root, check=True,
                           stdout=subprocess.DEVNULL)
            if file_md5(args.vecdb_so) != args.vecdb_so_md5:
                sys.exit("the reinstalled vecdb.so differs from the one the run started with")
        done = set()
        for s in systems:
            if s.datadir in done:
                continue
            done.add(s.datadir)
            cmd = [f"{PG_BIN}/pg_ctl", "-D", s.datadir, "-l", os.path.join(s.datadir, "server.log"),
                   "-m", "fast", "-w", "-t", "120", "restart"]
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--"] + cmd
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd="/")
            log(f"restarted {s.datadir} in {time.perf_counter() - t:.1f} s")
    finally:
        if lock is not None:
            lock.close()


def index_info(conn, system):
    """index_info returns vecdb's segment list (None for pgvector)."""
    if system.extension != "vecdb":
        return None
    cur = conn.execute("SELECT segment, kind, rows, deleted, bytes FROM vecdb_index_info('items_embedding_idx')")
    return [dict(zip(["segment", "kind", "rows", "deleted", "bytes"], r)) for r in cur.fetchall()]


def state_measure(system, conn, lits, gt, k, ef, sample, fresh, offset):
    """state_measure measures the table as it is now: in the warm connection
    conn the first query since the change, then steady state (client p50 and
    recall over sample queries, EXPLAIN (ANALYZE, BUFFERS) median over half
    as many), and the first query of fresh new connections."""
    set_ef(conn, ef)
    first_warm_ms, _ = timed(conn, KNN, (lits[offset], k), prepare=True)
    ids = list(range(sample))
    rows, lat, _ = run_sequence(conn, lits, k, ids)
    plans = [explain(conn, KNN, (lits[i], k)) for i in range(max(1, sample // 2))]
    out = {
        "rows_in_table": conn.execute("SELECT count(*) FROM items").fetchone()[0],
        "first_query_warm_backend_ms": first_warm_ms,
        "client_p50_ms": median(lat), "recall": recall_of(rows, gt, k),
        "execution_ms_median": median([p["execution_ms"] for p in plans]),
        "shared_hit_median": median([p["shared_hit"] for p in plans]),
        "shared_read_median": median([p["shared_read"] for p in plans]),
        "shared_blocks_median": median([p["shared_hit"] + p["shared_read"] for p in plans]),
        "segments": index_info(conn, system),
    }
    if system.extension == "vecdb":
        conn.execute(KNN, (lits[0], k)).fetchall()
        out["last_scan"] = [dict(zip(["segment", "kind", "strategy", "rows", "returned"], r)) for r in conn.execute(
            "SELECT segment, kind, strategy, rows, returned FROM vecdb_last_scan()").fetchall()]
    if fresh:
        f = fresh_first_queries(system, lits, k, fresh, offset + 1, explain_too=False, ef=ef)
        out["fresh_first_ms_median"] = f["first_ms_median"]
        out["fresh_private_mb_median"] = f["memory_after_one_query"]["private_mb"]
        out["fresh_pss_mb_median"] = f["memory_after_one_query"]["pss_mb"]
    return out


def insert_rows(conn, extra, start_id, count, first):
    """insert_rows COPYs extra[first:first + count] into items with ids from
    start_id + first; returns seconds."""
    t = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY items (id, category, price, embedding) FROM STDIN") as copy:
            for j in range(first, first + count):
                copy.write_row((start_id + j, 4 + j % 39, float(j % 100), harness.vec_literal(extra[j])))
    return time.perf_counter() - t


def growing_step(system, lits, queries, base, extra, k, ef, growing, sample, fresh, before_vacuum):
    """growing_step inserts growing[0] rows after CREATE INDEX and measures;
    VACUUMs (first query in backends open across it, and in new ones) and
    measures again; then inserts growing[1] rows and measures, and so on.
    Each grown state is compared with the state just before its inserts."""
    n = len(base)
    out = {"states": [], "vacuums": []}
    inserted = 0
    with system.connect() as conn:
        baseline = state_measure(system, conn, lits, gt_for(base, extra, 0, queries, k, sample), k, ef, sample,
                                 fresh, 200)
        baseline["label"] = "no growing rows"
        out["states"].append(baseline)
        for i, g in enumerate(growing):
            log(f"{system.label}: inserting {g} rows after CREATE INDEX")
            ins_s = insert_rows(conn, extra, n, g, inserted)
            inserted += g
            st = state_measure(system, conn, lits, gt_for(base, extra, inserted, queries, k, sample), k, ef,
                               sample, fresh, 300 + 20 * i)
            st.update({"label": f"{g} rows inserted after the index (no VACUUM)", "inserted": g,
                       "insert_s": ins_s, "insert_rows_per_s": g / ins_s,
                       "added_execution_ms": st["execution_ms_median"] - baseline["execution_ms_median"],
                       "added_client_p50_ms": st["client_p50_ms"] - baseline["client_p50_ms"]})
            out["states"].append(st)
            log(f"{system.label}: {g} growing rows: +{st['added_execution_ms']:.3f} ms server, "
                f"{st['shared_blocks_median']:.0f} shared blocks per query")
            if i == len(growing) - 1:
                break
            out["vacuums"].append(vacuum_step(system, conn, lits, k, ef, g, before_vacuum))
            baseline = state_measure(system, conn, lits, gt_for(base, extra, inserted, queries, k, sample), k,
                                     ef, sample, 0, 400 + 20 * i)
            baseline["label"] = f"after VACUUM of {g} growing rows"
            out["states"].append(baseline)
    return out


def vacuum_step(system, conn, lits, k, ef, growing_rows, nbackends):
    """vacuum_step opens nbackends connections that each run a query, VACUUMs
    the table in conn, then times the first query in each of those backends
    and in as many new connections."""
    old = [system.connect(ef=ef) for _ in range(nbackends)]
    try:
        for i, c in enumerate(old):
            c.execute(KNN, (lits[500 + i], k)).fetchall()
        before = index_info(conn, system)
        t = time.perf_counter()
        conn.execute("VACUUM items")
        vac_s = time.perf_counter() - t
        after = index_info(conn, system)
        log(f"{system.label}: VACUUM of {growing_rows} growing rows in {vac_s:.1f} s")
        first_old = [timed(c, KNN, (lits[600 + i], k))[0] for i, c in enumerate(old)]
        second_old = [timed(c, KNN, (lits[700 + i], k))[0] for i, c in enumerate(old)]
    finally:
        for c in old:
            c.close()
    first_new = []
    for i in range(nbackends):
        with system.connect(ef=ef) as c:
            first_new.append(timed(c, KNN, (lits[800 + i], k))[0])
    return {"growing_rows": growing_rows, "vacuum_s": vac_s, "segments_before": before, "segments_after": after,
            "existing_backend_first_ms_median": median(first_old),
            "existing_backend_second_ms_median": median(second_old),
            "new_backend_first_ms_median": median(first_new), "backends": nbackends}


_GT_CACHE = {}


def gt_for(base, extra, inserted, queries, k, sample):
    """gt_for returns exact top-k ids for the first sample queries over the
    base rows plus the first inserted extra rows (ids continue after base)."""
    key = (inserted, sample)
    if key not in _GT_CACHE:
        rows = base if inserted == 0 else np.vstack([base, extra[:inserted]])
        _GT_CACHE[key] = harness.exact_knn(rows, queries[:sample], k)
    return _GT_CACHE[key]


# --- report -----------------------------------------------------------------

def fmt(v, spec=".1f", unit=""):
    """fmt formats a number or returns '-'."""
    if v is None:
        return "-"
    return f"{v:{spec}}{unit}"


def table(res):
    """table renders the results as markdown rows: one per metric, one column
    per system."""
    labels = list(res["systems"])
    head = ["| metric | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    lines = []

    def row(name, fn):
        vals = []
        for lb in labels:
            try:
                vals.append(fn(lb))
            except (KeyError, IndexError, TypeError):
                vals.append("-")
        lines.append(f"| {name} | " + " | ".join(vals) + " |")

    S = res["systems"]
    st = res["steps"]
    row("extension version", lambda lb: S[lb]["extversion"])
    row("server shared_preload_libraries", lambda lb: S[lb]["shared_preload_libraries"] or "(none)")
    row("load (COPY + VACUUM ANALYZE) s", lambda lb: fmt(S[lb]["load_s"]))
    row("index build s", lambda lb: fmt(S[lb]["build_s"]))
    row("index MB / table MB", lambda lb: f"{S[lb]['index_mb']:.0f} / {S[lb]['table_mb']:.0f}")
    fq = st["first_query"]
    row("**1. first query, new connection** (ef 40), median ms",
        lambda lb: fmt(fq[lb]["first_ms_median"], ".2f"))
    row("  second query in that connection, ms", lambda lb: fmt(fq[lb]["second_ms_median"], ".2f"))
    row("  first as EXPLAIN ANALYZE: planning / execution ms",
        lambda lb: f"{fq[lb]['explain_first_planning_ms_median']:.2f} / "
                   f"{fq[lb]['explain_first_execution_ms_median']:.2f}")
    row("  first as EXPLAIN: shared blocks", lambda lb: fmt(fq[lb]["explain_first_shared_blocks_median"], ".0f"))
    m1 = {lb: fq[lb]["memory_after_one_query"] for lb in labels}
    row("**2. one backend after one query**: Private_Clean+Dirty MB", lambda lb: fmt(m1[lb]["private_mb"]))
    row("  private outside shared memory MB", lambda lb: fmt(m1[lb]["private_noshm_mb"]))
    row("  Pss MB (of which shared memory)",
        lambda lb: f"{m1[lb]['pss_mb']:.1f} ({m1[lb]['pss_shmem_mb']:.1f})")
    mb = st["memory"]
    nb = next(iter(mb.values()))["backends"]
    row(f"  {nb} backends: private (outside shm) growth per backend from its query, MB",
        lambda lb: fmt(mb[lb]["private_noshm_growth_mb_median"]))
    row(f"  {nb} backends: Σ private (outside shm) + Σ shm Pss, MB",
        lambda lb: fmt(mb[lb]["sum_private_noshm_plus_pss_shmem_mb"]))
    row(f"  {nb} backends: Σ Private_Clean+Dirty + Σ shm Pss, MB",
        lambda lb: fmt(mb[lb]["sum_private_plus_pss_shmem_mb"]))
    row(f"  {nb} backends: Σ Pss MB", lambda lb: fmt(mb[lb]["sum_pss_mb"]))
    row(f"  whole server Σ Pss with {nb} backends open, MB (processes)",
        lambda lb: f"{mb[lb]['server_total_pss_mb']:.1f} ({mb[lb]['server_processes']})")
    q = st["qps"]
    row(f"**3. ef_search for recall ≥ {res['meta']['target_recall']}** (recall@{res['meta']['k']})",
        lambda lb: f"{q[lb]['ef_search']} ({q[lb]['recall']:.4f})")
    for i, c in enumerate(res["meta"]["clients"]):
        row(f"  QPS, {c} client{'s' if c > 1 else ''} (floor QPS)",
            lambda lb, i=i: f"{q[lb]['knn'][i]['qps']:,.0f} ({q[lb]['floor'][i]['qps']:,.0f})")
    row("  p50 ms, 1 client (floor p50 ms)",
        lambda lb: f"{q[lb]['knn'][0]['p50_ms']:.3f} ({q[lb]['floor'][0]['p50_ms']:.3f})")
    row("  server time per query (EXPLAIN ANALYZE median) ms", lambda lb: fmt(q[lb]["server_ms_median"], ".3f"))
    row("  shared blocks per query", lambda lb: fmt(q[lb]["shared_blocks_median"], ".0f"))
    if "restart" in st:
        r = st["restart"]
        row("**restart → very first query** ms", lambda lb: fmt(r[lb]["very_first_ms"], ".1f"))
        row("  then first query in new connections, median ms", lambda lb: fmt(r[lb]["first_ms_median"], ".2f"))
        if all("prewarm_ms" in r[lb] for lb in r):
            row("  restart, prewarm (vecdb_prewarm / pg_prewarm) ms", lambda lb: fmt(r[lb]["prewarm_ms"], ".1f"))
            row("  then very first query, new connection, ms",
                lambda lb: fmt(r[lb]["very_first_after_prewarm_ms"], ".1f"))
    if "growing" in st:
        g = st["growing"]
        nstates = len(next(iter(g.values()))["states"])
        for i in range(nstates):
            s0 = next(iter(g.values()))["states"][i]
            name = s0["label"]
            row(f"**4. {name}**: server ms (client p50 ms)",
                lambda lb, i=i: f"{g[lb]['states'][i]['execution_ms_median']:.3f} "
                                f"({g[lb]['states'][i]['client_p50_ms']:.3f})")
            if "added_execution_ms" in s0:
                row("  added server ms (added client ms)",
                    lambda lb, i=i: f"+{g[lb]['states'][i]['added_execution_ms']:.3f} "
                                    f"(+{g[lb]['states'][i]['added_client_p50_ms']:.3f})")
                row("  insert rows/s (COPY)", lambda lb, i=i: fmt(g[lb]["states"][i]["insert_rows_per_s"], ",.0f"))
                row("  first query in the warm backend after the inserts, ms",
                    lambda lb, i=i: fmt(g[lb]["states"][i]["first_query_warm_backend_ms"], ".2f"))
            row("  shared blocks per query: hit / read",
                lambda lb, i=i: f"{g[lb]['states'][i]['shared_hit_median']:.0f} / "
                                f"{g[lb]['states'][i]['shared_read_median']:.0f}")
            row("  recall@k", lambda lb, i=i: fmt(g[lb]["states"][i]["recall"], ".4f"))
            if "fresh_first_ms_median" in s0:
                row("  first query, new connection, ms (private MB after it)",
                    lambda lb, i=i: f"{g[lb]['states'][i]['fresh_first_ms_median']:.2f} "
                                    f"({g[lb]['states'][i]['fresh_private_mb_median']:.1f})")
        for j, v0 in enumerate(next(iter(g.values()))["vacuums"]):
            row(f"**5. VACUUM compacting {v0['growing_rows']} growing rows**, s",
                lambda lb, j=j: fmt(g[lb]["vacuums"][j]["vacuum_s"], ".2f"))
            row(f"  first query after it in {v0['backends']} backends open before, median ms",
                lambda lb, j=j: fmt(g[lb]["vacuums"][j]["existing_backend_first_ms_median"], ".2f"))
            row("  second query in those backends, median ms",
                lambda lb, j=j: fmt(g[lb]["vacuums"][j]["existing_backend_second_ms_median"], ".2f"))
            row("  first query in new backends after it, median ms",
                lambda lb, j=j: fmt(g[lb]["vacuums"][j]["new_backend_first_ms_median"], ".2f"))
    return "\n".join(head + lines)


def replaced_note(meta):
    """replaced_note says whether another work tree installed vecdb.so during the run."""
    if meta.get("vecdb_so_md5_at_end", meta["vecdb_so_md5_at_start"]) == meta["vecdb_so_md5_at_start"]:
        return ""
    return (" (another build was installed during the run; the server kept the file it had loaded"
            + ("; this build was installed again before the restart"
               if "vecdb_so_found_replaced_before_restart" in meta else "") + ")")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", required=True, help="socket directory of the servers")
    ap.add_argument("--vecdb-port", type=int, required=True)
    ap.add_argument("--vecdb-datadir", required=True)
    ap.add_argument("--vecdb-dbname", default="bench_vecdb")
    ap.add_argument("--pgvector-port", type=int, required=True)
    ap.add_argument("--pgvector-datadir", required=True)
    ap.add_argument("--server-opts", default="", help="recorded in the JSON")
    ap.add_argument("--pgvector-server-opts", default="", help="recorded in the JSON")
    ap.add_argument("--vecdb-so", default="", help="path of the installed vecdb.so")
    ap.add_argument("--vecdb-so-md5", default="", help="its md5 when the server started")
    ap.add_argument("--install-lock", default="",
                    help="lock file to hold around a restart (empty: the caller holds it)")
    ap.add_argument("--large", action="store_true", help="1,000,000 rows: build, restart, QPS, memory")
    ap.add_argument("--n", type=int, default=None, help="rows (100000; --large: 1000000)")
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--connections", type=int, default=10, help="fresh connections for first-query medians")
    ap.add_argument("--backends", type=int, default=None, help="backends open at once for memory (16; --large: 8)")
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--client-queries", type=int, default=1000, help="queries per client")
    ap.add_argument("--target-recall", type=float, default=0.95)
    ap.add_argument("--explain-sample", type=int, default=100)
    ap.add_argument("--growing", default="10000,100000",
                    help="rows inserted after CREATE INDEX, in turn; VACUUM between (empty: skip steps 4, 5)")
    ap.add_argument("--growing-sample", type=int, default=200, help="queries per state in step 4")
    ap.add_argument("--fresh", type=int, default=5, help="new connections per state in step 4")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    if args.n is None:
        args.n = 1000000 if args.large else 100000
    if args.backends is None:
        args.backends = 8 if args.large else 16
    growing = [] if args.large or not args.growing else [int(x) for x in args.growing.split(",")]
    clients = [int(x) for x in args.clients.split(",")]
    os.makedirs(args.out, exist_ok=True)

    started = time.time()
    base, queries, cat, price, gt_all = harness.load_or_make(args)
    gt = gt_all["none"]
    lits = [harness.vec_literal(q) for q in queries]
    need = args.connections * 2 + args.backends + 2
    if len(lits) < max(need, 900):
        sys.exit(f"need at least {max(need, 900)} queries")
    extra = None
    if growing:
        log(f"drawing {sum(growing)} more rows from the same mixture")
        extra = harness.make_dataset(args.n + sum(growing), args.d, 1, args.clusters, args.seed)[0][args.n:]

    systems = [System("vecdb", "vecdb", args.host, args.vecdb_port, args.vecdb_dbname, args.vecdb_datadir),
               System("pgvector", "pgvector_ref", args.host, args.pgvector_port, "bench_pgvector",
                      args.pgvector_datadir)]
    res = {"meta": {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "n": args.n, "d": args.d, "queries": args.queries, "k": args.k, "clusters": args.clusters,
        "seed": args.seed, "large": args.large, "index": INDEX, "target_recall": args.target_recall,
        "clients": clients, "client_queries": args.client_queries, "connections": args.connections,
        "backends": args.backends, "growing": growing, "explain_sample": args.explain_sample,
        "growing_sample": args.growing_sample, "server_opts": args.server_opts,
        "pgvector_server_opts": args.pgvector_server_opts,
        "same_server": args.vecdb_datadir == args.pgvector_datadir,
        "vecdb_so": args.vecdb_so, "vecdb_so_md5_at_start": args.vecdb_so_md5,
        "cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
        "systems": {}, "steps": {}}
    try:
        res["meta"]["git_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                                   cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        pass
    steps = res["steps"]

    for s in systems:
        res["systems"][s.label] = setup(s, base, cat, price, args.d)
    with systems[0].connect() as conn:
        res["meta"]["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        res["meta"]["simd"] = conn.execute("SELECT vecdb_simd_level()").fetchone()[0]

    log("step 1: first query in new connections")
    steps["first_query"] = {s.label: fresh_first_queries(s, lits, args.k, args.connections, 0) for s in systems}
    log(f"step 2: memory of {args.backends} backends")
    steps["memory"] = {s.label: many_backends(s, lits, args.k, args.backends) for s in systems}
    log("step 3: QPS at the target recall")
    res["meta"]["loadavg_qps"] = os.getloadavg()
    steps["qps"] = {s.label: qps_step(s, lits, gt, args.k, args.target_recall, clients, args.client_queries,
                                      args.explain_sample) for s in systems}
    log("restart -> first query")
    restart(systems, args, res["meta"])
    steps["restart"] = {}
    for s in systems:
        with s.connect() as conn:
            very_first, _ = timed(conn, KNN, (lits[0], args.k))
        f = fresh_first_queries(s, lits, args.k, args.connections, 20, explain_too=False)
        steps["restart"][s.label] = {"very_first_ms": very_first, "first_ms_median": f["first_ms_median"],
                                     "memory_after_one_query": f["memory_after_one_query"]}
    # once more, now loading the index before the first query: vecdb_prewarm
    # for vecdb, pg_prewarm (index into shared_buffers) for pgvector
    restart(systems, args, res["meta"])
    for s in systems:
        with s.connect() as conn:
            t = time.perf_counter()
            if s.label == "vecdb":
                conn.execute("SELECT vecdb_prewarm('items_embedding_idx')")
            else:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                conn.execute("SELECT pg_prewarm('items_embedding_idx')")
            prewarm_ms = (time.perf_counter() - t) * 1000
        with s.connect() as conn:
            very_first, _ = timed(conn, KNN, (lits[0], args.k))
        steps["restart"][s.label].update({"prewarm_ms": prewarm_ms, "very_first_after_prewarm_ms": very_first})
    if growing:
        log("steps 4 and 5: rows inserted after CREATE INDEX, VACUUM")
        res["meta"]["loadavg_growing"] = os.getloadavg()
        steps["growing"] = {s.label: growing_step(s, lits, queries, base, extra, args.k,
                                                  steps["qps"][s.label]["ef_search"], growing,
                                                  args.growing_sample, args.fresh, args.connections)
                            for s in systems}

    res["meta"]["loadavg_end"] = os.getloadavg()
    res["meta"]["wall_s"] = time.time() - started
    if args.vecdb_so and os.path.exists(args.vecdb_so):
        res["meta"]["vecdb_so_md5_at_end"] = file_md5(args.vecdb_so)
        pm = systems[0].postmaster_pid()
        with open(f"/proc/{pm}/maps") as fh:
            maps = [line for line in fh if "vecdb.so" in line]
        res["meta"]["postmaster_maps_vecdb_so"] = bool(maps)
        res["meta"]["postmaster_vecdb_so_deleted"] = any("(deleted)" in line for line in maps)
    md = table(res)
    meta = res["meta"]
    header = (f"**shared-memory benchmark** — N = {meta['n']}, d = {meta['d']}, {meta['queries']} queries, "
              f"k = {meta['k']}, {INDEX}; vecdb server options: `{meta['server_opts']}`; pgvector "
              + ("in another database of the same server" if meta["same_server"] else
                 f"on a twin server (`{meta['pgvector_server_opts']}`)")
              + f"; {meta['cpus']} CPUs, load average {meta['loadavg_start'][0]:.2f} at start, "
              f"{meta['loadavg_end'][0]:.2f} at end; {meta['wall_s'] / 60:.1f} min; vecdb.so md5 "
              f"{meta['vecdb_so_md5_at_start'][:12]}" + replaced_note(meta))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(args.out, f"shared_memory-{stamp}.json")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=2)
    with open(path[:-5] + ".md", "w") as fh:
        fh.write(header + "\n\n" + md + "\n")
    print(header + "\n\n" + md)
    log(f"wrote {path} and .md")


if __name__ == "__main__":
    main()
