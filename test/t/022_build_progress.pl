# 022_build_progress.pl: an HNSW CREATE INDEX adds its rows to the engine in
# one call (the build memo lasts the whole build), so its progress and its
# cancellation come from inside that call: pg_stat_progress_create_index
# shows tuples_done rising, never past tuples_total, while the segment is
# built; a cancel ends the build within seconds and leaves no index; the
# index built afterwards answers exactly like a sequential scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;
use Time::HiRes qw(time usleep);

my $dims = 32;
my $rows = 40000;

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
maintenance_work_mem = '512MB'
hnsw.ef_search = 400
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	@{[ vec_function($dims) ]}
	CREATE TABLE t (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, $rows) i;
	ANALYZE t;
});

# a slow build (ef_construction 400) leaves time to watch it
my $create = 'CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 400)';

# progress returns the build's (pid, phase, tuples_done, tuples_total), or
# an empty list while there is none.
sub progress
{
	my $r = $node->safe_psql('postgres',
		"SELECT pid, phase, tuples_done, tuples_total FROM pg_stat_progress_create_index WHERE relid = 't'::regclass");
	return $r eq '' ? () : split(/\|/, $r);
}

my $build = start_sql($node, $create);
my ($pid, @seen, $past_total, $t0);
$t0 = time;
while (time - $t0 < 120 && $build->{h}->pumpable)
{
	$build->{h}->pump_nb;
	my ($p, $phase, $done, $total) = progress();
	if (defined $p && $phase eq 'building index: building segment')
	{
		$pid = $p;
		$past_total = 1 if $done > $total;
		push @seen, $done if $done > 0 && $done < $total && (!@seen || $seen[-1] != $done);
		last if @seen >= 3;
	}
	usleep(20_000);
}
ok(defined $pid, 'the build reaches the phase "building segment"');
cmp_ok(scalar(@seen), '>=', 3, 'tuples_done takes three values between 0 and tuples_total while the segment is built')
  or diag("seen: @seen");
my $rising = 1;
for my $i (1 .. $#seen)
{
	$rising = 0 if $seen[$i] < $seen[ $i - 1 ];
}
ok($rising, 'tuples_done only rises') or diag("seen: @seen");
ok(!$past_total, 'tuples_done never passes tuples_total');

my $cancelled = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)") if defined $pid;
my ($ended, $secs) = wait_sql($build, 30, $cancelled);
ok($ended, 'a cancelled build ends');
cmp_ok($secs, '<', 5, 'within 5 seconds of the cancel');
like(${ $build->{err} }, qr/canceling statement due to user request/, 'with the cancel as its error');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 't_idx'"), '0',
	'the cancelled build leaves no index');

$node->safe_psql('postgres', $create);
for my $q (900001, 900002, 900003)
{
	my $knn = "SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY embedding <-> vec($q), id LIMIT 10) s";
	my $exact = $node->safe_psql('postgres', "SET enable_indexscan = off; SET enable_bitmapscan = off; $knn");
	my $index = $node->safe_psql('postgres', "SET enable_seqscan = off; $knn");
	is($index, $exact, "the index built afterwards returns the exact top 10 for vec($q)");
}
my ($ret, $out, $err) = $node->psql('postgres', "SELECT vecdb_verify('t_idx')");
is($out, 't', 'vecdb_verify passes') or diag($err);

$node->stop;
done_testing();
