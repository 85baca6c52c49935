-- 81_foreign_tables: schema B
CREATE FOREIGN DATA WRAPPER corpus_fdw OPTIONS (debug 'true');
CREATE SERVER corpus_archive VERSION '2' FOREIGN DATA WRAPPER corpus_fdw OPTIONS (host 'archive-2', port '5433');
CREATE SERVER corpus_reports FOREIGN DATA WRAPPER corpus_fdw;
COMMENT ON SERVER corpus_reports IS 'the reporting database';
CREATE FOREIGN TABLE archived_orders (id bigint NOT NULL, total numeric OPTIONS (column_name 'amount'))
    SERVER corpus_archive OPTIONS (schema_name 'public', table_name 'orders');
COMMENT ON FOREIGN TABLE archived_orders IS 'orders older than a year';
