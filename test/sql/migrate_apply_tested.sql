-- migrate_apply_tested(version): the rollback test of migrate_test, and the migration applied when every
-- check passed. In a scratch database of pgmig test where the newest snapshot describes the live schema, the
-- test's last run of up is kept as the apply; else the test is rolled back and up runs once more. A failed
-- check applies nothing.
SELECT current_database() AS db \gset
-- (the mark pgmig test puts on its scratch databases: common/scratch_database.hpp)
COMMENT ON DATABASE :"db" IS 'pgmig test scratch database: made for one test run and dropped after it; its data does not matter';
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_tested NOLOGIN;

SELECT migrate_register('1', 'customers', 'CREATE TABLE customers (id int PRIMARY KEY, name text);',
                        'DROP TABLE customers;');
-- The first apply after CREATE EXTENSION describes the whole schema: the last run of up is not kept.
SELECT step, check_name, passed, detail FROM migrate_apply_tested('1') WHERE step IN (0, 6);

-- Kept: the three runs are in the audit trail, attributed to the migration; one history row, as
-- migrate_apply writes it; the snapshot derived; no drift.
SELECT migrate_register('2', 'orders', $$
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric DEFAULT 0);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
$$, 'DROP VIEW big_orders; DROP TABLE orders;');
SELECT max(id) AS audit_before FROM pgmig.ddl_audit \gset
SELECT step, check_name, passed, detail FROM migrate_apply_tested('2');
SELECT version, state FROM migrate_status();
SELECT version, action, checksum = (SELECT checksum FROM pgmig.migrations WHERE version = '2') AS checksum_ok
  FROM pgmig.history WHERE version = '2';
SELECT m.applied_at = h.at AS applied_at_is_history_time
  FROM pgmig.migrations m JOIN pgmig.history h USING (version) WHERE version = '2';
SELECT migration_version, command_tag, object_identity FROM pgmig.ddl_audit
 WHERE id > :audit_before AND object_identity IN ('public.orders', 'public.big_orders') ORDER BY id;
SELECT reason, derived, full_because FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
SELECT count(*) AS drift FROM migrate_drift();
SELECT migrate_fingerprint() = migrate_expected_fingerprint() AS expected_is_live;

-- A failed check applies nothing: the rows are migrate_test's, the ledger, schema and audit trail as before.
SELECT migrate_register('3', 'customers_name_idx', 'CREATE INDEX customers_name_idx ON customers (name);',
                        'SELECT 1;');
SELECT max(id) AS audit_before FROM pgmig.ddl_audit \gset
SELECT migrate_fingerprint() AS fingerprint_before \gset
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_apply_tested('3');
SELECT (SELECT array_agg(t ORDER BY t.step)::text FROM migrate_apply_tested('3') t)
     = (SELECT array_agg(t ORDER BY t.step)::text FROM migrate_test('3') t) AS same_rows_as_migrate_test;
SELECT version, state FROM migrate_status() WHERE version = '3';
SELECT migrate_fingerprint() = :'fingerprint_before' AS schema_unchanged, to_regclass('customers_name_idx') AS idx;
SELECT count(*) AS audit_rows_kept FROM pgmig.ddl_audit WHERE id > :audit_before;
-- ... a down script that leaves a default behind: up runs again without error, and only the schema before up
-- (here the expected one) shows it.
SELECT migrate_register('3', 'name_default', 'ALTER TABLE customers ALTER COLUMN name SET DEFAULT ''anonymous'';',
                        'SELECT 1;');
SELECT step, check_name, passed, regexp_replace(detail, '[0-9a-f]{12}', 'FP', 'g') AS detail
  FROM migrate_apply_tested('3') WHERE passed IS NOT TRUE;
SELECT version, state FROM migrate_status() WHERE version = '3';
SELECT pg_get_expr(adbin, adrelid) AS name_default FROM pg_attrdef WHERE adrelid = 'customers'::regclass;
-- ... a down script that leaves rows behind, which only running up again after it shows.
SELECT migrate_register('3', 'settings', $$
CREATE TABLE settings (name text PRIMARY KEY, value text);
INSERT INTO customers VALUES (1, 'system');
$$, 'DROP TABLE settings;');
SELECT step, check_name, passed, detail FROM migrate_apply_tested('3') WHERE passed IS NOT TRUE;
SELECT version, state FROM migrate_status() WHERE version = '3';
SELECT count(*) AS customers FROM customers;

-- DDL outside migrations since the newest snapshot: the expected schema may not be the live one, so the
-- test is rolled back and up runs once more; the snapshot then describes the whole schema.
SELECT migrate_register('3', 'customers_name_idx', 'CREATE INDEX customers_name_idx ON customers (name);',
                        'DROP INDEX customers_name_idx;');
CREATE TABLE out_of_band (id int);
SELECT step, check_name, passed, detail FROM migrate_apply_tested('3') WHERE step = 6;
SELECT version, state FROM migrate_status() WHERE version = '3';
SELECT reason, derived, full_because FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
SELECT count(*) AS drift FROM migrate_drift();

-- Older pending migrations: tested after them, all of them applied as migrate_apply(version) applies them.
SELECT migrate_register('4', 'orders_total_idx', 'CREATE INDEX orders_total_idx ON orders (total);',
                        'DROP INDEX orders_total_idx;');
SELECT migrate_register('5', 'orders_note', 'ALTER TABLE orders ADD COLUMN note text;',
                        'ALTER TABLE orders DROP COLUMN note;');
SELECT step, check_name, passed, detail FROM migrate_apply_tested('5') WHERE step IN (0, 6);
SELECT version, state FROM migrate_status() WHERE version IN ('4', '5');
SELECT count(*) AS drift FROM migrate_drift();

-- Not a scratch database of pgmig test: down's effects on data must not stay, so the test is rolled back and
-- up runs once more (the second time after a snapshot taken since the comment changed).
COMMENT ON DATABASE :"db" IS NULL;
SELECT migrate_register('6', 'orders_note_idx', 'CREATE INDEX orders_note_idx ON orders (note);',
                        'DROP INDEX orders_note_idx;');
SELECT migrate_register('7', 'orders_total_note_idx', 'CREATE INDEX orders_total_note_idx ON orders (total, note);',
                        'DROP INDEX orders_total_note_idx;');
SELECT step, check_name, passed, detail FROM migrate_apply_tested('6') WHERE step = 6;
SELECT step, check_name, passed, detail FROM migrate_apply_tested('7') WHERE step = 6;
SELECT reason, derived, full_because FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
SELECT version, state FROM migrate_status() WHERE version IN ('6', '7');

-- Refused as migrate_apply refuses: REPEATABLE READ, an applied or unknown version, a migration without
-- a down script, a caller who may not apply.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_apply_tested('8');
ROLLBACK;
SELECT * FROM migrate_apply_tested('5');
SELECT * FROM migrate_apply_tested('42');
SELECT migrate_register('8', 'no_down', 'CREATE TABLE no_down (id int);');
SELECT * FROM migrate_apply_tested('8');
SET ROLE regress_pgmig_tested;
SELECT * FROM migrate_apply_tested('8');
RESET ROLE;
SELECT version, state FROM migrate_status() WHERE version = '8';

DROP EXTENSION pgmig;
DROP VIEW big_orders;
DROP TABLE orders, customers, out_of_band;
DROP ROLE regress_pgmig_tested;
