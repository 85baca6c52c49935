-- 44_privileges: schema B
CREATE TABLE reports (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text, secret text);
CREATE FUNCTION report_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM reports $$;
GRANT SELECT ON reports TO pgmig_corpus_writer;
GRANT SELECT (id, title) ON reports TO pgmig_corpus_reader;
GRANT UPDATE (title) ON reports TO pgmig_corpus_writer;
GRANT SELECT ON reports TO pgmig_corpus_auditor WITH GRANT OPTION;
GRANT USAGE ON SEQUENCE reports_id_seq TO pgmig_corpus_writer;
REVOKE EXECUTE ON FUNCTION report_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION report_count() TO pgmig_corpus_reader;
GRANT USAGE ON SCHEMA public TO pgmig_corpus_reader;
