# 008_hybrid_selectivity.pl: hybrid queries (a scalar condition inside the
# index, ORDER BY distance LIMIT 10) at selectivities 0.1%, 1%, 10%, 50% and
# 100%, for hnsw and ivfflat, with the condition's column inside the index
# and outside it: every returned row satisfies the WHERE clause, 10 rows come
# back whenever at least 10 match, and recall@10 against exact filtered
# search is at least 0.95 with the column inside the index (0.8 when the
# executor post-filters the index's stream: the trade-off docs/hybrid.md
# describes).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hybrid');
$node->init;
$node->append_conf('postgresql.conf', "vecdb.build_threads = 1\nautovacuum = off\nmax_parallel_workers_per_gather = 0\n");
$node->start;
# 20,000 rows in 20 clusters; sel is uniform in [0, 1000) independently of the
# clusters, so sel < 1 holds 0.1%, sel < 10 1%, sel < 100 10%, sel < 500 50%
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	SELECT setseed(0.42);
	CREATE TABLE items (id int PRIMARY KEY, sel int, grp int, embedding vector(16));
	INSERT INTO items
	SELECT i, (random() * 1000)::int % 1000, i % 20,
		(SELECT array_agg((c.center[j] + (random() - 0.5) * 0.6)::real) FROM generate_series(1, 16) j)::vector
	FROM generate_series(1, 20000) i,
		LATERAL (SELECT array_agg(x - floor(x)) AS center FROM (SELECT (i % 20) * 0.37 + j * 0.11 AS x FROM generate_series(1, 16) j) t) c;
	ANALYZE items;
});

my @queries = map { my $k = $_; join(',', map { sprintf('%.3f', (($k * 0.29 + $_ * 0.07) * 13) % 100 / 100) } 1 .. 16) } 1 .. 20;
my %selectivity = ('0.1%' => 'sel < 1', '1%' => 'sel < 10', '10%' => 'sel < 100', '50%' => 'sel < 500', '100%' => 'sel >= 0');

# run returns, for one query, the ids (in order) and whether each satisfies the condition
sub ids
{
	my ($settings, $cond, $q) = @_;
	my $out = $node->safe_psql('postgres', qq{$settings
		SELECT string_agg(id::text || ':' || ($cond)::int::text, ',') FROM
		(SELECT id, sel FROM items WHERE $cond ORDER BY embedding <-> '[$q]' LIMIT 10) s});
	return map { [split /:/] } split /,/, $out;
}

foreach my $case (['hnsw', 'USING hnsw (embedding vector_l2_ops, sel)', 'SET hnsw.ef_search = 200;', 0.95],
				  ['hnsw post-filter', 'USING hnsw (embedding vector_l2_ops)', 'SET hnsw.ef_search = 200;', 0.8],
				  ['ivfflat', 'USING ivfflat (embedding vector_l2_ops, sel) WITH (lists = 40)', 'SET ivfflat.probes = 10;', 0.95])
{
	my ($name, $index, $settings, $min_recall) = @$case;
	$node->safe_psql('postgres', "DROP INDEX IF EXISTS items_idx; CREATE INDEX items_idx ON items $index;");
	foreach my $label ('0.1%', '1%', '10%', '50%', '100%')
	{
		my $cond = $selectivity{$label};
		my $matching = $node->safe_psql('postgres', "SELECT count(*) FROM items WHERE $cond");
		my ($found, $want, $short, $bad, $indexed) = (0, 0, 0, 0, 0);
		foreach my $q (@queries)
		{
			my @got = ids("SET enable_seqscan = off; $settings", $cond, $q);
			my @exact = ids('SET enable_indexscan = off; SET enable_bitmapscan = off;', $cond, $q);
			my %truth = map { $_->[0] => 1 } @exact;
			$found += grep { $truth{$_->[0]} } @got;
			$want += scalar(@exact);
			$short++ if scalar(@got) < 10 && $matching >= 10;
			$bad += grep { $_->[1] ne '1' } @got;
		}
		my $plan = $node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items WHERE $cond
			ORDER BY embedding <-> '[$queries[0]]' LIMIT 10");
		my $recall = $want ? $found / $want : 1;
		note(sprintf('%-16s %5s: %5d rows match, recall@10 %.3f, %d short results', $name, $label, $matching, $recall, $short));
		like($plan, qr/Index Scan using items_idx/, "$name $label: index scan");
		is($bad, 0, "$name $label: every row satisfies the condition");
		is($short, 0, "$name $label: 10 rows whenever 10 match");
		cmp_ok($recall, '>=', $min_recall, "$name $label: recall\@10 >= $min_recall");
	}
}
$node->stop;
done_testing();
