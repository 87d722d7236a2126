# 007_index_snapshot.pl: a REPEATABLE READ transaction keeps seeing its
# snapshot through vecdb index scans while other sessions update and delete
# every matching row, VACUUM and compact: its LIMIT is filled with exactly
# the rows an exact search under the same snapshot returns; after it ends,
# new transactions see the new rows through the index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('snapshot');
$node->init;
$node->append_conf('postgresql.conf', "vecdb.min_index_rows = 0\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE TABLE items (id int PRIMARY KEY, grp int, embedding vector(8));
	INSERT INTO items SELECT i, i % 10, ARRAY(SELECT round(sin(i * 5 + j)::numeric, 4)::real FROM generate_series(1, 8) j)
	FROM generate_series(1, 2000) i;
});

foreach my $am ('hnsw', 'ivfflat', 'flat')
{
	$node->safe_psql('postgres', qq{
		DROP INDEX IF EXISTS items_idx;
		CREATE INDEX items_idx ON items USING $am (embedding vector_l2_ops);
		SET hnsw.ef_search = 100;
	});
	my $q = q{SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM items WHERE grp = 3
		ORDER BY embedding <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10) s};
	my $reader = $node->background_psql('postgres');
	$reader->query_safe(q{SET ivfflat.probes = 100; SET hnsw.ef_search = 100});
	$reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$reader->query_safe('SET LOCAL enable_seqscan = off');
	my $before = $reader->query_safe($q);

	# every row of the group moves far away, and a third of them are deleted
	$node->safe_psql('postgres', q{
		UPDATE items SET embedding = embedding + '[9,9,9,9,9,9,9,9]', id = id + 100000 WHERE grp = 3;
		DELETE FROM items WHERE grp = 3 AND id % 3 = 0;
		VACUUM items;
	});
	$node->safe_psql('postgres', q{SELECT vecdb_compact('items_idx')});

	my $during = $reader->query_safe($q);
	is($during, $before, "$am: REPEATABLE READ scan still returns its snapshot's rows after updates, VACUUM, compaction");
	my $count = $reader->query_safe(q{SELECT count(*) FROM (SELECT id FROM items WHERE grp = 3
		ORDER BY embedding <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10) s});
	is($count, '10', "$am: LIMIT 10 filled under the old snapshot");
	$reader->query_safe('SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on');
	my $exact = $reader->query_safe($q);
	is($before, $exact, "$am: index results equal exact search under the snapshot");
	$reader->query_safe('COMMIT');
	$reader->quit;

	my $now = $node->safe_psql('postgres', "SET enable_seqscan = off; $q");
	my @ids = split /,/, $now;
	is(scalar(grep { $_ > 100000 } @ids), 10, "$am: a new snapshot sees only the moved rows");
	ok($node->safe_psql('postgres', q{SELECT vecdb_verify('items_idx')}) eq 't', "$am: index verifies");
	# put the group back for the next access method
	$node->safe_psql('postgres', q{
		DELETE FROM items WHERE grp = 3;
		INSERT INTO items SELECT i, i % 10, ARRAY(SELECT round(sin(i * 5 + j)::numeric, 4)::real FROM generate_series(1, 8) j)
		FROM generate_series(1, 2000) i WHERE i % 10 = 3;
		VACUUM items;
	});
}
$node->stop;
done_testing();
