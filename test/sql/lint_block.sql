-- pgmig.lint_block: unwaived findings at or above the threshold stop migrate_apply() before it runs anything.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE TABLE lint_big (id bigint PRIMARY KEY, old text);
INSERT INTO lint_big SELECT g, 'x' FROM generate_series(1, 100) g;
ANALYZE lint_big;

SHOW pgmig.lint_block;
SELECT migrate_register('1', 'safe', 'CREATE TABLE IF NOT EXISTS lint_fresh (id bigint);') IS NOT NULL AS registered;
SELECT migrate_register('2', 'drop_old', 'ALTER TABLE lint_big ADD COLUMN IF NOT EXISTS n int;
ALTER TABLE lint_big DROP COLUMN old;') IS NOT NULL AS registered;

-- In production: error findings block; nothing was run, not even migration 1.
SET pgmig.lint_block = error;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('lint_fresh') IS NULL AS nothing_ran;
-- A dry run is not blocked (it changes nothing).
SELECT version, action FROM migrate_apply(dry_run => true);

-- Waived in the migration (the reviewed way): applied.
SELECT migrate_register('2', 'drop_old', 'ALTER TABLE lint_big ADD COLUMN IF NOT EXISTS n int;
-- pgmig:allow drop-column
ALTER TABLE lint_big DROP COLUMN old;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();

-- Waived by the migration's allow option: applied.
SELECT migrate_register('3', 'drop_n', 'ALTER TABLE lint_big DROP COLUMN n;', NULL, '{"allow": ["drop-column"]}')
    IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();

-- warning also blocks warnings (rename-column).
SET pgmig.lint_block = warning;
SELECT migrate_register('4', 'rename', 'ALTER TABLE lint_big RENAME COLUMN id TO big_id;') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
-- error lets warnings pass.
SET pgmig.lint_block = error;
SELECT version, action FROM migrate_apply();

-- off (the default): nothing is checked.
RESET pgmig.lint_block;
SELECT migrate_register('5', 'truncate', 'TRUNCATE lint_big;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();

-- Only superusers and pgmig_admin may change it.
CREATE ROLE regress_lint_app;
SET ROLE regress_lint_app;
SET pgmig.lint_block = off;
RESET ROLE;
DROP ROLE regress_lint_app;

DROP TABLE lint_big, lint_fresh;
DROP EXTENSION pgmig;
