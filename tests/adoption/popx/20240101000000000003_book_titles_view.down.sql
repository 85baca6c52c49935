DROP VIEW book_titles;
