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

