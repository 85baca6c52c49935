-- DDL on roles, databases and tablespaces fires no event trigger; pgmig's ProcessUtility hook
-- records it (and applies the out-of-band policy) wherever the library is loaded.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

CREATE ROLE regress_pgmig_shared LOGIN PASSWORD 's3cret-role-1' CREATEROLE;
ALTER ROLE regress_pgmig_shared WITH ENCRYPTED PASSWORD 's3cret-role-2';
ALTER ROLE regress_pgmig_shared SET work_mem = '8MB';
GRANT pgmig_reader TO regress_pgmig_shared;
CREATE DATABASE regress_pgmig_shared_db;
ALTER DATABASE regress_pgmig_shared_db RENAME TO regress_pgmig_shared_db2;
DROP DATABASE regress_pgmig_shared_db2;
SELECT event, command_tag, object_type, object_identity, statement, migration_version
  FROM pgmig.ddl_audit ORDER BY id;
SELECT count(*) AS rows_with_a_secret FROM pgmig.ddl_audit WHERE statement LIKE '%s3cret%';

-- In a migration: attributed to it, the password redacted there too.
SELECT migrate_register('1', 'app_role', $$CREATE ROLE regress_pgmig_app_role PASSWORD 's3cret-role-3'$$,
                        'DROP ROLE regress_pgmig_app_role;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT command_tag, object_identity, statement, migration_version FROM pgmig.ddl_audit
 WHERE object_identity = 'regress_pgmig_app_role';

-- The out-of-band policy covers them: with block, a role that is not pgmig_admin may not.
SET pgmig.out_of_band = block;
SET ROLE regress_pgmig_shared;
CREATE ROLE regress_pgmig_sneaky;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET pgmig.out_of_band;
SELECT count(*) AS sneaky_roles FROM pg_roles WHERE rolname = 'regress_pgmig_sneaky';

SELECT version, action FROM migrate_rollback();
DROP ROLE regress_pgmig_shared;
SELECT command_tag, object_identity FROM pgmig.ddl_audit ORDER BY id DESC LIMIT 2;
DROP EXTENSION pgmig;
-- Without pgmig in the database, the hook records nothing and changes nothing.
CREATE ROLE regress_pgmig_after;
DROP ROLE regress_pgmig_after;
