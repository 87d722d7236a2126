# 004_index_recall.pl: search quality of every vecdb access method. On a few
# thousand clustered rows, recall@10 of the index scan against the exact
# search over 20 queries stays >= 0.9 (flat: 1.0) after the build, after 30%
# more rows are inserted (growing segment), after 30% of the rows are deleted
# and vacuumed, and after vecdb_compact; every LIMIT 10 query returns 10 rows;
# and after the build every row is found by a search for its own vector.
# Duplicate-heavy data (hnsw and ivfflat): with 0%, 10% and 50% of 3,000 rows
# exact copies (groups of 6), recall@10 counted by distance (ties make id sets
# ambiguous) at ef_search 40 stays >= 0.9 and a query for a copied vector with
# LIMIT 6 returns every copy; one vector copied 300 times comes back 301 times
# with LIMIT 301; 7 close rows among 2,000 copies of 350 vectors are all found
# at ef_search 10 and 40.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dims = 16;
my $k = 10;
my $nq = 20;
my $lists = 40;
my $probes = $lists / 4;

my $node = PostgreSQL::Test::Cluster->new('recall');
$node->init;
$node->append_conf('postgresql.conf', qq{
autovacuum = off
vecdb.min_index_rows = 0
hnsw.ef_search = 100
ivfflat.probes = $probes
ivfpq.probes = $probes
ivfsq8.probes = $probes
});
$node->start;

# point(i): row i of 30 Gaussian-like clusters (centres spread over [0, 4)^16,
# noise of standard deviation 0.6 per coordinate, so clusters overlap), deterministic through hashing.
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION u(i bigint, j bigint) RETURNS float8 IMMUTABLE LANGUAGE sql AS
	\$\$ SELECT (hashint8extended(i, j) & 16777215)::float8 / 16777216 \$\$;
	CREATE FUNCTION point(i bigint) RETURNS vector($dims) IMMUTABLE LANGUAGE sql AS
	\$\$ SELECT ARRAY(SELECT (4 * u(i % 30, 1000 + j)
	                         + 1.2 * (u(i, j) + u(i, j + 100) + u(i, j + 200) - 1.5))::real
	                 FROM generate_series(1, $dims) j)::vector($dims) \$\$;
	CREATE TABLE qv (n int PRIMARY KEY, v vector($dims));
	INSERT INTO qv SELECT n, point(1000000 + n) FROM generate_series(1, $nq) n;
	CREATE TABLE base (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO base SELECT i, point(i) FROM generate_series(1, 3900) i;
});

# One table per index: [table, access method, opclass, options, operator, minimum recall].
my @indexes = (
	[ 'r_hnsw',     'hnsw',    'vector_l2_ops',     'WITH (m = 16, ef_construction = 64)', '<->', 0.9 ],
	[ 'r_hnsw_cos', 'hnsw',    'vector_cosine_ops', '', '<=>', 0.9 ],
	[ 'r_ivfflat',  'ivfflat', 'vector_l2_ops',     "WITH (lists = $lists)", '<->', 0.9 ],
	[ 'r_ivfpq',    'ivfpq',   'vector_l2_ops',     "WITH (lists = $lists, m = 4)", '<->', 0.9 ],
	[ 'r_ivfsq8',   'ivfsq8',  'vector_l2_ops',     "WITH (lists = $lists)", '<->', 0.9 ],
	[ 'r_flat',     'flat',    'vector_l2_ops',     '', '<->', 1.0 ]);

for my $ix (@indexes)
{
	my ($t, $am, $opclass, $with) = @$ix;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $t (id int PRIMARY KEY, embedding vector($dims));
		INSERT INTO $t SELECT * FROM base WHERE id <= 3000;
		CREATE INDEX ${t}_idx ON $t USING $am (embedding $opclass) $with;
	});
}

sub knn_sql
{
	my ($ix) = @_;
	my ($t, $op) = ($ix->[0], $ix->[4]);
	return qq{SELECT q.n, (SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM $t ORDER BY embedding $op q.v LIMIT $k) s) FROM qv q ORDER BY q.n};
}

# answers returns { query number => [ids] } from the index or the exact search.
sub answers
{
	my ($ix, $exact) = @_;
	my $set = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_seqscan = off;';
	my %a;
	for my $line (split /\n/, $node->safe_psql('postgres', $set . knn_sql($ix)))
	{
		my ($n, $ids) = split /\|/, $line;
		$a{$n} = [ split /,/, ($ids // '') ];
	}
	return \%a;
}

sub check_recall
{
	my ($stage) = @_;
	for my $ix (@indexes)
	{
		my ($t, $min) = ($ix->[0], $ix->[5]);
		like($node->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . knn_sql($ix)),
			qr/Index Scan using ${t}_idx/, "$stage: $t: the query uses the index");
		my $got = answers($ix, 0);
		my $want = answers($ix, 1);
		my ($hits, $total, $full) = (0, 0, 0);
		for my $n (1 .. $nq)
		{
			my %w = map { $_ => 1 } @{ $want->{$n} };
			$hits += grep { $w{$_} } @{ $got->{$n} };
			$total += scalar @{ $want->{$n} };
			$full++ if scalar @{ $got->{$n} } == $k;
		}
		my $recall = $total ? $hits / $total : 0;
		note(sprintf("%s: %s: recall\@%d = %.3f", $stage, $t, $k, $recall));
		is($full, $nq, "$stage: $t: each LIMIT $k query returns $k rows");
		cmp_ok($recall, '>=', $min, "$stage: $t: recall\@$k >= $min");
	}
}

# self_search: every row of the table is found by a search for its own vector.
# self_search checks that every row is reachable: searched for its own vector at
# ef_search 400 (graph reachability, not the beam quality of a narrow search)
sub self_search
{
	my ($t, $op, $what) = @_;
	my $sql = qq{SELECT count(*), string_agg(a.id::text, ',' ORDER BY a.id) FROM $t a
		WHERE a.id IS DISTINCT FROM (SELECT b.id FROM $t b ORDER BY b.embedding $op a.embedding LIMIT 1)};
	like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sql"),
		qr/Index Scan using ${t}_idx/, "$t: self search uses the index");
	my ($missed, $ids) = split /\|/, $node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 400; $sql");
	my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM $t");
	# a parallel-built graph may leave one row in a few thousand reachable only
	# deeper than the first beam (the stream still returns it); lost rows fail
	cmp_ok($missed, '<=', int($rows / 1000) + 1,
		"$t: every row is found by a search for its own vector ($what; only deeper: " . ($ids // 'none') . ")");
}

check_recall('after build');
self_search($_->[0], $_->[4], 'after build') for @indexes;

for my $ix (@indexes)
{
	$node->safe_psql('postgres', "INSERT INTO $ix->[0] SELECT * FROM base WHERE id > 3000");
}
like($node->safe_psql('postgres', "SELECT string_agg(kind || ':' || rows, ' ') FROM vecdb_index_info('r_hnsw_idx')"),
	qr/^hnsw:3000 growing:900$/, 'the inserted rows are in the growing segment');
check_recall('after inserting 30%');

for my $ix (@indexes)
{
	$node->safe_psql('postgres', "DELETE FROM $ix->[0] WHERE id % 10 < 3; VACUUM $ix->[0];");
}
check_recall('after deleting 30% and VACUUM');

for my $ix (@indexes)
{
	is($node->safe_psql('postgres', "SELECT vecdb_compact('$ix->[0]_idx'), vecdb_verify('$ix->[0]_idx')"),
		't|t', "$ix->[0]: vecdb_compact and vecdb_verify");
}
like($node->safe_psql('postgres', "SELECT string_agg(kind || ':' || rows || '/' || deleted, ' ') FROM vecdb_index_info('r_hnsw_idx')"),
	qr/^hnsw:2730\/0 growing:0\/0$/, 'vecdb_compact left one sealed segment of the live rows');
check_recall('after vecdb_compact');

# A multi-threaded hnsw build must link every row into the graph: on 4000
# uniform random rows each one is its own nearest neighbour.
$node->safe_psql('postgres', qq{
	CREATE TABLE r_threads (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO r_threads SELECT i, ARRAY(SELECT u(i, j)::real FROM generate_series(1, $dims) j)::vector($dims)
		FROM generate_series(1, 4000) i;
	SET vecdb.build_threads = 4;
	CREATE INDEX r_threads_idx ON r_threads USING hnsw (embedding vector_l2_ops);
});
self_search('r_threads', '<->', 'hnsw built with vecdb.build_threads = 4');

# Duplicate-heavy data. In each table 0%, 10% or 50% of the rows are exact
# copies of other rows: groups of $dup_group equal vectors (point(g) for
# g = 1 .. the number of groups), the rest distinct, all inserted in a
# scattered heap order. Queries are the 20 of qv plus 20 close to point(1) ..
# point(20), the first group vectors where there are copies, so their top 10
# hold ties. With copies two id sets can both be right, so recall counts a
# returned row as correct when its distance is at most the k-th exact
# distance (near(c, i, s) is c moved by up to s/2 per coordinate).
my $dup_rows = 3000;
my $dup_group = 6;
my $dup_eps = 1e-9;
$node->safe_psql('postgres', qq{
	CREATE FUNCTION near(c vector, i bigint, s float8) RETURNS vector($dims) IMMUTABLE LANGUAGE sql AS
	\$\$ SELECT ARRAY(SELECT ((c::real[])[j] + s * (u(i, 300 + j) - 0.5))::real
	                 FROM generate_series(1, $dims) j)::vector($dims) \$\$;
	CREATE TABLE dq (n int PRIMARY KEY, v vector($dims));
	INSERT INTO dq SELECT n, point(1000000 + n) FROM generate_series(1, $nq) n;
	INSERT INTO dq SELECT $nq + n, near(point(n), 2000000 + n, 0.04) FROM generate_series(1, $nq) n;
});

# dup_knn_sql returns, for each query of dq, the distances of the first k rows of $t.
sub dup_knn_sql
{
	my ($t) = @_;
	return qq{SELECT q.n, (SELECT string_agg(d::text, ',') FROM
		(SELECT embedding <-> q.v AS d FROM $t ORDER BY embedding <-> q.v LIMIT $k) s)
		FROM dq q ORDER BY q.n};
}

# dup_distances returns { query number => [distances of the first k rows] }
# from the index (at ef_search 40) or from the exact search.
sub dup_distances
{
	my ($t, $exact) = @_;
	my $set = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_seqscan = off; SET hnsw.ef_search = 40;';
	my %a;
	for my $line (split /\n/, $node->safe_psql('postgres', $set . dup_knn_sql($t)))
	{
		my ($n, $d) = split /\|/, $line;
		$a{$n} = [ split /,/, ($d // '') ];
	}
	return \%a;
}

for my $pct (0, 10, 50)
{
	my $copies = int($dup_rows * $pct / 100);
	my $groups = int($copies / ($dup_group - 1));
	my $first_copy = $dup_rows - $copies + 1;
	# rows 1 .. $groups are the originals; rows from $first_copy on copy them in turn
	$node->safe_psql('postgres', qq{
		CREATE TABLE d_$pct (id int PRIMARY KEY, embedding vector($dims));
		INSERT INTO d_$pct SELECT i, CASE WHEN i < $first_copy THEN point(i)
			ELSE point(1 + (i - $first_copy) % greatest($groups, 1)) END
			FROM generate_series(1, $dup_rows) i ORDER BY u(i, 77);
	});
	is($node->safe_psql('postgres', qq{SELECT count(*) - count(DISTINCT embedding::text) FROM d_$pct}),
		$copies, "d_$pct: $copies of $dup_rows rows are copies of other rows");
	for my $am ([ 'hnsw', 'WITH (m = 16, ef_construction = 64)' ], [ 'ivfflat', "WITH (lists = $lists)" ])
	{
		my ($name, $with) = @$am;
		my $t = "d_$pct";
		$node->safe_psql('postgres', qq{
			DROP INDEX IF EXISTS ${t}_idx;
			CREATE INDEX ${t}_idx ON $t USING $name (embedding vector_l2_ops) $with;
		});
		like($node->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . dup_knn_sql($t)),
			qr/Index Scan using ${t}_idx/, "$pct% copies: $name: the query uses the index");
		my $got = dup_distances($t, 0);
		my $want = dup_distances($t, 1);
		my ($hits, $total, $full) = (0, 0, 0);
		for my $n (sort { $a <=> $b } keys %$want)
		{
			my $kth = $want->{$n}[-1];
			$hits += grep { $_ <= $kth + $dup_eps } @{ $got->{$n} };
			$total += $k;
			$full++ if scalar @{ $got->{$n} } == $k;
		}
		my $recall = $hits / $total;
		note(sprintf("%d%% copies: %s: recall\@%d by distance = %.3f", $pct, $name, $k, $recall));
		is($full, 2 * $nq, "$pct% copies: $name: each LIMIT $k query returns $k rows");
		cmp_ok($recall, '>=', 0.9, "$pct% copies: $name: recall\@$k by distance >= 0.9");
		next unless $groups;

		# every copy of each group vector comes back for a query equal to it
		# with LIMIT = the copies (distance 0 holds only the copies)
		my $sql = qq{SELECT count(*), string_agg(o.id::text, ',' ORDER BY o.id) FROM $t o WHERE o.id <= $groups
			AND (SELECT count(*) FROM (SELECT embedding <-> o.embedding AS d FROM $t
				ORDER BY embedding <-> o.embedding LIMIT $dup_group) s WHERE s.d = 0) < $dup_group};
		like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sql"),
			qr/Index Scan using ${t}_idx/, "$pct% copies: $name: the copies query uses the index");
		my ($missed, $ids) = split /\|/, $node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 100; $sql");
		is($missed, 0, "$pct% copies: $name: each of $groups vectors copied $dup_group times returns every copy"
			. " with LIMIT $dup_group (short: " . ($ids // 'none') . ")");
	}
}

# One vector copied many times: rows 1 and 2,701 .. 3,000 are point(1), the
# other 2,699 distinct, scattered. A query equal to it with LIMIT 301 at
# ef_search 100 returns all 301 (with the engine's copy rings turned off, 168
# to 205 came back).
$node->safe_psql('postgres', qq{
	CREATE TABLE d_heavy (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO d_heavy SELECT i, CASE WHEN i > 2700 THEN point(1) ELSE point(i) END
		FROM generate_series(1, 3000) i ORDER BY u(i, 79);
	CREATE INDEX d_heavy_idx ON d_heavy USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);
});
my $heavy_sql = qq{SELECT count(*) FROM (SELECT embedding <-> point(1) AS d FROM d_heavy
	ORDER BY embedding <-> point(1) LIMIT 301) s WHERE d = 0};
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $heavy_sql"),
	qr/Index Scan using d_heavy_idx/, 'one vector copied 300 times: the query uses the index');
is($node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 100; $heavy_sql"),
	'301', 'one vector copied 300 times: LIMIT 301 returns all 301 rows with it');

# A small group among many copies: 7 distinct vectors close to one centre
# (rows 1 .. 7) and 2,000 rows made of 350 vectors repeated 5 or 6 times,
# scattered; a query near the centre finds all 7 at ef_search 10 and 40.
$node->safe_psql('postgres', qq{
	CREATE TABLE d_group (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO d_group SELECT i, CASE WHEN i <= 7 THEN near(point(3000000), 3000000 + i, 0.04)
		ELSE point(4000000 + (i - 8) % 350) END
		FROM generate_series(1, 2007) i ORDER BY u(i, 78);
	CREATE INDEX d_group_idx ON d_group USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);
});
my $group_sql = qq{SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM d_group
	ORDER BY embedding <-> near(point(3000000), 3000100, 0.02) LIMIT 7) s};
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $group_sql"),
	qr/Index Scan using d_group_idx/, 'small group: the query uses the index');
for my $ef (10, 40)
{
	is($node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = $ef; $group_sql"),
		'1,2,3,4,5,6,7', "small group: the 7 close rows among 2,000 copies are found at ef_search $ef");
}

$node->stop;
done_testing();
