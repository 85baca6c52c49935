-- DROP EXTENSION pgmig right after a failed migrate_apply(), while the failure recorder (a background
-- worker) is still writing pgmig.history: the recorder takes the extension's lock before any table, as
-- DROP EXTENSION does, so one waits for the other and both succeed (before, each could hold a table
-- or sequence the other needed next: deadlock detected, the DROP failed).
-- A second session holds pgmig.history so the recorder is caught mid-way, deterministically.
CREATE EXTENSION dblink;
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SELECT format('dbname=%s host=%s port=%s', current_database(),
              split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port')) AS here \gset
SELECT dblink_connect('holder', :'here') AS holder;
SELECT dblink_exec('holder', 'BEGIN') AS holder_begin;
SELECT dblink_exec('holder', 'LOCK TABLE pgmig.history IN SHARE MODE') AS holder_lock;

SELECT migrate_register('1', 'broken', 'CREATE TABLE drop_after_failure (x regress_no_such_type);') IS NOT NULL AS registered;
SELECT * FROM migrate_apply();

-- The recorder waits for the holder's lock.
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE backend_type = 'pgmig failure recorder' AND wait_event_type = 'Lock');
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;
SELECT count(*) AS recorders_waiting FROM pg_stat_activity
 WHERE backend_type = 'pgmig failure recorder' AND wait_event_type = 'Lock';

-- DROP EXTENSION from a third session, which waits too.
SELECT dblink_connect('dropper', :'here') AS dropper;
SELECT dblink_send_query('dropper', 'DROP EXTENSION pgmig') AS sent;
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE query = 'DROP EXTENSION pgmig' AND wait_event_type = 'Lock');
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;

-- Both go on once the holder is gone: the DROP succeeds.
SELECT dblink_exec('holder', 'COMMIT') AS holder_commit;
SELECT * FROM dblink_get_result('dropper') AS r(status text);
SELECT to_regclass('pgmig.history') AS history_left, count(*) AS extensions_left
  FROM pg_extension WHERE extname = 'pgmig';
SELECT dblink_disconnect('dropper');
SELECT dblink_disconnect('holder');
DROP EXTENSION dblink;
