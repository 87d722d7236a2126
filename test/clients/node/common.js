// common.js holds what every Node.js client test shares: the connection
// settings, the rows, the hand-computed neighbours and the check counter.
'use strict';

const DIM = 3;
const ROWS = 60;
const K = 5;
const FILTER_CATEGORY = 2;
// QUERY is the vector every test searches for; its L2 and cosine orders differ.
const QUERY = [1, 0.5, -0.25];

// pgConfig is node-postgres' connection config, from the environment run.sh
// sets (PGHOST is the socket directory). The session option keeps the planner
// off sequential scans, so 60 rows are enough to search through the index.
const pgConfig = {
	host: process.env.PGHOST,
	port: Number(process.env.PGPORT),
	database: process.env.PGDATABASE,
	user: process.env.PGUSER || 'postgres',
	options: '-c enable_seqscan=off',
};

// makeRows returns ROWS rows {id, embedding, category} drawn from a fixed
// MINSTD generator (the Python tests draw the same rows). Coordinates are
// multiples of 1/16 in [-4, 4): exact in float32 and in float16, so halfvec
// columns hold the same values and hand-computed distances match the server's.
function makeRows() {
	let state = 20260101;
	const next = () => {
		state = (state * 48271) % 2147483647;
		return state;
	};
	const rows = [];
	for (let i = 1; i <= ROWS; i++) {
		const embedding = [];
		for (let d = 0; d < DIM; d++) embedding.push(((next() % 128) - 64) / 16);
		if (embedding.every((x) => x === 0)) embedding[0] = 1 / 16;
		rows.push({ id: i, embedding, category: i % 4 });
	}
	return rows;
}

// l2 returns the Euclidean distance of a and b.
function l2(a, b) {
	return Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) * (x - b[i]), 0));
}

// cosine returns 1 minus the cosine similarity of a and b.
function cosine(a, b) {
	const dot = a.reduce((s, x, i) => s + x * b[i], 0);
	const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
	return 1 - dot / (norm(a) * norm(b));
}

// nearest returns the K rows closest to query under dist among those that
// pass keep, as [{id, d}], ties broken by id.
function nearest(rows, query, dist, keep = () => true) {
	return rows
		.filter(keep)
		.map((r) => ({ id: r.id, d: dist(r.embedding, query) }))
		.sort((a, b) => a.d - b.d || a.id - b.id)
		.slice(0, K);
}

// sqlVector writes a JS array in pgvector's text form.
function sqlVector(v) {
	return '[' + v.join(',') + ']';
}

// sqlSparse writes a JS array in sparsevec's text form ({index:value,...}/dim, 1-based).
function sqlSparse(v) {
	const parts = [];
	v.forEach((x, i) => {
		if (x !== 0) parts.push(`${i + 1}:${x}`);
	});
	return `{${parts.join(',')}}/${v.length}`;
}

// bitString turns a vector into a bit string: 1 where the coordinate is positive.
function bitString(v) {
	return v.map((x) => (x > 0 ? '1' : '0')).join('');
}

// Checker counts and prints the checks of one library's test.
class Checker {
	constructor(name) {
		this.name = name;
		this.rows = makeRows();
		this.byId = new Map(this.rows.map((r) => [r.id, r]));
		this.passed = 0;
		this.failed = 0;
	}

	// check records one check: ok when cond holds, else not ok with detail.
	check(what, cond, detail) {
		if (cond) {
			this.passed++;
			console.log(`ok - ${this.name}: ${what}`);
		} else {
			this.failed++;
			console.log(`not ok - ${this.name}: ${what}${detail ? ': ' + detail : ''}`);
		}
	}

	// order checks that ids are the K nearest rows to query under dist among
	// those that pass keep. Rows at equal distance may come in either order,
	// so it compares the distances of the returned rows with the expected ones.
	order(what, ids, dist, keep = () => true, query = QUERY) {
		ids = ids.map(Number);
		const expected = nearest(this.rows, query, dist, keep);
		const got = ids.map((id) => (this.byId.has(id) ? dist(this.byId.get(id).embedding, query) : NaN));
		const ok =
			ids.length === expected.length &&
			new Set(ids).size === ids.length &&
			ids.every((id) => this.byId.has(id) && keep(this.byId.get(id))) &&
			got.every((d, i) => Math.abs(d - expected[i].d) <= 1e-5 * (1 + expected[i].d));
		this.check(what, ok, `got ids ${JSON.stringify(ids)}, expected ${JSON.stringify(expected.map((e) => e.id))}`);
	}

	// vectorEquals checks that a vector read back through the library equals the row's.
	vectorEquals(what, got, want) {
		const ok = Array.isArray(got) && got.length === want.length && got.every((x, i) => Number(x) === want[i]);
		this.check(what, ok, `got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
	}

	// usesIndex checks that an EXPLAIN output (rows of QUERY PLAN text) scans
	// the named index with the category condition inside it.
	usesIndex(what, planRows, index) {
		const plan = planRows.map((r) => (typeof r === 'string' ? r : r['QUERY PLAN'])).join('\n');
		const ok = plan.includes(`Index Scan using ${index}`) && /Index Cond: \(+category = /.test(plan);
		this.check(what, ok, 'plan:\n' + plan);
	}
}

// run runs one library's test body with a Checker, counts an uncaught error
// as a failed check, prints "<name>: N checks passed, M failed" and sets the
// exit status.
async function run(name, body) {
	const t = new Checker(name);
	try {
		await body(t);
	} catch (err) {
		t.check('runs to the end', false, (err && err.stack) || String(err));
	}
	console.log(`${name}: ${t.passed} checks passed, ${t.failed} failed`);
	process.exitCode = t.failed === 0 && t.passed > 0 ? 0 : 1;
}

module.exports = {
	DIM, ROWS, K, FILTER_CATEGORY, QUERY, pgConfig,
	makeRows, l2, cosine, nearest, sqlVector, sqlSparse, bitString, run,
};
