-- Who may take over another tool's history (migrate_adopt, migrate_adopt_sources) and what the worst is.
-- Only pgmig_admin, who may baseline anyway; the tool's table is read only when the caller may read all
-- of it, as the table's owner inside a security-restricted operation (its row-level security policy, a
-- function of the owner's, never runs with the caller's rights); the times and users marked come from
-- that table, never from the caller; a relation that is not a table of built-in column types is refused.
\set SHOW_CONTEXT never
CREATE DATABASE regress_pgmig_adopt_security;
\c regress_pgmig_adopt_security
SET TimeZone = 'UTC';
CREATE EXTENSION pgmig;
CREATE ROLE regress_adopt_admin IN ROLE pgmig_admin;
CREATE ROLE regress_adopt_reader IN ROLE pgmig_reader;
CREATE ROLE regress_adopt_owner;  -- the application's role, which ran the old tool and owns its table
GRANT CREATE ON DATABASE regress_pgmig_adopt_security TO regress_adopt_owner;

-- The old tool's table, owned by the application's role, with a row-level security policy (forced on
-- its owner too) that calls the owner's function: it notes who runs it and tries to become superuser.
SET ROLE regress_adopt_owner;
CREATE SCHEMA app;
CREATE TABLE app.ran (current_user_name name, had_superuser boolean, escalation text);
CREATE FUNCTION app.note() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    BEGIN
        ALTER ROLE regress_adopt_owner SUPERUSER;
        outcome := 'ALTER ROLE ... SUPERUSER succeeded';
    EXCEPTION WHEN OTHERS THEN
        outcome := 'ALTER ROLE ... SUPERUSER failed: ' || SQLSTATE;
    END;
    INSERT INTO app.ran VALUES (current_user,
                                (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), outcome);
    RETURN true;
END
$$;
CREATE TABLE app.flyway_schema_history (
    installed_rank integer NOT NULL PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);
INSERT INTO app.flyway_schema_history VALUES
    (1, '1', 'm1', 'SQL', 'V1__m1.sql', 1, 'alice', '2024-01-01 10:00', 12, true),
    (2, '2', 'm2', 'SQL', 'V2__m2.sql', 2, 'bob', '2024-01-02 10:00', 5, true);
ALTER TABLE app.flyway_schema_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.flyway_schema_history FORCE ROW LEVEL SECURITY;
CREATE POLICY noted ON app.flyway_schema_history USING (app.note());
GRANT USAGE ON SCHEMA app TO PUBLIC;
TRUNCATE app.ran;
RESET ROLE;
SELECT count(migrate_register(v::text, 'm' || v, format('CREATE TABLE t%s (id int)', v))) AS registered
  FROM generate_series(1, 3) v;
CREATE FUNCTION files() RETURNS jsonb LANGUAGE sql AS $$
    SELECT '[{"version": "1", "name": "m1", "applied_at": "1999-01-01 00:00+00", "applied_by": "mallory"},
             {"version": "2", "name": "m2"}, {"version": "3", "name": "m3"}]'::jsonb $$;

-- 1. Only pgmig_admin calls them: not a reader, not PUBLIC.
SET ROLE regress_adopt_reader;
SELECT * FROM migrate_adopt_sources();
SELECT * FROM migrate_adopt('flyway', files());
RESET ROLE;

-- 2. An admin who may not read the tool's table learns nothing of it.
SET ROLE regress_adopt_admin;
SELECT * FROM migrate_adopt('flyway', files());
RESET ROLE;

-- 3. An admin whose rows the table's row-level security filters is refused (reading as the owner would
--    reveal rows it hides), and the policy's function did not run for it.
GRANT SELECT ON app.flyway_schema_history TO regress_adopt_admin;
SET ROLE regress_adopt_admin;
SELECT * FROM migrate_adopt('flyway', files());
RESET ROLE;
SELECT * FROM app.ran;

-- 4. A superuser reads the table as its owner, restricted: the policy's function never runs with a
--    superuser's rights (forced row-level security is not applied to the owner in that operation).
SELECT version, state, applied_by FROM migrate_adopt('flyway', files());
SELECT * FROM app.ran;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adopt_owner';

-- 5. Without row-level security, the admin adopts. What it marks applied is what the table records (3,
--    which it does not, stays pending), with the table's times and users: the caller's "applied_at" and
--    "applied_by" are not read. The history says who adopted, from which table, whose it is.
ALTER TABLE app.flyway_schema_history DISABLE ROW LEVEL SECURITY;
ALTER TABLE app.flyway_schema_history NO FORCE ROW LEVEL SECURITY;
SET ROLE regress_adopt_admin;
SELECT version, state, applied_at, applied_by FROM migrate_adopt('flyway', files(), true);
SELECT version, state, applied_at, applied_by FROM migrate_status();
SELECT version, action, current_user_name, session_user_name, message FROM pgmig.history WHERE action = 'adopt';
RESET ROLE;
SELECT * FROM app.ran;

-- 6. What is not a history table is not read: a view (which would run its owner's or the caller's
--    functions), a table whose column is of a type of the owner's, a temporary table.
SET ROLE regress_adopt_owner;
CREATE SCHEMA other;
CREATE VIEW other.flyway_schema_history AS
    SELECT installed_rank, version, description, type, script, checksum, installed_by, installed_on, execution_time,
           success FROM app.flyway_schema_history WHERE app.note();
CREATE DOMAIN app.version_text AS text CHECK (app.note());
CREATE TABLE app.schema_migrations (version app.version_text PRIMARY KEY);
CREATE TEMPORARY TABLE goose_db_version (id int, version_id bigint, is_applied boolean, tstamp timestamp);
RESET ROLE;
SELECT * FROM migrate_adopt_sources() ORDER BY tool, source;
SELECT version, state FROM migrate_adopt('flyway', files(), source => 'other.flyway_schema_history');
SELECT version, state FROM migrate_adopt('dbmate', '[]');
SELECT * FROM app.ran;

-- 7. The caller's search_path cannot put look-alike functions under pgmig's queries.
CREATE SCHEMA evil;
CREATE FUNCTION evil.quote_ident(name) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
SET search_path = evil, pg_catalog, public;
SELECT tool, source FROM public.migrate_adopt_sources() WHERE problem IS NULL ORDER BY tool, source;
RESET search_path;

\c contrib_regression
DROP DATABASE regress_pgmig_adopt_security;
DROP ROLE regress_adopt_admin, regress_adopt_reader, regress_adopt_owner;
