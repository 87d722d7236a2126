// typeorm.test.js runs TypeORM's native vector and halfvec columns against
// vecdb: an EntitySchema (no decorators, no build step), synchronize creating
// the extension and the table, the repository and the query builder.
'use strict';
const { DataSource, EntitySchema } = require('typeorm');
const c = require('./common');

const Item = new EntitySchema({
	name: 'Item',
	tableName: 'items',
	columns: {
		id: { type: 'int', primary: true },
		embedding: { type: 'vector', length: c.DIM },
		half: { type: 'halfvec', length: c.DIM },
		category: { type: 'int' },
	},
});

c.run('typeorm', async (t) => {
	const ds = new DataSource({
		type: 'postgres',
		host: c.pgConfig.host,
		port: c.pgConfig.port,
		username: c.pgConfig.user,
		database: c.pgConfig.database,
		extra: { options: c.pgConfig.options, max: 2 },
		entities: [Item],
		synchronize: true,
		logging: false,
	});
	await ds.initialize();
	try {
		const repo = ds.getRepository(Item);
		await repo.insert(t.rows.map((r) => ({ id: r.id, embedding: r.embedding, half: r.embedding, category: r.category })));
		await ds.query('CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops, category)');
		await ds.query('CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops, category)');
		const types = await ds.query(`SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
			WHERE attrelid = 'items'::regclass AND attname IN ('embedding', 'half') ORDER BY attname`);
		t.check('synchronize creates vector(3) and halfvec(3) columns',
			types.length === 2 && types[0].type === 'vector(3)' && types[1].type === 'halfvec(3)', JSON.stringify(types));

		const row = await repo.findOneBy({ id: 7 });
		t.vectorEquals('vector column', row.embedding, t.rows[6].embedding);
		t.vectorEquals('halfvec column', row.half, t.rows[6].embedding);

		const q = c.sqlVector(c.QUERY);
		const knn = (op, where) => {
			let qb = repo.createQueryBuilder('item').select('item.id', 'id');
			if (where) qb = qb.where('item.category = :category', { category: c.FILTER_CATEGORY });
			return qb.orderBy(`item.embedding ${op} :q`).setParameters({ q }).limit(c.K);
		};
		const ids = async (qb) => (await qb.getRawMany()).map((r) => r.id);
		t.order('L2 k-NN', await ids(knn('<->')), c.l2);
		t.order('cosine k-NN', await ids(knn('<=>')), c.cosine);
		t.order('filtered L2 k-NN', await ids(knn('<->', true)), c.l2, (r) => r.category === c.FILTER_CATEGORY);
		const [sql, params] = knn('<->', true).getQueryAndParameters();
		t.usesIndex('filtered k-NN scans the index', await ds.query('EXPLAIN ' + sql, params), 'items_l2');
		const raw = await ds.query('SELECT id FROM items ORDER BY half <-> $1 LIMIT 5', [q]);
		t.order('halfvec L2 k-NN (raw query)', raw.map((r) => r.id), c.l2);
	} finally {
		await ds.destroy();
	}
});
