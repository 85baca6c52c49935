-- pgmig 0.1.0: the migration ledger (schema pgmig) and its SQL API (in the extension's schema).
\echo Use "CREATE EXTENSION pgmig" to load this file. \quit

CREATE SCHEMA pgmig;
COMMENT ON SCHEMA pgmig IS 'pgmig ledger: written only through the migrate_* functions';

CREATE TABLE pgmig.migrations (
    version          text        NOT NULL,
    -- natural order of versions as bytes (see docs/sql-api.md); unique, so "1" and "001" collide
    version_key      bytea       NOT NULL,
    name             text        NOT NULL,
    up_sql           text        NOT NULL,
    down_sql         text,
    options          jsonb       NOT NULL DEFAULT '{}',
    checksum         text        NOT NULL,
    registered_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    registered_by    name        NOT NULL DEFAULT SESSION_USER,
    applied_at       timestamptz,
    applied_by       name,
    applied_checksum text,
    duration         interval,
    CONSTRAINT migrations_pkey PRIMARY KEY (version_key),
    CONSTRAINT migrations_options_object CHECK (pg_catalog.jsonb_typeof(options) = 'object'),
    CONSTRAINT migrations_applied_complete CHECK ((applied_at IS NULL) = (applied_checksum IS NULL))
);
COMMENT ON TABLE pgmig.migrations IS 'one row per registered migration; applied_at is set when it was applied';
REVOKE ALL ON pgmig.migrations FROM PUBLIC;

CREATE FUNCTION pgmig.script_checksum(script text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgmig_script_checksum'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.script_checksum(text) IS
    'SHA-256 of a script after normalising line endings, trailing whitespace and trailing blank lines';

CREATE FUNCTION migrate_register(version text, name text, up_sql text, down_sql text DEFAULT NULL,
                                 options jsonb DEFAULT '{}') RETURNS text
    AS 'MODULE_PATHNAME', 'migrate_register'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_register(text, text, text, text, jsonb) IS
    'stores a migration and returns its checksum; the same content again is a no-op';

CREATE FUNCTION migrate_apply(target text DEFAULT NULL, dry_run boolean DEFAULT false)
    RETURNS TABLE (version text, name text, action text, duration interval)
    AS 'MODULE_PATHNAME', 'migrate_apply'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_apply(text, boolean) IS
    'applies pending migrations in version order, all or nothing, under the ledger lock';

CREATE FUNCTION migrate_status()
    RETURNS TABLE (version text, name text, state text, checksum text, registered_at timestamptz,
                   applied_at timestamptz, applied_by name, duration interval)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT m.version, m.name,
           CASE WHEN m.applied_at IS NULL THEN 'pending'
                WHEN m.applied_checksum <> m.checksum
                  OR pgmig.script_checksum(m.up_sql) <> m.checksum THEN 'checksum_mismatch'
                ELSE 'applied' END,
           m.checksum, m.registered_at, m.applied_at, m.applied_by, m.duration
      FROM pgmig.migrations m
     ORDER BY m.version_key
    $$;
COMMENT ON FUNCTION migrate_status() IS 'every registered migration with its state, who applied it, when, how long';

-- Until roles arrive (pgmig_admin, pgmig_reader), the API is for superusers only.
REVOKE ALL ON FUNCTION migrate_register(text, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_apply(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_status() FROM PUBLIC;
