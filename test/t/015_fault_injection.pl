# 015_fault_injection.pl: a vecdb index stays correct when the storage layer
# fails at each fault point (vecdb.fault_injection, src/am/fault_inject.cpp):
# during a build (REINDEX), a growing-segment append, VACUUM's delete marking,
# a compaction before its directory switch, the freeing of retired pages and
# a segment load. Each point is hit twice: once with an ERROR, once with the
# backend killed (SIGKILL) at the point, so the server restarts and recovers.
# After each: k-NN results equal a sequential scan's, vecdb_verify passes, and
# every committed row is found by an index search for its own vector.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;

my $dims = 8;

my $node = PostgreSQL::Test::Cluster->new('faults');
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
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 400) i;
	CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops);
});
my $next_id = 401;

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

# inject runs $sql with the fault $point:$action set; returns psql's stderr.
sub inject
{
	my ($point, $action, $sql) = @_;
	my $offset = -s $node->logfile;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET vecdb.fault_injection = '$point:$action'; $sql");
	if ($action eq 'error')
	{
		like($err, qr/vecdb fault injected at "$point"/, "$point:error: the statement fails at the point");
	}
	else
	{
		ok($node->wait_for_log(qr/vecdb fault point "$point" killing the backend/, $offset),
			"$point:exit: the backend dies at the point");
		$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
		$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
	}
	return $err;
}

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
for my $action ('error', 'exit')
{
	# build: REINDEX fails after a segment is written; the old index stays
	inject('build_segment', $action, 'REINDEX INDEX t_idx');
	check("build_segment:$action");

	# growing-segment append: the row is not committed, no other is lost
	inject('growing_append', $action, "INSERT INTO t VALUES ($next_id, vec($next_id))");
	$next_id++;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, "growing_append:$action: no row gained or lost");
	$node->safe_psql('postgres',
		"INSERT INTO t SELECT i, vec(i) FROM generate_series($next_id, $next_id + 59) i");
	$next_id += 60;
	$rows += 60;
	check("growing_append:$action");

	# delete marking: VACUUM fails after marking the first TID page
	$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 17 = ' . ($action eq 'error' ? 1 : 2));
	$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	inject('vacuum_mark', $action, 'VACUUM t');
	check("vacuum_mark:$action");
	$node->safe_psql('postgres', 'VACUUM t');
	check("vacuum_mark:$action, vacuumed again");

	# compaction: the new segment is written, the switch never happens
	inject('compact_switch', $action, "SELECT vecdb_compact('t_idx', true)");
	check("compact_switch:$action");

	# page recycling: a compaction retires pages, a later one frees them
	# once no snapshot can still need them: after a transaction that got an
	# xid (the horizon passes only the xids assigned)
	$node->safe_psql('postgres', "SELECT vecdb_compact('t_idx', true)");
	$node->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	inject('free_retired', $action, "SELECT vecdb_compact('t_idx', true)");
	check("free_retired:$action");
	$node->safe_psql('postgres', "SELECT vecdb_compact('t_idx', true)");
	check("free_retired:$action, compacted again");

	# segment load: a fresh server has nothing loaded
	$node->restart;
	inject('segment_load', $action,
		"SET enable_seqscan = off; SELECT id FROM t ORDER BY embedding <-> vec(1) LIMIT 1");
	check("segment_load:$action");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, "after $action: no committed row lost");
}

done_testing();
