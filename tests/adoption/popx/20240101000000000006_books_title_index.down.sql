DROP INDEX books_title_idx;
