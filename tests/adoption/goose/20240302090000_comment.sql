-- +goose Up
COMMENT ON TABLE books IS 'Books; one row per edition';

-- +goose Down
COMMENT ON TABLE books IS NULL;
