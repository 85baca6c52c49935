-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY books_title_idx ON books (title);

-- +migrate Down notransaction
DROP INDEX CONCURRENTLY books_title_idx;
