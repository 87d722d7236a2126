# 026_gpu_worker.pl: the GPU worker's protocol with its CPU stand-in behind it
# (issue 10; docs/gpu.md, "The GPU worker"). No GPU is needed: with
# vecdb.gpu_stand_in = on the worker serves requests with the CPU engine, so
# everything but the device kernels runs here.
#   1. The worker starts (state ready, device "cpu stand-in"); flat scans
#      under vecdb.gpu = on are served by it and return exactly the rows of
#      vecdb.gpu = off and of a sequential scan: plain, with an index
#      condition (bitset), with deleted rows, and with an executor filter
#      that needs many refills (larger k, rows taken before skipped);
#      EXPLAIN ANALYZE names the worker. An hnsw segment goes to the worker
#      only when its condition allows so few rows that it is searched
#      exactly. An ivfflat segment goes to the worker with the scan's probes
#      and returns the CPU's rows (probes 1, 3, all; conditions that make
#      the search exact or widen the probes; the session's brute-force
#      ratio; lists shorter than a batch, deep scans; vecdb_search); auto
#      keeps a small one on the CPU.
#   2. Batching: four clients at once are answered by shared engine calls
#      (max_batch > 1); vecdb_search sends one request per segment for all
#      its queries.
#   3. auto: a small segment stays on the CPU, a large one goes to the
#      worker; a worker that fails a request (fault injection) makes auto
#      finish on the CPU with the same rows, also mid-scan, and makes on
#      raise SQLSTATE 58000.
#   4. Cancellation: a statement timeout ends a wait on a stuck worker
#      (57014) at once, and so does terminating the session; their requests
#      are freed when the worker lets go of them.
#   5. Worker exit: a query waiting on the worker when it is terminated gets
#      an error (on) or the CPU's answer (auto), never a hang; the worker is
#      restarted and serves again.
#   5b. A segment larger than vecdb.gpu_memory_size is declined: the backend
#      searches it, also under on.
#   6. Without a device and without the stand-in, the worker reports why
#      and exits for good: on raises 55000, auto searches on the CPU.
#   7. Not preloaded: on raises 55000, off and auto search on the CPU.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use VecdbTap;

my $node = PostgreSQL::Test::Cluster->new('gpu');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
autovacuum = off
vecdb.gpu = on
vecdb.gpu_stand_in = on
vecdb.gpu_batch_window = 2ms
vecdb.min_index_rows = 100
});
$node->start;

sub status
{
	my ($cols) = @_;
	return $node->safe_psql('postgres', "SELECT $cols FROM vecdb_gpu_status()");
}

# wait_worker waits until the worker is ready with a pid other than $old.
sub wait_worker
{
	my ($old) = @_;
	my $t0 = time;
	while (time - $t0 < 30)
	{
		my ($state, $pid) = split /\|/, status('state, coalesce(pid, 0)');
		return $pid if $state eq 'ready' && $pid != ($old // 0);
		usleep(100_000);
	}
	return 0;
}

sub set_fault
{
	my ($spec) = @_;
	$node->safe_psql('postgres',
		$spec eq '' ? 'ALTER SYSTEM RESET vecdb.fault_injection' : "ALTER SYSTEM SET vecdb.fault_injection = '$spec'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	# the worker reads the file when its latch is next set or within a second
	usleep(1_500_000);
}

$node->safe_psql('postgres', 'CREATE EXTENSION vecdb;' . vec_function(16) . q{
	CREATE TABLE t (id int PRIMARY KEY, cat int, v vector(16));
	INSERT INTO t SELECT i, i % 10, vec(i) FROM generate_series(1, 4000) i;
	CREATE INDEX t_flat ON t USING flat (v vector_l2_ops, cat);
	-- an exact answer to compare with: sequential scan, ties by id
	CREATE FUNCTION exact(q int, k int, c int) RETURNS text LANGUAGE sql AS $$
		SELECT string_agg(id::text, ',' ORDER BY d, id) FROM
			(SELECT id, v <-> vec(q) d FROM t WHERE c IS NULL OR cat = c ORDER BY d, id LIMIT k) s $$;
});

# 1. the worker serves flat scans exactly
my $pid = wait_worker();
ok($pid > 0, 'the worker is ready');
is(status('device'), 'cpu stand-in', 'it serves with the CPU stand-in');

# answers runs the same searches under vecdb.gpu = $mode and returns them
sub answers
{
	my ($mode, $where, $k) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET vecdb.gpu = $mode;
		SELECT string_agg(r, ';' ORDER BY q) FROM generate_series(900001, 900012) q,
			LATERAL (SELECT string_agg(id::text, ',' ORDER BY ord) r FROM
				(SELECT id, row_number() OVER () ord FROM
					(SELECT id FROM t $where ORDER BY v <-> vec(q) LIMIT $k) s) s2) x;
	});
}

sub exact_answers
{
	my ($where_cat, $k) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(exact(q, $k, $where_cat), ';' ORDER BY q) FROM generate_series(900001, 900012) q");
}

my $before = status('requests');
is(answers('on', '', 10), answers('off', '', 10), 'on and off return the same rows');
is(answers('on', '', 10), exact_answers('NULL', 10), 'and they are the exact answers');
cmp_ok(status('requests'), '>=', $before + 24, 'the worker answered the scans under on');
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1;
	SELECT device FROM vecdb_last_scan();}), "5\ngpu worker (cpu stand-in)", 'vecdb_last_scan names the worker');
is(answers('on', 'WHERE cat = 3', 10), exact_answers(3, 10), 'an index condition (bitset) gives the exact rows');
# an hnsw segment searched exactly because its condition allows few rows
$node->safe_psql('postgres', q{CREATE TABLE th AS SELECT * FROM t;
	CREATE INDEX th_hnsw ON th USING hnsw (v vector_l2_ops, cat);});
my $th_query = q{SET enable_seqscan = off; SET vecdb.gpu = on; SET vecdb.brute_force_ratio = 0.5;
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM th %s ORDER BY v <-> vec(11) LIMIT 10) s;
	SELECT device || ' / ' || strategy FROM vecdb_last_scan() WHERE segment IS NOT NULL;};
my ($th_rows, $th_device) = split /\n/, $node->safe_psql('postgres', sprintf($th_query, 'WHERE cat = 3'));
is($th_rows, $node->safe_psql('postgres', q{SELECT exact(11, 10, 3)}), 'hnsw, few rows allowed: the exact rows');
is($th_device, 'gpu worker (cpu stand-in) / exact (few allowed)', 'searched by the worker');
($th_rows, $th_device) = split /\n/, $node->safe_psql('postgres', sprintf($th_query, ''));
is($th_device, 'cpu / hnsw', 'hnsw without a condition: the graph, on the CPU');

# an ivfflat segment goes to the worker with the scan's probes: the same
# rows as the CPU's search of the same lists
$node->safe_psql('postgres', q{CREATE TABLE ti AS SELECT * FROM t;
	CREATE INDEX ti_ivf ON ti USING ivfflat (v vector_l2_ops, cat) WITH (lists = 20);});
# ivf_answers runs 12 searches of ti under vecdb.gpu = $mode and ivfflat.probes = $probes
sub ivf_answers
{
	my ($mode, $probes, $where, $set, $limit) = @_;
	$set //= '';
	$limit //= 10;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET vecdb.gpu = $mode; SET ivfflat.probes = $probes; $set
		SELECT string_agg(r, ';' ORDER BY q) FROM generate_series(900001, 900012) q,
			LATERAL (SELECT string_agg(id::text, ',' ORDER BY ord) r FROM
				(SELECT id, row_number() OVER () ord FROM
					(SELECT id FROM ti $where ORDER BY v <-> vec(q) LIMIT $limit) s) s2) x;
	});
}
# exact_answers_lt5 is the exact top 10 of ti's rows with cat < 5
sub exact_answers_lt5
{
	return $node->safe_psql('postgres', q{SELECT string_agg(r, ';' ORDER BY q) FROM generate_series(900001, 900012) q,
		LATERAL (SELECT string_agg(id::text, ',' ORDER BY d, id) r FROM
			(SELECT id, v <-> vec(q) d FROM ti WHERE cat < 5 ORDER BY d, id LIMIT 10) s) x});
}
my $ivf_before = status('requests');
for my $probes (1, 3, 20)
{
	is(ivf_answers('on', $probes, ''), ivf_answers('off', $probes, ''),
		"ivfflat, probes $probes: the worker returns the CPU's rows");
}
cmp_ok(status('requests') - $ivf_before, '>=', 36, 'the worker answered the ivfflat scans');
is(ivf_answers('on', 20, ''), exact_answers('NULL', 10), 'ivfflat, every list probed: the exact rows');
# 10% allowed under probes 3 of 20 lists: below the brute-force ratio, exact
is(ivf_answers('on', 3, 'WHERE cat = 3'), exact_answers(3, 10), 'ivfflat with a selective condition: the exact rows');
# 50% allowed: probes widened to 6 lists, on the worker as on the CPU
is(ivf_answers('on', 3, 'WHERE cat < 5'), ivf_answers('off', 3, 'WHERE cat < 5'),
	'ivfflat with a wide condition: the CPU\'s rows');
# a brute-force ratio set for the session travels with the request: at 0.9
# the 50% condition is searched exactly (a worker ignoring it would probe)
is(ivf_answers('on', 1, 'WHERE cat < 5', 'SET vecdb.brute_force_ratio = 0.9;'), exact_answers_lt5(),
	'ivfflat with vecdb.brute_force_ratio = 0.9: the exact rows, as on the CPU');
# 400 lists of about 10 rows: the probed lists hold fewer rows than a batch,
# so the worker answers as the CPU iterator's first batch does (further
# lists in centroid order), and deeper batches come from the iterator here
$node->safe_psql('postgres', q{CREATE INDEX ti_ivf400 ON ti USING ivfflat (v vector_l2_ops) WITH (lists = 400);
	DROP INDEX ti_ivf;});
for my $limit (10, 50, 300)
{
	is(ivf_answers('on', 1, '', '', $limit), ivf_answers('off', 1, '', '', $limit),
		"400 short lists, probes 1, LIMIT $limit: the CPU's rows");
}
is(ivf_answers('on', 2, 'WHERE id % 7 = 1', '', 20), ivf_answers('off', 2, 'WHERE id % 7 = 1', '', 20),
	'400 short lists, an executor filter over many batches: the CPU\'s rows');
$node->safe_psql('postgres', q{CREATE INDEX ti_ivf ON ti USING ivfflat (v vector_l2_ops, cat) WITH (lists = 20);
	DROP INDEX ti_ivf400;});
my $ivf_device = q{SET enable_seqscan = off; SET vecdb.gpu = %s; SET ivfflat.probes = 3;
	SELECT id FROM ti ORDER BY v <-> vec(5) LIMIT 1;
	SELECT device FROM vecdb_last_scan() WHERE segment IS NOT NULL;};
is($node->safe_psql('postgres', sprintf($ivf_device, 'on')), "5\ngpu worker (cpu stand-in)",
	'vecdb_last_scan names the worker for the ivfflat segment');
# auto: 3 of 20 lists of 4,000 rows of 16 dimensions is far below the work that pays a round trip
is($node->safe_psql('postgres', sprintf($ivf_device, 'auto')), "5\ncpu", 'auto keeps a small ivfflat search on the CPU');
my ($ir0, $iq0) = split /\|/, status('requests, queries');
my $ivf_batch = q{SET vecdb.gpu = %s; SET ivfflat.probes = 3;
	SELECT string_agg(b.query || ':' || t.id, ',' ORDER BY b.query, b.distance, t.id)
	FROM vecdb_search('ti_ivf', (SELECT array_agg(vec(q)) FROM generate_series(1, 20) q), 5) b
	JOIN ti t ON t.ctid = b.ctid};
is($node->safe_psql('postgres', sprintf($ivf_batch, 'on')), $node->safe_psql('postgres', sprintf($ivf_batch, 'off')),
	'vecdb_search over ivfflat: the worker returns the CPU\'s rows');
my ($ir1, $iq1) = split /\|/, status('requests, queries');
is($ir1 - $ir0, 1, 'one request for the ivfflat segment');
is($iq1 - $iq0, 20, 'holding the 20 queries');
# the same batch under auto: 20 queries' worth of scoring still stays on the CPU here
my ($ar0) = status('requests');
$node->safe_psql('postgres', sprintf($ivf_batch, 'auto'));
is(status('requests'), $ar0, 'auto weighs the batch: too little work, no request');

my $explain = q{SET enable_seqscan = off; SET vecdb.gpu = %s;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM %s ORDER BY v <-> vec(5) LIMIT 3};
like($node->safe_psql('postgres', sprintf($explain, 'on', 't')),
	qr/^vecdb: t_flat: the gpu worker \(cpu stand-in\) ran 1 of 1 segment searches \(1 scan\)$/m,
	'EXPLAIN ANALYZE says the worker served the scan');
unlike($node->safe_psql('postgres', sprintf($explain, 'off', 't')), qr/vecdb:/, 'and nothing when the CPU did');
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0; VACUUM t;');
is(answers('on', '', 10), exact_answers('NULL', 10), 'after deletes and VACUUM: the exact rows');
# id % 40 = 1 keeps 1 row in 40: a LIMIT 20 scan needs about 800 rows, many refills
my $sparse = $node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = on;
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM t WHERE id % 40 = 1 ORDER BY v <-> vec(77) LIMIT 20) s;
	SELECT returned FROM vecdb_last_scan();});
my ($got, $returned) = split /\n/, $sparse;
my $want = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM
	(SELECT id, v <-> vec(77) d FROM t WHERE id % 40 = 1 ORDER BY d, id LIMIT 20) s});
is($got, $want, 'an executor filter over many refills: the exact rows, none twice');
cmp_ok($returned, '>', 300, "that scan took $returned rows from the worker");

# 2. batching
my $b0 = status('batches');
my $pgbench_script = $node->basedir . '/gq.sql';
open(my $fh, '>', $pgbench_script) or die;
print $fh "\\set q random(1, 100000)\nSET enable_seqscan = off;\nSELECT id FROM t ORDER BY v <-> vec(:q) LIMIT 10;\n";
close $fh;
$node->command_ok([ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '3', '-f', $pgbench_script, '-h', $node->host,
	'-p', $node->port, 'postgres' ], 'four clients at once');
my ($max_batch, $failed) = split /\|/, status('max_batch, failed');
cmp_ok($max_batch, '>', 1, "requests that arrived together shared an engine call (max_batch $max_batch)");
is($failed, '0', 'none failed');
my ($r0, $q0) = split /\|/, status('requests, queries');
is($node->safe_psql('postgres', q{SET vecdb.gpu = on;
	SELECT count(*) FROM vecdb_search('t_flat', (SELECT array_agg(vec(q)) FROM generate_series(1, 30) q), 5)}),
	'150', 'vecdb_search: 5 rows for each of 30 queries');
my ($r1, $q1) = split /\|/, status('requests, queries');
is($r1 - $r0, 1, 'one request for the segment');
is($q1 - $q0, 30, 'holding the 30 queries');
# auto weighs a vecdb_search batch as a whole: 200 queries of the small flat
# segment (one alone stays on the CPU) go as one request, and the scans take
# their rows from its answers
my $flat_batch = q{SET vecdb.gpu = %s;
	SELECT md5(string_agg(b.query || ':' || t.id, ',' ORDER BY b.query, b.distance, t.id))
	FROM vecdb_search('t_flat', (SELECT array_agg(vec(q)) FROM generate_series(1, 200) q), 5) b
	JOIN t ON t.ctid = b.ctid};
my ($fr0) = status('requests');
my $flat_auto = $node->safe_psql('postgres', sprintf($flat_batch, 'auto'));
is(status('requests') - $fr0, 1, 'auto: a large enough batch is one request to the worker');
is($flat_auto, $node->safe_psql('postgres', sprintf($flat_batch, 'off')), 'with the CPU\'s rows');

# 3. auto: by segment size; failures fall back to the CPU
$node->safe_psql('postgres', q{
	SELECT setseed(0.25);
	CREATE TABLE big (id int PRIMARY KEY, v vector(1000));
	INSERT INTO big SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, 1000) WHERE i > 0)::vector
		FROM generate_series(1, 4300) i;
	CREATE INDEX big_flat ON big USING flat (v vector_l2_ops);
	CREATE TABLE bq AS SELECT id, v FROM big WHERE id <= 5;
});
# big_search runs the LIMIT 300 searches of the rows of bq with id <= $n
# under auto (an executor filter: refills); returns a digest of the rows and
# the last scan's device
sub big_search
{
	my ($n) = @_;
	return split /\n/, $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET vecdb.gpu = auto;
		SELECT md5(string_agg(b.id::text, ',' ORDER BY bq.id, ord)) FROM bq,
			LATERAL (SELECT id, row_number() OVER () ord FROM
				(SELECT id FROM big WHERE id % 7 <> 0 ORDER BY v <-> bq.v LIMIT 300) s) b WHERE bq.id <= $n;
		SELECT device FROM vecdb_last_scan();});
}

sub big_exact
{
	my ($n) = @_;
	return $node->safe_psql('postgres', qq{SELECT md5(string_agg(b.id::text, ',' ORDER BY bq.id, b.d, b.id)) FROM bq,
		LATERAL (SELECT id, v <-> bq.v d FROM big WHERE id % 7 <> 0 ORDER BY d, id LIMIT 300) b WHERE bq.id <= $n});
}
my ($big_rows, $big_device) = big_search(5);
is($big_rows, big_exact(5), 'auto, large segment: the exact rows');
is($big_device, 'gpu worker (cpu stand-in)', 'auto sends the large segment to the worker');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = auto;
	SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1; SELECT device FROM vecdb_last_scan();}),
	"5\ncpu", 'auto keeps the small segment on the CPU');

# the worker fails its next request (the fault fires once per setting)
set_fault('gpu_worker_search:error');
($big_rows, $big_device) = big_search(1);
is($big_rows, big_exact(1), 'auto, the worker failing the request: the CPU gives the exact rows');
like($big_device, qr/^cpu \(gpu worker: vecdb fault injected at "gpu_worker_search"/, 'vecdb_last_scan says why');
set_fault('gpu_worker_search:error:1');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{\set VERBOSITY verbose
	SET enable_seqscan = off; SET vecdb.gpu = on; SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1});
like($stderr, qr/ERROR:  58000: vecdb GPU worker failed: vecdb fault injected/, 'on: the failure is an error (58000)');
# the second request fails: the first scan's second batch, so it goes on from where the worker stopped
set_fault('gpu_worker_search:error:2');
($big_rows, $big_device) = big_search(5);
is($big_rows, big_exact(5), 'auto, the worker failing mid-scan: still the exact rows, none twice');
set_fault('');

# 4. cancellation: the worker is stuck in a search
set_fault('gpu_worker_search:sleep');
my $t0 = time;
($ret, $stdout, $stderr) = $node->psql('postgres', q{\set VERBOSITY verbose
	SET enable_seqscan = off; SET statement_timeout = '300ms'; SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1});
like($stderr, qr/57014: canceling statement due to statement timeout/, 'a statement timeout ends the wait (57014)');
cmp_ok(time - $t0, '<', 10, 'at once');

# 5. worker exit: a query waits on the stuck worker, which is then terminated
my $waiting_on = start_sql($node, q{SET enable_seqscan = off; SET vecdb.gpu = on;
	SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1});
my $waiting_auto = start_sql($node, q{SET enable_seqscan = off; SET vecdb.gpu = auto;
	SELECT count(*) FROM (SELECT id FROM big ORDER BY v <-> (SELECT v FROM bq WHERE id = 1) LIMIT 10) s});
my $waiting_killed = start_sql($node, q{SET enable_seqscan = off; SET vecdb.gpu = on;
	SELECT id FROM t ORDER BY v <-> vec(6) LIMIT 1});
usleep(1_000_000);
my ($done) = wait_sql($waiting_on, 0.1);
ok(!$done, 'a query waits while the worker is stuck');
# a waiting session terminated (FATAL): its request is left to the worker to free
is($node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE query LIKE '%vec(6)%' AND pid <> pg_backend_pid()}), 't', 'a waiting session is terminated');
($done) = wait_sql($waiting_killed, 20);
ok($done, 'it ended');
$pid = status('pid');
set_fault('');
kill 'TERM', $pid;
($done) = wait_sql($waiting_on, 20);
ok($done, 'the waiting query ended when the worker exited');
like(${ $waiting_on->{err} }, qr/vecdb GPU worker failed: the GPU worker exited/, 'on: with an error that says so');
($done) = wait_sql($waiting_auto, 20);
ok($done && ${ $waiting_auto->{out} } =~ /^10\s*$/, 'auto: the waiting query got its rows from the CPU');
my $new_pid = wait_worker($pid);
ok($new_pid > 0, "the worker was restarted (pid $pid, then $new_pid)");
my ($abandoned, $queued) = split /\|/, status('abandoned, queued');
cmp_ok($abandoned, '>=', 2, 'the timed-out and the terminated sessions\' requests were freed (abandoned)');
is($queued, '0', 'nothing left queued');
is(answers('on', '', 10), exact_answers('NULL', 10), 'the restarted worker serves the exact rows');

# 5b. the device budget: a segment larger than vecdb.gpu_memory_size is
# declined and searched by the backend, also under on
$node->append_conf('postgresql.conf', "vecdb.gpu_memory_size = 1\n");
$node->restart;
ok(wait_worker() > 0, 'the worker is back after a restart');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = on;
	SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1; SELECT device FROM vecdb_last_scan();}),
	"5\ngpu worker (cpu stand-in)", 'a segment within the budget (0.2 MB of 1 MB) is served');
my $big_on = $node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = on;
	SELECT md5(string_agg(id::text, ',' ORDER BY ord)) FROM (SELECT id, row_number() OVER () ord FROM
		(SELECT id FROM big WHERE id % 7 <> 0 ORDER BY v <-> (SELECT v FROM bq WHERE id = 1) LIMIT 300) s) s2;
	SELECT device FROM vecdb_last_scan();});
my ($big_on_rows, $big_on_device) = split /\n/, $big_on;
is($big_on_rows, big_exact(1), 'a segment over the budget: the exact rows from the backend');
like($big_on_device, qr/^cpu \(gpu worker: the segment \(\d+ MB\) is larger than vecdb.gpu_memory_size/,
	'declined, and vecdb_last_scan says why');
my ($declined, $resident_bytes) = split /\|/, status('declined, resident_bytes');
cmp_ok($declined, '>=', 1, 'counted as declined');
like($node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = on;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
	SELECT id FROM big ORDER BY v <-> (SELECT v FROM bq WHERE id = 2) LIMIT 3}),
	qr/^vecdb: big_flat: .* ran 1 of 1 segment searches \(1 scan\); 1 finished on the cpu \(the segment/m,
	'EXPLAIN ANALYZE says the search finished on the CPU, and why');
cmp_ok($resident_bytes, '<=', 1024 * 1024, 'the worker holds no more than its budget');

# 6. no device, no stand-in
$node->append_conf('postgresql.conf', "vecdb.gpu_stand_in = off\n");
$node->restart;
my $t1 = time;
my $state = '';
while (time - $t1 < 30 && ($state = status('state')) ne 'no device') { usleep(100_000); }
is($state, 'no device', 'without a device the worker gives up');
like(status('device'), qr/^no GPU: ./, 'and says why: ' . status('device'));
($ret, $stdout, $stderr) = $node->psql('postgres', q{\set VERBOSITY verbose
	SET enable_seqscan = off; SET vecdb.gpu = on; SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1});
like($stderr, qr/ERROR:  55000: vecdb GPU worker is not available: no GPU/, 'on: 55000');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = auto;
	SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1; SELECT device FROM vecdb_last_scan();}),
	"5\ncpu", 'auto: the CPU');

# 7. not preloaded
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
($ret, $stdout, $stderr) = $node->psql('postgres', q{\set VERBOSITY verbose
	SET enable_seqscan = off; SET vecdb.gpu = on; SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1});
like($stderr, qr/ERROR:  55000: vecdb GPU worker is not available: vecdb is not in shared_preload_libraries/,
	'not preloaded, on: 55000');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET vecdb.gpu = auto;
	SELECT id FROM t ORDER BY v <-> vec(5) LIMIT 1}), '5', 'not preloaded, auto: the CPU');
is($node->safe_psql('postgres', q{SELECT state, pid IS NULL, requests FROM vecdb_gpu_status()}), 'absent|t|0',
	'vecdb_gpu_status without a worker');

$node->stop;
done_testing();
