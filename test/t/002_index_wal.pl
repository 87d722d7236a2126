# 002_index_wal.pl: every vecdb index access method is WAL-logged. The
# indexes are built, grown, vacuumed and compacted on a primary after a
# streaming hot standby was made from a base backup, so the standby only has
# them through WAL replay; at each step the standby's index scans return the
# primary's neighbours and vecdb_index_info reports the same segments. Then
# the primary crashes: its indexes answer as before, and an UNLOGGED table's
# index comes back empty (from its init fork) and usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dims = 16;
my $k = 10;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
autovacuum = off
vecdb.min_index_rows = 0
hnsw.ef_search = 100
ivfflat.probes = 4
ivfpq.probes = 4
ivfsq8.probes = 4
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vecdb');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# vec(i): a distinct deterministic vector per (real) i; bits(i): 64 bits.
$primary->safe_psql('postgres', qq{
	CREATE FUNCTION vec(i float8) RETURNS vector($dims) IMMUTABLE LANGUAGE sql AS
	\$\$ SELECT ARRAY(SELECT sin(i * (0.37 + j * 0.113) + j * 1.3)::real
	                 FROM generate_series(1, $dims) j)::vector($dims) \$\$;
	CREATE FUNCTION bits(i float8) RETURNS bit(64) IMMUTABLE LANGUAGE sql AS
	\$\$ SELECT string_agg(CASE WHEN sin(i * (0.29 + j * 0.071) + j * 2.1) > 0 THEN '1' ELSE '0' END, '')::bit(64)
	    FROM generate_series(1, 64) j \$\$;
	CREATE TABLE qv (n int PRIMARY KEY, v vector($dims), b bit(64));
	INSERT INTO qv SELECT n, vec(n * 7.77 + 0.5), bits(n * 7.77 + 0.5) FROM generate_series(1, 5) n;
});

# One table per index, so that the planner has a single index to choose.
my @indexes = (
	[ 't_hnsw_l2',  'hnsw',    'embedding vector_l2_ops',     'WITH (m = 12, ef_construction = 64)', '<->' ],
	[ 't_hnsw_cos', 'hnsw',    'embedding vector_cosine_ops', '', '<=>' ],
	[ 't_ivfflat',  'ivfflat', 'embedding vector_l2_ops',     'WITH (lists = 16)', '<->' ],
	[ 't_ivfpq',    'ivfpq',   'embedding vector_l2_ops',     'WITH (lists = 16, m = 4)', '<->' ],
	[ 't_ivfsq8',   'ivfsq8',  'embedding vector_l2_ops',     'WITH (lists = 16)', '<->' ],
	[ 't_flat',     'flat',    'embedding vector_l2_ops',     '', '<->' ],
	[ 't_bit',      'hnsw',    'bits bit_hamming_ops',        '', '<~>' ]);

sub column_of { my ($ix) = @_; return $ix->[2] =~ /^bits/ ? 'bits' : 'embedding'; }
sub qcol_of { my ($ix) = @_; return $ix->[2] =~ /^bits/ ? 'b' : 'v'; }

for my $ix (@indexes)
{
	my ($t, $am, $opclass, $with) = @$ix;
	$primary->safe_psql('postgres', qq{
		CREATE TABLE $t (id int PRIMARY KEY, embedding vector($dims), bits bit(64));
		INSERT INTO $t SELECT i, vec(i), bits(i) FROM generate_series(1, 1500) i;
		CREATE INDEX ${t}_idx ON $t USING $am ($opclass) $with;
	});
}

# The k nearest ids of each query vector, one line per query, ties by id.
sub knn_sql
{
	my ($ix) = @_;
	my ($t, $op) = ($ix->[0], $ix->[4]);
	my ($col, $qcol) = (column_of($ix), qcol_of($ix));
	return qq{SELECT q.n, (SELECT string_agg(id::text, ',' ORDER BY d, id) FROM
		(SELECT id, $col $op q.$qcol AS d FROM $t ORDER BY $col $op q.$qcol LIMIT $k) s)
		FROM qv q ORDER BY q.n};
}

sub knn
{
	my ($node, $ix, $exact) = @_;
	my $set = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_seqscan = off;';
	return $node->safe_psql('postgres', $set . knn_sql($ix));
}

sub info
{
	my ($node, $ix) = @_;
	return $node->safe_psql('postgres',
		"SELECT * FROM vecdb_index_info('$ix->[0]_idx') ORDER BY segment NULLS LAST");
}

# compare_all checks, for every index, that the standby's index scans and
# segment list equal the primary's; returns the primary's answers.
sub compare_all
{
	my ($stage) = @_;
	$primary->wait_for_catchup($standby);
	my %answers;
	for my $ix (@indexes)
	{
		my $t = $ix->[0];
		my $p = knn($primary, $ix, 0);
		$answers{$t} = $p;
		my @lines = split /\n/, $p;
		my $full = grep { /^\d+\|\d+(,\d+){9}$/ } @lines;
		is($full, 5, "$stage: $t: primary returns $k neighbours for each of 5 queries");
		is(knn($standby, $ix, 0), $p, "$stage: $t: standby returns the primary's neighbours");
		my $pi = info($primary, $ix);
		is(info($standby, $ix), $pi, "$stage: $t: standby's vecdb_index_info equals the primary's");
		like(
			$standby->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . knn_sql($ix)),
			qr/Index Scan using ${t}_idx/, "$stage: $t: standby plans an index scan");
	}
	# An exact index gives the exact answer.
	my ($flat) = grep { $_->[0] eq 't_flat' } @indexes;
	is($answers{t_flat}, knn($primary, $flat, 1), "$stage: flat index scan equals the exact search");
	return \%answers;
}

# Stage 1: built indexes plus a growing segment.
for my $ix (@indexes)
{
	$primary->safe_psql('postgres',
		"INSERT INTO $ix->[0] SELECT i, vec(i), bits(i) FROM generate_series(1501, 1800) i");
}
compare_all('after build and inserts');
like(info($primary, $indexes[0]), qr/\|growing\|300\|0\|/, 'the inserted rows are in the growing segment');

# Stage 2: deletes, marked by VACUUM (below compact_growing_rows and the
# deleted fraction, so nothing is compacted).
for my $ix (@indexes)
{
	$primary->safe_psql('postgres', "DELETE FROM $ix->[0] WHERE id % 17 = 0; VACUUM $ix->[0];");
}
compare_all('after delete and VACUUM');
like(info($primary, $indexes[0]), qr/\|hnsw\|1500\|88\|/, 'VACUUM marked the sealed segment\'s deletes');

# Stage 3: compaction on demand (twice, so that the second one frees the
# first one's retired pages and reuses them), inserts in between and after.
for my $ix (@indexes)
{
	my $t = $ix->[0];
	$primary->safe_psql('postgres', qq{
		SELECT vecdb_compact('${t}_idx');
		INSERT INTO $t SELECT i, vec(i), bits(i) FROM generate_series(1801, 2000) i;
		DELETE FROM $t WHERE id % 13 = 0;
		VACUUM $t;
		SELECT vecdb_compact('${t}_idx');
		INSERT INTO $t SELECT i, vec(i), bits(i) FROM generate_series(2001, 2100) i;
		UPDATE $t SET embedding = vec(id + 5000.5), bits = bits(id + 5000.5) WHERE id % 29 = 1;
	});
}
my $before_crash = compare_all('after compactions and more writes');
for my $ix (@indexes)
{
	is($standby->safe_psql('postgres', "SELECT vecdb_verify('$ix->[0]_idx')"), 't',
		"$ix->[0]: vecdb_verify passes on the standby");
}

# An UNLOGGED table: its index is reset to the init fork by crash recovery.
$primary->safe_psql('postgres', qq{
	CREATE UNLOGGED TABLE u (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 600) i;
	CREATE INDEX u_hnsw ON u USING hnsw (embedding vector_l2_ops);
	CREATE INDEX u_ivf ON u USING ivfflat (embedding vector_cosine_ops) WITH (lists = 4);
	INSERT INTO u SELECT i, vec(i) FROM generate_series(601, 700) i;
});
is($primary->safe_psql('postgres', 'SET enable_seqscan = off; SELECT id FROM u ORDER BY embedding <-> vec(650) LIMIT 1'),
	'650', 'unlogged table: index finds a row before the crash');

# Crash the primary (no shutdown checkpoint).
$primary->stop('immediate');
$primary->start;

for my $ix (@indexes)
{
	my $t = $ix->[0];
	is(knn($primary, $ix, 0), $before_crash->{$t}, "$t: neighbours identical after crash recovery");
	is($primary->safe_psql('postgres', "SELECT vecdb_verify('${t}_idx')"), 't',
		"$t: vecdb_verify passes after crash recovery");
}

is($primary->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table is empty after the crash');
like($primary->safe_psql('postgres', "SELECT string_agg(kind || ':' || rows, ',') FROM vecdb_index_info('u_hnsw')"),
	qr/^(growing:0)?$/, 'unlogged index is empty after the crash');
$primary->safe_psql('postgres', 'INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 300) i');
my $plan = $primary->safe_psql('postgres',
	'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM u ORDER BY embedding <-> vec(123) LIMIT 3');
like($plan, qr/Index Scan using u_hnsw/, 'unlogged table: search uses the hnsw index');
is($primary->safe_psql('postgres',
		'SET enable_seqscan = off; SELECT id FROM u ORDER BY embedding <-> vec(123) LIMIT 1'),
	'123', 'unlogged table: hnsw index finds a row inserted after the crash');
is($primary->safe_psql('postgres',
		'SET enable_seqscan = off; SELECT id FROM u ORDER BY embedding <=> vec(77) LIMIT 1'),
	'77', 'unlogged table: ivfflat index finds a row inserted after the crash');
is($primary->safe_psql('postgres', "SELECT vecdb_compact('u_hnsw'), vecdb_verify('u_hnsw'), vecdb_verify('u_ivf')"),
	't|t|t', 'unlogged indexes compact and verify after the crash');
is($primary->safe_psql('postgres',
		'SET enable_seqscan = off; SELECT id FROM u ORDER BY embedding <-> vec(124) LIMIT 1'),
	'124', 'unlogged table: hnsw index finds a row after compaction');

# The standby follows the restarted primary.
for my $ix (@indexes)
{
	$primary->safe_psql('postgres',
		"INSERT INTO $ix->[0] SELECT i, vec(i), bits(i) FROM generate_series(3001, 3050) i");
}
compare_all('after the primary crashed');

# A standby is read-only: compaction is refused cleanly.
my ($ret, $out, $err) = $standby->psql('postgres', "SELECT vecdb_compact('$indexes[0][0]_idx')");
isnt($ret, 0, 'vecdb_compact fails on a standby');
like($err, qr/cannot execute vecdb_compact\(\) during recovery/, 'vecdb_compact on a standby says why');

$standby->stop;
$primary->stop;
done_testing();
