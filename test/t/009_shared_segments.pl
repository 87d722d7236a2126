# 009_shared_segments.pl: the shared segment area (vecdb in
# shared_preload_libraries). Sessions share one load per segment and get the
# exact answers; DDL, compaction and VACUUM next to an open index scan leave
# no stale answers and no pins; backends killed while scanning or loading
# leave a sane area after the restart; an area smaller than a segment
# overflows to private copies and a small one evicts, with the same answers;
# a hot standby loads the segments WAL brought; vecdb_prewarm fills the area
# after a restart; without preload everything works per backend (and CREATE
# EXTENSION warns); the monitoring functions are for pg_monitor, and
# vecdb_prewarm needs SELECT on the table.
#
# The per-backend node and the 1 MB node are copies of the shared node's
# base backup, so their indexes hold the same bytes and must answer the same.
# On this data (uniform random vectors, at most 6,000 rows) hnsw with
# ef_search 200 and ivfflat with probes = lists are exact, so every index
# answer is also compared with the exact (sequential scan) answer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $k = 10;
my %dims = (th => 16, ti => 16, tf => 64, big => 32, e1 => 32, e2 => 32);

my $primary = PostgreSQL::Test::Cluster->new('shared');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
vecdb.shared_memory_size = 18
autovacuum = off
restart_after_crash = on
vecdb.min_index_rows = 100
hnsw.ef_search = 200
ivfflat.probes = 16
# every compaction here makes a new segment beside the others (the layouts
# below count on it), rather than adding rows to the largest one's index
vecdb.merge_onto_fraction = 0
});
$primary->start;

# vec(i, d): a pseudo-random vector (uniform in [0, 1)^d) per id.
$primary->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION vec(i bigint, d int) RETURNS vector IMMUTABLE LANGUAGE sql AS
	$$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real
	                FROM generate_series(1, d) j)::vector $$;
	-- th, ti: two sealed segments each (a build, then 1,000 rows VACUUM compacts)
	CREATE TABLE th (id int PRIMARY KEY, embedding vector(16));
	CREATE TABLE ti (id int PRIMARY KEY, embedding vector(16));
	INSERT INTO th SELECT i, vec(i, 16) FROM generate_series(1, 4000) i;
	INSERT INTO ti SELECT i, vec(i, 16) FROM generate_series(1, 4000) i;
	CREATE INDEX th_idx ON th USING hnsw (embedding vector_l2_ops);
	CREATE INDEX ti_idx ON ti USING ivfflat (embedding vector_l2_ops) WITH (lists = 16);
	INSERT INTO th SELECT i, vec(i, 16) FROM generate_series(4001, 5000) i;
	INSERT INTO ti SELECT i, vec(i, 16) FROM generate_series(4001, 5000) i;
	-- tf: one 10.8 MB flat segment (slow enough to load that a backend can die in the middle)
	CREATE TABLE tf (id int PRIMARY KEY, embedding vector(64));
	INSERT INTO tf SELECT i, vec(i, 64) FROM generate_series(1, 40000) i;
	CREATE INDEX tf_idx ON tf USING flat (embedding vector_l2_ops);
	-- big: one 1.5 MB hnsw segment; e1, e2: one 0.55 MB ivfflat segment each
	CREATE TABLE big (id int PRIMARY KEY, embedding vector(32));
	INSERT INTO big SELECT i, vec(i, 32) FROM generate_series(1, 6000) i;
	CREATE INDEX big_idx ON big USING hnsw (embedding vector_l2_ops);
	CREATE TABLE e1 (id int PRIMARY KEY, embedding vector(32));
	CREATE TABLE e2 (id int PRIMARY KEY, embedding vector(32));
	INSERT INTO e1 SELECT i, vec(i, 32) FROM generate_series(1, 4000) i;
	INSERT INTO e2 SELECT i, vec(i + 100000, 32) FROM generate_series(1, 4000) i;
	CREATE INDEX e1_idx ON e1 USING ivfflat (embedding vector_l2_ops) WITH (lists = 16);
	CREATE INDEX e2_idx ON e2 USING ivfflat (embedding vector_l2_ops) WITH (lists = 16);
});
$primary->safe_psql('postgres', 'VACUUM th; VACUUM ti; CHECKPOINT');

# The copies: a streaming standby (preloaded, from the primary's settings),
# a per-backend node, and a node whose area (1 MB) is smaller than big's segment.
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init_from_backup($primary, 'base');
$plain->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$plain->start;
my $small = PostgreSQL::Test::Cluster->new('small');
$small->init_from_backup($primary, 'base');
$small->append_conf('postgresql.conf', "vecdb.shared_memory_size = 1\n");
$small->start;

# The shared area starts empty (a restart; the setup's VACUUMs compacted).
$primary->restart;

# ---- helpers ----

# knn_sql: for 5 query vectors, the k nearest ids of table t, one line.
sub knn_sql
{
	my ($t) = @_;
	my $d = $dims{$t};
	return qq{SELECT string_agg(s.ids, ' ' ORDER BY s.q) FROM (SELECT q, (SELECT string_agg(id::text, ',' ORDER BY dist, id)
		FROM (SELECT id, embedding <-> vec(q, $d) AS dist FROM $t ORDER BY embedding <-> vec(q, $d) LIMIT $k) x) AS ids
		FROM generate_series(1000001, 1000005) q) s};
}

sub knn
{
	my ($node, $t, $exact) = @_;
	my $set = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_seqscan = off;';
	return $node->safe_psql('postgres', $set . knn_sql($t));
}

# check_knn: node's index answer for t equals the exact answer; returns it.
sub check_knn
{
	my ($node, $t, $what) = @_;
	my $exact = knn($node, $t, 1);
	my $got = knn($node, $t, 0);
	is($got, $exact, "$what: $t: index search equals exact search");
	return $got;
}

sub status
{
	my ($node) = @_;
	my @f = split /\|/, $node->safe_psql('postgres',
		'SELECT enabled, size, used, segments, loads, hits, waits, evictions, overflows FROM vecdb_shared_status()');
	my %s;
	@s{qw(enabled size used segments loads hits waits evictions overflows)} = @f;
	return \%s;
}

# area_sane: every entry is ready and unpinned.
sub area_sane
{
	my ($node, $what) = @_;
	is($node->safe_psql('postgres',
			q{SELECT count(*) FILTER (WHERE pins <> 0) || ' pinned, ' || count(*) FILTER (WHERE state <> 'ready')
			  || ' not ready' FROM vecdb_shared_segments()}),
		'0 pinned, 0 not ready', "$what: no pins held and no load pending in the area");
}

sub nsealed
{
	my ($node, $idx) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM vecdb_index_info('$idx') WHERE segment IS NOT NULL");
}

# index_ids: the first n ids of an index scan of t from query vector q.
sub index_ids
{
	my ($node, $t, $q, $n) = @_;
	return $node->safe_psql('postgres',
		"SET enable_seqscan = off; SELECT id FROM $t ORDER BY embedding <-> vec($q, $dims{$t}) LIMIT $n");
}

# open_holder: a session in a transaction with an index scan open (a cursor
# that has fetched 5 rows); returns the session, its pid and those rows.
sub open_holder
{
	my ($node, $t, $q) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_safe("BEGIN; SET LOCAL enable_seqscan = off;
		DECLARE c CURSOR FOR SELECT id FROM $t ORDER BY embedding <-> vec($q, $dims{$t})");
	my $first = $s->query_safe('FETCH 5 FROM c');
	return ($s, $pid, $first);
}

my $tmp = PostgreSQL::Test::Utils::tempdir;

# run_sessions: n sessions at once run the knn queries on the tables; returns their outputs.
sub run_sessions
{
	my ($node, $n, @tables) = @_;
	my $script = "$tmp/sessions.sql";
	open my $fh, '>', $script or die "$script: $!";
	print $fh "SET enable_seqscan = off;\n";
	print $fh knn_sql($_) . ";\n" for @tables;
	close $fh;
	my (@h, @out, @err);
	for my $i (0 .. $n - 1)
	{
		($out[$i], $err[$i]) = ('', '');
		push @h, IPC::Run::start(
			[ 'psql', '-X', '-Atq', '-v', 'ON_ERROR_STOP=1', '-f', $script, '-d', $node->connstr('postgres') ],
			'<', \undef, '>', \$out[$i], '2>', \$err[$i]);
	}
	$_->finish for @h;
	is(join('', @err), '', "$n concurrent sessions ran without error");
	return @out;
}

# ---- 1. one load per segment, identical exact answers ----

my %exact;
$exact{$_} = knn($primary, $_, 1) for qw(th ti);
like($primary->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . knn_sql('th')),
	qr/Index Scan using th_idx/, 'th: the knn query plans an index scan');
like($primary->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . knn_sql('ti')),
	qr/Index Scan using ti_idx/, 'ti: the knn query plans an index scan');
my $nseg = nsealed($primary, 'th_idx') + nsealed($primary, 'ti_idx');
is($nseg, 4, 'th_idx and ti_idx have two sealed segments each');
my $st = status($primary);
is("$st->{enabled} $st->{loads} $st->{segments}", 't 0 0', 'preloaded: the area is on and empty after a restart');
is($st->{size}, 18 * 1024 * 1024, 'the area has vecdb.shared_memory_size bytes');

my $expected = "$exact{th}\n$exact{ti}";
my @outs = run_sessions($primary, 2, 'th', 'ti');
is(scalar(grep { $_ eq "$expected\n" } @outs), 2, '2 sessions: both get the exact answers');
$st = status($primary);
is($st->{loads}, $nseg, '2 sessions: one load per segment');
# every scan pins (and counts a hit on) each segment it searches in place
cmp_ok($st->{hits}, '>=', $nseg, '2 sessions: the second session took every segment from the area');
is($primary->safe_psql('postgres', q{SELECT string_agg(loads::text, ',') FROM vecdb_shared_segments()
		WHERE "index" IN ('th_idx'::regclass, 'ti_idx'::regclass)}), '1,1,1,1',
	'2 sessions: vecdb_shared_segments shows each segment loaded once');

@outs = run_sessions($primary, 6, 'th', 'ti');
is(scalar(grep { $_ eq "$expected\n" } @outs), 6, '6 sessions: all get the exact answers');
my $st6 = status($primary);
is($st6->{loads}, $nseg, '6 sessions: still one load per segment');
cmp_ok($st6->{hits} - $st->{hits}, '>=', 6 * $nseg,
	'6 sessions: every session took every segment from the area (hits grow)');
area_sane($primary, '6 sessions');

# ---- 8. per-backend mode: same answers, warning, no area ----

for my $t (qw(th ti big e1 e2))
{
	my $p = knn($plain, $t, 0);
	is($p, knn($primary, $t, 0), "per-backend node: $t: same answer as the shared node");
	is($p, knn($plain, $t, 1), "per-backend node: $t: index search equals exact search");
}
is($plain->safe_psql('postgres', 'SELECT enabled, size IS NULL FROM vecdb_shared_status()'), 'f|t',
	'per-backend node: vecdb_shared_status().enabled is false');
is($plain->safe_psql('postgres', 'SELECT count(*) FROM vecdb_shared_segments()'), '0',
	'per-backend node: vecdb_shared_segments() is empty');
is($plain->safe_psql('postgres', "SELECT vecdb_prewarm('th_idx')"), nsealed($plain, 'th_idx'),
	'per-backend node: vecdb_prewarm returns the sealed segment count');
$plain->safe_psql('postgres', 'CREATE DATABASE d2');
my ($ret, $out, $err) = $plain->psql('d2', 'CREATE EXTENSION vecdb');
is($ret, 0, 'per-backend node: CREATE EXTENSION succeeds');
like($err, qr/WARNING:  vecdb keeps a private copy of each index in every connection.*shared_preload_libraries/s,
	'per-backend node: CREATE EXTENSION warns, naming shared_preload_libraries');
$primary->safe_psql('postgres', 'CREATE DATABASE d2');
($ret, $out, $err) = $primary->psql('d2', 'CREATE EXTENSION vecdb');
is("$ret $err", '0 ', 'shared node: CREATE EXTENSION succeeds without a warning');

# ---- 4 and 5. an area smaller than a segment; an area that holds one of two ----

my $big_shared = knn($primary, 'big', 0);
is($big_shared, knn($primary, 'big', 1), 'shared node: big: index search equals exact search');
for my $i (1 .. 2)
{
	is(knn($small, 'big', 0), $big_shared, "1 MB area: big (1.5 MB segment), session $i: same answer as the shared node");
}
$st = status($small);
cmp_ok($st->{overflows}, '>', 0, "1 MB area: the segment that does not fit is counted as an overflow ($st->{overflows})");
is($st->{segments}, 0, '1 MB area: the oversized segment is not resident');
{
	my ($r, $o, $e) = $small->psql('postgres',
		"SET enable_seqscan = off; SELECT id FROM big ORDER BY embedding <-> (SELECT embedding FROM big LIMIT 1) LIMIT 1");
	like($e, qr/NOTICE:  a segment of index "big_idx" \([0-9]+ MB\) is larger than vecdb.shared_memory_size \(1 MB\).*HINT:  Raise vecdb.shared_memory_size/s,
		'1 MB area: a new connection is told once that the segment is larger than the area, with the setting to raise');
}
my %e_answer = (e1 => knn($primary, 'e1', 0), e2 => knn($primary, 'e2', 0));
is($e_answer{$_}, knn($primary, $_, 1), "shared node: $_: index search equals exact search") for qw(e1 e2);
my $alternations_ok = 0;
for my $round (1 .. 3)
{
	for my $t (qw(e1 e2))
	{
		$alternations_ok++ if knn($small, $t, 0) eq $e_answer{$t};
	}
}
is($alternations_ok, 6, '1 MB area: alternating e1 and e2 (0.55 MB each) answers right every time');
$st = status($small);
cmp_ok($st->{evictions}, '>', 0, "1 MB area: alternating evicts ($st->{evictions} evictions, $st->{loads} loads)");
cmp_ok($st->{loads}, '>=', 6, '1 MB area: each alternation loads again');
cmp_ok($st->{used}, '<=', $st->{size}, '1 MB area: used stays within the area');
area_sane($small, '1 MB area');

# The area's table tracks at most max_segments entries (1,024 here). Stale
# entries (of indexes rebuilt since) are evicted only when the area's memory
# runs short, so 1,030 REINDEXes of a one-row index fill the table.
$small->safe_psql('postgres', q{
	CREATE TABLE one (id int, embedding vector(16));
	INSERT INTO one VALUES (1, vec(1, 16));
	CREATE INDEX one_idx ON one USING hnsw (embedding vector_l2_ops);
	DO $$ BEGIN
		SET LOCAL enable_seqscan = off;
		FOR i IN 1 .. 1030 LOOP
			REINDEX INDEX one_idx;
			PERFORM id FROM one ORDER BY embedding <-> vec(5, 16) LIMIT 1;
		END LOOP;
	END $$;
});
is(knn($small, 'e1', 0), $e_answer{e1}, '1 MB area, table of stale entries: e1 answers right');
$st = status($small);
# the table never outgrows max_segments (stale entries are evicted for room)
cmp_ok($st->{segments}, '<=', $small->safe_psql('postgres', 'SELECT max_segments FROM vecdb_shared_status()'),
	"1 MB area: at most max_segments entries after 1,030 rebuilt indexes ($st->{segments})");
area_sane($small, '1 MB area, table of stale entries');

# ---- 2. DDL, compaction and VACUUM next to an open scan ----

# 2a. vecdb_compact while a cursor on th_idx is open: it runs concurrently.
my $q = 1000001;
my $before = index_ids($primary, 'th', $q, 25);
is($before, $primary->safe_psql('postgres',
		"SET enable_indexscan = off; SELECT id FROM th ORDER BY embedding <-> vec($q, 16) LIMIT 25"),
	'th: the holder\'s query has the exact answer before the changes');
my @before = split /\n/, $before;
my ($holder, $holder_pid, $first) = open_holder($primary, 'th', $q);
# the open scan searches the shared copies in place: it holds a pin on each
is($primary->safe_psql('postgres', q{SELECT bool_and(pins >= 1) FROM vecdb_shared_segments()
		WHERE "index" = 'th_idx'::regclass}), 't', 'an open scan pins the segments it searches');
is($first, join("\n", @before[0 .. 4]), 'holder: the first 5 rows of the open scan');
my $gen0 = $primary->safe_psql('postgres', "SELECT max(generation) FROM vecdb_index_info('th_idx')");
# rows equal to the query vectors (they must come first in any fresh search),
# two of the holder's rows deleted, then everything merged into one segment
($ret, $out, $err) = $primary->psql('postgres', qq{
	SET lock_timeout = '10s';
	INSERT INTO th SELECT 900000 + n, vec(1000000 + n, 16) FROM generate_series(1, 5) n;
	INSERT INTO th SELECT i, vec(i, 16) FROM generate_series(5001, 5600) i;
	DELETE FROM th WHERE id IN ($before[6], $before[7]);
	VACUUM th;
	SELECT vecdb_compact('th_idx')});
is("$ret $err", '0 ', 'vecdb_compact and VACUUM run while another session has an open scan');
is($primary->safe_psql('postgres', "SELECT count(*), max(generation) > $gen0 FROM vecdb_index_info('th_idx') WHERE segment IS NOT NULL"),
	'1|t', 'th_idx was compacted into one segment');
is($holder->query_safe('FETCH 20 FROM c'), join("\n", @before[5 .. 24]),
	'holder: the open scan finishes with its snapshot\'s rows, deleted ones included');
my $fresh_exact = $primary->safe_psql('postgres',
	"SET enable_indexscan = off; SELECT id FROM th ORDER BY embedding <-> vec($q, 16) LIMIT 25");
like($fresh_exact, qr/^900001\n/, 'the inserted row equal to the query vector is the exact nearest');
is($holder->query_safe("SET LOCAL enable_seqscan = off; SELECT id FROM th ORDER BY embedding <-> vec($q, 16) LIMIT 25"),
	$fresh_exact, 'holder: a new statement in the same transaction sees the compacted index (not stale)');
$holder->query_safe('COMMIT');
$holder->quit;
check_knn($primary, 'th', 'after vecdb_compact');
area_sane($primary, 'after the holder ended (compaction)');

# 2b. VACUUM compaction of ti_idx (1,000 new rows) under an open scan.
$before = index_ids($primary, 'ti', $q, 25);
@before = split /\n/, $before;
($holder, $holder_pid, $first) = open_holder($primary, 'ti', $q);
$gen0 = $primary->safe_psql('postgres', "SELECT max(generation) FROM vecdb_index_info('ti_idx')");
($ret, $out, $err) = $primary->psql('postgres', q{
	INSERT INTO ti SELECT 900000 + n, vec(1000000 + n, 16) FROM generate_series(1, 5) n;
	INSERT INTO ti SELECT i, vec(i, 16) FROM generate_series(5001, 6000) i;
	VACUUM ti});
is("$ret $err", '0 ', 'VACUUM runs while another session has an open scan of ti_idx');
is($primary->safe_psql('postgres', "SELECT max(generation) > $gen0 FROM vecdb_index_info('ti_idx')"), 't',
	'VACUUM compacted ti_idx\'s growing segment');
is($first . "\n" . $holder->query_safe('FETCH 20 FROM c'), $before,
	'holder: the open ti_idx scan finishes with its snapshot\'s rows');
$holder->query_safe('COMMIT');
$holder->quit;
like(check_knn($primary, 'ti', 'after VACUUM compaction'), qr/^900001,/, 'ti: fresh searches find the new rows');
area_sane($primary, 'after the holder ended (VACUUM)');

# 2c. TRUNCATE, REINDEX and DROP INDEX wait for the open scan's lock
# (lock_timeout); CREATE INDEX CONCURRENTLY waits for its snapshot; all
# succeed once it ends.
$before = index_ids($primary, 'th', $q, 25);
@before = split /\n/, $before;
($holder, $holder_pid, $first) = open_holder($primary, 'th', $q);
for my $ddl ('TRUNCATE th', 'REINDEX INDEX th_idx', 'DROP INDEX th_idx')
{
	($ret, $out, $err) = $primary->psql('postgres', "SET lock_timeout = '100ms'; $ddl");
	like($err, qr/canceling statement due to lock timeout/, "$ddl waits for the open scan's lock (lock_timeout)");
}
my $cic = $primary->background_psql('postgres');
$cic->query_until(qr/cic started/, "\\echo cic started\nCREATE INDEX CONCURRENTLY th_idx2 ON th USING hnsw (embedding vector_l2_ops) WITH (m = 12);\n");
ok($primary->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'}),
	'CREATE INDEX CONCURRENTLY waits for the open scan\'s snapshot');
is($first . "\n" . $holder->query_safe('FETCH 20 FROM c'), $before,
	'holder: the open scan finishes correctly during TRUNCATE/REINDEX/DROP attempts and CREATE INDEX CONCURRENTLY');
$holder->query_safe('COMMIT');
$holder->quit;
$cic->query_safe('SELECT 1');
$cic->quit;
is($primary->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'th_idx2'::regclass}), 't',
	'CREATE INDEX CONCURRENTLY completed after the holder ended');
$primary->safe_psql('postgres', 'REINDEX INDEX th_idx');
check_knn($primary, 'th', 'after REINDEX');
$primary->safe_psql('postgres', 'DROP INDEX th_idx');
like($primary->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . knn_sql('th')),
	qr/Index Scan using th_idx2/, 'after DROP INDEX th_idx: searches use th_idx2');
check_knn($primary, 'th', 'after DROP INDEX');
$primary->safe_psql('postgres', 'REINDEX INDEX th_idx2');
check_knn($primary, 'th', 'after REINDEX of the concurrently built index');
# TRUNCATE, then other vectors under the same ids
$primary->safe_psql('postgres', 'TRUNCATE th');
$primary->safe_psql('postgres', 'INSERT INTO th SELECT i, vec(i + 7000000, 16) FROM generate_series(1, 5000) i');
$primary->safe_psql('postgres', 'VACUUM th');
is(nsealed($primary, 'th_idx2'), '1', 'after TRUNCATE and inserts, VACUUM sealed a new segment');
check_knn($primary, 'th', 'after TRUNCATE and other rows');
area_sane($primary, 'after the DDL');

# 2d. TRUNCATE in the transaction that created the table keeps the
# relfilenode (the index is rebuilt in place): the area must not return the
# old segment.
is($primary->safe_psql('postgres', q{
	BEGIN;
	CREATE TABLE tt (id int PRIMARY KEY, embedding vector(16));
	INSERT INTO tt SELECT i, vec(i, 16) FROM generate_series(1, 2000) i;
	CREATE INDEX tt_idx ON tt USING hnsw (embedding vector_l2_ops);
	SET LOCAL enable_seqscan = off;
	CREATE TEMP TABLE r AS SELECT pg_relation_filenode('tt_idx') AS f1,
		(SELECT string_agg(id::text, ',') FROM (SELECT id FROM tt ORDER BY embedding <-> vec(1000001, 16) LIMIT 5) s) AS a1;
	TRUNCATE tt;
	INSERT INTO tt SELECT i, vec(i + 3000000, 16) FROM generate_series(1, 2000) i;
	DO $$ BEGIN PERFORM vecdb_compact('tt_idx'); END $$;
	UPDATE r SET a1 = a1 || ' ' || (SELECT string_agg(id::text, ',') FROM (SELECT id FROM tt ORDER BY embedding <-> vec(1000001, 16) LIMIT 5) s);
	SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
	SELECT f1 = pg_relation_filenode('tt_idx'),
		split_part(a1, ' ', 2) = (SELECT string_agg(id::text, ',') FROM (SELECT id FROM tt ORDER BY embedding <-> vec(1000001, 16) LIMIT 5) s)
	FROM r;
	COMMIT;}), 't|t', 'TRUNCATE in the creating transaction (same relfilenode): the rebuilt index answers with the new rows');

# ---- 3. backends killed while scanning and while loading ----

# A load interrupted in its middle: in a freshly restarted server a loader
# searches tf (a 10.8 MB segment, copied page by page with interrupt checks);
# a poller backend spins until vecdb_shared_segments() shows it loading, then
# cancels it (ERROR path), terminates it (FATAL path) or reports back so that
# the test SIGKILLs it. Best effort: the load may finish before the signal is
# handled; interrupt_load returns whether it did not.
sub interrupt_load
{
	my ($how) = @_;
	$primary->restart;
	my $loader = $primary->background_psql('postgres', on_error_stop => 0);
	my $loader_pid = $loader->query_safe('SELECT pg_backend_pid()');
	my $signal = $how eq 'cancel' ? "PERFORM pg_cancel_backend($loader_pid);"
	  : $how eq 'terminate' ? "PERFORM pg_terminate_backend($loader_pid);" : '';
	my $poller = $primary->background_psql('postgres');
	$poller->query_until(qr/polling/, qq{\\echo polling
DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
	WHILE NOT EXISTS (SELECT 1 FROM vecdb_shared_segments() WHERE state = 'loading') LOOP
		IF clock_timestamp() - t0 > interval '60 s' THEN RAISE EXCEPTION 'no load seen'; END IF;
	END LOOP;
	$signal
END \$\$;
\\echo seen
});
	my $log_offset = -s $primary->logfile;
	$loader->query_until(qr/go/, "\\echo go\nSET enable_seqscan = off;\nSELECT id FROM tf ORDER BY embedding <-> vec(1, 64) LIMIT 1;\n");
	$poller->query_until(qr/seen/, '');
	if ($how eq 'kill')
	{
		ok(kill('KILL', $loader_pid), 'SIGKILL of the backend loading a segment');
		$primary->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
		$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
	}
	eval { $poller->quit; };
	eval { $loader->quit; };
	my $interrupted = status($primary)->{loads} == 0;
	note("$how during a load: " . ($interrupted ? 'the load was interrupted' : 'the load finished first'))
	  unless $how eq 'kill';
	return $interrupted;
}

# 3a. Cancel (ERROR inside the load: PG_CATCH abandons it) and terminate
# (FATAL: the before_shmem_exit callback abandons it): the entry goes away
# and the area can hold the segment again.
for my $how ('cancel', 'terminate')
{
	my $interrupted = interrupt_load($how);
	SKIP:
	{
		skip "$how: the load finished before the signal was handled", 3 unless $interrupted;
		is(status($primary)->{segments}, 0, "$how during a load: the abandoned load left no entry");
		is(knn($primary, 'tf', 0), knn($primary, 'tf', 1), "after $how during a load: tf answers exactly");
		# a loader ending with FATAL returns the memory it took (before_shmem_exit)
		my $st2 = status($primary);
		is("$st2->{loads} $st2->{overflows}", '1 0',
			"after $how during a load: the segment loads into the area again (its memory was returned)");
	}
	area_sane($primary, "after $how during a load");
}

# 3b. SIGKILL of a backend with an open scan: the postmaster restarts.
my ($holder_k, $holder_k_pid) = open_holder($primary, 'ti', $q);
my $log_offset = -s $primary->logfile;
ok(kill('KILL', $holder_k_pid), 'SIGKILL of the backend with an open scan');
$primary->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
eval { $holder_k->quit; };
$st = status($primary);
is("$st->{enabled} $st->{segments}", 't 0', 'after SIGKILL during a scan: the area is on and was reinitialized');
check_knn($primary, $_, 'after SIGKILL during a scan') for qw(th ti);
area_sane($primary, 'after SIGKILL during a scan');

# 3c. SIGKILL of a backend while it loads (best effort, see interrupt_load).
interrupt_load('kill');
$st = status($primary);
is("$st->{enabled} $st->{segments} $st->{loads}", 't 0 0', 'after SIGKILL during a load: the area was reinitialized');
check_knn($primary, $_, 'after SIGKILL during a load') for qw(tf th ti);
$st = status($primary);
is($st->{loads}, nsealed($primary, 'tf_idx') + nsealed($primary, 'th_idx2') + nsealed($primary, 'ti_idx'),
	'after SIGKILL during a load: each segment loaded once');
area_sane($primary, 'after SIGKILL during a load');

# ---- 6. hot standby ----

my $sloads = status($standby)->{loads};
for my $round (1 .. 3)
{
	my $base = 8000000 + $round * 10000;
	$primary->safe_psql('postgres', qq{
		INSERT INTO th SELECT i, vec(i, 16) FROM generate_series($base, $base + 399) i;
		INSERT INTO ti SELECT i, vec(i, 16) FROM generate_series($base, $base + 399) i;
		DELETE FROM th WHERE id % 7 = $round;
		DELETE FROM ti WHERE id % 7 = $round;
		SELECT vecdb_compact('th_idx2', false), vecdb_compact('ti_idx', $round = 3);
	});
	$primary->safe_psql('postgres', 'VACUUM th; VACUUM ti');
	$primary->wait_for_catchup($standby);
	for my $t (qw(th ti))
	{
		my $p = check_knn($primary, $t, "standby round $round: primary");
		is(knn($standby, $t, 0), $p, "standby round $round: $t: the standby answers as the primary");
	}
}
is($standby->safe_psql('postgres', q{SELECT count(*) FROM (SELECT 'th_idx2'::regclass AS i UNION ALL SELECT 'ti_idx') x,
		vecdb_index_info(x.i) v
	WHERE v.segment IS NOT NULL AND NOT EXISTS (SELECT 1 FROM vecdb_shared_segments() s
		WHERE s."index" = x.i::oid AND s.segment = v.segment AND s.state = 'ready')}), '0',
	'standby: every current sealed segment is resident in the standby\'s area');
cmp_ok(status($standby)->{loads}, '>', $sloads, 'standby: its area loaded the new segments');
area_sane($standby, 'standby');

# ---- 7. restart, prewarm ----

$primary->restart;
my $ti_seg = nsealed($primary, 'ti_idx');
is($primary->safe_psql('postgres', "SELECT vecdb_prewarm('ti_idx')"), $ti_seg,
	'vecdb_prewarm returns the sealed segment count of vecdb_index_info');
$st = status($primary);
is($st->{loads}, $ti_seg, 'vecdb_prewarm loaded every sealed segment');
check_knn($primary, 'ti', 'after prewarm');
my $st2 = status($primary);
is($st2->{loads}, $st->{loads}, 'after prewarm: a new session\'s search loads nothing');
cmp_ok($st2->{hits} - $st->{hits}, '>=', $ti_seg, 'after prewarm: a new session\'s search hits every segment');
area_sane($primary, 'after prewarm');

# ---- 9. privileges ----

$primary->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	CREATE ROLE mon LOGIN IN ROLE pg_monitor;
});
for my $f ('vecdb_shared_status()', 'vecdb_shared_segments()')
{
	($ret, $out, $err) = $primary->psql('postgres', "SELECT count(*) FROM $f",
		extra_params => [ '-U', 'alice', '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/42501: permission denied for function/, "$f: permission denied for an ordinary role");
	($ret, $out, $err) = $primary->psql('postgres', "SELECT count(*) FROM $f", extra_params => [ '-U', 'mon' ]);
	is("$ret $err", '0 ', "$f: allowed for a pg_monitor member");
}
($ret, $out, $err) = $primary->psql('postgres', "SELECT vecdb_prewarm('ti_idx')",
	extra_params => [ '-U', 'alice', '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42501: permission denied for table ti/, 'vecdb_prewarm without SELECT on the table: 42501');
$primary->safe_psql('postgres', 'GRANT SELECT ON ti TO alice');
is($primary->safe_psql('postgres', "SELECT vecdb_prewarm('ti_idx')", extra_params => [ '-U', 'alice' ]), $ti_seg,
	'vecdb_prewarm with SELECT on the table');

$standby->stop;
$small->stop;
$plain->stop;
$primary->stop;
done_testing();
