-- With the library loaded (CREATE EXTENSION loads it in this session, as any pgmig function would),
-- no DDL escapes the audit trail: not under session_replication_role = replica, not while one of
-- pgmig's event triggers is disabled, not CLUSTER, REINDEX or VACUUM FULL (which fire no event
-- trigger), not event-trigger DDL itself; and audit rows cannot be changed in replica mode either.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SET pgmig.audit_sealer = off;
CREATE ROLE regress_escape_owner;
GRANT CREATE ON SCHEMA public TO regress_escape_owner;

-- Replica mode: recorded (the out-of-band policy is not applied there).
SET session_replication_role = replica;
CREATE TABLE escape_replica (id int PRIMARY KEY, v text);
RESET session_replication_role;

-- Each of pgmig's event triggers disabled in turn: the utility hook records, and applies the policy.
ALTER EVENT TRIGGER pgmig_ddl_end DISABLE;
CREATE TABLE escape_no_end (id int);
ALTER EVENT TRIGGER pgmig_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_sql_drop DISABLE;
DROP TABLE escape_no_end;
ALTER EVENT TRIGGER pgmig_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_table_rewrite DISABLE;
ALTER TABLE escape_replica ALTER COLUMN v TYPE varchar(20);
ALTER EVENT TRIGGER pgmig_table_rewrite ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_ddl_start DISABLE;
SET pgmig.out_of_band = block;
SET ROLE regress_escape_owner;
CREATE TABLE escape_blocked (id int);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET pgmig.out_of_band;
ALTER EVENT TRIGGER pgmig_ddl_start ENABLE ALWAYS;
-- A trigger set to fire only in replica mode does not fire here.
ALTER EVENT TRIGGER pgmig_ddl_end ENABLE REPLICA;
CREATE INDEX escape_replica_v ON escape_replica (v);
ALTER EVENT TRIGGER pgmig_ddl_end ENABLE ALWAYS;
SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'pgmig%' ORDER BY evtname;

-- CLUSTER, REINDEX and VACUUM FULL fire no event trigger: under block, refused for a table owner
-- who is not pgmig_admin ...
ALTER TABLE escape_replica OWNER TO regress_escape_owner;
SET pgmig.out_of_band = block;
SET ROLE regress_escape_owner;
CLUSTER escape_replica USING escape_replica_pkey;
\echo :LAST_ERROR_SQLSTATE
REINDEX TABLE escape_replica;
\echo :LAST_ERROR_SQLSTATE
VACUUM (FULL) escape_replica;
\echo :LAST_ERROR_SQLSTATE
VACUUM escape_replica;
RESET ROLE;
-- ... and recorded when let through (a superuser is an admin; their lint errors are waived here).
CLUSTER escape_replica USING escape_replica_pkey -- pgmig:allow cluster
;
REINDEX INDEX escape_replica_v;
VACUUM FULL escape_replica -- pgmig:allow vacuum-full
;
RESET pgmig.out_of_band;

-- Event-trigger DDL fires no event trigger either; it is recorded too.
CREATE FUNCTION escape_noop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER regress_escape_et ON ddl_command_start EXECUTE FUNCTION escape_noop();
ALTER EVENT TRIGGER regress_escape_et RENAME TO regress_escape_et2;
DROP EVENT TRIGGER regress_escape_et2;
DROP FUNCTION escape_noop();
-- So are other statements without event triggers that change who may do what.
GRANT SET ON PARAMETER pgmig.out_of_band TO regress_escape_owner;
REVOKE SET ON PARAMETER pgmig.out_of_band FROM regress_escape_owner;

-- (REINDEX fires event triggers from PostgreSQL 17 on: there its one row comes from ddl_command_end,
-- with a qualified identity; before, from the utility hook. Shown the same way on every version.)
SELECT CASE WHEN command_tag = 'REINDEX' THEN 'utility or ddl_command_end' ELSE event END AS event,
       command_tag, object_type,
       CASE WHEN command_tag = 'REINDEX' THEN regexp_replace(object_identity, '^public\.', '')
            ELSE object_identity END AS object_identity,
       statement, policy
  FROM pgmig.ddl_audit ORDER BY id;

-- The guard on the audit rows fires in replica mode too.
SET session_replication_role = replica;
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.escape_replica';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM pgmig.ddl_audit WHERE object_identity = 'public.escape_replica';
\echo :LAST_ERROR_SQLSTATE
TRUNCATE pgmig.ddl_audit;
\echo :LAST_ERROR_SQLSTATE
RESET session_replication_role;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'pgmig.ddl_audit'::regclass ORDER BY tgname;

-- Rows are sealed promptly after their transaction commits, by a background worker: no row stays
-- unsealed (and so silently deletable) for longer than that.
SET pgmig.audit_sealer = on;
CREATE TABLE escape_sealed_soon (id int);
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        IF NOT EXISTS (SELECT FROM pgmig.ddl_audit WHERE chain_seq IS NULL) THEN RETURN; END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    -- (what the failure needs to be understood: is a sealer there, what does it wait for)
    RAISE EXCEPTION 'audit rows still unsealed after 60 s; sealers: %; other sessions: %',
        (SELECT coalesce(string_agg(pid || ' ' || coalesce(wait_event_type || ':' || wait_event, 'running')
                                    || ' ' || coalesce(state, ''), ', '), 'none')
           FROM pg_stat_activity WHERE backend_type = 'pgmig audit sealer'),
        (SELECT coalesce(string_agg(backend_type || ' ' || coalesce(state, ''), ', '), 'none')
           FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type NOT IN
                ('checkpointer', 'background writer', 'walwriter', 'autovacuum launcher',
                 'logical replication launcher', 'startup', 'archiver', 'io worker'));
END $$;
SET pgmig.audit_sealer = off;
SELECT count(*) AS unsealed FROM pgmig.ddl_audit WHERE chain_seq IS NULL;
SELECT first_broken_id IS NULL AS intact, sealed FROM migrate_audit_verify();

-- A superuser who switches the guard off (audited) and edits or deletes sealed rows, in replica mode
-- or not, is caught by migrate_audit_verify() at the first broken link.
SELECT statement AS saved_statement FROM pgmig.ddl_audit WHERE object_identity = 'public.escape_sealed_soon' \gset
ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
SET session_replication_role = replica;
UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.escape_sealed_soon';
RESET session_replication_role;
SELECT o.object_identity AS first_broken, problem
  FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id;
UPDATE pgmig.ddl_audit SET statement = :'saved_statement' WHERE object_identity = 'public.escape_sealed_soon';
SELECT first_broken_id IS NULL AS intact_again FROM migrate_audit_verify();
SET session_replication_role = replica;
DELETE FROM pgmig.ddl_audit WHERE object_identity = 'public.escape_replica' AND event = 'ddl_command_end';
RESET session_replication_role;
SELECT problem FROM migrate_audit_verify();
ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;

DROP TABLE escape_replica, escape_sealed_soon;
REVOKE CREATE ON SCHEMA public FROM regress_escape_owner;
DROP ROLE regress_escape_owner;
DROP EXTENSION pgmig;
