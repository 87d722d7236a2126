# 023_bulk_build.pl: CREATE INDEX writes its segments' pages straight to
# the index's file, past the buffer pool (src/am/bulk_pages.cpp): WAL-logged
# when the relation needs WAL and synced at the end, else left to the
# commit's sync (wal_level = minimal, the relation new in the transaction).
# For both WAL levels, indexes of one and of several segments (a small
# maintenance_work_mem), of hnsw and ivfflat, answer after a CHECKPOINT and
# a crash as they did before it, and pass vecdb_verify; a temporary table's
# index (local buffers for its metapage) is built and used the same way.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;

my $dims = 24;
my $rows = 6000;

# The indexes: name, access method and opclass, WITH clause, and the
# maintenance_work_mem it is built under ('1MB': several segments).
my @indexes = (
	[ 'h_one', 'hnsw (embedding vector_l2_ops)', 'WITH (m = 8, ef_construction = 40)', '64MB' ],
	[ 'h_many', 'hnsw (embedding vector_cosine_ops)', 'WITH (m = 8, ef_construction = 40)', '1MB' ],
	[ 'i_one', 'ivfflat (embedding vector_l2_ops)', 'WITH (lists = 8)', '64MB' ],
	# 8-bit codes in the graph, the full rows in pages of their own
	[ 'q_many', 'hnsw (embedding vector_l2_ops)', 'WITH (m = 8, ef_construction = 40, sq_bits = 8)', '1MB' ],
);

# answers returns each index's ten nearest ids for five queries, one line
# per query, read through the index.
sub answers
{
	my ($node, $table) = @_;
	my %out;
	for my $ix (@indexes)
	{
		my $op = $ix->[1] =~ /cosine/ ? '<=>' : '<->';
		$out{ $ix->[0] } = $node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET hnsw.ef_search = 200; SET ivfflat.probes = 8;
			SELECT (SELECT string_agg(id::text, ',' ORDER BY embedding $op vec(q), id)
			        FROM (SELECT id, embedding FROM $table ORDER BY embedding $op vec(q) LIMIT 10) s)
			FROM generate_series(100001, 100005) q ORDER BY q;
		});
	}
	return \%out;
}

# build_all creates $table's indexes, each under its maintenance_work_mem
# (in the transaction of $prefix, when given, which may create the table).
sub build_all
{
	my ($node, $table, $prefix) = @_;
	my $sql = $prefix // '';
	for my $ix (@indexes)
	{
		$sql .= "SET maintenance_work_mem = '$ix->[3]';\n"
		  . "CREATE INDEX $ix->[0] ON $table USING $ix->[1] $ix->[2];\n";
	}
	$node->safe_psql('postgres', "BEGIN;\n$sql\nCOMMIT;");
}

# check_node builds, answers, checkpoints, crashes and answers again.
sub check_node
{
	my ($name, $conf, $in_one_transaction) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'vecdb'\nautovacuum = off\nvecdb.min_index_rows = 0\n$conf");
	$node->start;
	$node->safe_psql('postgres', "CREATE EXTENSION vecdb;\n" . vec_function($dims));
	my $make = "CREATE TABLE t (id int PRIMARY KEY, embedding vector($dims));\n"
	  . "INSERT INTO t SELECT i, vec(i) FROM generate_series(1, $rows) i;\n";
	if ($in_one_transaction)
	{
		build_all($node, 't', $make);
	}
	else
	{
		$node->safe_psql('postgres', $make);
		build_all($node, 't');
	}
	for my $many ('h_many', 'q_many')
	{
		my $segments = $node->safe_psql('postgres',
			"SELECT count(*) FROM vecdb_index_info('$many') WHERE kind <> 'growing'");
		cmp_ok($segments, '>=', 2, "$name: $many was built as several segments ($segments)");
	}

	my $before = answers($node, 't');
	for my $ix (@indexes)
	{
		my @lines = split /\n/, $before->{ $ix->[0] };
		is(scalar(grep { scalar(split /,/) == 10 } @lines), 5, "$name: $ix->[0] answers ten rows per query");
	}
	$node->safe_psql('postgres', 'CHECKPOINT');
	$node->stop('immediate');
	$node->start;
	my $after = answers($node, 't');
	for my $ix (@indexes)
	{
		is($after->{ $ix->[0] }, $before->{ $ix->[0] }, "$name: $ix->[0] answers as before the crash");
		is($node->safe_psql('postgres', "SELECT vecdb_verify('$ix->[0]')"), 't',
			"$name: $ix->[0] passes vecdb_verify after the crash");
	}
	return $node;
}

my $replica = check_node('bulk_replica', "wal_level = replica\n", 0);

# the pages are in the WAL: a rebuild's WAL holds at least the index's bytes
my $lsn0 = $replica->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$replica->safe_psql('postgres', 'REINDEX INDEX h_one');
my ($wal, $size) = split /\|/, $replica->safe_psql('postgres',
	"SELECT pg_current_wal_lsn() - '$lsn0'::pg_lsn, pg_relation_size('h_one')");
cmp_ok($wal, '>=', $size / 2, "replica: REINDEX logged the index's pages ($wal WAL bytes, index $size)");
$replica->stop;

# wal_skip_threshold 0: the commit syncs every new file (a smaller one
# would be WAL-logged at commit instead)
my $minimal = check_node('bulk_minimal', "wal_level = minimal\nmax_wal_senders = 0\nwal_skip_threshold = 0\n", 1);

# wal_level = minimal: the build skips WAL (the commit syncs the file)
$lsn0 = $minimal->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$minimal->safe_psql('postgres', 'REINDEX INDEX h_one');
($wal, $size) = split /\|/, $minimal->safe_psql('postgres',
	"SELECT pg_current_wal_lsn() - '$lsn0'::pg_lsn, pg_relation_size('h_one')");
cmp_ok($wal, '<', $size / 4, "minimal: REINDEX did not log the index's pages ($wal WAL bytes, index $size)");
$minimal->stop('immediate');
$minimal->start;
is($minimal->safe_psql('postgres', "SELECT vecdb_verify('h_one')"), 't',
	'minimal: the reindexed index passes vecdb_verify after a crash');

# a temporary table's index
is($minimal->safe_psql('postgres', qq{
	CREATE TEMP TABLE tt (id int, embedding vector($dims));
	INSERT INTO tt SELECT i, vec(i) FROM generate_series(1, 3000) i;
	SET maintenance_work_mem = '1MB';
	CREATE INDEX tt_idx ON tt USING hnsw (embedding vector_l2_ops);
	SET enable_seqscan = off;
	SELECT id FROM tt ORDER BY embedding <-> vec(1234) LIMIT 1;
}), '1234', 'a temporary table\'s index built in bulk finds a row');
$minimal->stop;

done_testing();
