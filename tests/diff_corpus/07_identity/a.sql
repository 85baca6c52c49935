-- 07_identity: schema A
CREATE TABLE tickets (id bigint NOT NULL PRIMARY KEY, note text);
CREATE TABLE events (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text);
