-- 98_catalog_kind_owners: schema A
CREATE COLLATION names_c (locale = 'C');
ALTER COLLATION names_c OWNER TO pgmig_corpus_writer;
CREATE TABLE docs (id int PRIMARY KEY, body text, lang text);
CREATE STATISTICS docs_stats ON body, lang FROM docs;
CREATE FOREIGN DATA WRAPPER kinds_fdw;
GRANT USAGE ON FOREIGN DATA WRAPPER kinds_fdw TO pgmig_corpus_owner;
CREATE SERVER kinds_server FOREIGN DATA WRAPPER kinds_fdw;
CREATE PUBLICATION kinds_pub FOR TABLE docs;
CREATE STATISTICS docs_legacy_stats ON id, lang FROM docs;
ALTER STATISTICS docs_legacy_stats OWNER TO pgmig_corpus_writer;
CREATE TABLE old_ledger (id int PRIMARY KEY, amount numeric, booked date);
ALTER TABLE old_ledger OWNER TO pgmig_corpus_owner;
GRANT SELECT (amount) ON old_ledger TO pgmig_corpus_owner;
CREATE OPERATOR FAMILY kinds_ops USING hash;
ALTER OPERATOR FAMILY kinds_ops USING hash OWNER TO pgmig_corpus_writer;
