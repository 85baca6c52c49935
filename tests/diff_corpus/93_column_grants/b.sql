-- 93_column_grants: schema B
CREATE TABLE people (id bigint PRIMARY KEY, name text, email text, salary numeric, notes text, team text);
GRANT SELECT (id, name) ON people TO pgmig_corpus_reader;
GRANT UPDATE (email, team) ON people TO pgmig_corpus_writer;
GRANT INSERT (name, email), REFERENCES (id) ON people TO pgmig_corpus_writer;
GRANT SELECT (id, salary) ON people TO pgmig_corpus_auditor WITH GRANT OPTION;
GRANT SELECT ON people TO pgmig_corpus_auditor;
CREATE TABLE badges (id int PRIMARY KEY, person_id bigint REFERENCES people, label text);
GRANT SELECT (id, label), UPDATE (label) ON badges TO pgmig_corpus_reader;
