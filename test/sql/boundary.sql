-- The C++ <-> PostgreSQL boundary, both directions.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- 1. An error raised deep in C++ (the version parser) reaches psql with its SQLSTATE and message.
SELECT migrate_register('1.x', 'bad_version', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT 'the session still works' AS after_cxx_error;

-- 2. A PostgreSQL error inside a C++ call path keeps its original SQLSTATE.
--    Runtime error raised by SPI while a migration runs (undefined_table, 42P01):
SELECT migrate_register('1', 'broken', E'CREATE TABLE b1 (id int);\nINSERT INTO no_such_table VALUES (1);');
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT 'the session still works' AS after_pg_error;
--    Syntax error raised by raw_parser (syntax_error, 42601):
SELECT migrate_register('1', 'broken', E'SELECT 1;\nCREAT TABLE b1 (id int);');
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT 'the session still works' AS after_parse_error;

-- 3. Nothing of the failed call stayed behind: the table of the first statement is gone.
SELECT to_regclass('b1') AS b1_exists;

-- 4. The error can be caught by PL/pgSQL, many times over, and the transaction can go on and
--    commit: SPI connections, subtransactions and memory are released on every error path
--    (a leaked SPI connection would warn "transaction left non-empty SPI stack" at commit).
--    Half the calls fail while a migration runs (inside pgmig's subtransaction), half while parsing.
BEGIN;
DO $$
DECLARE
    runtime_errors int := 0;
    syntax_errors int := 0;
BEGIN
    FOR i IN 1..200 LOOP
        IF i % 2 = 0 THEN
            PERFORM migrate_register('1', 'broken', E'CREATE TABLE b1 (id int);\nINSERT INTO no_such_table VALUES (1);');
        ELSE
            PERFORM migrate_register('1', 'broken', E'SELECT 1;\nCREAT TABLE b1 (id int);');
        END IF;
        BEGIN
            PERFORM * FROM migrate_apply();
        EXCEPTION
            WHEN undefined_table THEN runtime_errors := runtime_errors + 1;
            WHEN syntax_error THEN syntax_errors := syntax_errors + 1;
        END;
    END LOOP;
    RAISE NOTICE 'caught % runtime errors and % syntax errors', runtime_errors, syntax_errors;
END
$$;
SELECT migrate_register('1', 'fixed', 'CREATE TABLE b1 (id int);');
SELECT version, name, action FROM migrate_apply();
COMMIT;
SELECT to_regclass('b1') AS b1_exists;

-- 5. A C++ error inside a subtransaction the caller controls.
BEGIN;
SAVEPOINT s;
SELECT migrate_register('', 'empty_version', 'SELECT 1');
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS registered FROM pgmig.migrations;
COMMIT;

DROP EXTENSION pgmig;
DROP TABLE b1;
