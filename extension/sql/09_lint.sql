-- ==== lint ====
-- Lint of migration SQL with the server's own parser and the live catalog (docs/reference.md,
-- "migrate_lint"). Read-only: readers may lint; pgmig.lint_block is policy, relaxed only by admins.
CREATE FUNCTION migrate_lint(sql text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line integer, col integer, statement text, message text,
                   object text, table_rows bigint, table_bytes bigint, waived boolean)
    AS 'MODULE_PATHNAME', 'migrate_lint'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION migrate_lint(text, jsonb) IS
    'findings on migration SQL: syntax errors, dangerous operations on existing tables (with their size), advice';
REVOKE ALL ON FUNCTION migrate_lint(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_lint(text, jsonb) TO pgmig_reader;
GRANT SET ON PARAMETER pgmig.lint_block TO pgmig_admin;
