-- Last, so that nothing above is audited or blocked while the extension is being created.
CREATE FUNCTION pgmig.audit_event() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'pgmig_audit_event' LANGUAGE C;
COMMENT ON FUNCTION pgmig.audit_event() IS 'pgmig''s event triggers: out-of-band policy and the DDL audit trail';
CREATE EVENT TRIGGER pgmig_ddl_start ON ddl_command_start EXECUTE FUNCTION pgmig.audit_event();
CREATE EVENT TRIGGER pgmig_ddl_end ON ddl_command_end EXECUTE FUNCTION pgmig.audit_event();
CREATE EVENT TRIGGER pgmig_sql_drop ON sql_drop EXECUTE FUNCTION pgmig.audit_event();
CREATE EVENT TRIGGER pgmig_table_rewrite ON table_rewrite EXECUTE FUNCTION pgmig.audit_event();
-- ALWAYS: DDL in session_replication_role = replica is audited too (the out-of-band policy is not applied
-- there: replication applies what was vetted at the origin).
ALTER EVENT TRIGGER pgmig_ddl_start ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER pgmig_table_rewrite ENABLE ALWAYS;
-- Where the server preloads pgmig, its hooks record DDL (the same rows, at about half the cost per statement:
-- docs/reference.md); the end triggers are then off. Elsewhere the triggers record.
DO $recorder$
BEGIN
    IF (SELECT r.preloaded FROM @extschema@.migrate_audit_recorder() r) OPERATOR(pg_catalog.=) 'shared_preload_libraries'
    THEN
        PERFORM @extschema@.migrate_audit_recorder('hooks');
    END IF;
END
$recorder$;
