"""sqlalchemy_test.py runs vecdb through SQLAlchemy (Debian 12's 1.4, on
psycopg2) with a small user-defined vector type, as pgvector-python's
SQLAlchemy integration does: a declarative model, an hnsw index with a scalar
column declared on the table, ORM inserts and k-NN queries."""
from sqlalchemy import Column, Float, Index, Integer, bindparam, create_engine, text
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.types import UserDefinedType

import common as c


class Vector(UserDefinedType):
    """Vector is pgvector's vector(n) column type, read and written as lists."""
    cache_ok = True

    def __init__(self, dim=None):
        self.dim = dim

    def get_col_spec(self, **kw):
        return "VECTOR" if self.dim is None else f"VECTOR({self.dim})"

    def bind_processor(self, dialect):
        return lambda value: None if value is None else c.sql_vector(value)

    def result_processor(self, dialect, coltype):
        return lambda value: None if value is None else [float(x) for x in value[1:-1].split(",")]

    class comparator_factory(UserDefinedType.Comparator):
        """The distance operators, as SQL expressions of type float."""

        def l2_distance(self, other):
            return self.op("<->", return_type=Float)(other)

        def cosine_distance(self, other):
            return self.op("<=>", return_type=Float)(other)


Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, autoincrement=False)
    embedding = Column(Vector(c.DIM))
    category = Column(Integer)
    __table_args__ = (
        Index("items_l2", "embedding", "category", postgresql_using="hnsw",
              postgresql_ops={"embedding": "vector_l2_ops"}),
        Index("items_cos", "embedding", "category", postgresql_using="hnsw",
              postgresql_ops={"embedding": "vector_cosine_ops"}),
    )


def body(t):
    ci = c.conninfo()
    engine = create_engine(f"postgresql+psycopg2://{ci['user']}@/{ci['dbname']}",
                           connect_args={"host": ci["host"], "port": ci["port"], "options": c.SESSION_OPTIONS})
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all([Item(id=r["id"], embedding=r["embedding"], category=r["category"]) for r in t.rows])
            session.commit()

            t.vector_equals("Vector type read back", session.get(Item, 7).embedding, t.rows[6]["embedding"])
            ids = lambda q: [r.id for r in q.limit(c.K)]
            t.order("L2 k-NN", ids(session.query(Item.id).order_by(Item.embedding.l2_distance(c.QUERY))), c.l2)
            t.order("cosine k-NN", ids(session.query(Item.id).order_by(Item.embedding.cosine_distance(c.QUERY))),
                    c.cosine)
            t.order("filtered L2 k-NN",
                    ids(session.query(Item.id).filter(Item.category == c.FILTER_CATEGORY)
                        .order_by(Item.embedding.l2_distance(c.QUERY))),
                    c.l2, lambda r: r["category"] == c.FILTER_CATEGORY)
            explain = text("EXPLAIN SELECT id FROM items WHERE category = :category "
                           "ORDER BY embedding <-> :q LIMIT 5").bindparams(bindparam("q", type_=Vector(c.DIM)))
            plan = [r[0] for r in session.execute(explain, {"category": c.FILTER_CATEGORY, "q": c.QUERY})]
            t.uses_index("filtered k-NN scans the index", plan, "items_l2")
            distances = session.query(Item.embedding.l2_distance(c.QUERY)).order_by(Item.id).limit(3).all()
            t.check("distance expressions return floats",
                    all(abs(d - c.l2(r["embedding"], c.QUERY)) < 1e-5 for (d,), r in zip(distances, t.rows)),
                    repr(distances))
    finally:
        engine.dispose()


if __name__ == "__main__":
    c.run("sqlalchemy", body)
