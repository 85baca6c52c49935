-- 12_unique_constraint: schema A
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, tenant int NOT NULL, handle text NOT NULL);
