-- Every statement PostgreSQL 15, 17 and 18 refuse inside a transaction block (the callers of
-- PreventInTransactionBlock) is refused by migrate_apply() with PM010 before anything of the
-- migration runs: the probe sequence, advanced by the migration's first statement, never moves.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE SEQUENCE probe;
CREATE TABLE plain (a int);
CREATE INDEX plain_a ON plain (a);
CREATE TABLE parted (a int) PARTITION BY RANGE (a);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
CREATE INDEX parted_a ON parted (a);

-- Registers `script` after a first statement that advances the probe, applies it, and says how it
-- ended and whether anything ran; the migration is forgotten again.
CREATE FUNCTION pg_temp.try_apply(script text) RETURNS TABLE (outcome text, ran boolean, message text)
LANGUAGE plpgsql AS $$
DECLARE
    before bigint;
BEGIN
    SELECT last_value + (CASE WHEN is_called THEN 0 ELSE -1 END) INTO before FROM probe;
    PERFORM migrate_register('9001', 'outside_transaction_only', E'SELECT nextval(''probe'');\n' || script);
    BEGIN
        PERFORM migrate_apply();
        outcome := 'applied';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS outcome = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    END;
    SELECT last_value + (CASE WHEN is_called THEN 0 ELSE -1 END) <> before INTO ran FROM probe;
    DELETE FROM pgmig.migrations WHERE version = '9001';
    RETURN NEXT;
END $$;

SELECT s.statement, r.*
  FROM unnest(ARRAY[
    'CREATE INDEX CONCURRENTLY plain_b ON plain (a)',
    'DROP INDEX CONCURRENTLY plain_a',
    'REINDEX TABLE CONCURRENTLY plain',
    'REINDEX (CONCURRENTLY) INDEX plain_a',
    'REINDEX (VERBOSE, CONCURRENTLY true) TABLE plain',
    'REINDEX SCHEMA public',
    'REINDEX DATABASE contrib_regression',
    'REINDEX SYSTEM contrib_regression',
    'REINDEX TABLE parted',
    'REINDEX INDEX parted_a',
    'CLUSTER parted USING parted_a',
    'CLUSTER',
    'VACUUM plain',
    'VACUUM (ANALYZE) plain',
    'ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY',
    'CREATE DATABASE pgmig_never_created',
    'DROP DATABASE IF EXISTS pgmig_never_created',
    'ALTER DATABASE contrib_regression SET TABLESPACE pg_default',
    'CREATE TABLESPACE pgmig_never LOCATION ''/nonexistent''',
    'DROP TABLESPACE IF EXISTS pgmig_never',
    'ALTER SYSTEM SET work_mem = ''8MB''',
    'DISCARD ALL',
    'CREATE SUBSCRIPTION pgmig_sub CONNECTION ''dbname=nowhere'' PUBLICATION p',
    'CREATE SUBSCRIPTION pgmig_sub CONNECTION ''dbname=nowhere'' PUBLICATION p WITH (create_slot = true, connect = true)',
    'ALTER SUBSCRIPTION pgmig_sub REFRESH PUBLICATION',
    'ALTER SUBSCRIPTION pgmig_sub SET PUBLICATION p',
    'ALTER SUBSCRIPTION pgmig_sub ADD PUBLICATION q WITH (refresh = true)',
    'ALTER SUBSCRIPTION pgmig_sub SET (failover = true)',
    'DROP SUBSCRIPTION IF EXISTS pgmig_sub'
  ]) WITH ORDINALITY AS s(statement, n),
  LATERAL pg_temp.try_apply(s.statement) AS r
 ORDER BY s.n;

-- Their transactional forms still run inside migrate_apply().
SELECT s.statement, r.outcome, r.ran
  FROM unnest(ARRAY[
    'REINDEX TABLE plain',
    'REINDEX (CONCURRENTLY false) INDEX plain_a',
    'REINDEX TABLE parted_1',
    'CLUSTER plain USING plain_a',
    'ANALYZE plain',
    'DISCARD PLANS',
    'ALTER TABLE parted DETACH PARTITION parted_1',
    'ALTER TABLE parted ATTACH PARTITION parted_1 FOR VALUES FROM (0) TO (10)',
    'ALTER DATABASE contrib_regression RESET work_mem'
  ]) WITH ORDINALITY AS s(statement, n),
  LATERAL pg_temp.try_apply(s.statement) AS r
 ORDER BY s.n;

-- A table made partitioned by an earlier statement of the same migration: refused before that
-- statement runs (PostgreSQL would say 25001), and the whole call is rolled back.
SELECT * FROM pg_temp.try_apply(E'CREATE TABLE later_parted (a int) PARTITION BY LIST (a);\nREINDEX TABLE later_parted;');
SELECT to_regclass('later_parted') AS left_behind;

-- The client sees the same classification for the statements it runs one by one.
SELECT n, needs_no_transaction FROM pgmig.split_statements(
    E'ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY;\nREINDEX SCHEMA public;\nDISCARD ALL;\nDISCARD PLANS;');

DROP EXTENSION pgmig;
DROP TABLE plain, parted;
DROP SEQUENCE probe;
