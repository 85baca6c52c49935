-- Up Migration
CREATE INDEX books_title_idx ON books (title);

-- Down Migration
DROP INDEX books_title_idx;
