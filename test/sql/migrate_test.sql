-- Rollback tests: migrate_test(version) runs up, down and up again of a pending migration inside a
-- subtransaction that is rolled back, and names every object a down script fails to restore.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_reporting NOLOGIN;

SELECT migrate_register('1', 'customers', 'CREATE TABLE customers (id int PRIMARY KEY, name text);',
                        'DROP TABLE customers;');
SELECT version, action FROM migrate_apply();
SELECT migrate_fingerprint() AS fingerprint_before \gset
SELECT last_value AS audit_seq_before FROM pgmig.ddl_audit_id_seq \gset

-- A correct down script passes every check.
SELECT migrate_register('2', 'orders', $$
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric DEFAULT 0);
CREATE INDEX orders_customer_idx ON orders (customer_id);
GRANT SELECT ON orders TO regress_pgmig_reporting;
$$, 'DROP TABLE orders;');
SELECT step, check_name, passed, differing FROM migrate_test('2');

-- A down script that forgets an index.
SELECT migrate_register('3', 'customers_name_idx', 'CREATE INDEX customers_name_idx ON customers (name);',
                        'SELECT 1;');
SELECT step, check_name, passed, detail ~ 'index public.customers_name_idx left behind by down' AS named, differing
  FROM migrate_test('3') WHERE passed IS NOT TRUE OR check_name LIKE '%schema';

-- ... a column default.
SELECT migrate_register('3', 'customers_name_idx', 'ALTER TABLE customers ALTER COLUMN name SET DEFAULT ''anonymous'';',
                        'SELECT 1;');
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail, differing
  FROM migrate_test('3') WHERE passed IS NOT TRUE;

-- ... a grant.
SELECT migrate_register('3', 'customers_name_idx', 'GRANT SELECT ON customers TO regress_pgmig_reporting;',
                        'SELECT 1;');
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail, differing
  FROM migrate_test('3') WHERE passed IS NOT TRUE;

-- ... a function.
SELECT migrate_register('3', 'customers_name_idx',
                        'CREATE FUNCTION customer_count() RETURNS bigint LANGUAGE sql AS $f$ SELECT count(*) FROM customers $f$;',
                        'SELECT 1;');
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail, differing
  FROM migrate_test('3') WHERE passed IS NOT TRUE;

-- A down script that drops too much: the object is reported missing.
SELECT migrate_register('3', 'customers_name_idx', 'ALTER TABLE customers ADD COLUMN email text;',
                        'ALTER TABLE customers DROP COLUMN email; DROP TABLE orders;');
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_test('3') WHERE passed IS NOT TRUE;

-- An up script that cannot run twice (not idempotent after its own down): up_again fails.
SELECT migrate_register('3', 'customers_name_idx', 'CREATE SEQUENCE invoice_no;', 'SELECT 1;');
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail FROM migrate_test('3');

-- A down script that raises is a failed check with the server's message, not an error.
SELECT migrate_register('3', 'customers_name_idx', 'ALTER TABLE customers ADD COLUMN email text;',
                        'ALTER TABLE customers DROP COLUMN e_mail;');
SELECT step, check_name, passed, detail FROM migrate_test('3');

-- Nothing of the tests stayed: the migrations are pending, the schema and the audit trail untouched.
SELECT version, state FROM migrate_status();
SELECT migrate_fingerprint() = :'fingerprint_before' AS catalog_same,
       to_regclass('orders') AS orders, to_regclass('customers_name_idx') AS idx;
SELECT last_value = :audit_seq_before AS audit_ids_unused FROM pgmig.ddl_audit_id_seq;
SELECT count(*) AS history_rows FROM pgmig.history WHERE action <> 'apply';

-- Errors: applied, unknown, no down script, non-transactional.
SELECT * FROM migrate_test('1');
SELECT * FROM migrate_test('42');
SELECT migrate_register('4', 'no_down', 'CREATE TABLE no_down (id int);');
SELECT * FROM migrate_test('4');
DELETE FROM pgmig.migrations WHERE version = '4';
SELECT migrate_register('4', 'concurrent', 'CREATE INDEX CONCURRENTLY customers_id2_idx ON customers (id);',
                        'DROP INDEX CONCURRENTLY customers_id2_idx;', '{"transactional": false}');
SELECT * FROM migrate_test('4');
-- ... also as an older pending migration of the one tested.
SELECT migrate_register('5', 'after', 'CREATE TABLE after_nontx (id int);', 'DROP TABLE after_nontx;');
SELECT * FROM migrate_test('5');
DELETE FROM pgmig.migrations WHERE version IN ('4', '5');

-- Older pending migrations are applied first, inside the same rolled-back subtransaction.
SELECT migrate_register('3', 'customers_name_idx', 'CREATE INDEX customers_name_idx ON customers (name);',
                        'DROP INDEX customers_name_idx;');
SELECT migrate_register('4', 'orders_total_idx', 'CREATE INDEX orders_total_idx ON orders (total);',
                        'DROP INDEX orders_total_idx;');
SELECT step, check_name, passed, detail FROM migrate_test('4') WHERE step = 0 OR NOT passed;
SELECT to_regclass('orders') AS orders;

-- What a passing comparison compared (pgmig.rollback_test_scope): the objects up and down touch with their
-- dependents (here only the index up creates), or the whole schema; the verdicts are the same.
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_test('3') WHERE step IN (3, 5);
SET pgmig.rollback_test_scope = full;
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_test('3') WHERE step IN (3, 5);
RESET pgmig.rollback_test_scope;
-- DDL that does not say which objects it changed is compared on the whole schema (a GRANT on a function,
-- ALTER DEFAULT PRIVILEGES, DDL no event trigger reports such as ALTER ROLE).
DELETE FROM pgmig.migrations WHERE version IN ('3', '4');
SELECT migrate_register('3', 'grant_function', 'GRANT EXECUTE ON FUNCTION pg_catalog.now() TO regress_pgmig_reporting;',
                        'REVOKE EXECUTE ON FUNCTION pg_catalog.now() FROM regress_pgmig_reporting;') IS NOT NULL AS registered;
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_test('3') WHERE step IN (3, 5);
SELECT migrate_register('3', 'default_privileges',
                        'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO regress_pgmig_reporting;',
                        'ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM regress_pgmig_reporting;') IS NOT NULL AS registered;
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_test('3') WHERE step = 3;
SELECT migrate_register('3', 'role', 'ALTER ROLE regress_pgmig_reporting CONNECTION LIMIT 3;',
                        'ALTER ROLE regress_pgmig_reporting CONNECTION LIMIT -1;') IS NOT NULL AS registered;
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_test('3') WHERE step = 3;
DELETE FROM pgmig.migrations WHERE version = '3';

DROP EXTENSION pgmig;
DROP TABLE customers;
DROP ROLE regress_pgmig_reporting;
