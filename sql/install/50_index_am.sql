-- 50_index_am: the index access methods (hnsw, ivfflat, ivfpq, ivfsq8, flat), their
-- operator classes and the functions that inspect and maintain vecdb indexes.

CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION hnswhandler(internal) IS 'index access method handler of hnsw';
CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;
COMMENT ON ACCESS METHOD hnsw IS 'HNSW graph index (hnswlib graph, vecdb engine): approximate nearest neighbours, pgvector-compatible options m and ef_construction';

CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION ivfflathandler(internal) IS 'index access method handler of ivfflat';
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;
COMMENT ON ACCESS METHOD ivfflat IS 'IVF index with exact vectors in each list (FAISS IVF_FLAT): pgvector-compatible option lists';

CREATE FUNCTION ivfpqhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION ivfpqhandler(internal) IS 'index access method handler of ivfpq';
CREATE ACCESS METHOD ivfpq TYPE INDEX HANDLER ivfpqhandler;
COMMENT ON ACCESS METHOD ivfpq IS 'IVF index with product-quantized vectors (FAISS IVF_PQ), re-ranked exactly: options lists, m, nbits, rerank';

CREATE FUNCTION ivfsq8handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION ivfsq8handler(internal) IS 'index access method handler of ivfsq8';
CREATE ACCESS METHOD ivfsq8 TYPE INDEX HANDLER ivfsq8handler;
COMMENT ON ACCESS METHOD ivfsq8 IS 'IVF index with 8-bit scalar-quantized vectors (FAISS IVF_SQ8), re-ranked exactly: options lists, rerank';

CREATE FUNCTION flathandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION flathandler(internal) IS 'index access method handler of flat';
CREATE ACCESS METHOD flat TYPE INDEX HANDLER flathandler;
COMMENT ON ACCESS METHOD flat IS 'exact index: vectors kept in segments and searched by brute force with SIMD kernels';

CREATE FUNCTION vecdb_support_vector_l2(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_vector_l2(internal) IS 'operator class support: tells vecdb indexes that vector values are ordered by L2 distance';
CREATE FUNCTION vecdb_support_vector_ip(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_vector_ip(internal) IS 'operator class support: tells vecdb indexes that vector values are ordered by negative inner product';
CREATE FUNCTION vecdb_support_vector_cosine(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_vector_cosine(internal) IS 'operator class support: tells vecdb indexes that vector values are ordered by cosine distance';
CREATE FUNCTION vecdb_support_vector_l1(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_vector_l1(internal) IS 'operator class support: tells vecdb indexes that vector values are ordered by L1 distance';
CREATE FUNCTION vecdb_support_halfvec_l2(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_halfvec_l2(internal) IS 'operator class support: tells vecdb indexes that halfvec values are ordered by L2 distance';
CREATE FUNCTION vecdb_support_halfvec_ip(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_halfvec_ip(internal) IS 'operator class support: tells vecdb indexes that halfvec values are ordered by negative inner product';
CREATE FUNCTION vecdb_support_halfvec_cosine(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_halfvec_cosine(internal) IS 'operator class support: tells vecdb indexes that halfvec values are ordered by cosine distance';
CREATE FUNCTION vecdb_support_halfvec_l1(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_halfvec_l1(internal) IS 'operator class support: tells vecdb indexes that halfvec values are ordered by L1 distance';
CREATE FUNCTION vecdb_support_sparsevec_l2(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_sparsevec_l2(internal) IS 'operator class support: tells vecdb indexes that sparsevec values are ordered by L2 distance';
CREATE FUNCTION vecdb_support_sparsevec_ip(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_sparsevec_ip(internal) IS 'operator class support: tells vecdb indexes that sparsevec values are ordered by negative inner product';
CREATE FUNCTION vecdb_support_sparsevec_cosine(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_sparsevec_cosine(internal) IS 'operator class support: tells vecdb indexes that sparsevec values are ordered by cosine distance';
CREATE FUNCTION vecdb_support_sparsevec_l1(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_sparsevec_l1(internal) IS 'operator class support: tells vecdb indexes that sparsevec values are ordered by L1 distance';
CREATE FUNCTION vecdb_support_bit_hamming(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_bit_hamming(internal) IS 'operator class support: tells vecdb indexes that bit values are ordered by Hamming distance';
CREATE FUNCTION vecdb_support_bit_jaccard(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_bit_jaccard(internal) IS 'operator class support: tells vecdb indexes that bit values are ordered by Jaccard distance';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l2(internal);
COMMENT ON OPERATOR CLASS vector_l2_ops USING hnsw IS 'hnsw index on vector ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING hnsw IS 'hnsw index on vector ordered by L2 distance (<->)';
CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_ip(internal);
COMMENT ON OPERATOR CLASS vector_ip_ops USING hnsw IS 'hnsw index on vector ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING hnsw IS 'hnsw index on vector ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_cosine(internal);
COMMENT ON OPERATOR CLASS vector_cosine_ops USING hnsw IS 'hnsw index on vector ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING hnsw IS 'hnsw index on vector ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l1(internal);
COMMENT ON OPERATOR CLASS vector_l1_ops USING hnsw IS 'hnsw index on vector ordered by L1 distance (<+>)';
COMMENT ON OPERATOR FAMILY vector_l1_ops USING hnsw IS 'hnsw index on vector ordered by L1 distance (<+>)';
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING hnsw IS 'hnsw index on halfvec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY halfvec_l2_ops USING hnsw IS 'hnsw index on halfvec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING hnsw IS 'hnsw index on halfvec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY halfvec_ip_ops USING hnsw IS 'hnsw index on halfvec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING hnsw IS 'hnsw index on halfvec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY halfvec_cosine_ops USING hnsw IS 'hnsw index on halfvec ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS halfvec_l1_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l1(internal);
COMMENT ON OPERATOR CLASS halfvec_l1_ops USING hnsw IS 'hnsw index on halfvec ordered by L1 distance (<+>)';
COMMENT ON OPERATOR FAMILY halfvec_l1_ops USING hnsw IS 'hnsw index on halfvec ordered by L1 distance (<+>)';
CREATE OPERATOR CLASS sparsevec_l2_ops
	DEFAULT FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_l2(internal);
COMMENT ON OPERATOR CLASS sparsevec_l2_ops USING hnsw IS 'hnsw index on sparsevec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY sparsevec_l2_ops USING hnsw IS 'hnsw index on sparsevec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS sparsevec_ip_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_ip(internal);
COMMENT ON OPERATOR CLASS sparsevec_ip_ops USING hnsw IS 'hnsw index on sparsevec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY sparsevec_ip_ops USING hnsw IS 'hnsw index on sparsevec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS sparsevec_cosine_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_cosine(internal);
COMMENT ON OPERATOR CLASS sparsevec_cosine_ops USING hnsw IS 'hnsw index on sparsevec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY sparsevec_cosine_ops USING hnsw IS 'hnsw index on sparsevec ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS sparsevec_l1_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_l1(internal);
COMMENT ON OPERATOR CLASS sparsevec_l1_ops USING hnsw IS 'hnsw index on sparsevec ordered by L1 distance (<+>)';
COMMENT ON OPERATOR FAMILY sparsevec_l1_ops USING hnsw IS 'hnsw index on sparsevec ordered by L1 distance (<+>)';
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_bit_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING hnsw IS 'hnsw index on bit ordered by Hamming distance (<~>)';
COMMENT ON OPERATOR FAMILY bit_hamming_ops USING hnsw IS 'hnsw index on bit ordered by Hamming distance (<~>)';
CREATE OPERATOR CLASS bit_jaccard_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_bit_jaccard(internal);
COMMENT ON OPERATOR CLASS bit_jaccard_ops USING hnsw IS 'hnsw index on bit ordered by Jaccard distance (<%>)';
COMMENT ON OPERATOR FAMILY bit_jaccard_ops USING hnsw IS 'hnsw index on bit ordered by Jaccard distance (<%>)';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l2(internal);
COMMENT ON OPERATOR CLASS vector_l2_ops USING ivfflat IS 'ivfflat index on vector ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING ivfflat IS 'ivfflat index on vector ordered by L2 distance (<->)';
CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_ip(internal);
COMMENT ON OPERATOR CLASS vector_ip_ops USING ivfflat IS 'ivfflat index on vector ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING ivfflat IS 'ivfflat index on vector ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_cosine(internal);
COMMENT ON OPERATOR CLASS vector_cosine_ops USING ivfflat IS 'ivfflat index on vector ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING ivfflat IS 'ivfflat index on vector ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING ivfflat IS 'ivfflat index on halfvec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY halfvec_l2_ops USING ivfflat IS 'ivfflat index on halfvec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING ivfflat IS 'ivfflat index on halfvec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY halfvec_ip_ops USING ivfflat IS 'ivfflat index on halfvec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING ivfflat IS 'ivfflat index on halfvec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY halfvec_cosine_ops USING ivfflat IS 'ivfflat index on halfvec ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING ivfflat AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_bit_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING ivfflat IS 'ivfflat index on bit ordered by Hamming distance (<~>)';
COMMENT ON OPERATOR FAMILY bit_hamming_ops USING ivfflat IS 'ivfflat index on bit ordered by Hamming distance (<~>)';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfpq AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l2(internal);
COMMENT ON OPERATOR CLASS vector_l2_ops USING ivfpq IS 'ivfpq index on vector ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING ivfpq IS 'ivfpq index on vector ordered by L2 distance (<->)';
CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfpq AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_ip(internal);
COMMENT ON OPERATOR CLASS vector_ip_ops USING ivfpq IS 'ivfpq index on vector ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING ivfpq IS 'ivfpq index on vector ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfpq AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_cosine(internal);
COMMENT ON OPERATOR CLASS vector_cosine_ops USING ivfpq IS 'ivfpq index on vector ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING ivfpq IS 'ivfpq index on vector ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING ivfpq AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING ivfpq IS 'ivfpq index on halfvec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY halfvec_l2_ops USING ivfpq IS 'ivfpq index on halfvec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING ivfpq AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING ivfpq IS 'ivfpq index on halfvec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY halfvec_ip_ops USING ivfpq IS 'ivfpq index on halfvec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING ivfpq AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING ivfpq IS 'ivfpq index on halfvec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY halfvec_cosine_ops USING ivfpq IS 'ivfpq index on halfvec ordered by cosine distance (<=>)';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfsq8 AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l2(internal);
COMMENT ON OPERATOR CLASS vector_l2_ops USING ivfsq8 IS 'ivfsq8 index on vector ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING ivfsq8 IS 'ivfsq8 index on vector ordered by L2 distance (<->)';
CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfsq8 AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_ip(internal);
COMMENT ON OPERATOR CLASS vector_ip_ops USING ivfsq8 IS 'ivfsq8 index on vector ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING ivfsq8 IS 'ivfsq8 index on vector ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfsq8 AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_cosine(internal);
COMMENT ON OPERATOR CLASS vector_cosine_ops USING ivfsq8 IS 'ivfsq8 index on vector ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING ivfsq8 IS 'ivfsq8 index on vector ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING ivfsq8 AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING ivfsq8 IS 'ivfsq8 index on halfvec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY halfvec_l2_ops USING ivfsq8 IS 'ivfsq8 index on halfvec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING ivfsq8 AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING ivfsq8 IS 'ivfsq8 index on halfvec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY halfvec_ip_ops USING ivfsq8 IS 'ivfsq8 index on halfvec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING ivfsq8 AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING ivfsq8 IS 'ivfsq8 index on halfvec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY halfvec_cosine_ops USING ivfsq8 IS 'ivfsq8 index on halfvec ordered by cosine distance (<=>)';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING flat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l2(internal);
COMMENT ON OPERATOR CLASS vector_l2_ops USING flat IS 'flat index on vector ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING flat IS 'flat index on vector ordered by L2 distance (<->)';
CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING flat AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_ip(internal);
COMMENT ON OPERATOR CLASS vector_ip_ops USING flat IS 'flat index on vector ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING flat IS 'flat index on vector ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING flat AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_cosine(internal);
COMMENT ON OPERATOR CLASS vector_cosine_ops USING flat IS 'flat index on vector ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING flat IS 'flat index on vector ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING flat AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_vector_l1(internal);
COMMENT ON OPERATOR CLASS vector_l1_ops USING flat IS 'flat index on vector ordered by L1 distance (<+>)';
COMMENT ON OPERATOR FAMILY vector_l1_ops USING flat IS 'flat index on vector ordered by L1 distance (<+>)';
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING flat AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING flat IS 'flat index on halfvec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY halfvec_l2_ops USING flat IS 'flat index on halfvec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING flat AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING flat IS 'flat index on halfvec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY halfvec_ip_ops USING flat IS 'flat index on halfvec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING flat AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING flat IS 'flat index on halfvec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY halfvec_cosine_ops USING flat IS 'flat index on halfvec ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS halfvec_l1_ops
	FOR TYPE halfvec USING flat AS
	OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_halfvec_l1(internal);
COMMENT ON OPERATOR CLASS halfvec_l1_ops USING flat IS 'flat index on halfvec ordered by L1 distance (<+>)';
COMMENT ON OPERATOR FAMILY halfvec_l1_ops USING flat IS 'flat index on halfvec ordered by L1 distance (<+>)';
CREATE OPERATOR CLASS sparsevec_l2_ops
	DEFAULT FOR TYPE sparsevec USING flat AS
	OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_l2(internal);
COMMENT ON OPERATOR CLASS sparsevec_l2_ops USING flat IS 'flat index on sparsevec ordered by L2 distance (<->)';
COMMENT ON OPERATOR FAMILY sparsevec_l2_ops USING flat IS 'flat index on sparsevec ordered by L2 distance (<->)';
CREATE OPERATOR CLASS sparsevec_ip_ops
	FOR TYPE sparsevec USING flat AS
	OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_ip(internal);
COMMENT ON OPERATOR CLASS sparsevec_ip_ops USING flat IS 'flat index on sparsevec ordered by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY sparsevec_ip_ops USING flat IS 'flat index on sparsevec ordered by negative inner product (<#>)';
CREATE OPERATOR CLASS sparsevec_cosine_ops
	FOR TYPE sparsevec USING flat AS
	OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_cosine(internal);
COMMENT ON OPERATOR CLASS sparsevec_cosine_ops USING flat IS 'flat index on sparsevec ordered by cosine distance (<=>)';
COMMENT ON OPERATOR FAMILY sparsevec_cosine_ops USING flat IS 'flat index on sparsevec ordered by cosine distance (<=>)';
CREATE OPERATOR CLASS sparsevec_l1_ops
	FOR TYPE sparsevec USING flat AS
	OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_sparsevec_l1(internal);
COMMENT ON OPERATOR CLASS sparsevec_l1_ops USING flat IS 'flat index on sparsevec ordered by L1 distance (<+>)';
COMMENT ON OPERATOR FAMILY sparsevec_l1_ops USING flat IS 'flat index on sparsevec ordered by L1 distance (<+>)';
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING flat AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_bit_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING flat IS 'flat index on bit ordered by Hamming distance (<~>)';
COMMENT ON OPERATOR FAMILY bit_hamming_ops USING flat IS 'flat index on bit ordered by Hamming distance (<~>)';
CREATE OPERATOR CLASS bit_jaccard_ops
	FOR TYPE bit USING flat AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 vecdb_support_bit_jaccard(internal);
COMMENT ON OPERATOR CLASS bit_jaccard_ops USING flat IS 'flat index on bit ordered by Jaccard distance (<%>)';
COMMENT ON OPERATOR FAMILY bit_jaccard_ops USING flat IS 'flat index on bit ordered by Jaccard distance (<%>)';

CREATE FUNCTION vecdb_index_info(index regclass,
	OUT access_method text, OUT metric text, OUT dims int, OUT generation bigint,
	OUT segment int, OUT kind text, OUT rows bigint, OUT deleted bigint, OUT pages bigint, OUT bytes bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_index_info(regclass) IS 'segments of a vecdb index, sealed ones then the growing one: engine kind, rows, deleted rows, pages and bytes, with the index''s access method, metric, dimensions and directory generation';
CREATE FUNCTION vecdb_compact(index regclass, full boolean DEFAULT true) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION vecdb_compact(regclass, boolean) IS 'compacts a vecdb index now (full: into one segment; else as VACUUM would); readers and writers keep working; true when the index changed';
CREATE FUNCTION vecdb_verify(index regclass) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_verify(regclass) IS 'checks a vecdb index (metapage, every segment, growing segment, no TID twice, every visible heap row indexed); raises an error at the first problem, else true';
CREATE FUNCTION vecdb_last_scan(OUT index regclass, OUT segment int, OUT kind text, OUT strategy text,
	OUT rows bigint, OUT allowed bigint, OUT returned bigint, OUT memory text, OUT read_rows bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecdb_last_scan() IS 'what the vecdb index scan this session started last did, per segment: engine kind, strategy (exact, exact (few allowed), filtered <kind>, <kind>, none allowed), rows, rows the scalar conditions and delete marks allowed, rows returned, where it was searched (shared: in place in the shared area; private: this connection''s copy) and the rows the scan read from index pages to load it';
