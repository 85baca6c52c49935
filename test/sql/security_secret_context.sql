-- A password in a failing migration never reaches the error pgmig sends (message, detail, hint,
-- context, internal query), the failure history, the audit trail or a column a reader can read.
-- Every field but LOCATION (source line numbers) is shown: VERBOSITY default with SHOW_CONTEXT always;
-- error_fields() below also checks each field, as a client's error handler would read it.
CREATE EXTENSION pgmig;
\set VERBOSITY default
\set SHOW_CONTEXT always

CREATE FUNCTION regress_error_fields(call text)
    RETURNS TABLE (field text, secret_free boolean, value text) LANGUAGE plpgsql AS $$
DECLARE
    m text; d text; h text; c text;
BEGIN
    EXECUTE call;
    RAISE EXCEPTION 'expected % to fail', call;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT,
                            c = PG_EXCEPTION_CONTEXT;
    -- The pattern is built so that this function's own text (in the audit trail) does not match it.
    RETURN QUERY VALUES ('message', m !~ ('S3' || 'cret'), m), ('detail', d !~ ('S3' || 'cret'), d),
                        ('hint', h !~ ('S3' || 'cret'), h), ('context', c !~ ('S3' || 'cret'), c);
END
$$;

-- A plain statement: the detail quotes it redacted, and so does the context line core's SPI adds.
SELECT migrate_register('1', 'plain role',
    $$CREATE ROLE regress_sec_plain LOGIN PASSWORD 'S3cretPLAIN' IN ROLE regress_sec_missing;$$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT field, secret_free FROM regress_error_fields('SELECT * FROM migrate_apply()');

-- Inside a DO block: the body is withheld in the detail; the context lines are redacted.
SELECT migrate_register('1', 'do role', $m$DO $do$
BEGIN
    CREATE ROLE regress_sec_do LOGIN PASSWORD 'S3cretDOBLOCK' IN ROLE regress_sec_missing;
END
$do$;$m$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT field, secret_free FROM regress_error_fields('SELECT * FROM migrate_apply()');

-- EXECUTE in PL/pgSQL: the statement core reports is the string executed.
SELECT migrate_register('1', 'execute role', $m$DO $do$
BEGIN
    EXECUTE 'CREATE ROLE regress_sec_exec LOGIN PASSWORD ''S3cretEXECUTE'' IN ROLE regress_sec_missing';
END
$do$;$m$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT field, secret_free FROM regress_error_fields('SELECT * FROM migrate_apply()');

-- A function body: the function is created, the failure happens when the migration calls it.
SELECT migrate_register('1', 'function role', $m$
CREATE FUNCTION regress_sec_make_role() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    CREATE ROLE regress_sec_fn LOGIN PASSWORD 'S3cretFUNCTION' IN ROLE regress_sec_missing;
END
$f$;
SELECT regress_sec_make_role();$m$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT field, secret_free FROM regress_error_fields('SELECT * FROM migrate_apply()');

-- A function body that does not compile: core quotes the whole body as the internal query.
SELECT migrate_register('1', 'broken body', $m$
CREATE FUNCTION regress_sec_broken() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    CREATE ROLE regress_sec_broken LOGIN PASSWORD 'S3cretBROKENBODY';
    THIS IS NOT PLPGSQL;
END
$f$;$m$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT field, secret_free FROM regress_error_fields('SELECT * FROM migrate_apply()');

-- A script that does not parse: the syntax error quotes the token after PASSWORD (unquoted here).
SELECT migrate_register('1', 'unquoted', $$CREATE ROLE regress_sec_unquoted PASSWORD S3cretUNQUOTED;$$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT field, secret_free FROM regress_error_fields('SELECT * FROM migrate_apply()');

-- Dry runs report the same redacted texts.
SELECT migrate_register('1', 'plain role',
    $$CREATE ROLE regress_sec_plain LOGIN PASSWORD 'S3cretPLAIN' IN ROLE regress_sec_missing;$$) IS NOT NULL AS registered;
SELECT outcome, reason !~ 'S3cret' AS secret_free, reason FROM migrate_plan();

-- Redaction itself: DO blocks and function bodies that mention a secret are withheld whole; text
-- that does not parse is redacted token by token where a literal follows a secret's keyword.
SELECT pgmig.redact($t$DO $d$ BEGIN CREATE ROLE r PASSWORD 'S3cret1'; END $d$$t$);
SELECT pgmig.redact($$DO LANGUAGE plpgsql 'BEGIN EXECUTE ''CREATE ROLE r PASSWORD ''''S3cret2''''''; END'$$);
SELECT pgmig.redact($$CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE sql AS 'ALTER ROLE r PASSWORD ''S3cret3'''$$);
SELECT pgmig.redact($t$CREATE PROCEDURE p() LANGUAGE plpgsql AS $p$ BEGIN ALTER ROLE r PASSWORD 'S3cret4'; END $p$$t$);
SELECT pgmig.redact($t$DO $d$ BEGIN RAISE NOTICE 'no password here'; END $d$$t$);
SELECT pgmig.redact($t$DO $d$ BEGIN RAISE NOTICE 'nothing to hide'; END $d$$t$);
SELECT pgmig.redact($$CREATE ROLE x PASSWORD 'S3cret5' NONSENSE$$);
SELECT pgmig.redact($$CREATE ROLE x WITH PASSWORD = 'S3cret6', LOGIN$$);
SELECT pgmig.redact($$CREATE ROLE x PASSWORD S3cret7 LOGIN$$);
SELECT pgmig.redact($$CREATE SUBSCRIPTION s CONNECTION 'password=S3cret8' PUBLICATION$$);
SELECT pgmig.redact($$CREATE ROLE x PASSWORD 'S3cret9$$);

-- A migration that succeeds: its CREATE ROLE reaches the audit trail redacted.
SELECT migrate_register('1', 'roles', $m$
CREATE ROLE regress_sec_ok LOGIN PASSWORD 'S3cretAPPLIED';
DO $do$ BEGIN ALTER ROLE regress_sec_ok PASSWORD 'S3cretAPPLIED2'; END $do$;$m$,
    $$DROP ROLE regress_sec_ok;$$) IS NOT NULL AS registered;
SELECT version, name, action FROM migrate_apply();

-- Let the failure recorder's rows land (they are written by a background worker).
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        EXIT WHEN (SELECT count(*) FROM pgmig.history WHERE action = 'failed') >= 10
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmig failure recorder');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT count(*), message !~ 'S3cret' AS secret_free, message
  FROM pgmig.history WHERE action = 'failed' GROUP BY message ORDER BY message;
SELECT command_tag, statement FROM pgmig.ddl_audit WHERE statement ~ 'S3cret';
SELECT command_tag, statement FROM pgmig.ddl_audit WHERE statement LIKE '%regress_sec_ok%' ORDER BY id;

-- The copies are kept also under session_replication_role = replica (the trigger is ENABLE ALWAYS).
SET session_replication_role = replica;
SELECT migrate_register('2', 'replica', $$ALTER ROLE regress_sec_ok PASSWORD 'S3cretREPLICA';$$) IS NOT NULL AS registered;
RESET session_replication_role;
SELECT version, up_sql_redacted FROM pgmig.migrations WHERE version = '2';

-- What a reader and an approver can read: the redacted copies, never the scripts themselves.
CREATE ROLE regress_sec_reader IN ROLE pgmig_reader;
CREATE ROLE regress_sec_approver IN ROLE pgmig_approver;
SET ROLE regress_sec_reader;
SELECT version, name, up_sql_redacted, down_sql_redacted FROM pgmig.migrations;
SELECT up_sql FROM pgmig.migrations;
SELECT down_sql FROM pgmig.migrations;
SELECT * FROM pgmig.migrations;
SELECT version, name, state FROM migrate_status();
SELECT count(*) AS problems FROM migrate_verify();
SELECT count(*) AS history_rows_with_a_secret FROM pgmig.history WHERE message ~ 'S3cret' OR reason ~ 'S3cret';
RESET ROLE;
SET ROLE regress_sec_approver;
SELECT version, up_sql_redacted FROM pgmig.migrations;
SELECT up_sql FROM pgmig.migrations;
SELECT version, name, state FROM migrate_status();
RESET ROLE;

-- Lint findings quote statements: redacted the same way.
SELECT rule, statement FROM migrate_lint($t$CREATE FUNCTION regress_sec_f() RETURNS void LANGUAGE sql
    AS $f$ ALTER ROLE regress_sec_ok PASSWORD 'S3cretLINT' $f$;$t$);
SELECT rule, statement, message FROM migrate_lint($$CREATE ROLE regress_sec_lint PASSWORD S3cretLINTSYNTAX;$$);

SELECT version, name, action FROM migrate_rollback();
DROP ROLE regress_sec_reader, regress_sec_approver;
DROP FUNCTION regress_error_fields(text);
DROP EXTENSION pgmig;
