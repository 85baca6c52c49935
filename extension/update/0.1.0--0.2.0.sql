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

-- History rows say which fleet deploy run (pgmig.deploy_run) wrote them. No default: 0.1.0's rows stay
-- NULL (written by no run), and every writer of 0.2.0 names the run itself.
ALTER TABLE pgmig.history ADD COLUMN deploy_run text;
ALTER TABLE pgmig.history ADD CONSTRAINT history_deploy_run_format
    CHECK (deploy_run IS NULL OR deploy_run OPERATOR(pg_catalog.~) '^[A-Za-z0-9_.:-]{1,64}$');
-- @copy: COMMENT ON COLUMN pgmig.history.deploy_run IS

-- migrate_drift() does not compare schemas recorded on another major version, and says so.
-- @replace: CREATE FUNCTION migrate_drift(ignore_column_order boolean)

-- @copy: CREATE FUNCTION migrate_record_major_upgrade() RETURNS text
COMMENT ON FUNCTION migrate_record_major_upgrade() IS
    'after pg_upgrade to another major version: records the live schema as the expected one (refused on the same major version)';
REVOKE ALL ON FUNCTION migrate_record_major_upgrade() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_record_major_upgrade() TO pgmig_admin;

-- The snapshot reads the catalogs of PostgreSQL 17 and 18 too (renamed columns read from the row;
-- NOT NULL constraints, which 18 catalogs as constraints, stay a column's "not_null").
-- It describes a set of objects as well as all of them (the rollback test compares only the objects a
-- migration touched, with their dependents).
-- @copy: CREATE FUNCTION pgmig.snapshot_objects_among(objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_objects_among(oid[]) IS
-- @replace: CREATE FUNCTION pgmig.snapshot_objects()
-- @copy: CREATE FUNCTION pgmig.snapshot_scope(classids oid[], objids oid[])
-- @copy: COMMENT ON FUNCTION pgmig.snapshot_scope(oid[], oid[]) IS

-- migrate_status() and migrate_verify() read only the rows whose stored script no longer hashes to its
-- checksum (the scripts are still all hashed) instead of joining a checksum per migration back to the
-- ledger: half the time at 100,000 migrations.
-- @copy: CREATE FUNCTION pgmig.tampered_scripts()
-- @copy: COMMENT ON FUNCTION pgmig.tampered_scripts() IS
REVOKE ALL ON FUNCTION pgmig.tampered_scripts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.tampered_scripts() TO pgmig_reader;
-- @replace: CREATE FUNCTION migrate_status()
-- @replace: CREATE FUNCTION migrate_verify()
