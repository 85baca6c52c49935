-- The way back from a broken audit chain: a superuser records the break with migrate_audit_reseal(reason).
-- The broken rows stay; a reseal row of its own (who, when, why, where the chain broke) starts a new sealed
-- segment; migrate_audit_verify() passes again and reports the break as resealed, and a later edit is
-- still caught. Nobody but a superuser may reseal.
\set SHOW_CONTEXT never
CREATE DATABASE regress_pgmig_audit_reseal;
\c regress_pgmig_audit_reseal
CREATE EXTENSION pgmig;
SET pgmig.audit_sealer = off;  -- rows are sealed where this test says
CREATE TABLE sealed_a (id int);
CREATE TABLE sealed_b (id int);
SELECT first_broken_id IS NULL AS intact, resealed FROM migrate_audit_verify();

-- An intact chain has nothing to reseal; a reason is required.
SELECT * FROM migrate_audit_reseal('just because');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_audit_reseal('  ');
\echo :LAST_ERROR_SQLSTATE

-- A superuser edits a row behind the guard: the chain is broken.
ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.sealed_a';
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;
SELECT o.object_identity AS first_broken, problem, resealed
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;

-- Who may reseal: not an ordinary role, not a pgmig_admin member, not the extension's owner when it is
-- no superuser (it owns the function, so EXECUTE is not what stops it).
CREATE ROLE regress_reseal_user;
CREATE ROLE regress_reseal_admin IN ROLE pgmig_admin;
CREATE ROLE regress_reseal_owner;
SET ROLE regress_reseal_user;
SELECT * FROM migrate_audit_reseal('I say so');
RESET ROLE;
SET ROLE regress_reseal_admin;
SELECT * FROM migrate_audit_reseal('I say so');
RESET ROLE;
UPDATE pg_extension SET extowner = 'regress_reseal_owner'::regrole WHERE extname = 'pgmig';
ALTER FUNCTION migrate_audit_reseal(text) OWNER TO regress_reseal_owner;
SET ROLE regress_reseal_owner;
SELECT * FROM migrate_audit_reseal('I own it');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
ALTER FUNCTION migrate_audit_reseal(text) OWNER TO CURRENT_USER;
UPDATE pg_extension SET extowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) WHERE extname = 'pgmig';
SELECT first_broken_id IS NOT NULL AS still_broken FROM migrate_audit_verify();

-- A superuser reseals: the break is recorded in an audit row of its own, nothing is deleted or rewritten.
SELECT count(*) AS rows_before FROM pgmig.ddl_audit \gset
SELECT o.object_identity AS first_broken, r.broken_links, r.problem
  FROM migrate_audit_reseal('row of sealed_a edited by hand during an incident; checked against the backup') r
  JOIN pgmig.ddl_audit o ON o.id = r.first_broken_id;
SELECT count(*) - :rows_before AS rows_added FROM pgmig.ddl_audit;
SELECT statement AS still_edited FROM pgmig.ddl_audit WHERE object_identity = 'public.sealed_a';
SELECT event, command_tag, session_user_name = current_user AS by_me, statement::jsonb ->> 'reason' AS reason,
       (statement::jsonb ->> 'first_broken_id')::bigint = (SELECT id FROM pgmig.ddl_audit
                                                           WHERE object_identity = 'public.sealed_a') AS names_the_break,
       chain_seq IS NOT NULL AS sealed
  FROM pgmig.ddl_audit WHERE event = 'audit_reseal';

-- The chain verifies again, and says that it was resealed.
SELECT first_broken_id IS NULL AS intact, jsonb_array_length(resealed) AS reseals,
       resealed -> 0 ->> 'reason' AS reason, resealed -> 0 ->> 'broken_links' AS broken_links,
       resealed -> 0 ->> 'resealed_by' = current_user AS by_me
  FROM migrate_audit_verify();
CREATE TABLE sealed_c (id int);
SELECT first_broken_id IS NULL AS intact_after_more_ddl, sealed > 0 AS sealed_more FROM migrate_audit_verify();

-- A new edit of the old segment is caught again (the reseal listed only the break it was given) ...
SELECT statement AS sealed_b_statement FROM pgmig.ddl_audit WHERE object_identity = 'public.sealed_b' \gset
ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
UPDATE pgmig.ddl_audit SET statement = 'nothing happened either' WHERE object_identity = 'public.sealed_b';
SELECT o.object_identity AS first_broken, jsonb_array_length(resealed) AS reseals
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
UPDATE pgmig.ddl_audit SET statement = :'sealed_b_statement' WHERE object_identity = 'public.sealed_b';
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;
SELECT first_broken_id IS NULL AS intact_again FROM migrate_audit_verify();
-- ... and the reseal row itself cannot be edited unseen.
ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
UPDATE pgmig.ddl_audit SET statement = replace(statement, 'incident', 'drill') WHERE event = 'audit_reseal';
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;
SELECT count(*) FILTER (WHERE v.first_broken_id = o.id) AS reseal_row_reported
  FROM migrate_audit_verify() v, pgmig.ddl_audit o WHERE o.event = 'audit_reseal';

\c contrib_regression
DROP DATABASE regress_pgmig_audit_reseal;
DROP ROLE regress_reseal_user;
DROP ROLE regress_reseal_admin;
DROP ROLE regress_reseal_owner;
