-- Lint, index rules: CREATE / DROP INDEX without CONCURRENTLY, CONCURRENTLY in a transactional migration.
CREATE EXTENSION pgmig;
CREATE TABLE lint_events (id bigint, kind text);
INSERT INTO lint_events SELECT g, 'k' FROM generate_series(1, 200) g;
ANALYZE lint_events;
CREATE INDEX lint_events_kind ON lint_events (kind);
CREATE FUNCTION lint(script text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line int, object text, table_rows bigint)
    LANGUAGE sql AS $$ SELECT rule, severity, line, object, table_rows FROM migrate_lint(script, options) $$;

-- create-index-not-concurrently on an existing table (its size shown)...
SELECT * FROM lint('CREATE INDEX IF NOT EXISTS lint_events_id ON lint_events (id);');
-- ... not on a table created in the same script.
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_new (id bigint);
CREATE INDEX IF NOT EXISTS lint_new_id ON lint_new (id);');

-- drop-index-not-concurrently on an existing index...
SELECT * FROM lint('DROP INDEX IF EXISTS lint_events_kind;');
-- ... not for an index created in the same script, nor CONCURRENTLY in a non-transactional one.
SELECT * FROM lint('CREATE INDEX CONCURRENTLY IF NOT EXISTS lint_tmp ON lint_events (id);
DROP INDEX CONCURRENTLY IF EXISTS lint_events_kind;', '{"transactional": false}');
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_new (id bigint);
CREATE INDEX IF NOT EXISTS lint_new_id ON lint_new (id);
DROP INDEX IF EXISTS lint_new_id;');

-- concurrently-in-transaction: migrate_apply runs migrations in a transaction (the default)...
SELECT * FROM lint('CREATE INDEX CONCURRENTLY IF NOT EXISTS lint_events_id ON lint_events (id);
DROP INDEX CONCURRENTLY IF EXISTS lint_events_kind;');
-- ... not in a migration marked non-transactional (shown above), which the client applies.
SELECT message FROM migrate_lint('CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON lint_events (id);');

DROP FUNCTION lint(text, jsonb);
DROP TABLE lint_events;
DROP EXTENSION pgmig;
