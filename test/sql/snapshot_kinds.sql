-- The snapshot describes every kind a real schema holds: aggregates, collations, extended statistics,
-- operators and their classes and families, event triggers, publications, foreign-data wrappers, servers,
-- user mappings, foreign tables, extension schemas, and the comments of constraints, triggers, policies
-- and extensions. A user mapping's options (passwords) and a server's secret-looking option values are
-- never read into it.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE DATABASE regress_pgmig_kinds;
\c regress_pgmig_kinds
SET client_min_messages = warning;
CREATE EXTENSION pgmig;
CREATE SCHEMA ext;
-- (a version every supported PostgreSQL ships: the snapshot shows it)
CREATE EXTENSION citext SCHEMA ext VERSION '1.6';
COMMENT ON EXTENSION citext IS 'case-insensitive text';
CREATE FUNCTION add2(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE AGGREGATE sum2(int) (SFUNC = add2, STYPE = int, INITCOND = '0', PARALLEL = SAFE);
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION plain_c (lc_collate = 'C', lc_ctype = 'C');
CREATE TABLE t (id int PRIMARY KEY, a int, b int CONSTRAINT b_pos CHECK (b > 0));
COMMENT ON CONSTRAINT b_pos ON t IS 'positive';
CREATE FUNCTION t_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_touch();
COMMENT ON TRIGGER t_touch ON t IS 'keeps rows fresh';
CREATE POLICY t_mine ON t USING (a = 1);
COMMENT ON POLICY t_mine ON t IS 'only mine';
CREATE STATISTICS t_ab (dependencies) ON a, b FROM t;
ALTER STATISTICS t_ab SET STATISTICS 500;
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER regress_on_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION on_ddl();
ALTER EVENT TRIGGER regress_on_ddl DISABLE;
-- (the server's WARNING about wal_level is worded differently across major versions)
SET client_min_messages = error;
CREATE PUBLICATION regress_pub FOR TABLE t (id, a) WHERE (a > 1) WITH (publish = 'insert, update');
RESET client_min_messages;
CREATE FOREIGN DATA WRAPPER regress_fdw OPTIONS (debug 'true');
CREATE SERVER regress_srv FOREIGN DATA WRAPPER regress_fdw OPTIONS (host 'db.example', password 'server-sekrit');
CREATE ROLE regress_kinds_mapper;
CREATE USER MAPPING FOR regress_kinds_mapper SERVER regress_srv OPTIONS (user 'u', password 'mapping-sekrit');
CREATE FOREIGN TABLE remote_t (x int OPTIONS (column_name 'y')) SERVER regress_srv OPTIONS (table_name 'z');
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq, COMMUTATOR = ===);
CREATE OPERATOR FAMILY int_fam USING btree;
CREATE OPERATOR CLASS int_ops FOR TYPE int USING btree FAMILY int_fam AS OPERATOR 1 <, OPERATOR 3 =, FUNCTION 1 btint4cmp(int, int);
SELECT object_key, jsonb_pretty(description) AS description FROM pgmig.snapshot_objects()
 WHERE object_type NOT IN ('function', 'index') ORDER BY object_key;
-- no secret anywhere in the snapshot
SELECT count(*) AS secrets FROM pgmig.snapshot_objects() WHERE description::text ~ 'sekrit';
-- a role that may not read user mappings' options reads the same snapshot
CREATE ROLE regress_kinds_reader IN ROLE pgmig_reader;
SELECT migrate_fingerprint() AS fp \gset
SET ROLE regress_kinds_reader;
SELECT migrate_fingerprint() = :'fp' AS same_fingerprint_for_a_plain_role;
RESET ROLE;
DROP ROLE regress_kinds_reader;
-- Every object asked for alone, by its OID, is described exactly as in the full snapshot: the full one reads
-- each catalog whole, a scoped one looks its OIDs up by index, and both must build the same rows. Asked
-- for by catalog and OID (pgmig.snapshot_described(), as the rollback test and the derived snapshots ask),
-- too: that one starts the part of the other kinds only for the catalogs it knows that part describes.
CREATE TABLE kinds_keys (id int PRIMARY KEY, code text UNIQUE, during int4range,
                         EXCLUDE USING gist (during WITH &&));
CREATE TYPE kinds_mood AS ENUM ('calm', 'busy');
CREATE DOMAIN kinds_code AS text CONSTRAINT kinds_code_short CHECK (length(VALUE) < 9);
CREATE TYPE kinds_span AS RANGE (subtype = float8);
CREATE TYPE kinds_pair AS (a int, b text);
CREATE SEQUENCE kinds_seq;
CREATE VIEW kinds_view AS SELECT id, code FROM kinds_keys;
CREATE MATERIALIZED VIEW kinds_matview AS SELECT id FROM kinds_keys;
SELECT f.object_type, count(*) AS objects,
       count(*) FILTER (WHERE a.description IS DISTINCT FROM f.description) AS differing,
       count(*) FILTER (WHERE p.description IS DISTINCT FROM f.description) AS differing_by_pair,
       string_agg(f.object_key, ', ') FILTER (WHERE a.description IS DISTINCT FROM f.description
                                                 OR p.description IS DISTINCT FROM f.description) AS which
  FROM pgmig.snapshot_objects_among(NULL) f
  LEFT JOIN LATERAL (SELECT x.description FROM pgmig.snapshot_objects_among(ARRAY[f.objid]) x
                      WHERE x.object_key = f.object_key) a ON true
  LEFT JOIN LATERAL (SELECT x.description FROM pgmig.snapshot_described(ARRAY[f.classid], ARRAY[f.objid]) x
                      WHERE x.object_key = f.object_key) p ON true
 GROUP BY f.object_type ORDER BY f.object_type;
-- Nothing asked for, nothing described (NULL is not "everything" here).
SELECT count(*) AS described_for_nothing FROM pgmig.snapshot_described(NULL, NULL);
SELECT count(*) AS described_for_no_pair FROM pgmig.snapshot_described('{}', '{}');
DROP MATERIALIZED VIEW kinds_matview;
DROP VIEW kinds_view;
DROP TABLE kinds_keys;
DROP SEQUENCE kinds_seq;
DROP TYPE kinds_pair;
DROP TYPE kinds_span;
DROP DOMAIN kinds_code;
DROP TYPE kinds_mood;

-- Some objects are described as all of them are: the trigger of a table that belongs to an extension
-- is the extension's business when it alone is asked for too (the table is not among those asked for).
CREATE TABLE ext_owned (id int);
ALTER EXTENSION citext ADD TABLE ext_owned;
CREATE FUNCTION ext_owned_touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER ext_owned_touch BEFORE INSERT ON ext_owned FOR EACH ROW EXECUTE FUNCTION ext_owned_touch();
SELECT object_key FROM pgmig.snapshot_objects() WHERE object_key LIKE '%ext_owned%' ORDER BY 1;
SELECT object_key FROM pgmig.snapshot_objects_among(
    ARRAY(SELECT oid FROM pg_trigger WHERE tgname = 'ext_owned_touch') || 'ext_owned_touch()'::regprocedure::oid)
 ORDER BY 1;
ALTER EXTENSION citext DROP TABLE ext_owned;
DROP TABLE ext_owned;
DROP FUNCTION ext_owned_touch();
DROP EVENT TRIGGER regress_on_ddl;
DROP USER MAPPING FOR regress_kinds_mapper SERVER regress_srv;
DROP ROLE regress_kinds_mapper;
\c contrib_regression
DROP DATABASE regress_pgmig_kinds;
