// drizzle.test.js runs Drizzle ORM's documented pgvector usage (its built-in
// vector, halfvec, sparsevec and bit columns and distance helpers) against vecdb.
'use strict';
const { Pool } = require('pg');
const { drizzle } = require('drizzle-orm/node-postgres');
const { sql, eq, l2Distance, cosineDistance, hammingDistance } = require('drizzle-orm');
const { pgTable, integer, vector, halfvec, sparsevec, bit } = require('drizzle-orm/pg-core');
const c = require('./common');

const items = pgTable('items', {
	id: integer('id').primaryKey(),
	embedding: vector('embedding', { dimensions: c.DIM }),
	half: halfvec('half', { dimensions: c.DIM }),
	sparse: sparsevec('sparse', { dimensions: c.DIM }),
	bits: bit('bits', { dimensions: c.DIM }),
	category: integer('category'),
});

// hamming counts the positions where two vectors' bit strings differ.
function hamming(a, b) {
	const x = c.bitString(a);
	const y = c.bitString(b);
	return [...x].filter((ch, i) => ch !== y[i]).length;
}

c.run('drizzle', async (t) => {
	const pool = new Pool({ ...c.pgConfig, max: 2 });
	const db = drizzle(pool);
	try {
		await db.execute(sql`CREATE EXTENSION IF NOT EXISTS vector`);
		await db.execute(sql`CREATE TABLE items (id integer PRIMARY KEY, embedding vector(3),
			half halfvec(3), sparse sparsevec(3), bits bit(3), category integer)`);
		await db.insert(items).values(t.rows.map((r) => ({
			id: r.id, embedding: r.embedding, half: r.embedding, sparse: c.sqlSparse(r.embedding),
			bits: c.bitString(r.embedding), category: r.category,
		})));
		await db.execute(sql`CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops, category)`);
		await db.execute(sql`CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops, category)`);
		await db.execute(sql`CREATE INDEX items_half ON items USING hnsw (half halfvec_l2_ops)`);
		await db.execute(sql`CREATE INDEX items_sparse ON items USING hnsw (sparse sparsevec_l2_ops)`);
		await db.execute(sql`CREATE INDEX items_bits ON items USING hnsw (bits bit_hamming_ops)`);

		const [row] = await db.select().from(items).where(eq(items.id, 7));
		const want = t.rows[6].embedding;
		t.vectorEquals('vector column', row.embedding, want);
		t.vectorEquals('halfvec column', row.half, want);
		t.check('sparsevec column', row.sparse === c.sqlSparse(want), `got ${row.sparse}, expected ${c.sqlSparse(want)}`);
		t.check('bit column', row.bits === c.bitString(want), `got ${row.bits}, expected ${c.bitString(want)}`);

		const ids = async (order, where) => {
			let q = db.select({ id: items.id }).from(items);
			if (where) q = q.where(where);
			return (await q.orderBy(order).limit(c.K)).map((r) => r.id);
		};
		t.order('L2 k-NN', await ids(l2Distance(items.embedding, c.QUERY)), c.l2);
		t.order('cosine k-NN', await ids(cosineDistance(items.embedding, c.QUERY)), c.cosine);
		const filter = eq(items.category, c.FILTER_CATEGORY);
		t.order('filtered L2 k-NN', await ids(l2Distance(items.embedding, c.QUERY), filter), c.l2,
			(r) => r.category === c.FILTER_CATEGORY);
		const filtered = db.select({ id: items.id }).from(items).where(filter)
			.orderBy(l2Distance(items.embedding, c.QUERY)).limit(c.K).toSQL();
		t.usesIndex('filtered k-NN scans the index',
			(await pool.query('EXPLAIN ' + filtered.sql, filtered.params)).rows, 'items_l2');
		t.order('halfvec L2 k-NN', await ids(l2Distance(items.half, c.QUERY)), c.l2);
		t.order('sparsevec L2 k-NN', await ids(l2Distance(items.sparse, c.sqlSparse(c.QUERY))), c.l2);
		t.order('bit Hamming k-NN', await ids(hammingDistance(items.bits, c.bitString(c.QUERY))), hamming);
	} finally {
		await pool.end();
	}
});
