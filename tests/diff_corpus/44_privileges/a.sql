-- 44_privileges: schema A
CREATE TABLE reports (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text, secret text);
CREATE FUNCTION report_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM reports $$;
GRANT SELECT, INSERT ON reports TO pgmig_corpus_writer;
