-- The tamper check of migrate_apply() (and migrate_rollback(), migrate_plan()) hashes only the stored
-- scripts on the ledger's pages changed since it last verified them (pgmig.ledger_verified records how
-- far): a hand edit anywhere in a long history is still found, also one committed while an apply ran,
-- and also in a ledger whose table stopped being WAL-logged (its pages change without a new LSN).
CREATE EXTENSION dblink;
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SELECT format('dbname=%s host=%s port=%s', current_database(),
              split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port')) AS here \gset
-- The number of scripts an apply hashes, read from this transaction's function statistics.
SET track_functions = 'all';
CREATE FUNCTION tc_hashed() RETURNS bigint LANGUAGE sql AS
$$ SELECT coalesce(max(calls), 0) FROM pg_stat_xact_user_functions
    WHERE funcid = 'pgmig.script_checksum(text)'::regprocedure $$;

-- A history of 2,000 applied migrations, over many pages.
SELECT count(migrate_register(g::text, 'm_' || g, 'SELECT ' || g || ';')) AS registered FROM generate_series(1, 2000) g;
SELECT count(*) AS applied FROM migrate_apply();
SELECT pg_relation_size('pgmig.migrations') > 20 * 8192 AS many_pages, count(*) AS verified FROM pgmig.ledger_verified;
-- The apply changed every row after its check: the next check hashes them all.
BEGIN;
SELECT tc_hashed() AS before \gset
SELECT count(*) AS applied FROM migrate_apply();
SELECT tc_hashed() - :before >= 2000 AS all_hashed;
COMMIT;

-- Nothing changed since: an apply hashes a few scripts, not 2,000.
BEGIN;
SELECT migrate_register('2001', 'next', 'CREATE TABLE tc_next (id int);') IS NOT NULL AS registered;
SELECT tc_hashed() AS before \gset
SELECT version FROM migrate_apply();
SELECT tc_hashed() - :before < 100 AS few_hashed;
COMMIT;

-- 1. A hand edit of the oldest row, on the first page: found.
SELECT verified_through AS through FROM pgmig.ledger_verified \gset
UPDATE pgmig.migrations SET up_sql = 'SELECT 0;' WHERE version = '1';
SELECT migrate_register('2002', 'after_edit', 'CREATE TABLE tc_after_edit (id int);') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT verified_through = :'through' AS not_moved FROM pgmig.ledger_verified;
UPDATE pgmig.migrations SET up_sql = 'SELECT 1;' WHERE version = '1';
SELECT version FROM migrate_apply();
SELECT verified_through > :'through' AS moved FROM pgmig.ledger_verified;

-- 2. A hand edit in another session, not committed while an apply checks the ledger and committed after
-- it: the apply cannot see it, and does not record its pages as verified; the next apply finds it.
SELECT verified_through AS through FROM pgmig.ledger_verified \gset
SELECT dblink_connect('editor', :'here') AS editor;
SELECT dblink_exec('editor', 'BEGIN') AS editor_begin;
SELECT dblink_exec('editor', $$UPDATE pgmig.migrations SET up_sql = 'SELECT 0;' WHERE version = '2'$$) AS editor_edit;
SELECT migrate_register('2003', 'during_edit', 'CREATE TABLE tc_during_edit (id int);') IS NOT NULL AS registered;
SELECT version FROM migrate_apply();
SELECT verified_through = :'through' AS not_moved FROM pgmig.ledger_verified;
SELECT dblink_exec('editor', 'COMMIT') AS editor_commit;
SELECT migrate_register('2004', 'after_commit', 'CREATE TABLE tc_after_commit (id int);') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('editor', $$UPDATE pgmig.migrations SET up_sql = 'SELECT 2;' WHERE version = '2'$$) AS editor_repair;
SELECT version FROM migrate_apply();

-- 3. An unlogged ledger: every apply hashes every script, and records nothing.
ALTER TABLE pgmig.migrations SET UNLOGGED;
SELECT version FROM migrate_apply();
UPDATE pgmig.migrations SET up_sql = 'SELECT 0;' WHERE version = '3';
SELECT migrate_register('2005', 'unlogged', 'CREATE TABLE tc_unlogged (id int);') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
UPDATE pgmig.migrations SET up_sql = 'SELECT 3;' WHERE version = '3';
ALTER TABLE pgmig.migrations SET LOGGED;
SELECT version FROM migrate_apply();

-- 4. The same in a new file of the table (VACUUM FULL): the first check hashes every script again.
VACUUM FULL pgmig.migrations;
BEGIN;
SELECT tc_hashed() AS before \gset
SELECT count(*) FROM migrate_apply();
SELECT tc_hashed() - :before >= 2000 AS all_hashed;
COMMIT;

SELECT dblink_disconnect('editor') AS editor_gone;
DROP FUNCTION tc_hashed();
DROP EXTENSION pgmig;
DROP TABLE tc_next, tc_after_edit, tc_during_edit, tc_after_commit, tc_unlogged;
DROP EXTENSION dblink;
