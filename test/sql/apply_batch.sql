-- migrate_apply() runs a migration in a subtransaction of its own only while a lock timeout could still
-- be retried (the transaction holds no lock on a user relation: in practice the first migration); the
-- rest run in one subtransaction together, since a failure there ends the call anyway. One subtransaction
-- per migration cost time quadratic in their number (PostgreSQL's end of a subtransaction walks every
-- relation created and lock taken so far). Seen from the transaction IDs the call consumes (each
-- subtransaction that writes takes one), and from what a failure in the middle leaves.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE DATABASE regress_pgmig_batch;
\c regress_pgmig_batch
SET client_min_messages = warning;
CREATE EXTENSION dblink;
CREATE EXTENSION pgmig;
SELECT count(*) AS registered
  FROM generate_series(1, 40) i, migrate_register(i::text, 'batch_' || i, format('CREATE TABLE batch_%s (id int);', i));
BEGIN;
SELECT pg_current_xact_id()::text::bigint AS xid_before \gset
SELECT count(*) AS applied FROM migrate_apply();
COMMIT;
SELECT pg_current_xact_id()::text::bigint - :xid_before < 10 AS fewer_transaction_ids_than_migrations;
SELECT count(*) AS tables FROM pg_class WHERE relname LIKE 'batch\_%' AND relkind = 'r';

-- A failure in the batch rolls the whole call back and is recorded for the migration that failed.
SELECT migrate_register('41', 'fine', 'CREATE TABLE batch_fine (id int);') IS NOT NULL AS registered;
SELECT migrate_register('42', 'also_fine', 'ALTER TABLE batch_fine ADD COLUMN v text;') IS NOT NULL AS registered;
SELECT migrate_register('43', 'broken', 'ALTER TABLE batch_fine ADD COLUMN w regress_no_such_type;') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pgmig.history WHERE action = 'failed');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT version, name, action, sqlstate FROM pgmig.history WHERE version::int > 40 ORDER BY id;
SELECT to_regclass('batch_fine') AS batch_fine;
SELECT version, state FROM migrate_status() WHERE version::int > 40;

-- A lock timeout in the batch is not waited out again: the transaction holds the earlier migrations' locks.
SELECT migrate_register('43', 'broken', 'ALTER TABLE batch_1 ADD COLUMN w int;') IS NOT NULL AS registered_again;
SELECT format('dbname=%s host=%s port=%s', current_database(),
              split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port')) AS here \gset
SELECT dblink_connect('holder', :'here') AS holder;
SELECT dblink_exec('holder', 'BEGIN') AS holder_begin;
SELECT dblink_exec('holder', 'LOCK TABLE batch_1 IN ACCESS SHARE MODE') AS holder_lock;
SET pgmig.lock_timeout = '100ms';
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
RESET pgmig.lock_timeout;
SELECT dblink_exec('holder', 'ROLLBACK') AS holder_rollback;
SELECT dblink_disconnect('holder') AS holder;
SELECT to_regclass('batch_fine') AS batch_fine;
SELECT count(*) AS applied FROM migrate_apply();
SELECT version, state FROM migrate_status() WHERE version::int > 40;
\c contrib_regression
DROP DATABASE regress_pgmig_batch;
