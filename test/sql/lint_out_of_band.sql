-- Out-of-band DDL is linted when pgmig.out_of_band is warn or block (never under log, the default).
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_lint_app;
CREATE ROLE regress_lint_dba IN ROLE pgmig_admin, regress_lint_app;
GRANT CREATE ON SCHEMA public TO regress_lint_app, regress_lint_dba;
CREATE TABLE lint_live (id bigint PRIMARY KEY, note text);
INSERT INTO lint_live SELECT g, 'n' FROM generate_series(1, 50) g;
ANALYZE lint_live;
ALTER TABLE lint_live OWNER TO regress_lint_app;

-- log: no lint, no warning.
SET ROLE regress_lint_app;
ALTER TABLE lint_live ADD COLUMN a int NOT NULL DEFAULT 0;
RESET ROLE;

-- warn: one WARNING per finding, with the table's size; a clean statement gets only the policy warning.
SET pgmig.out_of_band = warn;
SET ROLE regress_lint_app;
ALTER TABLE lint_live ADD COLUMN b int NOT NULL;
-- With lock_timeout set (the safe way to run DDL by hand), a clean statement only gets the policy warning.
SET lock_timeout = '2s';
ALTER TABLE lint_live ADD COLUMN c int;
-- A comment in the query waives a reviewed finding (inside the statement: psql sends no comment after a ';').
ALTER TABLE lint_live DROP COLUMN c -- pgmig:allow drop-column
;
RESET ROLE;

-- block: refused for ordinary roles anyway, the findings in the detail...
SET pgmig.out_of_band = block;
SET ROLE regress_lint_app;
ALTER TABLE lint_live DROP COLUMN a;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- ... and for pgmig_admin, whose hand-run DDL passes, error findings refuse it (PM018)...
SET ROLE regress_lint_dba;
CREATE INDEX lint_live_note ON lint_live (note);
\echo :LAST_ERROR_SQLSTATE
-- ... unless waived, or clean.
CREATE INDEX lint_live_note ON lint_live (note) -- pgmig:allow create-index-not-concurrently
;
CREATE TABLE lint_dba (id bigint);
RESET ROLE;
SELECT to_regclass('lint_live_note') IS NOT NULL AS index_built;

-- Migrations are not out of band: no lint on that path (pgmig.lint_block does that).
SELECT migrate_register('1', 'drop', 'ALTER TABLE lint_live DROP COLUMN a;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();

RESET pgmig.out_of_band;
RESET lock_timeout;
DROP TABLE lint_live, lint_dba;
REVOKE CREATE ON SCHEMA public FROM regress_lint_app, regress_lint_dba;
DROP EXTENSION pgmig;
DROP ROLE regress_lint_app, regress_lint_dba;
