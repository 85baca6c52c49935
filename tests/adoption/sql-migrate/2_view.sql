-- Same number as 2_create_books.sql: sql-migrate runs it after that one (by name).
-- +migrate Up
CREATE VIEW book_titles AS
    SELECT b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id;

-- +migrate Down
DROP VIEW book_titles;
