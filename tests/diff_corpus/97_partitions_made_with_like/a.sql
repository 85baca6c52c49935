-- 97_partitions_made_with_like: schema A
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), kind text DEFAULT 'info', note text) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE base_items (id int, state text DEFAULT 'new');
