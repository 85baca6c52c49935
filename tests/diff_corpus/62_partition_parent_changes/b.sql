-- 62_partition_parent_changes: schema B
CREATE TABLE logs (id bigint NOT NULL, at date NOT NULL, msg text, level smallint, CONSTRAINT logs_level CHECK (level BETWEEN 0 AND 7)) PARTITION BY RANGE (at);
CREATE TABLE logs_2025 PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
