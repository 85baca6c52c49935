-- A cancel or a timeout (57014) ends the whole call, whichever step it comes in: a real run, a rehearsal
-- (migrate_plan, dry runs) and a rollback test alike. It is never a migration's failure, a failed check
-- or an outcome: the user asked to stop. Nothing of the call persists.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- A migration's own statement timer fires in one of its statements.
SELECT migrate_register('1', 'slow', 'CREATE TABLE slow (id int); SELECT pg_sleep(5);', 'DROP TABLE slow;',
                        '{"statement_timeout": "100ms"}') IS NOT NULL AS registered;
SELECT version, outcome, reason FROM migrate_plan();
\echo :LAST_ERROR_SQLSTATE
SELECT version, action FROM migrate_apply(dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT step, check_name, passed, detail FROM migrate_test('1');
\echo :LAST_ERROR_SQLSTATE
SELECT version, action FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
-- ... and in a down script being rehearsed.
SELECT migrate_register('1', 'slow', 'CREATE TABLE slow (id int);', 'SELECT pg_sleep(5); DROP TABLE slow;',
                        '{"statement_timeout": "100ms"}') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT version, action FROM migrate_rollback(dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate_status();
SELECT to_regclass('slow') IS NOT NULL AS still_there;

-- The caller's statement_timeout fires while a rehearsal splits a script, which is no syntax error of that
-- migration. Migration 2 sleeps until 100 ms before the timeout; migration 3 takes longer than that to
-- parse (PostgreSQL's raw_parser does not look at interrupts: the split notices the timeout right after).
-- Its length is one long comment, not a long list: PostgreSQL built with USE_VALGRIND (our assertion-enabled
-- builds) moves a whole List at every append, and a list of a million items would take minutes to parse.
SELECT migrate_register('2', 'until_just_before', $$SELECT pg_sleep_until(statement_timestamp() + interval '2900 ms')$$)
    IS NOT NULL AS registered;
SELECT migrate_register('3', 'slow_to_parse', 'SELECT 1 /*' || repeat('x', 50000000) || '*/;') IS NOT NULL AS registered;
SET statement_timeout = '3s';
SELECT version, outcome, reason FROM migrate_plan();
RESET statement_timeout;
SELECT version, state FROM migrate_status();

DROP TABLE slow;
DROP EXTENSION pgmig;
