-- Dry run: migrate_plan() and migrate_apply(dry_run => true) rehearse the pending migrations in a
-- subtransaction that is always rolled back, report what each would do, and leave nothing behind.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

CREATE TABLE accounts (id int PRIMARY KEY, email text, balance int);
INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g FROM generate_series(1, 50) g;
SELECT migrate_register('1', 'accounts_ledger', 'CREATE TABLE entries (id int);', 'DROP TABLE entries;');
SELECT version, action FROM migrate_apply();

-- Pending: one that rewrites a table, adds an index and touches rows; one that adds a function.
SELECT migrate_register('2', 'balance_bigint', $$
ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;
CREATE INDEX accounts_email_idx ON accounts (email);
UPDATE accounts SET balance = balance * 100 WHERE id <= 10;
DELETE FROM accounts WHERE id > 45;
$$);
SELECT migrate_register('3', 'audit_fn', 'CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql AS $f$ SELECT count(*) FROM accounts $f$;');

-- The state a dry run must leave exactly as it found it (audit rows by their content: the background
-- sealer may seal them meanwhile).
SELECT md5(coalesce(string_agg(h::text, '|' ORDER BY id), '')) AS history_before FROM pgmig.history h \gset
SELECT md5(coalesce(string_agg(pgmig.audit_row_text(a), '|' ORDER BY id), '')) AS audit_before FROM pgmig.ddl_audit a \gset
SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY id), '')) AS snapshots_before FROM pgmig.snapshots s \gset
SELECT md5(coalesce(string_agg(e::text, '|' ORDER BY object_key), '')) AS expected_before FROM pgmig.expected_objects e \gset
SELECT md5(string_agg(format('%s %s %s', version, state, applied_at), '|' ORDER BY version)) AS states_before
  FROM migrate_status() \gset
SELECT migrate_fingerprint() AS fingerprint_before \gset
SELECT last_value AS audit_seq_before FROM pgmig.ddl_audit_id_seq \gset
SELECT last_value AS history_seq_before FROM pgmig.history_id_seq \gset
SELECT md5(string_agg(a::text, '|' ORDER BY id)) AS rows_before FROM accounts a \gset

\x on
SELECT version, name, rehearsable, outcome, reason, statements, duration > '0' AS took_time,
       locks, jsonb_path_query_array(rewritten, '$[*].table') AS rewritten_tables,
       jsonb_path_query_array(rewritten, '$[*] ? (@.relfilenode_before != @.relfilenode_after).table') AS new_files,
       rows_touched, catalog_diff, jsonb_path_query_array(lint, '$[*] ? (@.waived == false).rule') AS lint_rules, persisted
  FROM migrate_plan();
\x off

-- The same report through migrate_apply(dry_run => true), in its fifth column.
SELECT version, action, duration IS NOT NULL AS timed, report -> 'rows' AS rows,
       jsonb_array_length(report -> 'lint') AS lint_findings, report -> 'persisted' AS persisted
  FROM migrate_apply(dry_run => true);
-- A target stops the plan.
SELECT version, outcome FROM migrate_plan('2');

-- Nothing persisted.
SELECT md5(coalesce(string_agg(h::text, '|' ORDER BY id), '')) = :'history_before' AS history_same FROM pgmig.history h;
SELECT md5(coalesce(string_agg(pgmig.audit_row_text(a), '|' ORDER BY id), '')) = :'audit_before' AS audit_same FROM pgmig.ddl_audit a;
SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY id), '')) = :'snapshots_before' AS snapshots_same FROM pgmig.snapshots s;
SELECT md5(coalesce(string_agg(e::text, '|' ORDER BY object_key), '')) = :'expected_before' AS expected_same
  FROM pgmig.expected_objects e;
SELECT md5(string_agg(format('%s %s %s', version, state, applied_at), '|' ORDER BY version)) = :'states_before' AS states_same
  FROM migrate_status();
SELECT migrate_fingerprint() = :'fingerprint_before' AS catalog_same;
SELECT last_value = :audit_seq_before AS audit_ids_unused FROM pgmig.ddl_audit_id_seq;
SELECT last_value = :history_seq_before AS history_ids_unused FROM pgmig.history_id_seq;
SELECT md5(string_agg(a::text, '|' ORDER BY id)) = :'rows_before' AS rows_same FROM accounts a;
SELECT to_regclass('accounts_email_idx') AS idx, to_regprocedure('account_count()') AS fn;
SELECT version, state FROM migrate_status();

-- A failing migration is reported as failed, with the server's message; the ones after it are not
-- rehearsed (they would run without its changes).
SELECT migrate_register('2.5', 'broken', 'ALTER TABLE no_such_table ADD COLUMN x int;');
SELECT version, outcome, reason, catalog_diff FROM migrate_plan();
-- migrate_apply(dry_run => true) raises it, as a real run would.
SELECT * FROM migrate_apply(dry_run => true);
DELETE FROM pgmig.migrations WHERE version = '2.5';

-- A non-transactional migration cannot be rehearsed: reported with the reason, and the ones after
-- it are not rehearsed either.
SELECT migrate_register('4', 'concurrent_idx', 'CREATE INDEX CONCURRENTLY accounts_balance_idx ON accounts (balance);',
                        NULL, '{"transactional": false}');
SELECT migrate_register('5', 'later', 'CREATE TABLE later (id int);');
SELECT version, rehearsable, outcome, reason, statements FROM migrate_plan();
DELETE FROM pgmig.migrations WHERE version IN ('4', '5');

-- A lock that another session holds is reported as "would wait" after pgmig.dry_run_lock_timeout
-- (a second session is needed: see tests/integration/client_plan_test.sh).
SHOW pgmig.dry_run_lock_timeout;

DROP EXTENSION pgmig;
DROP TABLE accounts, entries;
