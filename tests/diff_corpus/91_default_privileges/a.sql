-- 91_default_privileges: schema A
CREATE SCHEMA reporting;
CREATE TABLE reporting.summary (day date PRIMARY KEY, total numeric);
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO pgmig_corpus_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE pgmig_corpus_owner GRANT SELECT ON TABLES TO pgmig_corpus_auditor;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO pgmig_corpus_writer;
