COMMENT ON TABLE books IS 'Books; one row per edition';
