-- ==== approvals ====
-- Four-eyes approvals: a role approves the exact checksum of a migration's up script (versioned or
-- repeatable) for an environment. An approval counts for a migration when it is of its current checksum,
-- for the environment, by a role other than its registrant (pgmig.migrations.registered_by, the role that
-- registered that up script); pgmig.approvers() is that rule, used by migrate_apply() (which refuses what
-- lacks the approvals pgmig.require_approval or its caller requires, after the ledger lock) and by
-- migrate_approval_check(). A checksum may be approved before it is registered: the approval counts once
-- that exact script is registered. Approvals are recorded by session_user (the role that logged in), never
-- current_user, so neither SECURITY DEFINER code nor SET ROLE lets anyone approve as someone else.
-- Rows are written only by migrate_approve() (as the extension's owner, in C) and never changed: an approval of an
-- old checksum simply stops counting once the script changes.
DO $approver$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'pgmig_approver') THEN
        CREATE ROLE pgmig_approver NOLOGIN;
    END IF;
END
$approver$;
COMMENT ON ROLE pgmig_approver IS 'pgmig: may approve pending migrations for an environment (four-eyes)';
GRANT pgmig_reader TO pgmig_approver;

CREATE TABLE pgmig.approvals (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version           text,                   -- NULL for a repeatable migration
    version_key       bytea       NOT NULL,   -- the ledger's key (pgmig.migration_key): 1 and 001 are one
    name              text        NOT NULL,
    checksum          text        NOT NULL,   -- the up script's checksum the approver approved
    environment       text        NOT NULL CHECK (environment OPERATOR(pg_catalog.<>) ''),
    approved_by       name        NOT NULL DEFAULT SESSION_USER,
    approved_at       timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    application_name  text        DEFAULT pg_catalog.current_setting('application_name'),
    client_addr       inet        DEFAULT pg_catalog.inet_client_addr()
);
COMMENT ON TABLE pgmig.approvals IS 'one row per approval of a migration''s checksum for an environment; append-only';
CREATE INDEX approvals_key_checksum ON pgmig.approvals (version_key, checksum, environment);
REVOKE ALL ON pgmig.approvals FROM PUBLIC;
GRANT SELECT ON pgmig.approvals TO pgmig_reader;

CREATE FUNCTION pgmig.migration_key(version text, name text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pgmig_migration_key'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.migration_key(text, text) IS
    'the ledger''s key of a migration: of its version, or of its name when version is NULL (repeatable)';

-- The one rule: the distinct roles whose approvals count for a migration with this key and current
-- checksum, registered by registrant, in environment.
CREATE FUNCTION pgmig.approvers(environment text, version_key bytea, checksum text, registrant name)
    RETURNS name[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(pg_catalog.array_agg(DISTINCT a.approved_by ORDER BY a.approved_by), '{}')
      FROM pgmig.approvals a
     WHERE a.environment OPERATOR(pg_catalog.=) $1 AND a.version_key OPERATOR(pg_catalog.=) $2
       AND a.checksum OPERATOR(pg_catalog.=) $3 AND a.approved_by OPERATOR(pg_catalog.<>) $4
    $$;
COMMENT ON FUNCTION pgmig.approvers(text, bytea, text, name) IS
    'the roles other than the registrant that approved this checksum of a migration for an environment';

CREATE FUNCTION migrate_approve(version text, environment text, expected_checksum text DEFAULT NULL,
                                name text DEFAULT NULL)
    RETURNS TABLE (approved_version text, approved_name text, approved_checksum text, approved_for text,
                   approved_by name, approved_at timestamptz)
    AS 'MODULE_PATHNAME', 'migrate_approve' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_approve(text, text, text, text) IS
    'records that session_user approves the checksum of a pending (or not yet registered) migration for an environment';

-- What a deploy to environment would need approved: without files, every migration migrate_apply() would
-- run; with files (a jsonb array of {version, name, checksum}, version null for a repeatable migration),
-- every file it would run (a file whose script is not the registered one will be registered by deployer,
-- who is then its registrant), and the registered pending migrations no file holds (ledger_only: the
-- client refuses to apply them unless told to).
CREATE FUNCTION migrate_approval_check(environment text, deployer name DEFAULT CURRENT_USER,
                                       required integer DEFAULT NULL, files jsonb DEFAULT NULL)
    RETURNS TABLE (version text, name text, checksum text, status text, approvers text[], detail text,
                   registrant name, required_approvals integer, ledger_only boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH req AS (
        SELECT greatest(coalesce($3, 1),
                        coalesce(nullif(current_setting('pgmig.require_approval', true), '')::pg_catalog.int4, 0)) AS n
    ),
    f AS (
        SELECT x.version, x.name, x.checksum, pgmig.migration_key(x.version, x.name) AS version_key
          FROM jsonb_to_recordset($4) AS x(version pg_catalog.text, name pg_catalog.text, checksum pg_catalog.text)
    ),
    candidates AS (
        -- without files: the ledger's pending migrations, as migrate_apply() would run them
        SELECT m.version_key, m.version, m.name, m.checksum, m.registered_by AS registrant, false AS ledger_only,
               m.registered_at
          FROM pgmig.migrations m
         WHERE $4 IS NULL
           AND ((m.version IS NOT NULL AND m.applied_at IS NULL)
                OR (m.version IS NULL AND m.applied_checksum IS DISTINCT FROM m.checksum))
        UNION ALL
        -- with files: each file the deploy would run, registered by deployer unless its script is registered
        SELECT f.version_key, coalesce(m.version, f.version), f.name, f.checksum,
               CASE WHEN m.checksum OPERATOR(pg_catalog.=) f.checksum THEN m.registered_by ELSE $2 END, false,
               m.registered_at
          FROM f LEFT JOIN pgmig.migrations m ON m.version_key OPERATOR(pg_catalog.=) f.version_key
         WHERE CASE WHEN f.version IS NOT NULL THEN m.applied_at IS NULL
                    ELSE m.applied_checksum IS DISTINCT FROM f.checksum END
        UNION ALL
        -- with files: the pending migrations no file holds
        SELECT m.version_key, m.version, m.name, m.checksum, m.registered_by, true, m.registered_at
          FROM pgmig.migrations m
         WHERE $4 IS NOT NULL
           AND ((m.version IS NOT NULL AND m.applied_at IS NULL)
                OR (m.version IS NULL AND m.applied_checksum IS DISTINCT FROM m.checksum))
           AND NOT EXISTS (SELECT 1 FROM f WHERE f.version_key OPERATOR(pg_catalog.=) m.version_key)
    ),
    judged AS (
        SELECT c.*, req.n,
               pgmig.approvers($1, c.version_key, c.checksum, c.registrant)::pg_catalog.text[] AS others,
               EXISTS (SELECT 1 FROM pgmig.approvals a
                        WHERE a.environment OPERATOR(pg_catalog.=) $1
                          AND a.version_key OPERATOR(pg_catalog.=) c.version_key
                          AND a.checksum OPERATOR(pg_catalog.=) c.checksum
                          AND a.approved_by OPERATOR(pg_catalog.=) c.registrant) AS by_registrant,
               (SELECT a.checksum FROM pgmig.approvals a
                 WHERE a.environment OPERATOR(pg_catalog.=) $1 AND a.version_key OPERATOR(pg_catalog.=) c.version_key
                   AND a.checksum OPERATOR(pg_catalog.<>) c.checksum
                 ORDER BY a.id DESC LIMIT 1) AS stale_checksum
          FROM candidates c CROSS JOIN req
    )
    SELECT j.version, j.name, j.checksum,
           CASE WHEN cardinality(j.others) >= j.n THEN 'approved'
                WHEN cardinality(j.others) > 0 THEN 'insufficient'
                WHEN j.by_registrant THEN 'self_approved'
                WHEN j.stale_checksum IS NOT NULL THEN 'checksum_changed'
                ELSE 'missing' END,
           j.others,
           CASE WHEN j.ledger_only
                THEN format('no migration file holds it (registered by %s at %s; pgmig apply and deploy refuse it '
                            'unless --allow-ledger-only names it); ', j.registrant,
                            to_char(j.registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'))
                ELSE '' END ||
           CASE WHEN cardinality(j.others) >= j.n
                     THEN format('approved for %s by %s', $1, array_to_string(j.others, ', '))
                WHEN cardinality(j.others) > 0
                     THEN format('approved for %s by %s: %s of the %s approvals required, by roles other than %s',
                                 $1, array_to_string(j.others, ', '), cardinality(j.others), j.n, j.registrant)
                WHEN j.by_registrant
                     THEN format('approved for %s only by %s, who registered it: a role other than its registrant '
                                 'must approve it', $1, j.registrant)
                WHEN j.stale_checksum IS NOT NULL
                     THEN format('approved for %s with checksum %s, but the script changed since (now %s): '
                                 'it must be approved again', $1, left(j.stale_checksum, 12), left(j.checksum, 12))
                ELSE format('no approval for %s', $1) END,
           j.registrant, j.n, j.ledger_only
      FROM judged j
     ORDER BY j.version_key
    $$;
COMMENT ON FUNCTION migrate_approval_check(text, name, integer, jsonb) IS
    'what a deploy would need approved: each migration it would run, with whether enough roles other than its registrant approved its checksum';

REVOKE ALL ON FUNCTION migrate_approve(text, text, text, text), migrate_approval_check(text, name, integer, jsonb),
    pgmig.approvers(text, bytea, text, name), pgmig.migration_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_approve(text, text, text, text) TO pgmig_approver;
GRANT EXECUTE ON FUNCTION migrate_approval_check(text, name, integer, jsonb), pgmig.approvers(text, bytea, text, name),
    pgmig.migration_key(text, text) TO pgmig_reader;

