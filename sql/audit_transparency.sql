-- Auditing is invisible to the session it audits: lastval()/currval(), search_path, GUCs, the
-- error a statement raises and the transaction ids it uses are what they would be without pgmig.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_transparency_user;
CREATE SCHEMA regress_transparency AUTHORIZATION regress_transparency_user;

-- lastval() in a fresh session: not defined, before and after audited DDL (pgmig's own sequence
-- must not become the session's last-used sequence).
\c
SELECT lastval();
CREATE TABLE transparency_items (id serial PRIMARY KEY, name text);
SELECT lastval();
INSERT INTO transparency_items (name) VALUES ('first'), ('second');
SELECT lastval();
-- The application's usual pattern: DDL, then the id of the row it just inserted.
ALTER TABLE transparency_items ADD COLUMN note text;
COMMENT ON TABLE transparency_items IS 'audited';
DROP TABLE IF EXISTS transparency_nothing;
CREATE INDEX transparency_items_name ON transparency_items (name);
SELECT lastval(), currval('transparency_items_id_seq');

-- A role with no right on pgmig's sequences gets what PostgreSQL says, not a permission error.
\c
SET ROLE regress_transparency_user;
CREATE TABLE regress_transparency.own (id int);
SELECT lastval();
CREATE SEQUENCE regress_transparency.own_seq;
SELECT nextval('regress_transparency.own_seq');
DROP TABLE regress_transparency.own;
SELECT lastval(), currval('regress_transparency.own_seq');
RESET ROLE;

-- Migrations write history and snapshot rows: the caller's lastval() stays its own.
\c
SELECT nextval('transparency_items_id_seq') AS before_apply;
SELECT migrate_register('1', 'transparency', 'CREATE TABLE transparency_applied (id int);') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT lastval() AS after_apply;
SELECT count(*) AS history_rows FROM pgmig.history;

-- search_path, a GUC set for the transaction, and a GUC pgmig itself pins are unchanged by DDL.
BEGIN;
SET LOCAL search_path = regress_transparency, public;
SET LOCAL work_mem = '1234kB';
SET LOCAL extra_float_digits = 1;
CREATE TABLE transparency_guc (id int);
SELECT current_setting('search_path') AS search_path, current_setting('work_mem') AS work_mem,
       current_setting('extra_float_digits') AS extra_float_digits;
ROLLBACK;
SELECT current_setting('search_path') AS search_path;

-- The error state: a failing DDL statement raises PostgreSQL's own error (SQLSTATE, message),
-- and a caught one leaves the handler's view of it intact.
CREATE TABLE transparency_items (id int);
\echo :LAST_ERROR_SQLSTATE
DO $$
DECLARE state text; msg text;
BEGIN
    BEGIN
        CREATE TABLE transparency_items (id int);
    EXCEPTION WHEN duplicate_table THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        RAISE NOTICE 'caught % %', state, msg;
    END;
    CREATE TABLE transparency_after_error (id int);
    RAISE NOTICE 'after the handler: %', to_regclass('transparency_after_error') IS NOT NULL;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'unexpected %', SQLERRM;
END $$;

-- What another event trigger, fired after pgmig's (by name), sees of the session: pg_stat_activity's
-- query and state, current_query() and lastval() are the user's, as PostgreSQL set them.
CREATE TABLE transparency_seen (query text, state text, current_query text, last text);
CREATE FUNCTION transparency_watch() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE last text;
BEGIN
    BEGIN
        last := lastval()::text;
    EXCEPTION WHEN object_not_in_prerequisite_state OR insufficient_privilege THEN
        last := SQLERRM;
    END;
    INSERT INTO transparency_seen
        SELECT a.query, a.state, current_query(), last FROM pg_stat_activity a WHERE a.pid = pg_backend_pid();
END $$;
CREATE EVENT TRIGGER zz_transparency_watch ON ddl_command_end EXECUTE FUNCTION transparency_watch();
\c
CREATE TABLE transparency_watched (id int);
SELECT query, state, current_query, last FROM transparency_seen;
DROP EVENT TRIGGER zz_transparency_watch;
DROP FUNCTION transparency_watch();
DROP TABLE transparency_seen, transparency_watched;

-- One transaction's audit rows share its transaction id: no subtransaction (and no transaction id)
-- per audited statement, so a long migration never overflows the subtransaction cache.
BEGIN;
DO $$ BEGIN
    FOR i IN 1..70 LOOP EXECUTE format('CREATE TABLE transparency_many_%s (id int)', i); END LOOP;
END $$;
COMMIT;
SELECT count(*) AS audit_rows, count(DISTINCT xmin::text) AS transaction_ids
  FROM pgmig.ddl_audit WHERE object_identity LIKE 'public.transparency\_many\_%';
SELECT migrate_register('2', 'many', (SELECT string_agg(format('CREATE TABLE transparency_mig_%s (id int);', i), E'\n')
                                        FROM generate_series(1, 70) i)) IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT count(*) AS audit_rows, count(DISTINCT xmin::text) AS transaction_ids
  FROM pgmig.ddl_audit WHERE migration_version = '2';

-- pgmig's ids still come from the table's identity sequence, shared with nextval(); the only gap is
-- the id of the rolled-back CREATE TABLE transparency_guc.
SELECT max(id) - min(id) + 1 - count(*) AS gaps FROM pgmig.ddl_audit;
SELECT nextval(pg_get_serial_sequence('pgmig.ddl_audit', 'id')) = (SELECT max(id) + 1 FROM pgmig.ddl_audit)
       AS nextval_continues;
SELECT count(*) = max(id) - min(id) + 1 AS ids_consecutive FROM pgmig.history;

-- Clean up.
DO $$ BEGIN
    FOR i IN 1..70 LOOP
        EXECUTE format('DROP TABLE transparency_many_%s, transparency_mig_%s', i, i);
    END LOOP;
END $$;
DROP TABLE transparency_items, transparency_applied, transparency_after_error;
DROP SCHEMA regress_transparency CASCADE;
DROP ROLE regress_transparency_user;
DROP EXTENSION pgmig;
