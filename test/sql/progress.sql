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
SELECT query AS restored FROM pg_stat_activity WHERE pid = pg_backend_pid();
-- Down scripts say migrate_rollback.
SELECT migrate_register('4', 'down', 'SELECT 1;', 'INSERT INTO seen SELECT 4, query FROM pg_stat_activity WHERE pid = pg_backend_pid();') IS NOT NULL AS registered;
SELECT version FROM migrate_apply();
SELECT version FROM migrate_rollback(1);
SELECT n, query FROM seen WHERE n = 4;
SELECT version FROM migrate_rollback(1);
SELECT count(*) FROM pg_roles WHERE rolname = 'regress_progress_role';
DROP EXTENSION pgmig;
DROP TABLE seen;
