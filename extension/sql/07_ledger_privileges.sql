-- Who may call the ledger's functions and read its snapshot tables: admins apply, readers read.
REVOKE ALL ON FUNCTION migrate_register(text, text, text, text, jsonb),
    migrate_apply(text, boolean, boolean, integer, text), migrate_rollback(integer, boolean, boolean),
    migrate_rollback_to(text, boolean, boolean), migrate_repair(text, text, text),
    migrate_baseline(text), migrate_status(), migrate_verify(), pgmig.split_statements(text),
    migrate_nontx_begin(text, text, boolean, integer, text), migrate_nontx_progress(text, integer), migrate_nontx_finish(text, interval, text),
    migrate_nontx_adopt_index(text, integer),
    migrate_nontx_failed(text, integer, text, text, text), migrate_audit_verify(), migrate_audit_verify(boolean),
    pgmig.audit_row_text(pgmig.ddl_audit)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_register(text, text, text, text, jsonb),
    migrate_apply(text, boolean, boolean, integer, text), migrate_rollback(integer, boolean, boolean),
    migrate_rollback_to(text, boolean, boolean), migrate_repair(text, text, text),
    migrate_baseline(text), pgmig.split_statements(text), migrate_nontx_begin(text, text, boolean, integer, text),
    migrate_nontx_progress(text, integer), migrate_nontx_finish(text, interval, text),
    migrate_nontx_failed(text, integer, text, text, text), migrate_nontx_adopt_index(text, integer) TO pgmig_admin;
GRANT EXECUTE ON FUNCTION migrate_status(), migrate_verify(), migrate_audit_verify(), migrate_audit_verify(boolean),
    pgmig.audit_row_text(pgmig.ddl_audit) TO pgmig_reader;
-- The schema's descriptions, fingerprints and drift read pgmig's schema: readers' too.
REVOKE ALL ON FUNCTION migrate_snapshot(), migrate_fingerprint(), migrate_fingerprint(boolean),
    migrate_fingerprint_objects(), migrate_expected_snapshot(), migrate_expected_fingerprint(), migrate_drift(),
    migrate_drift(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_snapshot(), migrate_fingerprint(), migrate_fingerprint(boolean),
    migrate_fingerprint_objects(), migrate_expected_snapshot(), migrate_expected_fingerprint(), migrate_drift(),
    migrate_drift(boolean) TO pgmig_reader;
REVOKE ALL ON pgmig.snapshots, pgmig.expected_objects, pgmig.expected_parts FROM PUBLIC;
GRANT SELECT ON pgmig.snapshots, pgmig.expected_objects, pgmig.expected_parts TO pgmig_reader;

-- Admins may relax the out-of-band policy for their session (an emergency escape that every
-- statement it lets through records in pgmig.ddl_audit.policy).
GRANT SET ON PARAMETER pgmig.out_of_band TO pgmig_admin;

