// kysely.test.js runs pgvector's documented Kysely usage (pgvector/kysely:
// toSql, fromSql and distance helpers) against vecdb.
'use strict';
const { Pool } = require('pg');
const { Kysely, PostgresDialect, sql } = require('kysely');
const pgvector = require('pgvector/kysely');
const { l2Distance, cosineDistance } = require('pgvector/kysely');
const c = require('./common');

c.run('kysely', async (t) => {
	const db = new Kysely({ dialect: new PostgresDialect({ pool: new Pool({ ...c.pgConfig, max: 2 }) }) });
	try {
		await sql`CREATE EXTENSION IF NOT EXISTS vector`.execute(db);
		await db.schema.createTable('items')
			.addColumn('id', 'integer', (col) => col.primaryKey())
			.addColumn('embedding', sql`vector(3)`)
			.addColumn('category', 'integer')
			.execute();
		await db.insertInto('items').values(t.rows.map((r) => ({
			id: r.id, embedding: pgvector.toSql(r.embedding), category: r.category,
		}))).execute();
		await db.schema.createIndex('items_l2').on('items').using('hnsw')
			.expression(sql`embedding vector_l2_ops, category`).execute();
		await db.schema.createIndex('items_cos').on('items').using('hnsw')
			.expression(sql`embedding vector_cosine_ops, category`).execute();

		const row = await db.selectFrom('items').selectAll().where('id', '=', 7).executeTakeFirst();
		t.vectorEquals('vector read back (fromSql)', pgvector.fromSql(row.embedding), t.rows[6].embedding);

		const base = () => db.selectFrom('items').select('id');
		const ids = async (query) => (await query.execute()).map((r) => r.id);
		t.order('L2 k-NN', await ids(base().orderBy(l2Distance('embedding', c.QUERY)).limit(c.K)), c.l2);
		t.order('cosine k-NN', await ids(base().orderBy(cosineDistance('embedding', c.QUERY)).limit(c.K)), c.cosine);
		const filtered = base().where('category', '=', c.FILTER_CATEGORY)
			.orderBy(l2Distance('embedding', c.QUERY)).limit(c.K);
		t.order('filtered L2 k-NN', await ids(filtered), c.l2, (r) => r.category === c.FILTER_CATEGORY);
		const compiled = filtered.compile();
		const plan = await db.executeQuery({ ...compiled, sql: 'EXPLAIN ' + compiled.sql });
		t.usesIndex('filtered k-NN scans the index', plan.rows, 'items_l2');
	} finally {
		await db.destroy();
	}
});
