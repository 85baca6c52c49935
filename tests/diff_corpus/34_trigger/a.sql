-- 34_trigger: schema A
CREATE TABLE notes (id bigint PRIMARY KEY, body text, updated_at timestamptz);
