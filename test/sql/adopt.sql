-- migrate_adopt: another migration tool's history table becomes pgmig's ledger. Exactly what the table
-- records as applied is marked applied (with the tool's time and user), the rest stays pending; a failed
-- or dirty state, a recorded migration without a file, and a ledger with another history are refused.
\set SHOW_CONTEXT never
CREATE DATABASE regress_pgmig_adopt;
\c regress_pgmig_adopt
SET TimeZone = 'UTC';
CREATE EXTENSION pgmig;
CREATE FUNCTION plan(tool text, files jsonb, apply boolean DEFAULT false)
    RETURNS TABLE (version text, tool_id text, state text, applied_at timestamptz, applied_by text, detail text)
    LANGUAGE sql AS $$ SELECT version, tool_id, state, applied_at, applied_by, detail FROM migrate_adopt(tool, files, apply) $$;
CREATE FUNCTION register(n int) RETURNS void LANGUAGE sql AS $$
    SELECT count(migrate_register(v::text, 'm' || v, format('CREATE TABLE t%s (id int)', v))) FROM generate_series(1, n) v $$;
CREATE FUNCTION files(n int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object('version', v::text, 'name', 'm' || v,
                                        'checksum', pgmig.script_checksum(format('CREATE TABLE t%s (id int)', v))))
      FROM generate_series(1, n) v $$;

-- 1. Flyway, in the schema it was pointed at (not public): two migrations applied, a repeatable one, the
--    schema-creation marker; the folder has a third, newer file.
CREATE SCHEMA app;
CREATE TABLE app.flyway_schema_history (
    installed_rank integer NOT NULL PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);
INSERT INTO app.flyway_schema_history VALUES
    (0, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '"app"', NULL, 'alice', '2024-01-01 09:00', 0, true),
    (1, '1', 'm1', 'SQL', 'V1__m1.sql', 11, 'alice', '2024-01-01 10:00', 12, true),
    (2, '2', 'm2', 'SQL', 'V2__m2.sql', 22, 'bob', '2024-01-02 10:00', 5, true),
    (3, NULL, 'views', 'SQL', 'R__views.sql', 33, 'bob', '2024-01-02 10:00', 1, true);
SELECT * FROM migrate_adopt_sources();
SELECT * FROM plan('flyway', files(3));
-- Nothing is written by the plan; applying needs the files registered (pgmig adopt does both).
SELECT count(*) AS registered FROM pgmig.migrations;
SELECT register(3);
SELECT * FROM plan('flyway', files(3), true);
SELECT version, state, applied_at, applied_by, duration FROM migrate_status();
SELECT version, action, current_user_name, message FROM pgmig.history WHERE action = 'adopt' ORDER BY id;
SELECT * FROM migrate_verify();
SELECT reason FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
-- Again: the ledger holds this history already, nothing changes.
SELECT * FROM plan('flyway', files(3), true);
SELECT count(*) AS adopt_rows FROM pgmig.history WHERE action = 'adopt';
-- New migrations apply on top.
SELECT version, action FROM migrate_apply();

-- 2. A ledger with another history is refused (PM063): here migration 3 applied by pgmig, which Flyway
--    does not record, and a file whose text changed since the ledger applied it.
SELECT * FROM plan('flyway', files(3));
SELECT * FROM plan('flyway', files(3), true);
SELECT * FROM plan('flyway', jsonb_set(files(2), '{1,checksum}', '"0000"'));
DROP SCHEMA app CASCADE;
DROP EXTENSION pgmig;
DROP TABLE t3;
CREATE EXTENSION pgmig;

-- 3. Flyway: a failed migration, a baseline, undone and deleted rows.
CREATE TABLE flyway_schema_history (LIKE pg_catalog.pg_class INCLUDING ALL);  -- not Flyway's: refused by its columns
SELECT * FROM migrate_adopt_sources();
SELECT * FROM plan('flyway', files(1));
DROP TABLE flyway_schema_history;
CREATE TABLE flyway_schema_history (
    installed_rank integer NOT NULL PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);
INSERT INTO flyway_schema_history VALUES
    (1, '2', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'carol', '2024-02-01 10:00', 0, true),
    (2, '3', 'm3', 'SQL', 'V3__m3.sql', 3, 'carol', '2024-02-02 10:00', 7, true),
    (3, '4', 'm4', 'SQL', 'V4__m4.sql', 4, 'carol', '2024-02-03 10:00', 7, true),
    (4, '4', 'm4', 'UNDO_SQL', 'U4__m4.sql', 4, 'carol', '2024-02-04 10:00', 7, true),
    (5, '5', 'm5', 'SQL', 'V5__m5.sql', 5, 'carol', '2024-02-05 10:00', 7, true),
    (6, '5', 'm5', 'DELETE', 'V5__m5.sql', 5, 'carol', '2024-02-06 10:00', 0, true);
SELECT * FROM plan('flyway', files(6));
INSERT INTO flyway_schema_history VALUES
    (7, '6', 'm6', 'SQL', 'V6__m6.sql', 6, 'carol', '2024-02-07 10:00', 7, false);
SELECT * FROM plan('flyway', files(6));
SELECT register(6);
SELECT * FROM plan('flyway', files(6), true);
SELECT count(*) AS applied FROM pgmig.migrations WHERE applied_at IS NOT NULL;
-- A migration Flyway recorded that no file has is refused too.
DELETE FROM flyway_schema_history WHERE installed_rank = 7;
SELECT * FROM plan('flyway', files(2), true);
DROP TABLE flyway_schema_history;

-- 4. golang-migrate (schema_migrations with a dirty flag) and dbmate (schema_migrations of versions), told
--    apart by their columns.
CREATE SCHEMA gm;
CREATE TABLE gm.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO gm.schema_migrations VALUES (3, true);
CREATE TABLE schema_migrations (version varchar(128) NOT NULL PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('1'), ('3');
SELECT * FROM migrate_adopt_sources();
SELECT * FROM plan('golang-migrate', files(4));
SELECT * FROM plan('golang-migrate', files(4), true);
UPDATE gm.schema_migrations SET dirty = false;
SELECT * FROM plan('golang-migrate', files(4));
SELECT * FROM plan('dbmate', files(4));
DROP SCHEMA gm CASCADE;
DROP TABLE schema_migrations;

-- 5. goose: a rolled-back migration is a newer row with is_applied = false (older goose) or no row.
CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL,
                               tstamp timestamp DEFAULT now());
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
    (0, true, '2024-03-01'), (1, true, '2024-03-02'), (2, true, '2024-03-03'), (2, false, '2024-03-04'),
    (3, true, '2024-03-05');
SELECT * FROM plan('goose', '[{"version": "1", "tool_id": "1"}, {"version": "2", "tool_id": "2"},
                             {"version": "3", "tool_id": "3"}]');
DROP TABLE goose_db_version;

-- 6. Prisma: a migration that failed (finished_at and rolled_back_at NULL) is refused; one marked rolled
--    back and applied again is applied. Matched by the folder name (tool_id).
CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz,
    migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
INSERT INTO _prisma_migrations VALUES
    ('a', 'x', '2024-04-01 10:00+00', '20240401_init', NULL, NULL, '2024-04-01 10:00+00', 1),
    ('b', 'x', NULL, '20240402_orders', 'error', '2024-04-02 11:00+00', '2024-04-02 10:00+00', 0),
    ('c', 'x', '2024-04-02 12:00+00', '20240402_orders', NULL, NULL, '2024-04-02 12:00+00', 1),
    ('d', 'x', NULL, '20240403_broken', 'error', NULL, '2024-04-03 10:00+00', 0);
SELECT * FROM plan('prisma', '[{"version": "20240401", "tool_id": "20240401_init"},
                              {"version": "20240402", "tool_id": "20240402_orders"},
                              {"version": "20240403", "tool_id": "20240403_broken"}]');
DROP TABLE _prisma_migrations;

-- 7. Sqitch: the deployed changes (sqitch.changes), matched by name or change_id; a change whose newest
--    event is a failure is refused.
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL, project text NOT NULL,
                             note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                             committer_name text NOT NULL, committer_email text NOT NULL, planned_at timestamptz NOT NULL,
                             planner_name text NOT NULL, planner_email text NOT NULL);
CREATE TABLE sqitch.events (event text NOT NULL, change_id text NOT NULL, change text NOT NULL, project text NOT NULL,
                            note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                            committer_name text NOT NULL);
INSERT INTO sqitch.changes VALUES
    ('c1', NULL, 'users', 'p', '', '2024-05-01 10:00+00', 'Dee', 'dee@example.com', now(), 'Dee', 'dee@example.com');
INSERT INTO sqitch.events VALUES ('deploy', 'c1', 'users', 'p', '', '2024-05-01 10:00+00', 'Dee'),
                                 ('fail', 'c2', 'orders', 'p', '', '2024-05-01 10:01+00', 'Dee');
SELECT * FROM plan('sqitch', '[{"version": "1", "tool_id": "users"}, {"version": "2", "tool_id": "orders"}]');
INSERT INTO sqitch.events VALUES ('revert', 'c1', 'users', 'p', '', '2024-05-01 10:02+00', 'Dee'),
                                 ('deploy', 'c1', 'users', 'p', '', '2024-05-01 10:03+00', 'Dee');
SELECT * FROM plan('sqitch', '[{"version": "1", "tool_id": "c1"}, {"version": "2", "tool_id": "orders"}]');
-- Fixed and deployed: its newest event is a deploy.
INSERT INTO sqitch.changes VALUES
    ('c2', NULL, 'orders', 'p', '', '2024-05-01 10:04+00', 'Dee', 'dee@example.com', now(), 'Dee', 'dee@example.com');
INSERT INTO sqitch.events VALUES ('deploy', 'c2', 'orders', 'p', '', '2024-05-01 10:04+00', 'Dee');
SELECT * FROM plan('sqitch', '[{"version": "1", "tool_id": "c1"}, {"version": "2", "tool_id": "orders"}]');
DROP SCHEMA sqitch CASCADE;

-- 8. Several tables of one tool: named with source; none at all: refused with what to do.
CREATE SCHEMA a;
CREATE SCHEMA b;
CREATE TABLE a.pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
CREATE TABLE b.pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
INSERT INTO b.pgmigrations (name, run_on) VALUES ('1_init', '2024-06-01');
SELECT * FROM plan('node-pg-migrate', '[{"version": "1", "tool_id": "1_init"}]');
SELECT version, state FROM migrate_adopt('node-pg-migrate', '[{"version": "1", "tool_id": "1_init"}]', source => 'b.pgmigrations');
SELECT * FROM plan('diesel', '[]');
SELECT * FROM plan('nosuchtool', '[]');
SELECT * FROM plan('flyway', '{"version": "1"}');
SELECT * FROM plan('flyway', '[{"version": "1.x"}]');
DROP SCHEMA a CASCADE;
DROP SCHEMA b CASCADE;

\c contrib_regression
DROP DATABASE regress_pgmig_adopt;
