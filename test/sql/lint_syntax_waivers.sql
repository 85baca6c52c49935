-- Lint: syntax errors from the server's parser (a finding, not an error), waivers and options.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE TABLE lint_t (id bigint PRIMARY KEY, a int, b int);
CREATE FUNCTION lint(script text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line int, col int, waived boolean)
    LANGUAGE sql AS $$ SELECT rule, severity, line, col, waived FROM migrate_lint(script, options) $$;

-- syntax-error: the server's message, line and column (here line 3, column 8).
SELECT rule, severity, line, col, statement, message FROM migrate_lint('CREATE TABLE IF NOT EXISTS x (id int);
-- a comment
SELECT 1 FORM lint_t;');
SELECT rule, line, col, message FROM migrate_lint('ALTER TABLE lint_t ADD COLUMN é int NOT NULL, ADD COLUMN (;');
-- Negative: a script that parses has no syntax-error.
SELECT count(*) FROM migrate_lint('SELECT 1 FROM lint_t;') WHERE rule = 'syntax-error';

-- Waivers: a comment right before a statement waives it for that statement only...
SELECT * FROM lint('-- pgmig:allow drop-column
ALTER TABLE lint_t DROP COLUMN a;
ALTER TABLE lint_t DROP COLUMN b;');
-- ... a comment on the line where a statement ends, that statement...
SELECT * FROM lint('ALTER TABLE lint_t DROP COLUMN a; -- pgmig:allow drop-column -- unused since v2
ALTER TABLE lint_t DROP COLUMN b;');
-- ... a comment separated by a blank line (or after the last statement), the whole script,
SELECT * FROM lint('-- pgmig:allow drop-column, rename-column

ALTER TABLE lint_t DROP COLUMN a;
ALTER TABLE lint_t RENAME COLUMN b TO c;');
SELECT * FROM lint('ALTER TABLE lint_t DROP COLUMN a;
ALTER TABLE lint_t DROP COLUMN b;

-- pgmig:allow drop-column');
-- ... and so does the allow option.
SELECT * FROM lint('ALTER TABLE lint_t DROP COLUMN a;', '{"allow": ["drop-column"]}');
-- A waiver inside a string literal is not a comment.
SELECT * FROM lint('ALTER TABLE lint_t DROP COLUMN a; SELECT ''-- pgmig:allow drop-column'';');

-- Unknown rules and bad options are errors (PM016) that say what is known.
SELECT * FROM lint('-- pgmig:allow drop-colum
ALTER TABLE lint_t DROP COLUMN a;');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM lint('ALTER TABLE lint_t DROP COLUMN a;', '{"allow": ["no-such-rule"]}');
SELECT * FROM lint('SELECT 1;', '{"allow": "syntax-error"}');
SELECT * FROM lint('SELECT 1;', '{"transactional": "yes"}');
SELECT * FROM lint('SELECT 1;', '{"strict": true}');
SELECT * FROM lint('-- pgmig:allow
SELECT 1;');
\echo :LAST_ERROR_SQLSTATE
-- One reading of a waiver everywhere (the client's, for migration files, too): an empty item in the
-- list, or a rule run into pgmig:allow, is refused, not skipped...
SELECT * FROM lint('-- pgmig:allow drop-column,,rename-column
ALTER TABLE lint_t DROP COLUMN a;');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM lint('ALTER TABLE lint_t DROP COLUMN a; -- pgmig:allow drop-column,');
SELECT * FROM lint('-- pgmig:allowdrop-column
ALTER TABLE lint_t DROP COLUMN a;');
\echo :LAST_ERROR_SQLSTATE
-- ... and so is the same waiver in out-of-band DDL (here under pgmig.out_of_band = warn; inside the
-- statement: psql sends no comment after a ';').
CREATE TABLE lint_oob (id int, a int);
SET pgmig.out_of_band = warn;
SET lock_timeout = '2s';
ALTER TABLE lint_oob DROP COLUMN a -- pgmig:allow drop-column,
;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE lint_oob DROP COLUMN a -- pgmig:allow drop-column
;
RESET lock_timeout;
RESET pgmig.out_of_band;
DROP TABLE lint_oob;
-- A migration's allow option is checked when it is registered, not first when it is linted (PM016).
SELECT migrate_register('1', 'bad_waiver', 'ALTER TABLE lint_t DROP COLUMN a;', NULL, '{"allow": ["drop-colum"]}');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('1', 'bad_waiver', 'SELECT 1;', NULL, '{"allow": "syntax-error"}');
SELECT count(*) FROM pgmig.migrations;

-- Secrets never come back in the statement column.
SELECT statement FROM migrate_lint('CREATE USER MAPPING FOR current_user SERVER s OPTIONS (password ''hunter2'');
DROP USER MAPPING FOR current_user SERVER s;');

-- Readers may lint; the public may not.
CREATE ROLE regress_lint_reader IN ROLE pgmig_reader;
CREATE ROLE regress_lint_nobody;
SET ROLE regress_lint_reader;
SELECT count(*) FROM migrate_lint('SELECT 1;');
SET ROLE regress_lint_nobody;
SELECT count(*) FROM migrate_lint('SELECT 1;');
RESET ROLE;
DROP ROLE regress_lint_reader, regress_lint_nobody;

DROP FUNCTION lint(text, jsonb);
DROP TABLE lint_t;
DROP EXTENSION pgmig;
