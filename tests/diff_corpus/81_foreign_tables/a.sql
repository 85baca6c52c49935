-- 81_foreign_tables: schema A
CREATE FOREIGN DATA WRAPPER corpus_fdw;
CREATE SERVER corpus_archive FOREIGN DATA WRAPPER corpus_fdw OPTIONS (host 'archive-1');
