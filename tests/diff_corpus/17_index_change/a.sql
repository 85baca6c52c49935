-- 17_index_change: schema A
CREATE TABLE events (id bigint PRIMARY KEY, kind text, at timestamptz, payload text);
CREATE INDEX events_kind ON events (kind);
CREATE INDEX events_at ON events (at) WHERE kind = 'click';
CREATE INDEX events_payload ON events (payload);
