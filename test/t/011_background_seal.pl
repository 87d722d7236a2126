# 011_background_seal.pl: with vecdb preloaded, a growing segment that
# reaches vecdb.seal_growing_rows is sealed into an indexed segment by a
# background worker, without VACUUM or vecdb_compact, while inserts and
# queries go on; every row stays findable and vecdb_verify passes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('seal');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
vecdb.seal_growing_rows = 500
vecdb.min_index_rows = 100
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION vec(i int) RETURNS vector(8) IMMUTABLE LANGUAGE sql AS
	$$ SELECT ARRAY(SELECT ((hashint4(i * 8 + j) & 65535) / 65536.0)::real FROM generate_series(1, 8) j)::vector(8) $$;
	CREATE TABLE t (id int PRIMARY KEY, v vector(8));
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 2000) i;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops);
});
my $sealed_segments = sub {
	$node->safe_psql('postgres', q{SELECT count(*) FROM vecdb_index_info('t_idx') WHERE kind <> 'growing'});
};
my $growing = sub {
	$node->safe_psql('postgres', q{SELECT rows FROM vecdb_index_info('t_idx') WHERE kind = 'growing'});
};
is($sealed_segments->(), '1', 'one sealed segment after CREATE INDEX');

# below the threshold nothing happens
$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(2001, 2300) i');
sleep 1;
is($growing->(), '300', 'below vecdb.seal_growing_rows the rows stay in the growing segment');

# past it, in several statements, with queries in between
for my $b (0 .. 2)
{
	my $from = 2301 + $b * 200;
	my $to = $from + 199;
	$node->safe_psql('postgres', "INSERT INTO t SELECT i, vec(i) FROM generate_series($from, $to) i");
	$node->safe_psql('postgres', 'SET enable_seqscan = off; SELECT id FROM t ORDER BY v <-> vec(7) LIMIT 3');
}
my $g;
for (1 .. 150)
{
	$g = $growing->();
	last if $g ne '' && $g < 500;
	usleep(200_000);
}
cmp_ok($g, '<', 500, "the growing segment was sealed in the background ($g rows left)");
cmp_ok($node->safe_psql('postgres', q{SELECT sum(rows) FROM vecdb_index_info('t_idx') WHERE kind <> 'growing'}),
	'>=', 2500, 'sealed segments hold them (a new one, or added to the built one)');
my ($enabled, $sealed) = split /\|/,
  $node->safe_psql('postgres', 'SELECT enabled, sealed FROM vecdb_seal_status()');
is($enabled, 't', 'vecdb_seal_status: enabled');
cmp_ok($sealed, '>=', 1, 'vecdb_seal_status counts the seal');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '2900', 'every committed row is in the table');
is($node->safe_psql('postgres', "SELECT vecdb_verify('t_idx')"), 't', 'vecdb_verify passes (every visible heap row is in the index)');
my $missing = $node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnsw.ef_search = 400;
	SELECT count(*) FROM generate_series(1, 2900, 97) i
	WHERE i <> (SELECT id FROM t ORDER BY v <-> vec(i) LIMIT 1)});
is($missing, '0', 'rows from before and after the seal are found by their own vectors');

# a seal loads its new segment into the shared area before the switch: the
# first query after it reads no segment pages (no query runs in between)
my $seals = $node->safe_psql('postgres', 'SELECT sealed FROM vecdb_seal_status()');
$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(5001, 5600) i');
for (1 .. 150)
{
	last if $node->safe_psql('postgres', 'SELECT sealed FROM vecdb_seal_status()') > $seals && $growing->() < 500;
	usleep(200_000);
}
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> vec(5003) LIMIT 3) s;
	SELECT string_agg(DISTINCT memory || ' ' || read_rows, ', ') FROM vecdb_last_scan() WHERE kind <> 'growing'}),
	"3\nshared 0", 'the first query after a seal finds every sealed segment in the shared area');

# a seal does not hold back VACUUM: rows deleted while one runs are removable
# (the worker is ignored by the xmin horizon, as lazy VACUUM is); the seal is
# held at its directory switch by the fault point
$node->safe_psql('postgres', q{
	CREATE TABLE churn (id int);
	ALTER SYSTEM SET vecdb.fault_injection = 'compact_switch:delay';
	SELECT pg_reload_conf();
});
sleep 1;
$seals = $node->safe_psql('postgres', 'SELECT sealed FROM vecdb_seal_status()');
$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(6001, 6600) i');
for (1 .. 100)
{
	last if $node->log_contains('vecdb fault point "compact_switch" delaying');
	usleep(100_000);
}
ok($node->log_contains('vecdb fault point "compact_switch" delaying'), 'a seal is held at its switch');
$node->safe_psql('postgres', 'INSERT INTO churn SELECT generate_series(1, 1000); DELETE FROM churn');
my ($vacuum_out, $vacuum_err) = ('', '');
$node->psql('postgres', 'VACUUM (VERBOSE) churn', stdout => \$vacuum_out, stderr => \$vacuum_err);
like($vacuum_err, qr/tuples: 1000 removed, 0 remain, 0 are dead but not yet removable/,
	'VACUUM removes rows deleted while the seal runs');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET vecdb.fault_injection; SELECT pg_reload_conf()');
for (1 .. 300)
{
	last if $node->safe_psql('postgres', 'SELECT sealed FROM vecdb_seal_status()') > $seals;
	usleep(100_000);
}
cmp_ok($node->safe_psql('postgres', 'SELECT sealed FROM vecdb_seal_status()'), '>', $seals, 'the held seal then completes');
is($node->safe_psql('postgres', "SELECT vecdb_verify('t_idx')"), 't', 'vecdb_verify passes after it');

# vecdb.seal_growing_rows = 0 turns it off
$node->safe_psql('postgres', 'ALTER SYSTEM SET vecdb.seal_growing_rows = 0; SELECT pg_reload_conf()');
sleep 1;
my $before = $growing->();
$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(2901, 3600) i');
sleep 2;
is($growing->(), $before + 700, 'with vecdb.seal_growing_rows = 0 nothing is sealed in the background');
$node->stop;
done_testing();
