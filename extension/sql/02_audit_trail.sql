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

-- How far migrate_audit_verify() has verified the sealed chain: the rows of pages not changed since
-- (their LSN is not beyond verified_through, in the same storage) are not hashed again.
CREATE TABLE pgmig.audit_verified (
    one              boolean     PRIMARY KEY DEFAULT true CHECK (one),
    storage          text        NOT NULL,
    verified_through pg_lsn      NOT NULL,
    head_position    bigint      NOT NULL,
    verified_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE pgmig.audit_verified IS
    'how far migrate_audit_verify() has verified the audit chain (rows of pages not changed since are not hashed again)';
REVOKE ALL ON pgmig.audit_verified FROM PUBLIC;
GRANT SELECT ON pgmig.audit_verified TO pgmig_reader;

-- Every name in the body is schema-qualified (EXTRACT is pg_catalog.extract by the grammar), so it needs
-- no SET search_path, and without one PostgreSQL inlines it into the query that calls it: sealing and
-- verifying call it for every row of the trail, and a call through the SQL-function executor cost five
-- times the expression (about 4 microseconds a row).
CREATE FUNCTION pgmig.audit_row_text(a pgmig.ddl_audit) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT pg_catalog.format('%s|%s|%s|%s|%L|%L|%L|%L|%L|%L|%L|%L|%L|%s|%L|%L|%L',
                  a.id, extract(epoch FROM a.at), a.txid, a.backend_pid, a.session_user_name,
                  a.current_user_name, a.application_name, pg_catalog.host(a.client_addr), a.event, a.command_tag,
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
-- Only pgmig writes how far it verified; deleting the record is harmless (the next call walks the chain
-- whole), and is how an administrator asks for that.
CREATE TRIGGER audit_verified_written_by_pgmig BEFORE INSERT OR UPDATE ON pgmig.audit_verified
    FOR EACH ROW EXECUTE FUNCTION pgmig.audit_guard();
ALTER TABLE pgmig.audit_verified ENABLE ALWAYS TRIGGER audit_verified_written_by_pgmig;

REVOKE ALL ON pgmig.migrations, pgmig.history, pgmig.ddl_audit FROM PUBLIC;
GRANT SELECT ON pgmig.migrations, pgmig.history, pgmig.ddl_audit TO pgmig_reader;
-- (pgmig.snapshots, created below, gets the same grants there)

