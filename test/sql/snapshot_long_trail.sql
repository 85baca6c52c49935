-- Whether the next snapshot can be derived is decided from the audit rows written since the newest
-- snapshot, read through the audit trail's primary key: never a scan of the whole trail, whose length
-- would otherwise be paid again by every apply (and twice by every migration pgmig test applies).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE DATABASE regress_pgmig_trail;
\c regress_pgmig_trail
SET client_min_messages = warning;
CREATE EXTENSION pgmig;
-- A long trail of out-of-band DDL, then a migration: its snapshot describes the whole schema and
-- names the newest audit row.
DO $$
BEGIN
    FOR i IN 1..800 LOOP
        EXECUTE format('CREATE TABLE scratch_%s (id int)', i);
        EXECUTE format('DROP TABLE scratch_%s', i);
    END LOOP;
END
$$;
SELECT count(*) >= 1600 AS long_trail FROM pgmig.ddl_audit;
SELECT migrate_register('1', 'accounts', 'CREATE TABLE accounts (id bigint PRIMARY KEY);') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT derived, full_because IS NOT NULL AS full FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
ANALYZE pgmig.ddl_audit;

-- Counted in a fresh session (a session's scan counts are pending until flushed, earlier transactions
-- included); no helper functions here: creating even a temporary one is DDL outside migrations.
\c regress_pgmig_trail
BEGIN;
SELECT pgmig.snapshot_underivable((SELECT database_identity FROM pgmig.snapshots ORDER BY id DESC LIMIT 1)) IS NULL
    AS derivable;
SELECT pgmig.snapshot_underivable((SELECT database_identity FROM pgmig.snapshots ORDER BY id DESC LIMIT 1)) IS NULL
    AS derivable;
SELECT seq_scan AS trail_scans FROM pg_stat_xact_user_tables WHERE relid = 'pgmig.ddl_audit'::regclass;
COMMIT;
-- The generic plan a session keeps after a few calls, forced from the first.
\c regress_pgmig_trail
SET plan_cache_mode = force_generic_plan;
BEGIN;
SELECT pgmig.snapshot_underivable((SELECT database_identity FROM pgmig.snapshots ORDER BY id DESC LIMIT 1)) IS NULL
    AS derivable;
SELECT seq_scan AS trail_scans FROM pg_stat_xact_user_tables WHERE relid = 'pgmig.ddl_audit'::regclass;
COMMIT;
-- The check still sees DDL outside migrations, however far back the trail goes.
CREATE TABLE out_of_band (id int);
SELECT pgmig.snapshot_underivable((SELECT database_identity FROM pgmig.snapshots ORDER BY id DESC LIMIT 1));
-- Who made a drift is looked up among the audit rows written since the snapshot, read through the
-- primary key too: migrate_drift(), which pgmig health runs on every check, costs the same however
-- long the trail, and still names who made the change and how.
\c regress_pgmig_trail
BEGIN;
SELECT object_type, identity, change, changed_by IS NOT NULL AS attributed, statement FROM migrate_drift();
SELECT seq_scan AS trail_scans FROM pg_stat_xact_user_tables WHERE relid = 'pgmig.ddl_audit'::regclass;
COMMIT;
SELECT migrate_register('2', 'ledger', 'CREATE TABLE ledger (id bigint PRIMARY KEY);') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT derived, full_because FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
SELECT migrate_register('3', 'entries', 'CREATE TABLE entries (id bigint PRIMARY KEY);') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT derived, full_because FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
SELECT count(*) AS drift FROM migrate_drift();

\c contrib_regression
DROP DATABASE regress_pgmig_trail;
