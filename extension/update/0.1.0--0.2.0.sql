-- pgmig 0.1.0 -> 0.2.0 (ALTER EXTENSION pgmig UPDATE). Built into extension/pgmig--0.1.0--0.2.0.sql:
-- each "@copy"/"@replace" line becomes that statement of pgmig--0.2.0.sql (extension/update/statements.awk).
-- Rules for every update: keep every row; add columns that are NULL or have a default (the audit
-- writer and an older library loaded by a running session write rows without them); never change a
-- function's arguments or result in place.
\echo Use "ALTER EXTENSION pgmig UPDATE" to load this file. \quit

-- Snapshots state the PostgreSQL major version they were taken on (NULL: pgmig 0.1.0's, taken on 15).
ALTER TABLE pgmig.snapshots ADD COLUMN server_major integer;
COMMENT ON COLUMN pgmig.snapshots.server_major IS
    'the PostgreSQL major version the snapshot was taken on; NULL: taken by pgmig 0.1.0, on PostgreSQL 15';

-- The expected schema is kept object by object, and the snapshot after a migration is derived from the
-- one before and the objects the migration touched. 0.1.0's rows keep their documents, read as before;
-- the first snapshot after the update describes the whole schema.
ALTER TABLE pgmig.snapshots ALTER COLUMN fingerprint DROP NOT NULL, ALTER COLUMN snapshot DROP NOT NULL,
    ADD COLUMN audit_id bigint, ADD COLUMN database_identity text, ADD COLUMN roles text,
    ADD COLUMN derived boolean NOT NULL DEFAULT false, ADD COLUMN full_because text, ADD COLUMN described integer;
-- @copy: COMMENT ON COLUMN pgmig.snapshots.snapshot IS
-- @copy: COMMENT ON COLUMN pgmig.snapshots.derived IS
-- @copy: COMMENT ON COLUMN pgmig.snapshots.full_because IS
-- @copy: COMMENT ON COLUMN pgmig.snapshots.described IS
-- @copy: CREATE TABLE pgmig.expected_objects (
-- @copy: COMMENT ON TABLE pgmig.expected_objects IS
-- @copy: CREATE TABLE pgmig.expected_parts (
-- @copy: CREATE INDEX expected_parts_object_key ON pgmig.expected_parts (object_key);
-- @copy: COMMENT ON TABLE pgmig.expected_parts IS
REVOKE ALL ON pgmig.expected_objects, pgmig.expected_parts FROM PUBLIC;
GRANT SELECT ON pgmig.expected_objects, pgmig.expected_parts TO pgmig_reader;
SELECT pg_catalog.pg_extension_config_dump('pgmig.expected_objects', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.expected_parts', '');
-- @copy: CREATE FUNCTION pgmig.expected_schema() RETURNS TABLE (object_key text, description jsonb)
-- @copy: COMMENT ON FUNCTION pgmig.expected_schema() IS 'the schema the ledger expects, one row per object';
-- @copy: CREATE FUNCTION migrate_expected_snapshot() RETURNS jsonb
-- @copy: COMMENT ON FUNCTION migrate_expected_snapshot() IS
-- @copy: CREATE FUNCTION migrate_expected_fingerprint() RETURNS text
-- @copy: COMMENT ON FUNCTION migrate_expected_fingerprint() IS
-- @copy: CREATE FUNCTION pgmig.role_names() RETURNS text
-- @copy: COMMENT ON FUNCTION pgmig.role_names() IS 'a hash of every role''s OID and name';
-- @copy: CREATE FUNCTION pgmig.snapshot_underivable(database text) RETURNS text
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_underivable(text) IS
-- @copy: CREATE FUNCTION pgmig.expect_whole_schema() RETURNS integer
-- @copy: COMMENT ON FUNCTION pgmig.expect_whole_schema() IS
-- @copy: CREATE FUNCTION pgmig.change_scope(classids oid[], objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.change_scope(oid[], oid[]) IS
-- @copy: CREATE FUNCTION pgmig.expect_changes(classids oid[], objids oid[]) RETURNS integer
-- @copy: COMMENT ON FUNCTION pgmig.expect_changes(oid[], oid[]) IS
-- @copy: CREATE FUNCTION pgmig.expected_unchanged(classids oid[], objids oid[]) RETURNS integer
-- @copy: COMMENT ON FUNCTION pgmig.expected_unchanged(oid[], oid[]) IS
-- @copy: REVOKE ALL ON FUNCTION pgmig.snapshot_underivable(text), pgmig.expect_whole_schema(),

-- An apply reads the pending migrations without reading the applied history.
-- @copy: CREATE INDEX migrations_pending ON pgmig.migrations (version_key) WHERE applied_at IS NULL OR version IS NULL;

-- The tamper check verifies only the rows of the ledger's pages changed since it last verified them.
-- @copy: CREATE TABLE pgmig.ledger_verified (
-- @copy: COMMENT ON TABLE pgmig.ledger_verified IS
REVOKE ALL ON pgmig.ledger_verified FROM PUBLIC;
GRANT SELECT ON pgmig.ledger_verified TO pgmig_reader;

-- History rows say which fleet deploy run (pgmig.deploy_run) wrote them. No default: 0.1.0's rows stay
-- NULL (written by no run), and every writer of 0.2.0 names the run itself.
ALTER TABLE pgmig.history ADD COLUMN deploy_run text;
ALTER TABLE pgmig.history ADD CONSTRAINT history_deploy_run_format
    CHECK (deploy_run IS NULL OR deploy_run OPERATOR(pg_catalog.~) '^[A-Za-z0-9_.:-]{1,64}$');
-- @copy: COMMENT ON COLUMN pgmig.history.deploy_run IS

-- migrate_audit_verify() hashes again only the rows of pages changed since it last found the chain intact.
-- @copy: CREATE TABLE pgmig.audit_verified (
-- @copy: COMMENT ON TABLE pgmig.audit_verified IS
REVOKE ALL ON pgmig.audit_verified FROM PUBLIC;
GRANT SELECT ON pgmig.audit_verified TO pgmig_reader;
-- @copy: CREATE TRIGGER audit_verified_written_by_pgmig BEFORE INSERT OR UPDATE ON pgmig.audit_verified
ALTER TABLE pgmig.audit_verified ENABLE ALWAYS TRIGGER audit_verified_written_by_pgmig;
-- @copy: CREATE FUNCTION migrate_audit_verify(whole boolean)
-- @copy: COMMENT ON FUNCTION migrate_audit_verify(boolean) IS
REVOKE ALL ON FUNCTION migrate_audit_verify(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_audit_verify(boolean) TO pgmig_reader;
-- The canonical text of an audit row, inlined into the sealing and verifying queries (no SET clause).
-- @replace: CREATE FUNCTION pgmig.audit_row_text(a pgmig.ddl_audit) RETURNS text
-- migrate_drift() does not compare schemas recorded on another major version, and says so.
-- @replace: CREATE FUNCTION migrate_drift(ignore_column_order boolean)
-- migrate_drift() calls it through a standard SQL body, which survives a rename of the extension's schema.
-- @replace: CREATE FUNCTION migrate_drift()

-- @copy: CREATE FUNCTION migrate_record_major_upgrade() RETURNS text
COMMENT ON FUNCTION migrate_record_major_upgrade() IS
    'after pg_upgrade to another major version: records the live schema as the expected one (refused on the same major version)';
REVOKE ALL ON FUNCTION migrate_record_major_upgrade() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_record_major_upgrade() TO pgmig_admin;

-- The snapshot reads the catalogs of PostgreSQL 17 and 18 too (renamed columns read from the row;
-- NOT NULL constraints, which 18 catalogs as constraints, stay a column's "not_null").
-- It describes a set of objects as well as all of them (the rollback test compares only the objects a
-- migration touched, with their dependents).
-- @copy: CREATE FUNCTION pgmig.user_namespaces() RETURNS TABLE (oid oid, nspname name)
-- @copy: COMMENT ON FUNCTION pgmig.user_namespaces() IS
-- @copy: CREATE FUNCTION pgmig.extension_members(objids oid[]) RETURNS TABLE (classid oid, objid oid)
-- @copy: COMMENT ON FUNCTION pgmig.extension_members(oid[]) IS
-- @copy: CREATE FUNCTION pgmig.user_relations()
-- @copy: COMMENT ON FUNCTION pgmig.user_relations() IS
-- @copy: CREATE FUNCTION pgmig.snapshot_relations_among(objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_relations_among(oid[]) IS
-- @copy: CREATE FUNCTION pgmig.snapshot_others_among(objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_others_among(oid[]) IS
-- @copy: CREATE FUNCTION pgmig.snapshot_objects_among(objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_objects_among(oid[]) IS
-- @copy: CREATE FUNCTION pgmig.snapshot_described(classids oid[], objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_described(oid[], oid[]) IS
-- @replace: CREATE FUNCTION pgmig.snapshot_objects()
-- @copy: CREATE FUNCTION pgmig.snapshot_scope(classids oid[], objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_scope(oid[], oid[]) IS
-- @copy: CREATE FUNCTION pgmig.snapshot_parts(classids oid[], objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_parts(oid[], oid[]) IS

-- migrate_status() and migrate_verify() read only the rows whose stored script no longer hashes to its
-- checksum (the scripts are still all hashed) instead of joining a checksum per migration back to the
-- ledger: half the time at 100,000 migrations.
-- @copy: CREATE FUNCTION pgmig.tampered_scripts()
-- @copy: COMMENT ON FUNCTION pgmig.tampered_scripts() IS
REVOKE ALL ON FUNCTION pgmig.tampered_scripts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.tampered_scripts() TO pgmig_reader;
-- @replace: CREATE FUNCTION migrate_status()
-- @replace: CREATE FUNCTION migrate_verify()

-- The schema's descriptions, fingerprints and drift are readers' functions, as everything else that reads
-- pgmig's schema (0.1.0 left EXECUTE to PUBLIC, whose calls then failed on the schema's USAGE only).
-- @copy: REVOKE ALL ON FUNCTION migrate_snapshot(), migrate_fingerprint(), migrate_fingerprint(boolean),
-- @copy: GRANT EXECUTE ON FUNCTION migrate_snapshot(), migrate_fingerprint(), migrate_fingerprint(boolean),

-- migrate_apply_tested(): the rollback test whose last run of up is kept as the apply.
-- @copy: CREATE FUNCTION migrate_apply_tested(version text, trust boolean DEFAULT false)
-- @copy: COMMENT ON FUNCTION migrate_apply_tested(text, boolean) IS
REVOKE ALL ON FUNCTION migrate_apply_tested(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_apply_tested(text, boolean) TO pgmig_admin;

-- migrate_audit_recorder(): what records DDL (pgmig's triggers or its hooks) and the superuser's switch. An
-- update keeps the triggers as they are (CREATE EXTENSION chooses the hooks where pgmig is preloaded).
-- @copy: CREATE FUNCTION migrate_audit_recorder()
-- @copy: COMMENT ON FUNCTION migrate_audit_recorder() IS
REVOKE ALL ON FUNCTION migrate_audit_recorder() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_audit_recorder() TO pgmig_reader;
-- @copy: CREATE FUNCTION migrate_audit_recorder(recorder text)
-- @copy: COMMENT ON FUNCTION migrate_audit_recorder(text) IS
REVOKE ALL ON FUNCTION migrate_audit_recorder(text) FROM PUBLIC;
