-- migrate:up
COMMENT ON TABLE books IS 'Books; one row per edition';

-- migrate:down
COMMENT ON TABLE books IS NULL;
