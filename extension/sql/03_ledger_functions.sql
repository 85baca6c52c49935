CREATE FUNCTION pgmig.script_checksum(script text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgmig_script_checksum'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.script_checksum(text) IS
    'SHA-256 of a script after normalising line endings, trailing whitespace and trailing blank lines';

CREATE FUNCTION pgmig.same_statements(a text, b text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmig_same_statements'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.same_statements(text, text) IS
    'true when two scripts parse to the same statements (they differ only in whitespace, comments, case)';

-- The readers' views of the ledger (migrate_status, migrate_verify) show a row edited outside pgmig: its
-- stored script no longer hashes to its checksum. Readers may not read the scripts (they can hold secrets):
-- this function reads them as the extension's owner and returns only their checksums. pgmig has no
-- SECURITY DEFINER function: the few that act as the owner switch user in C for one fixed query.
CREATE FUNCTION pgmig.stored_script_checksums(only_key bytea DEFAULT NULL)
    RETURNS TABLE (version_key bytea, stored_checksum text)
    AS 'MODULE_PATHNAME', 'pgmig_stored_script_checksums' LANGUAGE C STABLE;
COMMENT ON FUNCTION pgmig.stored_script_checksums(bytea) IS
    'the checksum of each registered up script as stored (of one, given its version_key); not the script';
REVOKE ALL ON FUNCTION pgmig.stored_script_checksums(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.stored_script_checksums(bytea) TO pgmig_reader;

-- The same, for the rows whose stored script does not hash to their checksum only (none in a healthy
-- ledger): what migrate_status() and migrate_verify() need, without a row per migration to join back.
CREATE FUNCTION pgmig.tampered_scripts()
    RETURNS TABLE (version_key bytea, stored_checksum text)
    AS 'MODULE_PATHNAME', 'pgmig_tampered_scripts' LANGUAGE C STABLE ROWS 1;
COMMENT ON FUNCTION pgmig.tampered_scripts() IS
    'the registered up scripts that no longer hash to their checksum (edited outside pgmig), with what they hash to';
REVOKE ALL ON FUNCTION pgmig.tampered_scripts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.tampered_scripts() TO pgmig_reader;

CREATE FUNCTION migrate_register(version text, name text, up_sql text, down_sql text DEFAULT NULL,
                                 options jsonb DEFAULT '{}') RETURNS text
    AS 'MODULE_PATHNAME', 'migrate_register'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_register(text, text, text, text, jsonb) IS
    'stores a migration and returns its checksum; the same content again is a no-op';

-- trust: run scripts although no role with the caller's rights vouched for them; require_approvals and
-- environment: approvals each migration needs (at least pgmig.require_approval) and whose count.
CREATE FUNCTION migrate_apply(target text DEFAULT NULL, dry_run boolean DEFAULT false, trust boolean DEFAULT false,
                              require_approvals integer DEFAULT 0, environment text DEFAULT NULL)
    RETURNS TABLE (version text, name text, action text, duration interval, report jsonb)
    AS 'MODULE_PATHNAME', 'migrate_apply'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_apply(text, boolean, boolean, integer, text) IS
    'applies pending migrations in version order, all or nothing, under the ledger lock';

-- dry_run: rehearse the down scripts in a subtransaction that is always rolled back, as migrate_plan()
-- rehearses the up scripts; report (NULL on real runs) says what each would do, drop and lock.
CREATE FUNCTION migrate_rollback(steps integer DEFAULT 1, trust boolean DEFAULT false, dry_run boolean DEFAULT false)
    RETURNS TABLE (version text, name text, action text, duration interval, report jsonb)
    AS 'MODULE_PATHNAME', 'migrate_rollback'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_rollback(integer, boolean, boolean) IS
    'runs the down scripts of the newest applied migrations, newest first, all or nothing (or rehearses them)';

CREATE FUNCTION migrate_rollback_to(version text, trust boolean DEFAULT false, dry_run boolean DEFAULT false)
    RETURNS TABLE (version text, name text, action text, duration interval, report jsonb)
    AS 'MODULE_PATHNAME', 'migrate_rollback_to'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_rollback_to(text, boolean, boolean) IS
    'rolls back every applied migration newer than version (''0'' rolls back all), all or nothing (or rehearses it)';

CREATE FUNCTION migrate_repair(version text, up_sql text DEFAULT NULL, reason text DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'migrate_repair'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_repair(text, text, text) IS
    'accepts the given (or the stored) up script as the truth for a migration, recorded with who and why';

CREATE FUNCTION migrate_baseline(version text)
    RETURNS TABLE (version text, name text, action text, duration interval)
    AS 'MODULE_PATHNAME', 'migrate_baseline'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_baseline(text) IS
    'marks the registered migrations up to version as applied without running them';

-- Non-transactional migrations: the client runs them statement by statement, on a connection
-- that holds the session-level ledger lock, and records progress after every statement.
CREATE FUNCTION pgmig.split_statements(script text)
    RETURNS TABLE (n integer, line integer, statement text, needs_no_transaction text)
    AS 'MODULE_PATHNAME', 'pgmig_split_statements'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.split_statements(text) IS
    'the statements of a script as PostgreSQL parses them, with their lines';

CREATE FUNCTION migrate_nontx_begin(version text, direction text DEFAULT 'up', trust boolean DEFAULT false,
                                    require_approvals integer DEFAULT 0, environment text DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'migrate_nontx_begin' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_nontx_begin(text, text, boolean, integer, text) IS
    'starts (or resumes) applying a non-transactional migration (up; returns the statements already done), or starts rolling it back (down; returns 0)';
CREATE FUNCTION migrate_nontx_adopt_index(version text, n integer) RETURNS regclass
    AS 'MODULE_PATHNAME', 'migrate_nontx_adopt_index' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_nontx_adopt_index(text, integer) IS
    'on resume: records statement n (CREATE INDEX CONCURRENTLY) as done when its valid index of the same definition is there (built after its client died); returns it, or NULL';

CREATE FUNCTION migrate_nontx_progress(version text, done integer) RETURNS void
    AS 'MODULE_PATHNAME', 'migrate_nontx_progress' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_nontx_progress(text, integer) IS
    'records that the first done statements of a non-transactional migration are complete';
CREATE FUNCTION migrate_nontx_finish(version text, duration interval, direction text DEFAULT 'up') RETURNS void
    AS 'MODULE_PATHNAME', 'migrate_nontx_finish' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_nontx_finish(text, interval, text) IS
    'marks a non-transactional migration applied (direction up) or rolled back (down)';
CREATE FUNCTION migrate_nontx_failed(version text, statement integer, sqlstate text, message text,
                                     direction text DEFAULT 'up') RETURNS void
    AS 'MODULE_PATHNAME', 'migrate_nontx_failed' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_nontx_failed(text, integer, text, text, text) IS
    'records in the history that a statement of a non-transactional migration failed (up or down script)';

CREATE FUNCTION migrate_status()
    RETURNS TABLE (version text, name text, state text, checksum text, registered_at timestamptz,
                   applied_at timestamptz, applied_by name, duration interval, kind text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH newest AS (   -- bytea has no max()
        SELECT (SELECT version_key FROM pgmig.migrations WHERE version IS NOT NULL AND applied_at IS NOT NULL
                 ORDER BY version_key DESC LIMIT 1) AS key
    ), tampered AS (   -- one array, usually empty: the rows are read in key order, in one index scan
        SELECT coalesce(array_agg(t.version_key), '{}') AS keys FROM pgmig.tampered_scripts() t
    )
    SELECT m.version, m.name,
           CASE WHEN m.version_key = ANY (tampered.keys)
                  OR (m.version IS NOT NULL AND m.applied_checksum <> m.checksum) THEN 'checksum_mismatch'
                WHEN m.nontx_progress IS NOT NULL THEN 'in_progress'
                WHEN m.version IS NULL THEN
                     CASE WHEN m.applied_checksum IS NOT DISTINCT FROM m.checksum THEN 'applied' ELSE 'pending' END
                WHEN m.applied_at IS NOT NULL THEN 'applied'
                WHEN m.version_key < newest.key THEN 'out_of_order'
                ELSE 'pending' END,
           m.checksum, m.registered_at, m.applied_at, m.applied_by, m.duration,
           CASE WHEN m.version IS NULL THEN 'repeatable' ELSE 'versioned' END
      FROM pgmig.migrations m CROSS JOIN newest CROSS JOIN tampered
     ORDER BY m.version_key
    $$;
COMMENT ON FUNCTION migrate_status() IS
    'every registered migration with its state (pending, applied, out_of_order, in_progress, checksum_mismatch)';

CREATE FUNCTION migrate_verify()
    RETURNS TABLE (version text, name text, problem text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH last_truth AS (   -- the checksum history last recorded as applied, per version
        SELECT DISTINCT ON (h.version) h.version, h.checksum
          FROM pgmig.history h
         WHERE h.action IN ('apply', 'baseline', 'adopt', 'repair', 'cosmetic_edit', 'rollback') AND h.version IS NOT NULL
         ORDER BY h.version, h.id DESC
    ), problems AS (
        SELECT m.version_key, m.version, m.name, 'script_changed' AS problem,
               format('the stored up script hashes to %s, not to its checksum %s: the ledger row was edited',
                      s.stored_checksum, m.checksum) AS detail
          FROM pgmig.migrations m JOIN pgmig.tampered_scripts() s ON s.version_key = m.version_key
        UNION ALL
        SELECT m.version_key, m.version, m.name, 'checksum_changed',
               format('applied with checksum %s, registered now with %s', m.applied_checksum, m.checksum)
          FROM pgmig.migrations m
         WHERE m.version IS NOT NULL AND m.applied_checksum <> m.checksum
        UNION ALL
        SELECT m.version_key, m.version, m.name, 'history_mismatch',
               CASE WHEN t.version IS NULL THEN 'applied, but pgmig.history has no record of it'
                    ELSE format('history last recorded checksum %s, the ledger says %s', t.checksum,
                                m.applied_checksum) END
          FROM pgmig.migrations m LEFT JOIN last_truth t ON t.version = m.version
         WHERE m.version IS NOT NULL AND m.applied_at IS NOT NULL
           AND t.checksum IS DISTINCT FROM m.applied_checksum
        UNION ALL
        SELECT m.version_key, m.version, m.name, 'interrupted',
               format('a non-transactional run stopped after statement %s; run pgmig apply to resume',
                      m.nontx_progress)
          FROM pgmig.migrations m
         WHERE m.nontx_progress IS NOT NULL
    )
    SELECT version, name, problem, detail FROM problems ORDER BY version_key, problem
    $$;
COMMENT ON FUNCTION migrate_verify() IS
    'integrity problems of the ledger: edited rows, checksum mismatches, history gaps; no rows = healthy';

