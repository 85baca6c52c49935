-- resealed: the breaks a superuser recorded with migrate_audit_reseal(), one object per reseal (NULL: none).
CREATE FUNCTION migrate_audit_verify()
    RETURNS TABLE (checked bigint, sealed bigint, first_broken_id bigint, problem text, chain_head text,
                   head_position bigint, unsealed bigint, seal_blocked_by text, resealed jsonb)
    AS 'MODULE_PATHNAME', 'migrate_audit_verify' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_verify() IS
    'verifies the audit hash chain and reports the first broken link; seals new rows (superusers, pgmig_admin) '
    'unless another session holds the seal lock (seal_blocked_by); keep chain_head outside the database';
-- With whole, every sealed row is hashed again, whatever pgmig.audit_verified says (no DEFAULT: the form
-- without an argument stays unambiguous).
CREATE FUNCTION migrate_audit_verify(whole boolean)
    RETURNS TABLE (checked bigint, sealed bigint, first_broken_id bigint, problem text, chain_head text,
                   head_position bigint, unsealed bigint, seal_blocked_by text, resealed jsonb)
    AS 'MODULE_PATHNAME', 'migrate_audit_verify' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_verify(boolean) IS
    'migrate_audit_verify(); with whole, every sealed row is hashed again, not only those of pages changed since '
    'the chain was last found intact';

-- The way back from a broken chain, after the break was investigated: records the open broken links, who
-- resealed, when and why in an audit row of its own that starts a new sealed segment. The broken rows stay
-- as they are; migrate_audit_verify() then reports them under resealed. Superusers only (checked in C: the
-- extension's owner and pgmig_admin are refused as well).
CREATE FUNCTION migrate_audit_reseal(reason text)
    RETURNS TABLE (reseal_id bigint, broken_links bigint, first_broken_id bigint, problem text, head_position bigint)
    AS 'MODULE_PATHNAME', 'migrate_audit_reseal' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_reseal(text) IS
    'superusers: records the audit chain''s broken links with the reason and starts a new sealed segment; deletes nothing';
REVOKE ALL ON FUNCTION migrate_audit_reseal(text) FROM PUBLIC;

-- What records DDL in this database: pgmig's event triggers, or its hooks with those triggers off (cheaper;
-- only where pgmig is preloaded for every session). CREATE EXTENSION chooses the hooks where the server
-- preloads pgmig (shared_preload_libraries), the triggers elsewhere.
CREATE FUNCTION migrate_audit_recorder()
    RETURNS TABLE (recorder text, preloaded text, start_trigger boolean, detail text)
    AS 'MODULE_PATHNAME', 'migrate_audit_recorder' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_recorder() IS
    'what records DDL here: triggers (pgmig''s event triggers), hooks (its hooks, the end triggers off) or mixed; '
    'how pgmig is preloaded for every session (NULL: it is not); whether pgmig_ddl_start fires';
REVOKE ALL ON FUNCTION migrate_audit_recorder() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_audit_recorder() TO pgmig_reader;
-- Superusers only (checked in C): 'hooks' is refused unless pgmig is preloaded for every session.
CREATE FUNCTION migrate_audit_recorder(recorder text)
    RETURNS TABLE (recorder text, preloaded text, start_trigger boolean, detail text)
    AS 'MODULE_PATHNAME', 'migrate_audit_recorder_set' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_audit_recorder(text) IS
    'superusers: records DDL with pgmig''s ''hooks'' (its ddl_command_end, sql_drop and table_rewrite triggers '
    'disabled; pgmig must be preloaded) or its ''triggers''; returns what migrate_audit_recorder() returns';
REVOKE ALL ON FUNCTION migrate_audit_recorder(text) FROM PUBLIC;


