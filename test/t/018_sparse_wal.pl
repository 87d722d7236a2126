# 018_sparse_wal.pl: sparsevec indexes of vocabulary size (native sparse
# rows, SPARSE_INVERTED segments) are WAL-logged and crash-safe. A streaming
# hot standby made before the index exists replays its build, growing
# inserts of rows from 1 to 3,000 non-zeros (records of varying length that
# span pages), deletes, VACUUM and compaction, and answers as the primary.
# Then the primary crashes in the middle of inserts: after recovery every
# acknowledged row is found by a search for its own vector, and
# vecdb_verify passes on both nodes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $dim = 30522;

my $primary = PostgreSQL::Test::Cluster->new('sparse_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
autovacuum = off
restart_after_crash = on
shared_preload_libraries = 'vecdb'
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vecdb');
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('sparse_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# sp(i, terms): a deterministic sparse row of up to `terms` distinct terms.
$primary->safe_psql('postgres', qq{
	CREATE FUNCTION sp(i int, terms int) RETURNS sparsevec($dim) IMMUTABLE LANGUAGE sql AS \$\$
		SELECT ('{' || string_agg(t::text || ':' || w::text, ',' ORDER BY t) || '}/$dim')::sparsevec($dim)
		FROM (SELECT 1 + (hashint8extended(i, j) & 1048575)::int % $dim AS t,
		             max(round((0.1 + (hashint8extended(i, j + 7777) & 1023)::numeric / 512), 3)) AS w
		      FROM generate_series(1, terms) j GROUP BY 1) x \$\$;
	CREATE TABLE s (id int PRIMARY KEY, c int, v sparsevec($dim));
	INSERT INTO s SELECT i, i % 5, sp(i, 1 + (i * 37) % 200) FROM generate_series(1, 1500) i;
	CREATE INDEX s_cos ON s USING hnsw (v sparsevec_cosine_ops, c);
});

# answers(node): the top 5 ids for a few queries, with and without a filter.
sub answers
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT string_agg(ids, ';' ORDER BY q) FROM (
			SELECT q, (SELECT string_agg(id::text, ',' ORDER BY d, id) FROM
			           (SELECT id, v <=> sp(q, 60) AS d FROM s ORDER BY v <=> sp(q, 60) LIMIT 5) a) ||
			       '|' || (SELECT string_agg(id::text, ',' ORDER BY d, id) FROM
			           (SELECT id, v <=> sp(q, 60) AS d FROM s WHERE c = 2 ORDER BY v <=> sp(q, 60) LIMIT 5) b) AS ids
			FROM generate_series(100001, 100008) q) x});
}

# self_found(node): rows whose own vector does not find them first (by cosine, itself at distance 0).
sub not_self_found
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT count(*) FROM s WHERE id % 7 = 0 AND
			(SELECT s2.id FROM s s2 ORDER BY s2.v <=> s.v, s2.id LIMIT 1) <> s.id});
}

sub check_step
{
	my ($step) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	my $want = answers($primary);
	is(answers($standby), $want, "$step: the standby answers as the primary");
	is($standby->safe_psql('postgres', q{SELECT string_agg(kind || ':' || rows || ':' || deleted, ',' ORDER BY segment NULLS LAST) FROM vecdb_index_info('s_cos')}),
		$primary->safe_psql('postgres', q{SELECT string_agg(kind || ':' || rows || ':' || deleted, ',' ORDER BY segment NULLS LAST) FROM vecdb_index_info('s_cos')}),
		"$step: same segments on both nodes");
}

is($primary->safe_psql('postgres', q{SELECT kind FROM vecdb_index_info('s_cos') WHERE segment IS NOT NULL}),
	'sparse_inverted', 'the index holds sparse rows');
check_step('build');

# growing rows of 1 to 3,000 non-zeros: records of up to 24 KB span pages
$primary->safe_psql('postgres', q{
	INSERT INTO s SELECT i, i % 5, sp(i, CASE WHEN i % 10 = 0 THEN 3000 ELSE 1 + (i * 53) % 400 END)
	FROM generate_series(1501, 1800) i});
check_step('growing inserts');
is(not_self_found($standby), '0', 'growing inserts: every row is found by its own vector on the standby');

$primary->safe_psql('postgres', q{DELETE FROM s WHERE id % 9 = 0; VACUUM s; SELECT vecdb_compact('s_cos')});
check_step('deletes, VACUUM, compaction');

# a crash in the middle of inserts: acknowledged rows survive
my $acked = 0;
my $in = '';
my $out = '';
my $h = IPC::Run::start([ 'psql', '-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', $primary->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \my $err);
for my $i (2001 .. 2400)
{
	$in .= "INSERT INTO s VALUES ($i, $i % 5, sp($i, 1 + ($i * 71) % 900)); SELECT 'ack $i';\n";
}
$h->pump until $out =~ /ack 2100/ || !$h->pumpable;
$primary->stop('immediate');
eval { $h->finish; };
$acked = () = $out =~ /ack \d+/g;
ok($acked >= 100, "$acked inserts acknowledged before the crash");
$primary->start;
my ($last) = $out =~ /.*ack (\d+)/s;
is($primary->safe_psql('postgres', "SELECT count(*) FROM s WHERE id BETWEEN 2001 AND $last"),
	$last - 2000, 'every acknowledged row is in the table after recovery');
is(not_self_found($primary), '0', 'after recovery every row is found by its own vector');
like($primary->safe_psql('postgres', q{SELECT vecdb_verify('s_cos')}), qr/^t$/, 'vecdb_verify passes on the primary');
check_step('after the crash');
like($standby->safe_psql('postgres', q{SELECT vecdb_verify('s_cos')}), qr/^t$/, 'vecdb_verify passes on the standby');

$primary->safe_psql('postgres', q{SELECT vecdb_compact('s_cos', true)});
check_step('full compaction after the crash');
is(not_self_found($primary), '0', 'after a full compaction every row is found by its own vector');

$standby->stop;
$primary->stop;
done_testing();
