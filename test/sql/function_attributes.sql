-- pgmig's functions pass the checks of PostgreSQL's own catalog sanity test (opr_sanity) that apply
-- to an extension: an IMMUTABLE function is PARALLEL SAFE, and there is no SECURITY DEFINER function
-- (opr_sanity lists them all). The few functions that act as the extension's owner switch user in C for
-- one fixed query; below, each one's callers get exactly what its grant promises and nothing more.
CREATE EXTENSION pgmig;
CREATE VIEW pgmig_functions AS
    SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.prosecdef, p.proconfig
      FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
     WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgmig');

-- opr_sanity: "Check that all immutable functions are marked parallel safe".
SELECT function FROM pgmig_functions WHERE provolatile = 'i' AND proparallel = 'u' ORDER BY function::text;

-- opr_sanity lists every SECURITY DEFINER function: none of pgmig's.
SELECT function, proconfig FROM pgmig_functions WHERE prosecdef ORDER BY function::text;
DROP VIEW pgmig_functions;

\set SHOW_CONTEXT never
CREATE ROLE regress_fa_nobody;
CREATE ROLE regress_fa_reader IN ROLE pgmig_reader;
CREATE ROLE regress_fa_admin IN ROLE pgmig_admin;
CREATE ROLE regress_fa_approver IN ROLE pgmig_approver;
SELECT migrate_register('1', 'secrets', $$CREATE ROLE regress_fa_app PASSWORD 'hunter2'$$) IS NOT NULL AS registered;
SELECT migrate_register('2', 'table', 'CREATE TABLE fa_t (id int)') IS NOT NULL AS registered;
-- Someone edits a stored script behind pgmig's back.
UPDATE pgmig.migrations SET up_sql = 'CREATE TABLE fa_t (id bigint)' WHERE version = '2';

-- A reader sees the edited row (as the owner hashes the scripts), never a script.
SET ROLE regress_fa_reader;
SELECT version, state FROM migrate_status();
SELECT version, problem FROM migrate_verify();
SELECT version_key = pgmig.migration_key('2', NULL) AS is_2, length(stored_checksum) AS checksum_length
  FROM pgmig.stored_script_checksums(pgmig.migration_key('2', NULL));
SELECT count(*) AS rows FROM pgmig.stored_script_checksums();
SELECT pgmig.same_statements_as_registered('1', $$CREATE ROLE regress_fa_app PASSWORD 'guess'$$) AS same_guess,
       pgmig.same_statements_as_registered('9', 'SELECT 1') AS unregistered;
SELECT up_sql FROM pgmig.migrations;
RESET ROLE;

-- A role outside pgmig_reader calls none of them, even once it may use the schema.
GRANT USAGE ON SCHEMA pgmig TO regress_fa_nobody;
SET ROLE regress_fa_nobody;
SELECT * FROM pgmig.stored_script_checksums();
SELECT pgmig.same_statements_as_registered('1', 'SELECT 1');
SELECT * FROM migrate_status();
SELECT * FROM migrate_approve('2', 'production');
SELECT migrate_record_deploy('production', 'succeeded', 'done');
RESET ROLE;

-- An approver records approvals only through migrate_approve, by session_user, and never writes the
-- table itself.
SET ROLE regress_fa_approver;
SELECT * FROM migrate_approve('2', 'production');  -- the edited row
INSERT INTO pgmig.approvals (version, version_key, name, checksum, environment, approved_by)
VALUES ('2', pgmig.migration_key('2', NULL), 'table', repeat('a', 64), 'production', 'someone_else');
RESET ROLE;
UPDATE pgmig.migrations SET up_sql = 'CREATE TABLE fa_t (id int)' WHERE version = '2';
SET ROLE regress_fa_approver;
SELECT approved_version, approved_name, approved_for, approved_by = session_user AS by_session_user
  FROM migrate_approve('2', 'production', expected_checksum => repeat('b', 64));
RESET ROLE;

-- An admin records deploy steps, by session_user, and never writes the history itself; lastval() stays
-- the caller's.
CREATE SEQUENCE fa_seq;
SELECT nextval('fa_seq');
SET ROLE regress_fa_admin;
SELECT migrate_record_deploy('production', 'succeeded', 'deployed') > 0 AS recorded;
SELECT migrate_record_deploy('', 'succeeded', 'deployed');
SELECT migrate_record_deploy('production', 'finished', 'deployed');
INSERT INTO pgmig.history (name, action) VALUES ('deploy production', 'deploy');
RESET ROLE;
SELECT lastval();
SELECT name, action, reason, message, current_user_name = session_user AS by_session_user
  FROM pgmig.history WHERE action = 'deploy';

DROP SEQUENCE fa_seq;
REVOKE USAGE ON SCHEMA pgmig FROM regress_fa_nobody;
DROP EXTENSION pgmig;
DROP ROLE regress_fa_nobody, regress_fa_reader, regress_fa_admin, regress_fa_approver;
