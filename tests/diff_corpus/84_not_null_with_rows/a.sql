-- 84_not_null_with_rows: schema A, with rows
CREATE TABLE accounts (id uuid PRIMARY KEY);
CREATE TABLE projects (id bigint PRIMARY KEY, name text);
CREATE TABLE labels (id int PRIMARY KEY);
INSERT INTO accounts VALUES ('00000000-0000-0000-0000-00000000000a'), ('00000000-0000-0000-0000-00000000000b');
INSERT INTO projects VALUES (1, 'alpha'), (2, 'beta'), (3, NULL);
