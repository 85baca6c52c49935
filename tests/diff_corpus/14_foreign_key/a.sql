-- 14_foreign_key: schema A
CREATE TABLE authors (id bigint PRIMARY KEY, name text);
CREATE TABLE books (id bigint PRIMARY KEY, author_id bigint, editor_id bigint, title text);
CREATE TABLE editions (book_id bigint, n int, PRIMARY KEY (book_id, n));
CREATE TABLE prints (book_id bigint, edition int, copies int);
