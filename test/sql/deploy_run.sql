-- pgmig.deploy_run: the fleet deploy run a session works for, recorded in every pgmig.history row it
-- writes (deploy_run), so that any database can say which run applied what, and a resumed run skips it.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_fleet IN ROLE pgmig_admin;
GRANT CREATE ON SCHEMA public TO regress_pgmig_fleet;

-- A deployer that is no superuser sets it (any session may: it labels rows and grants nothing).
SET ROLE regress_pgmig_fleet;
SHOW pgmig.deploy_run;
SET pgmig.deploy_run = '20261204T163501Z-3f9a1c';
SHOW pgmig.deploy_run;
SELECT migrate_register('1', 'accounts', 'CREATE TABLE accounts (id int);', 'DROP TABLE accounts;') IS NOT NULL
    AS registered;
SELECT migrate_register('2', 'broken', 'ALTER TABLE accounts ADD COLUMN x no_such_type;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply('1');

-- A failed attempt carries it too: the background worker that records it gets it with the rest.
SELECT * FROM migrate_apply();
-- (The worker never makes anyone wait: give it up to 10 seconds, as failed_attempts does.)
DO $$ BEGIN
    FOR i IN 1..100 LOOP EXIT WHEN EXISTS (SELECT 1 FROM pgmig.history WHERE action = 'failed'); PERFORM pg_sleep(0.1); END LOOP;
END $$;
-- And so do a rollback and a deploy step recorded by the client.
SELECT version, action FROM migrate_rollback();
SELECT version, action FROM migrate_apply('1');
SELECT migrate_record_deploy('production', 'succeeded', 'applied 1') > 0 AS deploy_recorded;
SELECT version, name, action, current_user_name, deploy_run FROM pgmig.history ORDER BY id;
-- The question an operator asks any database of the fleet.
SELECT deploy_run AS applied_by_run FROM pgmig.history WHERE version = '1' AND action = 'apply' ORDER BY id DESC LIMIT 1;

-- Only letters, digits and _ . : - , 1 to 64 of them: anything else is refused and the value stays.
SET pgmig.deploy_run = 'x y';
SELECT set_config('pgmig.deploy_run', repeat('a', 65), false);
SET pgmig.deploy_run = ';drop';
SET pgmig.deploy_run = 'run-ä';
SHOW pgmig.deploy_run;
SELECT length(set_config('pgmig.deploy_run', repeat('a', 64), false)) AS longest;
SET pgmig.deploy_run = 'r_1.2:3-Z';
SHOW pgmig.deploy_run;

-- Once reset, rows record no run.
RESET pgmig.deploy_run;
SHOW pgmig.deploy_run;
SELECT migrate_register('2', 'fixed', 'ALTER TABLE accounts ADD COLUMN x int;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT version, action, deploy_run IS NULL AS no_run FROM pgmig.history WHERE version = '2' ORDER BY id;
RESET ROLE;

-- The table holds the same rule, for rows written any other way (by a superuser, say).
\set VERBOSITY terse
INSERT INTO pgmig.history (name, action, current_user_name, deploy_run) VALUES ('by hand', 'deploy', 'x', 'x y');
\set VERBOSITY default

DROP EXTENSION pgmig;
DROP TABLE accounts;
REVOKE CREATE ON SCHEMA public FROM regress_pgmig_fleet;
DROP ROLE regress_pgmig_fleet;
