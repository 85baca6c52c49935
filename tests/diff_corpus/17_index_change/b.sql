-- 17_index_change: schema B
CREATE TABLE events (id bigint PRIMARY KEY, kind text, at timestamptz, payload text);
CREATE INDEX events_kind ON events (kind, at);
CREATE INDEX events_at ON events (at) WHERE kind IN ('click', 'view');
