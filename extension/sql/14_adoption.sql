-- ==== adopting another tool's history (pgmig adopt) ====
-- The history tables of the migration tools pgmig adopts from, found by name in every schema (and why a
-- table of that name is not one), and the takeover itself: it reads the tool's table as the table's owner
-- inside a security-restricted operation, only when the caller may read all of it, and marks exactly the
-- migrations it records as applied, with the time and user the tool recorded (pgmig.history keeps who
-- adopted, and from which table). Granted like migrate_baseline: what it marks applied is the files the
-- caller registered, which a pgmig_admin can baseline anyway; the recorded time and user come only from
-- the tool's table, never from the caller.
CREATE FUNCTION migrate_adopt_sources() RETURNS TABLE (tool text, source text, problem text)
    AS 'MODULE_PATHNAME', 'migrate_adopt_sources' LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate_adopt_sources() IS
    'the tables named like a migration tool''s history table, with why one is not (NULL when it is)';
CREATE FUNCTION migrate_adopt(tool text, files jsonb, apply boolean DEFAULT false, source text DEFAULT NULL)
    RETURNS TABLE (version text, name text, tool_id text, state text, applied_at timestamptz, applied_by text,
                   detail text)
    AS 'MODULE_PATHNAME', 'migrate_adopt' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_adopt(text, jsonb, boolean, text) IS
    'the plan of taking over a migration tool''s history for the given files; with apply, marks what the tool recorded as applied';
REVOKE ALL ON FUNCTION migrate_adopt_sources(), migrate_adopt(text, jsonb, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_adopt_sources(), migrate_adopt(text, jsonb, boolean, text) TO pgmig_admin;

