-- The audit trail is tamper-evident: rows are immutable, sealed into a hash chain, and an edit by
-- a superuser (who can switch the guard off) is reported at the first broken link.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SET pgmig.audit_sealer = off;  -- rows are sealed where this test says, so that its counts are exact
CREATE TABLE chained_a (id int);
CREATE TABLE chained_b (id int);
CREATE TABLE chained_c (id int);

-- Sealing: new rows get their place in the chain; a second call has nothing new to seal.
SELECT checked, sealed, first_broken_id, problem, length(chain_head) AS head_length FROM migrate_audit_verify();
SELECT checked, sealed, first_broken_id FROM migrate_audit_verify();
SELECT count(*) AS unsealed FROM pgmig.ddl_audit WHERE chain_seq IS NULL;

-- Nobody can change or delete audit rows, not even a superuser through SQL.
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.chained_b';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM pgmig.ddl_audit WHERE object_identity = 'public.chained_b';
TRUNCATE pgmig.ddl_audit;

-- A superuser can switch the guard off (that is DDL, audited too) and edit a row: the chain
-- reports the first broken link.
ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.chained_b';
SELECT checked, sealed, o.object_identity AS first_broken, problem
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
-- ... and deleting a row breaks the chain where it was.
UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE chained_b (id int)' WHERE object_identity = 'public.chained_b';
SELECT first_broken_id IS NULL AS intact_again FROM migrate_audit_verify();
DELETE FROM pgmig.ddl_audit WHERE object_identity = 'public.chained_b';
SELECT o.object_identity AS first_broken, problem
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;
SELECT command_tag, object_identity FROM pgmig.ddl_audit WHERE object_identity = 'pgmig.ddl_audit' ORDER BY id;

DROP EXTENSION pgmig;
DROP TABLE chained_a, chained_b, chained_c;
