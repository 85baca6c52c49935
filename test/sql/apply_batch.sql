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

-- The ledger learns what a call ran once all of it has run, in one statement: each migration keeps the
-- time it ended (its applied_at, which is also its history row's time) and its place in history, and
-- names and versions arrive as written, whatever their quotes, backslashes, braces or commas, and
-- whatever DateStyle or TimeZone a migration set on the way.
SELECT migrate_register('50', 'quote"back\slash {brace}, comma', 'CREATE TABLE batch_50 (id int); SELECT pg_sleep(0.01);',
                        'DROP TABLE batch_50;') IS NOT NULL AS registered;
SELECT migrate_register('51', 'zone', $$CREATE TABLE batch_51 (id int); SET DateStyle = 'SQL, DMY';
                        SET TimeZone = 'Asia/Tokyo'; SELECT pg_sleep(0.01);$$, 'DROP TABLE batch_51;') IS NOT NULL AS registered;
SELECT migrate_register('52', 'NULL', 'CREATE TABLE batch_52 (id int); SELECT pg_sleep(0.01);',
                        'DROP TABLE batch_52;') IS NOT NULL AS registered;
SELECT migrate_register(NULL, 'repeatable view', 'CREATE OR REPLACE VIEW batch_view AS SELECT 1 AS one;',
                        options => '{"repeatable": true}') IS NOT NULL AS registered;
SELECT pg_catalog.clock_timestamp() AS call_began \gset
SELECT version, name, action FROM migrate_apply();
RESET DateStyle;
RESET TimeZone;
SELECT m.version, m.name, m.applied_at > :'call_began' AND m.applied_at < clock_timestamp() AS during_the_call,
       h.at = m.applied_at AS history_at_is_applied_at, h.duration = m.duration AS same_duration,
       m.applied_by = current_user AS applied_by_caller, m.applied_checksum = m.checksum AS applied_checksum,
       h.checksum = m.checksum AS history_checksum
  FROM pgmig.migrations m JOIN pgmig.history h ON h.name = m.name AND h.action = 'apply'
 WHERE m.applied_at > :'call_began' ORDER BY h.id;
SELECT count(DISTINCT at) AS distinct_times, array_agg(name ORDER BY id) = array_agg(name ORDER BY at) AS history_in_time_order
  FROM pgmig.history WHERE at > :'call_began';
SELECT version, name, action FROM migrate_rollback(2);
SELECT m.version, m.applied_at IS NULL AND m.applied_by IS NULL AND m.applied_checksum IS NULL AND m.duration IS NULL AS unapplied,
       h.at > :'call_began' AS rollback_recorded, h.duration IS NOT NULL AS has_duration
  FROM pgmig.migrations m JOIN pgmig.history h ON h.version = m.version AND h.action = 'rollback'
 ORDER BY h.id;
-- migrate_baseline() writes its rows the same way: every migration up to the version marked applied,
-- its history row at the same time, in version order.
SELECT count(*) AS registered
  FROM generate_series(60, 64) i, migrate_register(i::text, 'baseline_' || i, 'SELECT 1;');
SELECT version, action FROM migrate_baseline('63');
SELECT m.version, h.action, h.at = m.applied_at AS history_at_is_applied_at, m.duration = '0'::interval AS zero_duration,
       m.applied_checksum = m.checksum AS applied_checksum, m.applied_by = current_user AS applied_by_caller
  FROM pgmig.migrations m JOIN pgmig.history h ON h.version = m.version AND h.action = 'baseline'
 ORDER BY h.id;
SELECT version, state FROM migrate_status() WHERE version::int >= 60;
\c contrib_regression
DROP DATABASE regress_pgmig_batch;
