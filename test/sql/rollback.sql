-- Rollback: down scripts newest first, all or nothing; refused before anything runs when a down
-- script is missing.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

SELECT count(migrate_register(v, n, u, d)) AS registered FROM (VALUES
    ('1', 'authors', 'CREATE TABLE authors (id int PRIMARY KEY);', 'DROP TABLE authors;'),
    ('2', 'books', 'CREATE TABLE books (id int PRIMARY KEY, author_id int REFERENCES authors);', 'DROP TABLE books;'),
    ('3', 'books_title', 'ALTER TABLE books ADD COLUMN title text;', 'ALTER TABLE books DROP COLUMN title;'),
    ('4', 'books_idx', 'CREATE INDEX books_author_idx ON books (author_id);', 'DROP INDEX books_author_idx;')
) AS m(v, n, u, d);
SELECT version, action FROM migrate_apply();

-- One step.
SELECT version, name, action FROM migrate_rollback();
SELECT to_regclass('books_author_idx') AS idx;
SELECT version, state FROM migrate_status();

-- Back to version 1: 3 then 2.
SELECT version, name, action FROM migrate_rollback_to('1');
SELECT to_regclass('books') AS books, to_regclass('authors') AS authors;

-- All or nothing: a failing down script (of 1) undoes the rollback of 2 in the same call.
SELECT version, action FROM migrate_apply('2');
SELECT migrate_register('1', 'authors', 'CREATE TABLE authors (id int PRIMARY KEY);', 'DROP TABLE no_such_table;')
    IS NOT NULL AS down_replaced;
SELECT * FROM migrate_rollback(2);
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate_status();

-- A migration without a down script stops the rollback before anything runs (PM011).
SELECT migrate_register('1', 'authors', 'CREATE TABLE authors (id int PRIMARY KEY);', NULL) IS NOT NULL AS down_removed;
SELECT * FROM migrate_rollback_to('0');
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate_status();

-- Arguments.
SELECT * FROM migrate_rollback(0);
\echo :LAST_ERROR_SQLSTATE
SELECT version, action FROM migrate_rollback(1);
SELECT version, action FROM migrate_rollback_to('1');

-- History has every apply and rollback, in order (failed attempts are recorded by a worker, at
-- its own pace: see failed_attempts.sql).
SELECT version, action FROM pgmig.history WHERE action <> 'failed' ORDER BY id;

DROP EXTENSION pgmig;
DROP TABLE authors;
