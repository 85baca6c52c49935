-- 14_foreign_key: schema B
CREATE TABLE authors (id bigint PRIMARY KEY, name text);
CREATE TABLE books (id bigint PRIMARY KEY, author_id bigint REFERENCES authors ON DELETE CASCADE,
                    editor_id bigint REFERENCES authors (id) ON DELETE SET NULL, title text);
CREATE TABLE editions (book_id bigint, n int, PRIMARY KEY (book_id, n));
CREATE TABLE prints (book_id bigint, edition int, copies int, FOREIGN KEY (book_id, edition) REFERENCES editions);
