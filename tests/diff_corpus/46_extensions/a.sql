-- 46_extensions: schema A
CREATE TABLE members (id bigint PRIMARY KEY, login text NOT NULL);
