-- "Equal except for column order": migrate_fingerprint(ignore_column_order) and
-- migrate_drift(ignore_column_order) compare a table's columns by name, not by position.
\set SHOW_CONTEXT never
CREATE DATABASE regress_pgmig_order_a;
CREATE DATABASE regress_pgmig_order_b;

-- A: the columns in the order they were designed.
\c regress_pgmig_order_a
CREATE EXTENSION pgmig;
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, plan text DEFAULT 'free', created date);
CREATE VIEW account_emails AS SELECT id, email FROM accounts;
SELECT migrate_fingerprint() AS fp_a, migrate_fingerprint(true) AS fp_a_unordered \gset

-- B: the same schema after a history that dropped and re-added columns (plan and created now come
-- before email, which was re-added last).
\c regress_pgmig_order_b
CREATE EXTENSION pgmig;
CREATE TABLE accounts (id bigint PRIMARY KEY, email_old text, plan text DEFAULT 'free', created date);
ALTER TABLE accounts DROP COLUMN email_old;
ALTER TABLE accounts ADD COLUMN email text NOT NULL;
CREATE VIEW account_emails AS SELECT id, email FROM accounts;
SELECT array_agg(attname ORDER BY attnum) AS live_order
  FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attnum > 0 AND NOT attisdropped;
-- the ordinary fingerprint sees the difference, the option does not
SELECT migrate_fingerprint() = :'fp_a' AS equal_with_order,
       migrate_fingerprint(true) = :'fp_a_unordered' AS equal_except_column_order,
       migrate_fingerprint(ignore_column_order => true) = :'fp_a_unordered' AS named_argument;
-- the no-argument form is the option off, and the option changes nothing where the order agrees
\c regress_pgmig_order_a
SELECT migrate_fingerprint() = migrate_fingerprint(false) AS no_argument_is_false,
       migrate_fingerprint(NULL) = migrate_fingerprint() AS null_is_false,
       migrate_fingerprint(true) <> migrate_fingerprint() AS sorted_differs_from_ordered;
\c regress_pgmig_order_b
-- a real difference still shows with the option: a view's column order is part of its definition
CREATE OR REPLACE VIEW account_emails AS SELECT id, email, plan FROM accounts;
SELECT migrate_fingerprint(true) = :'fp_a_unordered' AS equal_after_view_change;
DROP VIEW account_emails;
CREATE VIEW account_emails AS SELECT id, email FROM accounts;
SELECT migrate_fingerprint(true) = :'fp_a_unordered' AS equal_after_view_back;
ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'trial';
SELECT migrate_fingerprint(true) = :'fp_a_unordered' AS equal_after_default_change;
ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'free';
SELECT migrate_fingerprint(true) = :'fp_a_unordered' AS equal_again;

-- Drift: the ledger expects A's order; a column dropped and re-added out of band moves it to the end.
\c regress_pgmig_order_a
SELECT migrate_register('1', 'noop', 'SELECT 1;') IS NOT NULL AS registered;
SELECT count(*) AS applied FROM migrate_apply();
BEGIN;
ALTER TABLE accounts DROP COLUMN plan;
ALTER TABLE accounts ADD COLUMN plan text DEFAULT 'free';
SELECT object_type, identity, change, detail FROM migrate_drift();
SELECT object_type, identity, change, detail FROM migrate_drift(false);
SELECT count(*) AS drift_ignoring_order FROM migrate_drift(true);
SELECT count(*) AS drift_named_argument FROM migrate_drift(ignore_column_order => true);
-- a change besides the order is still drift with the option
ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'trial';
SELECT object_type, identity, change, detail FROM migrate_drift(true);
ROLLBACK;

-- The new forms are called like the old ones: search_path pinned, the same privileges.
SELECT p.oid::regprocedure AS function, p.proconfig
  FROM pg_proc p
 WHERE p.proname IN ('migrate_fingerprint', 'migrate_drift', 'without_column_order')
 ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT (SELECT proacl FROM pg_proc WHERE oid = 'migrate_fingerprint(boolean)'::regprocedure)
           IS NOT DISTINCT FROM (SELECT proacl FROM pg_proc WHERE oid = 'migrate_fingerprint()'::regprocedure)
           AS fingerprint_same_acl,
       (SELECT proacl FROM pg_proc WHERE oid = 'migrate_drift(boolean)'::regprocedure)
           IS NOT DISTINCT FROM (SELECT proacl FROM pg_proc WHERE oid = 'migrate_drift()'::regprocedure)
           AS drift_same_acl;

\c contrib_regression
DROP DATABASE regress_pgmig_order_a;
DROP DATABASE regress_pgmig_order_b;
