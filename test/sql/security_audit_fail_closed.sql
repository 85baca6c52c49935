-- The audit fails closed: a DDL statement whose audit row cannot be written is refused (PM038),
-- unless a superuser chose pgmig.audit_failure = warn; cancels and timeouts always reach the
-- statement (tests/integration/security_audit_fail_closed_test.sh holds the lock from a second session).
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SET pgmig.audit_sealer = off;
SHOW pgmig.audit_failure;
CREATE ROLE regress_fail_closed_user;

-- A unique index on command_tag makes the second row of each command tag impossible to write.
CREATE UNIQUE INDEX regress_one_row_per_tag ON pgmig.ddl_audit (command_tag);
CREATE TABLE fail_closed_a (id int);
CREATE TABLE fail_closed_b (id int);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('fail_closed_b') IS NULL AS refused;
-- The same for DDL that the utility hook records (roles fire no event trigger).
CREATE ROLE regress_fail_closed_2;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS second_role FROM pg_roles WHERE rolname = 'regress_fail_closed_2';

-- A superuser may choose to let DDL through unaudited, with a WARNING.
SET pgmig.audit_failure = warn;
CREATE TABLE fail_closed_b (id int);
SELECT to_regclass('fail_closed_b') IS NOT NULL AS created_unaudited;
RESET pgmig.audit_failure;

-- Nobody else may.
SET ROLE regress_fail_closed_user;
SET pgmig.audit_failure = warn;
\echo :LAST_ERROR_SQLSTATE
SHOW pgmig.audit_failure;
RESET ROLE;

DROP INDEX pgmig.regress_one_row_per_tag;
DROP TABLE fail_closed_a, fail_closed_b;
DROP ROLE regress_fail_closed_user;
SELECT command_tag, object_identity FROM pgmig.ddl_audit ORDER BY id;
DROP EXTENSION pgmig;
