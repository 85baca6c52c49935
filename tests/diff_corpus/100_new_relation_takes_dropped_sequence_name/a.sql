-- 100_new_relation_takes_dropped_sequence_name: schema A
CREATE TABLE legacy_events (id serial PRIMARY KEY, body text);
CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz);
CREATE TABLE legacy_jobs (id int GENERATED ALWAYS AS IDENTITY (START WITH 100) PRIMARY KEY, name text);
