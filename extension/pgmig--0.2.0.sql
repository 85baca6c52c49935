-- pgmig 0.2.0: the migration ledger (schema pgmig) and its SQL API (in the extension's schema).
-- Over 1,000 lines because PostgreSQL installs a release from one script.
\echo Use "CREATE EXTENSION pgmig" to load this file. \quit

-- Roles are cluster-wide and outlive the extension: create them once, keep them on DROP EXTENSION.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'pgmig_reader') THEN
        CREATE ROLE pgmig_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'pgmig_admin') THEN
        CREATE ROLE pgmig_admin NOLOGIN;
    END IF;
END
$roles$;
COMMENT ON ROLE pgmig_reader IS 'pgmig: may read the ledger, its history and status';
COMMENT ON ROLE pgmig_admin IS 'pgmig: may register, apply, roll back, repair and baseline migrations';
GRANT pgmig_reader TO pgmig_admin;

CREATE SCHEMA pgmig;
COMMENT ON SCHEMA pgmig IS 'pgmig ledger: written only through the migrate_* functions';
GRANT USAGE ON SCHEMA pgmig TO pgmig_reader;

CREATE TABLE pgmig.migrations (
    version          text,        -- NULL for a repeatable migration
    -- natural order of versions as bytes (see docs/reference.md); unique, so "1" and "001"
    -- collide; repeatable migrations have 0xff || name and sort after every version
    version_key      bytea       NOT NULL,
    name             text        NOT NULL,
    up_sql           text        NOT NULL,
    down_sql         text,
    options          jsonb       NOT NULL DEFAULT '{}',
    checksum         text        NOT NULL,
    registered_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    -- the role (current_user) that registered the current up script: its author, who may not approve it;
    -- unchanged when the same up script is registered again, with or without another down script
    registered_by    name        NOT NULL,
    -- the roles that registered exactly the current definition (up, down, options, name), the one whose
    -- registration set it first; reset whenever it changes. A script runs with a caller's rights only when
    -- one of them has all of those rights (docs/reference.md, "Trust and approvals")
    vouched_by       name[]      NOT NULL DEFAULT '{}',
    applied_at       timestamptz,
    applied_by       name,
    applied_checksum text,
    duration         interval,
    nontx_progress   integer,     -- statements done by an unfinished non-transactional run
    CONSTRAINT migrations_pkey PRIMARY KEY (version_key),
    CONSTRAINT migrations_options_object CHECK (pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.=) 'object'),
    CONSTRAINT migrations_applied_complete CHECK ((applied_at IS NULL) OPERATOR(pg_catalog.=) (applied_checksum IS NULL))
);
COMMENT ON TABLE pgmig.migrations IS 'one row per registered migration; applied_at is set once it is applied';
-- What an apply chooses from (versions not applied, repeatable migrations), read without reading the
-- applied history, however long.
CREATE INDEX migrations_pending ON pgmig.migrations (version_key) WHERE applied_at IS NULL OR version IS NULL;

-- How far the tamper check has verified pgmig.migrations: every row on a page whose LSN is not beyond
-- verified_through was verified (its stored up script hashes to its checksum), so the next check
-- verifies the rows of the pages changed since. Valid only for the same files (storage: the system
-- identifier and the table's relfilenode); a restore, a rewrite or another cluster verifies every
-- row again. Not dumped: a restored ledger is verified in full once.
CREATE TABLE pgmig.ledger_verified (
    one              boolean     PRIMARY KEY DEFAULT true CHECK (one),
    storage          text        NOT NULL,
    verified_through pg_lsn      NOT NULL,
    verified_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE pgmig.ledger_verified IS
    'how far the tamper check has verified pgmig.migrations (the rows of pages not changed since are not hashed again)';
REVOKE ALL ON pgmig.ledger_verified FROM PUBLIC;
GRANT SELECT ON pgmig.ledger_verified TO pgmig_reader;

-- Append-only, and free of foreign keys so a row never waits on (or blocks) the ledger.
CREATE TABLE pgmig.history (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version           text,
    name              text        NOT NULL,
    action            text        NOT NULL CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['apply', 'rollback', 'repair', 'baseline',
                                      'adopt', 'cosmetic_edit', 'retry', 'failed', 'nontx_start', 'nontx_progress',
                                      'deploy'])),
    at                timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    duration          interval,
    attempt           integer     NOT NULL DEFAULT 1,
    session_user_name name        NOT NULL DEFAULT SESSION_USER,
    current_user_name name        NOT NULL,
    application_name  text        DEFAULT pg_catalog.current_setting('application_name'),
    client_addr       inet        DEFAULT pg_catalog.inet_client_addr(),
    backend_pid       integer     NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    checksum          text,
    previous_checksum text,
    sqlstate          text,
    message           text,
    reason            text,
    -- The fleet deploy run (pgmig.deploy_run) of the session that wrote the row: which run applied what.
    -- NULL when none was set, and for the rows of pgmig 0.1.0. The same rule as the setting's check.
    deploy_run        text,
    CONSTRAINT history_deploy_run_format
        CHECK (deploy_run IS NULL OR deploy_run OPERATOR(pg_catalog.~) '^[A-Za-z0-9_.:-]{1,64}$')
);
COMMENT ON TABLE pgmig.history IS 'one row per apply, rollback, repair, baseline, adoption, cosmetic edit, retry and deploy step';
COMMENT ON COLUMN pgmig.history.deploy_run IS
    'the fleet deploy run (pgmig.deploy_run) of the session that wrote the row; NULL: none';

-- The DDL audit trail: rows are inserted unchained by the event triggers (so concurrent DDL never
-- waits on a chain head) and sealed into a SHA-256 chain right after their transaction commits, by a
-- background worker (pgmig.audit_sealer), or by migrate_audit_verify().
CREATE TABLE pgmig.ddl_audit (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    txid              xid8        NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    backend_pid       integer     NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    session_user_name name        NOT NULL DEFAULT SESSION_USER,
    current_user_name name        NOT NULL,
    application_name  text        DEFAULT pg_catalog.current_setting('application_name'),
    client_addr       inet        DEFAULT pg_catalog.inet_client_addr(),
    event             text        NOT NULL,
    command_tag       text        NOT NULL,
    object_type       text,
    schema_name       text,
    object_identity   text,
    table_rewrite     boolean     NOT NULL DEFAULT false,
    statement         text,       -- redacted; NULL when it could not be isolated (DDL in a function)
    migration_version text,       -- NULL: out of band
    policy            text        NOT NULL,  -- 'migration', or the out-of-band policy in force
    chain_seq         bigint,                -- position in the hash chain, once sealed
    row_hash          text                   -- SHA-256 of the previous row_hash and this row
);
COMMENT ON TABLE pgmig.ddl_audit IS 'one row per object affected by DDL, whoever ran it; append-only, hash-chained';
-- The chain's head and the unsealed rows, found without a scan: sealing never rescans the chain.
CREATE INDEX ddl_audit_chain_seq ON pgmig.ddl_audit (chain_seq);

CREATE FUNCTION pgmig.audit_row_text(a pgmig.ddl_audit) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT format('%s|%s|%s|%s|%L|%L|%L|%L|%L|%L|%L|%L|%L|%s|%L|%L|%L',
                  a.id, extract(epoch FROM a.at), a.txid, a.backend_pid, a.session_user_name,
                  a.current_user_name, a.application_name, host(a.client_addr), a.event, a.command_tag,
                  a.object_type, a.schema_name, a.object_identity, a.table_rewrite, a.statement,
                  a.migration_version, a.policy)
    $$;
COMMENT ON FUNCTION pgmig.audit_row_text(pgmig.ddl_audit) IS 'the canonical text of an audit row that its hash seals';

CREATE FUNCTION pgmig.redact(statement text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgmig_redact' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pgmig.redact(text) IS
    'the statement with passwords and connection strings replaced, found from the parse tree';

CREATE FUNCTION pgmig.audit_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmig_audit_guard' LANGUAGE C;
CREATE TRIGGER ddl_audit_immutable BEFORE UPDATE OR DELETE ON pgmig.ddl_audit
    FOR EACH ROW EXECUTE FUNCTION pgmig.audit_guard();
CREATE TRIGGER ddl_audit_no_truncate BEFORE TRUNCATE ON pgmig.ddl_audit
    FOR EACH STATEMENT EXECUTE FUNCTION pgmig.audit_guard();
-- In session_replication_role = replica too: replica mode must not open the trail to edits.
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_no_truncate;

REVOKE ALL ON pgmig.migrations, pgmig.history, pgmig.ddl_audit FROM PUBLIC;
GRANT SELECT ON pgmig.migrations, pgmig.history, pgmig.ddl_audit TO pgmig_reader;
-- (pgmig.snapshots, created below, gets the same grants there)

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

-- resealed: the breaks a superuser recorded with migrate_audit_reseal(), one object per reseal (NULL: none).
CREATE FUNCTION migrate_audit_verify()
    RETURNS TABLE (checked bigint, sealed bigint, first_broken_id bigint, problem text, chain_head text,
                   head_position bigint, unsealed bigint, seal_blocked_by text, resealed jsonb)
    AS 'MODULE_PATHNAME', 'migrate_audit_verify' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_verify() IS
    'verifies the audit hash chain and reports the first broken link; seals new rows (superusers, pgmig_admin) '
    'unless another session holds the seal lock (seal_blocked_by); keep chain_head outside the database';

-- The way back from a broken chain, after the break was investigated: records the open broken links, who
-- resealed, when and why in an audit row of its own that starts a new sealed segment. The broken rows stay
-- as they are; migrate_audit_verify() then reports them under resealed. Superusers only (checked in C: the
-- extension's owner and pgmig_admin are refused as well).
CREATE FUNCTION migrate_audit_reseal(reason text)
    RETURNS TABLE (reseal_id bigint, broken_links bigint, first_broken_id bigint, problem text, head_position bigint)
    AS 'MODULE_PATHNAME', 'migrate_audit_reseal' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_reseal(text) IS
    'superusers: records the audit chain''s broken links with the reason and starts a new sealed segment; deletes nothing';
REVOKE ALL ON FUNCTION migrate_audit_reseal(text) FROM PUBLIC;


-- ACL entries as sorted text, the owner written OWNER and the default ACL spelled out, so that
-- the same privileges compare equal whoever owns the object and however they were reached. A grant
-- made by another role than the owner (one holding the privilege WITH GRANT OPTION) says BY <grantor>.
CREATE FUNCTION pgmig.acl_list(acl aclitem[], owner oid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(jsonb_agg(entry ORDER BY entry), '[]'::jsonb)
      FROM (SELECT CASE WHEN x.grantee = owner THEN 'OWNER' WHEN x.grantee = 0 THEN 'PUBLIC'
                        ELSE x.grantee::regrole::text END
                   || ':' || x.privilege_type
                   || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
                   || CASE WHEN x.grantor <> owner THEN ' BY ' || x.grantor::regrole::text ELSE '' END
                   AS entry
              FROM aclexplode(acl) x) e
    $$;
CREATE FUNCTION pgmig.acl_entries(acl aclitem[], owner oid, objtype "char") RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- the default, in whatever order GRANT and REVOKE left the items: nothing to say (an empty array, as
    -- REVOKE leaves a column's ACL, is the default of a column)
    SELECT CASE WHEN acl IS NULL
                  OR coalesce((SELECT array_agg(a::text ORDER BY a::text) FROM unnest(acl) a), '{}')
                     = coalesce((SELECT array_agg(a::text ORDER BY a::text) FROM unnest(acldefault(objtype, owner)) a), '{}')
                THEN NULL
           ELSE pgmig.acl_list(acl, owner) END
    $$;

-- Catalog snapshots: a canonical jsonb description of the user schema. Keys are
-- "<type> <identity>" from pg_identify_object (the same identities the audit trail records);
-- the GUCs that change catalog text are pinned by the SET clauses. Each object that has an owner says
-- who ("owner", a role name): the same schema owned by roles of the same names describes (and
-- fingerprints) the same, and an ALTER ... OWNER TO is drift. ACL entries for the owner say OWNER.
-- Default privileges (ALTER DEFAULT PRIVILEGES) are objects of their own ("default acl ...").
-- `objids` NULL: every object; else only the objects whose OID is among them (of any catalog: the caller
-- picks its pairs), described exactly as in the full snapshot. The condition is pushed down into each
-- catalog's branch, so the descriptions (the cost) are built for those objects only.
-- PL/pgSQL for its plan cache: the query is planned once per session (a SQL function plans its body on
-- every call, which costs more than describing a few objects), and always the same plan, the one a SQL
-- function would make (force_generic_plan: `objids` is a parameter of it, not a constant).
CREATE FUNCTION pgmig.snapshot_objects_among(objids oid[])
    RETURNS TABLE (classid oid, objid oid, object_key text, object_type text, identity text, description jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET "DateStyle" = 'ISO, YMD'
    SET "IntervalStyle" = 'postgres'
    SET "TimeZone" = 'UTC'
    SET extra_float_digits = 1
    SET quote_all_identifiers = off
    -- one pass over the catalog: JIT compilation would cost more than it saves, on every call
    SET jit = off
    SET plan_cache_mode = force_generic_plan
    AS $$
    #variable_conflict use_column
    BEGIN
    RETURN QUERY
    WITH user_ns AS (
        SELECT n.oid, n.nspname FROM pg_namespace n
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgmig')
           AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                           AND d.objid = n.oid AND d.deptype = 'e')
    ),
    -- objects that belong to an extension are the extension's business: all such, or by index those among
    -- the objects asked for (one of the two runs: the other's filter is false)
    ext_member AS (
        SELECT classid, objid FROM pg_depend WHERE deptype = 'e' AND objids IS NULL
        UNION ALL
        SELECT classid, objid FROM pg_depend
         WHERE classid = ANY ('{pg_namespace,pg_class,pg_proc,pg_type,pg_collation,pg_statistic_ext,pg_operator,pg_opfamily,pg_opclass,pg_event_trigger,pg_publication,pg_foreign_data_wrapper,pg_foreign_server}'::regclass[]::oid[])
           AND objid = ANY (objids) AND deptype = 'e'
    ),
    -- the relations (NOT MATERIALIZED: each use gets its own plan, an index scan where few are wanted)
    rel_rows AS NOT MATERIALIZED (
        SELECT c.oid, c.relname, c.relkind, c.relnamespace, c.relowner, c.relacl, c.relpersistence,
               c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relispartition
          FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I', 'c')
           -- (not ext_member: triggers and policies are asked for, not their relations)
           AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                           AND e.deptype = 'e')
    ),
    -- (all of them read once, in OID order: the per-table lookups below then walk the indexes in order)
    rels AS MATERIALIZED (SELECT * FROM rel_rows ORDER BY oid),
    objects AS (
        -- schemas
        SELECT 'pg_namespace'::regclass AS classid, n.oid AS objid,
               jsonb_build_object('owner', nn.nspowner::regrole::text,
                                  'acl', CASE WHEN nn.nspacl IS NOT NULL THEN pgmig.acl_entries(nn.nspacl, nn.nspowner, 'n') END,
                                  'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = n.oid
                                                AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0)) AS description
          FROM user_ns n JOIN pg_namespace nn ON nn.oid = n.oid
         WHERE n.nspname <> 'public'
        UNION ALL
        -- tables, partitioned and foreign tables, views, materialized views, sequences
        SELECT 'pg_class'::regclass, r.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'kind', r.relkind,
                   -- (an index is its table's)
                   'owner', CASE WHEN r.relkind NOT IN ('i', 'I') THEN r.relowner::regrole::text END,
                   'persistence', r.relpersistence,
                   'columns', CASE WHEN r.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') THEN
                              (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                   'name', a.attname,
                                   'type', format_type(a.atttypid, a.atttypmod),
                                   'not_null', a.attnotnull,
                                   'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                                   'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                                   'identity', NULLIF(a.attidentity, ''),
                                   'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                                                     THEN (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END,
                                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = r.oid
                                                   AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum),
                                   'acl', CASE WHEN a.attacl IS NOT NULL THEN pgmig.acl_entries(a.attacl, r.relowner, 'c') END,
                                   'fdw_options', CASE WHEN a.attfdwoptions IS NOT NULL THEN
                                       (SELECT jsonb_agg(o ORDER BY o) FROM unnest(a.attfdwoptions) o) END,
                                   -- created by the parent (partition, inheritance child): the diff leaves it alone;
                                   -- every column of a partition is its parent's, whether it was created PARTITION OF
                                   -- or attached (ATTACH PARTITION leaves attislocal set)
                                   'inherited', CASE WHEN NOT a.attislocal OR (r.relispartition AND a.attinhcount > 0)
                                                     THEN true END))
                                   ORDER BY a.attnum)
                                 FROM pg_attribute a
                                 JOIN pg_type t ON t.oid = a.atttypid
                                 LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) END,
                   -- (subqueries guarded by relkind: most relations are indexes, which have none of these;
                   -- NOT NULL is a column's "not_null", also where 18 (tables) and 17 (domains) catalog it as a
                   -- constraint of type 'n')
                   'constraints', CASE WHEN r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_object_agg(co.conname, pg_get_constraintdef(co.oid, true))
                          FROM pg_constraint co WHERE co.conrelid = r.oid AND co.contype <> 'n') END,
                   'constraint_comments', CASE WHEN r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_object_agg(co.conname, d.description)
                          FROM pg_constraint co JOIN pg_description d ON d.objoid = co.oid
                                AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
                         WHERE co.conrelid = r.oid) END,
                   -- a foreign table's server and options
                   'server', CASE WHEN r.relkind = 'f' THEN
                       (SELECT fs.srvname FROM pg_foreign_table ft JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
                         WHERE ft.ftrelid = r.oid) END,
                   'foreign_options', CASE WHEN r.relkind = 'f' THEN
                       (SELECT jsonb_agg(o ORDER BY o) FROM pg_foreign_table ft, unnest(ft.ftoptions) o
                         WHERE ft.ftrelid = r.oid) END,
                   -- the constraints the parent created (a partition's or child's copy)
                   'inherited_constraints', CASE WHEN r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_agg(co.conname ORDER BY co.conname)
                          FROM pg_constraint co WHERE co.conrelid = r.oid AND co.contype <> 'n'
                           AND (NOT co.conislocal OR co.conparentid <> 0)) END,
                   -- an index that a PRIMARY KEY, UNIQUE or EXCLUDE constraint created (and drops)
                   'constraint', ci.conname,
                   -- the relations and functions a view reads: dependency order, and which views a change touches
                   'depends_on', CASE WHEN r.relkind IN ('v', 'm') THEN
                       (SELECT jsonb_agg(DISTINCT (SELECT i.type || ' ' || i.identity
                                                     FROM pg_identify_object(d.refclassid, d.refobjid, 0) i))
                          FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                         WHERE rw.ev_class = r.oid AND d.refobjid <> r.oid
                           AND (d.refclassid = 'pg_class'::regclass OR d.refclassid = 'pg_proc'::regclass
                                AND NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
                                                 WHERE p.oid = d.refobjid AND pn.nspname = 'pg_catalog'))) END,
                   'definition', CASE WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid, true)
                                      WHEN r.relkind IN ('i', 'I') THEN pg_get_indexdef(r.oid) END,
                   'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
                   'partition_of', CASE WHEN r.relispartition THEN
                       (SELECT jsonb_build_array(i.inhparent::regclass::text, pg_get_expr(c2.relpartbound, c2.oid))
                          FROM pg_inherits i JOIN pg_class c2 ON c2.oid = i.inhrelid WHERE i.inhrelid = r.oid) END,
                   'inherits', CASE WHEN NOT r.relispartition AND r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_agg(i.inhparent::regclass::text ORDER BY i.inhseqno)
                          FROM pg_inherits i WHERE i.inhrelid = r.oid) END,
                   'row_security', NULLIF(r.relrowsecurity, false),
                   'force_row_security', NULLIF(r.relforcerowsecurity, false),
                   'options', CASE WHEN r.reloptions IS NOT NULL THEN
                       (SELECT jsonb_agg(o ORDER BY o) FROM unnest(r.reloptions) o) END,
                   'sequence', CASE WHEN r.relkind = 'S' THEN (SELECT jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
                                       'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax,
                                       'cache', s.seqcache, 'cycle', s.seqcycle,
                                       'owned_by', (SELECT d.refobjid::regclass::text || '.' || a.attname
                                                      FROM pg_depend d JOIN pg_attribute a
                                                        ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                                     WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                                                       AND d.refclassid = 'pg_class'::regclass
                                                       AND d.deptype IN ('a', 'i') LIMIT 1))
                                  FROM pg_sequence s WHERE s.seqrelid = r.oid) END,
                   'acl', CASE WHEN r.relkind NOT IN ('i', 'I', 'c')
                               THEN CASE WHEN r.relacl IS NOT NULL THEN pgmig.acl_entries(r.relacl, r.relowner, (CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END)::"char") END END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = r.oid
                                AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0)))
          -- all of them, or by index only those asked for (one of the two runs: the other's filter is false)
          FROM (SELECT * FROM rels WHERE objids IS NULL UNION ALL SELECT * FROM rel_rows WHERE oid = ANY (objids)) r
          -- (pg_constraint has no index on conindid: one hash join instead of a scan per index)
          LEFT JOIN (SELECT co.conindid, co.conname FROM pg_constraint co
                      WHERE co.contype IN ('p', 'u', 'x') AND co.conindid <> 0) ci
                 ON ci.conindid = r.oid AND r.relkind IN ('i', 'I')
        UNION ALL
        -- functions and procedures
        SELECT 'pg_proc'::regclass, p.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'definition', CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END,
                   'aggregate', CASE WHEN p.prokind = 'a' THEN
                       (SELECT jsonb_strip_nulls(jsonb_build_object(
                           'arguments', pg_get_function_arguments(p.oid),
                           'kind', NULLIF(ag.aggkind, 'n'),
                           'direct_arguments', NULLIF(ag.aggnumdirectargs, 0),
                           'sfunc', ag.aggtransfn::regproc::text,
                           'stype', format_type(ag.aggtranstype, NULL),
                           'sspace', NULLIF(ag.aggtransspace, 0),
                           'finalfunc', NULLIF(ag.aggfinalfn, 0)::regproc::text,
                           'finalfunc_extra', NULLIF(ag.aggfinalextra, false),
                           'finalfunc_modify', ag.aggfinalmodify,
                           'combinefunc', NULLIF(ag.aggcombinefn, 0)::regproc::text,
                           'serialfunc', NULLIF(ag.aggserialfn, 0)::regproc::text,
                           'deserialfunc', NULLIF(ag.aggdeserialfn, 0)::regproc::text,
                           'initcond', ag.agginitval,
                           'msfunc', NULLIF(ag.aggmtransfn, 0)::regproc::text,
                           'minvfunc', NULLIF(ag.aggminvtransfn, 0)::regproc::text,
                           'mstype', CASE WHEN ag.aggmtranstype <> 0 THEN format_type(ag.aggmtranstype, NULL) END,
                           'msspace', NULLIF(ag.aggmtransspace, 0),
                           'mfinalfunc', NULLIF(ag.aggmfinalfn, 0)::regproc::text,
                           'mfinalfunc_extra', NULLIF(ag.aggmfinalextra, false),
                           'mfinalfunc_modify', CASE WHEN ag.aggmtransfn <> 0 THEN ag.aggmfinalmodify END,
                           'minitcond', ag.aggminitval,
                           'sortop', NULLIF(ag.aggsortop, 0)::regoperator::text,
                           'parallel', p.proparallel))
                          FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid) END,
                   'owner', p.proowner::regrole::text,
                   'acl', CASE WHEN p.proacl IS NOT NULL THEN pgmig.acl_entries(p.proacl, p.proowner, 'f') END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = p.oid
                                AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0)))
          FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
        UNION ALL
        -- triggers (not the internal ones of foreign keys)
        SELECT 'pg_trigger'::regclass, tg.oid,
               jsonb_strip_nulls(jsonb_build_object('definition', pg_get_triggerdef(tg.oid, true), 'enabled', tg.tgenabled,
                                                    -- a partition's clone of its parent's trigger
                                                    'inherited', CASE WHEN tg.tgparentid <> 0 THEN true END,
                                                    'comment', (SELECT d.description FROM pg_description d
                                                                 WHERE d.objoid = tg.oid AND d.objsubid = 0
                                                                   AND d.classoid = 'pg_trigger'::regclass)))
          FROM pg_trigger tg JOIN rel_rows r ON r.oid = tg.tgrelid
         WHERE NOT tg.tgisinternal
        UNION ALL
        -- types: enums, domains, ranges (composite types are their pg_class rows)
        SELECT 'pg_type'::regclass, t.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'kind', t.typtype,
                   'owner', t.typowner::regrole::text,
                   'labels', CASE WHEN t.typtype = 'e' THEN
                       (SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END,
                   'base', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
                   'not_null', CASE WHEN t.typtype = 'd' THEN t.typnotnull END,
                   'default', t.typdefault,
                   'constraints', CASE WHEN t.typtype = 'd' THEN
                       (SELECT jsonb_object_agg(co.conname, pg_get_constraintdef(co.oid, true))
                          FROM pg_constraint co WHERE co.contypid = t.oid AND co.contype <> 'n') END,
                   'constraint_comments', CASE WHEN t.typtype = 'd' THEN
                       (SELECT jsonb_object_agg(co.conname, d.description)
                          FROM pg_constraint co JOIN pg_description d ON d.objoid = co.oid
                                AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
                         WHERE co.contypid = t.oid) END,
                   'subtype', CASE WHEN t.typtype = 'r' THEN
                       (SELECT format_type(rg.rngsubtype, NULL) FROM pg_range rg WHERE rg.rngtypid = t.oid) END,
                   'acl', CASE WHEN t.typacl IS NOT NULL THEN pgmig.acl_entries(t.typacl, t.typowner, 'T') END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = t.oid
                                AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_type WHERE objids IS NULL UNION ALL SELECT * FROM pg_type WHERE oid = ANY (objids)) t
          JOIN user_ns n ON n.oid = t.typnamespace
         WHERE t.typtype IN ('e', 'd', 'r')
           AND NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
        UNION ALL
        -- row-level security policies
        SELECT 'pg_policy'::regclass, po.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'command', po.polcmd, 'permissive', po.polpermissive,
                   'roles', (SELECT jsonb_agg(CASE WHEN ro = 0 THEN 'PUBLIC' ELSE ro::regrole::text END ORDER BY 1)
                               FROM unnest(po.polroles) ro),
                   'using', pg_get_expr(po.polqual, po.polrelid),
                   'check', pg_get_expr(po.polwithcheck, po.polrelid),
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = po.oid
                                AND d.classoid = 'pg_policy'::regclass AND d.objsubid = 0)))
          FROM pg_policy po JOIN rel_rows r ON r.oid = po.polrelid
        UNION ALL
        -- default privileges (ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s]): the whole ACL that objects of the
        -- type get when r creates them (global) or what they get in addition in s (per schema); OWNER is r
        SELECT 'pg_default_acl'::regclass, da.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'role', da.defaclrole::regrole::text,
                   'schema', CASE WHEN da.defaclnamespace <> 0 THEN da.defaclnamespace::regnamespace::text END,
                   'on', CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                               WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END,
                   'acl', pgmig.acl_list(da.defaclacl, da.defaclrole)))
          FROM pg_default_acl da
         WHERE da.defaclnamespace = 0 OR da.defaclnamespace IN (SELECT oid FROM user_ns)
        UNION ALL
        -- extensions: version, schema (pgmig itself excluded)
        SELECT 'pg_extension'::regclass, x.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'version', x.extversion,
                   -- only where it can be chosen and moved: a non-relocatable extension's schema is its own business
                   'schema', CASE WHEN x.extrelocatable THEN (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.extnamespace) END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = x.oid
                                AND d.classoid = 'pg_extension'::regclass AND d.objsubid = 0)))
          FROM pg_extension x WHERE x.extname NOT IN ('plpgsql', 'pgmig')
        UNION ALL
        -- collations
        SELECT 'pg_collation'::regclass, co.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'provider', co.collprovider,
                   'deterministic', co.collisdeterministic,
                   'lc_collate', co.collcollate,
                   'lc_ctype', co.collctype,
                   -- (17 renamed colliculocale to colllocale: read from the row, for every version)
                   'icu_locale', coalesce(to_jsonb(co) ->> 'colliculocale', to_jsonb(co) ->> 'colllocale'),
                   'owner', co.collowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = co.oid
                                AND d.classoid = 'pg_collation'::regclass AND d.objsubid = 0)))
          FROM pg_collation co JOIN user_ns n ON n.oid = co.collnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_collation'::regclass AND e.objid = co.oid)
        UNION ALL
        -- extended statistics (CREATE STATISTICS)
        SELECT 'pg_statistic_ext'::regclass, st.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'definition', pg_get_statisticsobjdef(st.oid),
                   -- (-1 up to 16, NULL from 17: the default target)
                   'target', NULLIF((to_jsonb(st) ->> 'stxstattarget')::int, -1),
                   'owner', st.stxowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = st.oid
                                AND d.classoid = 'pg_statistic_ext'::regclass AND d.objsubid = 0)))
          FROM pg_statistic_ext st JOIN user_ns n ON n.oid = st.stxnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_statistic_ext'::regclass AND e.objid = st.oid)
        UNION ALL
        -- operators, operator classes and families
        SELECT 'pg_operator'::regclass, op.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'function', op.oprcode::regprocedure::text,
                   'left', CASE WHEN op.oprleft <> 0 THEN format_type(op.oprleft, NULL) END,
                   'right', format_type(op.oprright, NULL),
                   'commutator', NULLIF(op.oprcom, 0)::regoperator::text,
                   'negator', NULLIF(op.oprnegate, 0)::regoperator::text,
                   'restrict', NULLIF(op.oprrest, 0)::regproc::text,
                   'join', NULLIF(op.oprjoin, 0)::regproc::text,
                   'hashes', NULLIF(op.oprcanhash, false),
                   'merges', NULLIF(op.oprcanmerge, false),
                   'owner', op.oprowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = op.oid
                                AND d.classoid = 'pg_operator'::regclass AND d.objsubid = 0)))
          FROM pg_operator op JOIN user_ns n ON n.oid = op.oprnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_operator'::regclass AND e.objid = op.oid)
        UNION ALL
        SELECT 'pg_opfamily'::regclass, f.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'members', (SELECT jsonb_agg(m ORDER BY m) FROM (
                       SELECT 'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::regoperator::text
                              || CASE WHEN ao.amoppurpose = 's' THEN '' ELSE ' FOR ORDER BY '
                                      || (SELECT ofm.opfname FROM pg_opfamily ofm WHERE ofm.oid = ao.amopsortfamily) END AS m
                         FROM pg_amop ao WHERE ao.amopfamily = f.oid
                       UNION ALL
                       SELECT 'FUNCTION ' || ap.amprocnum || ' (' || format_type(ap.amproclefttype, NULL) || ', '
                              || format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::regprocedure::text
                         FROM pg_amproc ap WHERE ap.amprocfamily = f.oid) mm),
                   'owner', f.opfowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = f.oid
                                AND d.classoid = 'pg_opfamily'::regclass AND d.objsubid = 0)))
          FROM pg_opfamily f JOIN user_ns n ON n.oid = f.opfnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_opfamily'::regclass AND e.objid = f.oid)
        UNION ALL
        SELECT 'pg_opclass'::regclass, oc.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'type', format_type(oc.opcintype, NULL),
                   'default', oc.opcdefault,
                   'family', (SELECT i.identity FROM pg_identify_object('pg_opfamily'::regclass, oc.opcfamily, 0) i),
                   'storage', CASE WHEN oc.opckeytype <> 0 THEN format_type(oc.opckeytype, NULL) END,
                   'owner', oc.opcowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = oc.oid
                                AND d.classoid = 'pg_opclass'::regclass AND d.objsubid = 0)))
          FROM pg_opclass oc JOIN user_ns n ON n.oid = oc.opcnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_opclass'::regclass AND e.objid = oc.oid)
        UNION ALL
        -- event triggers (pgmig's own belong to the extension)
        SELECT 'pg_event_trigger'::regclass, et.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'event', et.evtevent,
                   'function', et.evtfoid::regprocedure::text,
                   'tags', (SELECT jsonb_agg(t ORDER BY t) FROM unnest(et.evttags) t),
                   'enabled', et.evtenabled,
                   'owner', et.evtowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = et.oid
                                AND d.classoid = 'pg_event_trigger'::regclass AND d.objsubid = 0)))
          FROM pg_event_trigger et
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_event_trigger'::regclass AND e.objid = et.oid)
        UNION ALL
        -- publications
        SELECT 'pg_publication'::regclass, pb.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'all_tables', NULLIF(pb.puballtables, false),
                   'publish', (SELECT jsonb_agg(a) FROM unnest(ARRAY[
                                   CASE WHEN pb.pubinsert THEN 'insert' END, CASE WHEN pb.pubupdate THEN 'update' END,
                                   CASE WHEN pb.pubdelete THEN 'delete' END, CASE WHEN pb.pubtruncate THEN 'truncate' END]) a
                                WHERE a IS NOT NULL),
                   'via_root', NULLIF(pb.pubviaroot, false),
                   'owner', pb.pubowner::regrole::text,
                   'tables', (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                  'table', pr.prrelid::regclass::text,
                                  'columns', (SELECT jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                                               WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2[])),
                                  'where', pg_get_expr(pr.prqual, pr.prrelid))) ORDER BY pr.prrelid::regclass::text)
                                FROM pg_publication_rel pr WHERE pr.prpubid = pb.oid),
                   'schemas', (SELECT jsonb_agg(n.nspname ORDER BY n.nspname)
                                 FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid
                                WHERE pn.pnpubid = pb.oid),
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = pb.oid
                                AND d.classoid = 'pg_publication'::regclass AND d.objsubid = 0)))
          FROM pg_publication pb
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_publication'::regclass AND e.objid = pb.oid)
        UNION ALL
        -- foreign-data wrappers and servers (an extension's wrapper is the extension's)
        SELECT 'pg_foreign_data_wrapper'::regclass, w.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'handler', NULLIF(w.fdwhandler, 0)::regproc::text,
                   'validator', NULLIF(w.fdwvalidator, 0)::regproc::text,
                   'options', (SELECT jsonb_agg(o ORDER BY o) FROM unnest(w.fdwoptions) o),
                   'acl', CASE WHEN w.fdwacl IS NOT NULL THEN pgmig.acl_entries(w.fdwacl, w.fdwowner, 'F') END,
                   'owner', w.fdwowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = w.oid
                                AND d.classoid = 'pg_foreign_data_wrapper'::regclass AND d.objsubid = 0)))
          FROM pg_foreign_data_wrapper w
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_foreign_data_wrapper'::regclass AND e.objid = w.oid)
        UNION ALL
        SELECT 'pg_foreign_server'::regclass, fs.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'wrapper', (SELECT w.fdwname FROM pg_foreign_data_wrapper w WHERE w.oid = fs.srvfdw),
                   'type', fs.srvtype,
                   'version', fs.srvversion,
                   -- a value that may be a secret (password, secret, token, key) is never read: its name only
                   'options', (SELECT jsonb_agg(CASE WHEN split_part(o, '=', 1) ~* '(pass|secret|token|key|cred)'
                                                     THEN split_part(o, '=', 1) || ' (value not read)' ELSE o END ORDER BY o)
                                 FROM unnest(fs.srvoptions) o),
                   'acl', CASE WHEN fs.srvacl IS NOT NULL THEN pgmig.acl_entries(fs.srvacl, fs.srvowner, 'S') END,
                   'owner', fs.srvowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = fs.oid
                                AND d.classoid = 'pg_foreign_server'::regclass AND d.objsubid = 0)))
          FROM pg_foreign_server fs
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_foreign_server'::regclass AND e.objid = fs.oid)
        UNION ALL
        -- user mappings: that they exist, nothing of their options (passwords; and only some roles may read them)
        SELECT 'pg_user_mapping'::regclass, um.umid, '{}'::jsonb
          FROM pg_user_mappings um
    )
    SELECT o.classid::oid, o.objid, i.type || ' ' || i.identity, i.type, i.identity, o.description
      FROM objects o, LATERAL pg_identify_object(o.classid, o.objid, 0) i
     WHERE objids IS NULL OR o.objid = ANY (objids);
    END
    $$;
COMMENT ON FUNCTION pgmig.snapshot_objects_among(oid[]) IS
    'the objects of the user schema whose OID is among objids (NULL: all), described as in the full snapshot';

-- (Inlined by the planner: no SET clause of its own, the called function has them.)
CREATE FUNCTION pgmig.snapshot_objects()
    RETURNS TABLE (object_key text, object_type text, identity text, description jsonb)
    LANGUAGE sql STABLE
    AS $$ SELECT object_key, object_type, identity, description FROM pgmig.snapshot_objects_among(NULL) $$;
COMMENT ON FUNCTION pgmig.snapshot_objects() IS 'the objects of the user schema, canonically described, one row each';

-- The objects whose description in the snapshot may change when the objects (classids[i], objids[i]) change:
-- they themselves and, through pg_depend, every object that depends on them, directly or not (a view on a
-- renamed table, an index of an altered column, a foreign key referencing the table), each taken to the object
-- the snapshot describes it in (a column default or a constraint to its table or domain, a view's rule to the
-- view, a publication's table or schema to the publication, an operator family's member to the family, a
-- table's row type to the table), plus the operators that name a touched operator as commutator or negator
-- (PostgreSQL records no dependency for those). Objects that no longer exist are simply not found.
CREATE FUNCTION pgmig.snapshot_scope(classids oid[], objids oid[])
    RETURNS TABLE (classid oid, objid oid)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- (PL/pgSQL for the plan it keeps for the session, where a SQL function's is made again at every
    -- call; generic, as a custom plan for each array would be: the rollback test and every derived
    -- snapshot call this several times, 0.2 ms instead of 0.5 ms)
    SET plan_cache_mode = force_generic_plan
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE reached(classid, objid) AS (
        SELECT * FROM unnest(classids, objids)
        UNION
        SELECT n.classid, n.objid
          FROM reached r,
               LATERAL (SELECT d.classid, d.objid FROM pg_depend d
                         WHERE d.refclassid = r.classid AND d.refobjid = r.objid
                        UNION ALL
                        SELECT 'pg_class'::regclass, ad.adrelid FROM pg_attrdef ad
                         WHERE r.classid = 'pg_attrdef'::regclass AND ad.oid = r.objid
                        UNION ALL
                        SELECT CASE WHEN co.conrelid <> 0 THEN 'pg_class'::regclass ELSE 'pg_type'::regclass END,
                               CASE WHEN co.conrelid <> 0 THEN co.conrelid ELSE co.contypid END
                          FROM pg_constraint co
                         WHERE r.classid = 'pg_constraint'::regclass AND co.oid = r.objid
                        UNION ALL
                        SELECT 'pg_class'::regclass, rw.ev_class FROM pg_rewrite rw
                         WHERE r.classid = 'pg_rewrite'::regclass AND rw.oid = r.objid
                        UNION ALL
                        SELECT 'pg_class'::regclass, t.typrelid FROM pg_type t
                         WHERE r.classid = 'pg_type'::regclass AND t.oid = r.objid AND t.typrelid <> 0
                        UNION ALL
                        SELECT 'pg_publication'::regclass, pr.prpubid FROM pg_publication_rel pr
                         WHERE r.classid = 'pg_publication_rel'::regclass AND pr.oid = r.objid
                        UNION ALL
                        SELECT 'pg_publication'::regclass, pn.pnpubid FROM pg_publication_namespace pn
                         WHERE r.classid = 'pg_publication_namespace'::regclass AND pn.oid = r.objid
                        UNION ALL
                        SELECT 'pg_opfamily'::regclass, ao.amopfamily FROM pg_amop ao
                         WHERE r.classid = 'pg_amop'::regclass AND ao.oid = r.objid
                        UNION ALL
                        SELECT 'pg_opfamily'::regclass, ap.amprocfamily FROM pg_amproc ap
                         WHERE r.classid = 'pg_amproc'::regclass AND ap.oid = r.objid
                        UNION ALL
                        SELECT 'pg_operator'::regclass, op.oid FROM pg_operator op
                         WHERE r.classid = 'pg_operator'::regclass AND (op.oprcom = r.objid OR op.oprnegate = r.objid)
                       ) n
    )
    SELECT DISTINCT classid, objid FROM reached;
END
$$;
COMMENT ON FUNCTION pgmig.snapshot_scope(oid[], oid[]) IS
    'the objects whose snapshot description may change with the given objects: them, their dependents, and where each is described';

-- The catalog rows each given object's description is made of, by the object: the object itself, and
-- what pgmig.snapshot_scope() takes to it (keep the two in step), read from the object's side.
CREATE FUNCTION pgmig.snapshot_parts(classids oid[], objids oid[])
    RETURNS TABLE (classid oid, objid oid, part_classid oid, part_objid oid)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH o AS (SELECT * FROM unnest(classids, objids) AS o(classid, objid))
    SELECT o.classid, o.objid, o.classid, o.objid FROM o
    UNION ALL
    SELECT o.classid, o.objid, 'pg_attrdef'::regclass, ad.oid
      FROM o JOIN pg_attrdef ad ON ad.adrelid = o.objid WHERE o.classid = 'pg_class'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_constraint'::regclass, co.oid
      FROM o JOIN pg_constraint co ON co.conrelid = o.objid WHERE o.classid = 'pg_class'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_constraint'::regclass, co.oid
      FROM o JOIN pg_constraint co ON co.contypid = o.objid WHERE o.classid = 'pg_type'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_rewrite'::regclass, rw.oid
      FROM o JOIN pg_rewrite rw ON rw.ev_class = o.objid WHERE o.classid = 'pg_class'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_type'::regclass, c.reltype
      FROM o JOIN pg_class c ON c.oid = o.objid WHERE o.classid = 'pg_class'::regclass AND c.reltype <> 0
    UNION ALL
    SELECT o.classid, o.objid, 'pg_publication_rel'::regclass, pr.oid
      FROM o JOIN pg_publication_rel pr ON pr.prpubid = o.objid WHERE o.classid = 'pg_publication'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_publication_namespace'::regclass, pn.oid
      FROM o JOIN pg_publication_namespace pn ON pn.pnpubid = o.objid WHERE o.classid = 'pg_publication'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_amop'::regclass, ao.oid
      FROM o JOIN pg_amop ao ON ao.amopfamily = o.objid WHERE o.classid = 'pg_opfamily'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_amproc'::regclass, ap.oid
      FROM o JOIN pg_amproc ap ON ap.amprocfamily = o.objid WHERE o.classid = 'pg_opfamily'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_operator'::regclass, other.oid
      FROM o JOIN pg_operator op ON op.oid = o.objid,
           LATERAL (VALUES (op.oprcom), (op.oprnegate)) other(oid)
     WHERE o.classid = 'pg_operator'::regclass AND other.oid <> 0
    $$;
COMMENT ON FUNCTION pgmig.snapshot_parts(oid[], oid[]) IS
    'the catalog rows the description of each given object is made of (the inverse of pgmig.snapshot_scope()''s mapping)';

CREATE FUNCTION migrate_snapshot() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT coalesce(jsonb_object_agg(object_key, description), '{}'::jsonb) FROM pgmig.snapshot_objects() $$;
COMMENT ON FUNCTION migrate_snapshot() IS
    'canonical jsonb description of the user schema: the same schema gives the same document';

CREATE FUNCTION migrate_fingerprint() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT encode(sha256(convert_to(coalesce(jsonb_object_agg(object_key, description), '{}'::jsonb)::text, 'UTF8')),
                  'hex')
      FROM pgmig.snapshot_objects()
    $$;
COMMENT ON FUNCTION migrate_fingerprint() IS 'SHA-256 of migrate_snapshot()';

-- "Equal except for column order": a table's description with its columns sorted by name (byte order)
-- instead of by position. Tables only (plain, partitioned, foreign): the column order of a view or a
-- composite type is part of its definition.
CREATE FUNCTION pgmig.without_column_order(description jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN description ->> 'kind' IN ('r', 'p', 'f') AND jsonb_typeof(description -> 'columns') = 'array'
                THEN jsonb_set(description, '{columns}',
                               (SELECT jsonb_agg(c ORDER BY (c ->> 'name') COLLATE "C")
                                  FROM jsonb_array_elements(description -> 'columns') c))
                ELSE description END
    $$;
COMMENT ON FUNCTION pgmig.without_column_order(jsonb) IS
    'a snapshot description with a table''s columns sorted by name: compares schemas regardless of column order';

-- (No DEFAULT on the argument: migrate_fingerprint() with no argument stays the one above, unambiguous.)
CREATE FUNCTION migrate_fingerprint(ignore_column_order boolean) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT encode(sha256(convert_to(coalesce(jsonb_object_agg(object_key,
                                                              CASE WHEN ignore_column_order
                                                                   THEN pgmig.without_column_order(description)
                                                                   ELSE description END),
                                             '{}'::jsonb)::text, 'UTF8')),
                  'hex')
      FROM pgmig.snapshot_objects()
    $$;
COMMENT ON FUNCTION migrate_fingerprint(boolean) IS
    'SHA-256 of migrate_snapshot(); with ignore_column_order, of the snapshot with table columns sorted by name';

CREATE FUNCTION migrate_fingerprint_objects() RETURNS TABLE (object_type text, identity text, fingerprint text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT object_type, identity, encode(sha256(convert_to(description::text, 'UTF8')), 'hex')
      FROM pgmig.snapshot_objects() ORDER BY object_key
    $$;
COMMENT ON FUNCTION migrate_fingerprint_objects() IS 'the fingerprint of each object, to locate a difference';

-- The schema the ledger expects: the snapshot taken after each apply, rollback and baseline. A row holds
-- the whole document (snapshot) when CREATE EXTENSION or pgmig 0.1.0 took it; since 0.2.0 the newest
-- expected schema is kept object by object in pgmig.expected_objects, and the row says how it was made.
CREATE TABLE pgmig.snapshots (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    reason      text        NOT NULL,
    fingerprint text,
    snapshot    jsonb,
    -- The PostgreSQL major version it was taken on (its catalogs describe objects their own way);
    -- NULL for the rows of pgmig 0.1.0, which ran on PostgreSQL 15 only.
    server_major integer,
    -- What a later snapshot may be derived from: the newest audit row then, the database (system
    -- identifier/OID: object OIDs mean nothing in another one) and the roles' names (shared, renamed
    -- from any database, written into owners and privileges).
    audit_id    bigint,
    database_identity text,
    roles       text,
    -- true: derived from the one before and the objects the change touched; false: the whole schema
    -- described, for the reason in full_because
    derived     boolean     NOT NULL DEFAULT false,
    full_because text,
    described   integer
);
COMMENT ON TABLE pgmig.snapshots IS 'the schema as pgmig left it after each apply, rollback and baseline';
COMMENT ON COLUMN pgmig.snapshots.server_major IS
    'the PostgreSQL major version the snapshot was taken on; NULL: taken by pgmig 0.1.0, on PostgreSQL 15';
COMMENT ON COLUMN pgmig.snapshots.snapshot IS
    'the whole schema as one document (CREATE EXTENSION, pgmig 0.1.0); NULL: kept in pgmig.expected_objects';
COMMENT ON COLUMN pgmig.snapshots.derived IS
    'true: derived from the snapshot before and the objects the change touched, with their dependents';
COMMENT ON COLUMN pgmig.snapshots.full_because IS
    'why the whole schema was described rather than what changed';
COMMENT ON COLUMN pgmig.snapshots.described IS
    'the number of objects this snapshot described from the catalogs';

-- The newest expected schema, one row per object, as pgmig.snapshot_objects() describes it.
CREATE TABLE pgmig.expected_objects (
    object_key  text  PRIMARY KEY,
    classid     oid   NOT NULL,
    objid       oid   NOT NULL,
    description jsonb NOT NULL
);
COMMENT ON TABLE pgmig.expected_objects IS
    'the schema the ledger expects, object by object (read it with migrate_expected_snapshot())';
-- Every catalog row an expected object's description is made of (the object itself, its defaults,
-- constraints, rules, row type, publication members, operator family members, commutator and negator):
-- after a DROP only the dropped row's address is reported, and this finds the object to describe again.
CREATE TABLE pgmig.expected_parts (
    classid    oid  NOT NULL,
    objid      oid  NOT NULL,
    object_key text NOT NULL,
    PRIMARY KEY (classid, objid, object_key)
);
CREATE INDEX expected_parts_object_key ON pgmig.expected_parts (object_key);
COMMENT ON TABLE pgmig.expected_parts IS
    'the catalog rows each object of pgmig.expected_objects is described from';

-- (Statements outside functions run with search_path = <target schema>, pg_temp: qualified, so that
-- no better-matching overload planted in the target schema is picked, e.g. convert_to(text, text).)
INSERT INTO pgmig.snapshots (reason, fingerprint, snapshot, server_major)
    SELECT 'CREATE EXTENSION',
           pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(s::pg_catalog.text, 'UTF8')), 'hex'), s,
           pg_catalog.current_setting('server_version_num')::pg_catalog.int4 OPERATOR(pg_catalog./) 10000
      FROM (SELECT coalesce(pg_catalog.jsonb_object_agg(object_key, description), '{}'::pg_catalog.jsonb) AS s
              FROM pgmig.snapshot_objects()) snapshot;

-- The schema the ledger expects, object by object: the newest snapshot's document where it has one,
-- else pgmig.expected_objects.
CREATE FUNCTION pgmig.expected_schema() RETURNS TABLE (object_key text, description jsonb)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH newest AS (SELECT snapshot FROM pgmig.snapshots ORDER BY id DESC LIMIT 1)
    SELECT e.key, e.value FROM newest n, jsonb_each(n.snapshot) e
    UNION ALL
    SELECT o.object_key, o.description FROM pgmig.expected_objects o
     WHERE (SELECT n.snapshot IS NULL FROM newest n)
    $$;
COMMENT ON FUNCTION pgmig.expected_schema() IS 'the schema the ledger expects, one row per object';

CREATE FUNCTION migrate_expected_snapshot() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT coalesce(jsonb_object_agg(object_key, description), '{}'::jsonb) FROM pgmig.expected_schema() $$;
COMMENT ON FUNCTION migrate_expected_snapshot() IS
    'the schema the ledger expects, as migrate_snapshot() would describe it: compare the two for drift';

CREATE FUNCTION migrate_expected_fingerprint() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT encode(sha256(convert_to(@extschema@.migrate_expected_snapshot()::text, 'UTF8')), 'hex') $$;
COMMENT ON FUNCTION migrate_expected_fingerprint() IS
    'SHA-256 of migrate_expected_snapshot(): equals migrate_fingerprint() when there is no drift';

-- The roles' OIDs and names, hashed: roles are shared by every database, may be renamed from any of
-- them without an audit row here, and their names are written into owners and privileges.
CREATE FUNCTION pgmig.role_names() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    -- (SHA-256, not md5(): a server whose OpenSSL runs in FIPS mode refuses MD5)
    AS $$
    SELECT encode(sha256(convert_to(coalesce(string_agg(oid::text || ' ' || rolname, ',' ORDER BY oid), ''), 'UTF8')),
                  'hex')
      FROM pg_roles
    $$;
COMMENT ON FUNCTION pgmig.role_names() IS 'a hash of every role''s OID and name';

-- Why the next snapshot cannot be derived from the newest one and the objects a change touched (NULL:
-- it can). `database` is this database's identity (system identifier/OID) as the library computes it.
CREATE FUNCTION pgmig.snapshot_underivable(database text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    newest record;
BEGIN
    SELECT s.snapshot IS NULL AS kept, s.database_identity, s.server_major, s.roles, s.audit_id INTO newest
      FROM pgmig.snapshots s ORDER BY s.id DESC LIMIT 1;
    IF NOT FOUND OR NOT newest.kept OR newest.database_identity IS NULL THEN
        RETURN 'the newest snapshot was taken by CREATE EXTENSION or by pgmig 0.1.0';
    ELSIF newest.database_identity <> database THEN
        RETURN 'the expected schema was recorded in another database (restored or copied here)';
    ELSIF newest.server_major IS DISTINCT FROM current_setting('server_version_num')::int / 10000 THEN
        RETURN 'the expected schema was recorded on another major version';
    ELSIF newest.roles IS DISTINCT FROM pgmig.role_names() THEN
        RETURN 'roles were created, renamed or dropped since the newest snapshot';
    ELSIF EXISTS (SELECT 1 FROM pgmig.ddl_audit a WHERE a.id > newest.audit_id AND a.migration_version IS NULL) THEN
        RETURN 'DDL ran outside migrations since the newest snapshot';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION pgmig.snapshot_underivable(text) IS
    'why the next snapshot must describe the whole schema; NULL when it can be derived from the newest one';

-- The whole schema becomes the expected one. Streams: the objects are described into a tuplestore
-- (spilled to disk beyond work_mem), never into one document.
CREATE FUNCTION pgmig.expect_whole_schema() RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    described integer;
BEGIN
    DELETE FROM pgmig.expected_parts;
    DELETE FROM pgmig.expected_objects;
    WITH live AS MATERIALIZED (SELECT * FROM pgmig.snapshot_objects_among(NULL)),
         objects AS (INSERT INTO pgmig.expected_objects (object_key, classid, objid, description)
                     SELECT l.object_key, l.classid, l.objid, l.description FROM live l RETURNING 1),
         parts AS (INSERT INTO pgmig.expected_parts (classid, objid, object_key)
                   SELECT p.part_classid, p.part_objid, l.object_key
                     FROM pgmig.snapshot_parts((SELECT array_agg(classid) FROM live),
                                               (SELECT array_agg(objid) FROM live)) p
                     JOIN live l ON l.classid = p.classid AND l.objid = p.objid
                   ON CONFLICT DO NOTHING)
    SELECT count(*) INTO described FROM objects;
    RETURN described;
END
$$;
COMMENT ON FUNCTION pgmig.expect_whole_schema() IS
    'records the whole live schema as the expected one (pgmig.expected_objects); returns the number of objects';

-- The expected schema after a change that touched the given objects: what it said of them, of the
-- expected objects they were part of (a dropped default's table: the drop reports only the default)
-- and of everything that depends on them now, replaced by their descriptions as they are now.
CREATE FUNCTION pgmig.expect_changes(classids oid[], objids oid[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    scope_classids oid[];
    scope_objids oid[];
    old_keys text[];
    described integer;
BEGIN
    WITH touched AS (SELECT * FROM unnest(classids, objids) AS t(classid, objid)),
         seeds AS (SELECT t.classid, t.objid FROM touched t
                   UNION
                   SELECT e.classid, e.objid
                     FROM touched t
                     JOIN pgmig.expected_parts p ON p.classid = t.classid AND p.objid = t.objid
                     JOIN pgmig.expected_objects e ON e.object_key = p.object_key)
    SELECT coalesce(array_agg(s.classid), '{}'), coalesce(array_agg(s.objid), '{}')
      INTO scope_classids, scope_objids
      FROM pgmig.snapshot_scope((SELECT array_agg(classid) FROM seeds), (SELECT array_agg(objid) FROM seeds)) s;

    -- (as an array: the deletes below then find the rows by index)
    SELECT coalesce(array_agg(DISTINCT p.object_key), '{}') INTO old_keys
      FROM unnest(scope_classids, scope_objids) AS s(classid, objid)
      JOIN pgmig.expected_parts p ON p.classid = s.classid AND p.objid = s.objid;
    DELETE FROM pgmig.expected_parts p WHERE p.object_key = ANY (old_keys);
    DELETE FROM pgmig.expected_objects e WHERE e.object_key = ANY (old_keys);

    WITH scope AS (SELECT * FROM unnest(scope_classids, scope_objids) AS s(classid, objid)),
         live AS MATERIALIZED (
             SELECT l.* FROM pgmig.snapshot_objects_among(scope_objids) l
              WHERE EXISTS (SELECT 1 FROM scope s WHERE s.classid = l.classid AND s.objid = l.objid)),
         objects AS (INSERT INTO pgmig.expected_objects (object_key, classid, objid, description)
                     SELECT l.object_key, l.classid, l.objid, l.description FROM live l
                     ON CONFLICT (object_key) DO UPDATE
                         SET classid = excluded.classid, objid = excluded.objid, description = excluded.description
                     RETURNING 1),
         parts AS (INSERT INTO pgmig.expected_parts (classid, objid, object_key)
                   SELECT p.part_classid, p.part_objid, l.object_key
                     FROM pgmig.snapshot_parts((SELECT array_agg(classid) FROM live),
                                               (SELECT array_agg(objid) FROM live)) p
                     JOIN live l ON l.classid = p.classid AND l.objid = p.objid
                   ON CONFLICT DO NOTHING)
    SELECT count(*) INTO described FROM objects;
    RETURN described;
END
$$;
COMMENT ON FUNCTION pgmig.expect_changes(oid[], oid[]) IS
    'updates the expected schema (pgmig.expected_objects) where a change touched the given objects; returns the number described';
REVOKE ALL ON FUNCTION pgmig.snapshot_underivable(text), pgmig.expect_whole_schema(),
    pgmig.expect_changes(oid[], oid[]) FROM PUBLIC;

-- (No DEFAULT on the argument: migrate_drift() with no argument is the form below, unambiguous.)
CREATE FUNCTION migrate_drift(ignore_column_order boolean)
    RETURNS TABLE (object_type text, identity text, change text, detail text, changed_at timestamptz,
                   changed_by name, statement text, audit_id bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
    AS $$
    WITH expected AS (
        SELECT id, taken_at FROM pgmig.snapshots ORDER BY id DESC LIMIT 1
    ), majors AS (      -- the major version of the expected snapshot and of this server
        SELECT coalesce((SELECT server_major FROM pgmig.snapshots ORDER BY id DESC LIMIT 1), 15) AS expected,
               current_setting('server_version_num')::int / 10000 AS live
    ), live AS (
        SELECT object_key, object_type, identity,
               CASE WHEN ignore_column_order THEN pgmig.without_column_order(description) ELSE description END
                   AS description
          FROM pgmig.snapshot_objects()
    ), base AS (
        SELECT e.object_key,
               CASE WHEN ignore_column_order THEN pgmig.without_column_order(e.description) ELSE e.description END
                   AS description
          FROM pgmig.expected_schema() e
    ), diff AS (
        SELECT coalesce(l.object_key, b.object_key) AS object_key,
               CASE WHEN b.object_key IS NULL THEN 'added' WHEN l.object_key IS NULL THEN 'removed'
                    ELSE 'changed' END AS change,
               (SELECT string_agg(k, ', ' ORDER BY k)
                  FROM (SELECT key AS k FROM jsonb_each(coalesce(l.description, '{}'))
                        UNION SELECT key FROM jsonb_each(coalesce(b.description, '{}'))) keys
                 WHERE l.description -> k IS DISTINCT FROM b.description -> k) AS detail
          FROM live l FULL JOIN base b ON b.object_key = l.object_key
         WHERE l.description IS DISTINCT FROM b.description
    ), explained AS (   -- the latest out-of-band audit row of each object changed since the snapshot
        SELECT DISTINCT ON (au.object_identity) au.object_identity, au.id, au.at, au.current_user_name, au.statement
          FROM pgmig.ddl_audit au, expected x
         WHERE au.at > x.taken_at AND au.migration_version IS NULL AND au.object_identity IS NOT NULL
         ORDER BY au.object_identity, au.id DESC
    )
    -- A key is "<type> <identity>" and some types have spaces ("materialized view public.m"): the type is the
    -- longest of pg_identify_object's multi-word types the key starts with, else its first word.
    SELECT r.object_type, r.identity, r.change, r.detail, r.changed_at, r.changed_by, r.statement, r.audit_id
      FROM (
    SELECT d.object_key, d.object_type, d.identity, d.change, d.detail, a.at AS changed_at,
           a.current_user_name AS changed_by, a.statement, a.id AS audit_id
      FROM (SELECT diff.*, t.object_type, substr(diff.object_key, length(t.object_type) + 2) AS identity
              FROM diff, LATERAL (
                  SELECT coalesce((SELECT m FROM unnest(ARRAY['materialized view', 'foreign table', 'composite type',
                                                               'table constraint', 'domain constraint',
                                                               'table column', 'view column', 'default value',
                                                               'operator class', 'operator family', 'access method',
                                                               'event trigger', 'statistics object', 'text search parser',
                                                               'text search dictionary', 'text search template',
                                                               'text search configuration', 'foreign-data wrapper',
                                                               'user mapping', 'default acl', 'large object']) m
                                    WHERE diff.object_key LIKE m || ' %' ORDER BY length(m) DESC LIMIT 1),
                                  split_part(diff.object_key, ' ', 1)) AS object_type) t) d
      LEFT JOIN explained a ON a.object_identity = d.identity
     WHERE (SELECT expected = live FROM majors)
    UNION ALL
    -- Taken on another major version (pg_upgrade, or a dump restored into a newer server): its catalogs
    -- describe the same objects differently, so the comparison above would report drift that is not.
    SELECT '', 'server', 'PostgreSQL ' || m.live, 'major version',
           format('the expected schema was recorded on PostgreSQL %s and this server runs %s: schemas of different '
                  'major versions are not compared; check the schema, then record it as expected on %s with '
                  'SELECT migrate_record_major_upgrade() (pgmig_admin)',
                  m.expected, m.live, m.live),
           NULL, NULL, NULL, NULL
      FROM majors m
     WHERE m.expected <> m.live
    ) r
     ORDER BY r.object_key
    $$;
COMMENT ON FUNCTION migrate_drift(boolean) IS
    'migrate_drift(); with ignore_column_order, a table whose columns differ only in order is not drift';

CREATE FUNCTION migrate_drift()
    RETURNS TABLE (object_type text, identity text, change text, detail text, changed_at timestamptz,
                   changed_by name, statement text, audit_id bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM @extschema@.migrate_drift(false) $$;
COMMENT ON FUNCTION migrate_drift() IS
    'differences between the live schema and the one the ledger expects, with who changed it, when and how';

CREATE FUNCTION migrate_record_major_upgrade() RETURNS text
    AS 'MODULE_PATHNAME', 'migrate_record_major_upgrade' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_record_major_upgrade() IS
    'after pg_upgrade to another major version: records the live schema as the expected one (refused on the same major version)';
REVOKE ALL ON FUNCTION migrate_record_major_upgrade() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_record_major_upgrade() TO pgmig_admin;

REVOKE ALL ON FUNCTION migrate_register(text, text, text, text, jsonb),
    migrate_apply(text, boolean, boolean, integer, text), migrate_rollback(integer, boolean, boolean),
    migrate_rollback_to(text, boolean, boolean), migrate_repair(text, text, text),
    migrate_baseline(text), migrate_status(), migrate_verify(), pgmig.split_statements(text),
    migrate_nontx_begin(text, text, boolean, integer, text), migrate_nontx_progress(text, integer), migrate_nontx_finish(text, interval, text),
    migrate_nontx_adopt_index(text, integer),
    migrate_nontx_failed(text, integer, text, text, text), migrate_audit_verify(), pgmig.audit_row_text(pgmig.ddl_audit)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_register(text, text, text, text, jsonb),
    migrate_apply(text, boolean, boolean, integer, text), migrate_rollback(integer, boolean, boolean),
    migrate_rollback_to(text, boolean, boolean), migrate_repair(text, text, text),
    migrate_baseline(text), pgmig.split_statements(text), migrate_nontx_begin(text, text, boolean, integer, text),
    migrate_nontx_progress(text, integer), migrate_nontx_finish(text, interval, text),
    migrate_nontx_failed(text, integer, text, text, text), migrate_nontx_adopt_index(text, integer) TO pgmig_admin;
GRANT EXECUTE ON FUNCTION migrate_status(), migrate_verify(), migrate_audit_verify(),
    pgmig.audit_row_text(pgmig.ddl_audit) TO pgmig_reader;
REVOKE ALL ON pgmig.snapshots, pgmig.expected_objects, pgmig.expected_parts FROM PUBLIC;
GRANT SELECT ON pgmig.snapshots, pgmig.expected_objects, pgmig.expected_parts TO pgmig_reader;

-- Admins may relax the out-of-band policy for their session (an emergency escape that every
-- statement it lets through records in pgmig.ddl_audit.policy).
GRANT SET ON PARAMETER pgmig.out_of_band TO pgmig_admin;

-- ==== data integrity ====
-- Problems in the data and its indexes that the catalog alone does not show. SECURITY INVOKER on purpose:
-- a check is made only when the caller may SELECT every table it reads (else it is reported as
-- not-checked), so a sample value never reaches anyone who could not read it anyway. The queries that
-- evaluate a table owner's code (a CHECK expression, a foreign key's operators and casts, a view behind
-- an owned sequence) run as that table's owner inside a security-restricted operation
-- (pgmig.constraint_violations, pgmig.sequence_column_extreme), never with the caller's rights. It only
-- reads: no VALIDATE, no lock stronger than ACCESS SHARE. Cost: one scan per NOT VALID constraint and per
-- foreign key (an anti-join against the referenced table), one max() per owned sequence's column.

-- The queries that count and sample the rows violating a CHECK or FOREIGN KEY constraint, derived from
-- the catalog only (this function runs nothing of the user's: pgmig.constraint_violations runs its
-- result as the table's owner). builtin_only: a foreign key whose operators are built in and take its
-- columns' (built-in) types as they are, so that its query runs no user code whoever runs it. No row
-- for anything else.
CREATE FUNCTION pgmig.constraint_check_queries(con oid)
    RETURNS TABLE (relid oid, refrelid oid, count_sql text, sample_sql text, builtin_only boolean)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r record;
    cols text;        -- the key columns as written in a sample: "(a, b)"
    vals text;        -- an expression that renders one row's key values
    cond text;        -- the violation condition
    q text;
    s text;
    from_child text;
BEGIN
    SELECT c.oid, c.conname, c.contype, c.conrelid, c.confrelid, c.confmatchtype, c.conkey, c.confkey,
           c.conpfeqop, c.conbin, t.relkind AS child_kind, ft.relkind AS parent_kind
      INTO r
      FROM pg_constraint c
      JOIN pg_class t ON t.oid = c.conrelid
      LEFT JOIN pg_class ft ON ft.oid = c.confrelid
     WHERE c.oid = con AND c.contype IN ('c', 'f');
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT '(' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.i) || ')',
           'concat(''('', concat_ws('', '', '
               || string_agg(format('coalesce(x.%I::text, ''NULL'')', a.attname), ', ' ORDER BY k.i) || '), '')'')'
      INTO cols, vals
      FROM unnest(CASE WHEN r.contype = 'f' THEN r.conkey
                       ELSE (SELECT array_agg(DISTINCT v.attnum ORDER BY v.attnum)
                               FROM pg_depend d, LATERAL (SELECT d.refobjsubid::smallint AS attnum) v
                              WHERE d.classid = 'pg_constraint'::regclass AND d.objid = r.oid
                                AND d.refclassid = 'pg_class'::regclass AND d.refobjid = r.conrelid
                                AND d.refobjsubid > 0) END) WITH ORDINALITY AS k(attnum, i)
      JOIN pg_attribute a ON a.attrelid = r.conrelid AND a.attnum = k.attnum;
    IF vals IS NULL THEN  -- a CHECK on no column: name the row by its ctid
        cols := '(ctid)';
        vals := '''('' || x.ctid::text || '')''';
    END IF;
    -- ONLY for a plain table (its inheritance children have their own constraints); a partitioned
    -- table has no rows of its own, so it is read as a whole.
    from_child := CASE WHEN r.child_kind = 'p' THEN '' ELSE 'ONLY ' END || r.conrelid::regclass::text;
    builtin_only := false;
    IF r.contype = 'c' THEN
        -- A CHECK passes on true and on NULL: only false violates it.
        cond := format('(%s) IS FALSE', pg_get_expr(r.conbin, r.conrelid));
    ELSE
        -- The referenced row, compared with the constraint's own equality operators, each given the
        -- operand types it declares (as PostgreSQL's own foreign-key checks write it), so that no other
        -- operator of that name can be picked.
        SELECT format('NOT EXISTS (SELECT 1 FROM %s%s p WHERE %s)',
                      CASE WHEN r.parent_kind = 'p' THEN '' ELSE 'ONLY ' END, r.confrelid::regclass,
                      string_agg(format('p.%I%s OPERATOR(%I.%s) x.%I%s', pa.attname,
                                        CASE WHEN pa.atttypid <> o.oprleft
                                             THEN format('::%I.%I', ltn.nspname, lt.typname) ELSE '' END,
                                        opn.nspname, o.oprname, ca.attname,
                                        CASE WHEN ca.atttypid <> o.oprright
                                             THEN format('::%I.%I', rtn.nspname, rt.typname) ELSE '' END),
                                 ' AND ' ORDER BY k.i)),
               -- MATCH SIMPLE: a key with any NULL is not checked. MATCH FULL: all NULL is fine,
               -- some NULL is a violation by itself.
               string_agg(format('x.%I IS NOT NULL', ca.attname), ' AND ' ORDER BY k.i),
               string_agg(format('x.%I IS NULL', ca.attname), ' OR ' ORDER BY k.i),
               -- (16384 is FirstNormalObjectId: every object below it was made by initdb)
               bool_and(o.oid < 16384 AND pa.atttypid = o.oprleft AND ca.atttypid = o.oprright
                        AND o.oprleft < 16384 AND o.oprright < 16384)
          INTO q, cond, s, builtin_only
          FROM unnest(r.conkey, r.confkey, r.conpfeqop) WITH ORDINALITY AS k(ck, pk, op, i)
          JOIN pg_attribute ca ON ca.attrelid = r.conrelid AND ca.attnum = k.ck
          JOIN pg_attribute pa ON pa.attrelid = r.confrelid AND pa.attnum = k.pk
          JOIN pg_operator o ON o.oid = k.op
          JOIN pg_namespace opn ON opn.oid = o.oprnamespace
          JOIN pg_type lt ON lt.oid = o.oprleft
          JOIN pg_namespace ltn ON ltn.oid = lt.typnamespace
          JOIN pg_type rt ON rt.oid = o.oprright
          JOIN pg_namespace rtn ON rtn.oid = rt.typnamespace;
        IF r.confmatchtype = 'f' THEN
            -- all NULL: fine; some NULL: violation; none NULL: the referenced row must exist
            cond := format('NOT (%1$s) AND ((%2$s) OR %3$s)', replace(s, ' OR ', ' AND '), s, q);
        ELSE
            cond := format('%s AND %s', cond, q);
        END IF;
    END IF;
    relid := r.conrelid;
    refrelid := NULLIF(r.confrelid, 0);
    count_sql := format('SELECT count(*) FROM %s x WHERE %s', from_child, cond);
    sample_sql := format('SELECT %L || ''='' || %s FROM %s x WHERE %s LIMIT 1', cols, vals, from_child, cond);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION pgmig.constraint_check_queries(oid) IS
    'the count and sample queries of a CHECK or FOREIGN KEY constraint, derived from the catalog (runs nothing)';

-- Counts (and samples) the rows that violate a CHECK or FOREIGN KEY constraint, running the queries of
-- pgmig.constraint_check_queries as the table's owner inside a security-restricted operation: a CHECK
-- always; a foreign key when that owner may read the referenced table, else as the caller when
-- builtin_only, else not at all. not_checked says why nothing was counted (the caller may not SELECT
-- a table, or row-level security hides rows from the caller, ...). It takes a constraint's OID, never
-- SQL text.
CREATE FUNCTION pgmig.constraint_violations(con oid)
    RETURNS TABLE (count bigint, sample text, not_checked text)
    AS 'MODULE_PATHNAME', 'pgmig_constraint_violations'
    LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pgmig.constraint_violations(oid) IS
    'rows violating a CHECK or FOREIGN KEY constraint, counted as the table''s owner in a security-restricted operation';

-- The max() (min() for a descending sequence) of the integer column that owns a sequence, read as the
-- column's table's owner inside a security-restricted operation (the "table" may be a view that calls
-- functions, a foreign table, or have row-level security). not_checked says why it was not read.
CREATE FUNCTION pgmig.sequence_column_extreme(seq oid) RETURNS TABLE (extreme numeric, not_checked text)
    AS 'MODULE_PATHNAME', 'pgmig_sequence_column_extreme'
    LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pgmig.sequence_column_extreme(oid) IS
    'max() (or min()) of the column owning a sequence, read as its table''s owner in a security-restricted operation';

CREATE FUNCTION pgmig.integrity_scan()
    RETURNS TABLE (problem text, severity text, object text, detail text, count bigint, sample text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r record;
    n bigint;
    s text;
    why text;         -- why a check was not made
BEGIN
    -- Constraints (CHECK and FOREIGN KEY) of user tables. A NOT VALID one is reported whatever it finds;
    -- a valid foreign key is reported only when it has orphans (possible after
    -- session_replication_role = replica or disabled triggers).
    FOR r IN
        SELECT c.oid, c.conname, c.contype, c.convalidated, c.conrelid, c.confrelid,
               format('%s on %s', quote_ident(c.conname), c.conrelid::regclass) AS label
          FROM pg_constraint c
          JOIN pg_class t ON t.oid = c.conrelid
          JOIN pg_namespace ns ON ns.oid = t.relnamespace
         WHERE c.contype IN ('c', 'f')
           AND c.conparentid = 0                        -- a partition's copy is checked through its parent
           AND (c.contype = 'c' OR c.confmatchtype IN ('s', 'f'))
           AND (NOT c.convalidated OR c.contype = 'f')
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND ns.nspname NOT LIKE 'pg\_temp\_%' AND ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
         ORDER BY c.conrelid::regclass::text, c.conname
    LOOP
        BEGIN
            SELECT v.count, v.sample, v.not_checked INTO n, s, why FROM pgmig.constraint_violations(r.oid) v;
        EXCEPTION WHEN insufficient_privilege THEN
            n := NULL;
            why := format('permission denied (%s): the check runs as the owner of %s, who needs SELECT on the '
                          'tables it reads and USAGE on their schemas', SQLERRM, r.conrelid::regclass);
        END;
        IF why IS NOT NULL THEN
            problem := 'not-checked'; severity := 'warning'; object := r.label; detail := why;
            count := NULL; sample := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        object := r.label; count := n; sample := s;
        IF NOT r.convalidated THEN
            problem := 'not-valid-constraint';
            IF n = 0 THEN
                severity := 'warning';
                detail := format('%s constraint is NOT VALID but no row violates it now: run ALTER TABLE %s '
                                 'VALIDATE CONSTRAINT %I (takes only a SHARE UPDATE EXCLUSIVE lock)',
                                 CASE r.contype WHEN 'c' THEN 'CHECK' ELSE 'FOREIGN KEY' END,
                                 r.conrelid::regclass, r.conname);
            ELSE
                severity := 'error';
                detail := format('%s constraint is NOT VALID and %s row(s) violate it, so VALIDATE CONSTRAINT '
                                 'would fail: fix or delete those rows first (sample: %s)',
                                 CASE r.contype WHEN 'c' THEN 'CHECK' ELSE 'FOREIGN KEY' END, n, s);
            END IF;
            RETURN NEXT;
        ELSIF n > 0 THEN
            problem := 'fk-orphans'; severity := 'error';
            detail := format('%s row(s) of %s reference no row of %s (sample key %s), although the foreign key '
                             'is valid: rows were written with triggers off (session_replication_role = replica, '
                             'DISABLE TRIGGER); delete them or restore their referenced rows',
                             n, r.conrelid::regclass, r.confrelid::regclass, s);
            RETURN NEXT;
        END IF;
    END LOOP;

    -- Invalid indexes: a failed CREATE INDEX CONCURRENTLY (or REINDEX CONCURRENTLY) leaves one behind. It
    -- is not used by queries yet may still be updated by every write. One still being built is skipped.
    FOR r IN
        SELECT i.indexrelid, i.indrelid, ic.relkind
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_namespace ns ON ns.oid = ic.relnamespace
         WHERE NOT i.indisvalid
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND ns.nspname NOT LIKE 'pg\_temp\_%' AND ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indrelid AND d.deptype = 'e')
         ORDER BY i.indexrelid::regclass::text
    LOOP
        problem := 'invalid-index'; severity := 'error';
        object := format('%s on %s', r.indexrelid::regclass, r.indrelid::regclass);
        detail := CASE WHEN r.relkind = 'I'
            THEN format('partitioned index %s is invalid: some partition lacks its index; create it and ALTER '
                        'INDEX %s ATTACH PARTITION ...', r.indexrelid::regclass, r.indexrelid::regclass)
            ELSE format('index %s is invalid (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY): '
                        'queries do not use it; DROP INDEX CONCURRENTLY %s and create it again, or REINDEX '
                        'INDEX CONCURRENTLY %s', r.indexrelid::regclass, r.indexrelid::regclass,
                        r.indexrelid::regclass) END;
        count := NULL; sample := NULL;
        RETURN NEXT;
    END LOOP;

    -- Sequences owned by a column (serial, identity) whose next value already exists in that column:
    -- the next insert that takes a default fails with a duplicate key (or repeats a value).
    FOR r IN
        SELECT d.objid AS seq, d.refobjid AS rel, a.attname, t.relkind, sq.seqstart, sq.seqincrement
          FROM pg_depend d
          JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
          JOIN pg_sequence sq ON sq.seqrelid = sc.oid
          JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_namespace ns ON ns.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
           AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND ns.nspname NOT LIKE 'pg\_temp\_%' AND ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend e
                            WHERE e.classid = 'pg_class'::regclass AND e.objid = t.oid AND e.deptype = 'e')
         ORDER BY d.objid::regclass::text
    LOOP
        IF NOT has_table_privilege(r.rel, 'SELECT') OR NOT has_sequence_privilege(r.seq, 'SELECT') THEN
            problem := 'not-checked'; severity := 'warning';
            object := format('%s (%s.%I)', r.seq::regclass, r.rel::regclass, r.attname);
            detail := 'permission denied: SELECT on the table and the sequence is needed to compare them';
            count := NULL; sample := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        DECLARE
            last_value bigint := pg_sequence_last_value(r.seq);  -- NULL: nextval() never called
            next_value numeric;
            extreme numeric;
        BEGIN
            next_value := CASE WHEN last_value IS NULL THEN r.seqstart
                               ELSE last_value::numeric + r.seqincrement END;
            -- read as the table's owner: the "table" may be a view that calls functions
            SELECT e.extreme, e.not_checked INTO extreme, why FROM pgmig.sequence_column_extreme(r.seq) e;
            IF why IS NOT NULL THEN
                problem := 'not-checked'; severity := 'warning';
                object := format('%s (%s.%I)', r.seq::regclass, r.rel::regclass, r.attname);
                detail := why;
                count := NULL; sample := NULL;
                RETURN NEXT;
                CONTINUE;
            END IF;
            IF extreme IS NOT NULL
               AND ((r.seqincrement > 0 AND next_value <= extreme) OR (r.seqincrement < 0 AND next_value >= extreme))
            THEN
                problem := 'sequence-behind'; severity := 'error';
                object := format('%s (%s.%I)', r.seq::regclass, r.rel::regclass, r.attname);
                detail := format('sequence %s is at %s (next value %s) but %s(%I) of %s is %s: the next insert '
                                 'that takes the default collides; run SELECT setval(%L, %s)',
                                 r.seq::regclass, coalesce(last_value::text, 'its start, never used'), next_value,
                                 CASE WHEN r.seqincrement > 0 THEN 'max' ELSE 'min' END, r.attname,
                                 r.rel::regclass, extreme, r.seq::regclass::text, extreme);
                count := NULL;
                sample := extreme::text;
                RETURN NEXT;
            END IF;
        END;
    END LOOP;

    -- Tables without a primary key: logical replication cannot replicate their UPDATEs and DELETEs
    -- (without REPLICA IDENTITY FULL), and duplicates cannot be told apart. A partition is covered by its
    -- parent.
    FOR r IN
        SELECT t.oid
          FROM pg_class t
          JOIN pg_namespace ns ON ns.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition AND t.relpersistence <> 't'
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
         ORDER BY t.oid::regclass::text
    LOOP
        problem := 'table-without-primary-key'; severity := 'warning'; object := r.oid::regclass::text;
        detail := format('table %s has no primary key: add one (or a unique NOT NULL key and REPLICA IDENTITY '
                         'USING INDEX) so rows can be told apart and logical replication can update them',
                         r.oid::regclass);
        count := NULL; sample := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION pgmig.integrity_scan() IS 'the findings of migrate_check_integrity(), unordered';

CREATE FUNCTION migrate_check_integrity()
    RETURNS TABLE (problem text, severity text, object text, detail text, count bigint, sample text)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT s.problem, s.severity, s.object, s.detail, s.count, s.sample
      FROM pgmig.integrity_scan() s
     ORDER BY CASE s.severity WHEN 'error' THEN 0 ELSE 1 END, s.problem, s.object
    $$;
COMMENT ON FUNCTION migrate_check_integrity() IS
    'data integrity of the user schemas: NOT VALID constraints, orphaned rows, invalid indexes, sequences '
    'behind their column, tables without a primary key; reads every table a check needs (no row = healthy)';

REVOKE ALL ON FUNCTION pgmig.integrity_scan(), migrate_check_integrity(), pgmig.constraint_check_queries(oid),
    pgmig.constraint_violations(oid), pgmig.sequence_column_extreme(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.integrity_scan(), migrate_check_integrity(), pgmig.constraint_check_queries(oid),
    pgmig.constraint_violations(oid), pgmig.sequence_column_extreme(oid) TO pgmig_reader;
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
-- ==== dry run and rollback tests ====
-- What the rehearsals (migrate_plan, migrate_apply(dry_run => true), migrate_test) measure: the
-- objects of the user schema by key (from pgmig.snapshot_objects, the one catalog reader), and the
-- differences between two such maps.
CREATE FUNCTION pgmig.object_map() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(jsonb_object_agg(object_key, jsonb_build_object('type', object_type, 'identity', identity,
                                                                    'description', description)), '{}'::jsonb)
      FROM pgmig.snapshot_objects()
    $$;
COMMENT ON FUNCTION pgmig.object_map() IS 'the user schema''s objects by key, with type, identity and description';

-- added: in `after` only; removed: in `before` only; changed: in both, with the description keys
-- that differ (columns, acl, definition, ...).
CREATE FUNCTION pgmig.object_diff(before jsonb, after jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH d AS (
        SELECT coalesce(a.key, b.key) AS key,
               CASE WHEN b.key IS NULL THEN 'added' WHEN a.key IS NULL THEN 'removed' ELSE 'changed' END AS change,
               coalesce(a.value, b.value) AS obj,
               (SELECT jsonb_agg(k ORDER BY k)
                  FROM (SELECT key AS k FROM jsonb_each(coalesce(a.value -> 'description', '{}'))
                        UNION SELECT key FROM jsonb_each(coalesce(b.value -> 'description', '{}'))) keys
                 WHERE a.value -> 'description' -> k IS DISTINCT FROM b.value -> 'description' -> k) AS keys
          FROM jsonb_each(after) a FULL JOIN jsonb_each(before) b ON b.key = a.key
         WHERE a.value IS DISTINCT FROM b.value
    )
    SELECT jsonb_build_object(
        'added', coalesce((SELECT jsonb_agg(jsonb_build_object('type', obj ->> 'type', 'identity', obj ->> 'identity')
                                            ORDER BY key) FROM d WHERE change = 'added'), '[]'),
        'removed', coalesce((SELECT jsonb_agg(jsonb_build_object('type', obj ->> 'type', 'identity', obj ->> 'identity')
                                              ORDER BY key) FROM d WHERE change = 'removed'), '[]'),
        'changed', coalesce((SELECT jsonb_agg(jsonb_build_object('type', obj ->> 'type', 'identity', obj ->> 'identity',
                                                                 'keys', keys) ORDER BY key)
                               FROM d WHERE change = 'changed'), '[]'))
    $$;
COMMENT ON FUNCTION pgmig.object_diff(jsonb, jsonb) IS
    'objects added, removed and changed (with the differing keys) between two pgmig.object_map() results';

-- The state a dry run compares before and after each migration: the user relations (name, kind,
-- relfilenode, this transaction's tuple counters), the relation locks this backend holds, and the
-- object map.
CREATE FUNCTION pgmig.rehearsal_state() RETURNS jsonb
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT jsonb_build_object(
        'relations', (SELECT coalesce(jsonb_object_agg(c.oid::text, jsonb_build_object(
                                 'name', format('%I.%I', n.nspname, c.relname), 'kind', c.relkind,
                                 'filenode', c.relfilenode,
                                 'ins', pg_stat_get_xact_tuples_inserted(c.oid),
                                 'upd', pg_stat_get_xact_tuples_updated(c.oid),
                                 'del', pg_stat_get_xact_tuples_deleted(c.oid),
                                 -- the columns of a table or materialized view: what a rollback's rehearsal drops
                                 'cols', CASE WHEN c.relkind IN ('r', 'p', 'm') THEN
                                     (SELECT jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END)), '{}')
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig')
                         AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'),
        'locks', (SELECT coalesce(jsonb_agg(DISTINCT l.relation::oid::text || ' ' || l.mode), '[]')
                    FROM pg_locks l
                   WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
                     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),
        'objects', pgmig.object_map())
    $$;
COMMENT ON FUNCTION pgmig.rehearsal_state() IS 'what a dry run compares before and after each migration';

-- What happened since `before` (a rehearsal_state()): new relation locks on relations that existed
-- before (locks on relations the migration created block nobody), tables whose relfilenode changed
-- (rewritten, or truncated), rows inserted/updated/deleted per table, the catalog diff, and what was
-- dropped that held data (tables, materialized views, columns by their table's OID; schemas).
CREATE FUNCTION pgmig.rehearsal_effects(before jsonb) RETURNS jsonb
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH now AS (SELECT pgmig.rehearsal_state() AS s),
    rels AS (
        SELECT r.key AS oid, r.value AS after, before -> 'relations' -> r.key AS before
          FROM now, jsonb_each(now.s -> 'relations') r
    ),
    touched AS (
        SELECT coalesce(after ->> 'name', before ->> 'name') AS name,
               (after ->> 'ins')::bigint - coalesce((before ->> 'ins')::bigint, 0) AS ins,
               (after ->> 'upd')::bigint - coalesce((before ->> 'upd')::bigint, 0) AS upd,
               (after ->> 'del')::bigint - coalesce((before ->> 'del')::bigint, 0) AS del
          FROM rels WHERE after ->> 'kind' IN ('r', 'm', 'p')
    )
    SELECT jsonb_build_object(
        'locks', (SELECT coalesce(jsonb_agg(jsonb_build_object('relation', before -> 'relations' -> split_part(l, ' ', 1) ->> 'name',
                                                               'mode', split_part(l, ' ', 2)) ORDER BY l), '[]')
                    FROM now, jsonb_array_elements_text(now.s -> 'locks') l
                   WHERE before -> 'relations' ? split_part(l, ' ', 1) AND NOT before -> 'locks' ? l),
        'rewritten', (SELECT coalesce(jsonb_agg(jsonb_build_object('table', before ->> 'name',
                                                                   'relfilenode_before', (before ->> 'filenode')::bigint,
                                                                   'relfilenode_after', (after ->> 'filenode')::bigint)
                                                ORDER BY before ->> 'name'), '[]')
                        FROM rels
                       WHERE before IS NOT NULL AND after ->> 'kind' IN ('r', 'm')
                         AND after -> 'filenode' IS DISTINCT FROM before -> 'filenode'),
        'rows', (SELECT jsonb_build_object(
                     'inserted', coalesce(sum(ins), 0), 'updated', coalesce(sum(upd), 0),
                     'deleted', coalesce(sum(del), 0),
                     'tables', coalesce(jsonb_agg(jsonb_build_object('table', name, 'inserted', ins, 'updated', upd,
                                                                     'deleted', del) ORDER BY name)
                                        FILTER (WHERE ins + upd + del > 0), '[]'))
                   FROM touched),
        'catalog_diff', pgmig.object_diff(before -> 'objects', now.s -> 'objects'),
        'dropped', (SELECT coalesce(jsonb_agg(d.o ORDER BY d.o ->> 'identity', d.o ->> 'type'), '[]') FROM (
                       SELECT jsonb_build_object('type', CASE r.value ->> 'kind' WHEN 'm' THEN 'materialized view'
                                                                               ELSE 'table' END,
                                                 'identity', r.value ->> 'name', 'relation', r.key::bigint) AS o
                         FROM jsonb_each(before -> 'relations') r
                        WHERE r.value ->> 'kind' IN ('r', 'p', 'm') AND NOT (now.s -> 'relations') ? r.key
                       UNION ALL
                       SELECT jsonb_build_object('type', 'column', 'identity', (r.value ->> 'name') || '.' || quote_ident(col),
                                                 'relation', r.key::bigint)
                         FROM jsonb_each(before -> 'relations') r,
                              jsonb_array_elements_text(CASE jsonb_typeof(r.value -> 'cols') WHEN 'array'
                                                        THEN r.value -> 'cols' ELSE '[]' END) col
                        WHERE (now.s -> 'relations') ? r.key
                          AND NOT (now.s -> 'relations' -> r.key -> 'cols') ? col
                       UNION ALL
                       SELECT jsonb_build_object('type', 'schema', 'identity', o.value ->> 'identity')
                         FROM jsonb_each(before -> 'objects') o
                        WHERE o.value ->> 'type' = 'schema' AND NOT (now.s -> 'objects') ? o.key) d))
      FROM now
    $$;
COMMENT ON FUNCTION pgmig.rehearsal_effects(jsonb) IS
    'locks taken, tables rewritten, rows touched and the catalog diff since a pgmig.rehearsal_state()';

-- The dry run: every pending migration (up to target) rehearsed in a subtransaction that is always
-- rolled back; one row per migration. Nothing persists (see docs/reference.md for the exact list).
CREATE FUNCTION migrate_plan(target text DEFAULT NULL, trust boolean DEFAULT false)
    RETURNS TABLE (version text, name text, rehearsable boolean, outcome text, reason text, statements integer,
                   duration interval, locks jsonb, rewritten jsonb, rows_touched bigint, catalog_diff jsonb,
                   lint jsonb, persisted boolean)
    AS 'MODULE_PATHNAME', 'migrate_plan'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_plan(text, boolean) IS
    'rehearses the pending migrations in a subtransaction that is always rolled back and reports their effects';

-- The rollback test of one pending migration: up, down, up again, each compared by fingerprint;
-- always rolled back.
CREATE FUNCTION migrate_test(version text, trust boolean DEFAULT false)
    RETURNS TABLE (step integer, check_name text, passed boolean, detail text, differing jsonb)
    AS 'MODULE_PATHNAME', 'migrate_test'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_test(text, boolean) IS
    'runs up, down and up again of a pending migration and checks that down restores the exact schema; leaves nothing behind';

REVOKE ALL ON FUNCTION migrate_plan(text, boolean), migrate_test(text, boolean), pgmig.rehearsal_state(),
    pgmig.rehearsal_effects(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_plan(text, boolean), migrate_test(text, boolean), pgmig.rehearsal_state(),
    pgmig.rehearsal_effects(jsonb) TO pgmig_admin;

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

-- ==== backups ====
-- pg_dump (and so pgmig backup) includes the ledger, its history and the schema snapshots, so that a restored
-- database knows which migrations it has. The DDL audit trail is not included: a restore's own DDL is audited
-- in the new database, whose chain starts afresh. The CREATE EXTENSION snapshot is made by the extension itself.
SELECT pg_catalog.pg_extension_config_dump('pgmig.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.history', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.snapshots', $$WHERE reason <> 'CREATE EXTENSION'$$);
SELECT pg_catalog.pg_extension_config_dump('pgmig.snapshots_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.expected_objects', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.expected_parts', '');
-- pg_dump reads the state of each marked sequence (SELECT last_value, is_called FROM ...): the role that takes
-- backups (a pgmig_admin member: pgmig deploy takes them) needs SELECT on them as it has on the tables. A
-- sequence's last value tells nothing that reading its table does not.
GRANT SELECT ON SEQUENCE pgmig.history_id_seq, pgmig.snapshots_id_seq TO pgmig_reader;
-- ==== deploy steps in the history ====
-- pgmig deploy records its steps beside the migrations' own rows: the backup it took (file, time, size)
-- and how the deploy ended. name is 'deploy <environment>', reason the step, message what happened.
CREATE FUNCTION migrate_record_deploy(environment text, step text, message text, duration interval DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'migrate_record_deploy' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_record_deploy(text, text, text, interval) IS
    'pgmig deploy: records a step (backup, succeeded, failed) of a deploy to an environment in pgmig.history';
REVOKE ALL ON FUNCTION migrate_record_deploy(text, text, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_record_deploy(text, text, text, interval) TO pgmig_admin;

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

-- Last, so that nothing above is audited or blocked while the extension is being created.
CREATE FUNCTION pgmig.audit_event() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'pgmig_audit_event' LANGUAGE C;
COMMENT ON FUNCTION pgmig.audit_event() IS 'pgmig''s event triggers: out-of-band policy and the DDL audit trail';
CREATE EVENT TRIGGER pgmig_ddl_start ON ddl_command_start EXECUTE FUNCTION pgmig.audit_event();
CREATE EVENT TRIGGER pgmig_ddl_end ON ddl_command_end EXECUTE FUNCTION pgmig.audit_event();
CREATE EVENT TRIGGER pgmig_sql_drop ON sql_drop EXECUTE FUNCTION pgmig.audit_event();
CREATE EVENT TRIGGER pgmig_table_rewrite ON table_rewrite EXECUTE FUNCTION pgmig.audit_event();
-- ALWAYS: DDL in session_replication_role = replica is audited too (the out-of-band policy is not applied
-- there: replication applies what was vetted at the origin).
ALTER EVENT TRIGGER pgmig_ddl_start ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_table_rewrite ENABLE ALWAYS;
