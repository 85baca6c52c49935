-- Out-of-band DDL: pgmig.out_of_band = log | warn | block.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_app LOGIN;
CREATE ROLE regress_pgmig_dba LOGIN IN ROLE pgmig_admin;
GRANT CREATE ON SCHEMA public TO regress_pgmig_app, regress_pgmig_dba;

-- log (the default): recorded, nothing said.
SET ROLE regress_pgmig_app;
CREATE TABLE app_log (id int);
RESET ROLE;

-- warn: recorded and warned, with the way to do it properly.
SET pgmig.out_of_band = warn;
SET ROLE regress_pgmig_app;
CREATE TABLE app_warn (id int);
RESET ROLE;

-- block: refused for roles that are not pgmig_admin, with how to ship it as a migration...
SET pgmig.out_of_band = block;
SET ROLE regress_pgmig_app;
CREATE TABLE app_block (id int);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE app_log ADD COLUMN note text;
-- ... temporary objects are the session's own business...
CREATE TEMP TABLE app_scratch (id int);
DROP TABLE app_scratch;
RESET ROLE;
-- ... and migrations still run, whoever applies them.
GRANT pgmig_admin TO regress_pgmig_app;
SET ROLE regress_pgmig_app;
SELECT migrate_register('1', 'via_migration', 'CREATE TABLE app_migrated (id int);') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
RESET ROLE;
REVOKE pgmig_admin FROM regress_pgmig_app;

-- As configured for real (ALTER DATABASE or ALTER ROLE ... SET, or postgresql.conf): an admin may
-- still run DDL by hand (warned), and may relax the policy for the session, an emergency escape
-- recorded with every statement it lets through.
ALTER ROLE regress_pgmig_dba SET pgmig.out_of_band = block;
ALTER ROLE regress_pgmig_app SET pgmig.out_of_band = block;
\c - regress_pgmig_dba
\set SHOW_CONTEXT never
CREATE TABLE dba_hand (id int);
SET pgmig.out_of_band = log;
CREATE TABLE dba_escape (id int);
-- An ordinary role cannot relax it.
\c - regress_pgmig_app
\set SHOW_CONTEXT never
SET pgmig.out_of_band = log;
CREATE TABLE app_after (id int);
\c - postgres
\set SHOW_CONTEXT never

SELECT command_tag, object_identity, current_user_name, migration_version, policy
  FROM pgmig.ddl_audit WHERE object_identity LIKE 'public.%' AND event = 'ddl_command_end' ORDER BY id;

RESET pgmig.out_of_band;
DROP TABLE app_log, app_warn, app_migrated, dba_hand, dba_escape;
REVOKE CREATE ON SCHEMA public FROM regress_pgmig_app, regress_pgmig_dba;
DROP EXTENSION pgmig;
ALTER ROLE regress_pgmig_dba RESET pgmig.out_of_band;
ALTER ROLE regress_pgmig_app RESET pgmig.out_of_band;
DROP ROLE regress_pgmig_app, regress_pgmig_dba;
