-- Up Migration
COMMENT ON TABLE books IS 'Books; one row per edition';

-- Down Migration
COMMENT ON TABLE books IS NULL;
