-- 100_new_relation_takes_dropped_sequence_name: schema B
CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz);
CREATE TABLE legacy_events_id_seq (last_id bigint NOT NULL, moved_at timestamptz);
CREATE VIEW legacy_jobs_id_seq AS SELECT id, at FROM audit;
