-- Lint, locking rules: VACUUM FULL, CLUSTER, LOCK TABLE, a migration without lock_timeout.
CREATE EXTENSION pgmig;
CREATE TABLE lint_items (id bigint PRIMARY KEY, n int);
INSERT INTO lint_items SELECT g, g FROM generate_series(1, 100) g;
ANALYZE lint_items;
CREATE FUNCTION lint(script text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line int, object text, table_rows bigint)
    LANGUAGE sql AS $$ SELECT rule, severity, line, object, table_rows FROM migrate_lint(script, options) $$;

-- Positive.
SELECT * FROM lint('VACUUM FULL lint_items;
CLUSTER lint_items USING lint_items_pkey;
LOCK TABLE lint_items IN SHARE MODE;');
-- Negative: plain VACUUM, and LOCK on a table of the script.
SELECT * FROM lint('VACUUM lint_items;
CREATE TABLE IF NOT EXISTS lint_new (id bigint);
LOCK TABLE lint_new;');

-- missing-lock-timeout: pgmig.lock_timeout (5s by default) is applied by migrate_apply and pgmig
-- apply, so it only fires when that is 0 (and the migration's lock_timeout option is not set)...
SHOW pgmig.lock_timeout;
SELECT * FROM lint('ALTER TABLE lint_items ADD COLUMN m int;');
SET pgmig.lock_timeout = 0;
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_new (id bigint);
ALTER TABLE lint_new ADD COLUMN m int;
ALTER TABLE lint_items ADD COLUMN m int;
ALTER TABLE lint_items ADD COLUMN o int;');
-- ... and not when the migration sets lock_timeout before locking, or has the option.
SELECT * FROM lint('SET lock_timeout = ''2s'';
ALTER TABLE lint_items ADD COLUMN m int;');
SELECT * FROM lint('ALTER TABLE lint_items ADD COLUMN m int;', '{"lock_timeout": "3s"}');
-- SET lock_timeout = 0 turns it off again.
SELECT * FROM lint('SET lock_timeout = 0;
ALTER TABLE lint_items ADD COLUMN m int;');
RESET pgmig.lock_timeout;

DROP FUNCTION lint(text, jsonb);
DROP TABLE lint_items;
DROP EXTENSION pgmig;
