# 017_auto_failover.pl: automatic failover with pg_auto_failover (issue 18).
#
# A pg_auto_failover monitor and two nodes (node1, node2) on private ports,
# vecdb preloaded on both; the monitor's health checks are shortened so a
# dead primary is noticed in seconds, and primary_demote_timeout (how long
# the monitor waits for a lost primary to demote itself before the standby
# may take writes; default 30 s) is 5 s. pg_auto_failover makes node2 node1's
# synchronous standby (number_sync_standbys 0 with one standby: the standby
# is named in synchronous_standby_names, so a commit waits for it).
#   1. A session inserts committed batches of 10 rows into t (hnsw) on
#      node1; node1's whole process tree (its pg_autoctl and postgres) is
#      SIGKILLed while it does. The monitor promotes node2: every
#      acknowledged id is found by an index search for its own vector and
#      vecdb_verify passes. The time from the kill to the first k-NN answer
#      from node2 as a writable primary is printed.
#      A multi-host psycopg client (target_session_attrs=read-write) inserts
#      and searches throughout, reconnects to node2 and retries its batch;
#      every row it saw acknowledged is on node2.
#   2. node1's pg_autoctl is started again: it rejoins as node2's secondary
#      (pg_rewind under the hood), replays the rows written meanwhile, and
#      answers k-NN queries as node2 does; vecdb_verify passes on it.
# Skips when pg_autoctl is not installed (Debian: postgresql-15-auto-failover).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Cwd ();
use Time::HiRes qw(usleep time);

my ($autoctl) = grep { -x $_ } ('/usr/lib/postgresql/15/bin/pg_autoctl', '/usr/bin/pg_autoctl');
plan skip_all => 'pg_autoctl not installed (apt-get install postgresql-15-auto-failover)'
  unless $autoctl;

my $tmp = Cwd::abs_path(PostgreSQL::Test::Utils::tempdir);
my $bindir = `pg_config --bindir`;
chomp $bindir;
# pg_autoctl keeps its configuration and state under the XDG directories:
# private ones, so nothing outside the test is read or written.
$ENV{XDG_CONFIG_HOME} = "$tmp/xdg_config";
$ENV{XDG_DATA_HOME} = "$tmp/xdg_data";
$ENV{XDG_RUNTIME_DIR} = "$tmp/xdg_run";
$ENV{PG_CONFIG} = "$bindir/pg_config";
$ENV{PATH} = "$bindir:$ENV{PATH}";
# Servers keep the default unix socket directory; the test connects over TCP.
delete $ENV{$_} for qw(PGHOST PGHOSTADDR PGPORT PGDATA PGUSER PGDATABASE);

my %port = map { $_ => PostgreSQL::Test::Cluster::get_free_port() } qw(mon node1 node2);
my %dir = map { $_ => "$tmp/$_" } qw(mon node1 node2);
my %run;    # name -> IPC::Run harness of "pg_autoctl run"

# On any exit (a bail-out included), pg_autoctl processes still running get
# SIGTERM (a fast shutdown of their postgres), then SIGKILL; then whatever is
# left in their process groups (see start_run) gets SIGKILL.
END
{
	for my $h (values %run)
	{
		my $leader = $h->{KIDS}[0]{PID};
		eval { $h->kill_kill(grace => 10); };
		kill('KILL', -$leader) if $leader && grep { group_of($_) == $leader } glob '/proc/[0-9]*/stat';
	}
	for my $d (values %dir)
	{
		system('pg_ctl', '-D', $d, '-m', 'immediate', 'stop') if -e "$d/postmaster.pid";
	}
}

# psql_at runs one query on a server and returns (exit code, stdout).
sub psql_at
{
	my ($name, $sql, $db) = @_;
	my ($out, $err) = ('', '');
	my $rc = IPC::Run::run(
		[ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', $sql,
		  '-d', "host=127.0.0.1 port=$port{$name} dbname=" . ($db // 'postgres') . ' connect_timeout=2' ],
		'<', \undef, '>', \$out, '2>', \$err) ? 0 : 1;
	chomp $out;
	return ($rc, $out, $err);
}

# q1 runs a query that must succeed and returns its output.
sub q1
{
	my ($name, $sql, $db) = @_;
	my ($rc, $out, $err) = psql_at($name, $sql, $db);
	die "$name: $sql: $err" if $rc;
	return $out;
}

# autoctl runs a pg_autoctl command to completion and dies on failure.
sub autoctl
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $autoctl, @args ], '<', \undef, '>', \$out, '2>', \$err)
	  or die "pg_autoctl @args: $err";
	return $out;
}

# group_of returns the process group of the process whose /proc/PID/stat
# file is given (0 when it is gone).
sub group_of
{
	my ($stat) = @_;
	open my $sf, '<', $stat or return 0;
	my $line = <$sf>;
	close $sf;
	return defined $line && $line =~ /^\d+ \(.*\) \S \d+ (\d+) / ? $1 : 0;
}

# start_run starts "pg_autoctl <args>" in the background (its log to a file),
# as the leader of a session of its own (setsid execs it in place). pg_autoctl
# 2.0 takes itself for the leader of its process group: when its services are
# slow to stop it signals the whole group (SIGTERM, then SIGINT every 10 s).
# In prove's group that would hit prove and the rest of the test suite.
sub start_run
{
	my ($name, @args) = @_;
	my $log = "$tmp/$name.autoctl.log";
	$run{$name} = IPC::Run::start([ 'setsid', $autoctl, @args ], '<', \undef, '>>', $log, '2>>', $log);
}

# wait_until polls $cond (a sub) every 100 ms up to $secs seconds.
sub wait_until
{
	my ($secs, $cond) = @_;
	my $deadline = time() + $secs;
	while (time() < $deadline)
	{
		return 1 if $cond->();
		usleep(100_000);
	}
	return 0;
}

# states returns "node1:<reported>/<goal> node2:..." from the monitor.
sub states
{
	my ($rc, $out) = psql_at('mon',
		"SELECT string_agg(nodename || ':' || reportedstate || '/' || goalstate, ' ' ORDER BY nodename) FROM pgautofailover.node",
		'pg_auto_failover');
	return $rc ? '' : $out;
}

# ---- the monitor, with short health checks ----
start_run('mon', 'create', 'monitor', '--pgdata', $dir{mon}, '--pgport', $port{mon},
	'--hostname', '127.0.0.1', '--auth', 'trust', '--no-ssl', '--run');
ok(wait_until(60, sub { (psql_at('mon', 'SELECT 1', 'pg_auto_failover'))[0] == 0 }), 'the monitor is up')
  or BAIL_OUT('monitor did not start: ' . slurp_file("$tmp/mon.autoctl.log"));
my $mon_pid = $run{mon}->{KIDS}[0]{PID};
is(group_of("/proc/$mon_pid/stat"), $mon_pid, 'pg_autoctl leads a process group of its own');
q1('mon', $_, 'pg_auto_failover') for (
	"ALTER SYSTEM SET pgautofailover.health_check_period = 1000",
	"ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000",
	"ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1",
	"ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500",
	"ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 2000",
	"ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 5000",
	"SELECT pg_reload_conf()");
# "show uri --pgdata" prints a table (monitor and formation rows).
my ($monitor_uri) = autoctl('show', 'uri', '--pgdata', $dir{mon}) =~ m{(postgres(?:ql)?://\S+)};
$monitor_uri //= '';
like($monitor_uri, qr/^postgres(ql)?:\/\//, "monitor URI from show uri --pgdata ($monitor_uri)");

# ---- node1: a data directory with vecdb preloaded, taken over by pg_autoctl ----
# node2 is made by pg_autoctl with pg_basebackup from node1, so it gets the
# same postgresql.conf.
system_or_bail('initdb', '-D', $dir{node1}, '-A', 'trust', '-U', 'postgres', '--no-sync');
open my $conf, '>>', "$dir{node1}/postgresql.conf" or die $!;
print $conf qq{
shared_preload_libraries = 'vecdb'
listen_addresses = '127.0.0.1'
autovacuum = off
vecdb.seal_growing_rows = 500
wal_keep_size = '256MB'
};
close $conf;

for my $n (qw(node1 node2))
{
	start_run($n, 'create', 'postgres', '--pgdata', $dir{$n}, '--pgport', $port{$n},
		'--username', 'postgres', '--dbname', 'postgres',
		'--hostname', '127.0.0.1', '--name', $n, '--auth', 'trust', '--no-ssl',
		'--monitor', $monitor_uri, '--run');
	my $want = $n eq 'node1' ? qr/node1:single\/single/ : qr/node1:primary\/primary node2:secondary\/secondary/;
	ok(wait_until(120, sub { states() =~ $want }), "$n registered (" . states() . ')')
	  or BAIL_OUT("$n did not come up: " . slurp_file("$tmp/$n.autoctl.log"));
}
like(q1('node1', 'SHOW synchronous_standby_names'), qr/\S/, 'node1 names a synchronous standby');
is(q1('node2', 'SELECT pg_is_in_recovery()'), 't', 'node2 is a standby');

q1('node1', q{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION vec(i bigint, d int) RETURNS vector IMMUTABLE LANGUAGE sql AS
	$$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real
	                FROM generate_series(1, d) j)::vector $$;
	CREATE TABLE t (id bigint PRIMARY KEY, v vector(16));
	INSERT INTO t SELECT i, vec(i, 16) FROM generate_series(1, 1000) i;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops);
});

# ---- 1. kill node1 (its pg_autoctl and postgres) while inserts run ----
my $script = "$tmp/ins.sql";
open my $fh, '>', $script or die $!;
for my $b (0 .. 2999)
{
	my $lo = 1001 + $b * 10;
	my $hi = $lo + 9;
	print $fh "INSERT INTO t SELECT i, vec(i, 16) FROM generate_series($lo, $hi) i;\n\\echo ack $hi\n";
}
close $fh;
my $ins = IPC::Run::start(
	[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-f', $script, '-d', "host=127.0.0.1 port=$port{node1} dbname=postgres" ],
	'<', \undef, '>', "$tmp/ins.out", '2>', "$tmp/ins.err");
# A client with a multi-host connection string (libpq finds the writable
# node) runs through the failover: /usr/bin/python3 with psycopg, inserting
# committed batches of 10 rows from id 200001 and searching each batch's
# first vector; on a lost connection it reconnects and retries the batch
# (ON CONFLICT DO NOTHING: the lost commit may have happened). It prints
# "ack <id>" per acknowledged batch and "knn <epoch>" for the first k-NN
# after each reconnect.
my $client;
my $python = '/usr/bin/python3';
my $have_psycopg = -x $python && system($python, '-c', 'import psycopg') == 0;
if ($have_psycopg)
{
	open my $py, '>', "$tmp/client.py" or die $!;
	print $py <<'PY';
import sys, time, os, psycopg
dsn, stop = sys.argv[1], sys.argv[2]
def connect():
    while True:
        try:
            c = psycopg.connect(dsn, autocommit=True)
            c.execute("SET enable_seqscan = off")
            return c
        except psycopg.OperationalError:
            time.sleep(0.1)
conn, nid, reconnects, retried, lost = connect(), 200001, 0, 0, False
while not os.path.exists(stop):
    try:
        conn.execute("INSERT INTO t SELECT i, vec(i, 16) FROM generate_series(%s, %s) i ON CONFLICT (id) DO NOTHING",
                     (nid, nid + 9))
        print("ack", nid + 9, flush=True)
        row = conn.execute("SELECT id FROM t ORDER BY v <-> vec(%s, 16) LIMIT 1", (nid,)).fetchone()
        if lost:
            print("knn", repr(time.time()), row[0], flush=True)
            lost = False
        nid += 10
        time.sleep(0.02)
    except psycopg.OperationalError as e:
        print("lost:", str(e).strip().splitlines()[0], flush=True)
        reconnects, retried, lost = reconnects + 1, retried + 1, True
        try:
            conn.close()
        except Exception:
            pass
        conn = connect()
print("reconnects", reconnects, "retried", retried, flush=True)
PY
	close $py;
	$client = IPC::Run::start(
		[ $python, "$tmp/client.py",
		  "host=127.0.0.1,127.0.0.1 port=$port{node1},$port{node2} dbname=postgres target_session_attrs=read-write connect_timeout=2",
		  "$tmp/client.stop" ],
		'<', \undef, '>', "$tmp/client.out", '2>', "$tmp/client.err");
}
sub client_acks { my @a = slurp_file("$tmp/client.out") =~ /^ack (\d+)$/mg; return @a ? $a[-1] : 200000; }
ok(!$client || wait_until(60, sub { client_acks() >= 200100 }), 'the multi-host client inserts on node1')
  if $have_psycopg;

sub last_ack { my @a = slurp_file("$tmp/ins.out") =~ /^ack (\d+)$/mg; return @a ? $a[-1] : 1000; }
ok(wait_until(120, sub { last_ack() >= 1500 }), 'inserts acknowledged on node1 (synchronous commit)');

# descendants lists a process's descendants (from /proc), deepest first.
sub descendants
{
	my ($root) = @_;
	my %kids;
	for my $stat (glob '/proc/[0-9]*/stat')
	{
		open my $sf, '<', $stat or next;
		my $line = <$sf>;
		close $sf;
		push @{ $kids{$2} }, $1 if defined $line && $line =~ /^(\d+) \(.*\) \S (\d+) /;
	}
	my @out;
	my @todo = ($root);
	while (my $p = shift @todo)
	{
		push @out, $p;
		push @todo, @{ $kids{$p} // [] };
	}
	return reverse @out;
}
my $ctl_pid = $run{node1}->{KIDS}[0]{PID};
my @victims = descendants($ctl_pid);
kill('STOP', @victims);    # nothing forks or restarts meanwhile
kill('KILL', @victims);
my $t_kill = time();
$run{node1}->finish;
$ins->finish;
my $acked = last_ack();
note('killed node1: ' . scalar(@victims) . " processes, last acknowledged id $acked");

my $t_knn;
ok(wait_until(90, sub {
	my ($rc, $out) = psql_at('node2',
		'SET enable_seqscan = off; SELECT CASE WHEN pg_is_in_recovery() THEN -1 ELSE (SELECT id FROM t ORDER BY v <-> vec(7, 16) LIMIT 1) END');
	$t_knn = time() - $t_kill if $rc == 0 && $out =~ /(^|\n)7$/;
	return defined $t_knn;
}), 'node2 became a writable primary and answers k-NN');
diag(sprintf('pg_auto_failover: kill -9 of node1 to the first k-NN answer on node2 as primary: %.2f s', $t_knn // -1));
note('states at the first k-NN answer: ' . states());
ok(wait_until(60, sub { states() =~ /node2:wait_primary\/wait_primary/ }),
	'the monitor has node2 as a primary waiting for its standby (' . states() . ')');

my $ef = 'SET hnsw.ef_search = 100; SET enable_seqscan = off;';
is(q1('node2', "$ef SELECT count(*) FROM generate_series(1, $acked) i
	WHERE i IN (SELECT id FROM t ORDER BY v <-> vec(i, 16) LIMIT 3)"),
	$acked, "node2: every acknowledged id (1..$acked) found by an index search for its own vector");
is(q1('node2', "SELECT vecdb_verify('t_idx')"), 't', 'node2: vecdb_verify passes');
q1('node2', 'INSERT INTO t SELECT i, vec(i, 16) FROM generate_series(100001, 100200) i');

# The multi-host client found node2 and went on.
SKIP:
{
	skip 'no /usr/bin/python3 with psycopg: no multi-host client', 3 unless $client;
	my $at_kill = $acked;    # (ids of the psql session; the client's are 200001..)
	ok(wait_until(60, sub { slurp_file("$tmp/client.out") =~ /^knn /m }), 'the multi-host client reconnected and searched')
	  or diag(slurp_file("$tmp/client.out") . slurp_file("$tmp/client.err"));
	my ($t_client) = slurp_file("$tmp/client.out") =~ /^knn (\S+)/m;
	diag(sprintf('multi-host client: kill -9 of node1 to its first k-NN answer after reconnecting: %.2f s', ($t_client // 0) - $t_kill));
	my $c0 = client_acks();
	wait_until(30, sub { client_acks() >= $c0 + 100 });
	open my $stop, '>', "$tmp/client.stop" or die $!;
	close $stop;
	$client->finish;
	my $out = slurp_file("$tmp/client.out");
	my $cacked = client_acks();
	note('client: ' . join(' ', $out =~ /^(lost:.*|reconnects .*)$/mg));
	like($out, qr/^reconnects [1-9]\d* retried [1-9]/m, 'the client counted its reconnects and retries');
	is(q1('node2', "SELECT count(*) FROM t WHERE id BETWEEN 200001 AND $cacked"), $cacked - 200000,
		"node2: every row the client saw acknowledged (200001..$cacked) is there");
}

# ---- 2. node1 rejoins as node2's secondary ----
start_run('node1', 'run', '--pgdata', $dir{node1});
ok(wait_until(120, sub { states() =~ /node1:secondary\/secondary node2:primary\/primary/ }),
	'node1 rejoined as secondary (' . states() . ')')
  or diag(slurp_file("$tmp/node1.autoctl.log"));
my $knn = "$ef SELECT string_agg(ids, ';' ORDER BY q) FROM (SELECT q, (SELECT string_agg(id::text, ',' ORDER BY v <-> vec(q, 16), id)
	FROM (SELECT id, v FROM t ORDER BY v <-> vec(q, 16) LIMIT 10) s) ids FROM generate_series(900001, 900010) q) x";
my $want = q1('node2', $knn);
ok(wait_until(60, sub { my ($rc, $o) = psql_at('node1', $knn); $rc == 0 && $o eq $want }),
	'node1 (secondary) gives node2\'s k-NN answers');
is(q1('node1', 'SELECT pg_is_in_recovery()'), 't', 'node1 is in recovery');
is(q1('node1', "$ef SELECT count(*) FROM generate_series(100001, 100200) i
	WHERE i IN (SELECT id FROM t ORDER BY v <-> vec(i, 16) LIMIT 3)"), '200', 'node1: rows written after the failover found');
is(q1('node1', "SELECT vecdb_verify('t_idx')"), 't', 'node1: vecdb_verify passes');

# ---- stop everything this test started ----
for my $n (qw(node1 node2 mon))
{
	my $stopped = eval { autoctl('stop', '--pgdata', $dir{$n}); 1 };
	next unless $run{$n};
	if ($stopped) { $run{$n}->finish; } else { $run{$n}->kill_kill; }
}
done_testing();
