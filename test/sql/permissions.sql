-- Who may do what: ordinary roles nothing; pgmig_reader reads; pgmig_admin applies and rolls
-- back, but even an admin cannot write the ledger tables directly.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_user LOGIN;
CREATE ROLE regress_pgmig_reader LOGIN IN ROLE pgmig_reader;
CREATE ROLE regress_pgmig_admin LOGIN IN ROLE pgmig_admin;
GRANT CREATE ON SCHEMA public TO regress_pgmig_user, regress_pgmig_admin;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_pgmig_admin', current_database()); END $$;

-- An ordinary role.
SET ROLE regress_pgmig_user;
SELECT migrate_register('1', 'sneaky', 'CREATE TABLE sneaky (id int);');
SELECT * FROM migrate_apply();
SELECT * FROM migrate_status();
SELECT count(*) FROM pgmig.migrations;
INSERT INTO pgmig.migrations (version, version_key, name, up_sql, checksum, registered_by)
    VALUES ('1', '\x0131', 'x', 'y', 'z', 'me');
SELECT count(*) FROM pgmig.ddl_audit;
RESET ROLE;

-- An admin: registers, applies (the migration runs as the admin), rolls back.
SET ROLE regress_pgmig_admin;
SELECT migrate_register('1', 'notes', 'CREATE TABLE notes (id int);', 'DROP TABLE notes;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT tableowner FROM pg_tables WHERE tablename = 'notes';
SELECT version, state, applied_by FROM migrate_status();
SELECT version, action, current_user_name, session_user_name FROM pgmig.history;
-- ... but cannot write the ledger, its history or the audit trail directly.
UPDATE pgmig.migrations SET applied_at = NULL;
DELETE FROM pgmig.history;
UPDATE pgmig.ddl_audit SET statement = NULL;
INSERT INTO pgmig.ddl_audit (event, command_tag, current_user_name, policy) VALUES ('forged', 'x', 'me', 'log');
-- ... nor borrow the ledger owner's rights: the ledger writes run as the owner with search_path
-- pinned, so an operator planted first in the admin's search_path is never called by them.
CREATE SCHEMA regress_evil;
CREATE FUNCTION regress_evil.byteaeq(bytea, bytea) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_user <> 'regress_pgmig_admin' THEN
        RAISE NOTICE 'planted code ran as %', current_user;
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR regress_evil.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = regress_evil.byteaeq);
SET search_path = regress_evil, pg_catalog, public;
SELECT version, action FROM migrate_rollback();
RESET search_path;
DROP SCHEMA regress_evil CASCADE;
RESET ROLE;

-- A reader: status, verify and the tables, read-only.
SET ROLE regress_pgmig_reader;
SELECT version, state FROM migrate_status();
SELECT count(*) AS problems FROM migrate_verify();
SELECT count(*) AS history_rows FROM pgmig.history;
SELECT count(*) > 0 AS can_read_audit FROM pgmig.ddl_audit;
SELECT * FROM migrate_apply();
DELETE FROM pgmig.history;
DELETE FROM pgmig.ddl_audit;
RESET ROLE;

-- A role given nothing may call none of the extension's functions outside schema pgmig, and cannot reach
-- that schema (its functions there are called by the others, as the caller or as the ledger's owner).
SELECT p.oid::regprocedure AS callable_by_anyone
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pgmig'
 WHERE p.pronamespace <> 'pgmig'::regnamespace AND has_function_privilege('regress_pgmig_user', p.oid, 'EXECUTE')
 ORDER BY 1;
SELECT has_schema_privilege('regress_pgmig_user', 'pgmig', 'USAGE') AS user_reaches_pgmig_schema;
SET ROLE regress_pgmig_reader;
SELECT count(*) >= 0 AS reader_sees_drift FROM migrate_drift();
SELECT length(migrate_fingerprint()) AS reader_fingerprint_length;
RESET ROLE;

SELECT count(*) AS registered FROM pgmig.migrations;
REVOKE CREATE ON SCHEMA public FROM regress_pgmig_user, regress_pgmig_admin;
DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM regress_pgmig_admin', current_database()); END $$;
DROP EXTENSION pgmig;
DROP ROLE regress_pgmig_user, regress_pgmig_reader, regress_pgmig_admin;
