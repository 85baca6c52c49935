-- pgmig's own SQL never resolves a name through the caller's or the database's search_path.
-- Whoever can create objects in a schema that is on somebody's search_path (a database owner, who
-- can also ALTER DATABASE ... SET search_path) plants look-alikes of what pgmig's SQL uses: a text
-- domain whose CHECK runs code, operators on (text, text) and friends, functions and aggregates.
-- Each planted object logs that it ran. Then every SQL-callable function of pgmig is called, by a
-- superuser and by a pgmig_admin, with the planted schema first on search_path (the session's, and
-- the database's for the failure recorder, a background worker running as the extension's owner);
-- failing migrations wake that worker. Nothing planted may ever run.
-- (A migration's own statements run with the caller's search_path on purpose: the migrations
-- below qualify their names, and this file's own statements, while the planted schema is on its
-- search_path, use no operator and no function but pgmig's, so that only pgmig's own SQL could
-- reach the planted objects.)
\set SHOW_CONTEXT never
CREATE SCHEMA regress_evil;
GRANT USAGE ON SCHEMA regress_evil TO PUBLIC;
CREATE TABLE regress_evil.log (what text, by_role name, superuser text);
GRANT INSERT ON regress_evil.log TO PUBLIC;
-- Counts every run, also one whose transaction rolled back (and took its log row with it).
CREATE SEQUENCE regress_evil.runs;
GRANT USAGE ON SEQUENCE regress_evil.runs TO PUBLIC;
CREATE FUNCTION regress_evil.pwn(what text) RETURNS boolean
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM nextval('regress_evil.runs');
    -- (a real attacker would ALTER ROLE ... SUPERUSER here when is_superuser is on)
    INSERT INTO regress_evil.log VALUES (what, current_user, current_setting('is_superuser'));
    RETURN true;
END $$;

DO $plant$
DECLARE
    t text;
    o record;
    n int := 0;
BEGIN
    -- Types: a domain whose CHECK calls pwn, for each type pgmig's SQL names.
    FOREACH t IN ARRAY ARRAY['text', 'name', 'inet', 'jsonb', 'interval', 'bytea', 'timestamptz'] LOOP
        EXECUTE format('CREATE DOMAIN regress_evil.%I AS pg_catalog.%I CHECK (regress_evil.pwn(%L))',
                       t, t, 'type ' || t);
    END LOOP;
    -- Operators: each calls pwn, then the real operator.
    FOR o IN
        SELECT op, typ, typ AS rtyp, CASE WHEN op = '||' THEN typ ELSE 'bool' END AS ret
          FROM unnest(ARRAY['=', '<>']) op,
               unnest(ARRAY['text', 'name', 'bytea', 'int4', 'int8', 'oid', 'bool', 'jsonb', 'char']) typ
        UNION ALL
        SELECT op, typ, typ, 'bool'
          FROM unnest(ARRAY['<', '>', '<=', '>=']) op, unnest(ARRAY['text', 'int4', 'int8', 'timestamptz']) typ
        UNION ALL
        VALUES ('||', 'text', 'text', 'text'), ('~~', 'text', 'text', 'bool'), ('!~~', 'text', 'text', 'bool'),
               ('?', 'jsonb', 'text', 'bool'), ('->', 'jsonb', 'text', 'jsonb'), ('->>', 'jsonb', 'text', 'text'),
               ('=', 'name', 'text', 'bool'), ('=', 'text', 'name', 'bool')
    LOOP
        n := n + 1;
        EXECUTE format($f$CREATE FUNCTION regress_evil.op_%s(a pg_catalog.%I, b pg_catalog.%I) RETURNS pg_catalog.%I
                          LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
                          AS $b$ BEGIN PERFORM regress_evil.pwn(%L); RETURN a OPERATOR(pg_catalog.%s) b; END $b$$f$,
                       n, o.typ, o.rtyp, o.ret, format('operator %s(%s, %s)', o.op, o.typ, o.rtyp), o.op);
        EXECUTE format('CREATE OPERATOR regress_evil.%s (LEFTARG = pg_catalog.%I, RIGHTARG = pg_catalog.%I, '
                       'FUNCTION = regress_evil.op_%s)', o.op, o.typ, o.rtyp, n);
    END LOOP;
    -- Functions: each calls pwn, then the real function.
    FOR o IN
        SELECT * FROM (VALUES
            ('now', '', 'timestamptz', ''),
            ('clock_timestamp', '', 'timestamptz', ''),
            ('inet_client_addr', '', 'inet', ''),
            ('host', 'a pg_catalog.inet', 'text', 'a'),
            ('encode', 'a pg_catalog.bytea, b pg_catalog.text', 'text', 'a, b'),
            ('sha256', 'a pg_catalog.bytea', 'bytea', 'a'),
            ('convert_to', 'a pg_catalog.text, b pg_catalog.name', 'bytea', 'a, b'),
            ('convert_to', 'a pg_catalog.text, b pg_catalog.text', 'bytea', 'a, b::pg_catalog.name'),
            ('format', 'a pg_catalog.text, VARIADIC b pg_catalog.text[]', 'text', 'a, VARIADIC b'),
            ('pg_advisory_xact_lock', 'a pg_catalog.int8', 'void', 'a'),
            ('lower', 'a pg_catalog.text', 'text', 'a'),
            ('strpos', 'a pg_catalog.text, b pg_catalog.text', 'int4', 'a, b'),
            ('current_database', '', 'name', ''),
            ('pg_backend_pid', '', 'int4', ''),
            ('current_setting', 'a pg_catalog.text', 'text', 'a'),
            ('jsonb_typeof', 'a pg_catalog.jsonb', 'text', 'a'),
            ('split_part', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.int4', 'text', 'a, b, c'),
            ('substr', 'a pg_catalog.text, b pg_catalog.int4', 'text', 'a, b'),
            ('length', 'a pg_catalog.text', 'int4', 'a'),
            ('left', 'a pg_catalog.text, b pg_catalog.int4', 'text', 'a, b'),
            ('quote_ident', 'a pg_catalog.text', 'text', 'a'),
            ('has_table_privilege', 'a pg_catalog.oid, b pg_catalog.text', 'bool', 'a, b'),
            ('pg_get_expr', 'a pg_catalog.pg_node_tree, b pg_catalog.oid', 'text', 'a, b'),
            ('format_type', 'a pg_catalog.oid, b pg_catalog.int4', 'text', 'a, b'),
            ('pg_identify_object', 'a pg_catalog.oid, b pg_catalog.oid, c pg_catalog.int4', 'record', NULL),
            ('jsonb_to_record', 'a pg_catalog.jsonb', 'record', NULL)
        ) v(name, args, ret, pass)
    LOOP
        EXECUTE format($f$CREATE FUNCTION regress_evil.%I(%s) RETURNS pg_catalog.%I
                          LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
                          AS $b$ BEGIN PERFORM regress_evil.pwn(%L); %s END $b$$f$,
                       o.name, o.args, o.ret, format('function %s(%s)', o.name, o.args),
                       CASE WHEN o.pass IS NULL THEN 'RAISE EXCEPTION ''planted code ran'';'
                            WHEN o.ret = 'void' THEN format('PERFORM pg_catalog.%I(%s);', o.name, o.pass)
                            ELSE format('RETURN pg_catalog.%I(%s);', o.name, o.pass) END);
    END LOOP;
END $plant$;
CREATE FUNCTION regress_evil.unnest(a bigint[]) RETURNS SETOF bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$ BEGIN PERFORM regress_evil.pwn('function unnest(bigint[])'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$;
CREATE FUNCTION regress_evil.unnest(a text[]) RETURNS SETOF text
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$ BEGIN PERFORM regress_evil.pwn('function unnest(text[])'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$;
-- Aggregates.
CREATE FUNCTION regress_evil.count_step(n bigint) RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$ BEGIN PERFORM regress_evil.pwn('aggregate count(*)'); RETURN n + 1; END $$;
CREATE AGGREGATE regress_evil.count(*) (SFUNC = regress_evil.count_step, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION regress_evil.object_agg_step(s jsonb, k text, v jsonb) RETURNS jsonb
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$ BEGIN PERFORM regress_evil.pwn('aggregate jsonb_object_agg(text, jsonb)');
              RETURN coalesce(s, '{}') || jsonb_build_object(k, v); END $$;
CREATE AGGREGATE regress_evil.jsonb_object_agg(text, jsonb) (SFUNC = regress_evil.object_agg_step, STYPE = jsonb);
-- Better matches than pg_catalog's own (which takes (text, name), or ("any", "any")), planted in
-- the schema CREATE EXTENSION installs into: pg_catalog comes first there, yet these would still win.
CREATE FUNCTION public.convert_to(a text, b text) RETURNS bytea
    LANGUAGE sql AS $$ SELECT regress_evil.convert_to(a, b) $$;
CREATE AGGREGATE public.jsonb_object_agg(text, jsonb) (SFUNC = regress_evil.object_agg_step, STYPE = jsonb);
SELECT count(*) AS planted FROM pg_proc WHERE pronamespace = 'regress_evil'::regnamespace;

-- CREATE EXTENSION runs its script with search_path = public, pg_temp (pg_catalog implicitly first).
CREATE EXTENSION pgmig;

CREATE ROLE regress_sp_admin IN ROLE pgmig_admin, pgmig_approver;
-- Approvals count by a role other than the registrant (the session user): this one approves.
CREATE ROLE regress_sp_approver IN ROLE pgmig_approver;
GRANT CREATE ON SCHEMA public TO regress_sp_admin;
-- The failure recorder connects with the database's settings.
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET search_path = regress_evil, pg_catalog, public', current_database());
END $$;

-- ==== as a superuser ====
SET search_path = regress_evil, pg_catalog, public;
SELECT pgmig.redact('CREATE ROLE r PASSWORD ''x''') AS redact;
SELECT pgmig.script_checksum('SELECT 1;') IS NOT NULL AS script_checksum;
SELECT pgmig.same_statements('SELECT 1;', 'select 1 ;') AS same_statements;
SELECT n, statement FROM pgmig.split_statements('SELECT 1; SELECT 2;');
SELECT migrate_register('1', 'table', 'CREATE TABLE public.regress_sp_t (id int);',
                        'DROP TABLE public.regress_sp_t;') IS NOT NULL AS register;
SELECT migrate_register('1', 'table', 'CREATE TABLE public.regress_sp_t (id int);',
                        'DROP TABLE public.regress_sp_t;') IS NOT NULL AS register_again;
SELECT rule, severity FROM migrate_lint('ALTER TABLE public.regress_sp_t ADD COLUMN x int NOT NULL; DROP TABLE public.nothing;');
SELECT version, outcome FROM migrate_plan();
SELECT version, action FROM migrate_apply(dry_run => true);
SELECT step, check_name, passed FROM migrate_test('1');
SELECT version, action FROM migrate_apply();
SELECT version, action FROM migrate_rollback();
SELECT version, action FROM migrate_apply();
SELECT version, action FROM migrate_rollback_to('0');
SELECT version, action FROM migrate_apply();
SELECT migrate_repair('1') IS NOT NULL AS repair;
SELECT version, action FROM migrate_baseline('1');
-- A non-transactional migration, run the way the client runs it.
SELECT migrate_register('2', 'index', 'CREATE INDEX CONCURRENTLY regress_sp_i ON public.regress_sp_t (id);',
                        'DROP INDEX CONCURRENTLY public.regress_sp_i;', '{"transactional": false}') IS NOT NULL AS register;
SELECT pg_advisory_lock(482771560807) AS session_lock;
SELECT migrate_nontx_begin('2') AS nontx_begin;
SELECT migrate_nontx_failed('2', 1, '55P03', 'lock timeout') AS nontx_failed;
SELECT migrate_nontx_begin('2') AS nontx_begin;
CREATE INDEX CONCURRENTLY regress_sp_i ON public.regress_sp_t (id);
SELECT migrate_nontx_progress('2', 1) AS nontx_progress;
SELECT migrate_nontx_finish('2', '1 second') AS nontx_finish;
SELECT pg_advisory_unlock(482771560807) AS session_unlock;
-- Reading.
SELECT version, state FROM migrate_status();
SELECT * FROM migrate_verify();
SELECT first_broken_id IS NULL AS audit_chain_intact FROM migrate_audit_verify();
SELECT migrate_snapshot() IS NOT NULL AS snapshot;
SELECT migrate_fingerprint() IS NOT NULL AS fingerprint;
SELECT EXISTS (SELECT FROM migrate_fingerprint_objects()) AS fingerprint_objects;
SELECT EXISTS (SELECT FROM pgmig.snapshot_objects()) AS snapshot_objects;
SELECT pgmig.object_map() IS NOT NULL AS object_map;
SELECT pgmig.object_diff('{}', '{}') AS object_diff;
SELECT pgmig.rehearsal_effects(pgmig.rehearsal_state()) IS NOT NULL AS rehearsal_effects;
SELECT pgmig.acl_entries(ARRAY[pg_catalog.makeaclitem(0, 10, 'SELECT', false)], 10, 'r') AS acl_entries;
SELECT pgmig.audit_row_text(a) IS NOT NULL AS audit_row_text FROM pgmig.ddl_audit a LIMIT 1;
SELECT problem, object FROM migrate_check_integrity();
SELECT EXISTS (SELECT FROM pgmig.integrity_scan()) AS integrity_scan;
-- The event triggers: DDL outside migrations (command end, table rewrite, drop).
CREATE TABLE public.regress_sp_oob (id int);
ALTER TABLE public.regress_sp_oob ALTER COLUMN id TYPE bigint;
SELECT object_type, identity, change FROM migrate_drift();
DROP TABLE public.regress_sp_oob;
UPDATE pgmig.ddl_audit SET statement = NULL;
-- Approvals and deploy steps.
SELECT migrate_register('3', 'later', 'SELECT 1;') IS NOT NULL AS register;
SET SESSION AUTHORIZATION regress_sp_approver;
SELECT approved_version, approved_for FROM migrate_approve('3', 'production');
RESET SESSION AUTHORIZATION;
SELECT version, status FROM migrate_approval_check('production');
SELECT migrate_record_deploy('production', 'succeeded', 'deployed') IS NOT NULL AS record_deploy;
-- A failing migration: the failure recorder writes pgmig.history in the background.
SELECT migrate_register('4', 'broken', 'ALTER TABLE public.regress_sp_t ADD COLUMN x regress_no_such_type;') IS NOT NULL AS register;
SELECT version, action FROM migrate_apply();
SELECT migrate_register('4', 'fixed', 'SELECT 1;') IS NOT NULL AS register;
RESET search_path;
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN (SELECT count(*) FROM pgmig.history WHERE action = 'failed' AND version = '4') >= 1
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmig failure recorder');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT version, sqlstate, reason FROM pgmig.history WHERE action = 'failed' ORDER BY id;

-- Two more settings a database owner may choose for the recorder: run as somebody else, or
-- read-only (either would lose the record of the next failure).
CREATE ROLE regress_sp_nobody NOLOGIN;
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET role = regress_sp_nobody', current_database());
    EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database());
END $$;

-- ==== as a pgmig_admin ====
SET ROLE regress_sp_admin;
SET search_path = regress_evil, pg_catalog, public;
SELECT pgmig.redact('CREATE ROLE r PASSWORD ''x''') AS redact;
SELECT pgmig.script_checksum('SELECT 1;') IS NOT NULL AS script_checksum;
SELECT pgmig.same_statements('SELECT 1;', 'select 1 ;') AS same_statements;
SELECT n, statement FROM pgmig.split_statements('SELECT 1; SELECT 2;');
SELECT migrate_register('5', 'admin table', 'CREATE TABLE public.regress_sp_admin_t (id int);',
                        'DROP TABLE public.regress_sp_admin_t;') IS NOT NULL AS register;
SELECT rule, severity FROM migrate_lint('ALTER TABLE public.regress_sp_admin_t ADD COLUMN x int NOT NULL;');
SELECT version, outcome FROM migrate_plan();
SELECT version, action FROM migrate_apply(dry_run => true);
SELECT step, check_name, passed FROM migrate_test('5');
SELECT version, action FROM migrate_apply();
SELECT version, action FROM migrate_rollback();
SELECT version, action FROM migrate_apply();
SELECT version, action FROM migrate_rollback_to('4');
SELECT version, action FROM migrate_apply();
SELECT migrate_repair('5') IS NOT NULL AS repair;
SELECT version, action FROM migrate_baseline('5');
SELECT migrate_register('6', 'admin index', 'CREATE INDEX CONCURRENTLY regress_sp_admin_i ON public.regress_sp_admin_t (id);',
                        'DROP INDEX CONCURRENTLY public.regress_sp_admin_i;', '{"transactional": false}') IS NOT NULL AS register;
SELECT pg_advisory_lock(482771560807) AS session_lock;
SELECT migrate_nontx_begin('6') AS nontx_begin;
SELECT migrate_nontx_failed('6', 1, '55P03', 'lock timeout') AS nontx_failed;
SELECT migrate_nontx_begin('6') AS nontx_begin;
CREATE INDEX CONCURRENTLY regress_sp_admin_i ON public.regress_sp_admin_t (id);
SELECT migrate_nontx_progress('6', 1) AS nontx_progress;
SELECT migrate_nontx_finish('6', '1 second') AS nontx_finish;
SELECT pg_advisory_unlock(482771560807) AS session_unlock;
SELECT version, state FROM migrate_status();
SELECT * FROM migrate_verify();
SELECT first_broken_id IS NULL AS audit_chain_intact FROM migrate_audit_verify();
SELECT migrate_snapshot() IS NOT NULL AS snapshot;
SELECT migrate_fingerprint() IS NOT NULL AS fingerprint;
SELECT EXISTS (SELECT FROM migrate_fingerprint_objects()) AS fingerprint_objects;
SELECT EXISTS (SELECT FROM pgmig.snapshot_objects()) AS snapshot_objects;
SELECT pgmig.object_map() IS NOT NULL AS object_map;
SELECT pgmig.object_diff('{}', '{}') AS object_diff;
SELECT pgmig.rehearsal_effects(pgmig.rehearsal_state()) IS NOT NULL AS rehearsal_effects;
SELECT pgmig.acl_entries(ARRAY[pg_catalog.makeaclitem(0, 10, 'SELECT', false)], 10, 'r') AS acl_entries;
SELECT pgmig.audit_row_text(a) IS NOT NULL AS audit_row_text FROM pgmig.ddl_audit a LIMIT 1;
SELECT problem, object FROM migrate_check_integrity();
SELECT EXISTS (SELECT FROM pgmig.integrity_scan()) AS integrity_scan;
CREATE TABLE public.regress_sp_admin_oob (id int);
ALTER TABLE public.regress_sp_admin_oob ALTER COLUMN id TYPE bigint;
SELECT object_type, identity, change FROM migrate_drift();
DROP TABLE public.regress_sp_admin_oob;
SELECT migrate_register('7', 'admin later', 'SELECT 1;') IS NOT NULL AS register;
RESET ROLE;
SET SESSION AUTHORIZATION regress_sp_approver;
SELECT approved_version, approved_for FROM migrate_approve('7', 'production');
RESET SESSION AUTHORIZATION;
SET ROLE regress_sp_admin;
SELECT version, status FROM migrate_approval_check('production');
SELECT migrate_record_deploy('production', 'succeeded', 'deployed') IS NOT NULL AS record_deploy;
SELECT migrate_register('8', 'admin broken', 'ALTER TABLE public.regress_sp_admin_t ADD COLUMN x regress_no_such_type;') IS NOT NULL AS register;
SELECT version, action FROM migrate_apply();
RESET search_path;
RESET ROLE;
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN (SELECT count(*) FROM pgmig.history WHERE action = 'failed' AND version = '8') >= 1
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmig failure recorder');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT version, sqlstate, reason FROM pgmig.history WHERE action = 'failed' ORDER BY id;

-- ==== migrate_apply_tested keeping the last run of up, as a pgmig_admin ====
-- (the scratch mark of pgmig test, then an apply whose snapshot follows every change outside migrations)
DO $$ BEGIN
    EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(),
                   'pgmig test scratch database: made for one test run and dropped after it; its data does not matter');
END $$;
DELETE FROM pgmig.migrations WHERE version = '8';
SELECT version, action FROM migrate_apply();
SET ROLE regress_sp_admin;
SET search_path = regress_evil, pg_catalog, public;
SELECT migrate_register('9', 'admin kept', 'CREATE TABLE public.regress_sp_kept (id int PRIMARY KEY);',
                        'DROP TABLE public.regress_sp_kept;') IS NOT NULL AS register;
SELECT step, check_name, passed, detail FROM migrate_apply_tested('9') WHERE step OPERATOR(pg_catalog.=) 6;
RESET search_path;
RESET ROLE;
DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS NULL', current_database()); END $$;

-- ==== nothing planted ever ran ====
SELECT what, by_role, superuser, count(*) AS times FROM regress_evil.log GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT is_called AS planted_code_ran FROM regress_evil.runs;

DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I RESET search_path', current_database());
    EXECUTE format('ALTER DATABASE %I RESET role', current_database());
    EXECUTE format('ALTER DATABASE %I RESET default_transaction_read_only', current_database());
END $$;
DROP EXTENSION pgmig;
DROP TABLE public.regress_sp_t, public.regress_sp_admin_t, public.regress_sp_kept;
DROP AGGREGATE public.jsonb_object_agg(text, jsonb);
DROP FUNCTION public.convert_to(text, text);
SET client_min_messages = warning;
DROP SCHEMA regress_evil CASCADE;
RESET client_min_messages;
REVOKE CREATE ON SCHEMA public FROM regress_sp_admin;
DROP ROLE regress_sp_admin, regress_sp_approver, regress_sp_nobody;
