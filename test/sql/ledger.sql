-- The first ledger slice: register, natural version order, apply under the lock, status.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- Registering returns the text checksum; registering the same content again is a no-op.
SELECT migrate_register('2', 'orders',
    E'CREATE TABLE orders (\n    id bigint PRIMARY KEY,\n    customer_id bigint NOT NULL REFERENCES customers\n);',
    'DROP TABLE orders;');
SELECT migrate_register('1', 'customers', 'CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);',
    'DROP TABLE customers;');
SELECT migrate_register('1', 'customers', 'CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);',
    'DROP TABLE customers;');
SELECT migrate_register('10', 'orders_by_customer', 'CREATE INDEX orders_customer_idx ON orders (customer_id);');
SELECT migrate_register('1.10', 'customer_email', 'ALTER TABLE customers ADD COLUMN email text;');
SELECT migrate_register('1.2', 'customer_note', 'ALTER TABLE customers ADD COLUMN note text;');

-- Natural order: 1 < 1.2 < 1.10 < 2 < 10.
SELECT version, name, state FROM migrate_status();

-- The checksum is the SHA-256 of the normalised text: CRLF, trailing blanks and trailing blank
-- lines do not change it.
SELECT pgmig.script_checksum(E'SELECT 1;  \r\nSELECT 2;\r\n\r\n') = pgmig.script_checksum(E'SELECT 1;\nSELECT 2;')
    AS normalised_equal,
       pgmig.script_checksum('SELECT 1;') = encode(sha256(convert_to(E'SELECT 1;\n', 'UTF8')), 'hex')
    AS is_sha256_of_normalised_text;

-- Apply up to a target, inside the caller's transaction, under the advisory lock.
BEGIN;
SELECT version, name, action FROM migrate_apply('1.10');
SELECT locktype, mode, granted FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid();
COMMIT;
SELECT version, state, applied_by FROM migrate_status();

-- The rest; a second call has nothing left to do.
SELECT version, name, action FROM migrate_apply();
SELECT version, name, action FROM migrate_apply();
SELECT version, state FROM migrate_status();
\d orders

-- A cosmetic edit of an applied migration (line endings, trailing blanks) is accepted...
SELECT migrate_register('1', 'customers',
    E'CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);   \r\n\r\n', 'DROP TABLE customers;');
-- ... a real edit is refused, showing both checksums.
SELECT migrate_register('1', 'customers', 'CREATE TABLE customers (id bigint PRIMARY KEY, name text);');
\echo :LAST_ERROR_SQLSTATE
-- ... and so is reusing an applied version for another migration.
SELECT migrate_register('1', 'something_else', 'SELECT 1;');
\echo :LAST_ERROR_SQLSTATE
-- "001" is the same version as "1".
SELECT migrate_register('001', 'something_else', 'SELECT 1;');
\echo :LAST_ERROR_SQLSTATE

-- All or nothing: the third of three pending migrations fails, the first two stay pending too.
SELECT migrate_register('11', 'a', 'CREATE TABLE t11 (id int);');
SELECT migrate_register('12', 'b', 'CREATE TABLE t12 (id int);');
SELECT migrate_register('13', 'c', E'CREATE TABLE t13 (id int);\n-- a comment\n  ALTER TABLE t13\n    ADD COLUMN x no_such_type;');
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate_status() WHERE version::numeric > 10;
SELECT to_regclass('t11') AS t11, to_regclass('t12') AS t12;

-- A pending migration may be corrected and registered again; then everything applies.
SELECT migrate_register('13', 'c', 'CREATE TABLE t13 (id int, x text);');
SELECT version, action FROM migrate_apply();

-- Transaction control inside a migration is refused before anything runs.
SELECT migrate_register('14', 'txn', E'BEGIN;\nCREATE TABLE t14 (id int);\nCOMMIT;');
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('t14') AS t14;
DELETE FROM pgmig.migrations WHERE version = '14';

-- A dry run rehearses and rolls back.
SELECT migrate_register('15', 'dry', 'CREATE TABLE t15 (id int);');
SELECT version, action FROM migrate_apply(dry_run => true);
SELECT to_regclass('t15') AS t15, (SELECT state FROM migrate_status() WHERE version = '15');
DELETE FROM pgmig.migrations WHERE version = '15';

-- Bad arguments.
SELECT * FROM migrate_apply('99');
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT migrate_register('20', '', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
-- A blank up script is a valid no-op migration (tests/integration/empty_migrations_test.sh applies some).
SELECT migrate_register('21', 'blank', E'  \n\t\n') = pgmig.script_checksum('') AS blank_registered;
SELECT migrate_register('20', 'bad_options', 'SELECT 1', NULL, '[]');
\echo :LAST_ERROR_SQLSTATE

DROP EXTENSION pgmig;
DROP TABLE orders, customers, t11, t12, t13;
