--liquibase formatted sql

--changeset alice:create-authors
--comment: authors of the books
CREATE TABLE authors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
--rollback DROP TABLE authors;

--changeset alice:create-books
CREATE TABLE books (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES authors (id),
    title text NOT NULL,
    published date
);
CREATE INDEX books_author_idx ON books (author_id);
--rollback DROP TABLE books;

--changeset bob:book-titles-view
CREATE VIEW book_titles AS
    SELECT b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id;
--rollback DROP VIEW book_titles;
