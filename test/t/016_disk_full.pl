# 016_disk_full.pl: a vecdb index stays correct when the disk is full, when
# a segment load runs out of memory and when the server dies while a backend
# waits at a fault point (vecdb.fault_injection, src/am/fault_inject.cpp).
#  - Disk full: the index lives in a tablespace on a small file system that
#    scripts/test.sh (root) mounts and names in VECDB_SMALL_FS (skipped when
#    it is absent). CREATE INDEX, an insert into the growing segment, and a
#    compaction (vecdb_compact, VACUUM's merge) fail with SQLSTATE 53100, the
#    server stays up and, once space is freed, the same commands succeed.
#  - Out of memory at segment_load ("oom" action): the query fails with
#    53200, the next one is correct, the shared area's use is back at its
#    baseline; with vecdb preloaded (shared segments) and per backend.
#  - A backend sleeping at build_segment or compact_switch while the server
#    is stopped in immediate mode or its postmaster is killed (SIGKILL).
# After each: k-NN results equal a sequential scan's, vecdb_verify passes, and
# no committed row is lost.
use strict;
use warnings;
use File::Path;
use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;

my $dims = 8;

my $node = PostgreSQL::Test::Cluster->new('diskfull');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
restart_after_crash = on
vecdb.min_index_rows = 50
hnsw.ef_search = 400
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	@{[ vec_function($dims) ]}
	CREATE TABLE t (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 2000) i;
});
my $next_id = 2001;

# check verifies the index after case $name: k-NN equals exact results,
# vecdb_verify passes, every row is found by a search for its own vector,
# and the table holds $rows rows.
sub check
{
	my ($name) = @_;
	for my $q (9001, 9002)
	{
		my $knn = "SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY embedding <-> vec($q), id LIMIT 10) s";
		my $exact = $node->safe_psql('postgres',
			"SET enable_indexscan = off; SET enable_bitmapscan = off; $knn");
		my $index = $node->safe_psql('postgres', "SET enable_seqscan = off; $knn");
		is($index, $exact, "$name: k-NN for vec($q) equals the exact result");
	}
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT vecdb_verify('t_idx')");
	is($out, 't', "$name: vecdb_verify passes") or diag($err);
	is($node->safe_psql('postgres', q{SET enable_seqscan = off;
		SELECT count(*) FROM t a
		WHERE a.id IS DISTINCT FROM (SELECT b.id FROM t b ORDER BY b.embedding <-> a.embedding LIMIT 1)}),
		'0', "$name: every row is found by an index search for its own vector");
}

# verbose runs $sql and returns stderr with SQLSTATEs ("ERROR:  53100: ...").
sub verbose
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return ($ret, $err);
}

# ---- out of memory at segment_load, shared and per backend ----

my $knn1 = 'SET enable_seqscan = off; SELECT id FROM t ORDER BY embedding <-> vec(1) LIMIT 1';
$node->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)');
for my $mode ('shared', 'per-backend')
{
	if ($mode eq 'per-backend')
	{
		$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
	}
	# in shared mode the second pass is the shared copy's load (its bytes in the area)
	for my $count ($mode eq 'shared' ? (1, 2) : (1))
	{
		$node->restart;
		my $used = $node->safe_psql('postgres', 'SELECT used FROM vecdb_shared_status()');
		my $offset = -s $node->logfile;
		my ($ret, $err) = verbose("SET vecdb.fault_injection = 'segment_load:oom:$count'; $knn1");
		like($err, qr/ERROR:  53200: out of memory/, "segment_load:oom:$count ($mode): the query fails with 53200");
		is($node->safe_psql('postgres', 'SELECT used FROM vecdb_shared_status()'), $used,
			"segment_load:oom:$count ($mode): shared area use back at its baseline");
		is($node->safe_psql('postgres', $knn1), '1', "segment_load:oom:$count ($mode): the next query is correct");
		check("segment_load:oom:$count ($mode)");
		is($node->safe_psql('postgres', q{SELECT count(*) FROM vecdb_shared_segments() WHERE pins > 0}), '0',
			"segment_load:oom:$count ($mode): no pin left behind");
	}
}
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "'vecdb'");
$node->restart;

# ---- the server dies while a backend sleeps at a fault point ----

# alive says whether process $pid exists and is not a zombie.
sub alive
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh>;
	close $fh;
	return $stat !~ /^\d+ \(.*\) Z/;
}

# sleep_and_kill starts $sql with $point:sleep in the background, waits for
# the backend to reach the point, then stops the server by $how (immediate
# stop, or SIGKILL of the postmaster) and starts it again.
sub sleep_and_kill
{
	my ($point, $how, $sql) = @_;
	my $offset = -s $node->logfile;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		  "SET vecdb.fault_injection = '$point:sleep'; $sql" ],
		'<', \undef, '>', \$out, '2>', \$err);
	ok($node->wait_for_log(qr/vecdb fault point "$point" sleeping/, $offset),
		"$point:sleep: the backend waits at the point");
	if ($how eq 'immediate')
	{
		$node->stop('immediate');
	}
	else
	{
		my @backends = split /\n/, $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
		my $pm = $node->{_pid};
		kill 'KILL', $pm;
		# an orphaned backend must notice and leave, or the shared memory stays in use
		my $gone = 0;
		for (1 .. 100)
		{
			$gone = !grep { alive($_) } @backends;
			last if $gone;
			usleep(100_000);
		}
		ok($gone, "$point:sleep: the orphaned backends exit after the postmaster's SIGKILL");
		# else the test's psql would wait for ever
		kill 'KILL', grep { alive($_) } @backends unless $gone;
		# the new postmaster refuses to start while the old PID exists (a zombie
		# until its new parent reaps it)
		for (1 .. 300)
		{
			last unless kill 0, $pm;
			usleep(100_000);
		}
		$node->{_pid} = undef;
	}
	$h->finish;
	$node->start;
}

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
sleep_and_kill('build_segment', 'immediate', 'REINDEX INDEX t_idx');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'build_segment killed: no committed row lost');
check('build_segment:sleep, immediate stop');

$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 13 = 0');
$node->safe_psql('postgres', "INSERT INTO t SELECT i, vec(i) FROM generate_series($next_id, $next_id + 99) i");
$next_id += 100;
$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
sleep_and_kill('compact_switch', 'postmaster', "SELECT vecdb_compact('t_idx', true)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'compact_switch killed: no committed row lost');
check('compact_switch:sleep, postmaster SIGKILL');
sleep_and_kill('compact_switch', 'immediate', "SELECT vecdb_compact('t_idx', true)");
check('compact_switch:sleep, immediate stop');
$node->safe_psql('postgres', "SELECT vecdb_compact('t_idx', true)");
check('compact_switch: compacted after the kills');

# ---- disk full ----

SKIP:
{
	my $dir = $ENV{VECDB_SMALL_FS};
	skip 'disk full: VECDB_SMALL_FS names no small file system (scripts/test.sh mounts one as root)', 1
	  unless $dir && -d $dir && -w $dir;
	# what an earlier, failed run left there
	File::Path::rmtree($_) for glob("$dir/ts_*");
	my $tsdir = "$dir/ts_" . $$;
	mkdir $tsdir or die "mkdir $tsdir: $!";
	$node->safe_psql('postgres', qq{
		CREATE TABLESPACE small LOCATION '$tsdir';
		CREATE TABLE filler (b text) TABLESPACE small;
		DROP INDEX t_idx;
	});

	# fill inserts rows of about 1.9 kB (stored uncompressed) into filler
	# until the file system is full: first 500 at a time, then one.
	my $fill = sub {
		for my $n (500, 1)
		{
			for (1 .. 2000)
			{
				my ($ret, $err) = verbose(
					"INSERT INTO filler SELECT repeat(md5(i::text), 59) FROM generate_series(1, $n) i");
				if ($ret != 0)
				{
					die "filler insert failed: $err" unless $err =~ /53100/;
					last;
				}
			}
		}
	};

	# empty frees the space (TRUNCATE would need a new file: DROP truncates
	# the old one at once)
	my $empty = sub {
		$node->safe_psql('postgres', 'DROP TABLE filler; CREATE TABLE filler (b text) TABLESPACE small');
	};

	# (a) CREATE INDEX
	$fill->();
	my ($ret, $err) = verbose(
		'CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops) TABLESPACE small');
	like($err, qr/ERROR:  53100: .*No space left on device/, 'disk full: CREATE INDEX fails with 53100');
	is($node->safe_psql('postgres', 'SELECT 1'), '1', 'disk full: the server stays up');
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 't_idx'"), '0',
		'disk full: the failed build leaves no index');
	$empty->();
	$node->safe_psql('postgres',
		'CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops) TABLESPACE small');
	check('disk full: CREATE INDEX retried after space is freed');

	# (c) growing-segment inserts
	$fill->();
	$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	($ret, $err) = verbose(
		"INSERT INTO t SELECT i, vec(i) FROM generate_series($next_id, $next_id + 999) i");
	like($err, qr/ERROR:  53100: /, 'disk full: inserts into the growing segment fail with 53100');
	$next_id += 1000;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'disk full: no row gained or lost');
	check('disk full: growing-segment inserts');

	# (b) compaction: space for deleted rows' marks, none for a new segment
	$empty->();
	$node->safe_psql('postgres', "INSERT INTO t SELECT i, vec(i) FROM generate_series($next_id, $next_id + 999) i");
	$next_id += 1000;
	$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 7 = 0');
	$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	$fill->();
	($ret, $err) = verbose("SELECT vecdb_compact('t_idx', true)");
	like($err, qr/ERROR:  53100: /, 'disk full: vecdb_compact fails with 53100');
	check('disk full: vecdb_compact');
	# VACUUM marks the deletions in place, then its merge needs new pages
	($ret, $err) = verbose('SET vecdb.compact_deleted_fraction = 0.05; VACUUM t');
	like($err, qr/ERROR:  53100: /, "disk full: VACUUM's merge fails with 53100");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'disk full: no committed row lost');
	check('disk full: VACUUM');
	$node->safe_psql('postgres', 'DROP TABLE filler');
	$node->safe_psql('postgres', "SELECT vecdb_compact('t_idx', true)");
	check('disk full: compacted after space is freed');

	$node->safe_psql('postgres', 'DROP TABLE t; DROP TABLESPACE small');
}

$node->stop;
done_testing();
