// pg.test.js runs pgvector's documented node-postgres usage (the pgvector
// package's type parsers for vector, halfvec and sparsevec) against vecdb.
'use strict';
const pg = require('pg');
const pgvector = require('pgvector/pg');
const { SparseVector } = require('pgvector');
const c = require('./common');

c.run('node-postgres', async (t) => {
	const client = new pg.Client(c.pgConfig);
	await client.connect();
	try {
		await client.query('CREATE EXTENSION IF NOT EXISTS vector');
		const ext = await client.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
		t.check('CREATE EXTENSION vector reports a pgvector 0.8 release (0.8.x)', ext.rows.length === 1 && /^0\.8\.[0-9]+$/.test(ext.rows[0].extversion),
			JSON.stringify(ext.rows));
		await pgvector.registerTypes(client);

		await client.query(`CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3),
			half halfvec(3), sparse sparsevec(3), category int)`);
		for (const r of t.rows) {
			await client.query('INSERT INTO items VALUES ($1, $2, $3, $4, $5)', [r.id,
				pgvector.toSql(r.embedding), pgvector.toSql(r.embedding),
				pgvector.toSql(new SparseVector(r.embedding)), r.category]);
		}
		await client.query('CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops, category)');
		await client.query('CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops, category)');
		await client.query('CREATE INDEX items_half ON items USING hnsw (half halfvec_l2_ops)');
		await client.query('CREATE INDEX items_sparse ON items USING hnsw (sparse sparsevec_l2_ops)');

		const row = (await client.query('SELECT embedding, half, sparse FROM items WHERE id = 7')).rows[0];
		const want = t.rows[6].embedding;
		t.vectorEquals('vector parser', row.embedding, want);
		t.vectorEquals('halfvec parser', row.half, want);
		t.vectorEquals('sparsevec parser', row.sparse instanceof SparseVector ? row.sparse.toArray() : row.sparse, want);

		const q = pgvector.toSql(c.QUERY);
		const ids = async (sql, params) => (await client.query(sql, params)).rows.map((r) => r.id);
		t.order('L2 k-NN', await ids('SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5', [q]), c.l2);
		t.order('cosine k-NN', await ids('SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5', [q]), c.cosine);
		const filtered = 'SELECT id FROM items WHERE category = $2 ORDER BY embedding <-> $1 LIMIT 5';
		t.order('filtered L2 k-NN', await ids(filtered, [q, c.FILTER_CATEGORY]), c.l2,
			(r) => r.category === c.FILTER_CATEGORY);
		t.usesIndex('filtered k-NN scans the index', (await client.query('EXPLAIN ' + filtered,
			[q, c.FILTER_CATEGORY])).rows, 'items_l2');
		t.order('halfvec L2 k-NN', await ids('SELECT id FROM items ORDER BY half <-> $1 LIMIT 5', [q]), c.l2);
		t.order('sparsevec L2 k-NN', await ids('SELECT id FROM items ORDER BY sparse <-> $1 LIMIT 5',
			[pgvector.toSql(new SparseVector(c.QUERY))]), c.l2);
	} finally {
		await client.end();
	}
});
