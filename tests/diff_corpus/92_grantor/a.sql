-- 92_grantor: schema A
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, balance numeric);
CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM accounts $$;
GRANT SELECT, UPDATE ON accounts TO pgmig_corpus_writer WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION account_count() TO pgmig_corpus_writer WITH GRANT OPTION;
SET ROLE pgmig_corpus_writer;
GRANT SELECT ON accounts TO pgmig_corpus_auditor;
RESET ROLE;
