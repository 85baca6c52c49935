-- The DDL audit trail: in-migration and out-of-band DDL, attribution, drops, rewrites,
-- statements isolated from multi-statement strings, DDL inside functions.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE VIEW audit AS
    SELECT id, event, command_tag, object_type, object_identity, table_rewrite, statement, migration_version,
           policy, current_user_name
      FROM pgmig.ddl_audit ORDER BY id;

-- In a migration: attributed to its version, with the exact statement pgmig ran.
SELECT migrate_register('1', 'items', E'CREATE TABLE items (id int PRIMARY KEY);\nCREATE INDEX items_idx ON items (id);',
                        'DROP TABLE items;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT event, command_tag, object_type, object_identity, statement, migration_version, policy FROM audit;

-- Out of band: migration_version is NULL; the statement is cut out of a multi-statement string.
CREATE TABLE oob (a int) \; COMMENT ON TABLE oob IS 'made by hand';
SELECT event, command_tag, object_identity, statement, migration_version, policy FROM audit WHERE id > 3;

-- A rewrite, and drops (one row per dropped object, not internal ones).
ALTER TABLE oob ALTER COLUMN a TYPE bigint;
DROP TABLE oob;
SELECT event, command_tag, object_type, object_identity, table_rewrite FROM audit WHERE id > 5;

-- DDL inside a DO block or a function: recorded, but its text cannot be isolated from the
-- client's query, so none is stored.
DO $$ BEGIN EXECUTE 'CREATE TABLE from_do (id int)'; END $$;
SELECT command_tag, object_identity, statement IS NULL AS text_not_isolated FROM audit WHERE object_identity = 'public.from_do';
DROP TABLE from_do;

-- Statements PostgreSQL accepts still work exactly as before, with the triggers active.
CREATE TEMP TABLE tmp_t AS SELECT 1 AS x;
CREATE TABLE parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE parted_2026 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- (the server's WARNING about wal_level is worded differently across major versions)
SET client_min_messages = error;
CREATE PUBLICATION audit_pub FOR TABLE parted;
RESET client_min_messages;
CREATE FUNCTION trg_noop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER someone_elses ON ddl_command_end EXECUTE FUNCTION trg_noop();
DROP EVENT TRIGGER someone_elses;
DROP PUBLICATION audit_pub;
DROP TABLE parted;
DROP FUNCTION trg_noop();
SELECT count(*) > 0 AS recorded FROM audit WHERE object_identity LIKE 'public.parted%';

-- Who: roles and application are recorded.
SET application_name = 'audit-test';
CREATE SEQUENCE who_seq;
SELECT command_tag, current_user_name, (SELECT application_name FROM pgmig.ddl_audit ORDER BY id DESC LIMIT 1)
  FROM audit ORDER BY id DESC LIMIT 1;
DROP SEQUENCE who_seq;
RESET application_name;

-- The audit table takes plain column indexes only: rows are written without the executor.
CREATE INDEX audit_at ON pgmig.ddl_audit (at);
CREATE TABLE after_index (id int);
SELECT count(*) AS recorded FROM audit WHERE object_identity = 'public.after_index';
DROP TABLE after_index;
DROP INDEX pgmig.audit_at;
CREATE INDEX ON pgmig.ddl_audit (lower(object_identity));
CREATE INDEX ON pgmig.ddl_audit (at) WHERE migration_version IS NULL;
-- Switching the event triggers off does not get one past pgmig where the library is loaded: the
-- utility hook makes the same check.
ALTER EVENT TRIGGER pgmig_ddl_start DISABLE;
CREATE INDEX audit_bad ON pgmig.ddl_audit (lower(object_identity));
ALTER EVENT TRIGGER pgmig_ddl_start ENABLE ALWAYS;
-- One made in a session without the library (not preloaded) while the triggers were off: audit
-- writes fail, and so does DDL (pgmig.audit_failure = error), until a superuser drops it.
\c
ALTER EVENT TRIGGER pgmig_ddl_start DISABLE;
ALTER EVENT TRIGGER pgmig_ddl_end DISABLE;
CREATE INDEX audit_bad ON pgmig.ddl_audit (lower(object_identity));
ALTER EVENT TRIGGER pgmig_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_ddl_start ENABLE ALWAYS;
CREATE TABLE unrecorded (id int);
SELECT count(*) AS exists FROM pg_class WHERE relname = 'unrecorded';
SET pgmig.audit_failure = warn;
CREATE TABLE unrecorded (id int);
RESET pgmig.audit_failure;
DROP INDEX pgmig.audit_bad;
DROP TABLE unrecorded;
SELECT count(*) AS drop_recorded FROM audit WHERE object_identity = 'public.unrecorded' AND command_tag = 'DROP TABLE';

DROP VIEW audit;
DROP EXTENSION pgmig;
-- After DROP EXTENSION nothing of pgmig is left firing.
CREATE TABLE after_drop (id int);
DROP TABLE after_drop;
SELECT count(*) AS pgmig_event_triggers FROM pg_event_trigger WHERE evtname LIKE 'pgmig%';
