# 024_time_travel.pl: time travel (docs/time-travel.md) past what pg_regress
# covers: a randomised workload at a size where hnsw searches its graph and
# ivfflat its lists (as-of k-NN, with and without a scalar filter, against
# brute force over the versions valid at each moment: recall >= 0.95 and
# never a short result); repeatable-read, serializable, exported-snapshot
# and hot-standby reads of as-of searches that equal an exact search under
# the same snapshot while updates, VACUUM and compaction run; pg_dump and
# pg_restore of a database with time travel on (settings, twins once, the
# same answers).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;

my $rounds = 10;
my $primary = PostgreSQL::Test::Cluster->new('tt_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "vecdb.min_index_rows = 0\nautovacuum = off\n");
$primary->start;
$primary->safe_psql('postgres', "CREATE EXTENSION vecdb;\n" . vec_function(16) . q{
	CREATE EXTENSION periods CASCADE;
	CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, embedding vector(16) NOT NULL);
	INSERT INTO items SELECT i, i % 5, vec(i) FROM generate_series(1, 3000) i;
	CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops, category);
	CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops, category) WITH (lists = 20);
	SELECT vecdb_enable_time_travel('items');
	CREATE TABLE moments (round int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO moments VALUES (0, clock_timestamp());
	CREATE TABLE queries AS SELECT g AS q, vec(900000 + g) AS v FROM generate_series(1, 8) g;
	-- knn_index: through the indexes; knn_exact: brute force over the versions valid at t
	CREATE FUNCTION knn_index(t timestamptz, q vector, cat int) RETURNS int[] LANGUAGE sql
		SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
		SET hnsw.ef_search = 100 SET ivfflat.probes = 8
		AS $$ SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM items__as_of(t) WHERE cat IS NULL OR category = cat
			ORDER BY embedding <-> q LIMIT 10) s $$;
	-- knn_wide: the same with the widest search (every list, ef_search 1000), so
	-- that it is exact at this size and answers can be compared across rebuilds
	CREATE FUNCTION knn_wide(t timestamptz, q vector) RETURNS int[] LANGUAGE sql
		SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
		SET hnsw.ef_search = 1000 SET ivfflat.probes = 20
		AS $$ SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM items__as_of(t) ORDER BY embedding <-> q LIMIT 10) s $$;
	CREATE FUNCTION knn_exact(t timestamptz, q vector, cat int) RETURNS int[] LANGUAGE sql
		SET enable_indexscan = off SET enable_bitmapscan = off
		AS $$ SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM items_with_history
			WHERE system_time_start <= t AND system_time_end > t AND (cat IS NULL OR category = cat)
			ORDER BY embedding <-> q LIMIT 10) s $$;
});

# the workload: each round updates 15% of the rows' vectors, moves 3% to
# another category, deletes 2% and inserts as many, in one transaction
for my $r (1 .. $rounds)
{
	my $base = 100000 * $r;
	$primary->safe_psql('postgres', qq{
		UPDATE items SET embedding = vec(id + $base) WHERE abs(hashint4(id + $r) % 100) < 15;
		UPDATE items SET category = (category + 1) % 5 WHERE abs(hashint4(id - $r) % 100) < 3;
		DELETE FROM items WHERE abs(hashint4(id * 7 + $r) % 100) < 2;
		INSERT INTO items SELECT $base + i, i % 5, vec($base + i) FROM generate_series(1, 60) i;
	});
	$primary->safe_psql('postgres', "INSERT INTO moments VALUES ($r, clock_timestamp())");
	# what autovacuum would do (it is off for the repeatable checks)
	$primary->safe_psql('postgres', 'VACUUM items');
}
my $versions = $primary->safe_psql('postgres', 'SELECT count(*) FROM items_history');
cmp_ok($versions, '>', 4000, "the workload left $versions history versions");
my $current = $primary->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($current, '>', 2900, "and $current current rows");

# recall of each index against brute force, every moment x query, unfiltered and filtered
my $recall_sql = q{
	SELECT count(*), round(avg(cardinality(ARRAY(SELECT unnest(i) INTERSECT SELECT unnest(e))) / 10.0), 4),
		count(*) FILTER (WHERE cardinality(i) < cardinality(e)), min(cardinality(e))
	FROM (SELECT knn_index(m.at, v, c) AS i, knn_exact(m.at, v, c) AS e
		FROM moments m, queries, (VALUES (NULL::int), (2)) f(c)) s};
foreach my $am ('hnsw', 'ivfflat')
{
	my $other = $am eq 'hnsw' ? 'items_ivf' : 'items_hnsw';
	# drop the other index (and, through the event trigger, its twin) for this check only
	my ($n, $recall, $short, $min) = split /\|/, $primary->safe_psql('postgres', qq{
		BEGIN; DROP INDEX $other; $recall_sql; ROLLBACK;});
	is($n, 2 * 8 * ($rounds + 1), "$am: $n as-of searches checked");
	cmp_ok($recall, '>=', 0.95, "$am: as-of recall $recall against brute force over the valid versions");
	is($short, '0', "$am: no as-of search returned fewer rows than brute force");
	is($min, '10', "$am: every exact answer had 10 rows");
}
my $at5 = $primary->safe_psql('postgres', 'SELECT at FROM moments WHERE round = 5');
my $plan = $primary->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM items__as_of('$at5') ORDER BY embedding <-> vec(1) LIMIT 10});
like($plan, qr/Index Scan using items_\w+_history on items_history/, 'the history twin serves as-of searches');

# exported snapshot: a second session on the same snapshot sees the same
# as-of answers, before and after other sessions change, VACUUM and compact
my $probe = q{SELECT string_agg(array_to_string(knn_wide(m.at, v), ','), ';' ORDER BY m.round, q)
	FROM moments m, queries WHERE m.round IN (3, 7, 10)};
my $probe_now = q{SELECT string_agg(array_to_string(knn_wide(now(), v), ','), ';' ORDER BY q) FROM queries};
my $probe_exact = q{SELECT string_agg(array_to_string(knn_exact(now(), v, NULL), ','), ';' ORDER BY q) FROM queries};
my $a = $primary->background_psql('postgres');
$a->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $snap = $a->query_safe('SELECT pg_export_snapshot()');
my $a_past = $a->query_safe($probe);
my $a_now = $a->query_safe($probe_now);
my $b = $primary->background_psql('postgres');
$b->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$b->query_safe("SET TRANSACTION SNAPSHOT '$snap'");
is($b->query_safe($probe), $a_past, 'exported snapshot: the same as-of answers');
# a SERIALIZABLE reader of its own, started at the same point
my $z = $primary->background_psql('postgres');
$z->query_safe('BEGIN ISOLATION LEVEL SERIALIZABLE');
my $z_past = $z->query_safe($probe);
my $z_now = $z->query_safe($probe_now);
is($z_past, $a_past, 'SERIALIZABLE: the same past as-of answers');
$primary->safe_psql('postgres', q{
	UPDATE items SET embedding = vec(id + 7777777) WHERE id % 4 = 0;
	DELETE FROM items WHERE id % 9 = 0;
	VACUUM items; VACUUM items_history;
	SELECT vecdb_compact('items_hnsw'), vecdb_compact('items_hnsw_history'),
		vecdb_compact('items_ivf'), vecdb_compact('items_ivf_history');
});
is($a->query_safe($probe), $a_past, 'exporter: past as-of answers unchanged after updates, VACUUM, compaction');
is($b->query_safe($probe), $a_past, 'importer: past as-of answers unchanged after updates, VACUUM, compaction');
is($b->query_safe($probe_now), $a_now, 'importer: as-of now under the snapshot equals the exporter');
is($a->query_safe($probe_now), $a->query_safe($probe_exact), 'as-of now under the old snapshot equals brute force under it');
is($z->query_safe($probe), $z_past, 'SERIALIZABLE: past as-of answers unchanged after updates, VACUUM, compaction');
is($z->query_safe($probe_now), $z_now, 'SERIALIZABLE: as-of now unchanged after updates, VACUUM, compaction');
is($z->query_safe($probe_now), $z->query_safe($probe_exact), 'SERIALIZABLE: as-of now equals brute force under its snapshot');
$a->query_safe('COMMIT');
$b->query_safe('COMMIT');
$z->query_safe('COMMIT');
$a->quit;
$b->quit;
$z->quit;

# hot standby: as-of searches equal the primary's, also in a standby
# REPEATABLE READ transaction across replayed changes and compactions
$primary->backup('tt_base');
my $standby = PostgreSQL::Test::Cluster->new('tt_standby');
$standby->init_from_backup($primary, 'tt_base', has_streaming => 1);
# feedback keeps the rows the standby's snapshot needs on the primary, so
# replay never waits on that snapshot
$standby->append_conf('postgresql.conf', "hot_standby_feedback = on\nwal_receiver_status_interval = 1\n");
$standby->start;
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', $probe), $primary->safe_psql('postgres', $probe),
	'standby: as-of answers equal the primary\'s');
my $s = $standby->background_psql('postgres');
$s->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $s_past = $s->query_safe($probe);
my $s_now = $s->query_safe($probe_now);
$primary->poll_query_until('postgres', 'SELECT backend_xmin IS NOT NULL FROM pg_stat_replication')
  or die 'no feedback xmin from the standby';
$primary->safe_psql('postgres', q{
	UPDATE items SET embedding = vec(id + 8888888) WHERE id % 5 = 0;
	VACUUM items; VACUUM items_history;
	SELECT vecdb_compact('items_hnsw'), vecdb_compact('items_hnsw_history');
});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($s->query_safe($probe), $s_past, 'standby snapshot: past as-of answers unchanged across replayed compaction');
is($s->query_safe($probe_now), $s_now, 'standby snapshot: as-of now unchanged across replayed compaction');
is($s->query_safe($probe_now), $s->query_safe($probe_exact), 'standby snapshot: as-of now equals brute force under it');
$s->query_safe('COMMIT');
$s->quit;
$standby->stop;

# pg_dump and pg_restore: settings, each twin once, the same answers, and
# later DDL still pairs indexes
my $dump = $primary->basedir . '/tt.dump';
$primary->command_ok(['pg_dump', '-Fc', '-d', $primary->connstr('postgres'), '-f', $dump], 'pg_dump of a database with time travel');
$primary->safe_psql('postgres', 'CREATE DATABASE restored');
my @restore = ('pg_restore', '-d', $primary->connstr('restored'), $dump);
IPC::Run::run(\@restore, '>', \my $rout, '2>', \my $rerr);
# periods' own event trigger refuses the dump's REVOKE on its history table
# and view (docs/time-travel.md); any other error fails the test
my @errors = grep { /pg_restore: error:/ && !/cannot revoke SELECT directly from/ } split /\n/, $rerr;
is(scalar(@errors), 0, 'pg_restore: no errors besides periods\' REVOKE refusals') or diag($rerr);
my $settings = q{SELECT string_agg(format('%s %s %s', tbl, history, retention), ';') FROM vecdb_time_travel};
is($primary->safe_psql('restored', $settings), $primary->safe_psql('postgres', $settings), 'restored: the settings');
my $twins = q{SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'items_history'
	AND indexdef ~ 'USING (hnsw|ivfflat)'};
is($primary->safe_psql('restored', $twins), 'items_hnsw_history,items_ivf_history', 'restored: each twin once');
is($primary->safe_psql('restored', "BEGIN; DROP INDEX items_ivf; $probe; ROLLBACK"),
	$primary->safe_psql('postgres', "BEGIN; DROP INDEX items_ivf; $probe; ROLLBACK"), 'restored: the same as-of answers');
$primary->safe_psql('restored', 'CREATE INDEX items_flat ON items USING flat (embedding vector_l2_ops)');
is($primary->safe_psql('restored', q{SELECT twin_name FROM vecdb_time_travel_index WHERE index_name = 'items_flat'}),
	'items_flat_history', 'restored: a new index gets its twin');

done_testing();
