CREATE INDEX books_title_idx ON books (title);
