# 013_failover.pl: failover to a synchronous standby and back (issue 18).
#
# Topology: node "primary" (vecdb preloaded, background seals at 500 rows,
# wal_log_hints on for pg_rewind) and node "standby", streaming and named in
# the primary's synchronous_standby_names, so a commit is acknowledged only
# once the standby has flushed it.
#   1. A session inserts small committed batches (and searches) into t, whose
#      hnsw index holds a scalar column too; the whole primary is killed with
#      SIGKILL while it does. The standby is promoted: every acknowledged id
#      is found by an index search for its own vector, a full index scan
#      returns each row once, vecdb_verify passes, recall@10 (plain and
#      filtered) is within 0.01 of what it was on the primary before the
#      failure (on a table nobody wrote meanwhile: equal), inserts, updates,
#      deletes and vecdb_compact work. The time from the kill to the first
#      k-NN answer on the promoted node is printed.
#   2. Failback: the old primary's data directory is rewound with pg_rewind
#      against the new primary and started as its (synchronous) standby; it
#      catches up, answers k-NN queries as the new primary does, and
#      vecdb_verify passes on it (read-only, on the hot standby).
#   3. The new primary is killed in the middle of a full vecdb_compact of
#      table c (12,600 rows, caught while it adds rows to the new segment;
#      inserts into t and into c go on too) and the original node is
#      promoted again: every acknowledged row of t and c is there; every row
#      of c is found by an index search for its own vector, a full index scan
#      returns each row once, vecdb_verify passes, before and after a
#      vecdb_compact that completes on the promoted node; new rows of c are
#      found; then the checks of 1.
#
# Vectors are pseudo-random, vec(i, d) uniform in [0, 1)^d, as in TAP 012.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Copy;
use Time::HiRes qw(usleep time);

my $tmp = PostgreSQL::Test::Utils::tempdir;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
wal_log_hints = on
wal_keep_size = '256MB'
vecdb.min_index_rows = 100
vecdb.seal_growing_rows = 500
wal_retrieve_retry_interval = '200ms'
});
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION vec(i bigint, d int) RETURNS vector IMMUTABLE LANGUAGE sql AS
	$$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real
	                FROM generate_series(1, d) j)::vector $$;
});
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# make_synchronous names a standby (its cluster_name, which the test cluster
# uses as application_name) in a node's synchronous_standby_names and waits
# until the node sees it streaming synchronously.
sub make_synchronous
{
	my ($node, $sb) = @_;
	my $name = $sb->name;
	$node->append_conf('postgresql.conf', "synchronous_standby_names = '$name'\n");
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = '$name'")
	  or die "$name did not become a synchronous standby";
}
make_synchronous($primary, $standby);

# t: the streamed table (16 dimensions, hnsw with a scalar column);
# r: a table nobody writes after it is made (32 dimensions, low ef_search for
# its recall, so that a lost or changed graph would show).
$primary->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, cat int, v vector(16));
	INSERT INTO t SELECT i, i % 10, vec(i, 16) FROM generate_series(1, 3000) i;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops, cat);
	CREATE TABLE r (id int PRIMARY KEY, v vector(32));
	INSERT INTO r SELECT i, vec(i, 32) FROM generate_series(1, 3000) i;
	CREATE INDEX r_idx ON r USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	INSERT INTO r SELECT i, vec(i, 32) FROM generate_series(3001, 3300) i;
});

# ---- helpers ----

# knn: the 10 nearest ids of t (or r) for 20 query vectors, by index or
# exactly, one space-separated list per query; $where filters on cat.
sub knn
{
	my ($node, $tab, $d, $exact, $ef, $where) = @_;
	$where //= 'true';
	my $set = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : "SET enable_seqscan = off; SET hnsw.ef_search = $ef;";
	return $node->safe_psql('postgres', $set . qq{
		SELECT string_agg(s.ids, ' ' ORDER BY s.q) FROM (SELECT q, (SELECT string_agg(id::text, ',' ORDER BY dist, id)
			FROM (SELECT id, v <-> qv AS dist FROM $tab WHERE $where ORDER BY v <-> qv LIMIT 10) x) AS ids
			FROM (SELECT q, vec(q, $d) AS qv FROM generate_series(9000001, 9000020) q OFFSET 0) g) s});
}

# recall: mean recall@10 of the index answers against the exact ones.
sub recall
{
	my ($node, $tab, $d, $ef, $where) = @_;
	my @idx = split / /, knn($node, $tab, $d, 0, $ef, $where);
	my @ex = split / /, knn($node, $tab, $d, 1, $ef, $where);
	die 'knn: ' . scalar(@idx) . ' vs ' . scalar(@ex) . ' queries' unless @idx == 20 && @ex == 20;
	my $hits = 0;
	for my $q (0 .. $#ex)
	{
		my %e = map { $_ => 1 } split /,/, $ex[$q];
		$hits += grep { $e{$_} } split /,/, $idx[$q];
	}
	return $hits / (10 * @ex);
}

# recalls: t plain (ef_search 40), t with cat = 3 (ef_search 100), r (ef 10).
sub recalls
{
	my ($node) = @_;
	return [ recall($node, 't', 16, 40), recall($node, 't', 16, 100, 'cat = 3'), recall($node, 'r', 32, 10) ];
}

# check_table: every row of $tab is found by an index search for its own
# vector (ties allowed: its id is among the first $ties + 2 answers, $ties the
# most rows a sequential scan finds sharing one vector), a full index scan
# returns each heap row once (the same count and id sum as a sequential
# scan), vecdb_verify passes.
sub check_table
{
	my ($node, $tab, $d, $what) = @_;
	my ($heap, $idsum, $ties) = split /\|/, $node->safe_psql('postgres', qq{SET enable_indexscan = off; SET enable_bitmapscan = off;
		SELECT count(*), coalesce(sum(id), 0), coalesce(max(n), 0) FROM (SELECT id, count(*) OVER (PARTITION BY v) n FROM $tab) s});
	my $k = $ties + 2;
	my $miss = $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 400;
		SELECT count(*) || ' ' || coalesce(string_agg(a.id::text, ',') FILTER (WHERE rn <= 10), '')
		FROM (SELECT id, row_number() OVER (ORDER BY id) rn FROM $tab w
		      WHERE w.id NOT IN (SELECT b.id FROM $tab b ORDER BY b.v <-> w.v LIMIT $k)) a});
	is($miss, '0 ', "$what: every row of $tab is found by an index search for its own vector (within the first $k)");
	my $scan = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
		SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || coalesce(sum(id), 0)
		FROM (SELECT id FROM $tab ORDER BY v <-> vec(0, $d) LIMIT 100000000) s});
	is($scan, "$heap $heap $idsum", "$what: a full index scan of $tab returns each of its $heap rows once (no id twice)");
	is($node->safe_psql('postgres', "SELECT vecdb_verify('${tab}_idx')"), 't', "$what: vecdb_verify(${tab}_idx) passes");
}

# start_inserts runs psql in the background on $node: committed batches of 10
# rows into $tab (t unless given; columns id, cat, v vector(16)) from id $from
# (with $pause, sleeping that many seconds after each batch), each followed
# by "\echo ack <last id>", which psql only prints once the INSERT
# (autocommit: its commit, synchronously replicated) returned; every 5th
# batch also searches.
sub start_inserts
{
	my ($node, $name, $from, $tab, $pause) = @_;
	$tab //= 't';
	my $script = "$tmp/$name.sql";
	open my $fh, '>', $script or die "$script: $!";
	print $fh "SET enable_seqscan = off;\n";
	for my $b (0 .. 2999)
	{
		my $lo = $from + $b * 10;
		my $hi = $lo + 9;
		print $fh "INSERT INTO $tab SELECT i, i % 10, vec(i, 16) FROM generate_series($lo, $hi) i;\n\\echo ack $hi\n";
		print $fh "SELECT count(*) FROM (SELECT id FROM $tab ORDER BY v <-> vec($hi, 16) LIMIT 5) s;\n" if $b % 5 == 0;
		print $fh "SELECT pg_sleep($pause);\n" if $pause;
	}
	close $fh;
	my ($out, $err) = ("$tmp/$name.out", "$tmp/$name.err");
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-f', $script, '-d', $node->connstr('postgres') . " application_name=$name" ],
		'<', \undef, '>', $out, '2>', $err);
	return { h => $h, out => $out, err => $err, from => $from };
}

# last_ack: the last id the inserting session saw acknowledged (from - 1 if none).
sub last_ack
{
	my ($s) = @_;
	my @acks = slurp_file($s->{out}) =~ /^ack (\d+)$/mg;
	return @acks ? $acks[-1] : $s->{from} - 1;
}

# wait_acks waits (up to 3 minutes) until the session acknowledged $n rows.
sub wait_acks
{
	my ($s, $n) = @_;
	my $deadline = time() + 180;
	while (time() < $deadline)
	{
		return 1 if last_ack($s) - $s->{from} + 1 >= $n;
		usleep(20_000);
	}
	diag('inserts: ' . slurp_file($s->{err}));
	return 0;
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

# crash_node kills every process of a server with SIGKILL, as TAP 012's
# crash_server: the postmaster is stopped first, so that it forks nothing
# more, then its children and itself are killed. (A SIGKILL of the
# postmaster alone leaves its backends running, still committing.)
sub crash_node
{
	my ($node) = @_;
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
	if (-e "/proc/$pm")
	{
		unlink($node->data_dir . '/postmaster.pid');
		unlink($node->host . '/.s.PGSQL.' . $node->port . '.lock');
	}
	return scalar(@children);
}

# promote_and_time promotes a standby and returns the seconds from $t_kill
# to its first successful index k-NN answer.
sub promote_and_time
{
	my ($node, $t_kill) = @_;
	$node->promote;
	my $deadline = time() + 180;
	while (time() < $deadline)
	{
		my ($ret, $out) = $node->psql('postgres',
			'SET enable_seqscan = off; SELECT id FROM t ORDER BY v <-> vec(9000001, 16) LIMIT 10',
			on_error_stop => 1);
		return time() - $t_kill if $ret == 0 && ($out =~ tr/\n//) == 9;
		usleep(10_000);
	}
	die 'no k-NN answer from the promoted node';
}

# after_failover: the checks on a freshly promoted node.
sub after_failover
{
	my ($node, $s, $what, $before) = @_;
	my $acked = last_ack($s);
	my $from = $s->{from};
	cmp_ok($acked - $from + 1, '>', 0, "$what: inserts were acknowledged before the kill ($from..$acked)");
	is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE id BETWEEN $from AND $acked"),
		$acked - $from + 1, "$what: every acknowledged row is in the table");
	is($node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 400;
			SELECT count(*) FROM generate_series($from, $acked) i
			WHERE i NOT IN (SELECT id FROM t ORDER BY v <-> vec(i, 16) LIMIT 3)}),
		'0', "$what: every acknowledged id is found by an index search for its own vector");
	note("$what: t has " . $node->safe_psql('postgres', "SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE id > $acked) || ' past the last acknowledged id' FROM t")
		. '; t_idx: ' . $node->safe_psql('postgres',
			"SELECT string_agg(kind || ':' || rows, ' ' ORDER BY segment NULLS LAST) FROM vecdb_index_info('t_idx')"));
	check_table($node, 't', 16, "$what, promoted");
	check_table($node, 'r', 32, "$what, promoted");
	my $after = recalls($node);
	my @names = ('t recall@10 (ef_search 40)', 't recall@10 with cat = 3 (ef_search 100)', 'r recall@10 (ef_search 10)');
	for my $i (0 .. 2)
	{
		cmp_ok(abs($after->[$i] - $before->[$i]), '<=', 0.01,
			"$what: $names[$i] $after->[$i] is within 0.01 of $before->[$i] before the failure");
	}
	is($after->[2], $before->[2], "$what: r (not written meanwhile) has the same recall as before");

	# writes and compaction on the promoted node
	# $base + 9: neither updated nor deleted below
	my $base = 1000000 * int(($acked + 1000000) / 1000000) + 2000000 - 9;
	$base += 1 while ($base + 9) % 97 == 1 || ($base + 9) % 89 == 2;
	$node->safe_psql('postgres', qq{
		INSERT INTO t SELECT i, i % 10, vec(i, 16) FROM generate_series($base, $base + 599) i;
		UPDATE t SET v = vec(id + 50000000, 16) WHERE id % 97 = 1;
		DELETE FROM t WHERE id % 89 = 2;
		INSERT INTO r VALUES ($base, vec($base, 32));
	});
	# true, or false when the seal worker (500 rows) sealed the new rows first
	like($node->safe_psql('postgres', "SELECT vecdb_compact('t_idx')"), qr/^[tf]$/,
		"$what: vecdb_compact(t_idx) runs on the promoted node");
	is($node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 400;
			SELECT (SELECT id FROM t ORDER BY v <-> vec($base + 9, 16) LIMIT 1) = $base + 9,
			       (SELECT id FROM t ORDER BY v <-> vec(98 + 50000000, 16) LIMIT 1) = 98,
			       NOT EXISTS (SELECT 1 FROM (SELECT id FROM t ORDER BY v <-> vec(91, 16) LIMIT 3) s WHERE id = 91)}),
		't|t|t', "$what: an inserted row, an updated vector are found, a deleted row is not");
	check_table($node, 't', 16, "$what, after writes and vecdb_compact");
	return recalls($node);
}

# ---- 1. kill the primary while inserts are in flight; promote ----

my $before = recalls($primary);
note('recall before the failure: ' . join(' ', @$before));
$primary->wait_for_catchup($standby);
is(knn($standby, 'r', 32, 0, 10), knn($primary, 'r', 32, 0, 10), 'the standby answers as the primary before the failure');

my $ins = start_inserts($primary, 'ins1', 100001);
ok(wait_acks($ins, 1500), 'round 1: 1,500 rows acknowledged while the primary runs');
my $nkilled = crash_node($primary);
my $t_kill = time();
$ins->{h}->finish;
note("round 1: killed the primary ($nkilled children) after id " . last_ack($ins) . ' was acknowledged');
like(slurp_file($ins->{err}), qr/server closed the connection|terminat|connection/, 'round 1: the inserting session lost its server');
my $t1 = promote_and_time($standby, $t_kill);
diag(sprintf('failover (sync standby, insert load): kill -9 of the primary to the first k-NN answer on the promoted standby: %.2f s', $t1));
my $before2 = after_failover($standby, $ins, 'round 1', $before);

# ---- 2. failback: pg_rewind the old primary, make it the new standby ----

# pg_rewind copies the source's configuration files; keep the node's own
# postgresql.conf (its port) as PostgreSQL's RewindTest does.
copy($primary->data_dir . '/postgresql.conf', "$tmp/primary.conf") or die "copy: $!";
# A promoted node writes its new timeline into pg_control only at the first
# checkpoint after promotion (requested, not awaited, by the promotion):
# without it pg_rewind sees both on timeline 1 and says "no rewind required".
$standby->safe_psql('postgres', 'CHECKPOINT');
# application_name: -R copies this connection's parameters into
# primary_conninfo, and the new primary's synchronous_standby_names names it.
my $src = $standby->connstr('postgres') . ' application_name=primary';
# pg_rewind reads the target's WAL back to the last checkpoint before the
# fork: wal_keep_size (set above) keeps it from being recycled, here by the
# end-of-recovery checkpoint (else: restore_command and --restore-target-wal).
# pg_rewind first finishes the killed server's crash recovery (single-user
# mode), then rewinds it; -R writes standby.signal and primary_conninfo.
command_ok([ 'pg_rewind', '--target-pgdata=' . $primary->data_dir, "--source-server=$src", '--write-recovery-conf' ],
	'failback: pg_rewind of the old primary against the new one');
copy("$tmp/primary.conf", $primary->data_dir . '/postgresql.conf') or die "copy: $!";
ok(-e $primary->data_dir . '/standby.signal', 'failback: pg_rewind -R wrote standby.signal')
  or BAIL_OUT('pg_rewind did not make a standby');
$primary->start;
make_synchronous($standby, $primary);
$standby->wait_for_catchup($primary, 'replay', $standby->lsn('insert'));
is($primary->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'failback: the old primary runs as a standby');
for my $q ([ 't', 16, 100, undef ], [ 't', 16, 100, 'cat = 3' ], [ 'r', 32, 10, undef ])
{
	my ($tab, $d, $ef, $where) = @$q;
	is(knn($primary, $tab, $d, 0, $ef, $where), knn($standby, $tab, $d, 0, $ef, $where),
		"failback: the rewound standby's k-NN answers on $tab" . ($where ? " ($where)" : '') . ' equal the new primary\'s');
}
is($primary->safe_psql('postgres', "SELECT vecdb_verify('t_idx'), vecdb_verify('r_idx')"), 't|t',
	'failback: vecdb_verify passes on the rewound hot standby');

# ---- 3. kill the new primary during vecdb_compact; promote the old one ----

# c: a compaction that takes seconds (12,400 rows, ef_construction 400: the
# engine reports rows_done as it adds them, every 256 of the calling
# thread's inserts). Its history leaves work for the compaction's
# WAL-logged first steps: a merge onto the built segment retires its chains
# (freed by the next compaction), and delete marks (VACUUM) make the full
# compaction rebuild.
$standby->safe_psql('postgres', q{
	CREATE TABLE c (id int PRIMARY KEY, cat int, v vector(16));
	INSERT INTO c SELECT i, i % 10, vec(i, 16) FROM generate_series(1, 12000) i;
	CREATE INDEX c_idx ON c USING hnsw (v vector_l2_ops) WITH (ef_construction = 400);
	INSERT INTO c SELECT i, i % 10, vec(i, 16) FROM generate_series(12001, 12400) i;
});
like($standby->safe_psql('postgres', "SELECT vecdb_compact('c_idx', false)"), qr/^[tf]$/,
	'round 3: a merge of c\'s growing rows (or the seal worker\'s) retires chains');
$standby->safe_psql('postgres', q{
	DELETE FROM c WHERE id % 50 = 0;
	VACUUM c;
	INSERT INTO c SELECT i, i % 10, vec(i, 16) FROM generate_series(12401, 12600) i;
});
$standby->wait_for_catchup($primary, 'replay', $standby->lsn('insert'));
my $before3 = recalls($standby);
# The original node's own configuration (put back after pg_rewind) names the
# node about to be killed as its synchronous standby: once promoted, its
# commits would wait for it forever. Cleared now (a standby ignores it); in
# production the failover manager or the operator does this.
$primary->append_conf('postgresql.conf', "synchronous_standby_names = ''\n");
$primary->reload;
my $compact = IPC::Run::start(
	[ 'psql', '-X', '-At', '-c', "SELECT vecdb_compact('c_idx')", '-d', $standby->connstr('postgres') ],
	'<', \undef, '>', "$tmp/compact.out", '2>', "$tmp/compact.err");
# inserts into t (acknowledged ids checked after the failover) and into c
# (appended to its growing segment past the rows the compaction took)
# (paced: a few hundred rows by the kill, which the checks then search)
my $ins2 = start_inserts($standby, 'ins2', 1000001, 't', 0.05);
my $ins3 = start_inserts($standby, 'ins3', 2000001, 'c', 0.05);
# the kill comes once the compaction reported rows added (and 50 rows of t
# were acknowledged), before it finished: polled, up to 3 minutes
my $seen = '';
my $deadline = time() + 180;
while (time() < $deadline)
{
	$seen = $standby->safe_psql('postgres',
		q{SELECT phase || ' ' || rows_done || ' of ' || rows_total FROM vecdb_seal_progress
		  WHERE state = 'compacting' AND index = 'c_idx'::regclass AND rows_done > 0});
	last if ($seen ne '' && last_ack($ins2) >= $ins2->{from} + 49) || -s "$tmp/compact.out";
	usleep(20_000);
}
like($seen, qr/^(adding rows|writing segment|switching directory) \d+ of \d+$/,
	"round 3: vecdb_compact(c_idx) is running ($seen)");
$nkilled = crash_node($standby);
$t_kill = time();
$ins2->{h}->finish;
$ins3->{h}->finish;
$compact->finish;
note("round 3: killed the new primary ($nkilled children) during vecdb_compact(c_idx), after t id "
	  . last_ack($ins2) . ' and c id ' . last_ack($ins3) . ' were acknowledged');
is(slurp_file("$tmp/compact.out"), '', 'round 3: vecdb_compact(c_idx) did not return (killed while it ran)');
my $t2 = promote_and_time($primary, $t_kill);
diag(sprintf('failover (sync standby, during vecdb_compact): kill -9 to the first k-NN answer on the promoted node: %.2f s', $t2));
my $acked3 = last_ack($ins3);
is($primary->safe_psql('postgres', "SELECT count(*) FROM c WHERE id BETWEEN 2000001 AND $acked3"),
	$acked3 - 2000000, 'round 3: every acknowledged row of c is in the table');
check_table($primary, 'c', 16, 'round 3, c (killed compaction)');
like($primary->safe_psql('postgres', "SELECT vecdb_compact('c_idx')"), qr/^[tf]$/,
	'round 3: vecdb_compact(c_idx) completes on the promoted node');
check_table($primary, 'c', 16, 'round 3, c after vecdb_compact');
$primary->safe_psql('postgres', 'INSERT INTO c SELECT i, i % 10, vec(i, 16) FROM generate_series(3000001, 3000100) i');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off;
		SELECT count(*) FROM generate_series(3000001, 3000100) i
		WHERE i NOT IN (SELECT id FROM c ORDER BY v <-> vec(i, 16) LIMIT 3)}),
	'0', 'round 3: rows inserted into c on the promoted node are found');
after_failover($primary, $ins2, 'round 3', $before3);

$primary->stop;
$standby->stop;
done_testing();
