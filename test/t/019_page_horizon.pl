# 019_page_horizon.pl: pages of the chains a compaction retires are reused
# only once no snapshot can still need them (an XID horizon, as nbtree's page
# recycling; issue 12, item 5).
#
# Index t_idx is hnsw with sq_bits = 8: its segments keep full rows on pages
# that a scan reads while it runs (to re-rank), so an open cursor still reads
# the pages of the segment it started on long after a compaction replaced it.
#   1. Primary: a cursor (REPEATABLE READ) fetches 5 rows; another session
#      runs three rounds of inserts, deletes and vecdb_compact; the cursor
#      then fetches the rest: every row of its snapshot once, the first 10
#      the exact answer computed up front. (Before horizons, the second
#      compaction freed the first one's chains and the cursor failed with
#      40001.)
#   2. Once the cursor is gone, the pages are freed: over repeated rounds
#      of churn and compaction the index stops growing.
#   3. While a cursor is open, a compaction whose chains the pending list
#      cannot take does nothing (NOTICE); after it ends, compaction resumes.
#   4. A streaming standby with hot_standby_feedback = on: a standby cursor
#      survives three compactions on the primary the same way (its xmin,
#      fed back, holds the primary's horizon).
#
# Vectors are pseudo-random, vec(i, d) uniform in [0, 1)^d, as in TAP 012.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rows = 3000;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
vecdb.min_index_rows = 100
vecdb.seal_growing_rows = 0
hnsw.ef_search = 200
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
});
is($primary->safe_psql('postgres', q{SELECT string_agg(kind, ',') FROM vecdb_index_info('t_idx') WHERE segment IS NOT NULL}),
	'hnsw_sq', 't_idx is one hnsw_sq segment (rows on pages)');

my $next_id = 100000;

# churn runs three rounds of inserts, deletes and full compactions on t
# (each compaction retires the chains of the segment before it).
sub churn
{
	my ($node, $rounds) = @_;
	for my $r (1 .. $rounds)
	{
		my $from = $next_id;
		$next_id += 200;
		$node->safe_psql('postgres', qq{
			INSERT INTO t SELECT i, vec(i, 16) FROM generate_series($from, $next_id - 1) i;
			DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY id LIMIT 200);
			VACUUM t;
		});
		is($node->safe_psql('postgres', q{SELECT vecdb_compact('t_idx')}), 't', "compaction $r of $rounds ran");
	}
}

# open_cursor starts a REPEATABLE READ transaction on node with a cursor
# over an index scan of t ordered by distance to vec(q); it returns the
# session and the cursor's first 5 rows.
sub open_cursor
{
	my ($node, $q) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$s->query_safe('SET LOCAL enable_seqscan = off');
	like($s->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> vec($q, 16)"),
		qr/Index Scan using t_idx/, 'the cursor\'s query is an index scan');
	$s->query_safe("DECLARE c CURSOR FOR SELECT id FROM t ORDER BY v <-> vec($q, 16)");
	my $first = $s->query_safe('FETCH 5 FROM c');
	return ($s, $first);
}

# check_cursor fetches the rest of an open cursor and compares it with the
# snapshot's rows (@$ids, sorted) and exact top 10 ($exact); then commits.
sub check_cursor
{
	my ($s, $first, $ids, $exact, $what) = @_;
	my $rest = $s->query('FETCH ALL FROM c');
	is($s->{stderr}, '', "$what: the open cursor fetches the rest after the compactions (no 40001)");
	my @got = (split(/\n/, $first), split(/\n/, $rest));
	is(scalar(@got), scalar(@$ids), "$what: the cursor returns as many rows as its snapshot holds");
	ok(join(',', sort { $a <=> $b } @got) eq join(',', @$ids), "$what: every row of the snapshot once");
	is(join(',', @got[0 .. 9]), $exact, "$what: the first 10 are the exact nearest");
	$s->query('COMMIT');
	$s->quit;
}

# snapshot_rows returns t's ids (sorted) and the exact 10 nearest to vec(q).
sub snapshot_rows
{
	my ($node, $q) = @_;
	my @ids = split /\n/, $node->safe_psql('postgres', 'SELECT id FROM t ORDER BY id');
	my $exact = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SELECT string_agg(id::text, ',') FROM
		 (SELECT id FROM t ORDER BY v <-> vec($q, 16) LIMIT 10) s");
	return (\@ids, $exact);
}

# ---- 1. a cursor on the primary survives quick compactions ----

my $q = 1000001;
my ($ids, $exact) = snapshot_rows($primary, $q);
my ($s, $first) = open_cursor($primary, $q);
churn($primary, 3);
check_cursor($s, $first, $ids, $exact, 'primary');
is($primary->safe_psql('postgres', q{SELECT vecdb_verify('t_idx')}), 't', 'primary: t_idx verifies');

# ---- 2. without readers, retired pages are freed and reused ----

my @size;
for my $r (1 .. 6)
{
	churn($primary, 1);
	push @size, $primary->safe_psql('postgres', q{SELECT pg_relation_size('t_idx') / 8192});
}
note('index pages after each round: ' . join(' ', @size));
cmp_ok($size[5], '<=', $size[1] + 2, 'without readers the index stops growing (retired pages are reused)');

# ---- 3. a full pending list: compaction waits, then resumes ----

# While a cursor holds the horizon, every compaction of s (one row added,
# then a full compaction: three chains retired) keeps its chains pending;
# once the list cannot take a compaction's chains, vecdb_compact does
# nothing, with a NOTICE, rather than lose track of pages. After the cursor
# ends, the next compaction frees them all and compacts.
$primary->safe_psql('postgres', q{
	CREATE TABLE s (id int PRIMARY KEY, v vector(4));
	INSERT INTO s SELECT i, vec(i, 4) FROM generate_series(1, 200) i;
	CREATE INDEX s_idx ON s USING hnsw (v vector_l2_ops);
});
($ids, $exact) = snapshot_rows($primary, $q);
($s, $first) = open_cursor($primary, $q);
my ($ret, $out, $err) = $primary->psql('postgres', q{
	CREATE TEMP TABLE ran (n int);
	DO $$ BEGIN
		FOR i IN 1 .. 100 LOOP
			INSERT INTO s VALUES (1000 + i, vec(1000 + i, 4));
			IF NOT vecdb_compact('s_idx') THEN
				INSERT INTO ran VALUES (i);
				EXIT;
			END IF;
		END LOOP;
	END $$;
	SELECT n FROM ran});
like($out, qr/^\d+$/, "with a cursor open, compaction $out of s_idx waited rather than run");
cmp_ok($out, '>', 50, 'the pending list took the chains of over 50 compactions first');
like($err, qr/NOTICE:  index "s_idx" was not compacted: its retired pages are still needed by older snapshots/,
	'the skipped compaction says why');
is($primary->safe_psql('postgres', q{SELECT vecdb_verify('s_idx')}), 't', 's_idx verifies with a full pending list');
check_cursor($s, $first, $ids, $exact, 'primary, many compactions');
($ret, $out, $err) = $primary->psql('postgres', q{SELECT vecdb_compact('s_idx')});
is("$out $err", 't ', 'after the cursor ended, s_idx compacts again');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> vec(1, 4)) x}),
	$primary->safe_psql('postgres', q{SELECT count(*) FROM s}), 's_idx returns every row');

# ---- 4. a standby cursor with hot_standby_feedback survives quick compactions ----

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', q{
hot_standby_feedback = on
wal_receiver_status_interval = 1
});
$standby->start;
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
$primary->poll_query_until('postgres', q{SELECT backend_xmin IS NOT NULL FROM pg_stat_replication})
  or die 'the standby reports no xmin';

$q = 1000002;
($ids, $exact) = snapshot_rows($standby, $q);
($s, $first) = open_cursor($standby, $q);
churn($primary, 3);
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
check_cursor($s, $first, $ids, $exact, 'standby');
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', q{SELECT vecdb_verify('t_idx')}), 't', 'standby: t_idx verifies');

$standby->stop;
$primary->stop;
done_testing();
