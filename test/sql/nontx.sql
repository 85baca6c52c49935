-- Non-transactional migrations: the calls the client makes, and resuming after an interruption.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- The client asks the server to split a script, with lines and what needs no transaction.
SELECT * FROM pgmig.split_statements(E'-- build the index without blocking writes\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n\nANALYZE t;\nVACUUM t;');

CREATE TABLE t (a int, b int);
SELECT migrate_register('1', 'two_indexes',
    E'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_b_idx ON t (b);',
    E'DROP INDEX CONCURRENTLY IF EXISTS t_b_idx;\nDROP INDEX CONCURRENTLY IF EXISTS t_a_idx;',
    '{"transactional": false}') IS NOT NULL AS registered;

-- Without the session-level ledger lock, nothing starts (PM012).
SELECT migrate_nontx_begin('1');
\echo :LAST_ERROR_SQLSTATE

SELECT pg_advisory_lock(482771560807) IS NOT NULL AS locked;
SELECT migrate_nontx_begin('1') AS already_done;
CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a);
SELECT migrate_nontx_progress('1', 1);
-- ... the client dies here. The ledger says exactly where it stopped.
SELECT version, state FROM migrate_status();
SELECT version, problem, detail FROM migrate_verify();
-- A new run resumes after statement 1.
SELECT migrate_nontx_begin('1') AS already_done;
CREATE INDEX CONCURRENTLY IF NOT EXISTS t_b_idx ON t (b);
SELECT migrate_nontx_progress('1', 2);
SELECT migrate_nontx_finish('1', '0.5 seconds');
SELECT pg_advisory_unlock(482771560807);
SELECT version, state FROM migrate_status();
SELECT count(*) AS problems FROM migrate_verify();
SELECT action, reason FROM pgmig.history ORDER BY id;

-- Only for non-transactional migrations.
SELECT migrate_register('2', 'plain', 'CREATE TABLE plain (id int);') IS NOT NULL AS registered;
SELECT pg_advisory_lock(482771560807) IS NOT NULL AS locked;
SELECT migrate_nontx_begin('2');
SELECT migrate_nontx_begin('1');
SELECT pg_advisory_unlock(482771560807);

-- Rolling back (direction down): no progress is kept; a failed statement is recorded and the
-- migration stays applied, and the next run starts the down script again from statement 1.
SELECT pg_advisory_lock(482771560807) IS NOT NULL AS locked;
SELECT max(id) AS before_down FROM pgmig.history \gset
SELECT migrate_nontx_begin('1', 'down') AS already_done;
DROP INDEX CONCURRENTLY IF EXISTS t_b_idx;
SELECT migrate_nontx_failed('1', 2, '55P03', 'canceling statement due to lock timeout', 'down');
SELECT version, state, applied_at IS NOT NULL AS applied FROM migrate_status() WHERE version = '1';
SELECT migrate_nontx_begin('1', 'down') AS already_done;
DROP INDEX CONCURRENTLY IF EXISTS t_b_idx;
DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;
SELECT migrate_nontx_finish('1', '0.2 seconds', 'down');
SELECT version, state FROM migrate_status() WHERE version = '1';
SELECT action, sqlstate, reason FROM pgmig.history WHERE id > :before_down ORDER BY id;
SELECT reason FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
SELECT count(*) AS indexes_left FROM pg_index WHERE indrelid = 't'::regclass;
-- Not applied any more, or a bad direction: refused.
SELECT migrate_nontx_begin('1', 'down');
SELECT migrate_nontx_begin('1', 'sideways');
-- An empty down section has nothing to undo; no down section at all refuses (PM011).
SELECT migrate_register('3', 'validate_only', 'ALTER TABLE t ADD COLUMN c int;', '', '{"transactional": false}') IS NOT NULL AS registered;
SELECT migrate_register('4', 'no_down', 'ALTER TABLE t ADD COLUMN d int;', NULL, '{"transactional": false}') IS NOT NULL AS registered;
SELECT migrate_nontx_begin('3');
ALTER TABLE t ADD COLUMN c int;
SELECT migrate_nontx_finish('3', '0.1 seconds');
SELECT migrate_nontx_begin('4');
ALTER TABLE t ADD COLUMN d int;
SELECT migrate_nontx_finish('4', '0.1 seconds');
SELECT migrate_nontx_begin('3', 'down');
SELECT migrate_nontx_finish('3', '0 seconds', 'down');
SELECT migrate_nontx_begin('4', 'down');
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate_status() WHERE version IN ('3', '4');
SELECT pg_advisory_unlock(482771560807);

DROP EXTENSION pgmig;
DROP TABLE t;
