-- pgmig 0.2.0: the migration ledger (schema pgmig) and its SQL API (in the extension's schema).
-- Made by the Makefile from extension/sql/*.sql (one file per feature, in name order): edit those.
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

