# 001_vector_wal.pl: vector data survives a crash and replays on a streaming
# hot standby, which answers similarity queries exactly as the primary does.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vecdb');
$primary->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, embedding vector(8), half halfvec(8), sparse sparsevec(8));
	INSERT INTO items
	SELECT i, v, v::halfvec, v::sparsevec
	FROM (SELECT i, ARRAY(SELECT round(sin(i * 7 + j)::numeric, 3)::real FROM generate_series(1, 8) j)::vector(8) AS v
		  FROM generate_series(1, 500) i) s;
});

my $query = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM
	(SELECT id, embedding <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' AS d FROM items ORDER BY d, id LIMIT 10) s};
my $expected = $primary->safe_psql('postgres', $query);
ok($expected =~ /^\d+(,\d+){9}$/, 'primary returns 10 nearest ids');

# Streaming standby from a base backup, then more writes on the primary.
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', q{
	INSERT INTO items SELECT i, ('[' || i || ',0,0,0,0,0,0,0]')::vector, NULL, NULL FROM generate_series(501, 600) i;
	UPDATE items SET embedding = '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' WHERE id = 42;
});
$primary->wait_for_catchup($standby);
my $after = $primary->safe_psql('postgres', $query);
is($standby->safe_psql('postgres', $query), $after, 'standby returns the same neighbours as the primary');
like($after, qr/^42,/, 'updated row is nearest on the primary');
is($standby->safe_psql('postgres', 'SELECT sum(vector_dims(embedding)), count(half), count(sparse) FROM items'),
	'4800|500|500', 'standby sees every row and column');

# Crash the primary (no checkpoint), restart, and compare.
my $sums = $primary->safe_psql('postgres', 'SELECT avg(embedding)::text, sum(half)::text FROM items');
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', $query), $after, 'neighbours identical after crash recovery');
is($primary->safe_psql('postgres', 'SELECT avg(embedding)::text, sum(half)::text FROM items'), $sums,
	'aggregates identical after crash recovery');

$standby->stop;
$primary->stop;
done_testing();
