# 003_index_crash.pl: vecdb indexes (hnsw and ivfflat) survive crashes in the
# middle of concurrent inserts, deletes, VACUUM and compaction. Three sessions
# insert rows in autocommit (each acknowledged id is recorded) while a fourth
# deletes, vacuums and compacts. Round 1 crashes the whole server
# (immediate stop); round 2 kills (SIGKILL) the backend that is vacuuming or
# compacting, so the postmaster restarts and recovers. After each recovery
# every acknowledged row is in the table, every row of the table is found by
# an index search for its own vector, vecdb_verify passes, and the index
# keeps working (inserts, VACUUM, compaction).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;
use IPC::Run;
use Time::HiRes qw(usleep);

my $dims = 16;
my $ninserters = 3;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', q{
autovacuum = off
restart_after_crash = on
vecdb.min_index_rows = 100
vecdb.compact_growing_rows = 200
vecdb.max_segments = 4
hnsw.ef_search = 100
ivfflat.probes = 4
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	-- vec(i): a pseudo-random vector (uniform in [0, 1)^dims) per id.
	@{[ vec_function($dims) ]}
	CREATE TABLE th (id int PRIMARY KEY, embedding vector($dims));
	CREATE TABLE ti (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO th SELECT i, vec(i) FROM generate_series(1, 1000) i;
	INSERT INTO ti SELECT i, vec(i) FROM generate_series(1, 1000) i;
	CREATE INDEX th_idx ON th USING hnsw (embedding vector_l2_ops);
	CREATE INDEX ti_idx ON ti USING ivfflat (embedding vector_l2_ops) WITH (lists = 8);
});

my $tmp = PostgreSQL::Test::Utils::tempdir;

# start_workload starts the inserters and the maintenance session of one
# round; returns their harnesses and output files.
sub start_workload
{
	my ($round) = @_;
	my @sessions;
	for my $s (1 .. $ninserters)
	{
		my $script = "$tmp/ins_${round}_$s.sql";
		open my $fh, '>', $script or die "$script: $!";
		for my $n (1 .. 20000)
		{
			my $id = $round * 1000000 + $s * 100000 + $n;
			print $fh "INSERT INTO th VALUES ($id, vec($id)) RETURNING 'h', id;\n";
			print $fh "INSERT INTO ti VALUES ($id, vec($id)) RETURNING 'i', id;\n";
		}
		close $fh;
		push @sessions, start_psql($script, "ins_${round}_$s", "ins$s");
	}
	my $script = "$tmp/maint_$round.sql";
	open my $fh, '>', $script or die "$script: $!";
	for my $n (1 .. 2000)
	{
		print $fh "DELETE FROM th WHERE id IN (SELECT id FROM th WHERE id <= 1000 ORDER BY id LIMIT 5);\n";
		print $fh "DELETE FROM ti WHERE id IN (SELECT id FROM ti WHERE id <= 1000 ORDER BY id LIMIT 5);\n";
		print $fh "VACUUM th;\nVACUUM ti;\n";
		print $fh "SELECT vecdb_compact('th_idx', " . ($n % 2 ? 'true' : 'false') . ");\n";
		print $fh "SELECT vecdb_compact('ti_idx');\n" if $n % 3 == 0;
		print $fh "SELECT pg_sleep(0.05);\n";
	}
	close $fh;
	push @sessions, start_psql($script, "maint_$round", 'maint');
	return \@sessions;
}

sub start_psql
{
	my ($script, $name, $appname) = @_;
	my ($out, $err) = ("$tmp/$name.out", "$tmp/$name.err");
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-f', $script,
		  '-d', $node->connstr('postgres') . " application_name=$appname" ],
		'<', \undef, '>', $out, '2>', $err);
	return { h => $h, out => $out, err => $err, name => $name };
}

# finish_workload waits for the sessions (the server is gone or restarting,
# so they end) and returns the acknowledged ids of th and of ti.
sub finish_workload
{
	my ($sessions, $round) = @_;
	my (@h, @i);
	for my $s (@$sessions)
	{
		$s->{h}->finish;
		my $err = slurp_file($s->{err});
		my @errors = grep { /ERROR:/ } split /\n/, $err;
		my @retryable = grep { /compacted concurrently/ } @errors;
		note("round $round: $s->{name}: " . scalar(@retryable) . " retryable 'compacted concurrently' errors")
		  if @retryable;
		is(scalar(@errors) - scalar(@retryable), 0, "round $round: $s->{name} had no error before the crash")
		  or diag($err);
		for my $line (split /\n/, slurp_file($s->{out}))
		{
			push @h, $1 if $line =~ /^h\|(\d+)$/;
			push @i, $1 if $line =~ /^i\|(\d+)$/;
		}
	}
	note("round $round: acknowledged inserts: th " . scalar(@h) . ", ti " . scalar(@i));
	cmp_ok(scalar(@h), '>=', 100, "round $round: inserts were acknowledged before the crash");
	return (\@h, \@i);
}

# check_index runs the post-recovery checks on one table and its index.
sub check_index
{
	my ($round, $table, $acked) = @_;
	my $idx = "${table}_idx";
	my $ids = '{' . join(',', @$acked) . '}';
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM unnest('$ids'::int[]) a(id) WHERE NOT EXISTS (SELECT 1 FROM $table t WHERE t.id = a.id)"),
		'0', "round $round: $table: every acknowledged row is in the table");

	my $self_search = qq{SELECT count(*), count(*) FILTER (WHERE a.id IN (SELECT unnest('$ids'::int[]))),
		string_agg(a.id::text, ',') FROM $table a
		WHERE a.id IS DISTINCT FROM (SELECT b.id FROM $table b ORDER BY b.embedding <-> a.embedding LIMIT 1)};
	like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $self_search"),
		qr/Index Scan using $idx/, "round $round: $table: self search uses $idx");
	# vecdb_verify (below) proves every row is in the index; a search must find
	# them too: a parallel-built graph may leave one row in a few thousand
	# reachable only deeper than the first beam, never more.
	my ($missed) = split /\|/, $node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 400; $self_search");
	my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM $table");
	cmp_ok($missed, '<=', int($rows / 1000) + 1,
		"round $round: $table: every row is found by an index search for its own vector ($missed of $rows only deeper)");

	my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT vecdb_verify('$idx')");
	is($stdout, 't', "round $round: $idx: vecdb_verify passes after recovery") or diag($stderr);
	note("round $round: $idx: " . $node->safe_psql('postgres',
		"SELECT string_agg(kind || ':' || rows || '/' || deleted, ' ') || ' gen ' || max(generation) FROM vecdb_index_info('$idx')"));
}

# After the checks: the index still accepts writes, VACUUM and compaction.
sub check_writable
{
	my ($round) = @_;
	my $base = $round * 1000000 + 900000;
	for my $table ('th', 'ti')
	{
		$node->safe_psql('postgres', qq{
			INSERT INTO $table SELECT i, vec(i) FROM generate_series($base + 1, $base + 300) i;
			DELETE FROM $table WHERE id BETWEEN $base + 1 AND $base + 50;
			VACUUM $table;
			SELECT vecdb_compact('${table}_idx');
			INSERT INTO $table SELECT i, vec(i) FROM generate_series($base + 301, $base + 320) i;
		});
		is($node->safe_psql('postgres', qq{SET enable_seqscan = off;
			SELECT (SELECT id FROM $table ORDER BY embedding <-> vec($base + 100) LIMIT 1),
			       (SELECT id FROM $table ORDER BY embedding <-> vec($base + 310) LIMIT 1),
			       vecdb_verify('${table}_idx')}),
			($base + 100) . '|' . ($base + 310) . '|t',
			"round $round: $table: inserts, VACUUM and compaction work after recovery");
	}
}

# wait_for_progress waits until the workload has inserted $rows rows into th
# and th_idx's directory has changed at least twice (compactions).
sub wait_for_progress
{
	my ($rows) = @_;
	my $start = $node->safe_psql('postgres',
		"SELECT (SELECT count(*) FROM th) || ' ' || (SELECT max(generation) FROM vecdb_index_info('th_idx'))");
	my ($count0, $gen0) = split / /, $start;
	for (1 .. 1200)
	{
		my ($count, $gen) = split / /, $node->safe_psql('postgres',
			"SELECT (SELECT count(*) FROM th) || ' ' || (SELECT max(generation) FROM vecdb_index_info('th_idx'))");
		return if $count >= $count0 + $rows && $gen >= $gen0 + 2;
		usleep(50_000);
	}
	die 'the workload made no progress';
}

# Round 1: the whole server crashes.
my $sessions = start_workload(1);
wait_for_progress(2000);
$node->stop('immediate');
my ($h1, $i1) = finish_workload($sessions, 1);
$node->start;
check_index(1, 'th', $h1);
check_index(1, 'ti', $i1);
check_writable(1);

# Round 2: the backend that vacuums or compacts is killed; the postmaster
# terminates the others and recovers.
my $log_offset = -s $node->logfile;
$sessions = start_workload(2);
wait_for_progress(1500);
my $victim = '';
for (1 .. 100)
{
	$victim = $node->safe_psql('postgres', q{SELECT pid || ' ' || query FROM pg_stat_activity
		WHERE application_name = 'maint' AND state = 'active'
		AND (query LIKE 'SELECT vecdb_compact%' OR query LIKE 'VACUUM%') LIMIT 1});
	last if $victim ne '';
	usleep(20_000);
}
if ($victim eq '')
{
	$victim = $node->safe_psql('postgres', q{SELECT pid || ' (idle)' FROM pg_stat_activity WHERE application_name = 'maint'});
}
note("round 2: killing backend $victim");
my ($victim_pid) = $victim =~ /^(\d+)/;
ok(defined $victim_pid && kill('KILL', $victim_pid), 'round 2: killed the maintenance backend');
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
my ($h2, $i2) = finish_workload($sessions, 2);
check_index(2, 'th', [ @$h1, @$h2 ]);
check_index(2, 'ti', [ @$i1, @$i2 ]);
check_writable(2);

$node->stop;
done_testing();
