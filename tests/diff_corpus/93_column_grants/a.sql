-- 93_column_grants: schema A
CREATE TABLE people (id bigint PRIMARY KEY, name text, email text, salary numeric, notes text);
GRANT SELECT (id, name, email) ON people TO pgmig_corpus_reader;
GRANT UPDATE (email) ON people TO pgmig_corpus_writer;
GRANT SELECT (notes) ON people TO PUBLIC;
GRANT SELECT (id) ON people TO pgmig_corpus_auditor WITH GRANT OPTION;
