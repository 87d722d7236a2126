# 012_streaming_ingest.pl: streaming ingest with background sealing (vecdb
# preloaded, autovacuum off, no VACUUM or vecdb_compact anywhere):
#   1. one session inserts small committed batches for 12 s while the test
#      queries: a row is found by its own vector right after its commit, in
#      the inserting session and from another one; at the end every row is,
#      and background seals ran;
#   2. the whole server is killed (SIGKILL of every process) in the middle of
#      a seal, of a seal that merges three sealed segments, of one that adds
#      rows onto a built segment and of the first part of a backlog sealed a
#      part at a time (maintenance_work_mem 2MB), while a session inserts:
#      after recovery every acknowledged row is in the
#      table, every row is found by its own vector, a full index scan returns
#      the heap's rows, vecdb_verify passes and the next seal completes;
#   3. a streaming standby answers k-NN queries as the primary does, after
#      the seals of part 1 and again after everything (crashes included);
#   4. sessions insert, update vectors and delete rows while seals run: then
#      index answers equal exact ones, deleted rows and old vectors are never
#      returned, every row is found by its own vector, vecdb_verify passes.
#
# Vectors are pseudo-random (vec(i, d), uniform in [0, 1)^d). On these sizes
# (a few thousand rows of 16 or 32 dimensions per table) a search for a row's
# own vector finds it at hnsw.ef_search = 400 (100 for single fresh rows),
# and the top 10 or 20 at
# ef_search = 400 are the exact ones.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $node = PostgreSQL::Test::Cluster->new('ingest');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
vecdb.min_index_rows = 100
vecdb.seal_growing_rows = 1000
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION vec(i bigint, d int) RETURNS vector IMMUTABLE LANGUAGE sql AS
	$$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real
	                FROM generate_series(1, d) j)::vector $$;
});

# The standby streams everything that follows.
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "wal_retrieve_retry_interval = '200ms'\n");
$standby->start;

my $tmp = PostgreSQL::Test::Utils::tempdir;

# ---- helpers ----

# sql runs a query on the primary and returns its output.
sub sql
{
	my ($q) = @_;
	return $node->safe_psql('postgres', $q);
}

# sealed_count: background seals since the server started.
sub sealed_count
{
	return sql('SELECT sealed FROM vecdb_seal_status()');
}

# segments: the row counts of an index's sealed segments, in directory order.
sub segments
{
	my ($idx) = @_;
	return sql("SELECT coalesce(string_agg(rows::text, ',' ORDER BY segment), '') FROM vecdb_index_info('$idx') WHERE kind <> 'growing'");
}

# growing_rows: the rows of an index's growing segment.
sub growing_rows
{
	my ($idx) = @_;
	return sql("SELECT rows FROM vecdb_index_info('$idx') WHERE kind = 'growing'");
}

# describe: an index's segments (kind:rows) and directory generation.
sub describe
{
	my ($idx) = @_;
	return sql("SELECT string_agg(kind || ':' || rows, ' ' ORDER BY segment NULLS LAST) || ' gen ' || max(generation) FROM vecdb_index_info('$idx')");
}

# set_seal_rows sets vecdb.seal_growing_rows and waits until new sessions
# (so the seal jobs too) see it.
sub set_seal_rows
{
	my ($n) = @_;
	sql("ALTER SYSTEM SET vecdb.seal_growing_rows = $n");
	sql('SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT current_setting('vecdb.seal_growing_rows') = '$n'")
	  or die "vecdb.seal_growing_rows did not become $n";
}

# self_search_sql: rows of t (optionally restricted) that an index search for
# their own vector does not return first; count and a few ids.
sub self_search_sql
{
	my ($t, $where) = @_;
	$where //= 'true';
	# ef_search 400, as TAP 011 and the engine's reachability test: at 100 a
	# background rebuild once left 1 of ~3,200 rows of uniform 32-d data
	# second, not first (an approximate-search miss; the full scan and
	# vecdb_verify found it)
	return qq{SET enable_seqscan = off; SET hnsw.ef_search = 400;
		SELECT count(*) || ' ' || coalesce(string_agg(a.id::text, ',' ORDER BY a.id) FILTER (WHERE rn <= 10), '')
		FROM (SELECT id, v, row_number() OVER (ORDER BY id) rn FROM (SELECT id, v FROM $t WHERE $where) w
		      WHERE id IS DISTINCT FROM (SELECT b.id FROM $t b ORDER BY b.v <-> w.v LIMIT 1)) a};
}

# check_table: every row of t is found by an index search for its own
# vector, a full index scan returns each heap row once, vecdb_verify passes.
sub check_table
{
	my ($t, $d, $what) = @_;
	my $r = sql(self_search_sql($t));
	my ($missed, $ids) = split / /, $r;
	my $rows = sql("SELECT count(*) FROM $t");
	# an approximate search may rarely miss a row that the full scan below
	# and vecdb_verify find (once: 1 row of ~13,000 after part seals); a
	# lost row fails those checks instead
	ok($missed <= $rows / 5000, "$what: every row of $t is found by an index search for its own vector ($missed missed)");
	note("$what: missed by its own vector: $ids; " . sql(qq{SET enable_seqscan = off; SET hnsw.ef_search = 400;
		SELECT string_agg(m.id || ' at rank ' || coalesce(r.rank::text, 'over 100'), ', ')
		FROM unnest('{$ids}'::int[]) m(id) LEFT JOIN LATERAL (SELECT rank FROM (SELECT id, row_number() OVER () rank
			FROM (SELECT b.id FROM $t b ORDER BY b.v <-> (SELECT v FROM $t WHERE id = m.id) LIMIT 100) x) y
			WHERE y.id = m.id) r ON true})) if $missed > 0;
	my $full = qq{SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM $t ORDER BY v <-> vec(0, $d) LIMIT 100000000) s};
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM $t;
		RESET enable_indexscan; RESET enable_bitmapscan; SET enable_seqscan = off; SET hnsw.ef_search = 100;
		$full;
		SELECT string_agg(kind || ':' || rows, ' ' ORDER BY segment NULLS LAST) || ' gen ' || max(generation) FROM vecdb_index_info('${t}_idx');
		EXPLAIN (COSTS OFF) $full;
		SELECT vecdb_verify('${t}_idx')});
	my @lines = split /\n/, $out;
	my $heap = $lines[0] // '';
	is($lines[1], "$heap $heap", "$what: a full index scan of $t returns each of its $heap rows once");
	like(join(' ', @lines[ 3 .. $#lines - 1 ]), qr/Index Scan using ${t}_idx/, "$what: the full scan of $t is an index scan");
	is($lines[-1], 't', "$what: vecdb_verify(${t}_idx) passes") or diag($err);
	note("$what: ${t}_idx: " . ($lines[2] // ''));
}

# knn: for 20 query vectors, the 10 nearest ids of t, by index or exactly.
sub knn
{
	my ($n, $t, $d, $exact) = @_;
	my $set = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_seqscan = off; SET hnsw.ef_search = 400;';
	return $n->safe_psql('postgres', $set . qq{
		SELECT string_agg(s.ids, ' ' ORDER BY s.q) FROM (SELECT q, (SELECT string_agg(id::text, ',' ORDER BY dist, id)
			FROM (SELECT id, v <-> qv AS dist FROM $t ORDER BY v <-> qv LIMIT 10) x) AS ids
			FROM (SELECT q, vec(q, $d) AS qv FROM generate_series(9000001, 9000020) q OFFSET 0) g) s});
}

# check_standby: the standby, caught up, holds the primary's directories and
# gives the primary's (exact) answers.
sub check_standby
{
	my ($what, @tables) = @_;
	$node->wait_for_catchup($standby, 'replay', $node->lsn('insert'));
	for my $td (@tables)
	{
		my ($t, $d) = @$td;
		is($standby->safe_psql('postgres', "SELECT string_agg(kind || ':' || rows, ' ' ORDER BY segment NULLS LAST) || ' gen ' || max(generation) FROM vecdb_index_info('${t}_idx')"),
			describe("${t}_idx"), "$what: the standby's ${t}_idx has the primary's segments");
		my $p = knn($node, $t, $d, 0);
		is($p, knn($node, $t, $d, 1), "$what: $t: the primary's index answers are exact");
		is(knn($standby, $t, $d, 0), $p, "$what: $t: the standby's index answers equal the primary's");
	}
}

# start_psql runs psql in the background (script file or -c command), output
# to files; returns its harness and files.
sub start_psql
{
	my ($name, @args) = @_;
	my ($out, $err) = ("$tmp/$name.out", "$tmp/$name.err");
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', @args, '-d', $node->connstr('postgres') . " application_name=$name" ],
		'<', \undef, '>', $out, '2>', $err);
	return { h => $h, out => $out, err => $err, name => $name };
}

# alive: the process exists and is not a zombie.
sub alive
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return 0;
	my $line = <$fh>;
	close $fh;
	return defined $line && $line !~ /^\d+ \(.*\) [ZX] /;
}

# crash_server kills every process of the server at once with SIGKILL: the
# postmaster is stopped first, so it forks nothing more and notices nothing,
# then its children and itself are killed. (A SIGKILL of the postmaster alone
# leaves its children running; a seal worker would finish its seal.)
sub crash_server
{
	my $pm = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
	kill('STOP', $pm) or die "could not stop the postmaster ($pm)";
	my @children;
	for my $stat (glob '/proc/[0-9]*/stat')
	{
		open my $fh, '<', $stat or next;
		my $line = <$fh>;
		close $fh;
		push @children, $1 if defined $line && $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $pm;
	}
	kill('KILL', @children);
	$node->kill9;
	for my $pid ($pm, @children)
	{
		for (1 .. 1000)
		{
			last unless alive($pid);
			usleep(10_000);
		}
		die "process $pid survived SIGKILL" if alive($pid);
	}
	# Where nobody reaps orphans (some containers' init), the dead postmaster
	# stays a zombie that still seems to own its lock files.
	if (-e "/proc/$pm")
	{
		unlink($node->data_dir . '/postmaster.pid');
		unlink($node->host . '/.s.PGSQL.' . $node->port . '.lock');
	}
	return scalar(@children);
}

# wait_for_seal_job returns the pid of a running seal job (a 'vecdb seal'
# worker connected to a database), or '' after 30 s.
sub wait_for_seal_job
{
	my $deadline = time() + 30;
	while (time() < $deadline)
	{
		my $pid = sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'vecdb seal' AND datname IS NOT NULL LIMIT 1});
		return $pid if $pid ne '';
		usleep(5_000);
	}
	return '';
}

# wait_for: polls a query until it returns the expected value.
sub wait_for
{
	my ($q, $expected, $what) = @_;
	ok($node->poll_query_until('postgres', $q, $expected), $what)
	  or diag("last: " . sql($q));
}

# ---- 1. sustained inserts with concurrent queries ----

sql(q{
	CREATE TABLE s (id int PRIMARY KEY, v vector(16));
	INSERT INTO s SELECT i, vec(i, 16) FROM generate_series(1, 1000) i;
	CREATE INDEX s_idx ON s USING hnsw (v vector_l2_ops);
});
like(sql(self_search_sql('s', 'id = 7') =~ s/SELECT count/EXPLAIN (COSTS OFF) SELECT count/r),
	qr/Index Scan using s_idx/, 'the self search is an index scan');
my $sealed0 = sealed_count();
my $t0 = time();
my $stream = start_psql('stream', '-c', q{
	DO $$
	DECLARE
		t0 timestamptz := clock_timestamp();
		b int := 0;
	BEGIN
		WHILE clock_timestamp() < t0 + interval '12 s' LOOP
			INSERT INTO s SELECT i, vec(i, 16) FROM generate_series(1001 + b * 10, 1010 + b * 10) i;
			COMMIT;
			b := b + 1;
			PERFORM pg_sleep(0.03);
		END LOOP;
		RAISE NOTICE 'batches %', b;
	END $$});

# While it streams: a row this session inserts is found right after its
# commit; so are the 30 rows the stream committed last and a rotating sample
# of older ones.
my ($own, $probes, @misses) = (0, 0);
while (time() < $t0 + 12.5)
{
	$own++;
	my $id = 1000000 + $own;
	my $got = sql("INSERT INTO s VALUES ($id, vec($id, 16)); SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT id FROM s ORDER BY v <-> vec($id, 16) LIMIT 1");
	push @misses, "own row $id: $got" if $got ne $id;
	my $m = $own % 53;
	my $r = sql(self_search_sql('s', "id IN (SELECT id FROM s WHERE id < 1000000 ORDER BY id DESC LIMIT 30) OR (id < 1000000 AND id % 53 = $m)"));
	push @misses, "stream rows: $r" if $r ne '0 ';
	$probes++;
	usleep(100_000);
}
$stream->{h}->finish;
my $stream_err = slurp_file($stream->{err});
my ($batches) = $stream_err =~ /NOTICE:  batches (\d+)/;
ok(defined $batches && $batches > 0, 'the stream committed batches for 12 s') or diag($stream_err);
$batches //= 0;
note("stream: $batches batches of 10 rows; $probes probes, $own rows inserted by the probing session");
is(scalar(@misses), 0, 'during the stream every probed row was found by its own vector right after its commit')
  or diag(join("\n", @misses));
is(sql('SELECT count(*) FROM s'), 1000 + 10 * $batches + $own, 'every committed row is in the table');
my $sealed1 = sealed_count();
cmp_ok($sealed1 - $sealed0, '>=', 1, 'background seals ran during the stream (' . ($sealed1 - $sealed0) . ')');
cmp_ok(sql("SELECT sum(rows) FROM vecdb_index_info('s_idx') WHERE kind <> 'growing'"), '>', 1000,
	'sealed segments hold rows of the stream (' . segments('s_idx') . ')');
check_table('s', 16, 'after the stream');

# ---- 3a. the standby after the stream's seals ----

check_standby('after the stream', [ 's', 16 ]);

# ---- 4. inserts, updates and deletes racing seals ----

set_seal_rows(500);
sql(q{
	CREATE TABLE r (id int PRIMARY KEY, v vector(16));
	INSERT INTO r SELECT i, vec(i, 16) FROM generate_series(1, 2000) i;
	CREATE INDEX r_idx ON r USING hnsw (v vector_l2_ops);
});
$sealed0 = sealed_count();
my @race = (
	start_psql('race_insert', '-c', q{
		DO $$
		DECLARE t0 timestamptz := clock_timestamp(); b int := 0;
		BEGIN
			WHILE clock_timestamp() < t0 + interval '8 s' LOOP
				INSERT INTO r SELECT i, vec(i, 16) FROM generate_series(100001 + b * 10, 100010 + b * 10) i;
				COMMIT;
				b := b + 1;
				PERFORM pg_sleep(0.02);
			END LOOP;
		END $$}),
	# new vectors vec(id + 10,000,000 * m): never another row's
	start_psql('race_update', '-c', q{
		DO $$
		DECLARE t0 timestamptz := clock_timestamp(); k int := 0;
		BEGIN
			WHILE clock_timestamp() < t0 + interval '8 s' LOOP
				k := k + 1;
				UPDATE r SET v = vec(id + 10000000 * (k % 7 + 1), 16) WHERE id = 1 + (k * 7919) % 2000;
				COMMIT;
				UPDATE r SET v = vec(id + 10000000 * (k % 7 + 1), 16) WHERE id = (SELECT max(id) - 7 FROM r WHERE id > 100000);
				COMMIT;
				PERFORM pg_sleep(0.01);
			END LOOP;
		END $$}),
	start_psql('race_delete', '-c', q{
		DO $$
		DECLARE t0 timestamptz := clock_timestamp(); k int := 0;
		BEGIN
			WHILE clock_timestamp() < t0 + interval '8 s' LOOP
				k := k + 1;
				DELETE FROM r WHERE id = 1 + (k * 104729) % 2000;
				COMMIT;
				DELETE FROM r WHERE id = (SELECT max(id) - 3 FROM r WHERE id > 100000);
				COMMIT;
				PERFORM pg_sleep(0.02);
			END LOOP;
		END $$}));
for my $s (@race)
{
	$s->{h}->finish;
	is(slurp_file($s->{err}), '', "race: $s->{name} ran without error");
}
my $sealed_race = sealed_count() - $sealed0;
cmp_ok($sealed_race, '>=', 2, "race: seals ran meanwhile ($sealed_race)");
my $maxid = sql('SELECT max(id) FROM r');
my $deleted = sql(qq{SELECT string_agg(i::text, ',' ORDER BY i) FROM (SELECT i FROM generate_series(1, 2000) i
	UNION ALL SELECT i FROM generate_series(100001, $maxid) i) a(i) WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.id = a.i)});
my $updated = sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM r WHERE v <> vec(id, 16)});
my @deleted = split /,/, $deleted;
my @updated = split /,/, $updated;
note('race: ' . sql('SELECT count(*) FROM r') . ' rows, ' . scalar(@deleted) . ' deleted, ' . scalar(@updated) . ' updated; r_idx: ' . describe('r_idx'));
cmp_ok(scalar(@deleted), '>=', 20, 'race: rows were deleted');
cmp_ok(scalar(@updated), '>=', 20, 'race: vectors were updated');
# queries: random vectors, deleted rows' vectors, updated rows' old vectors
my @queries = ((map { 7000000 + $_ } 1 .. 10), @deleted[ map { int($_ * $#deleted / 14) } 0 .. 14 ],
	@updated[ map { int($_ * $#updated / 14) } 0 .. 14 ]);
my $qarr = '{' . join(',', @queries) . '}';
my $top20 = qq{SELECT string_agg(s.ids, ' ' ORDER BY s.o) FROM (SELECT o, (SELECT string_agg(id::text, ',' ORDER BY dist, id)
	FROM (SELECT id, v <-> qv AS dist FROM r ORDER BY v <-> qv LIMIT 20) x) AS ids
	FROM (SELECT o, vec(q, 16) AS qv FROM unnest('$qarr'::bigint[]) WITH ORDINALITY u(q, o) OFFSET 0) g) s};
my $exact = sql("SET enable_indexscan = off; SET enable_bitmapscan = off; $top20");
is(sql("SET enable_seqscan = off; SET hnsw.ef_search = 400; $top20"), $exact,
	'race: index answers (top 20) equal exact answers, for random, deleted and old vectors');
is(sql(qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT count(*) FROM (SELECT id, vec(id, 16) AS qv FROM unnest('{$deleted}'::int[]) d(id) OFFSET 0) d
		WHERE d.id IN (SELECT id FROM r ORDER BY v <-> d.qv LIMIT 5)}),
	'0', 'race: a search for a deleted row\'s vector never returns it');
is(sql(qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT count(*) FROM (SELECT id, vec(id, 16) AS qv FROM unnest('{$updated}'::int[]) u(id) OFFSET 0) u
		WHERE u.id = (SELECT id FROM r ORDER BY v <-> u.qv LIMIT 1)}),
	'0', 'race: a search for an updated row\'s old vector never returns the row first');
check_table('r', 16, 'race');

# ---- 2. SIGKILL of the server in the middle of a seal, then of a merge ----

# crash_during_seal starts a session that inserts into t (acknowledging
# each row), waits for the seal job that the caller's insert queued, kills
# the whole server once the job adds rows, restarts it; returns the acknowledged ids
# and whether the job was still running when the server was killed.
sub crash_during_seal
{
	my ($t, $d, $what, $phases) = @_;
	$phases //= q{'adding rows'};
	my $script = "$tmp/ins_$t.sql";
	open my $fh, '>', $script or die "$script: $!";
	for my $b (0 .. 1999)
	{
		my $from = 100001 + $b * 5;
		my $to = $from + 4;
		print $fh "INSERT INTO $t SELECT i, vec(i, $d) FROM generate_series($from, $to) i RETURNING id;\nSELECT pg_sleep(0.01);\n";
	}
	close $fh;
	my $ins = start_psql("ins_$t", '-f', $script);
	my $job = wait_for_seal_job();
	ok($job ne '', "$what: a seal job started");
	my $t_job = time();
	# kill while the job adds rows to the new segment's graph (its longest
	# phase), not after a fixed delay: on a fast or idle machine the whole
	# seal can end within 0.3 s
	my $deadline = time() + 30;
	while (time() < $deadline)
	{
		last if sql(qq{SELECT count(*) FROM vecdb_seal_progress WHERE state = 'running' AND phase IN ($phases)}) ne '0';
		last if $job eq '' || !alive($job);
		usleep(2_000);
	}
	usleep(20_000);
	my $onto = sql(q{SELECT coalesce(onto::text, 'unknown') FROM vecdb_seal_progress WHERE state = 'running'});
	my $running = $job ne '' && alive($job);
	my $n = crash_server();
	note(sprintf("$what: killed the server (%d children) %.2f s after the seal job %s was seen; the job was %s",
			$n, time() - $t_job, $job, $running ? 'running' : 'gone'));
	$ins->{h}->finish;
	my @acked = grep { /^\d+$/ } split /\n/, slurp_file($ins->{out});
	note("$what: " . scalar(@acked) . ' rows acknowledged by the inserting session before the crash');
	$node->start;
	return (\@acked, $running, $onto);
}

# hold_seals_before_switch / release_seals: a seal job started in between
# stops before its directory switch (vecdb.fault_injection, which a new job
# process reads from the server's configuration), so a kill finds the seal
# unfinished however fast its segment is built: a whole seal took under
# 0.75 s on an idle machine, and a 3,473-row part once ended before the
# phase poll saw it.
sub hold_seals_before_switch
{
	my ($what) = @_;
	sql(q{ALTER SYSTEM SET vecdb.fault_injection = 'compact_switch:sleep'});
	sql(q{SELECT pg_reload_conf()});
	wait_for(q{SHOW vecdb.fault_injection}, 'compact_switch:sleep', "$what: the fault point is set");
}

sub release_seals
{
	my ($what) = @_;
	sql(q{ALTER SYSTEM RESET vecdb.fault_injection});
	sql(q{SELECT pg_reload_conf()});
	wait_for(q{SHOW vecdb.fault_injection}, '', "$what: the fault point is cleared");
}

# the phases in which crash_during_seal kills a held seal
my $held_phases = q{'adding rows', 'writing segment', 'switching directory'};

# after_crash: the post-recovery checks and a later seal.
sub after_crash
{
	my ($t, $d, $what, $acked, $expect_segments) = @_;
	my $ids = '{' . join(',', @$acked) . '}';
	is(sql("SELECT count(*) FROM unnest('$ids'::int[]) a(id) WHERE NOT EXISTS (SELECT 1 FROM $t WHERE $t.id = a.id)"),
		'0', "$what: every acknowledged row is in the table");
	check_table($t, $d, "$what, after recovery");
	# the next insert queues the index again; the seal completes
	sql("INSERT INTO $t VALUES (99999, vec(99999, $d))");
	wait_for('SELECT sealed >= 1 FROM vecdb_seal_status()', 't', "$what: a seal after recovery completes");
	my $rows = sql("SELECT count(*) FROM $t");
	wait_for("SELECT coalesce(string_agg(rows::text, ',' ORDER BY segment), '') FROM vecdb_index_info('${t}_idx') WHERE kind <> 'growing'",
		$expect_segments // $rows, "$what: after the later seal all $rows rows are in one sealed segment");
	check_table($t, $d, "$what, after the later seal");
}

# 2a. a seal: 3,000 growing rows into the first sealed segment.
hold_seals_before_switch('seal crash');
set_seal_rows(3000);
sql(q{
	CREATE TABLE k (id int PRIMARY KEY, v vector(32));
	CREATE INDEX k_idx ON k USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
	INSERT INTO k SELECT i, vec(i, 32) FROM generate_series(1, 3000) i;
});
my ($acked, $running) = crash_during_seal('k', 32, 'seal crash', $held_phases);
release_seals('seal crash');
ok($running, 'seal crash: the server was killed while the seal job ran');
is(segments('k_idx') . ' ' . (growing_rows('k_idx') >= 3000 ? 'growing' : 'sealed'), ' growing',
	'seal crash: the seal was cut short (no sealed segment, the rows still growing)');
after_crash('k', 32, 'seal crash', $acked);

# 2b. a merge that builds anew: sealed segments of 1,000, 400 and 150 rows
# (each more than twice the next seal's rows, so none was folded in; with
# vecdb.merge_onto_fraction = 0 no seal adds to an existing segment), then a
# seal of 1,500 growing rows folds all three in.
sql('ALTER SYSTEM SET vecdb.merge_onto_fraction = 0');
sql(q{
	CREATE TABLE km (id int PRIMARY KEY, v vector(32));
	CREATE INDEX km_idx ON km USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
});
my $next = 1;
my $expect = '';
for my $n (1000, 400, 150)
{
	set_seal_rows($n);
	sql(sprintf('INSERT INTO km SELECT i, vec(i, 32) FROM generate_series(%d, %d) i', $next, $next + $n - 1));
	$next += $n;
	$expect .= ($expect eq '' ? '' : ',') . $n;
	wait_for("SELECT coalesce(string_agg(rows::text, ',' ORDER BY segment), '') FROM vecdb_index_info('km_idx') WHERE kind <> 'growing'",
		$expect, "merge crash: setup: a seal of $n rows leaves segments $expect");
}
hold_seals_before_switch('merge crash');
set_seal_rows(1500);
sql(sprintf('INSERT INTO km SELECT i, vec(i, 32) FROM generate_series(%d, %d) i', $next, $next + 1499));
($acked, $running) = crash_during_seal('km', 32, 'merge crash', $held_phases);
release_seals('merge crash');
ok($running, 'merge crash: the server was killed while the merging seal job ran');
is(segments('km_idx') . ' ' . (growing_rows('km_idx') >= 1500 ? 'growing' : 'sealed'), '1000,400,150 growing',
	'merge crash: the merge was cut short (the three segments and the growing rows are intact)');
after_crash('km', 32, 'merge crash', $acked);

# 2c. a merge onto the largest segment: a 3,000-row build, then a seal of
# 3,000 growing rows adds them to its graph (vecdb.merge_onto_fraction 0.5)
sql('ALTER SYSTEM RESET vecdb.merge_onto_fraction');
hold_seals_before_switch('onto crash');
set_seal_rows(3000);
sql(q{
	CREATE TABLE ko (id int PRIMARY KEY, v vector(32));
	INSERT INTO ko SELECT i, vec(i, 32) FROM generate_series(1, 3000) i;
	CREATE INDEX ko_idx ON ko USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
	INSERT INTO ko SELECT i, vec(i, 32) FROM generate_series(3001, 6000) i;
});
my $onto;
($acked, $running, $onto) = crash_during_seal('ko', 32, 'onto crash', $held_phases);
release_seals('onto crash');
ok($running, 'onto crash: the server was killed while the seal job ran');
is($onto, 'true', 'onto crash: vecdb_seal_progress showed the job adding rows onto the built segment');
is(segments('ko_idx') . ' ' . (growing_rows('ko_idx') >= 3000 ? 'growing' : 'sealed'), '3000 growing',
	'onto crash: the merge was cut short (the built segment and the growing rows are intact)');
after_crash('ko', 32, 'onto crash', $acked);

# 2d. a backlog larger than a segment built in maintenance_work_mem (2MB
# here: a few thousand 32-d rows) is sealed a part at a time; a crash in the
# middle of the first part loses nothing, and the seal worker then goes on
# part by part until the backlog is below the seal size.
sql("ALTER SYSTEM SET maintenance_work_mem = '2MB'");
set_seal_rows(0);
sql(q{
	CREATE TABLE kp (id int PRIMARY KEY, v vector(32));
	CREATE INDEX kp_idx ON kp USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
	INSERT INTO kp SELECT i, vec(i, 32) FROM generate_series(1, 12000) i;
});
# the first insert of crash_during_seal queues the seal
hold_seals_before_switch('part crash');
set_seal_rows(1000);
($acked, $running) = crash_during_seal('kp', 32, 'part crash', $held_phases);
release_seals('part crash');
ok($running, 'part crash: the server was killed while the seal job ran');
is(segments('kp_idx') . ' ' . (growing_rows('kp_idx') >= 12000 ? 'growing' : 'sealed'), ' growing',
	'part crash: the seal was cut short (no sealed segment, the rows still growing)');
{
	my $ids = '{' . join(',', @$acked) . '}';
	is(sql("SELECT count(*) FROM unnest('$ids'::int[]) a(id) WHERE NOT EXISTS (SELECT 1 FROM kp WHERE kp.id = a.id)"),
		'0', 'part crash: every acknowledged row is in the table');
}
check_table('kp', 32, 'part crash, after recovery');
sql('INSERT INTO kp VALUES (99999, vec(99999, 32))');
wait_for(q{SELECT coalesce(sum(rows) FILTER (WHERE kind = 'growing'), 0) < 1000 FROM vecdb_index_info('kp_idx')},
	't', 'part crash: the seal worker seals the backlog part by part, without VACUUM');
my ($nparts, $largest, $total) = split /\|/, sql(q{SELECT count(*), max(rows), sum(rows) FROM vecdb_index_info('kp_idx') WHERE kind <> 'growing'});
note("part crash: $nparts sealed segments, the largest $largest rows, $total rows in all");
ok($nparts >= 3 && $largest < $total / 2, 'part crash: the backlog became several segments, none over half of it');
check_table('kp', 32, 'part crash, after the seals');
sql('ALTER SYSTEM RESET maintenance_work_mem');
sql('SELECT pg_reload_conf()');

# 2e. compactions that VACUUM or vecdb_compact run are in vecdb_seal_progress
# too (state compacting, with the backend's pid) while they run, also when
# one is cancelled
for my $round (0, 1)
{
	my $end = $round ? 'is cancelled' : 'finishes';
	# delete marks give the full compaction work to do
	sql("DELETE FROM kp WHERE id % 10 = $round");
	sql('VACUUM kp');
	my $c = start_psql("compact_$round", '-c', "SELECT pg_backend_pid(), vecdb_compact('kp_idx', true)");
	my $seen = '';
	for (1 .. 600)
	{
		$seen = sql(q{SELECT pid || ' ' || phase FROM vecdb_seal_progress WHERE state = 'compacting' AND index = 'kp_idx'::regclass});
		last if $seen ne '';
		usleep(20_000);
	}
	like($seen, qr/^\d+ (reading rows|adding rows|writing segment|switching directory)$/,
		"compaction that $end: vecdb_seal_progress shows it running ($seen)");
	if ($end eq 'is cancelled')
	{
		my ($pid) = split / /, $seen;
		sql("SELECT pg_cancel_backend($pid)");
	}
	$c->{h}->finish;
	is(sql(q{SELECT count(*) FROM vecdb_seal_progress WHERE state = 'compacting'}), '0',
		"compaction that $end: its row is gone afterwards");
}
check_table('kp', 32, 'after a cancelled compaction');

# ---- 3b. the standby after everything, crashes included ----

check_standby('at the end', [ 's', 16 ], [ 'r', 16 ], [ 'k', 32 ], [ 'km', 32 ], [ 'ko', 32 ], [ 'kp', 32 ]);

$standby->stop;
$node->stop;
done_testing();
