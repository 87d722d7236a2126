# 020_lock_scope.pl: long index work does not hold others up (issue 12,
# item 6). An insert that sleeps while it takes a new growing-segment page
# (fault point growing_extend: before a free-space map look-up or a relation
# extension)
# must not hold the metapage: an index scan and the planner's cost estimate,
# which both read it, finish meanwhile. After the insert is cancelled the
# index is intact. A compaction held before its switch does not hold up
# VACUUM, and the rows VACUUM marked meanwhile stay deleted, also when the
# segment it adds onto is not the first in the directory.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use VecdbTap;

my $dims = 8;
# a statement that waits for nothing takes milliseconds; one behind the lock waits until the sleeper is cancelled
my $prompt = 10;

my $node = PostgreSQL::Test::Cluster->new('locks');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
restart_after_crash = on
vecdb.min_index_rows = 50
vecdb.seal_growing_rows = 0
hnsw.ef_search = 400
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	@{[ vec_function($dims) ]}
	CREATE TABLE t (id int PRIMARY KEY, embedding vector($dims));
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 400) i;
	CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops);
	INSERT INTO t SELECT i, vec(i) FROM generate_series(401, 500) i;
});

# check verifies the index after case $name: k-NN equals exact results,
# vecdb_verify passes, every row is found by a search for its own vector.
sub check
{
	my ($name) = @_;
	for my $q (9001, 9002, 9003)
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

# sleeper starts $sql with fault point $point sleeping and waits until it sleeps there; returns its session and pid.
sub sleeper
{
	my ($point, $sql) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	my $offset = -s $node->logfile;
	$s->query_until(qr/started/, "SET vecdb.fault_injection = '$point:sleep';\n\\echo started\n$sql;\n");
	ok($node->wait_for_log(qr/vecdb fault point "$point" sleeping/, $offset), "$point: the backend sleeps at the point");
	return ($s, $pid);
}

# release cancels the sleeper $s (backend $pid) and waits for the sessions
# @waiting. A sleeper that does not go idle (one holding a buffer lock has
# interrupts held off) is killed, and the server restarts.
sub release
{
	my ($s, $pid, @waiting) = @_;
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	my $t0 = time;
	while (time - $t0 < $prompt &&
		$node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'active'") ne '0')
	{
		usleep(100_000);
	}
	if (time - $t0 >= $prompt)
	{
		note('the sleeper did not react to the cancel: killing it');
		kill 'KILL', $pid;
		$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
		$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
	}
	$_->{h}->finish for @waiting;
	eval { $s->quit; };
}

# 1. An insert sleeping while it takes a new growing page (free-space map,
# extension) holds no metapage lock: a scan and EXPLAIN go through.
{
	my ($s, $pid) = sleeper('growing_extend',
		'INSERT INTO t SELECT i, vec(i) FROM generate_series(1001, 3000) i');
	my $scan = start_sql($node, 'SET enable_seqscan = off; SELECT id FROM t ORDER BY embedding <-> vec(7) LIMIT 1');
	my ($done, $elapsed) = wait_sql($scan, $prompt);
	ok($done, sprintf('growing_extend: an index scan finishes while the insert sleeps (%.2f s)', $elapsed));
	my $plan = start_sql($node, 'EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY embedding <-> vec(7) LIMIT 1');
	($done, $elapsed) = wait_sql($plan, $prompt);
	ok($done, sprintf('growing_extend: EXPLAIN (cost estimate) finishes while the insert sleeps (%.2f s)', $elapsed));
	release($s, $pid, $scan, $plan);
	is(${ $scan->{out} }, "7\n", 'growing_extend: the scan returns the nearest row');
	like(${ $plan->{out} }, qr/Index Scan using t_idx/, 'growing_extend: the plan uses the index');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '500', 'growing_extend: the cancelled insert added no row');
	check('growing_extend: after the cancelled insert');
	$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(1001, 3000) i');
	check('growing_extend: after 2,000 more inserts');
}

# 2. VACUUM does not wait for a compaction's rebuild: with a full compaction
# held after writing its segment (compact_switch:delay, 20 s), VACUUM marks
# rows deleted since the compaction gathered them; the switch carries the
# marks into the new segment, so no deleted row comes back, also once new
# rows reuse the freed heap TIDs.
{
	$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 7 = 3');
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $offset = -s $node->logfile;
	$s->query_until(qr/started/, "SET vecdb.fault_injection = 'compact_switch:delay';\n\\echo started\nSELECT vecdb_compact('t_idx', true);\n");
	ok($node->wait_for_log(qr/vecdb fault point "compact_switch" delaying/, $offset),
		'compact_switch: the compaction waits before its switch');
	my $vac = start_sql($node, 'VACUUM t');
	my ($done, $elapsed) = wait_sql($vac, $prompt);
	ok($done, sprintf('compact_switch: VACUUM finishes while the compaction waits (%.2f s)', $elapsed));
	$vac->{h}->finish;
	is(${ $vac->{err} }, '', 'compact_switch: VACUUM reports no error');
	$s->query_safe('SELECT 1');
	$s->quit;
	is($node->safe_psql('postgres', "SELECT count(*) FROM vecdb_index_info('t_idx') WHERE kind <> 'growing'"), '1',
		'compact_switch: the compaction switched to one segment');
	is($node->safe_psql('postgres', "SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT id FROM t ORDER BY embedding <-> vec(1) LIMIT 100000) s"), $rows,
		'compact_switch: a full index scan returns only the rows left');
	check('compact_switch: after VACUUM beside the compaction');
	# new rows take the heap TIDs VACUUM freed: a stale index entry would return them twice
	$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(5001, 5500) i');
	is($node->safe_psql('postgres', "SET enable_seqscan = off;
		SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM t ORDER BY embedding <-> vec(1) LIMIT 100000) s"),
		($rows + 500) . ' ' . ($rows + 500), 'compact_switch: after reuse of the TIDs each row is returned once');
	check('compact_switch: after new rows reuse the TIDs');
}

# 3. The same beside a compaction that adds the growing rows onto the sealed
# segment (its graph kept, its dead rows masked): the rows VACUUM marked in
# either input stay deleted, next to the ones already masked.
{
	$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(6001, 7000) i');
	my $info = "SELECT rows || ' ' || deleted FROM vecdb_index_info('t_idx') WHERE kind <> 'growing'";
	my ($rows0, $dead0) = split / /, $node->safe_psql('postgres', $info);
	my $n3 = $node->safe_psql('postgres', 'WITH d AS (DELETE FROM t WHERE id % 11 = 5 RETURNING 1) SELECT count(*) FROM d');
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $offset = -s $node->logfile;
	$s->query_until(qr/started/, "SET vecdb.fault_injection = 'compact_switch:delay';\nSET vecdb.merge_onto_fraction = 0.5;\n\\echo started\nSELECT vecdb_compact('t_idx', false);\n");
	ok($node->wait_for_log(qr/vecdb fault point "compact_switch" delaying/, $offset),
		'onto: the compaction waits before its switch');
	my $vac = start_sql($node, 'VACUUM t');
	my ($done, $elapsed) = wait_sql($vac, $prompt);
	ok($done, sprintf('onto: VACUUM finishes while the compaction waits (%.2f s)', $elapsed));
	$vac->{h}->finish;
	$s->query_safe('SELECT 1');
	$s->quit;
	my ($rows1, $dead1) = split / /, $node->safe_psql('postgres', $info);
	note("onto: segment rows/deleted before $rows0/$dead0, after $rows1/$dead1; deleted $n3");
	cmp_ok($rows1, '>', $rows0, 'onto: the growing rows went into the sealed segment');
	is($dead1, $dead0 + $n3, "onto: the segment counts its masked rows and the $n3 rows VACUUM marked meanwhile");
	is($node->safe_psql('postgres', "SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT id FROM t ORDER BY embedding <-> vec(1) LIMIT 100000) s"), $rows,
		'onto: a full index scan returns only the rows left');
	check('onto: after VACUUM beside the compaction');
	$node->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(8001, 8500) i');
	is($node->safe_psql('postgres', "SET enable_seqscan = off;
		SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM t ORDER BY embedding <-> vec(1) LIMIT 100000) s"),
		($rows + 500) . ' ' . ($rows + 500), 'onto: after reuse of the TIDs each row is returned once');
	check('onto: after new rows reuse the TIDs');
}

# 4. The same when the segment the others are added onto is not the first in
# the directory: the batch starts with its rows, so VACUUM's marks in it
# have the smallest labels of the new segment and must be written first (the
# labels went in directory order once, and a mark before its TID page was
# written outside it). u_idx gets a small segment (900 rows), then a larger
# one sealed from the growing rows (maintenance_work_mem 1MB holds it at
# 1,000 rows or more, so the small one stays out); with a quarter of the small
# one deleted, a compaction takes both, onto the larger.
{
	$node->safe_psql('postgres', qq{
		CREATE TABLE u (id int PRIMARY KEY, embedding vector($dims));
		INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 900) i;
		CREATE INDEX u_idx ON u USING hnsw (embedding vector_l2_ops);
		INSERT INTO u SELECT i, vec(i) FROM generate_series(901, 9000) i;
	});
	$node->safe_psql('postgres', "SET maintenance_work_mem = '1MB'; SET vecdb.compact_growing_rows = 100;
		SELECT vecdb_compact('u_idx', false)");
	my $sealed = "SELECT string_agg(rows || '/' || deleted, ' ' ORDER BY segment) FROM vecdb_index_info('u_idx') WHERE kind <> 'growing'";
	my ($small, $large) = split / /, $node->safe_psql('postgres', $sealed);
	like("$small $large", qr{^900/0 \d+/0$}, "onto second: a small segment first, then the sealed one ($small $large)");
	my ($large_rows) = $large =~ m{^(\d+)/};
	cmp_ok($large_rows, '>', 900, 'onto second: the second segment is the larger');
	# (this VACUUM must not compact: neither the deletes nor the growing rows count)
	$node->safe_psql('postgres', 'SET vecdb.compact_deleted_fraction = 1; SET vecdb.compact_growing_rows = 1000000;
		DELETE FROM u WHERE id <= 225; VACUUM u');
	is($node->safe_psql('postgres', $sealed), "900/225 $large", 'onto second: VACUUM marked a quarter of the small segment');
	# rows of both inputs die before the compaction (VACUUM can remove them
	# while it runs): the small segment's and the larger one's
	my $gone = $node->safe_psql('postgres', 'WITH d AS (DELETE FROM u WHERE id BETWEEN 300 AND 340 OR id BETWEEN 1000 AND 1040
		RETURNING 1) SELECT count(*) FROM d');
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $offset = -s $node->logfile;
	$s->query_until(qr/started/, "SET vecdb.fault_injection = 'compact_switch:delay';\nSET vecdb.compact_growing_rows = 1000000;\n"
		  . "SET maintenance_work_mem = '64MB';\n\\echo started\nSELECT vecdb_compact('u_idx', false);\n");
	ok($node->wait_for_log(qr/vecdb fault point "compact_switch" delaying/, $offset),
		'onto second: the compaction waits before its switch');
	my $vac = start_sql($node, 'VACUUM u');
	my ($done) = wait_sql($vac, $prompt);
	ok($done, 'onto second: VACUUM finishes while the compaction waits');
	$vac->{h}->finish;
	is(${ $vac->{err} }, '', 'onto second: VACUUM reports no error');
	$s->query_safe('SELECT 1');
	$s->quit;
	unlike(slurp_file($node->logfile, $offset), qr/ERROR/, 'onto second: the compaction and VACUUM logged no error');
	my $after = $node->safe_psql('postgres', $sealed);
	# the larger segment keeps its labels, dead ones too: 41 rows VACUUM marked in each input
	is($after, ($large_rows + 675) . '/' . $gone, "onto second: one segment, added onto the larger, counts the $gone marks made meanwhile");
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT vecdb_verify('u_idx')");
	is($out, 't', 'onto second: vecdb_verify passes (every counted mark is in the TID map)') or diag($err);
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM u');
	is($node->safe_psql('postgres', "SET enable_seqscan = off;
		SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM u ORDER BY embedding <-> vec(1) LIMIT 100000) s"),
		"$rows $rows", "onto second: a full index scan returns the $rows rows left, each once");
	is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET hnsw.ef_search = 400;
		SELECT count(*) FROM u a
		WHERE a.id IS DISTINCT FROM (SELECT b.id FROM u b ORDER BY b.embedding <-> a.embedding LIMIT 1)}),
		'0', 'onto second: every row is found by a search for its own vector');
}

done_testing();
