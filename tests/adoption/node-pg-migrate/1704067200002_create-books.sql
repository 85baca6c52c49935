-- Up Migration
CREATE TABLE books (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES authors (id),
    title text NOT NULL,
    published date
);
CREATE INDEX books_author_idx ON books (author_id);

-- Down Migration
DROP TABLE books;
