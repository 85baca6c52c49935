-- Rollback rehearsals: migrate_rollback(..., dry_run => true) runs the down scripts in a subtransaction
-- that is always rolled back and reports what each would do: the tables, columns and schemas it drops
-- with their rows, the locks it takes. Nothing of it persists.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

SELECT count(migrate_register(v, n, u, d)) AS registered FROM (VALUES
    ('1', 'app', 'CREATE SCHEMA app; CREATE TABLE app.events (id int);', 'DROP SCHEMA app CASCADE;'),
    ('2', 'orders', 'CREATE TABLE orders (id int PRIMARY KEY, note text);', 'DROP TABLE orders;'),
    ('3', 'orders_extra', 'ALTER TABLE orders ADD COLUMN extra int;', 'ALTER TABLE orders DROP COLUMN extra;'),
    ('4', 'orders_idx', 'CREATE INDEX orders_note_idx ON orders (note);', 'DROP INDEX orders_note_idx;')
) AS m(v, n, u, d);
SELECT version, action FROM migrate_apply();
INSERT INTO orders SELECT g, 'n' || g, g FROM generate_series(1, 3) g;
INSERT INTO app.events SELECT g FROM generate_series(1, 2) g;

-- An index drop holds no data; a column drop and table drops do, with their rows (exact: small tables).
SELECT version, action, report -> 'outcome' AS outcome, report -> 'dropped' AS dropped
  FROM migrate_rollback(2, dry_run => true);
SELECT version, action, report -> 'dropped' AS dropped, report -> 'locks' AS locks
  FROM migrate_rollback_to('0', dry_run => true);
SELECT version, report ->> 'statements' AS statements, report -> 'catalog_diff' -> 'removed' AS removed,
       report ->> 'persisted' AS persisted
  FROM migrate_rollback_to('1', dry_run => true) WHERE version = '2';

-- Nothing persisted: every migration applied, data and columns in place, no history row.
SELECT version, state FROM migrate_status();
SELECT count(*) AS orders, count(extra) AS extras FROM orders;
SELECT count(*) AS events FROM app.events;
SELECT count(*) AS rollbacks FROM pgmig.history WHERE action = 'rollback';

-- A down script that fails: an error, as the real rollback would raise.
SELECT migrate_register('4', 'orders_idx', 'CREATE INDEX orders_note_idx ON orders (note);',
                        'DROP INDEX no_such_idx;') IS NOT NULL AS down_replaced;
SELECT version FROM migrate_rollback(1, dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('4', 'orders_idx', 'CREATE INDEX orders_note_idx ON orders (note);',
                        'DROP INDEX orders_note_idx;') IS NOT NULL AS down_restored;

-- Who may rehearse: whoever may roll back (pgmig_admin), nobody else.
CREATE ROLE regress_rollback_reader IN ROLE pgmig_reader;
SET ROLE regress_rollback_reader;
SELECT version FROM migrate_rollback(1, dry_run => true);
RESET ROLE;
DROP ROLE regress_rollback_reader;

-- The calls of before keep working: positional (steps, trust) and without dry_run, a real rollback
-- with a NULL report.
SELECT version, action, report IS NULL AS no_report FROM migrate_rollback(1, false);
SELECT version, action FROM migrate_rollback_to('0');
SELECT count(*) AS problems FROM migrate_verify();

DROP EXTENSION pgmig;
