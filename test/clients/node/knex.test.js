// knex.test.js runs pgvector's documented Knex usage (pgvector/knex: vector,
// halfvec and sparsevec columns, distance helpers) against vecdb.
'use strict';
const Knex = require('knex');
const pgvector = require('pgvector/knex');
const { SparseVector } = require('pgvector');
const c = require('./common');

c.run('knex', async (t) => {
	const knex = Knex({ client: 'pg', connection: c.pgConfig, pool: { min: 1, max: 2 } });
	try {
		await knex.schema.enableExtension('vector');
		await knex.schema.createTable('items', (table) => {
			table.integer('id').primary();
			table.vector('embedding', { dimensions: c.DIM });
			table.halfvec('half', { dimensions: c.DIM });
			table.sparsevec('sparse', { dimensions: c.DIM });
			table.integer('category');
		});
		await knex('items').insert(t.rows.map((r) => ({
			id: r.id, embedding: pgvector.toSql(r.embedding), half: pgvector.toSql(r.embedding),
			sparse: pgvector.toSql(new SparseVector(r.embedding)), category: r.category,
		})));
		await knex.schema.alterTable('items', (table) => {
			table.index([knex.raw('embedding vector_l2_ops'), 'category'], 'items_l2', 'hnsw');
			table.index([knex.raw('embedding vector_cosine_ops'), 'category'], 'items_cos', 'hnsw');
		});

		const row = await knex('items').where('id', 7).first();
		const want = t.rows[6].embedding;
		t.vectorEquals('vector read back (fromSql)', pgvector.fromSql(row.embedding), want);
		t.vectorEquals('halfvec read back (fromSql)', pgvector.fromSql(row.half), want);
		t.vectorEquals('sparsevec read back (fromSql)', pgvector.fromSql(row.sparse).toArray(), want);

		const ids = async (query) => (await query).map((r) => r.id);
		t.order('L2 k-NN', await ids(knex('items').select('id').orderBy(knex.l2Distance('embedding', c.QUERY)).limit(c.K)), c.l2);
		t.order('cosine k-NN', await ids(knex('items').select('id').orderBy(knex.cosineDistance('embedding', c.QUERY)).limit(c.K)), c.cosine);
		const filtered = knex('items').select('id').where('category', c.FILTER_CATEGORY)
			.orderBy(knex.l2Distance('embedding', c.QUERY)).limit(c.K);
		t.order('filtered L2 k-NN', await ids(filtered.clone()), c.l2, (r) => r.category === c.FILTER_CATEGORY);
		const sql = filtered.toSQL();
		t.usesIndex('filtered k-NN scans the index', (await knex.raw('EXPLAIN ' + sql.sql, sql.bindings)).rows, 'items_l2');
	} finally {
		await knex.destroy();
	}
});
