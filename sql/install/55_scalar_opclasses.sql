-- 55_scalar_opclasses: operator classes for the scalar columns of a vecdb index
-- (CREATE INDEX ... USING hnsw (embedding vector_l2_ops, category, price)): their
-- conditions become index conditions that the scan evaluates into a bitset.
-- Strategies: 2 <, 3 <=, 4 =, 5 >=, 6 >, 7 <>, 8 &&, 9 @>.

CREATE FUNCTION vecdb_support_scalar(internal) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_support_scalar(internal) IS 'operator class support: tells vecdb indexes that a column is a scalar column to filter on';

CREATE OPERATOR FAMILY vecdb_integer_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_integer_ops USING hnsw IS 'conditions on int2/int4/int8 columns of hnsw indexes';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING hnsw FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int2, int2),
	OPERATOR 3 pg_catalog.<= (int2, int2),
	OPERATOR 4 pg_catalog.= (int2, int2),
	OPERATOR 5 pg_catalog.>= (int2, int2),
	OPERATOR 6 pg_catalog.> (int2, int2),
	OPERATOR 7 pg_catalog.<> (int2, int2),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int2_ops USING hnsw IS 'int2 column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING hnsw FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int4, int4),
	OPERATOR 3 pg_catalog.<= (int4, int4),
	OPERATOR 4 pg_catalog.= (int4, int4),
	OPERATOR 5 pg_catalog.>= (int4, int4),
	OPERATOR 6 pg_catalog.> (int4, int4),
	OPERATOR 7 pg_catalog.<> (int4, int4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int4_ops USING hnsw IS 'int4 column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING hnsw FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int8, int8),
	OPERATOR 3 pg_catalog.<= (int8, int8),
	OPERATOR 4 pg_catalog.= (int8, int8),
	OPERATOR 5 pg_catalog.>= (int8, int8),
	OPERATOR 6 pg_catalog.> (int8, int8),
	OPERATOR 7 pg_catalog.<> (int8, int8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int8_ops USING hnsw IS 'int8 column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_integer_ops USING hnsw ADD
	OPERATOR 2 pg_catalog.< (int2, int4),
	OPERATOR 3 pg_catalog.<= (int2, int4),
	OPERATOR 4 pg_catalog.= (int2, int4),
	OPERATOR 5 pg_catalog.>= (int2, int4),
	OPERATOR 6 pg_catalog.> (int2, int4),
	OPERATOR 7 pg_catalog.<> (int2, int4),
	OPERATOR 2 pg_catalog.< (int2, int8),
	OPERATOR 3 pg_catalog.<= (int2, int8),
	OPERATOR 4 pg_catalog.= (int2, int8),
	OPERATOR 5 pg_catalog.>= (int2, int8),
	OPERATOR 6 pg_catalog.> (int2, int8),
	OPERATOR 7 pg_catalog.<> (int2, int8),
	OPERATOR 2 pg_catalog.< (int4, int2),
	OPERATOR 3 pg_catalog.<= (int4, int2),
	OPERATOR 4 pg_catalog.= (int4, int2),
	OPERATOR 5 pg_catalog.>= (int4, int2),
	OPERATOR 6 pg_catalog.> (int4, int2),
	OPERATOR 7 pg_catalog.<> (int4, int2),
	OPERATOR 2 pg_catalog.< (int4, int8),
	OPERATOR 3 pg_catalog.<= (int4, int8),
	OPERATOR 4 pg_catalog.= (int4, int8),
	OPERATOR 5 pg_catalog.>= (int4, int8),
	OPERATOR 6 pg_catalog.> (int4, int8),
	OPERATOR 7 pg_catalog.<> (int4, int8),
	OPERATOR 2 pg_catalog.< (int8, int2),
	OPERATOR 3 pg_catalog.<= (int8, int2),
	OPERATOR 4 pg_catalog.= (int8, int2),
	OPERATOR 5 pg_catalog.>= (int8, int2),
	OPERATOR 6 pg_catalog.> (int8, int2),
	OPERATOR 7 pg_catalog.<> (int8, int2),
	OPERATOR 2 pg_catalog.< (int8, int4),
	OPERATOR 3 pg_catalog.<= (int8, int4),
	OPERATOR 4 pg_catalog.= (int8, int4),
	OPERATOR 5 pg_catalog.>= (int8, int4),
	OPERATOR 6 pg_catalog.> (int8, int4),
	OPERATOR 7 pg_catalog.<> (int8, int4);
CREATE OPERATOR FAMILY vecdb_float_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_float_ops USING hnsw IS 'conditions on float4/float8 columns of hnsw indexes';
CREATE OPERATOR CLASS float4_ops
	DEFAULT FOR TYPE float4 USING hnsw FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float4, float4),
	OPERATOR 3 pg_catalog.<= (float4, float4),
	OPERATOR 4 pg_catalog.= (float4, float4),
	OPERATOR 5 pg_catalog.>= (float4, float4),
	OPERATOR 6 pg_catalog.> (float4, float4),
	OPERATOR 7 pg_catalog.<> (float4, float4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float4_ops USING hnsw IS 'float4 column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS float8_ops
	DEFAULT FOR TYPE float8 USING hnsw FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float8, float8),
	OPERATOR 3 pg_catalog.<= (float8, float8),
	OPERATOR 4 pg_catalog.= (float8, float8),
	OPERATOR 5 pg_catalog.>= (float8, float8),
	OPERATOR 6 pg_catalog.> (float8, float8),
	OPERATOR 7 pg_catalog.<> (float8, float8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float8_ops USING hnsw IS 'float8 column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_float_ops USING hnsw ADD
	OPERATOR 2 pg_catalog.< (float4, float8),
	OPERATOR 3 pg_catalog.<= (float4, float8),
	OPERATOR 4 pg_catalog.= (float4, float8),
	OPERATOR 5 pg_catalog.>= (float4, float8),
	OPERATOR 6 pg_catalog.> (float4, float8),
	OPERATOR 7 pg_catalog.<> (float4, float8),
	OPERATOR 2 pg_catalog.< (float8, float4),
	OPERATOR 3 pg_catalog.<= (float8, float4),
	OPERATOR 4 pg_catalog.= (float8, float4),
	OPERATOR 5 pg_catalog.>= (float8, float4),
	OPERATOR 6 pg_catalog.> (float8, float4),
	OPERATOR 7 pg_catalog.<> (float8, float4);
CREATE OPERATOR FAMILY vecdb_numeric_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_numeric_ops USING hnsw IS 'conditions on numeric columns of hnsw indexes';
CREATE OPERATOR CLASS numeric_ops
	DEFAULT FOR TYPE numeric USING hnsw FAMILY vecdb_numeric_ops AS
	OPERATOR 2 pg_catalog.< (numeric, numeric),
	OPERATOR 3 pg_catalog.<= (numeric, numeric),
	OPERATOR 4 pg_catalog.= (numeric, numeric),
	OPERATOR 5 pg_catalog.>= (numeric, numeric),
	OPERATOR 6 pg_catalog.> (numeric, numeric),
	OPERATOR 7 pg_catalog.<> (numeric, numeric),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS numeric_ops USING hnsw IS 'numeric column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_bool_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_bool_ops USING hnsw IS 'conditions on bool columns of hnsw indexes';
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING hnsw FAMILY vecdb_bool_ops AS
	OPERATOR 4 pg_catalog.= (bool, bool),
	OPERATOR 7 pg_catalog.<> (bool, bool),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS bool_ops USING hnsw IS 'bool column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_text_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_text_ops USING hnsw IS 'conditions on text columns of hnsw indexes';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING hnsw FAMILY vecdb_text_ops AS
	OPERATOR 2 pg_catalog.< (text, text),
	OPERATOR 3 pg_catalog.<= (text, text),
	OPERATOR 4 pg_catalog.= (text, text),
	OPERATOR 5 pg_catalog.>= (text, text),
	OPERATOR 6 pg_catalog.> (text, text),
	OPERATOR 7 pg_catalog.<> (text, text),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS text_ops USING hnsw IS 'text column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_date_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_date_ops USING hnsw IS 'conditions on date columns of hnsw indexes';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING hnsw FAMILY vecdb_date_ops AS
	OPERATOR 2 pg_catalog.< (date, date),
	OPERATOR 3 pg_catalog.<= (date, date),
	OPERATOR 4 pg_catalog.= (date, date),
	OPERATOR 5 pg_catalog.>= (date, date),
	OPERATOR 6 pg_catalog.> (date, date),
	OPERATOR 7 pg_catalog.<> (date, date),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS date_ops USING hnsw IS 'date column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamp_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_timestamp_ops USING hnsw IS 'conditions on timestamp columns of hnsw indexes';
CREATE OPERATOR CLASS timestamp_ops
	DEFAULT FOR TYPE timestamp USING hnsw FAMILY vecdb_timestamp_ops AS
	OPERATOR 2 pg_catalog.< (timestamp, timestamp),
	OPERATOR 3 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 6 pg_catalog.> (timestamp, timestamp),
	OPERATOR 7 pg_catalog.<> (timestamp, timestamp),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamp_ops USING hnsw IS 'timestamp column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamptz_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_timestamptz_ops USING hnsw IS 'conditions on timestamptz columns of hnsw indexes';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING hnsw FAMILY vecdb_timestamptz_ops AS
	OPERATOR 2 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 6 pg_catalog.> (timestamptz, timestamptz),
	OPERATOR 7 pg_catalog.<> (timestamptz, timestamptz),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamptz_ops USING hnsw IS 'timestamptz column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_uuid_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecdb_uuid_ops USING hnsw IS 'conditions on uuid columns of hnsw indexes';
CREATE OPERATOR CLASS uuid_ops
	DEFAULT FOR TYPE uuid USING hnsw FAMILY vecdb_uuid_ops AS
	OPERATOR 2 pg_catalog.< (uuid, uuid),
	OPERATOR 3 pg_catalog.<= (uuid, uuid),
	OPERATOR 4 pg_catalog.= (uuid, uuid),
	OPERATOR 5 pg_catalog.>= (uuid, uuid),
	OPERATOR 6 pg_catalog.> (uuid, uuid),
	OPERATOR 7 pg_catalog.<> (uuid, uuid),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS uuid_ops USING hnsw IS 'uuid column of a hnsw index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING hnsw AS
	OPERATOR 8 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 9 pg_catalog.@> (anyarray, anyarray),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS array_ops USING hnsw IS 'array column of a hnsw index (tags, tenants): && and @> become index conditions';
COMMENT ON OPERATOR FAMILY array_ops USING hnsw IS 'array column of a hnsw index (tags, tenants): && and @> become index conditions';

CREATE OPERATOR FAMILY vecdb_integer_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_integer_ops USING ivfflat IS 'conditions on int2/int4/int8 columns of ivfflat indexes';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING ivfflat FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int2, int2),
	OPERATOR 3 pg_catalog.<= (int2, int2),
	OPERATOR 4 pg_catalog.= (int2, int2),
	OPERATOR 5 pg_catalog.>= (int2, int2),
	OPERATOR 6 pg_catalog.> (int2, int2),
	OPERATOR 7 pg_catalog.<> (int2, int2),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int2_ops USING ivfflat IS 'int2 column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING ivfflat FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int4, int4),
	OPERATOR 3 pg_catalog.<= (int4, int4),
	OPERATOR 4 pg_catalog.= (int4, int4),
	OPERATOR 5 pg_catalog.>= (int4, int4),
	OPERATOR 6 pg_catalog.> (int4, int4),
	OPERATOR 7 pg_catalog.<> (int4, int4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int4_ops USING ivfflat IS 'int4 column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING ivfflat FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int8, int8),
	OPERATOR 3 pg_catalog.<= (int8, int8),
	OPERATOR 4 pg_catalog.= (int8, int8),
	OPERATOR 5 pg_catalog.>= (int8, int8),
	OPERATOR 6 pg_catalog.> (int8, int8),
	OPERATOR 7 pg_catalog.<> (int8, int8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int8_ops USING ivfflat IS 'int8 column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_integer_ops USING ivfflat ADD
	OPERATOR 2 pg_catalog.< (int2, int4),
	OPERATOR 3 pg_catalog.<= (int2, int4),
	OPERATOR 4 pg_catalog.= (int2, int4),
	OPERATOR 5 pg_catalog.>= (int2, int4),
	OPERATOR 6 pg_catalog.> (int2, int4),
	OPERATOR 7 pg_catalog.<> (int2, int4),
	OPERATOR 2 pg_catalog.< (int2, int8),
	OPERATOR 3 pg_catalog.<= (int2, int8),
	OPERATOR 4 pg_catalog.= (int2, int8),
	OPERATOR 5 pg_catalog.>= (int2, int8),
	OPERATOR 6 pg_catalog.> (int2, int8),
	OPERATOR 7 pg_catalog.<> (int2, int8),
	OPERATOR 2 pg_catalog.< (int4, int2),
	OPERATOR 3 pg_catalog.<= (int4, int2),
	OPERATOR 4 pg_catalog.= (int4, int2),
	OPERATOR 5 pg_catalog.>= (int4, int2),
	OPERATOR 6 pg_catalog.> (int4, int2),
	OPERATOR 7 pg_catalog.<> (int4, int2),
	OPERATOR 2 pg_catalog.< (int4, int8),
	OPERATOR 3 pg_catalog.<= (int4, int8),
	OPERATOR 4 pg_catalog.= (int4, int8),
	OPERATOR 5 pg_catalog.>= (int4, int8),
	OPERATOR 6 pg_catalog.> (int4, int8),
	OPERATOR 7 pg_catalog.<> (int4, int8),
	OPERATOR 2 pg_catalog.< (int8, int2),
	OPERATOR 3 pg_catalog.<= (int8, int2),
	OPERATOR 4 pg_catalog.= (int8, int2),
	OPERATOR 5 pg_catalog.>= (int8, int2),
	OPERATOR 6 pg_catalog.> (int8, int2),
	OPERATOR 7 pg_catalog.<> (int8, int2),
	OPERATOR 2 pg_catalog.< (int8, int4),
	OPERATOR 3 pg_catalog.<= (int8, int4),
	OPERATOR 4 pg_catalog.= (int8, int4),
	OPERATOR 5 pg_catalog.>= (int8, int4),
	OPERATOR 6 pg_catalog.> (int8, int4),
	OPERATOR 7 pg_catalog.<> (int8, int4);
CREATE OPERATOR FAMILY vecdb_float_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_float_ops USING ivfflat IS 'conditions on float4/float8 columns of ivfflat indexes';
CREATE OPERATOR CLASS float4_ops
	DEFAULT FOR TYPE float4 USING ivfflat FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float4, float4),
	OPERATOR 3 pg_catalog.<= (float4, float4),
	OPERATOR 4 pg_catalog.= (float4, float4),
	OPERATOR 5 pg_catalog.>= (float4, float4),
	OPERATOR 6 pg_catalog.> (float4, float4),
	OPERATOR 7 pg_catalog.<> (float4, float4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float4_ops USING ivfflat IS 'float4 column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS float8_ops
	DEFAULT FOR TYPE float8 USING ivfflat FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float8, float8),
	OPERATOR 3 pg_catalog.<= (float8, float8),
	OPERATOR 4 pg_catalog.= (float8, float8),
	OPERATOR 5 pg_catalog.>= (float8, float8),
	OPERATOR 6 pg_catalog.> (float8, float8),
	OPERATOR 7 pg_catalog.<> (float8, float8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float8_ops USING ivfflat IS 'float8 column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_float_ops USING ivfflat ADD
	OPERATOR 2 pg_catalog.< (float4, float8),
	OPERATOR 3 pg_catalog.<= (float4, float8),
	OPERATOR 4 pg_catalog.= (float4, float8),
	OPERATOR 5 pg_catalog.>= (float4, float8),
	OPERATOR 6 pg_catalog.> (float4, float8),
	OPERATOR 7 pg_catalog.<> (float4, float8),
	OPERATOR 2 pg_catalog.< (float8, float4),
	OPERATOR 3 pg_catalog.<= (float8, float4),
	OPERATOR 4 pg_catalog.= (float8, float4),
	OPERATOR 5 pg_catalog.>= (float8, float4),
	OPERATOR 6 pg_catalog.> (float8, float4),
	OPERATOR 7 pg_catalog.<> (float8, float4);
CREATE OPERATOR FAMILY vecdb_numeric_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_numeric_ops USING ivfflat IS 'conditions on numeric columns of ivfflat indexes';
CREATE OPERATOR CLASS numeric_ops
	DEFAULT FOR TYPE numeric USING ivfflat FAMILY vecdb_numeric_ops AS
	OPERATOR 2 pg_catalog.< (numeric, numeric),
	OPERATOR 3 pg_catalog.<= (numeric, numeric),
	OPERATOR 4 pg_catalog.= (numeric, numeric),
	OPERATOR 5 pg_catalog.>= (numeric, numeric),
	OPERATOR 6 pg_catalog.> (numeric, numeric),
	OPERATOR 7 pg_catalog.<> (numeric, numeric),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS numeric_ops USING ivfflat IS 'numeric column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_bool_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_bool_ops USING ivfflat IS 'conditions on bool columns of ivfflat indexes';
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING ivfflat FAMILY vecdb_bool_ops AS
	OPERATOR 4 pg_catalog.= (bool, bool),
	OPERATOR 7 pg_catalog.<> (bool, bool),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS bool_ops USING ivfflat IS 'bool column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_text_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_text_ops USING ivfflat IS 'conditions on text columns of ivfflat indexes';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING ivfflat FAMILY vecdb_text_ops AS
	OPERATOR 2 pg_catalog.< (text, text),
	OPERATOR 3 pg_catalog.<= (text, text),
	OPERATOR 4 pg_catalog.= (text, text),
	OPERATOR 5 pg_catalog.>= (text, text),
	OPERATOR 6 pg_catalog.> (text, text),
	OPERATOR 7 pg_catalog.<> (text, text),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS text_ops USING ivfflat IS 'text column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_date_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_date_ops USING ivfflat IS 'conditions on date columns of ivfflat indexes';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING ivfflat FAMILY vecdb_date_ops AS
	OPERATOR 2 pg_catalog.< (date, date),
	OPERATOR 3 pg_catalog.<= (date, date),
	OPERATOR 4 pg_catalog.= (date, date),
	OPERATOR 5 pg_catalog.>= (date, date),
	OPERATOR 6 pg_catalog.> (date, date),
	OPERATOR 7 pg_catalog.<> (date, date),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS date_ops USING ivfflat IS 'date column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamp_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_timestamp_ops USING ivfflat IS 'conditions on timestamp columns of ivfflat indexes';
CREATE OPERATOR CLASS timestamp_ops
	DEFAULT FOR TYPE timestamp USING ivfflat FAMILY vecdb_timestamp_ops AS
	OPERATOR 2 pg_catalog.< (timestamp, timestamp),
	OPERATOR 3 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 6 pg_catalog.> (timestamp, timestamp),
	OPERATOR 7 pg_catalog.<> (timestamp, timestamp),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamp_ops USING ivfflat IS 'timestamp column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamptz_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_timestamptz_ops USING ivfflat IS 'conditions on timestamptz columns of ivfflat indexes';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING ivfflat FAMILY vecdb_timestamptz_ops AS
	OPERATOR 2 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 6 pg_catalog.> (timestamptz, timestamptz),
	OPERATOR 7 pg_catalog.<> (timestamptz, timestamptz),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamptz_ops USING ivfflat IS 'timestamptz column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_uuid_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY vecdb_uuid_ops USING ivfflat IS 'conditions on uuid columns of ivfflat indexes';
CREATE OPERATOR CLASS uuid_ops
	DEFAULT FOR TYPE uuid USING ivfflat FAMILY vecdb_uuid_ops AS
	OPERATOR 2 pg_catalog.< (uuid, uuid),
	OPERATOR 3 pg_catalog.<= (uuid, uuid),
	OPERATOR 4 pg_catalog.= (uuid, uuid),
	OPERATOR 5 pg_catalog.>= (uuid, uuid),
	OPERATOR 6 pg_catalog.> (uuid, uuid),
	OPERATOR 7 pg_catalog.<> (uuid, uuid),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS uuid_ops USING ivfflat IS 'uuid column of a ivfflat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING ivfflat AS
	OPERATOR 8 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 9 pg_catalog.@> (anyarray, anyarray),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS array_ops USING ivfflat IS 'array column of a ivfflat index (tags, tenants): && and @> become index conditions';
COMMENT ON OPERATOR FAMILY array_ops USING ivfflat IS 'array column of a ivfflat index (tags, tenants): && and @> become index conditions';

CREATE OPERATOR FAMILY vecdb_integer_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_integer_ops USING ivfpq IS 'conditions on int2/int4/int8 columns of ivfpq indexes';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING ivfpq FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int2, int2),
	OPERATOR 3 pg_catalog.<= (int2, int2),
	OPERATOR 4 pg_catalog.= (int2, int2),
	OPERATOR 5 pg_catalog.>= (int2, int2),
	OPERATOR 6 pg_catalog.> (int2, int2),
	OPERATOR 7 pg_catalog.<> (int2, int2),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int2_ops USING ivfpq IS 'int2 column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING ivfpq FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int4, int4),
	OPERATOR 3 pg_catalog.<= (int4, int4),
	OPERATOR 4 pg_catalog.= (int4, int4),
	OPERATOR 5 pg_catalog.>= (int4, int4),
	OPERATOR 6 pg_catalog.> (int4, int4),
	OPERATOR 7 pg_catalog.<> (int4, int4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int4_ops USING ivfpq IS 'int4 column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING ivfpq FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int8, int8),
	OPERATOR 3 pg_catalog.<= (int8, int8),
	OPERATOR 4 pg_catalog.= (int8, int8),
	OPERATOR 5 pg_catalog.>= (int8, int8),
	OPERATOR 6 pg_catalog.> (int8, int8),
	OPERATOR 7 pg_catalog.<> (int8, int8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int8_ops USING ivfpq IS 'int8 column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_integer_ops USING ivfpq ADD
	OPERATOR 2 pg_catalog.< (int2, int4),
	OPERATOR 3 pg_catalog.<= (int2, int4),
	OPERATOR 4 pg_catalog.= (int2, int4),
	OPERATOR 5 pg_catalog.>= (int2, int4),
	OPERATOR 6 pg_catalog.> (int2, int4),
	OPERATOR 7 pg_catalog.<> (int2, int4),
	OPERATOR 2 pg_catalog.< (int2, int8),
	OPERATOR 3 pg_catalog.<= (int2, int8),
	OPERATOR 4 pg_catalog.= (int2, int8),
	OPERATOR 5 pg_catalog.>= (int2, int8),
	OPERATOR 6 pg_catalog.> (int2, int8),
	OPERATOR 7 pg_catalog.<> (int2, int8),
	OPERATOR 2 pg_catalog.< (int4, int2),
	OPERATOR 3 pg_catalog.<= (int4, int2),
	OPERATOR 4 pg_catalog.= (int4, int2),
	OPERATOR 5 pg_catalog.>= (int4, int2),
	OPERATOR 6 pg_catalog.> (int4, int2),
	OPERATOR 7 pg_catalog.<> (int4, int2),
	OPERATOR 2 pg_catalog.< (int4, int8),
	OPERATOR 3 pg_catalog.<= (int4, int8),
	OPERATOR 4 pg_catalog.= (int4, int8),
	OPERATOR 5 pg_catalog.>= (int4, int8),
	OPERATOR 6 pg_catalog.> (int4, int8),
	OPERATOR 7 pg_catalog.<> (int4, int8),
	OPERATOR 2 pg_catalog.< (int8, int2),
	OPERATOR 3 pg_catalog.<= (int8, int2),
	OPERATOR 4 pg_catalog.= (int8, int2),
	OPERATOR 5 pg_catalog.>= (int8, int2),
	OPERATOR 6 pg_catalog.> (int8, int2),
	OPERATOR 7 pg_catalog.<> (int8, int2),
	OPERATOR 2 pg_catalog.< (int8, int4),
	OPERATOR 3 pg_catalog.<= (int8, int4),
	OPERATOR 4 pg_catalog.= (int8, int4),
	OPERATOR 5 pg_catalog.>= (int8, int4),
	OPERATOR 6 pg_catalog.> (int8, int4),
	OPERATOR 7 pg_catalog.<> (int8, int4);
CREATE OPERATOR FAMILY vecdb_float_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_float_ops USING ivfpq IS 'conditions on float4/float8 columns of ivfpq indexes';
CREATE OPERATOR CLASS float4_ops
	DEFAULT FOR TYPE float4 USING ivfpq FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float4, float4),
	OPERATOR 3 pg_catalog.<= (float4, float4),
	OPERATOR 4 pg_catalog.= (float4, float4),
	OPERATOR 5 pg_catalog.>= (float4, float4),
	OPERATOR 6 pg_catalog.> (float4, float4),
	OPERATOR 7 pg_catalog.<> (float4, float4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float4_ops USING ivfpq IS 'float4 column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS float8_ops
	DEFAULT FOR TYPE float8 USING ivfpq FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float8, float8),
	OPERATOR 3 pg_catalog.<= (float8, float8),
	OPERATOR 4 pg_catalog.= (float8, float8),
	OPERATOR 5 pg_catalog.>= (float8, float8),
	OPERATOR 6 pg_catalog.> (float8, float8),
	OPERATOR 7 pg_catalog.<> (float8, float8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float8_ops USING ivfpq IS 'float8 column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_float_ops USING ivfpq ADD
	OPERATOR 2 pg_catalog.< (float4, float8),
	OPERATOR 3 pg_catalog.<= (float4, float8),
	OPERATOR 4 pg_catalog.= (float4, float8),
	OPERATOR 5 pg_catalog.>= (float4, float8),
	OPERATOR 6 pg_catalog.> (float4, float8),
	OPERATOR 7 pg_catalog.<> (float4, float8),
	OPERATOR 2 pg_catalog.< (float8, float4),
	OPERATOR 3 pg_catalog.<= (float8, float4),
	OPERATOR 4 pg_catalog.= (float8, float4),
	OPERATOR 5 pg_catalog.>= (float8, float4),
	OPERATOR 6 pg_catalog.> (float8, float4),
	OPERATOR 7 pg_catalog.<> (float8, float4);
CREATE OPERATOR FAMILY vecdb_numeric_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_numeric_ops USING ivfpq IS 'conditions on numeric columns of ivfpq indexes';
CREATE OPERATOR CLASS numeric_ops
	DEFAULT FOR TYPE numeric USING ivfpq FAMILY vecdb_numeric_ops AS
	OPERATOR 2 pg_catalog.< (numeric, numeric),
	OPERATOR 3 pg_catalog.<= (numeric, numeric),
	OPERATOR 4 pg_catalog.= (numeric, numeric),
	OPERATOR 5 pg_catalog.>= (numeric, numeric),
	OPERATOR 6 pg_catalog.> (numeric, numeric),
	OPERATOR 7 pg_catalog.<> (numeric, numeric),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS numeric_ops USING ivfpq IS 'numeric column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_bool_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_bool_ops USING ivfpq IS 'conditions on bool columns of ivfpq indexes';
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING ivfpq FAMILY vecdb_bool_ops AS
	OPERATOR 4 pg_catalog.= (bool, bool),
	OPERATOR 7 pg_catalog.<> (bool, bool),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS bool_ops USING ivfpq IS 'bool column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_text_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_text_ops USING ivfpq IS 'conditions on text columns of ivfpq indexes';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING ivfpq FAMILY vecdb_text_ops AS
	OPERATOR 2 pg_catalog.< (text, text),
	OPERATOR 3 pg_catalog.<= (text, text),
	OPERATOR 4 pg_catalog.= (text, text),
	OPERATOR 5 pg_catalog.>= (text, text),
	OPERATOR 6 pg_catalog.> (text, text),
	OPERATOR 7 pg_catalog.<> (text, text),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS text_ops USING ivfpq IS 'text column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_date_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_date_ops USING ivfpq IS 'conditions on date columns of ivfpq indexes';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING ivfpq FAMILY vecdb_date_ops AS
	OPERATOR 2 pg_catalog.< (date, date),
	OPERATOR 3 pg_catalog.<= (date, date),
	OPERATOR 4 pg_catalog.= (date, date),
	OPERATOR 5 pg_catalog.>= (date, date),
	OPERATOR 6 pg_catalog.> (date, date),
	OPERATOR 7 pg_catalog.<> (date, date),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS date_ops USING ivfpq IS 'date column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamp_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_timestamp_ops USING ivfpq IS 'conditions on timestamp columns of ivfpq indexes';
CREATE OPERATOR CLASS timestamp_ops
	DEFAULT FOR TYPE timestamp USING ivfpq FAMILY vecdb_timestamp_ops AS
	OPERATOR 2 pg_catalog.< (timestamp, timestamp),
	OPERATOR 3 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 6 pg_catalog.> (timestamp, timestamp),
	OPERATOR 7 pg_catalog.<> (timestamp, timestamp),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamp_ops USING ivfpq IS 'timestamp column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamptz_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_timestamptz_ops USING ivfpq IS 'conditions on timestamptz columns of ivfpq indexes';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING ivfpq FAMILY vecdb_timestamptz_ops AS
	OPERATOR 2 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 6 pg_catalog.> (timestamptz, timestamptz),
	OPERATOR 7 pg_catalog.<> (timestamptz, timestamptz),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamptz_ops USING ivfpq IS 'timestamptz column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_uuid_ops USING ivfpq;
COMMENT ON OPERATOR FAMILY vecdb_uuid_ops USING ivfpq IS 'conditions on uuid columns of ivfpq indexes';
CREATE OPERATOR CLASS uuid_ops
	DEFAULT FOR TYPE uuid USING ivfpq FAMILY vecdb_uuid_ops AS
	OPERATOR 2 pg_catalog.< (uuid, uuid),
	OPERATOR 3 pg_catalog.<= (uuid, uuid),
	OPERATOR 4 pg_catalog.= (uuid, uuid),
	OPERATOR 5 pg_catalog.>= (uuid, uuid),
	OPERATOR 6 pg_catalog.> (uuid, uuid),
	OPERATOR 7 pg_catalog.<> (uuid, uuid),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS uuid_ops USING ivfpq IS 'uuid column of a ivfpq index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING ivfpq AS
	OPERATOR 8 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 9 pg_catalog.@> (anyarray, anyarray),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS array_ops USING ivfpq IS 'array column of a ivfpq index (tags, tenants): && and @> become index conditions';
COMMENT ON OPERATOR FAMILY array_ops USING ivfpq IS 'array column of a ivfpq index (tags, tenants): && and @> become index conditions';

CREATE OPERATOR FAMILY vecdb_integer_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_integer_ops USING ivfsq8 IS 'conditions on int2/int4/int8 columns of ivfsq8 indexes';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING ivfsq8 FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int2, int2),
	OPERATOR 3 pg_catalog.<= (int2, int2),
	OPERATOR 4 pg_catalog.= (int2, int2),
	OPERATOR 5 pg_catalog.>= (int2, int2),
	OPERATOR 6 pg_catalog.> (int2, int2),
	OPERATOR 7 pg_catalog.<> (int2, int2),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int2_ops USING ivfsq8 IS 'int2 column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING ivfsq8 FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int4, int4),
	OPERATOR 3 pg_catalog.<= (int4, int4),
	OPERATOR 4 pg_catalog.= (int4, int4),
	OPERATOR 5 pg_catalog.>= (int4, int4),
	OPERATOR 6 pg_catalog.> (int4, int4),
	OPERATOR 7 pg_catalog.<> (int4, int4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int4_ops USING ivfsq8 IS 'int4 column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING ivfsq8 FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int8, int8),
	OPERATOR 3 pg_catalog.<= (int8, int8),
	OPERATOR 4 pg_catalog.= (int8, int8),
	OPERATOR 5 pg_catalog.>= (int8, int8),
	OPERATOR 6 pg_catalog.> (int8, int8),
	OPERATOR 7 pg_catalog.<> (int8, int8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int8_ops USING ivfsq8 IS 'int8 column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_integer_ops USING ivfsq8 ADD
	OPERATOR 2 pg_catalog.< (int2, int4),
	OPERATOR 3 pg_catalog.<= (int2, int4),
	OPERATOR 4 pg_catalog.= (int2, int4),
	OPERATOR 5 pg_catalog.>= (int2, int4),
	OPERATOR 6 pg_catalog.> (int2, int4),
	OPERATOR 7 pg_catalog.<> (int2, int4),
	OPERATOR 2 pg_catalog.< (int2, int8),
	OPERATOR 3 pg_catalog.<= (int2, int8),
	OPERATOR 4 pg_catalog.= (int2, int8),
	OPERATOR 5 pg_catalog.>= (int2, int8),
	OPERATOR 6 pg_catalog.> (int2, int8),
	OPERATOR 7 pg_catalog.<> (int2, int8),
	OPERATOR 2 pg_catalog.< (int4, int2),
	OPERATOR 3 pg_catalog.<= (int4, int2),
	OPERATOR 4 pg_catalog.= (int4, int2),
	OPERATOR 5 pg_catalog.>= (int4, int2),
	OPERATOR 6 pg_catalog.> (int4, int2),
	OPERATOR 7 pg_catalog.<> (int4, int2),
	OPERATOR 2 pg_catalog.< (int4, int8),
	OPERATOR 3 pg_catalog.<= (int4, int8),
	OPERATOR 4 pg_catalog.= (int4, int8),
	OPERATOR 5 pg_catalog.>= (int4, int8),
	OPERATOR 6 pg_catalog.> (int4, int8),
	OPERATOR 7 pg_catalog.<> (int4, int8),
	OPERATOR 2 pg_catalog.< (int8, int2),
	OPERATOR 3 pg_catalog.<= (int8, int2),
	OPERATOR 4 pg_catalog.= (int8, int2),
	OPERATOR 5 pg_catalog.>= (int8, int2),
	OPERATOR 6 pg_catalog.> (int8, int2),
	OPERATOR 7 pg_catalog.<> (int8, int2),
	OPERATOR 2 pg_catalog.< (int8, int4),
	OPERATOR 3 pg_catalog.<= (int8, int4),
	OPERATOR 4 pg_catalog.= (int8, int4),
	OPERATOR 5 pg_catalog.>= (int8, int4),
	OPERATOR 6 pg_catalog.> (int8, int4),
	OPERATOR 7 pg_catalog.<> (int8, int4);
CREATE OPERATOR FAMILY vecdb_float_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_float_ops USING ivfsq8 IS 'conditions on float4/float8 columns of ivfsq8 indexes';
CREATE OPERATOR CLASS float4_ops
	DEFAULT FOR TYPE float4 USING ivfsq8 FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float4, float4),
	OPERATOR 3 pg_catalog.<= (float4, float4),
	OPERATOR 4 pg_catalog.= (float4, float4),
	OPERATOR 5 pg_catalog.>= (float4, float4),
	OPERATOR 6 pg_catalog.> (float4, float4),
	OPERATOR 7 pg_catalog.<> (float4, float4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float4_ops USING ivfsq8 IS 'float4 column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS float8_ops
	DEFAULT FOR TYPE float8 USING ivfsq8 FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float8, float8),
	OPERATOR 3 pg_catalog.<= (float8, float8),
	OPERATOR 4 pg_catalog.= (float8, float8),
	OPERATOR 5 pg_catalog.>= (float8, float8),
	OPERATOR 6 pg_catalog.> (float8, float8),
	OPERATOR 7 pg_catalog.<> (float8, float8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float8_ops USING ivfsq8 IS 'float8 column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_float_ops USING ivfsq8 ADD
	OPERATOR 2 pg_catalog.< (float4, float8),
	OPERATOR 3 pg_catalog.<= (float4, float8),
	OPERATOR 4 pg_catalog.= (float4, float8),
	OPERATOR 5 pg_catalog.>= (float4, float8),
	OPERATOR 6 pg_catalog.> (float4, float8),
	OPERATOR 7 pg_catalog.<> (float4, float8),
	OPERATOR 2 pg_catalog.< (float8, float4),
	OPERATOR 3 pg_catalog.<= (float8, float4),
	OPERATOR 4 pg_catalog.= (float8, float4),
	OPERATOR 5 pg_catalog.>= (float8, float4),
	OPERATOR 6 pg_catalog.> (float8, float4),
	OPERATOR 7 pg_catalog.<> (float8, float4);
CREATE OPERATOR FAMILY vecdb_numeric_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_numeric_ops USING ivfsq8 IS 'conditions on numeric columns of ivfsq8 indexes';
CREATE OPERATOR CLASS numeric_ops
	DEFAULT FOR TYPE numeric USING ivfsq8 FAMILY vecdb_numeric_ops AS
	OPERATOR 2 pg_catalog.< (numeric, numeric),
	OPERATOR 3 pg_catalog.<= (numeric, numeric),
	OPERATOR 4 pg_catalog.= (numeric, numeric),
	OPERATOR 5 pg_catalog.>= (numeric, numeric),
	OPERATOR 6 pg_catalog.> (numeric, numeric),
	OPERATOR 7 pg_catalog.<> (numeric, numeric),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS numeric_ops USING ivfsq8 IS 'numeric column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_bool_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_bool_ops USING ivfsq8 IS 'conditions on bool columns of ivfsq8 indexes';
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING ivfsq8 FAMILY vecdb_bool_ops AS
	OPERATOR 4 pg_catalog.= (bool, bool),
	OPERATOR 7 pg_catalog.<> (bool, bool),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS bool_ops USING ivfsq8 IS 'bool column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_text_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_text_ops USING ivfsq8 IS 'conditions on text columns of ivfsq8 indexes';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING ivfsq8 FAMILY vecdb_text_ops AS
	OPERATOR 2 pg_catalog.< (text, text),
	OPERATOR 3 pg_catalog.<= (text, text),
	OPERATOR 4 pg_catalog.= (text, text),
	OPERATOR 5 pg_catalog.>= (text, text),
	OPERATOR 6 pg_catalog.> (text, text),
	OPERATOR 7 pg_catalog.<> (text, text),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS text_ops USING ivfsq8 IS 'text column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_date_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_date_ops USING ivfsq8 IS 'conditions on date columns of ivfsq8 indexes';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING ivfsq8 FAMILY vecdb_date_ops AS
	OPERATOR 2 pg_catalog.< (date, date),
	OPERATOR 3 pg_catalog.<= (date, date),
	OPERATOR 4 pg_catalog.= (date, date),
	OPERATOR 5 pg_catalog.>= (date, date),
	OPERATOR 6 pg_catalog.> (date, date),
	OPERATOR 7 pg_catalog.<> (date, date),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS date_ops USING ivfsq8 IS 'date column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamp_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_timestamp_ops USING ivfsq8 IS 'conditions on timestamp columns of ivfsq8 indexes';
CREATE OPERATOR CLASS timestamp_ops
	DEFAULT FOR TYPE timestamp USING ivfsq8 FAMILY vecdb_timestamp_ops AS
	OPERATOR 2 pg_catalog.< (timestamp, timestamp),
	OPERATOR 3 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 6 pg_catalog.> (timestamp, timestamp),
	OPERATOR 7 pg_catalog.<> (timestamp, timestamp),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamp_ops USING ivfsq8 IS 'timestamp column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamptz_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_timestamptz_ops USING ivfsq8 IS 'conditions on timestamptz columns of ivfsq8 indexes';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING ivfsq8 FAMILY vecdb_timestamptz_ops AS
	OPERATOR 2 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 6 pg_catalog.> (timestamptz, timestamptz),
	OPERATOR 7 pg_catalog.<> (timestamptz, timestamptz),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamptz_ops USING ivfsq8 IS 'timestamptz column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_uuid_ops USING ivfsq8;
COMMENT ON OPERATOR FAMILY vecdb_uuid_ops USING ivfsq8 IS 'conditions on uuid columns of ivfsq8 indexes';
CREATE OPERATOR CLASS uuid_ops
	DEFAULT FOR TYPE uuid USING ivfsq8 FAMILY vecdb_uuid_ops AS
	OPERATOR 2 pg_catalog.< (uuid, uuid),
	OPERATOR 3 pg_catalog.<= (uuid, uuid),
	OPERATOR 4 pg_catalog.= (uuid, uuid),
	OPERATOR 5 pg_catalog.>= (uuid, uuid),
	OPERATOR 6 pg_catalog.> (uuid, uuid),
	OPERATOR 7 pg_catalog.<> (uuid, uuid),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS uuid_ops USING ivfsq8 IS 'uuid column of a ivfsq8 index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING ivfsq8 AS
	OPERATOR 8 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 9 pg_catalog.@> (anyarray, anyarray),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS array_ops USING ivfsq8 IS 'array column of a ivfsq8 index (tags, tenants): && and @> become index conditions';
COMMENT ON OPERATOR FAMILY array_ops USING ivfsq8 IS 'array column of a ivfsq8 index (tags, tenants): && and @> become index conditions';

CREATE OPERATOR FAMILY vecdb_integer_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_integer_ops USING flat IS 'conditions on int2/int4/int8 columns of flat indexes';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING flat FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int2, int2),
	OPERATOR 3 pg_catalog.<= (int2, int2),
	OPERATOR 4 pg_catalog.= (int2, int2),
	OPERATOR 5 pg_catalog.>= (int2, int2),
	OPERATOR 6 pg_catalog.> (int2, int2),
	OPERATOR 7 pg_catalog.<> (int2, int2),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int2_ops USING flat IS 'int2 column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING flat FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int4, int4),
	OPERATOR 3 pg_catalog.<= (int4, int4),
	OPERATOR 4 pg_catalog.= (int4, int4),
	OPERATOR 5 pg_catalog.>= (int4, int4),
	OPERATOR 6 pg_catalog.> (int4, int4),
	OPERATOR 7 pg_catalog.<> (int4, int4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int4_ops USING flat IS 'int4 column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING flat FAMILY vecdb_integer_ops AS
	OPERATOR 2 pg_catalog.< (int8, int8),
	OPERATOR 3 pg_catalog.<= (int8, int8),
	OPERATOR 4 pg_catalog.= (int8, int8),
	OPERATOR 5 pg_catalog.>= (int8, int8),
	OPERATOR 6 pg_catalog.> (int8, int8),
	OPERATOR 7 pg_catalog.<> (int8, int8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS int8_ops USING flat IS 'int8 column of a flat index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_integer_ops USING flat ADD
	OPERATOR 2 pg_catalog.< (int2, int4),
	OPERATOR 3 pg_catalog.<= (int2, int4),
	OPERATOR 4 pg_catalog.= (int2, int4),
	OPERATOR 5 pg_catalog.>= (int2, int4),
	OPERATOR 6 pg_catalog.> (int2, int4),
	OPERATOR 7 pg_catalog.<> (int2, int4),
	OPERATOR 2 pg_catalog.< (int2, int8),
	OPERATOR 3 pg_catalog.<= (int2, int8),
	OPERATOR 4 pg_catalog.= (int2, int8),
	OPERATOR 5 pg_catalog.>= (int2, int8),
	OPERATOR 6 pg_catalog.> (int2, int8),
	OPERATOR 7 pg_catalog.<> (int2, int8),
	OPERATOR 2 pg_catalog.< (int4, int2),
	OPERATOR 3 pg_catalog.<= (int4, int2),
	OPERATOR 4 pg_catalog.= (int4, int2),
	OPERATOR 5 pg_catalog.>= (int4, int2),
	OPERATOR 6 pg_catalog.> (int4, int2),
	OPERATOR 7 pg_catalog.<> (int4, int2),
	OPERATOR 2 pg_catalog.< (int4, int8),
	OPERATOR 3 pg_catalog.<= (int4, int8),
	OPERATOR 4 pg_catalog.= (int4, int8),
	OPERATOR 5 pg_catalog.>= (int4, int8),
	OPERATOR 6 pg_catalog.> (int4, int8),
	OPERATOR 7 pg_catalog.<> (int4, int8),
	OPERATOR 2 pg_catalog.< (int8, int2),
	OPERATOR 3 pg_catalog.<= (int8, int2),
	OPERATOR 4 pg_catalog.= (int8, int2),
	OPERATOR 5 pg_catalog.>= (int8, int2),
	OPERATOR 6 pg_catalog.> (int8, int2),
	OPERATOR 7 pg_catalog.<> (int8, int2),
	OPERATOR 2 pg_catalog.< (int8, int4),
	OPERATOR 3 pg_catalog.<= (int8, int4),
	OPERATOR 4 pg_catalog.= (int8, int4),
	OPERATOR 5 pg_catalog.>= (int8, int4),
	OPERATOR 6 pg_catalog.> (int8, int4),
	OPERATOR 7 pg_catalog.<> (int8, int4);
CREATE OPERATOR FAMILY vecdb_float_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_float_ops USING flat IS 'conditions on float4/float8 columns of flat indexes';
CREATE OPERATOR CLASS float4_ops
	DEFAULT FOR TYPE float4 USING flat FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float4, float4),
	OPERATOR 3 pg_catalog.<= (float4, float4),
	OPERATOR 4 pg_catalog.= (float4, float4),
	OPERATOR 5 pg_catalog.>= (float4, float4),
	OPERATOR 6 pg_catalog.> (float4, float4),
	OPERATOR 7 pg_catalog.<> (float4, float4),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float4_ops USING flat IS 'float4 column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS float8_ops
	DEFAULT FOR TYPE float8 USING flat FAMILY vecdb_float_ops AS
	OPERATOR 2 pg_catalog.< (float8, float8),
	OPERATOR 3 pg_catalog.<= (float8, float8),
	OPERATOR 4 pg_catalog.= (float8, float8),
	OPERATOR 5 pg_catalog.>= (float8, float8),
	OPERATOR 6 pg_catalog.> (float8, float8),
	OPERATOR 7 pg_catalog.<> (float8, float8),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS float8_ops USING flat IS 'float8 column of a flat index: =, <>, <, <=, >, >= become index conditions';
ALTER OPERATOR FAMILY vecdb_float_ops USING flat ADD
	OPERATOR 2 pg_catalog.< (float4, float8),
	OPERATOR 3 pg_catalog.<= (float4, float8),
	OPERATOR 4 pg_catalog.= (float4, float8),
	OPERATOR 5 pg_catalog.>= (float4, float8),
	OPERATOR 6 pg_catalog.> (float4, float8),
	OPERATOR 7 pg_catalog.<> (float4, float8),
	OPERATOR 2 pg_catalog.< (float8, float4),
	OPERATOR 3 pg_catalog.<= (float8, float4),
	OPERATOR 4 pg_catalog.= (float8, float4),
	OPERATOR 5 pg_catalog.>= (float8, float4),
	OPERATOR 6 pg_catalog.> (float8, float4),
	OPERATOR 7 pg_catalog.<> (float8, float4);
CREATE OPERATOR FAMILY vecdb_numeric_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_numeric_ops USING flat IS 'conditions on numeric columns of flat indexes';
CREATE OPERATOR CLASS numeric_ops
	DEFAULT FOR TYPE numeric USING flat FAMILY vecdb_numeric_ops AS
	OPERATOR 2 pg_catalog.< (numeric, numeric),
	OPERATOR 3 pg_catalog.<= (numeric, numeric),
	OPERATOR 4 pg_catalog.= (numeric, numeric),
	OPERATOR 5 pg_catalog.>= (numeric, numeric),
	OPERATOR 6 pg_catalog.> (numeric, numeric),
	OPERATOR 7 pg_catalog.<> (numeric, numeric),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS numeric_ops USING flat IS 'numeric column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_bool_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_bool_ops USING flat IS 'conditions on bool columns of flat indexes';
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING flat FAMILY vecdb_bool_ops AS
	OPERATOR 4 pg_catalog.= (bool, bool),
	OPERATOR 7 pg_catalog.<> (bool, bool),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS bool_ops USING flat IS 'bool column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_text_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_text_ops USING flat IS 'conditions on text columns of flat indexes';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING flat FAMILY vecdb_text_ops AS
	OPERATOR 2 pg_catalog.< (text, text),
	OPERATOR 3 pg_catalog.<= (text, text),
	OPERATOR 4 pg_catalog.= (text, text),
	OPERATOR 5 pg_catalog.>= (text, text),
	OPERATOR 6 pg_catalog.> (text, text),
	OPERATOR 7 pg_catalog.<> (text, text),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS text_ops USING flat IS 'text column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_date_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_date_ops USING flat IS 'conditions on date columns of flat indexes';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING flat FAMILY vecdb_date_ops AS
	OPERATOR 2 pg_catalog.< (date, date),
	OPERATOR 3 pg_catalog.<= (date, date),
	OPERATOR 4 pg_catalog.= (date, date),
	OPERATOR 5 pg_catalog.>= (date, date),
	OPERATOR 6 pg_catalog.> (date, date),
	OPERATOR 7 pg_catalog.<> (date, date),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS date_ops USING flat IS 'date column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamp_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_timestamp_ops USING flat IS 'conditions on timestamp columns of flat indexes';
CREATE OPERATOR CLASS timestamp_ops
	DEFAULT FOR TYPE timestamp USING flat FAMILY vecdb_timestamp_ops AS
	OPERATOR 2 pg_catalog.< (timestamp, timestamp),
	OPERATOR 3 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 6 pg_catalog.> (timestamp, timestamp),
	OPERATOR 7 pg_catalog.<> (timestamp, timestamp),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamp_ops USING flat IS 'timestamp column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_timestamptz_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_timestamptz_ops USING flat IS 'conditions on timestamptz columns of flat indexes';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING flat FAMILY vecdb_timestamptz_ops AS
	OPERATOR 2 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 6 pg_catalog.> (timestamptz, timestamptz),
	OPERATOR 7 pg_catalog.<> (timestamptz, timestamptz),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS timestamptz_ops USING flat IS 'timestamptz column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR FAMILY vecdb_uuid_ops USING flat;
COMMENT ON OPERATOR FAMILY vecdb_uuid_ops USING flat IS 'conditions on uuid columns of flat indexes';
CREATE OPERATOR CLASS uuid_ops
	DEFAULT FOR TYPE uuid USING flat FAMILY vecdb_uuid_ops AS
	OPERATOR 2 pg_catalog.< (uuid, uuid),
	OPERATOR 3 pg_catalog.<= (uuid, uuid),
	OPERATOR 4 pg_catalog.= (uuid, uuid),
	OPERATOR 5 pg_catalog.>= (uuid, uuid),
	OPERATOR 6 pg_catalog.> (uuid, uuid),
	OPERATOR 7 pg_catalog.<> (uuid, uuid),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS uuid_ops USING flat IS 'uuid column of a flat index: =, <>, <, <=, >, >= become index conditions';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING flat AS
	OPERATOR 8 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 9 pg_catalog.@> (anyarray, anyarray),
	FUNCTION 1 vecdb_support_scalar(internal);
COMMENT ON OPERATOR CLASS array_ops USING flat IS 'array column of a flat index (tags, tenants): && and @> become index conditions';
COMMENT ON OPERATOR FAMILY array_ops USING flat IS 'array column of a flat index (tags, tenants): && and @> become index conditions';

