-- The roles the corpus grants to and gives objects to (privileges, row_security, schemas, app_evolution,
-- owners, default_privileges, grantor, column_grants). Roles are
-- cluster-wide: created once, before any pair is loaded, and left alone when they exist already.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['pgmig_corpus_reader', 'pgmig_corpus_writer', 'pgmig_corpus_auditor', 'pgmig_corpus_owner'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;
