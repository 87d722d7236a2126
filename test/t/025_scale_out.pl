# 025_scale_out.pl: scale-out (docs/scale-out.md). A coordinator holds a
# table hash-partitioned over three shard servers through postgres_fdw;
# vecdb_sharded_search answers its k-NN, over its own connections (direct)
# and through postgres_fdw: equal to the exact top k over the same rows on
# one server (flat indexes), recall >= 0.95 (hnsw), with a hybrid filter,
# after inserts and deletes through the coordinator and compaction on the
# shards, and over ten partitions on nine servers; each shard gets one
# statement with the filter and LIMIT k, and the session's search settings; the
# shards are queried in parallel (one shard's delay, not three) while a plain
# ORDER BY ... LIMIT over the table visits them one after another; filters a
# shard must not run, and a non-superuser without a password, are refused; a
# stopped shard is a clear error (or, with vecdb.shard_partial_results, a
# warning and the other shards' rows), a cut connection is reopened, and
# statement_timeout ends a slow search; a shard's hot standby answers as its
# primary does; vecdb_create_shards lays a table out over the shards (every
# column type comes back whole, in binary or, with a composite, in text).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use FindBin;
use lib $FindBin::RealBin;
use VecdbTap;

my $dims = 16;
my @shards;
for my $s (0 .. 2)
{
	my $node = PostgreSQL::Test::Cluster->new("shard$s");
	$node->init(allows_streaming => $s == 0 ? 1 : 0);
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vecdb'\nvecdb.min_index_rows = 0\nautovacuum = off\nlog_statement = all\n");
	$node->start;
	$node->safe_psql('postgres', "CREATE EXTENSION vecdb;\n" . vec_function($dims) . q{
		CREATE TABLE items (id bigint PRIMARY KEY, category int NOT NULL, embedding vector(16) NOT NULL);
		CREATE INDEX items_embedding ON items USING flat (embedding vector_l2_ops, category);
		-- slow_items: the same rows behind one 0.4 s pause per query (the parallel fan-out check)
		CREATE VIEW slow_items AS SELECT * FROM items WHERE (SELECT pg_sleep(0.4)) IS NOT NULL;
		-- cut_fanout: ends the sessions vecdb_sharded_search opened here (the reconnect check)
		CREATE VIEW cut_fanout AS SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
			WHERE application_name = 'vecdb_sharded_search';
	});
	push @shards, $node;
}
my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->append_conf('postgresql.conf', "shared_preload_libraries = 'vecdb'\n");
$coord->start;
my $servers = '';
for my $s (0 .. 2)
{
	my $port = $shards[$s]->port;
	my $host = $shards[$s]->host;
	$servers .= qq{
		CREATE SERVER shard$s FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$host', port '$port', dbname 'postgres', extensions 'vecdb', async_capable 'true');
		CREATE USER MAPPING FOR CURRENT_USER SERVER shard$s;
		CREATE FOREIGN TABLE items_$s PARTITION OF items FOR VALUES WITH (MODULUS 3, REMAINDER $s)
			SERVER shard$s OPTIONS (table_name 'items', batch_size '500');
		CREATE FOREIGN TABLE slow_$s PARTITION OF slow FOR VALUES WITH (MODULUS 3, REMAINDER $s)
			SERVER shard$s OPTIONS (table_name 'slow_items');
		CREATE FOREIGN TABLE cut_fanout_$s (n bigint) SERVER shard$s OPTIONS (table_name 'cut_fanout');
	};
}
$coord->safe_psql('postgres', "CREATE EXTENSION vecdb; CREATE EXTENSION postgres_fdw;\n" . vec_function($dims) . q{
	CREATE TABLE items (id bigint NOT NULL, category int NOT NULL, embedding vector(16) NOT NULL) PARTITION BY HASH (id);
	CREATE TABLE slow (id bigint NOT NULL, category int NOT NULL, embedding vector(16) NOT NULL) PARTITION BY HASH (id);
	-- ref: the same rows on one server, searched exactly
	CREATE TABLE ref (id bigint PRIMARY KEY, category int NOT NULL, embedding vector(16) NOT NULL);
	CREATE TABLE queries AS SELECT g AS q, vec(900000 + g) AS v FROM generate_series(1, 20) g;
	CREATE FUNCTION sharded(q vector, k int, filter text DEFAULT NULL) RETURNS bigint[] LANGUAGE sql
		AS $$ SELECT array_agg(id ORDER BY embedding <-> q, id) FROM vecdb_sharded_search(NULL::items, 'embedding', q, k, filter) $$;
	CREATE FUNCTION exact(q vector, k int, cat int DEFAULT NULL) RETURNS bigint[] LANGUAGE sql
		AS $$ SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, embedding <-> q AS d FROM ref
			WHERE cat IS NULL OR category = cat ORDER BY embedding <-> q, id LIMIT k) s $$;
} . $servers);

# inserts through the coordinator are routed to the shards
$coord->safe_psql('postgres', q{
	INSERT INTO items SELECT i, i % 7, vec(i) FROM generate_series(1, 6000) i;
	INSERT INTO ref SELECT i, i % 7, vec(i) FROM generate_series(1, 6000) i;
});
my @counts = map { $_->safe_psql('postgres', 'SELECT count(*) FROM items') } @shards;
is($counts[0] + $counts[1] + $counts[2], 6000, "inserts through the coordinator reach the shards (@counts)");
ok((grep { $_ > 1500 } @counts) == 3, 'every shard holds about a third');

my $mismatch = sub {
	my ($fanout, $filter, $cat) = @_;
	my $f = defined $filter ? "'$filter'" : 'NULL';
	my $c = defined $cat ? $cat : 'NULL';
	return $coord->safe_psql('postgres', "SET vecdb.shard_fanout = $fanout;
		SELECT count(*) FROM queries WHERE sharded(v, 10, $f) IS DISTINCT FROM exact(v, 10, $c)");
};
for my $fanout ('direct', 'postgres_fdw')
{
	is($mismatch->($fanout, undef, undef), '0', "$fanout: flat shards: the global top 10 equals the exact top 10 over the same rows");
	is($mismatch->($fanout, 'category = 3', 3), '0', "$fanout: with a hybrid filter too (shipped to the shards)");
	is($coord->safe_psql('postgres', "SET vecdb.shard_fanout = $fanout;
		SELECT count(*) FROM queries WHERE cardinality(sharded(v, 25)) <> 25"),
		'0', "$fanout: k larger than one shard's share of the answer: never short");
}
# a stable function of constants is evaluated here; the shards get its value
is($mismatch->('direct', q{category = 3 AND now() > ''2000-01-01''}, 3), '0', 'a filter calling now() is answered');

# nine servers (more connections than the cache's first allocation) and ten
# partitions, two of them through one server: one statement each
my $more = '';
for my $s (3 .. 8)
{
	my $node = $shards[$s % 3];
	$more .= sprintf(q{
		CREATE SERVER shard%d FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '%s', port '%d', dbname 'postgres', extensions 'vecdb');
		CREATE USER MAPPING FOR CURRENT_USER SERVER shard%d;}, $s, $node->host, $node->port, $s);
}
$more .= "CREATE TABLE items10 (id bigint NOT NULL, category int NOT NULL, embedding vector(16) NOT NULL) PARTITION BY HASH (id);\n";
for my $r (0 .. 9)
{
	my $server = $r % 9;
	$shards[$server % 3]->safe_psql('postgres',
		"CREATE TABLE items10_$r (id bigint, category int, embedding vector(16)); CREATE INDEX ON items10_$r USING flat (embedding)");
	$more .= "CREATE FOREIGN TABLE items10_$r PARTITION OF items10 FOR VALUES WITH (MODULUS 10, REMAINDER $r) "
		. "SERVER shard$server OPTIONS (table_name 'items10_$r');\n";
}
$coord->safe_psql('postgres', $more . 'INSERT INTO items10 SELECT * FROM ref;');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM queries WHERE (SELECT array_agg(id ORDER BY embedding <-> v, id)
	FROM vecdb_sharded_search(NULL::items10, 'embedding', v, 10)) IS DISTINCT FROM exact(v, 10)}), '0',
	'ten partitions over nine servers: the exact top 10');

# direct: each shard gets one statement, with the filter, ORDER BY and LIMIT k,
# and no remote transaction or cursor around it
my $offset = -s $shards[0]->logfile;
$coord->safe_psql('postgres', q{SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10, 'category = 3')});
my $shard_log = slurp_file($shards[0]->logfile, $offset);
like($shard_log, qr/execute vecdb_sharded_search_\d+: \(SELECT id, category, embedding, embedding OPERATOR\(public\.<->\) \(\$1\)::public\.vector\(16\) AS vecdb_sharded_distance FROM public\.items AS items_0 WHERE \(\(category = 3\)\) ORDER BY vecdb_sharded_distance LIMIT 10\)/,
	'direct: a shard gets the filter and ORDER BY ... LIMIT k in one statement');
unlike($shard_log, qr/START TRANSACTION|DECLARE|FETCH/, 'direct: without a remote transaction or cursor');
# search settings SET in the coordinator's session travel to the shards, and RESET too
$offset = -s $shards[0]->logfile;
$coord->safe_psql('postgres', q{
	SET hnsw.ef_search = 123;
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10);
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(43), 10);
	RESET hnsw.ef_search;
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10);});
$shard_log = slurp_file($shards[0]->logfile, $offset);
like($shard_log, qr/statement: RESET hnsw\.ef_search;.*SET hnsw\.ef_search = '123';.*statement: RESET hnsw\.ef_search;/s,
	'direct: the session\'s search settings reach the shards');
is(scalar(() = $shard_log =~ /SET hnsw\.ef_search = '123'/g), 1, 'once, while they do not change');

# the plan: one Append of asynchronous foreign scans, each with its own LIMIT
# (ANALYZE brings the shards' statistics: with the default guesses a filter
# looked selective enough to sort the shards' rows here)
$coord->safe_psql('postgres', q{
	ANALYZE items;
	SET vecdb.shard_fanout = postgres_fdw;
	LOAD 'auto_explain';
	SET auto_explain.log_min_duration = 0;
	SET auto_explain.log_nested_statements = on;
	SET auto_explain.log_verbose = on;
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10, 'category = 3');
});
ok($coord->log_contains(qr/Async Foreign Scan on public\.items_0.*?Remote SQL: SELECT .*? WHERE \(\(category = 3\)\) ORDER BY .*? LIMIT 10/s),
	'postgres_fdw: each shard gets the filter and ORDER BY ... LIMIT k, under an asynchronous Append');

# parallel fan-out: three shards that each take 0.4 s answer in about 0.4 s
for my $fanout ('direct', 'postgres_fdw')
{
	my $t0 = time;
	$coord->safe_psql('postgres', "SET vecdb.shard_fanout = $fanout;
		SELECT count(*) FROM vecdb_sharded_search(NULL::slow, 'embedding', vec(42), 10)");
	my $parallel = time - $t0;
	cmp_ok($parallel, '<', 1.0, sprintf('%s: vecdb_sharded_search queries them in parallel (%.2f s)', $fanout, $parallel));
}
my $t0 = time;
$coord->safe_psql('postgres', q{SELECT count(*) FROM (SELECT id FROM slow ORDER BY embedding <-> vec(42) LIMIT 10) s});
my $plain = time - $t0;
cmp_ok($plain, '>=', 1.1, sprintf('a plain ORDER BY ... LIMIT visits the shards one after another (%.2f s)', $plain));

# filters a shard must not be asked to run, in direct mode
my ($rc, $out, $err) = $coord->psql('postgres',
	q{SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10, 'category < random() * 7')});
like($err, qr/ERROR:  the filter cannot be sent to the shards: it calls function random\(\), which is not immutable/,
	'direct: a volatile function in the filter is refused');
($rc, $out, $err) = $coord->psql('postgres',
	q{SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10, 'id IN (SELECT id FROM ref)')});
like($err, qr/ERROR:  the filter cannot be sent to the shards: it calls a subquery/, 'direct: a subquery is refused');
($rc, $out, $err) = $coord->psql('postgres',
	q{SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10, 'category = 3; DROP TABLE ref')});
like($err, qr/ERROR:  syntax error/, 'a filter is one condition, never more statements');
is($coord->safe_psql('postgres', q{SET vecdb.shard_fanout = postgres_fdw;
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10, 'id IN (SELECT id FROM ref WHERE id % 2 = 0)')}),
	'10', 'postgres_fdw: the same subquery is evaluated here');

# postgres_fdw mode reads inside this transaction's remote transactions: it sees its own writes
is($coord->safe_psql('postgres', q{BEGIN;
	INSERT INTO items VALUES (990001, 1, vec(900003));
	SET LOCAL vecdb.shard_fanout = postgres_fdw;
	SELECT id FROM vecdb_sharded_search(NULL::items, 'embedding', vec(900003), 1);
	ROLLBACK}), '990001', 'postgres_fdw: a search sees the transaction\'s own insert');

# a non-superuser must connect with a password, as postgres_fdw requires
$coord->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	GRANT SELECT ON items, queries TO alice;
	GRANT USAGE ON FOREIGN SERVER shard0, shard1, shard2 TO alice;
	CREATE USER MAPPING FOR alice SERVER shard0;
	CREATE USER MAPPING FOR alice SERVER shard1;
	CREATE USER MAPPING FOR alice SERVER shard2;
});
($rc, $out, $err) = $coord->psql('postgres',
	q{SET ROLE alice; SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10)});
like($err, qr/ERROR:  password is required to reach server "shard0"/, 'a non-superuser\'s mapping without a password is refused');
($rc, $out, $err) = $coord->psql('postgres',
	q{CREATE ROLE bob LOGIN; SET ROLE bob; SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10)});
like($err, qr/ERROR:  permission denied for table items/, 'a role without SELECT on the table is refused');

# hnsw on the shards: recall against the exact answer
$_->safe_psql('postgres', q{
	DROP INDEX items_embedding;
	CREATE INDEX items_embedding ON items USING hnsw (embedding vector_l2_ops, category);
}) for @shards;
my $recall = sub {
	return $coord->safe_psql('postgres', q{
		SELECT round(avg(cardinality(ARRAY(SELECT unnest(sharded(v, 10)) INTERSECT SELECT unnest(exact(v, 10))))) / 10.0, 3)
		FROM queries});
};
cmp_ok($recall->(), '>=', 0.95, 'hnsw shards: recall@10 >= 0.95');

# deletes and more inserts through the coordinator, compaction on every shard
$coord->safe_psql('postgres', q{
	DELETE FROM items WHERE id % 5 = 0;
	DELETE FROM ref WHERE id % 5 = 0;
	INSERT INTO items SELECT i, i % 7, vec(i) FROM generate_series(6001, 7500) i;
	INSERT INTO ref SELECT i, i % 7, vec(i) FROM generate_series(6001, 7500) i;
});
$_->safe_psql('postgres', q{VACUUM items; SELECT vecdb_compact('items_embedding', true)}) for @shards;
is(join(',', map { $_->safe_psql('postgres', q{SELECT count(*) FROM vecdb_index_info('items_embedding') WHERE kind <> 'growing'}) } @shards),
	'1,1,1', 'each shard compacted its index to one segment');
cmp_ok($recall->(), '>=', 0.95, 'after deletes, inserts and compaction: recall@10 >= 0.95');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM queries, unnest(sharded(v, 10)) id WHERE id % 5 = 0 AND id <= 6000}),
	'0', 'no deleted row is returned');

# a shard's hot standby answers as its primary does
my $primary = $shards[0];
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('shard0_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$coord->safe_psql('postgres', q{
	INSERT INTO items SELECT i, i % 7, vec(i) FROM generate_series(7501, 8100) i;
	INSERT INTO ref SELECT i, i % 7, vec(i) FROM generate_series(7501, 8100) i;
});
$primary->safe_psql('postgres', q{SELECT vecdb_compact('items_embedding', true)});
$primary->wait_for_catchup($standby);
my $knn = q{SET enable_seqscan = off; SELECT string_agg(ids, ';' ORDER BY g) FROM (SELECT g,
	(SELECT string_agg(id::text, ',' ORDER BY embedding <-> vec(900000 + g), id) FROM
		(SELECT id, embedding FROM items ORDER BY embedding <-> vec(900000 + g) LIMIT 10) s) AS ids
	FROM generate_series(1, 20) g) t};
my $on_primary = $primary->safe_psql('postgres', $knn);
is($standby->safe_psql('postgres', $knn), $on_primary, 'the standby\'s k-NN answers equal the primary\'s after build, inserts and compaction');

# the layout helper: tables and indexes on the shards, foreign partitions here
# (a composite column: rows come back in text, not binary, whose composites name type OIDs)
$_->safe_psql('postgres', 'CREATE TYPE doc_meta AS (a int, b text)') for ($coord, @shards);
$coord->safe_psql('postgres', q{
	CREATE TABLE docs (id bigint NOT NULL, title text COLLATE "C", embedding vector(16) NOT NULL, extra doc_meta, tags text[])
		PARTITION BY HASH (id);
	CREATE TABLE docs_ref (id bigint, embedding vector(16));
});
is($coord->safe_psql('postgres', q{SELECT string_agg(server || ' ' || partition::text, ',' ORDER BY partition::text)
	FROM vecdb_create_shards('docs', ARRAY['shard0', 'shard1', 'shard2'], ARRAY['USING hnsw (embedding vector_l2_ops)', '(id)'])}),
	'shard0 docs_0,shard1 docs_1,shard2 docs_2', 'vecdb_create_shards makes one foreign partition per shard');
is($shards[2]->safe_psql('postgres', q{SELECT string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY indexrelid) FROM pg_index
	WHERE indrelid = 'docs'::regclass}),
	'CREATE INDEX docs_embedding_idx ON public.docs USING hnsw (embedding); CREATE INDEX docs_id_idx ON public.docs USING btree (id)',
	'and the table with its indexes on every shard');
is($shards[1]->safe_psql('postgres', q{SELECT format_type(atttypid, atttypmod) || ' ' || coalesce(collname, '-') || ' ' || attnotnull
	FROM pg_attribute LEFT JOIN pg_collation c ON c.oid = attcollation AND attcollation <> 100
	WHERE attrelid = 'docs'::regclass AND attname = 'title'}), 'text C false', 'columns keep their types and collations');
$coord->safe_psql('postgres', q{
	INSERT INTO docs SELECT i, 'doc ' || i, vec(i), ROW(i, 'doc ' || i)::doc_meta, ARRAY['t' || i] FROM generate_series(1, 3000) i;
	INSERT INTO docs_ref SELECT i, vec(i) FROM generate_series(1, 3000) i;
});
is(join(' + ', map { $_->safe_psql('postgres', 'SELECT count(*) > 800 FROM docs') } @shards), 't + t + t',
	'rows inserted here spread over the shards');
cmp_ok($coord->safe_psql('postgres', q{SELECT round(avg(cardinality(ARRAY(
		SELECT id FROM vecdb_sharded_search(NULL::docs, 'embedding', v, 10)
		INTERSECT SELECT id FROM (SELECT id FROM docs_ref ORDER BY embedding <-> v LIMIT 10) e))) / 10.0, 3) FROM queries}),
	'>=', 0.95, 'and are searched through the shards\' indexes');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM vecdb_sharded_search(NULL::docs, 'embedding', vec(900001), 50)
	WHERE title = 'doc ' || id AND extra = ROW(id, 'doc ' || id)::doc_meta AND tags = ARRAY['t' || id]}), '50',
	'every column comes back whole (a composite, an array, text)');
# text whose client encoding differs from the database's (binary text would be converted twice)
$coord->safe_psql('postgres', q{UPDATE docs SET title = 'doc ' || chr(233) || id});
is($coord->safe_psql('postgres', q{SET client_encoding = 'LATIN1';
	SELECT count(*) FROM vecdb_sharded_search(NULL::docs, 'embedding', vec(900001), 50) WHERE title = 'doc ' || chr(233) || id}),
	'50', 'with another client encoding, text comes back unchanged');
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM vecdb_create_shards('docs', ARRAY['shard0'])});
like($err, qr/ERROR:  "docs" already has partitions/, 'a table with partitions is refused');
($rc, $out, $err) = $coord->psql('postgres', q{
	CREATE SCHEMA s2; CREATE TABLE s2.items (id int NOT NULL) PARTITION BY HASH (id);
	SELECT * FROM vecdb_create_shards('s2.items', ARRAY['shard0'])});
like($err, qr/ERROR:  schema "s2" does not exist\nCONTEXT:  on server "shard0": CREATE TABLE s2\.items/,
	'a shard\'s error names the shard and the statement');
($rc, $out, $err) = $coord->psql('postgres', q{
	CREATE TABLE bobs (id int NOT NULL) PARTITION BY HASH (id);
	ALTER TABLE bobs OWNER TO bob;
	SET ROLE bob;
	SELECT * FROM vecdb_create_shards('bobs', ARRAY['shard0'])});
like($err, qr/ERROR:  permission denied for foreign server shard0/, 'vecdb_create_shards needs USAGE on the servers');
$shards[1]->safe_psql('postgres', 'CREATE TABLE taken (id int)');
($rc, $out, $err) = $coord->psql('postgres', q{
	CREATE TABLE taken (id int NOT NULL) PARTITION BY HASH (id);
	SELECT * FROM vecdb_create_shards('taken', ARRAY['shard0', 'shard1'])});
like($err, qr/ERROR:  relation public\.taken already exists on server "shard1"/, 'a table already on a shard is refused');
is($shards[0]->safe_psql('postgres', q{SELECT to_regclass('taken') IS NULL}), 't', 'before anything was created on the other shards');

# a stopped shard: a clear error, never a shorter answer; partial results only when asked
$shards[1]->stop;
($rc, $out, $err) = $coord->psql('postgres', q{SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10)});
isnt($rc, 0, 'a search with a shard down fails');
like($err, qr/could not connect to server "shard1"/, 'and says which shard');
is($out, '', 'no rows');
($rc, $out, $err) = $coord->psql('postgres', q{
	SET vecdb.shard_partial_results = on;
	SELECT array_agg(id ORDER BY embedding <-> vec(900001), id) = (SELECT array_agg(id ORDER BY d, id) FROM
		(SELECT id, embedding <-> vec(900001) AS d FROM ref WHERE satisfies_hash_partition('items'::regclass, 3, 1, id) IS NOT TRUE
		 ORDER BY d, id LIMIT 10) s)
	FROM vecdb_sharded_search(NULL::items, 'embedding', vec(900001), 10)});
is($rc, 0, 'with vecdb.shard_partial_results on it answers');
like($err, qr/WARNING:  vecdb_sharded_search skips server "shard1": could not connect to server "shard1"/,
	'with a warning naming the shard');
is($out, 't', 'from the other shards\' rows (their exact top 10)');
($rc, $out, $err) = $coord->psql('postgres', q{
	SET vecdb.shard_partial_results = on;
	SET vecdb.shard_fanout = postgres_fdw;
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(900001), 10)});
is("$rc $out", '0 10', 'postgres_fdw: partial results too');
like($err, qr/WARNING:  vecdb_sharded_search skips a partition: could not connect to server "shard1"/,
	'postgres_fdw: with a warning naming the shard');

# a connection the shard ended since it was opened is reopened once
$shards[1]->start;
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10);
	SELECT n FROM cut_fanout_0;
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10);}), "10\n1\n10",
	'a search after its connection was cut answers');

# a slow shard: statement_timeout ends the search with its usual error; the
# next search in the session answers (the slow query was cancelled)
($rc, $out, $err) = $coord->psql('postgres', q{
	SET statement_timeout = '200ms';
	SELECT count(*) FROM vecdb_sharded_search(NULL::slow, 'embedding', vec(42), 10);
	SELECT count(*) FROM vecdb_sharded_search(NULL::items, 'embedding', vec(42), 10);}, on_error_stop => 0);
like($err, qr/canceling statement due to statement timeout/, 'a slow shard meets statement_timeout');
is($out, '10', 'and the session\'s next search answers');

$_->stop for ($standby, @shards, $coord);
done_testing();
