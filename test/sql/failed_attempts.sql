-- A failed attempt survives its rollback: a background worker records it in pgmig.history, in its
-- own transaction, while the caller's transaction rolls everything else back.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_deployer IN ROLE pgmig_admin;
GRANT CREATE ON SCHEMA public TO regress_pgmig_deployer;
SET application_name = 'failed-attempts-test';
SET ROLE regress_pgmig_deployer;
SELECT migrate_register('1', 'fine', 'CREATE TABLE fine (id int);') IS NOT NULL AS registered;
SELECT migrate_register('2', 'broken', 'ALTER TABLE fine ADD COLUMN x no_such_type;') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- The worker does not make anybody wait; give it up to 10 seconds to commit its row.
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pgmig.history WHERE action = 'failed');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT version, name, action, sqlstate, message, current_user_name, session_user_name, application_name,
       backend_pid = pg_backend_pid() AS by_this_backend, reason
  FROM pgmig.history;
-- Everything else of the call was rolled back.
SELECT version, state FROM migrate_status();
SELECT to_regclass('fine') AS fine;

-- A dry run records nothing, not even its failure.
SELECT * FROM migrate_apply(dry_run => true);
SELECT pg_sleep(0.5);
SELECT count(*) AS failed_rows FROM pgmig.history WHERE action = 'failed';

RESET application_name;
DROP EXTENSION pgmig;
REVOKE CREATE ON SCHEMA public FROM regress_pgmig_deployer;
DROP ROLE regress_pgmig_deployer;
