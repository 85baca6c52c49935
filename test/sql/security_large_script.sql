-- Large scripts: a migration of several MB is split, linted and applied completely, in time linear in its
-- size (bench/large_migration.sh measures it), and every pass pgmig makes over a script can be cancelled
-- (statement_timeout, pg_cancel_backend) the way PostgreSQL's own loops can.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE TABLE large_t (id int PRIMARY KEY, v text);
-- 50,000 INSERTs on as many lines, about 3.3 MB.
CREATE TEMP TABLE large_src AS
SELECT string_agg(format('INSERT INTO large_t VALUES (%s, %L);', g, repeat('x', 40)), E'\n' ORDER BY g) AS sql
FROM generate_series(1, 50000) g;
SELECT length(sql) > 3000000 AS several_mb FROM large_src;

-- It applies completely, and the statements keep their lines.
SELECT migrate_register('1', 'large_script', (SELECT sql FROM large_src)) IS NOT NULL AS registered;
SELECT version, name FROM migrate_apply();
SELECT count(*), min(id), max(id) FROM large_t;
SELECT n, line, left(statement, 32) AS statement
FROM pgmig.split_statements((SELECT sql FROM large_src)) WHERE n IN (1, 2, 49999, 50000);
SELECT count(*) AS findings FROM migrate_lint((SELECT sql FROM large_src));

-- A cancel that arrives while a script is being redacted or compared stops that work there and then;
-- a cancel or a timeout is never mistaken for a syntax error and swallowed. pg_cancel_backend() of the
-- session itself makes the cancel pending at an exact point: inside one PL/pgSQL expression, which
-- checks for none itself. Before, the loop ran to its end and the cancel struck only at the RETURN
-- after the block, outside its handler. (A script that mentions no secret is returned as it is, without
-- being scanned: the one redacted here ends with a password.)
CREATE FUNCTION pg_temp.cancelled_during(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text := (SELECT sql FROM large_src);
    n bigint;
BEGIN
    BEGIN
        IF what = 'redact' THEN
            n := pg_cancel_backend(pg_backend_pid())::int + length(pgmig.redact(s || ' ALTER ROLE r PASSWORD ''x'';'));
        ELSE
            n := pg_cancel_backend(pg_backend_pid())::int + pgmig.same_statements(s, s || ' ')::int;
        END IF;
    EXCEPTION WHEN query_canceled THEN
        RETURN what || ': cancelled while it ran';
    END;
    RETURN what || ': ran to its end, n = ' || n;
END $$;
SELECT pg_temp.cancelled_during('redact');
SELECT pg_temp.cancelled_during('same_statements');

-- statement_timeout far below what parsing 3 MB takes (well over 10 ms anywhere): the timeout wins, as
-- 57014, over splitting, linting and applying; nothing is applied.
SELECT migrate_register('2', 'large_script_again',
                        replace((SELECT sql FROM large_src), 'INSERT INTO large_t VALUES (',
                                'INSERT INTO large_t VALUES (100000 + ')) IS NOT NULL AS registered;
SET statement_timeout = '1ms';
SELECT version FROM migrate_apply();
SELECT count(*) FROM migrate_lint((SELECT sql FROM large_src));
SELECT count(*) FROM pgmig.split_statements((SELECT sql FROM large_src));
RESET statement_timeout;
SELECT count(*), max(id) FROM large_t;
SELECT version, state FROM migrate_status() ORDER BY version;

DROP TABLE large_t;
DROP EXTENSION pgmig;
