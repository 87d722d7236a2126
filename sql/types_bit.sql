-- types_bit: Hamming and Jaccard distances on PostgreSQL's bit type.
SELECT hamming_distance(B'111', B'001') AS hamming, B'111' <~> B'001' AS hamming_op,
       jaccard_distance(B'1111', B'1010') AS jaccard, B'1111' <%> B'1010' AS jaccard_op;
SELECT B'1100' <~> B'1100' AS equal, B'1100' <~> B'0011' AS all_differ,
       B'1100' <%> B'1100' AS jaccard_equal, B'1100' <%> B'0011' AS jaccard_disjoint;
-- no bit set on either side: Jaccard distance 1 (pgvector)
SELECT B'0000' <%> B'0000' AS jaccard_all_zero, B'0000' <~> B'0000' AS hamming_all_zero,
       B'0000' <%> B'0100' AS jaccard_one_zero;
-- empty bit strings
SELECT B'' <~> B'' AS hamming_empty, B'' <%> B'' AS jaccard_empty;
-- lengths that are not a multiple of 8, and longer strings
SELECT B'101010101' <~> B'010101011' AS hamming_9, B'101010101' <%> B'111111111' AS jaccard_9;
SELECT (repeat('1', 1000) || repeat('0', 24))::bit(1024) <~> repeat('01', 512)::bit(1024) AS hamming_1024,
       (repeat('1', 1000) || repeat('0', 24))::bit(1024) <%> repeat('01', 512)::bit(1024) AS jaccard_1024;
-- the padding of a shortened value does not count
SELECT B'11111111'::bit(3) <~> B'111' AS cast_padding, (B'11111111' & B'11100000')::bit(3) <%> B'110' AS jaccard_cast;
-- varbit arguments go through the bit cast
SELECT B'101'::varbit <~> B'100'::varbit AS hamming_varbit;
-- different lengths
SELECT B'111' <~> B'1111';
SELECT B'111' <%> B'11';
SELECT hamming_distance(B'', B'1');
SELECT jaccard_distance(B'1', B'');
SELECT NULL::bit <~> B'1' AS strict_null;
-- nearest neighbours
CREATE TABLE bit_t (id int, b bit(4));
INSERT INTO bit_t VALUES (1, B'0000'), (2, B'1111'), (3, B'1100'), (4, B'1010'), (5, B'0001');
SELECT id, b <~> B'1110' AS hamming, b <%> B'1110' AS jaccard FROM bit_t ORDER BY hamming, id;
SELECT id FROM bit_t ORDER BY b <%> B'1110', id;
DROP TABLE bit_t;
SELECT oprname, oprleft::regtype, oprright::regtype, oprcom::regoperator, oprcode::oid::regprocedure
FROM pg_operator WHERE oprname IN ('<~>', '<%>') ORDER BY oprname;
SELECT p.oid::regprocedure, prorettype::regtype, provolatile, proisstrict, proparallel FROM pg_proc p
WHERE proname IN ('hamming_distance', 'jaccard_distance') ORDER BY 1::text;
-- SQLSTATE of the length mismatch
DO $$
BEGIN
	PERFORM B'1' <~> B'11';
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'hamming: %', SQLSTATE;
END $$;
DO $$
BEGIN
	PERFORM B'1' <%> B'11';
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'jaccard: %', SQLSTATE;
END $$;
