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

-- Locks: the audit write gives back the locks it took on pgmig.ddl_audit, its TOAST table and its
-- sequence as soon as the row is written, as PostgreSQL does for its catalogs, so the session's locks
-- are those of its own statements (PostgreSQL's alter_table test lists them this way: relation locks
-- of the transaction outside pg_catalog).
CREATE VIEW transparency_locks AS
SELECT CASE WHEN c.relnamespace <> 'pg_toast'::regnamespace THEN c.relname::text
            WHEN c.relkind = 'i' THEN 'TOAST index of ' || (SELECT t.relname FROM pg_class t JOIN pg_index i
                                                               ON i.indrelid = t.reltoastrelid
                                                            WHERE i.indexrelid = c.oid)
            ELSE 'TOAST of ' || (SELECT t.relname FROM pg_class t WHERE t.reltoastrelid = c.oid) END AS relation,
       l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.locktype = 'relation' AND l.pid = pg_backend_pid() AND l.granted
   AND c.relnamespace <> 'pg_catalog'::regnamespace AND c.relname <> 'transparency_locks'
 ORDER BY 1, 2;
BEGIN;
CREATE TABLE transparency_locked (id int);
ALTER TABLE transparency_locked ALTER COLUMN id SET STATISTICS 150;
SELECT * FROM transparency_locks;
COMMIT;
-- A statement long enough for its audit row to go to pgmig.ddl_audit's TOAST table.
SELECT format('ALTER TABLE transparency_locked ADD COLUMN n int /* %s */',
              string_agg(md5(i::text), '' ORDER BY i)) AS long_statement
  FROM generate_series(1, 100) i \gset
BEGIN;
:long_statement;
SELECT * FROM transparency_locks;
SELECT length(statement) > 3000 AS long_row_written,
       (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE oid = 'pgmig.ddl_audit'::regclass)
       AS in_toast_table
  FROM pgmig.ddl_audit
 WHERE command_tag = 'ALTER TABLE' AND object_identity = 'public.transparency_locked'
   AND txid = pg_current_xact_id();
COMMIT;
-- A role's statement is recorded by the utility hook: no lock of pgmig's either.
BEGIN;
CREATE ROLE regress_transparency_locker;
DROP ROLE regress_transparency_locker;
SELECT * FROM transparency_locks;
COMMIT;
-- Inside savepoints and exception blocks (their own resource owners): the same, and rolling back to
-- a savepoint takes its DDL's audit row with it.
BEGIN;
CREATE TABLE transparency_kept (id int);
SAVEPOINT s;
CREATE TABLE transparency_undone (id int);
SELECT * FROM transparency_locks;
ROLLBACK TO SAVEPOINT s;
DO $$ BEGIN
    CREATE INDEX transparency_kept_id ON transparency_kept (id);
    RAISE division_by_zero;
EXCEPTION WHEN division_by_zero THEN
    CREATE INDEX transparency_kept_id_2 ON transparency_kept (id);
END $$;
SELECT * FROM transparency_locks;
COMMIT;
SELECT command_tag, object_identity FROM pgmig.ddl_audit
 WHERE object_identity ~ '^public\.transparency_(kept|undone)' ORDER BY id;
-- pgmig.audit_failure = warn writes in a subtransaction: nothing left behind either.
SET pgmig.audit_failure = warn;
BEGIN;
ALTER TABLE transparency_kept ADD COLUMN name text;
SELECT * FROM transparency_locks;
COMMIT;
RESET pgmig.audit_failure;
-- While an index of pgmig.ddl_audit is not valid (a concurrent build under way, or one that failed),
-- the audit write keeps its locks until the transaction ends: the build waits for the transactions
-- that hold them, and would miss rows written without.
\set VERBOSITY terse
CREATE UNIQUE INDEX CONCURRENTLY ddl_audit_not_valid ON pgmig.ddl_audit (command_tag);
\set VERBOSITY default
BEGIN;
ALTER TABLE transparency_kept ADD COLUMN n int;
SELECT * FROM transparency_locks;
COMMIT;
DROP INDEX pgmig.ddl_audit_not_valid;
BEGIN;
ALTER TABLE transparency_kept DROP COLUMN n;
SELECT * FROM transparency_locks;
COMMIT;
-- A lock the transaction took itself before its DDL stays held: the audit write gives back only its
-- own (lock counts are kept per resource owner).
BEGIN;
LOCK TABLE pgmig.ddl_audit IN ROW EXCLUSIVE MODE;
SELECT count(*) >= 0 AS read_audit FROM pgmig.ddl_audit;
SELECT nextval(pg_get_serial_sequence('pgmig.ddl_audit', 'id')) > 0 AS took_an_id;
DROP TABLE transparency_locked;
SELECT * FROM transparency_locks;
SAVEPOINT s;
DROP INDEX transparency_kept_id_2;
RELEASE SAVEPOINT s;
SELECT * FROM transparency_locks;
COMMIT;
SELECT * FROM transparency_locks;
-- The rows of those transactions are all there after COMMIT.
SELECT command_tag, object_type, object_identity FROM pgmig.ddl_audit
 WHERE object_identity ~ '^public\.transparency_(locked|kept)' OR object_identity = 'regress_transparency_locker'
 ORDER BY id;
DROP VIEW transparency_locks;
DROP TABLE transparency_kept;

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
