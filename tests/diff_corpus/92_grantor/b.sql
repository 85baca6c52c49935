-- 92_grantor: schema B
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, balance numeric);
CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM accounts $$;
CREATE TABLE transfers (id bigint PRIMARY KEY, amount numeric);
GRANT SELECT, UPDATE ON accounts TO pgmig_corpus_writer WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION account_count() TO pgmig_corpus_writer WITH GRANT OPTION;
GRANT SELECT ON transfers TO pgmig_corpus_writer WITH GRANT OPTION;
GRANT USAGE ON SEQUENCE accounts_id_seq TO pgmig_corpus_writer WITH GRANT OPTION;
SET ROLE pgmig_corpus_writer;
GRANT SELECT ON accounts TO pgmig_corpus_reader;
GRANT UPDATE (name) ON accounts TO pgmig_corpus_reader;
GRANT EXECUTE ON FUNCTION account_count() TO pgmig_corpus_reader;
GRANT SELECT ON transfers TO pgmig_corpus_reader WITH GRANT OPTION;
GRANT USAGE ON SEQUENCE accounts_id_seq TO pgmig_corpus_auditor;
RESET ROLE;
