-- Policies: options, out-of-order migrations, timeouts, non-transactional statements,
-- repeatable migrations and baselines.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- Options are validated: unknown keys and wrong types are errors.
SELECT migrate_register('1', 'x', 'SELECT 1', NULL, '{"transactinal": false}');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('1', 'x', 'SELECT 1', NULL, '{"lock_timeout": "soon"}');
SELECT migrate_register('1', 'x', 'SELECT 1', NULL, '{"retries": -1}');
SELECT migrate_register('1', 'x', 'SELECT 1', NULL, '{"lock_timeout": "2s", "statement_timeout": 500, "retries": 0,
    "refs": ["JIRA-1"], "allow": "drop-column"}') IS NOT NULL AS valid_options;

-- Out of order: 3 is applied, then 2 shows up (a merged branch). Never silently skipped or run.
SELECT migrate_register('3', 'three', 'CREATE TABLE three (id int);') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT migrate_register('2', 'two', 'CREATE TABLE two (id int);') IS NOT NULL AS registered;
SELECT version, state FROM migrate_status();
SHOW pgmig.out_of_order;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SET pgmig.out_of_order = allow;
SELECT version, action FROM migrate_apply();
RESET pgmig.out_of_order;

-- Statement timeout of a migration: the timer is really armed inside migrate_apply (57014).
SELECT migrate_register('4', 'slow', 'SELECT pg_sleep(5);', NULL, '{"statement_timeout": "100ms"}') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('4', 'slow', 'SELECT pg_sleep(0.01);', NULL, '{"statement_timeout": "5s"}') IS NOT NULL AS fixed;
SELECT version, action FROM migrate_apply();
-- The caller's own settings are back after the call.
SHOW lock_timeout;
SHOW statement_timeout;

-- Inside a migration, lock_timeout is pgmig.lock_timeout (5s by default) or the option.
SELECT migrate_register('5', 'show_lock_timeout',
    $$DO $do$ BEGIN RAISE NOTICE 'lock_timeout inside the migration: %', current_setting('lock_timeout'); END $do$;$$,
    NULL, '{"lock_timeout": 1500}') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();

-- Statements that cannot run in a transaction need a non-transactional migration (PM010)...
SELECT migrate_register('6', 'concurrent_index', 'CREATE INDEX CONCURRENTLY three_idx ON three (id);')
    IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
-- ... which migrate_apply() leaves to the client (PM010 again, with another hint).
SELECT migrate_register('6', 'concurrent_index', 'CREATE INDEX CONCURRENTLY three_idx ON three (id);', NULL,
    '{"transactional": false}') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
-- Up to the version before it still works.
SELECT version, action FROM migrate_apply('5');
DELETE FROM pgmig.migrations WHERE version = '6';

-- Repeatable migrations: no version, run after the versioned ones, again whenever they change.
SELECT migrate_register(NULL, 'three_view', 'CREATE OR REPLACE VIEW three_view AS SELECT id FROM three;', NULL,
    '{"repeatable": true}') IS NOT NULL AS registered;
SELECT migrate_register('7', 'three_name', 'ALTER TABLE three ADD COLUMN name text;') IS NOT NULL AS registered;
SELECT version, name, action FROM migrate_apply();
SELECT version, name, action FROM migrate_apply();
SELECT migrate_register(NULL, 'three_view', 'CREATE OR REPLACE VIEW three_view AS SELECT id, name FROM three;',
    NULL, '{"repeatable": true}') IS NOT NULL AS changed;
SELECT name, state, kind FROM migrate_status() WHERE kind = 'repeatable';
SELECT version, name, action FROM migrate_apply();
SELECT name, state FROM migrate_status() WHERE kind = 'repeatable';
SELECT migrate_register(NULL, 'bad', 'SELECT 1');
SELECT migrate_register('8', 'bad', 'SELECT 1', NULL, '{"repeatable": true}');

-- Baseline: an existing database adopts migrations without running them.
SELECT migrate_register('9', 'existing_a', 'CREATE TABLE existing_a (id int);') IS NOT NULL AS registered;
SELECT migrate_register('10', 'existing_b', 'CREATE TABLE existing_b (id int);') IS NOT NULL AS registered;
SELECT migrate_register('11', 'new_c', 'CREATE TABLE new_c (id int);') IS NOT NULL AS registered;
SELECT version, name, action FROM migrate_baseline('10');
SELECT to_regclass('existing_a') AS existing_a;
SELECT version, action FROM migrate_apply();
SELECT version, state FROM migrate_status() WHERE version::int >= 9;
SELECT count(*) AS problems FROM migrate_verify();

-- Refusing snapshot isolation everywhere the ledger is written.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT * FROM migrate_rollback();
ROLLBACK;

DROP EXTENSION pgmig;
DROP VIEW three_view;
DROP TABLE two, three, new_c;
