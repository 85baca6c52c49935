-- migrate_apply() publishes its position in pg_stat_activity.query (for pgmig monitor): the function,
-- the migration (k of n), the statement (i of m) and its line, and the statement's first line with
-- secrets redacted; the caller's query is back once the call returns.
CREATE EXTENSION pgmig;
SELECT migrate_register('1', 'first', 'CREATE TABLE seen (n int, query text);') IS NOT NULL AS registered;
SELECT migrate_register('2', 'second', E'SELECT 1;\n\nINSERT INTO seen SELECT 2, query FROM pg_stat_activity\n  WHERE pid = pg_backend_pid();') IS NOT NULL AS registered;
-- A statement that may hold a secret is published redacted (a DO block mentioning PASSWORD: its body withheld whole).
-- pg_stat_clear_snapshot(): pg_stat_activity is read once per transaction otherwise.
SELECT migrate_register('3', 'secret', E'CREATE ROLE regress_progress_role;\nDO $$ BEGIN PERFORM pg_stat_clear_snapshot(); INSERT INTO seen SELECT 3, query FROM pg_stat_activity WHERE pid = pg_backend_pid(); EXECUTE \'ALTER ROLE regress_progress_role PASSWORD \'\'hunter2\'\'\'; END $$;', 'DELETE FROM seen WHERE n = 3; DROP ROLE regress_progress_role;') IS NOT NULL AS registered;
SELECT version FROM migrate_apply();
SELECT n, query FROM seen ORDER BY n;
SELECT count(*) AS leaked FROM seen WHERE query LIKE '%hunter2%';

-- Seen from another backend, as pgmig monitor sees it: session B (dblink) applies a migration whose
-- statement waits for an advisory lock this session holds. While it waits, B's query is the published
-- position with the secret redacted; once migrate_apply() has returned, B's query is its caller's
-- statement again (this session's own query would only ever show the statement reading it).
CREATE EXTENSION dblink;
SELECT format('dbname=%s host=%s port=%s application_name=regress_progress_applier', current_database(),
              split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port')) AS here \gset
SELECT dblink_connect('applier', :'here') AS applier;
SELECT pg_advisory_lock(4242) IS NOT NULL AS holding;
SELECT migrate_register('4', 'waits', E'SELECT 1;\nDO $$ BEGIN PERFORM pg_advisory_xact_lock(4242); EXECUTE \'ALTER ROLE regress_progress_role PASSWORD \'\'hunter2\'\'\'; END $$;',
                        'SELECT 1;', '{"lock_timeout": "2min"}') IS NOT NULL AS registered;
SELECT dblink_send_query('applier', 'SELECT version FROM migrate_apply() /* the caller''s query */') AS sent;
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE application_name = 'regress_progress_applier'
                             AND wait_event_type = 'Lock' AND wait_event = 'advisory');
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;
SELECT state, wait_event, query AS while_waiting
  FROM pg_stat_activity WHERE application_name = 'regress_progress_applier';
SELECT count(*) AS leaked
  FROM pg_stat_activity WHERE application_name = 'regress_progress_applier' AND query LIKE '%hunter2%';
SELECT pg_advisory_unlock(4242) AS released;
SELECT * FROM dblink_get_result('applier') AS r(version text);
SELECT * FROM dblink_get_result('applier') AS r(version text);  -- the end of B's results: B is idle now
SELECT state, query AS restored FROM pg_stat_activity WHERE application_name = 'regress_progress_applier';
SELECT dblink_disconnect('applier');
DROP EXTENSION dblink;
-- Down scripts say migrate_rollback.
SELECT migrate_register('5', 'down', 'SELECT 1;', 'INSERT INTO seen SELECT 5, query FROM pg_stat_activity WHERE pid = pg_backend_pid();') IS NOT NULL AS registered;
SELECT version FROM migrate_apply();
SELECT version FROM migrate_rollback(1);
SELECT n, query FROM seen WHERE n = 5;
SELECT version FROM migrate_rollback(2);
SELECT count(*) FROM pg_roles WHERE rolname = 'regress_progress_role';
DROP EXTENSION pgmig;
DROP TABLE seen;
