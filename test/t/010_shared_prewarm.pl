# 010_shared_prewarm.pl: with vecdb.prewarm_resident = on, the indexes that
# were resident in the shared segment area before a restart are loaded again
# by a background worker before any query asks for them; a dropped index in
# the list is skipped; the list is rewritten at shutdown.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('prewarm');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
vecdb.prewarm_resident = on
vecdb.min_index_rows = 100
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE TABLE a (id int, v vector(8));
	INSERT INTO a SELECT i, ARRAY(SELECT ((hashint4(i * 8 + j) & 1023) / 1024.0)::real FROM generate_series(1, 8) j)::vector
		FROM generate_series(1, 3000) i;
	CREATE INDEX a_hnsw ON a USING hnsw (v vector_l2_ops);
	CREATE TABLE b (id int, v vector(8));
	INSERT INTO b SELECT id, v FROM a;
	CREATE INDEX b_hnsw ON b USING hnsw (v vector_l2_ops);
});
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', q{
	CREATE EXTENSION vecdb;
	CREATE TABLE c (id int, v vector(8));
	INSERT INTO c SELECT i, ARRAY[i % 7, i % 5, 0, 0, 0, 0, 0, 1]::real[]::vector FROM generate_series(1, 2000) i;
	CREATE INDEX c_flat ON c USING flat (v vector_l2_ops);
});
# load three of the four indexes (two databases)
$node->safe_psql('postgres', "SELECT vecdb_prewarm('a_hnsw'), vecdb_prewarm('b_hnsw')");
$node->safe_psql('other', "SELECT vecdb_prewarm('c_flat')");
my $before = $node->safe_psql('postgres', 'SELECT segments FROM vecdb_shared_status()');
is($before, '3', 'three segments resident before the restart');

$node->restart;
ok(-f $node->data_dir . '/vecdb_resident.list', 'the list was written at shutdown');
my $loaded = 0;
for (1 .. 150)
{
	$loaded = $node->safe_psql('postgres', 'SELECT loads FROM vecdb_shared_status()');
	last if $loaded >= 3;
	usleep(200_000);
}
is($loaded, '3', 'after the restart the worker loaded the three segments without a query');
my $idx = $node->safe_psql('postgres', q{
	SELECT string_agg(index::regclass::text, ',' ORDER BY index::regclass::text) FROM vecdb_shared_segments()
	WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())});
is($idx, 'a_hnsw,b_hnsw', 'the resident indexes of this database are the ones loaded before');
my $read = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM a ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5) s;
	SELECT sum(read_rows) FROM vecdb_last_scan();});
is($read, "5\n0", 'the first query after the restart reads no index pages');
is($node->safe_psql('postgres', 'SELECT loads FROM vecdb_shared_status()'), '3', 'and causes no load');

# a dropped index in the list is skipped; the others still load
$node->safe_psql('postgres', 'DROP INDEX b_hnsw');
$node->restart;
for (1 .. 150)
{
	$loaded = $node->safe_psql('postgres', 'SELECT loads FROM vecdb_shared_status()');
	last if $loaded >= 2;
	usleep(200_000);
}
is($loaded, '2', 'a dropped index is skipped, the others are loaded');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'vecdb prewarm'}) <= 1,
	'only the leader stays');
$node->stop;

# vecdb.shared_memory_size = 0: preloaded without an area, the server starts
# and every connection keeps its own copy
my $off = PostgreSQL::Test::Cluster->new('area_off');
$off->init;
$off->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vecdb'
vecdb.shared_memory_size = 0
vecdb.min_index_rows = 100
});
$off->start;
$off->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE TABLE a (id int, v vector(2));
	INSERT INTO a SELECT i, ARRAY[i % 31, i % 17]::real[]::vector FROM generate_series(1, 500) i;
	CREATE INDEX ON a USING hnsw (v vector_l2_ops);});
is($off->safe_psql('postgres', 'SELECT enabled FROM vecdb_shared_status()'), 'f',
	'vecdb.shared_memory_size = 0: no shared area');
is($off->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT id FROM a ORDER BY v <-> '[3,3]', id LIMIT 1;}), '3', 'and index scans work with private copies');
$off->stop;
done_testing();
