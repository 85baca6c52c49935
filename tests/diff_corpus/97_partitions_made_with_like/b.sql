-- 97_partitions_made_with_like: schema B
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), kind text DEFAULT 'info', note text) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE ONLY events_2025 ALTER COLUMN kind SET DEFAULT 'archived';
-- as goose-style migrations make them: no defaults (LIKE copies none)
CREATE TABLE events_2026 (LIKE events);
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- a default of its own, and a NOT NULL the parent does not have
CREATE TABLE events_2027 (LIKE events INCLUDING DEFAULTS);
ALTER TABLE events_2027 ALTER COLUMN kind SET DEFAULT 'audit', ALTER COLUMN note SET NOT NULL;
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE TABLE base_items (id int, state text DEFAULT 'new');
CREATE TABLE special_items (extra text) INHERITS (base_items);
ALTER TABLE special_items ALTER COLUMN state SET DEFAULT 'special';
