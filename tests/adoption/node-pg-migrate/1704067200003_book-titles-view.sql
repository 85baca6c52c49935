-- Up Migration
CREATE VIEW book_titles AS
    SELECT b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id;

-- Down Migration
DROP VIEW book_titles;
