-- A pgmig_admin cannot pass ad-hoc DDL off as a non-transactional migration. Between
-- migrate_nontx_begin and migrate_nontx_finish, only the registered statements, sent one by one
-- at top level in their order, belong to the migration; anything else is out-of-band DDL, and
-- progress/finish are refused until the registered statements were seen to complete.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_nontx_admin LOGIN IN ROLE pgmig_admin;
GRANT CREATE ON SCHEMA public TO regress_nontx_admin;
CREATE TABLE nt (a int, b int);
INSERT INTO nt VALUES (1, 1), (2, 1);
ALTER TABLE nt OWNER TO regress_nontx_admin;
SET pgmig.out_of_band = warn;  -- out-of-band DDL says so, as the policy wants
SET ROLE regress_nontx_admin;
SELECT migrate_register('10', 'innocuous', 'CREATE INDEX CONCURRENTLY nt_a_idx ON nt (a);',
                        'DROP INDEX CONCURRENTLY IF EXISTS nt_a_idx;', '{"transactional": false}') IS NOT NULL AS registered;
SELECT migrate_register('20', 'other', 'CREATE INDEX CONCURRENTLY nt_ab_idx ON nt (a, b);', NULL,
                        '{"transactional": false}') IS NOT NULL AS registered;

-- The attack: begin 10, run something else, claim it done.
SELECT pg_advisory_lock(482771560807) IS NOT NULL AS locked;
SELECT migrate_nontx_begin('10') AS already_done;
CREATE TABLE stealth (id int);
SELECT migrate_nontx_progress('10', 1);
SELECT migrate_nontx_finish('10', '1s');
SELECT version, state FROM migrate_status() WHERE version = '10';
SELECT command_tag, object_identity, migration_version, policy FROM pgmig.ddl_audit
 WHERE object_identity LIKE '%stealth%' ORDER BY id;

-- After the session-level ledger lock is released, nothing of this session belongs to a
-- migration any more, not even the registered statement.
SELECT migrate_register('11', 'next', 'CREATE INDEX CONCURRENTLY nt_b_idx ON nt (b);', NULL,
                        '{"transactional": false}') IS NOT NULL AS registered;
SELECT migrate_nontx_begin('11') AS already_done;
SELECT pg_advisory_unlock(482771560807);
CREATE TABLE stealth_after_unlock (id int);
CREATE INDEX CONCURRENTLY nt_b_idx ON nt (b);
SELECT pg_advisory_lock(482771560807) IS NOT NULL AS locked;
SELECT migrate_nontx_progress('11', 1);
SELECT migrate_nontx_finish('11', '1s');
\echo :LAST_ERROR_SQLSTATE
SELECT command_tag, object_identity, migration_version FROM pgmig.ddl_audit
 WHERE object_identity IN ('public.stealth_after_unlock', 'public.nt_b_idx') ORDER BY id;
DROP INDEX CONCURRENTLY nt_b_idx;

-- A begin whose transaction rolls back leaves nothing behind: later DDL is out of band and
-- subject to the policy (the WARNING), and there is no migration 20 to progress or finish.
BEGIN;
SELECT migrate_nontx_begin('20') AS already_done;
ROLLBACK;
CREATE TABLE stealth_rolled_back (id int);
SELECT migrate_nontx_finish('20', '1s');
\echo :LAST_ERROR_SQLSTATE
-- The same for a savepoint rolled back, and for a PL/pgSQL block that catches an error.
BEGIN;
SAVEPOINT s;
SELECT migrate_nontx_begin('20') AS already_done;
ROLLBACK TO SAVEPOINT s;
COMMIT;
DO $$ BEGIN PERFORM migrate_nontx_begin('20'); RAISE EXCEPTION 'undone'; EXCEPTION WHEN raise_exception THEN NULL; END $$;
CREATE TABLE stealth_subxact (id int);
SELECT migrate_nontx_finish('20', '1s');
\echo :LAST_ERROR_SQLSTATE
SELECT object_identity, migration_version, policy FROM pgmig.ddl_audit
 WHERE object_identity IN ('public.stealth_rolled_back', 'public.stealth_subxact') ORDER BY id;
SELECT version, state FROM migrate_status() WHERE version IN ('10', '11', '20') ORDER BY version;

-- The way the client does it still works, and the statement is attributed to the migration; the
-- DDL run between the calls is not.
SELECT max(id) AS audit_before FROM pgmig.ddl_audit \gset
SELECT migrate_nontx_begin('10') AS already_done;
CREATE TABLE stealth_between (id int);
CREATE INDEX CONCURRENTLY nt_a_idx ON nt (a);
CREATE TABLE stealth_after_statement (id int);
SELECT migrate_nontx_progress('10', 2);
SELECT migrate_nontx_progress('10', 1);
SELECT migrate_nontx_finish('10', '1s');
SELECT version, state FROM migrate_status() WHERE version = '10';
SELECT command_tag, object_identity, migration_version, policy FROM pgmig.ddl_audit
 WHERE id > :audit_before ORDER BY id;
-- Its down script, the same way.
SELECT migrate_nontx_begin('10', 'down') AS already_done;
SELECT migrate_nontx_finish('10', '1s', 'down');
DROP INDEX CONCURRENTLY IF EXISTS nt_a_idx;
SELECT migrate_nontx_finish('10', '1s', 'down');
SELECT version, state FROM migrate_status() WHERE version = '10';

-- Statements that are not utility statements are seen by the executor: an UPDATE in a
-- non-transactional migration counts once it ran at top level and its transaction committed.
SELECT migrate_register('30', 'backfill', E'UPDATE nt SET b = a;\nCREATE UNIQUE INDEX CONCURRENTLY nt_b_key ON nt (b);',
                        NULL, '{"transactional": false}') IS NOT NULL AS registered;
SELECT migrate_nontx_begin('30') AS already_done;
-- The same text nested in a DO block is not the client's top-level statement.
DO $$ BEGIN UPDATE nt SET b = a; END $$;
SELECT migrate_nontx_progress('30', 1);
BEGIN;
UPDATE nt SET b = a;
ROLLBACK;
SELECT migrate_nontx_progress('30', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_nontx_begin('30') AS already_done;
UPDATE nt SET b = a;
SELECT migrate_nontx_progress('30', 1);

-- A failed CREATE INDEX CONCURRENTLY leaves an invalid index; on resume the client drops it
-- (DROP INDEX CONCURRENTLY) before running the statement again: that drop belongs to the migration,
-- a drop of any other index does not.
SELECT max(id) AS audit_before FROM pgmig.ddl_audit \gset
INSERT INTO nt VALUES (3, 1);
CREATE UNIQUE INDEX CONCURRENTLY nt_b_key ON nt (b);
SELECT migrate_nontx_failed('30', 2, '23505', 'could not create unique index "nt_b_key"');
SELECT indisvalid FROM pg_index WHERE indexrelid = 'nt_b_key'::regclass;
DELETE FROM nt WHERE a = 3;
SELECT migrate_nontx_begin('30') AS already_done;
CREATE INDEX CONCURRENTLY nt_other_idx ON nt (a);
DROP INDEX CONCURRENTLY IF EXISTS public.nt_other_idx;
DROP INDEX CONCURRENTLY IF EXISTS public.nt_b_key;
CREATE UNIQUE INDEX CONCURRENTLY nt_b_key ON nt (b);
SELECT migrate_nontx_progress('30', 2);
SELECT migrate_nontx_finish('30', '1s');
SELECT version, state FROM migrate_status() WHERE version = '30';
SELECT event, command_tag, object_identity, migration_version FROM pgmig.ddl_audit
 WHERE id > :audit_before ORDER BY id;
SELECT pg_advisory_unlock(482771560807);

RESET ROLE;
RESET pgmig.out_of_band;
DROP EXTENSION pgmig;
DROP TABLE nt, stealth, stealth_after_unlock, stealth_rolled_back, stealth_subxact, stealth_between,
    stealth_after_statement;
REVOKE CREATE ON SCHEMA public FROM regress_nontx_admin;
DROP ROLE regress_nontx_admin;
