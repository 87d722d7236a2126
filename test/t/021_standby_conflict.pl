# 021_standby_conflict.pl: before a compaction frees retired index pages, hot
# standbys get a recovery conflict (issue 12, item 5): queries whose snapshot
# may still read those pages hold replay up to max_standby_streaming_delay,
# then are cancelled, as for a btree page's reuse. No hot_standby_feedback.
#
# t_idx is hnsw with sq_bits = 8, as in TAP 019: a scan reads its segment's
# rows from pages while it runs, so a standby cursor still reads the pages
# of the segment it started on after the primary retired, freed and reused
# them. The primary's rounds only insert and compact (each INSERT assigns
# an xid, which moves the horizon): deleting or vacuuming rows the cursor
# sees would raise a heap conflict first and hide the index's own.
#   1. max_standby_streaming_delay = -1: while a standby cursor is open,
#      three rounds on the primary; the standby's replay waits (startup
#      process in RecoveryConflictSnapshot, replay short of the primary's
#      lsn); the cursor then returns every row of its snapshot (before the
#      conflict, it failed with 40001 "compacted concurrently"); after
#      COMMIT replay catches up and t_idx verifies on the standby.
#   2. max_standby_streaming_delay = 0, and vecdb no longer preloaded on the
#      standby (per-backend): the cursor is cancelled with a recovery
#      conflict (40001), never with wrong rows; the standby catches up and
#      verifies.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $rows = 3000;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
vecdb.min_index_rows = 100
vecdb.seal_growing_rows = 0
});
$primary->start;
$primary->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION vec(i bigint, d int) RETURNS vector IMMUTABLE LANGUAGE sql AS
	\$\$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real
	                FROM generate_series(1, d) j)::vector \$\$;
	CREATE TABLE t (id int PRIMARY KEY, v vector(16));
	INSERT INTO t SELECT i, vec(i, 16) FROM generate_series(1, $rows) i;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops) WITH (sq_bits = 8);
	VACUUM t;
});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', q{
hot_standby_feedback = off
max_standby_streaming_delay = -1
log_line_prefix = '%m [%p] %e '
hnsw.ef_search = 200
});
$standby->start;
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

my $next_id = 100000;

# churn runs three rounds of inserts and full compactions on the primary
# (each compaction frees the chains the one before retired).
sub churn
{
	for my $r (1 .. 3)
	{
		my $from = $next_id;
		$next_id += 200;
		$primary->safe_psql('postgres',
			"INSERT INTO t SELECT i, vec(i, 16) FROM generate_series($from, $next_id - 1) i");
		is($primary->safe_psql('postgres', q{SELECT vecdb_compact('t_idx')}), 't', "compaction $r of 3 ran");
	}
}

# open_cursor starts a REPEATABLE READ transaction on the standby, reads
# its snapshot's ids and exact 10 nearest to vec(q) without the index, and
# opens a cursor over an index scan; it returns the session, the ids, the
# exact 10 and the cursor's first 5 rows.
sub open_cursor
{
	my ($q) = @_;
	my $s = $standby->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('\set VERBOSITY verbose');
	# per-backend vecdb drops the primary's vecdb.* lines with a WARNING
	$s->query_safe('SET client_min_messages = error');
	$s->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$s->query_safe('SET LOCAL enable_indexscan = off');
	$s->query_safe('SET LOCAL enable_bitmapscan = off');
	my $ids = $s->query_safe('SELECT string_agg(id::text, \',\' ORDER BY id) FROM t');
	my $exact = $s->query_safe(
		"SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY v <-> vec($q, 16) LIMIT 10) s");
	$s->query_safe('SET LOCAL enable_indexscan = on');
	$s->query_safe('SET LOCAL enable_seqscan = off');
	like($s->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> vec($q, 16)"),
		qr/Index Scan using t_idx/, 'the cursor\'s query is an index scan');
	$s->query_safe("DECLARE c CURSOR FOR SELECT id FROM t ORDER BY v <-> vec($q, 16)");
	my $first = $s->query_safe('FETCH 5 FROM c');
	return ($s, $ids, $exact, $first);
}

# fetch_rest fetches the rest of the cursor; returns (rows, stderr, died).
sub fetch_rest
{
	my ($s) = @_;
	my $rest = '';
	my $died = !eval { $rest = $s->query('FETCH ALL FROM c'); 1 };
	return ($rest, $s->{stderr} // '', $died);
}

# ---- 1. max_standby_streaming_delay = -1: replay waits for the cursor ----

my ($s, $ids, $exact, $first) = open_cursor(1000001);
churn();
my $lsn = $primary->lsn('insert');
$primary->wait_for_catchup($standby, 'write', $lsn);
my $waits = 0;
for (1 .. 100)
{
	$waits = $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'startup' AND wait_event = 'RecoveryConflictSnapshot'});
	last if $waits;
	usleep(100_000);
}
is($waits, '1', 'the standby\'s replay waits on a snapshot conflict while the cursor is open');
is($standby->safe_psql('postgres', "SELECT pg_last_wal_replay_lsn() < '$lsn'"), 't',
	'replay stops short of the primary\'s lsn');
my ($rest, $err, $died) = fetch_rest($s);
is("$err" . ($died ? ' (psql died)' : ''), '', 'the open cursor fetches the rest (no 40001)');
my @got = (split(/\n/, $first), split(/\n/, $rest));
is(join(',', sort { $a <=> $b } @got), $ids, 'the cursor returns every row of its snapshot once');
is(join(',', @got[0 .. 9]), $exact, 'the first 10 are the exact nearest');
$s->query('COMMIT');
$s->quit;
$primary->wait_for_catchup($standby, 'replay', $lsn);
pass('after COMMIT, replay catches up');
is($standby->safe_psql('postgres', q{SELECT vecdb_verify('t_idx')}), 't', 'standby: t_idx verifies');

# ---- 2. max_standby_streaming_delay = 0, vecdb per-backend: the cursor is cancelled ----

$standby->append_conf('postgresql.conf', q{
max_standby_streaming_delay = 0
shared_preload_libraries = ''
});
$standby->restart;
is($standby->safe_psql('postgres', q{SHOW shared_preload_libraries}), '',
	'vecdb is not preloaded on the standby');
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
my $conflicts = $standby->safe_psql('postgres', q{SELECT confl_snapshot FROM pg_stat_database_conflicts WHERE datname = 'postgres'});
my $log_at = -s $standby->logfile;
($s, $ids, $exact, $first) = open_cursor(1000002);
churn();
$lsn = $primary->lsn('insert');
$primary->wait_for_catchup($standby, 'replay', $lsn);
pass('replay does not wait for the cursor');
($rest, $err, $died) = fetch_rest($s);
like($err, qr/40001: (canceling statement|terminating connection) due to conflict with recovery/,
	'the cursor is cancelled with a recovery conflict (40001)');
unlike($err, qr/compacted concurrently/, 'not with a page check\'s 40001');
@got = (split(/\n/, $first), split(/\n/, $rest));
my %in = map { $_ => 1 } split(/,/, $ids);
is(scalar(grep { !$in{$_} } @got), 0, 'no row outside the cursor\'s snapshot');
ok($standby->log_contains(qr/40001 .*due to conflict with recovery/, $log_at),
	'the standby logs the conflict');
cmp_ok($standby->safe_psql('postgres', q{SELECT confl_snapshot FROM pg_stat_database_conflicts WHERE datname = 'postgres'}),
	'>', $conflicts, 'it counts as a snapshot conflict');
eval { $s->quit };
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', q{SELECT vecdb_verify('t_idx')}), 't', 'standby: t_idx verifies');
is($standby->safe_psql('postgres', q{SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> vec(1, 16)) x}),
	$primary->safe_psql('postgres', q{SELECT count(*) FROM t}), 'standby: t_idx returns every row');

$standby->stop;
$primary->stop;
done_testing();
