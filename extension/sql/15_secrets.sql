-- ==== secrets: what readers see of the scripts ====
-- A migration's scripts may hold secrets (CREATE ROLE ... PASSWORD '...'). Readers (pgmig_reader, and so
-- pgmig_approver) see redacted copies, kept by a trigger whenever a script is written (registration,
-- repair, or any direct UPDATE OF the scripts); the scripts themselves stay readable by pgmig_admin
-- only, who applies them (column privileges: keep the list below in step with pgmig.migrations).
ALTER TABLE pgmig.migrations ADD COLUMN up_sql_redacted text, ADD COLUMN down_sql_redacted text;
COMMENT ON COLUMN pgmig.migrations.up_sql_redacted IS 'up_sql with its secrets replaced (pgmig.redact): what readers see';
COMMENT ON COLUMN pgmig.migrations.down_sql_redacted IS 'down_sql with its secrets replaced (pgmig.redact): what readers see';
CREATE FUNCTION pgmig.redact_scripts() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    NEW.up_sql_redacted := pgmig.redact(NEW.up_sql);
    NEW.down_sql_redacted := pgmig.redact(NEW.down_sql);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION pgmig.redact_scripts() IS 'keeps pgmig.migrations.up_sql_redacted and down_sql_redacted';
CREATE TRIGGER migrations_redacted BEFORE INSERT OR UPDATE OF up_sql, down_sql ON pgmig.migrations
    FOR EACH ROW EXECUTE FUNCTION pgmig.redact_scripts();
-- Also under session_replication_role = replica: the copies never lag behind the scripts.
ALTER TABLE pgmig.migrations ENABLE ALWAYS TRIGGER migrations_redacted;
REVOKE SELECT ON pgmig.migrations FROM pgmig_reader;
GRANT SELECT (version, version_key, name, options, checksum, registered_at, registered_by, vouched_by, applied_at, applied_by,
              applied_checksum, duration, nontx_progress, up_sql_redacted, down_sql_redacted)
    ON pgmig.migrations TO pgmig_reader;
GRANT SELECT ON pgmig.migrations TO pgmig_admin;
-- pgmig validate: is a file only a cosmetic edit of the registered script? Answers without showing it.
CREATE FUNCTION pgmig.same_statements_as_registered(version text, script text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmig_same_statements_as_registered' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION pgmig.same_statements_as_registered(text, text) IS
    'true when script has the same statements as the registered up script of version (which it does not show)';
REVOKE ALL ON FUNCTION pgmig.same_statements_as_registered(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.same_statements_as_registered(text, text) TO pgmig_reader;
-- A non-transactional statement's error comes to the client from the server; masked with the statement's
-- secrets before the client prints or records it.
CREATE FUNCTION pgmig.redact_message(statement text, message text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgmig_redact_message' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.redact_message(text, text) IS
    'message with every secret value of statement (what pgmig.redact replaces) masked';

