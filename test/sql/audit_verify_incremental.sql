-- migrate_audit_verify() hashes again only the sealed rows of pages changed since it last found the chain
-- intact (pgmig.audit_verified says how far that was), so that pgmig health, which calls it on every
-- check, does not re-hash a long trail each time; whatever changed is still found, and reported as a walk
-- of the whole chain reports it. "rows read" below are the audit rows a call fetched, counted in a fresh
-- session (pg_stat_xact_user_tables).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE DATABASE regress_pgmig_incremental;
\c regress_pgmig_incremental
SET client_min_messages = warning;
ALTER DATABASE regress_pgmig_incremental SET pgmig.audit_sealer = off;  -- sealed where this test says
\c regress_pgmig_incremental
SET client_min_messages = warning;
CREATE EXTENSION pgmig;
-- Autovacuum would change pages whenever it came by, and the counts below would vary with it.
ALTER TABLE pgmig.ddl_audit SET (autovacuum_enabled = false);
-- 3,000 rows as the trail holds them, written directly; sealed, then the pages settled by VACUUM (which
-- changes them, as pruning does: the next call walks the chain whole and records how far it got).
INSERT INTO pgmig.ddl_audit (at, current_user_name, event, command_tag, statement, policy, object_type, object_identity)
SELECT pg_catalog.now() - interval '1 day' + g * interval '1 second', 'postgres', 'ddl_command_end', 'CREATE TABLE',
       'CREATE TABLE t_' || g || ' (id int)', 'log', 'table', 'public.t_' || g
  FROM pg_catalog.generate_series(1, 3000) g;
SELECT sealed >= 3000 AS sealed, first_broken_id FROM migrate_audit_verify();
VACUUM pgmig.ddl_audit;
SELECT checked >= 3000 AS checked, first_broken_id FROM migrate_audit_verify();
SELECT head_position >= 3000 AS recorded FROM pgmig.audit_verified;

-- Nothing changed since: the next call reads a handful of rows, not the chain.
\c regress_pgmig_incremental
BEGIN;
SELECT checked >= 3000 AS checked, first_broken_id FROM migrate_audit_verify();
SELECT idx_tup_fetch + seq_tup_read < 100 AS few_rows_read
  FROM pg_stat_xact_user_tables WHERE relid = 'pgmig.ddl_audit'::regclass;
COMMIT;

-- An edit of an old row (its page changes) is found at that row, with the walk's report; put back, the
-- chain is intact again.
ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.t_1234';
SELECT o.object_identity AS first_broken, problem
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE t_1234 (id int)' WHERE object_identity = 'public.t_1234';
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
-- An edit that seals the edited row again (its hash recomputed after it) passes at that row and is found
-- at the row after it, though that row's page did not change.
SELECT row_hash AS saved_hash FROM pgmig.ddl_audit WHERE object_identity = 'public.t_2000' \gset
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.t_2000';
UPDATE pgmig.ddl_audit a
   SET row_hash = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
           (SELECT p.row_hash FROM pgmig.ddl_audit p WHERE p.chain_seq = a.chain_seq - 1) || E'\n' ||
           pgmig.audit_row_text(a), 'UTF8')), 'hex')
 WHERE object_identity = 'public.t_2000';
SELECT o.object_identity AS first_broken, problem
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE t_2000 (id int)', row_hash = :'saved_hash'
 WHERE object_identity = 'public.t_2000';
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
-- A deleted row is found where it was; put back as it was, the chain is intact again.
CREATE TEMPORARY TABLE deleted AS SELECT * FROM pgmig.ddl_audit WHERE object_identity = 'public.t_2500';
DELETE FROM pgmig.ddl_audit WHERE object_identity = 'public.t_2500';
SELECT o.object_identity AS first_broken, problem
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
INSERT INTO pgmig.ddl_audit OVERRIDING SYSTEM VALUE SELECT * FROM deleted;
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
-- A copy of a row at the same position is found too; removed, the chain is intact again.
INSERT INTO pgmig.ddl_audit (at, current_user_name, event, command_tag, statement, policy, object_type,
                             object_identity, chain_seq, row_hash)
SELECT at, current_user_name, event, command_tag, statement, policy, object_type, 'public.copy', chain_seq, row_hash
  FROM pgmig.ddl_audit WHERE object_identity = 'public.t_100';
SELECT first_broken_id IS NOT NULL AS broken, problem FROM migrate_audit_verify();
DELETE FROM pgmig.ddl_audit WHERE object_identity = 'public.copy';
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;

-- What the record says is pgmig's alone: nobody writes it through SQL, a superuser neither.
UPDATE pgmig.audit_verified SET verified_through = 'FFFFFFFF/0';
INSERT INTO pgmig.audit_verified (one, storage, verified_through, head_position) VALUES (false, '', '0/0', 0);

-- Under REPEATABLE READ the snapshot may be older than the WAL point of the call: it verifies and
-- records nothing.
SELECT verified_through AS before_rr FROM pgmig.audit_verified \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
SELECT verified_through = :'before_rr' AS not_recorded FROM pgmig.audit_verified;
COMMIT;

-- Whether a call read the whole chain: the rows of the trail it fetched, in this (fresh) session.
\set whole_chain_read 'SELECT idx_tup_fetch + seq_tup_read >= 3000 AS whole_chain_read FROM pg_stat_xact_user_tables WHERE relid = ''pgmig.ddl_audit''::regclass;'
-- Asked for (whole => true), deleting the record, and after VACUUM FULL (a new file), the chain is walked
-- whole again, and found intact.
\c regress_pgmig_incremental
BEGIN;
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify(whole => true);
:whole_chain_read
COMMIT;
DELETE FROM pgmig.audit_verified;
\c regress_pgmig_incremental
BEGIN;
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
:whole_chain_read
COMMIT;
VACUUM FULL pgmig.ddl_audit;
\c regress_pgmig_incremental
BEGIN;
SELECT first_broken_id IS NULL AS intact FROM migrate_audit_verify();
:whole_chain_read
COMMIT;

\c contrib_regression
DROP DATABASE regress_pgmig_incremental;
