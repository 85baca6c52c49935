-- 91_default_privileges: schema B
CREATE SCHEMA reporting;
CREATE TABLE reporting.summary (day date PRIMARY KEY, total numeric);
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT, INSERT ON TABLES TO pgmig_corpus_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO pgmig_corpus_reader WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO pgmig_corpus_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE pgmig_corpus_owner IN SCHEMA reporting GRANT USAGE ON SEQUENCES TO pgmig_corpus_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE pgmig_corpus_owner REVOKE USAGE ON TYPES FROM PUBLIC;
-- created after the defaults: they apply
CREATE TABLE reporting.monthly (month date PRIMARY KEY, total numeric);
CREATE FUNCTION reporting.month_total(date) RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT total FROM reporting.monthly WHERE month = $1 $$;
-- created after the defaults, its grant then taken back by hand
CREATE TABLE reporting.private_notes (id int PRIMARY KEY, body text);
REVOKE ALL ON reporting.private_notes FROM pgmig_corpus_writer, pgmig_corpus_reader;
