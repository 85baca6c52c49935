DROP TRIGGER books_touch ON books;
DROP FUNCTION books_touch();
ALTER TABLE books DROP COLUMN updated_at;
