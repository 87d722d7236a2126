// sequelize.test.js runs pgvector's documented Sequelize usage
// (pgvector/sequelize: VECTOR, HALFVEC and SPARSEVEC types, distance helpers,
// an hnsw index declared on the model) against vecdb.
'use strict';
const { Sequelize, DataTypes } = require('sequelize');
const pgvector = require('pgvector/sequelize');
const { SparseVector } = require('pgvector');
const c = require('./common');

pgvector.registerTypes(Sequelize);

// connect opens a Sequelize instance on the test database.
function connect() {
	return new Sequelize(c.pgConfig.database, c.pgConfig.user, '', {
		dialect: 'postgres',
		host: c.pgConfig.host,
		port: c.pgConfig.port,
		dialectOptions: { options: c.pgConfig.options },
		pool: { max: 2 },
		logging: false,
	});
}

c.run('sequelize', async (t) => {
	// Sequelize reads the types' OIDs on its first connection, so the
	// extension is created first, as a migration would, by another instance.
	const migration = connect();
	try {
		await migration.query('CREATE EXTENSION IF NOT EXISTS vector');
	} finally {
		await migration.close();
	}
	const sequelize = connect();
	try {
		const Item = sequelize.define('Item', {
			id: { type: DataTypes.INTEGER, primaryKey: true },
			embedding: { type: DataTypes.VECTOR(c.DIM) },
			half: { type: DataTypes.HALFVEC(c.DIM) },
			sparse: { type: DataTypes.SPARSEVEC(c.DIM) },
			category: { type: DataTypes.INTEGER },
		}, {
			tableName: 'items',
			timestamps: false,
			indexes: [
				{ name: 'items_l2', using: 'hnsw', fields: [{ name: 'embedding', operator: 'vector_l2_ops' }, 'category'] },
				{ name: 'items_cos', using: 'hnsw', fields: [{ name: 'embedding', operator: 'vector_cosine_ops' }, 'category'] },
			],
		});
		await Item.sync();
		await Item.bulkCreate(t.rows.map((r) => ({
			id: r.id, embedding: r.embedding, half: r.embedding, sparse: new SparseVector(r.embedding), category: r.category,
		})));

		const row = await Item.findByPk(7);
		const want = t.rows[6].embedding;
		t.vectorEquals('VECTOR type', row.embedding, want);
		t.vectorEquals('HALFVEC type', row.half, want);
		t.vectorEquals('SPARSEVEC type', row.sparse instanceof SparseVector ? row.sparse.toArray() : row.sparse, want);

		const ids = async (order, where) => (await Item.findAll({ attributes: ['id'], where, order, limit: c.K })).map((r) => r.id);
		t.order('L2 k-NN', await ids(pgvector.l2Distance('embedding', c.QUERY, sequelize)), c.l2);
		t.order('cosine k-NN', await ids(pgvector.cosineDistance('embedding', c.QUERY, sequelize)), c.cosine);
		t.order('filtered L2 k-NN', await ids(pgvector.l2Distance('embedding', c.QUERY, sequelize), { category: c.FILTER_CATEGORY }),
			c.l2, (r) => r.category === c.FILTER_CATEGORY);
		const [plan] = await sequelize.query('EXPLAIN SELECT id FROM items WHERE category = $1 ORDER BY embedding <-> $2 LIMIT 5',
			{ bind: [c.FILTER_CATEGORY, c.sqlVector(c.QUERY)] });
		t.usesIndex('filtered k-NN scans the index', plan, 'items_l2');
		t.order('halfvec L2 k-NN', await ids(pgvector.l2Distance('half', c.QUERY, sequelize)), c.l2);
	} finally {
		await sequelize.close();
	}
});
