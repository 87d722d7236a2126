# 006_index_corruption.pl: damaged vecdb index files (bad metapage, flipped
# bytes in a serialized segment, a wrong page kind, a truncated file) give an
# ERROR with SQLSTATE XX002 from searches and vecdb_verify, never a crash; the
# restored file works again.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
$node->append_conf('postgresql.conf', "vecdb.min_index_rows = 0\nvecdb.build_threads = 1\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	CREATE TABLE items (id int PRIMARY KEY, embedding vector(16));
	INSERT INTO items SELECT i, ARRAY(SELECT round(sin(i * 3 + j)::numeric, 4)::real FROM generate_series(1, 16) j)
	FROM generate_series(1, 3000) i;
	CREATE INDEX items_idx ON items USING hnsw (embedding vector_l2_ops);
	INSERT INTO items SELECT i, ARRAY(SELECT round(cos(i * 3 + j)::numeric, 4)::real FROM generate_series(1, 16) j)
	FROM generate_series(3001, 3100) i;
	CHECKPOINT;
});
my $query = q{SET enable_seqscan = off; SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 42) LIMIT 1};
is($node->safe_psql('postgres', $query), '42', 'intact index finds the row');

my $path = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('items_idx')});
my $blocks = $node->safe_psql('postgres', q{SELECT pg_relation_size('items_idx') / 8192});
ok($blocks > 20, "index has $blocks blocks");
# a block of the serialized HNSW graph: the first segment's chain starts at block 1
my $blob_block = 5;
$node->stop;
copy($path, "$path.orig") or die "copy: $!";

# patch writes bytes at an offset of the index file
sub patch
{
	my ($offset, $bytes) = @_;
	open(my $fh, '+<', $path) or die "open: $!";
	binmode $fh;
	seek($fh, $offset, 0);
	print $fh $bytes;
	close $fh;
}

# expect_corrupt restarts the server on the damaged file and checks that a
# search and vecdb_verify fail with XX002 while the server stays up
sub expect_corrupt
{
	my ($what) = @_;
	$node->start;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$query");
	isnt($ret, 0, "$what: search fails");
	like($err, qr/XX002/, "$what: search reports SQLSTATE XX002") or diag($err);
	($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT vecdb_verify('items_idx')");
	like($err, qr/XX002/, "$what: vecdb_verify reports SQLSTATE XX002") or diag($err);
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$what: server still up");
	$node->stop;
	copy("$path.orig", $path) or die "restore: $!";
}

# block_of_kind returns the first block whose special space holds page kind
# $kind and chain position $seq (VecdbPageOpaqueData: next, owner, seq, kind,
# page_id, the last 16 bytes of a page)
sub block_of_kind
{
	my ($kind, $seq) = @_;
	open(my $fh, '<', $path) or die "open: $!";
	binmode $fh;
	my $block = 0;
	my $page;
	while (read($fh, $page, 8192) == 8192)
	{
		my (undef, undef, $s, $k) = unpack('VVVv', substr($page, 8176, 16));
		if ($k == $kind && $s == $seq)
		{
			close $fh;
			return $block;
		}
		$block++;
	}
	close $fh;
	die "no page of kind $kind";
}

# 1. metapage magic overwritten
patch(24, "XXXX");
expect_corrupt('bad magic');

# 2. bytes flipped inside the serialized segment (its checksum catches them)
patch($blob_block * 8192 + 4000, "\xde\xad\xbe\xef" x 16);
expect_corrupt('flipped segment bytes');

# 3. a segment page's special space claims another page kind
patch($blob_block * 8192 + 8188, "\x04\x00");
expect_corrupt('wrong page kind');

# 4. the file truncated in the middle of the segment
truncate($path, 8 * 8192) or die "truncate: $!";
expect_corrupt('truncated file');

# 5. format version from the future
patch(28, "\x63\x00\x00\x00");
expect_corrupt('unknown format version');

# 6. a half-written delete mark: the first TID map entry's block number is
# all ones while its offset still looks valid (what a mark torn between two
# pages would leave); the TID map is page kind 3
patch(block_of_kind(3, 0) * 8192 + 24, "\xff\xff\xff\xff");
expect_corrupt('impossible heap TID');

# restored, everything works again
$node->start;
is($node->safe_psql('postgres', $query), '42', 'restored index finds the row');
is($node->safe_psql('postgres', q{SELECT vecdb_verify('items_idx')}), 't', 'restored index verifies');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
