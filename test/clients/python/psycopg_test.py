"""psycopg_test.py runs vecdb through psycopg 3 in pgvector's documented wire
formats: text parameters, binary parameters and binary COPY, with small
dumpers and loaders for vector, halfvec and sparsevec (what pgvector-python's
register_vector installs), then k-NN through the hnsw index."""
import struct
from dataclasses import dataclass

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo

import common as c


@dataclass
class Vector:
    """Vector is a value sent as a vector."""
    values: list


@dataclass
class HalfVector:
    """HalfVector is a value sent as a halfvec."""
    values: list


@dataclass
class SparseVector:
    """SparseVector is a value sent as a sparsevec, built from a dense list."""
    values: list


# Binary forms (big-endian), as pgvector documents them and src/types/ reads them:
# vector: int16 dim, int16 unused, dim float4; halfvec: the same with float2;
# sparsevec: int32 dim, int32 nnz, int32 unused, nnz int32 0-based indices, nnz float4.
def vector_to_binary(v):
    return struct.pack(f">HH{len(v)}f", len(v), 0, *v)


def halfvec_to_binary(v):
    return struct.pack(f">HH{len(v)}e", len(v), 0, *v)


def sparsevec_to_binary(v):
    nz = [(i, x) for i, x in enumerate(v) if x != 0]
    return struct.pack(f">iii{len(nz)}i{len(nz)}f", len(v), len(nz), 0,
                       *[i for i, _ in nz], *[x for _, x in nz])


def vector_from_binary(data, code):
    dim, unused = struct.unpack_from(">HH", data)
    return list(struct.unpack_from(f">{dim}{code}", data, 4))


def sparsevec_from_binary(data):
    dim, nnz, _ = struct.unpack_from(">iii", data)
    indices = struct.unpack_from(f">{nnz}i", data, 12)
    values = struct.unpack_from(f">{nnz}f", data, 12 + 4 * nnz)
    dense = [0.0] * dim
    for i, x in zip(indices, values):
        dense[i] = x
    return dense


def sparse_text(v):
    return "{" + ",".join(f"{i + 1}:{float(x)!r}" for i, x in enumerate(v) if x != 0) + "}/" + str(len(v))


def sparsevec_from_text(s):
    body, dim = s.split("/")
    dense = [0.0] * int(dim)
    for part in filter(None, body[1:-1].split(",")):
        i, x = part.split(":")
        dense[int(i) - 1] = float(x)
    return dense


def register(conn):
    """register installs text and binary dumpers and loaders for the three
    types on conn, under the OIDs this database gave them."""
    for typname, cls, to_text, to_binary, from_text, from_binary in [
        ("vector", Vector, lambda v: c.sql_vector(v), vector_to_binary,
         lambda s: [float(x) for x in s[1:-1].split(",")], lambda b: vector_from_binary(b, "f")),
        ("halfvec", HalfVector, lambda v: c.sql_vector(v), halfvec_to_binary,
         lambda s: [float(x) for x in s[1:-1].split(",")], lambda b: vector_from_binary(b, "e")),
        ("sparsevec", SparseVector, sparse_text, sparsevec_to_binary,
         sparsevec_from_text, sparsevec_from_binary),
    ]:
        info = TypeInfo.fetch(conn, typname)
        info.register(conn)

        def text_dump(self, obj, f=to_text):
            return f(obj.values).encode()

        def binary_dump(self, obj, f=to_binary):
            return f(obj.values)

        def text_load(self, data, f=from_text):
            return f(bytes(data).decode())

        def binary_load(self, data, f=from_binary):
            return f(bytes(data))

        conn.adapters.register_dumper(cls, type(f"{typname}TextDumper", (Dumper,),
                                                {"oid": info.oid, "format": Format.TEXT, "dump": text_dump}))
        conn.adapters.register_dumper(cls, type(f"{typname}BinaryDumper", (Dumper,),
                                                {"oid": info.oid, "format": Format.BINARY, "dump": binary_dump}))
        conn.adapters.register_loader(info.oid, type(f"{typname}TextLoader", (Loader,),
                                                     {"format": Format.TEXT, "load": text_load}))
        conn.adapters.register_loader(info.oid, type(f"{typname}BinaryLoader", (Loader,),
                                                     {"format": Format.BINARY, "load": binary_load}))


def body(t):
    with psycopg.connect(**c.conninfo(), options=c.SESSION_OPTIONS, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register(conn)
        conn.execute("""CREATE TABLE items (id integer PRIMARY KEY, embedding vector(3),
                        half halfvec(3), sparse sparsevec(3), category integer)""")
        insert = "INSERT INTO items VALUES (%s, %s, %s, %s, %s)"
        params = lambda r: (r["id"], Vector(r["embedding"]), HalfVector(r["embedding"]),
                            SparseVector(r["embedding"]), r["category"])
        with conn.cursor() as cur:
            # rows 1-20 as text parameters, 21-40 as binary parameters, 41-60 by binary COPY
            cur.executemany(insert, [params(r) for r in t.rows[:20]])
            cur.executemany(insert.replace("%s", "%b"), [params(r) for r in t.rows[20:40]])
            with cur.copy("COPY items (id, embedding, half, sparse, category) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "vector", "halfvec", "sparsevec", "int4"])
                for r in t.rows[40:]:
                    copy.write_row(params(r))
        conn.execute("CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops, category)")
        conn.execute("CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops, category)")

        # the server's text output checks what each path wrote, in all three columns
        stored = {i: ([float(x) for x in e[1:-1].split(",")], [float(x) for x in h[1:-1].split(",")],
                      sparsevec_from_text(s))
                  for i, e, h, s in conn.execute("SELECT id, embedding::text, half::text, sparse::text FROM items")}
        for name, part in [("text parameters", t.rows[:20]), ("binary parameters", t.rows[20:40]),
                           ("binary COPY", t.rows[40:])]:
            bad = [r["id"] for r in part if stored.get(r["id"]) != (r["embedding"],) * 3]
            t.check(f"{name} store the rows' vectors", len(bad) == 0, f"rows {bad}: {[stored.get(i) for i in bad]}")
        for binary in (False, True):
            row = conn.cursor(binary=binary).execute("SELECT embedding, half, sparse FROM items WHERE id = 47").fetchone()
            fmt = "binary" if binary else "text"
            want = t.rows[46]["embedding"]
            t.vector_equals(f"vector read back ({fmt} results)", row[0], want)
            t.vector_equals(f"halfvec read back ({fmt} results)", row[1], want)
            t.vector_equals(f"sparsevec read back ({fmt} results)", row[2], want)
        with conn.cursor() as cur:
            with cur.copy("COPY (SELECT embedding, half, sparse FROM items WHERE id = 7) TO STDOUT WITH (FORMAT BINARY)") as copy:
                copy.set_types(["vector", "halfvec", "sparsevec"])
                out = list(copy.rows())
        t.check("binary COPY TO reads the three types", len(out) == 1 and all(v == t.rows[6]["embedding"] for v in out[0]),
                repr(out))

        q = Vector(c.QUERY)
        ids = lambda sql, p, binary=False: [r[0] for r in conn.cursor(binary=binary).execute(sql, p).fetchall()]
        t.order("L2 k-NN (text parameter)", ids("SELECT id FROM items ORDER BY embedding <-> %s LIMIT 5", (q,)), c.l2)
        t.order("cosine k-NN (binary parameter)",
                ids("SELECT id FROM items ORDER BY embedding <=> %b LIMIT 5", (q,), True), c.cosine)
        filtered = "SELECT id FROM items WHERE category = %b ORDER BY embedding <-> %b LIMIT 5"
        t.order("filtered L2 k-NN (binary parameters)", ids(filtered, (c.FILTER_CATEGORY, q), True), c.l2,
                lambda r: r["category"] == c.FILTER_CATEGORY)
        plan = [r[0] for r in conn.execute("EXPLAIN " + filtered, (c.FILTER_CATEGORY, q)).fetchall()]
        t.uses_index("filtered k-NN scans the index", plan, "items_l2")
        t.order("halfvec L2 k-NN (binary parameter)",
                ids("SELECT id FROM items ORDER BY half <-> %b LIMIT 5", (HalfVector(c.QUERY),), True), c.l2)
        t.order("sparsevec L2 k-NN (binary parameter)",
                ids("SELECT id FROM items ORDER BY sparse <-> %b LIMIT 5", (SparseVector(c.QUERY),), True), c.l2)


if __name__ == "__main__":
    c.run("psycopg", body)
