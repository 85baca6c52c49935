-- The ledger is not for everyone: ordinary roles can neither use the API nor touch the tables.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_user LOGIN;
GRANT CREATE ON SCHEMA public TO regress_pgmig_user;
SET ROLE regress_pgmig_user;
SELECT migrate_register('1', 'sneaky', 'CREATE TABLE sneaky (id int);');
SELECT * FROM migrate_apply();
SELECT * FROM migrate_status();
SELECT count(*) FROM pgmig.migrations;
INSERT INTO pgmig.migrations (version, version_key, name, up_sql, checksum) VALUES ('1', '\x0131', 'x', 'y', 'z');
RESET ROLE;
SELECT count(*) AS registered FROM pgmig.migrations;
REVOKE CREATE ON SCHEMA public FROM regress_pgmig_user;
DROP ROLE regress_pgmig_user;
DROP EXTENSION pgmig;
