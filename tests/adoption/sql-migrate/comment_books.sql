-- +migrate Up
COMMENT ON TABLE books IS 'Books; one row per edition';

-- +migrate Down
COMMENT ON TABLE books IS NULL;
